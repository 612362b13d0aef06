"""The alignment figure of a translation model: target tokens (rows) × source tokens (columns), the
cross-attention weights of one head or their mean over the heads — which source word each target word reads."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from matplotlib.figure import Figure

from ...errors import InputError
from ...trace import Trace
from .cross import cross_figure


def mean_heads(trace: Trace) -> Trace:
    """The same trace with one head whose weights (T, S) are the mean of every head's (scores, scaled and
    output too), for drawing the heads' average alignment."""
    heads = trace.heads
    avg = replace(heads[0], scores=np.mean([h.scores for h in heads], axis=0),
                  scaled=np.mean([h.scaled for h in heads], axis=0),
                  weights=np.mean([h.weights for h in heads], axis=0),
                  output=np.mean([h.output for h in heads], axis=0), masked=None, mask=None, bias=None)
    return replace(trace, heads=(avg,))


def alignment_figure(trace: Trace, *, head: int | None = 0, focus: int = 0, theme: str = "light", lang: str = "en",
                     precision: int = 2) -> Figure:
    """Cross-attention weights as an alignment: rows the decoder's (target) tokens, columns the source's;
    head `head`, or the mean over the heads when head is None."""
    if trace.kind != "cross":
        raise InputError("the alignment figure draws cross-attention (target rows × source columns)")
    if head is None:
        return cross_figure(mean_heads(trace), head=0, focus=focus, theme=theme, lang=lang, precision=precision)
    return cross_figure(trace, head=head, focus=focus, theme=theme, lang=lang, precision=precision)
