"""The grouped-query attention figure (`gqa_figure`): which query heads share which K/V head, each head's own
attention weights, and how much smaller the KV cache is."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import ConnectionPatch, Rectangle

from ...errors import InputError
from ...trace import Trace
from ..text import caption, title, word
from .canvas import _axes, _details, _headline, _new_figure, _outline_row, _sentence, _text
from .checks import _check, _check_focus
from .glyphs import width as _width
from .layout import _fit, _wrap
from .style import THEMES

MAX_DRAWN = 16  # up to this many query heads are drawn as their softmax heatmaps; more are plain boxes


GROUP_COLOURS = (0, 2, 4, 9, 6, 8, 7, 5)  # tab10 without its orange and red, which the focus row's accent uses


def _group_colour(kv: int) -> tuple[float, float, float, float]:
    return mpl.colormaps["tab10"](GROUP_COLOURS[kv % len(GROUP_COLOURS)])


def gqa_figure(trace: Trace, *, focus: int = 0, theme: str = "light", lang: str = "en", precision: int = 2
               ) -> Figure:
    """Grouped-query attention on one 16:9 figure: the h query heads on top (each its softmax weights, rows
    queries and columns keys, framed in its group's colour), joined by lines to the g K/V heads below them (each
    its keys K, S × d_k), and two bars comparing the KV cache a token keeps per layer: 2 · h · d_k for
    multi-head attention and 2 · g · d_k here."""
    _check(trace, 0, theme, lang, precision)
    _check_focus(trace, focus)
    info = trace.attention
    if info is None or info.n_kv_heads == trace.n_heads:
        raise InputError("this trace has as many K/V heads as query heads (no GQA): use a Llama-family --model, "
                         "or --heads with --kv-heads")
    th = THEMES[theme]
    width, height = 16.0, 9.0
    fig = _new_figure((width, height), th)
    h, g, d_k = trace.n_heads, info.n_kv_heads, trace.d_k
    group = h // g
    kv_of = [hd.kv_head if hd.kv_head is not None else i // group for i, hd in enumerate(trace.heads)]
    margin = 0.6
    cap = _wrap(caption("mqa" if g == 1 else "gqa", lang), 12, width - 1.5)
    foot = 0.3 + 10.5 * 1.2 / 72 + 0.15 + (cap.count("\n") + 1) * 12 * 1.4 / 72 + 0.2
    bars_h = 1.1  # the KV-cache bars above the caption
    top = height - 1.35  # below the headline and subtitle
    span = width - 2 * margin - 1.4  # 1.4: the row names on the left

    # query heads: a row of squares
    gap = 0.18
    side = min(1.5, (span - (h - 1) * gap) / h)
    qy = top - 0.45 - side
    x_first = margin + 1.4 + (span - (h * side + (h - 1) * gap)) / 2
    cmap, norm = mpl.colormaps[th.sequential].with_extremes(bad=th.hidden), Normalize(0.0, 1.0)
    q_axes = []
    for i, hd in enumerate(trace.heads):
        x = x_first + i * (side + gap)
        ax = _axes(fig, (x, qy, side, side))
        ax.set_axis_off()
        colour = _group_colour(kv_of[i])
        if h <= MAX_DRAWN:
            shown = hd.weights if hd.mask is None else np.ma.masked_array(hd.weights, mask=~hd.mask)
            ax.imshow(shown, cmap=cmap, norm=norm, interpolation="nearest", aspect="auto")
            _outline_row(ax, focus, hd.weights.shape[1], th.accent, linewidth=1.2)
        ax.add_patch(Rectangle((0, 0), 1, 1, transform=ax.transAxes, fill=h > MAX_DRAWN, facecolor=(*colour[:3], 0.25),
                               edgecolor=colour, linewidth=3, clip_on=False))
        _text(fig, x + side / 2, qy + side + 0.08, f"{i + 1}", th.fg, _fit(f"{i + 1}", 12, side + gap))
        q_axes.append(ax)
    _text(fig, margin + 0.7, qy + side / 2, word("fig_query_heads", lang) + "\n(softmax: T × S)", th.fg, 12,
          va="center", linespacing=1.3)

    # K/V heads: a row below, each its keys K (S × d_k)
    kv_side = min(1.9, (span - (g - 1) * 0.6) / g)
    ky = bars_h + foot + 0.55
    ky = min(ky, qy - 1.4 - kv_side)
    kv_first = margin + 1.4 + (span - (g * kv_side + (g - 1) * 0.6)) / 2
    kv_axes = []
    for kv in range(g):
        x = kv_first + kv * (kv_side + 0.6)
        ax = _axes(fig, (x, ky, kv_side, kv_side))
        ax.set_axis_off()
        first = kv_of.index(kv)
        k = np.asarray(trace.heads[first].k, dtype=np.float64)  # (S, d_k)
        limit = float(np.max(np.abs(k))) or 1.0
        ax.imshow(k, cmap=mpl.colormaps[th.diverging], norm=Normalize(-limit, limit), interpolation="nearest",
                  aspect="auto")
        colour = _group_colour(kv)
        ax.add_patch(Rectangle((0, 0), 1, 1, transform=ax.transAxes, fill=False, edgecolor=colour, linewidth=3,
                               clip_on=False))
        name = f"K/V {kv + 1}"
        _text(fig, x + kv_side / 2, ky - 0.12, name, th.fg, 12, va="top")
        kv_axes.append(ax)
    _text(fig, margin + 0.7, ky + kv_side / 2, word("fig_kv_heads", lang) + "\n(K: S × d_k)", th.fg, 12,
          va="center", linespacing=1.3)
    for i, ax in enumerate(q_axes):  # each query head to the K/V head it reads
        fig.add_artist(ConnectionPatch((0.5, 0.0), (0.5, 1.0), coordsA=ax.transAxes, coordsB=kv_axes[kv_of[i]]
                                       .transAxes, color=_group_colour(kv_of[i]), linewidth=2, arrowstyle="-|>",
                                       mutation_scale=14))

    # the KV cache a token keeps per layer
    big, small = 2 * h * d_k, 2 * g * d_k
    pct = f"{100 * g / h:.3g}%"
    bx, bw = margin + 4.2, width - 2 * margin - 4.2 - 2.6
    by = foot + 0.15
    _text(fig, margin + 2.0, by + 0.45, word("fig_cache", lang), th.fg, 12, va="center")
    for row, (value, text, colour) in enumerate(((big, word("fig_cache_mha", lang).format(n=big), th.muted),
                                                 (small, word("fig_cache_gqa", lang).format(n=small, pct=pct),
                                                  th.accent))):
        y = by + 0.5 - row * 0.45
        fig.add_artist(Rectangle((bx, y), bw * value / big, 0.3, transform=fig.dpi_scale_trans, facecolor=colour,
                                 edgecolor="none"))
        _text(fig, bx + bw * value / big + 0.15 + _width(text, 11) / 2, y + 0.15, text, th.fg, 11, va="center")

    _headline(fig, lambda n: f"{title('mqa' if g == 1 else 'gqa', lang)}: “{_sentence(trace, n)}”", th)
    sub = word("fig_gqa_sub", lang).format(h=h, g=g)
    _text(fig, width / 2, height - 0.35 - 22 * 1.5 / 72, sub, th.muted, _fit(sub, 13, width - 1), va="top")
    _text(fig, width / 2, 0.3 + 10.5 * 1.2 / 72 + 0.15, cap, th.fg, 12, linespacing=1.4)
    _text(fig, width / 2, 0.3, _details(trace, None, lang), th.muted, 10.5)
    return fig
