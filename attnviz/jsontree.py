"""JSON text of a document tree (dicts, lists, numpy arrays, plain values), written a few rows at a time.

The bytes are json.dumps's (separators "," and ":", UTF-8): a 4,096-token trace (a gigabyte of JSON) never
exists as one string or as Python lists of floats. A lone surrogate (invalid UTF-8 from the command line) is
written as U+FFFD; NaN and ±∞ are never written (allow_nan=False: a stray one raises ValueError).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import numpy as np

#: Numbers per chunk when a matrix is written (a few hundred kilobytes of text).
CHUNK_NUMBERS = 1 << 16
_SURROGATE = re.compile("[\ud800-\udfff]")


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _string(text: str) -> str:
    if not text.isascii():
        text = _SURROGATE.sub("\ufffd", text)  # not encodable as UTF-8: one U+FFFD each, offsets unchanged
    return _dumps(text)


def json_chunks(tree) -> Iterator[str]:
    """The JSON text of a document tree (dicts, lists, numpy arrays, plain values) in pieces; joined,
    they are exactly json.dumps(tree with arrays as lists, separators=(",", ":"), ensure_ascii=False)."""
    if isinstance(tree, dict):
        sep = "{"
        for key, value in tree.items():
            yield sep + _string(str(key)) + ":"
            sep = ","
            yield from json_chunks(value)
        yield "{}" if sep == "{" else "}"
    elif isinstance(tree, np.ndarray):
        if tree.ndim <= 1 or tree.size <= CHUNK_NUMBERS:
            yield _dumps(tree.tolist())
            return
        rows = max(1, CHUNK_NUMBERS // max(1, tree[0].size))  # rows a chunk
        for start in range(0, len(tree), rows):
            text = _dumps(tree[start:start + rows].tolist())  # "[[…],[…]]"
            yield ("[" if start == 0 else ",") + text[1:-1]
        yield "]"
    elif isinstance(tree, (list, tuple)):
        if all(isinstance(v, (int, float, bool)) or v is None for v in tree):
            yield _dumps(list(tree))
            return
        sep = "["
        for value in tree:
            yield sep
            sep = ","
            yield from json_chunks(value)
        yield "[]" if sep == "[" else "]"
    elif isinstance(tree, str):
        yield _string(tree)
    else:
        yield _dumps(tree)


def json_text(tree) -> str:
    """The whole document, newline-terminated."""
    return "".join(json_chunks(tree)) + "\n"


def plain_tree(tree):
    """The tree with arrays as (nested) lists: the document as Python objects."""
    if isinstance(tree, dict):
        return {k: plain_tree(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [plain_tree(v) for v in tree]
    return tree.tolist() if isinstance(tree, np.ndarray) else tree
