"""Finite stages only: a checkpoint whose weights hold NaN or ±inf, or are so large that float32 overflows, is
refused where its first non-finite stage is produced, named by layer and stage — never shown, never a warning.

Weights are not scanned up front (a 7B model's would take seconds and its memory): each stage is checked as it
is computed, which costs a pass over arrays the trace keeps anyway (T × d_model, T × T per head). numpy's
warnings are silenced around the computation (`quiet`) because the check below reports the problem, once.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ..errors import ModelError

#: fields that are not computed stages: `masked` holds −∞ by design, `mask` is boolean, `params` are weights
_SKIP = frozenset({"masked", "mask", "params"})


def quiet():
    """A context in which numpy's overflow / invalid / divide warnings are silent (check_finite reports them)."""
    return np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore")


def _first_bad(record: Any, name: str) -> str | None:
    """The name of the first stage of `record` (an array, a dataclass of them, or a tuple) that is not finite."""
    if isinstance(record, np.ndarray):
        if record.dtype.kind == "f" and not np.isfinite(record).all():
            return name
        return None
    if isinstance(record, (tuple, list)):
        for j, item in enumerate(record):
            bad = _first_bad(item, f"{name}[{j}]")
            if bad is not None:
                return bad
        return None
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        for f in dataclasses.fields(record):
            if f.name not in _SKIP:
                bad = _first_bad(getattr(record, f.name), f"{name}.{f.name}" if name else f.name)
                if bad is not None:
                    return bad
    return None


def check_finite(where: str, record: Any, name: str = "") -> None:
    """ModelError naming `where` (e.g. "layer 3") and the stage when any stage of `record` is NaN or ±inf."""
    bad = _first_bad(record, name)
    if bad is not None:
        raise ModelError(f"{where}: {bad or 'the result'} holds NaN or ±inf: the checkpoint's weights hold NaN or "
                         "±inf, or are so large that float32 overflows (trained weights are rarely above 10); the "
                         "file is corrupt or not a trained model: download or save it again")


def stack_label(arch: Any) -> str:
    """"layer", or "encoder layer" / "decoder layer" for a stack of an encoder–decoder."""
    prefix = str(getattr(arch, "prefix", ""))
    return "decoder layer" if "decoder" in prefix else "encoder layer" if "encoder" in prefix else "layer"
