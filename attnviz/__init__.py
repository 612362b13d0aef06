"""attnviz: see what self-attention does to a sentence, one stage at a time.

Public API (imported lazily, so `attnviz --help` stays fast):
    self_attention(text, seed=0, ...) -> Trace       every stage of one self-attention layer
    cross_attention(source, target=None, ...)        <BOS> (+ target) queries over the source's keys
    image_attention(path, target=None, grid=(4, 4))  queries over an image's patches
    model_attention(model, text, layer) -> Trace     a real checkpoint's layer (see attnviz.models)
    save_figure(trace, path, ...)                    the pipeline heatmaps as PNG/SVG/PDF
    trace_to_json(trace) -> str                      the `attnviz.trace/1` JSON document
    Trace, HeadTrace, Token, Weights, AttnvizError
"""

from __future__ import annotations

__version__ = "0.1.0"

_LAZY = {
    "Trace": "attnviz.trace",
    "HeadTrace": "attnviz.trace",
    "Token": "attnviz.tokens",
    "Weights": "attnviz.weights",
    "AttnvizError": "attnviz.errors",
    "self_attention": "attnviz.pipeline",
    "cross_attention": "attnviz.pipeline",
    "image_attention": "attnviz.pipeline",
    "model_attention": "attnviz.pipeline",
    "trace_to_json": "attnviz.export",
    "save_figure": "attnviz.render.figure",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'attnviz' has no attribute {name!r}")
