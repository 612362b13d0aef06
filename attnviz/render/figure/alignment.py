"""The alignment figure of a translation model: target tokens (rows) × source tokens (columns), the
cross-attention weights of one head or their mean over the heads — which source word each target word reads."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from matplotlib.figure import Figure

from ...errors import InputError
from ...trace import Trace
from ..text import caption, word
from .checks import _check
from .cross import CrossWords, cross_figure
from .panels import weights_formula as formula


def mean_heads(trace: Trace) -> Trace:
    """The same trace with one head whose weights (T, S) are the mean of every head's (scores, scaled and
    output too), for drawing the heads' average alignment."""
    heads = trace.heads
    avg = replace(heads[0], scores=np.mean([h.scores for h in heads], axis=0),
                  scaled=np.mean([h.scaled for h in heads], axis=0),
                  weights=np.mean([h.weights for h in heads], axis=0),
                  output=np.mean([h.output for h in heads], axis=0), masked=None, mask=None, bias=None)
    return replace(trace, heads=(avg,))


def _t5(trace: Trace) -> bool:
    return trace.model is not None and trace.model.architecture in ("t5", "mt5")


def alignment_words(trace: Trace, head: int | None, lang: str) -> CrossWords:
    """The alignment figure's own title, caption and footer: which decoder layer, one head or the mean over
    h heads, and how the weights were made (T5: not scaled, no position bias in cross-attention)."""
    h = trace.n_heads
    main, unscaled = formula(trace)
    if unscaled:
        main += f"  ({word('align_unscaled', lang)}{', T5' if _t5(trace) else ''})"
    heads = word("align_mean", lang).format(h=h) if head is None else \
        word("head_of", lang).format(head=head + 1, heads=h)
    if head is None:
        main = word("align_mean_of", lang).format(h=h, formula=main)
    info = trace.model
    layer = "" if info is None else word("align_layer", lang).format(layer=info.layer, last=info.n_layers - 1)
    above = "  ·  ".join(x for x in (layer, None if head is None else heads) if x)  # the mean is in the title
    parts = [word("align_sizes", lang).format(t=len(trace.query_tokens), s=len(trace.key_tokens)),
             f"d_model = {trace.d_model}", f"d_k = {trace.d_k}", heads]
    if _t5(trace):
        parts.append(word("align_t5", lang))
    elif unscaled:
        parts.append(word("align_unscaled", lang))
    parts.append(word("weights_from", lang).format(source=trace.weights_source))
    cap = f"{caption('alignment', lang)} {caption('alignment_mean' if head is None else 'alignment_head', lang)}"
    name = word("fig_alignment", lang) + ("" if info is None else f" · {info.name}")
    return CrossWords(main=main, above=above, caption=cap, details="  ·  ".join(parts), headline=name)


def alignment_figure(trace: Trace, *, head: int | None = 0, focus: int = 0, theme: str = "light", lang: str = "en",
                     precision: int = 2) -> Figure:
    """Cross-attention weights as an alignment: rows the decoder's (target) tokens, columns the source's;
    head `head`, or the mean over the heads when head is None. The title, caption and footer say which:
    the decoder layer, "head i of h" or "mean over h heads", and the formula as computed (T5: not scaled)."""
    if trace.kind != "cross":
        raise InputError("the alignment figure draws cross-attention (target rows × source columns)")
    _check(trace, 0 if head is None else head, theme, lang, precision)
    words = alignment_words(trace, head, lang)
    if head is None:
        return cross_figure(mean_heads(trace), head=0, focus=focus, theme=theme, lang=lang, precision=precision,
                            words=words)
    return cross_figure(trace, head=head, focus=focus, theme=theme, lang=lang, precision=precision, words=words)
