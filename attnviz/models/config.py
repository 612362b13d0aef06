"""config.json values, checked: typed getters whose errors name the key, and the sizes checked against the tensors.

A checkpoint's config is untrusted input. Each family reads it through these getters, so a value of the wrong
type or range (`"abc"` for an ε, a list for an activation, a boolean for a size, a token id outside the
vocabulary) is one ModelError naming the file, the key and the value, never a traceback. Sizes are checked
against the tensors before anything is built from them (`check_sizes`): a layer count larger than the file's
number of tensors, or a width larger than its largest dimension, cannot belong to these weights, and refusing
it up front keeps a config such as `num_hidden_layers: 100000000` from allocating anything.

    config_int(config, folder, *names, default)      the first present key, a positive integer (not a bool)
    config_float(config, folder, name, default)      a finite positive number
    config_str(config, folder, name, default, choices=None)   a string (one of `choices`)
    config_bool(config, folder, name, default)       true or false
    config_id(config, folder, name, vocab, default)  a token id in [0, vocab) (a list: its first entry)
    check_sizes(tensors, folder, layers={key: n}, sizes={key: n})
    read_json(path, what)                            json.loads with nesting depth and encoding as ModelErrors
    activation(name, config_path, key)               the activation a config names
    check_tensors(tensors, expected, config_path)    every expected tensor present with its shape
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ..errors import ModelError
from ..layers import activation as find_activation

_MISSING = object()


def _where(folder: Path) -> Path:
    return folder / "config.json"


def _shown(value: Any) -> str:
    text = "null" if value is None else repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def config_int(config: dict, folder: Path, *names: str, default: int | None = None) -> int:
    """The first of `names` present (and not null) in config.json, as a positive integer."""
    for name in names:
        if config.get(name) is not None:
            value = config[name]
            if _is_int(value) and value > 0:
                return value
            raise ModelError(f"{_where(folder)}: {name} = {_shown(value)} is not a positive integer: "
                             "fix the config (or use the one saved with the weights)")
    if default is not None:
        return default
    raise ModelError(f"{_where(folder)} has no {' or '.join(names)}: it is not a complete config")


def config_float(config: dict, folder: Path, name: str, default: float | None, *,
                 null_is_default: bool = True) -> float | None:
    """config.json's `name` as a finite positive number, or `default` when absent (or null, unless
    null_is_default is False: an ε of null is an error, as it is for transformers)."""
    value = config.get(name, _MISSING)
    if value is _MISSING or (value is None and null_is_default):
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ModelError(f"{_where(folder)}: {name} = {_shown(value)} is not a positive number: fix the config "
                         "(or use the one saved with the weights)")
    return float(value)


def config_str(config: dict, folder: Path, name: str, default: str,
               choices: tuple[str, ...] | None = None) -> str:
    """config.json's `name` as a string (one of `choices` when given), or `default` when absent or null."""
    value = config.get(name)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ModelError(f"{_where(folder)}: {name} = {_shown(value)} is not a string"
                         + (f" (one of {', '.join(choices)})" if choices else "") + ": fix the config")
    if choices is not None and value not in choices:
        raise ModelError(f"{_where(folder)}: {name} = {_shown(value)} is not one of {', '.join(choices)}: "
                         "fix the config")
    return value


def config_bool(config: dict, folder: Path, name: str, default: bool) -> bool:
    """config.json's `name` as true or false, or `default` when absent or null."""
    value = config.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ModelError(f"{_where(folder)}: {name} = {_shown(value)} is not true or false: fix the config")
    return value


def config_id(config: dict, folder: Path, name: str, vocab: int, default: int | None, *,
              lenient: bool = False) -> int | None:
    """config.json's token id `name` (a list: its first entry, as transformers' eos_token_id lists), which must
    index the `vocab` rows of the embedding table; `default` when absent or null. lenient: an id outside the
    table (Llama's pad_token_id −1) counts as absent instead of an error."""
    value = config.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None:
        return default
    if _is_int(value) and 0 <= value < vocab:
        return value
    if lenient and _is_int(value):
        return default
    raise ModelError(f"{_where(folder)}: {name} = {_shown(config.get(name))} is not a token id of this model "
                     f"(0 … {vocab - 1}): fix the config (or use the one saved with the weights)")


def _largest(tensors: Any) -> tuple[int, int]:
    """(number of tensors, largest dimension of any tensor) in the file, from its header(s) only."""
    shapes = tensors.shapes()
    return len(shapes), max((max(s) for s in shapes if s), default=0)


def check_sizes(tensors: Any, folder: Path, *, layers: dict[str, int] | None = None,
                sizes: dict[str, int] | None = None) -> None:
    """Refuse sizes the weights cannot have before anything is built from them: a layer count above the file's
    number of tensors (every layer has several) or a width above its largest dimension."""
    count, largest = _largest(tensors)
    name = Path(tensors.path).name
    for key, n in (layers or {}).items():
        if n > count:
            raise ModelError(f"{_where(folder)}: {key} = {n} but {name} holds only {count} tensors: the config "
                             "does not belong to these weights; use the files saved together")
    for key, n in (sizes or {}).items():
        if n > largest:
            raise ModelError(f"{_where(folder)}: {key} = {n} but no tensor of {name} is that large (the largest "
                             f"dimension is {largest}): the config does not belong to these weights; use the files "
                             "saved together")


def read_json(path: Path, what: str) -> Any:
    """The JSON value in `path`; a ModelError when it cannot be read, is not UTF-8 or JSON, or nests so deep
    that the parser would overflow the stack. `what` ends the message: how to fix it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise ModelError(f"{path} nests its JSON too deeply to be a real file: {what}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else " ".join(str(exc).split())[:120]
        raise ModelError(f"{path} is not readable JSON ({reason}): {what}") from None


# --- activation names and tensor shapes --------------------------------------------------------------------

def activation(name: Any, config_path: Path, key: str = "hidden_act"):
    """The activation named by the config's `key`; a ModelError naming the known ones otherwise."""
    if not isinstance(name, str):
        raise ModelError(f"{config_path}: {key} = {name!r} is not the name of an activation (a string such as "
                         "\"gelu\"): fix the config")
    try:
        return find_activation(name)
    except (ValueError, TypeError) as exc:
        raise ModelError(f"{config_path}: {exc}") from None


def check_tensors(tensors: Any, expected: dict[str, tuple[int, ...]], config_path: Path) -> None:
    """Every expected tensor is in the file with the shape config.json implies."""
    missing = [name for name in expected if name not in tensors]
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise ModelError(f"{Path(tensors.path).name} does not match {config_path.name}: it has no {shown} "
                         "(a different model, or a config for another size): use the files saved together")
    for name, shape in expected.items():
        if tensors.shape(name) != shape:
            raise ModelError(f"{Path(tensors.path).name} does not match {config_path.name}: {name} has shape "
                             f"{tensors.shape(name)}, the config implies {shape}: use the files saved together")
