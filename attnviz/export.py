"""Trace ⇄ JSON in the `attnviz.trace/1` format (plain floats at full precision, stable bytes)."""

from __future__ import annotations

import json

import numpy as np

from . import __version__
from .errors import InputError
from .tokens import Token
from .trace import HeadTrace, Trace

FORMAT = "attnviz.trace/1"


def _matrix(a: np.ndarray | None):
    return None if a is None else np.asarray(a).tolist()


def _token(t: Token) -> dict:
    return {"label": t.label, "piece": t.piece, "id": t.id, "start": t.start, "end": t.end,
            "special": t.special}


def trace_to_dict(trace: Trace) -> dict:
    """The JSON document as Python objects (lists of floats, booleans, strings)."""
    return {
        "format": FORMAT,
        "version": __version__,
        "kind": trace.kind,
        "text": trace.text,
        "query_tokens": [_token(t) for t in trace.query_tokens],
        "key_tokens": [_token(t) for t in trace.key_tokens],
        "d_model": trace.d_model,
        "d_k": trace.d_k,
        "d_v": trace.d_v,
        "n_heads": trace.n_heads,
        "seed": trace.seed,
        "causal": trace.causal,
        "weights_source": trace.weights_source,
        "model": trace.model,
        "patch_grid": None if trace.patch_grid is None else list(trace.patch_grid),
        "image": trace.image_path,
        "embeddings": _matrix(trace.embeddings),
        "positions": _matrix(trace.positions),
        "x": _matrix(trace.x),
        "memory": _matrix(trace.memory),
        "heads": [
            {"q": _matrix(h.q), "k": _matrix(h.k), "v": _matrix(h.v), "scores": _matrix(h.scores),
             "scaled": _matrix(h.scaled), "mask": _matrix(h.mask), "weights": _matrix(h.weights),
             "output": _matrix(h.output)}
            for h in trace.heads
        ],
        "concat": _matrix(trace.concat),
        "output": _matrix(trace.output),
    }


def trace_to_json(trace: Trace) -> str:
    """`attnviz.trace/1` JSON text; the same trace always gives the same bytes."""
    return json.dumps(trace_to_dict(trace), ensure_ascii=False, separators=(",", ":")) + "\n"


def _array(value, dtype=np.float64) -> np.ndarray | None:
    return None if value is None else np.asarray(value, dtype=dtype)


def trace_from_json(text: str) -> Trace:
    """Read an `attnviz.trace/1` document back into a Trace (masked scores are recomputed)."""
    doc = json.loads(text)
    if doc.get("format") != FORMAT:
        raise InputError(f"not an {FORMAT} document (format = {doc.get('format')!r})")
    heads = []
    for h in doc["heads"]:
        mask = _array(h["mask"], bool)
        scaled = _array(h["scaled"])
        masked = None if mask is None else np.where(mask, scaled, -np.inf)
        heads.append(HeadTrace(_array(h["q"]), _array(h["k"]), _array(h["v"]), _array(h["scores"]),
                               scaled, mask, masked, _array(h["weights"]), _array(h["output"])))
    return Trace(
        kind=doc["kind"],
        query_tokens=tuple(Token(**t) for t in doc["query_tokens"]),
        key_tokens=tuple(Token(**t) for t in doc["key_tokens"]),
        embeddings=_array(doc["embeddings"]),
        positions=_array(doc["positions"]),
        x=_array(doc["x"]),
        memory=_array(doc["memory"]),
        heads=tuple(heads),
        concat=_array(doc["concat"]),
        output=_array(doc["output"]),
        d_model=doc["d_model"],
        d_k=doc["d_k"],
        d_v=doc["d_v"],
        seed=doc["seed"],
        causal=doc["causal"],
        weights_source=doc["weights_source"],
        text=doc.get("text", ""),
        model=doc.get("model"),
        patch_grid=None if doc.get("patch_grid") is None else tuple(doc["patch_grid"]),
        image_path=doc.get("image"),
    )


def lesson_to_json(lesson) -> str:
    """`attnviz.scale/1` (a ScaleLesson) or `attnviz.softmax/1` (SoftmaxSteps) JSON text."""
    from .lessons import ScaleLesson

    if isinstance(lesson, ScaleLesson):
        doc = {"format": "attnviz.scale/1", "version": __version__, "seed": lesson.seed,
               "n_keys": lesson.n_keys, "n_rows": lesson.n_rows,
               "rows": [vars(row) for row in lesson.rows]}
    else:
        doc = {"format": "attnviz.softmax/1", "version": __version__, "scale": lesson.scale,
               "temperature": lesson.temperature, "total": lesson.total,
               **{name: _matrix(getattr(lesson, name)) for name in ("scores", "logits", "shifted", "exp", "probs")}}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"
