"""Figures on a real image: a ViT's attention rollout laid over the picture, and a captioner's cross-attention
as a strip of small overlays, one per word (for a slide)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ...errors import InputError
from ...patches import patch_weights
from ..text import caption, word
from .canvas import _axes, _headline, _new_figure, _text, _titles
from .checks import _check_focus
from .cross import _overlay, _read_image
from .layout import _fit, _wrap
from .style import THEMES, _num, _short
from .survey import _bar, _matrix


def _digits(top: float, precision: int) -> int:
    """Enough decimals to show the largest weight (0.0077, not 0.01)."""
    return max(precision, 1 - math.floor(math.log10(top))) if top > 0 else precision


def rollout_image_figure(result, *, layer: int, focus: int = 0, theme: str = "light", lang: str = "en",
                         precision: int = 2) -> Figure:
    """Attention rollout R through `layer` of a vision model (a probes.Rollout with image_path): the R matrix
    (rows queries, columns keys, [CLS] first) and the focus query's row over the image's patches."""
    if result.image_path is None or result.patch_grid is None:
        raise InputError("rollout_image_figure draws the rollout of an image model; use rollout_figure for text")
    th = THEMES[theme]
    width, height = 16.0, 9.0
    fig = _new_figure((width, height), th)
    r = result.rollout[layer]  # (T, T)
    side = min(6.2, height - 3.4)
    y0 = (height - side) / 2 - 0.3
    ax = _axes(fig, (1.4, y0, side, side))
    image = _matrix(fig, ax, r, result.tokens, th, focus)
    _text(fig, 1.4 + side / 2, y0 + side + 0.15, f"R · L0 … L{layer}", th.fg, 13.0)
    _bar(fig, image, (1.4 + side + 0.15, y0, 0.14, side), th)
    pixels = _read_image(Path(result.image_path))
    box_w = width - (1.4 + side + 1.2) - 0.4
    ih = side
    iw = min(box_w, ih * pixels.shape[1] / pixels.shape[0])
    ih = iw * pixels.shape[0] / pixels.shape[1]
    ix = 1.4 + side + 1.2 + (box_w - iw) / 2
    iy = y0 + (side - ih) / 2 + 0.3
    top = _overlay(fig, (ix, iy, iw, ih), pixels, patch_weights(r[focus], result.patch_grid), th, precision)
    token = _short(result.tokens[focus].label)
    main = word("fig_looks", lang).format(token=token)
    note = word("fig_overlay", lang).format(top=_num(top, _digits(top, precision)))
    _titles(fig, ix + iw / 2, iy + ih, main, note, th, _fit(main, 15.0, box_w), _fit(note, 11.0, box_w))
    _headline(fig, lambda n: f"{word('fig_rollout_image', lang)}: {result.model[:n]}  →  "
                             f"{Path(result.image_path).name[:n]} (weigh = {result.weigh})", th)
    _text(fig, width / 2, 0.3, _wrap(caption("rollout_image", lang), 10.5, width - 1.5), th.muted, 10.5)
    return fig


def caption_strip_figure(trace, *, head: int | None = 0, theme: str = "light", lang: str = "en",
                         precision: int = 2, columns: int = 6) -> Figure:
    """One small overlay per decoder query (the start token, then each word): where that query's cross-attention
    weights over the image's patches fall (head `head`, or the mean over heads when head is None). Each
    overlay has its own colour scale (0 … its largest weight)."""
    if trace.kind != "cross" or trace.patch_grid is None or trace.image_path is None:
        raise InputError("caption_strip_figure draws a captioner's cross-attention over an image")
    for q in range(len(trace.query_tokens)):
        _check_focus(trace, q)
    th = THEMES[theme]
    grid = trace.patch_grid
    weights = (np.mean([hd.weights for hd in trace.heads], axis=0) if head is None
               else trace.heads[head].weights)  # (T, S)
    t = len(trace.query_tokens)
    ncols = min(columns, t)
    nrows = math.ceil(t / ncols)
    pixels = _read_image(Path(trace.image_path), longest=320)
    ratio = pixels.shape[0] / pixels.shape[1]
    width = 16.0
    cell_w = (width - 0.6) / ncols
    iw = cell_w - 0.5
    ih = iw * ratio
    cell_h = ih + 1.3
    height = max(4.0, 1.6 + nrows * cell_h + 0.6)
    fig = _new_figure((width, height), th)
    for q in range(t):
        r, c = divmod(q, ncols)
        x = 0.3 + c * cell_w + (cell_w - iw) / 2
        y = height - 1.5 - (r + 1) * cell_h + 0.8
        top = _overlay(fig, (x, y, iw, ih), pixels, patch_weights(weights[q], grid), th, precision)
        label = _short(trace.query_tokens[q].label)
        _titles(fig, x + iw / 2, y + ih, f"{q + 1}. {label}", _num(top, _digits(top, precision)), th,
                _fit(f"{q + 1}. {label}", 13.0, iw), _fit("0.00", 10.0, iw))
    which = word("mean_heads", lang) if head is None else f"head {head + 1}/{trace.n_heads}"
    info = trace.model
    note = word("strip_note", lang).format(model=info.name if info else "", layer=info.layer if info else 0,
                                           head=which)
    _headline(fig, lambda n: f"{word('fig_caption_strip', lang)}: {Path(trace.image_path).name[:n]}", th)
    _text(fig, width / 2, 0.3, _wrap(note, 10.5, width - 1.5), th.muted, 10.5)
    return fig
