"""Many heads at once: one layer's heads and its output (`heads_figure`), and a real model's layers ×
heads grid (`layers_figure`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import matplotlib as mpl
import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from ...trace import Trace
from ..text import caption, title, word
from ..text.seq2seq import stack_label
from .canvas import _axes, _details, _headline, _new_figure, _outline_row, _sentence, _text, _titles
from .checks import _check, _check_focus
from .glyphs import width as _width
from .heatmap import CELL_TEXT_MAX, _cell_size, _colorbar, _heatmap
from .layout import MAX_TICKS_PIPELINE, _bottom_margin, _fit, _left_margin, _plan, _wrap
from .panels import _output_panel, _panel, weights_formula
from .style import THEMES, _short

#: Heads drawn smaller than this (inches) in heads_figure get no token labels.
COMPACT = 1.3


def heads_figure(trace: Trace, *, focus: int = 0, theme: str = "light", lang: str = "en",
                 precision: int = 2) -> Figure:
    """Every head's softmax weights in a grid ("Head 1" … "Head h", rows queries, columns keys, one
    colour scale), and the layer's output concat·W_O (T×d_model; the concat T×h·d_v without W_O).

    Each head i computes softmax(Q_i·K_iᵀ / √d_k) with its own W_Q_i, W_K_i, W_V_i; the query row
    `focus` is outlined in every head and in the output.
    """
    _check(trace, 0, theme, lang, precision)
    _check_focus(trace, focus)
    th = THEMES[theme]
    width, height = 16.0, 9.0
    fig = _new_figure((width, height), th)
    h = trace.n_heads
    panels = [replace(_panel(trace, "softmax", i, lang, precision), stage=f"head {i + 1}") for i in range(h)]
    out = _output_panel(trace, lang)
    t, s = panels[0].matrix.shape
    top = 1.0 if s <= CELL_TEXT_MAX else max(float(np.nanmax(p.matrix)) for p in panels) or 1.0
    shared = (mpl.colormaps[th.sequential].with_extremes(bad=th.hidden), Normalize(0.0, top))
    label, margin, main_size, head_size, cap_size = 11.0, 0.35, 14.0, 10.5, 12.0
    projected = trace.output is not None
    cap = _wrap(f"{caption('heads', lang)} {caption('projected' if projected else 'concat', lang)}", cap_size,
                width - 1.5)
    top_band = 1.35  # title and subtitle
    foot = 0.3 + 10.5 * 1.2 / 72 + 0.15 + (cap.count("\n") + 1) * cap_size * 1.4 * 1.17 / 72 + 0.25
    room = height - top_band - foot
    bar = 0.2 + 0.16 + _width("0.00", label - 1) + 0.15  # a vertical colour bar and its tick labels

    # right: the output heatmap; left: the heads' grid, as large as the rest allows
    arrow = 1.3
    out_aspect = float(np.clip(out.matrix.shape[0] / out.matrix.shape[1], 0.3, 2.0))
    out_left = _left_margin(out, MAX_TICKS_PIPELINE, label, 3.0)
    out_w = min(4.6 if h <= 4 else 3.4, (room - 1.6) / out_aspect)  # many heads: more room for them
    grid_w = width - 2 * margin - bar - arrow - out_left - out_w - bar
    left = _left_margin(panels[0], MAX_TICKS_PIPELINE, label, 2.5)
    hgap, title_h, vgap = 0.25, 0.12 + 13 * 1.3 / 72, 0.12
    layouts = []
    for cols in range(1, h + 1):
        rows = math.ceil(h / cols)
        side = (grid_w - left - (cols - 1) * hgap) / cols
        for _ in range(2):  # column labels may slant at a smaller size
            ticks = _plan(panels[0], MAX_TICKS_PIPELINE, label, side, side)
            # many small heads: no token labels, one axis note under the grid
            bottom = 0.35 if side < COMPACT else _bottom_margin(panels[0], ticks, label)
            side = min((grid_w - left - (cols - 1) * hgap) / cols, (room - bottom - rows * (title_h + vgap)) / rows)
        layouts.append((side, cols, rows, ticks, bottom))
    largest = max(lay[0] for lay in layouts)  # of the nearly largest, the one with the fewest empty places
    side, cols, rows, ticks, bottom = min((lay for lay in layouts if lay[0] >= 0.9 * largest),
                                          key=lambda lay: (lay[1] * lay[2] - h, -lay[0]))
    side = max(side, 0.4)
    compact = side < COMPACT
    if compact:
        left = 0.1
        ticks = replace(ticks, rows=[], cols=[])
    block_w = left + cols * side + (cols - 1) * hgap
    block_h = rows * (title_h + vgap + side) - vgap
    total_w = block_w + bar + arrow + out_left + out_w + bar
    gx = (width - total_w) / 2 + left
    gy = foot + bottom + (room - bottom - block_h) / 2  # bottom edge of the lowest row of heatmaps
    cell = _cell_size(panels[0].matrix, precision, side, side)
    name_size = min(13.0, 13.0 * (side + 0.8 * hgap) / _width(f"Head {h}", 13.0))
    for i, panel in enumerate(panels):
        r, c = divmod(i, cols)
        x = gx + c * (side + hgap)
        y = gy + (rows - 1 - r) * (side + title_h + vgap)
        ax = _axes(fig, (x, y, side, side))
        # row labels on the first column only, column labels under the last heatmap of each column
        own = replace(ticks, rows=[] if c else ticks.rows, cols=[] if i + cols < h else ticks.cols)
        named = replace(panel, row_label="" if c or compact else panel.row_label,
                        col_label="" if i + cols < h or compact else panel.col_label)
        image = _heatmap(ax, named, th, precision, own, label, cell, colours=shared)
        _outline_row(ax, focus, s, th.accent)
        _text(fig, x + side / 2, y + side + 0.1, f"Head {i + 1}" if name_size >= 7 else str(i + 1), th.fg,
              max(name_size, 7.0))
    if compact:
        note = f"{word('queries', lang)} × {word('keys', lang)}"
        _text(fig, gx - left + block_w / 2, gy - 0.12, note, th.fg, label, va="top")
    bar_h = min(block_h - title_h, 3.2)
    bar_box = (gx - left + block_w + 0.2, gy + (block_h - title_h - bar_h) / 2, 0.16, bar_h)
    _colorbar(fig, image, bar_box, panels[0], th, "vertical", label - 1,
              ticks=[0, 0.25, 0.5, 0.75, 1] if shared[1].vmax == 1.0 else None)

    # concat · W_O → output
    ox = gx - left + block_w + bar + arrow + out_left
    oh = out_w * out_aspect
    oticks = _plan(out, MAX_TICKS_PIPELINE, label, 3.0, out_w)
    oy = gy + (block_h - title_h - oh) / 2
    ax = _axes(fig, (ox, oy, out_w, oh))
    image = _heatmap(ax, out, th, precision, oticks, label, _cell_size(out.matrix, precision, out_w, oh))
    _outline_row(ax, focus, out.matrix.shape[1], th.accent)
    _colorbar(fig, image, (ox + out_w + 0.2, oy, 0.16, oh), out, th, "vertical", label - 1)
    main = title("projected" if projected else "concat", lang)
    _titles(fig, ox + out_w / 2, oy + oh, main, out.heading, th, _fit(main, main_size, out_w + 1),
            _fit(out.heading, head_size, out_w + 1))
    a, b, y = gx - left + block_w + bar + 0.1, ox - out_left - 0.1, oy + oh / 2
    fig.add_artist(FancyArrowPatch((a, y), (b, y), transform=fig.dpi_scale_trans, arrowstyle="-|>",
                                   mutation_scale=22, color=th.muted, linewidth=2))
    _text(fig, (a + b) / 2, y + 0.12, "concat\n· W_O" if projected else "concat", th.fg, 12, linespacing=1.35)

    kind = title("heads_cross" if trace.kind == "cross" else "heads", lang).format(h=h)
    _headline(fig, lambda n: f"{kind}: “{_sentence(trace, n)}”", th)
    sub = (f"{weights_formula(trace, '_i')[0]},  d_k = {trace.d_k}  ·  "
           + word("fig_focus_row", lang).format(token=_short(trace.query_tokens[focus].label)))
    _text(fig, width / 2, height - 0.35 - 22 * 1.5 / 72, sub, th.muted, _fit(sub, 13, width - 1), va="top")
    _text(fig, width / 2, 0.3 + 10.5 * 1.2 / 72 + 0.15, cap, th.fg, cap_size, linespacing=1.4)
    _text(fig, width / 2, 0.3, _details(trace, None, lang, ticks.step), th.muted, 10.5)
    return fig


def layers_figure(traces: Sequence[Trace], *, focus: int = 0, theme: str = "light", lang: str = "en",
                  precision: int = 2) -> Figure:
    """A real model's layers × heads grid of small softmax heatmaps (bertviz's model view as a still
    figure): one row per layer, one column per head, rows = queries and columns = keys in every cell,
    the focus query's row outlined."""
    first = traces[0]
    _check(first, 0, theme, lang, precision)
    _check_focus(first, focus)
    th = THEMES[theme]
    width, height = 16.0, 9.0
    fig = _new_figure((width, height), th)
    n_layers, n_heads = len(traces), max(t.n_heads for t in traces)
    top_band, foot, left_band, gap = 1.0, 0.9, 0.9, 0.06
    side = min((width - left_band - 1.6 - (n_heads - 1) * gap) / n_heads,
               (height - top_band - foot - (n_layers - 1) * gap) / n_layers)
    grid_w = n_heads * side + (n_heads - 1) * gap
    x0 = left_band + (width - left_band - 1.2 - grid_w) / 2
    y_top = height - top_band
    cmap, norm = mpl.colormaps[th.sequential], Normalize(0.0, 1.0)
    image = None
    for li, tr in enumerate(traces):
        y = y_top - (li + 1) * side - li * gap
        layer = tr.model.layer if tr.model else li
        _text(fig, x0 - 0.45, y + side / 2, f"L{layer}", th.fg, 10.0, va="center")
        for hi, hd in enumerate(tr.heads):
            ax = _axes(fig, (x0 + hi * (side + gap), y, side, side))
            image = ax.imshow(hd.weights, cmap=cmap, norm=norm, interpolation="nearest", aspect="auto")
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_color(th.muted)
            _outline_row(ax, focus, hd.weights.shape[1], th.accent, linewidth=1.0)
            if li == 0:
                _text(fig, x0 + hi * (side + gap) + side / 2, y_top + 0.08, f"H{hi + 1}", th.fg, 10.0)
    name = first.model.name if first.model else first.weights_source
    stack = stack_label(first, lang)
    _text(fig, width / 2, height - 0.55, f"{name}{f' · {stack}' if stack else ''}: {title('layers', lang)}", th.fg,
          15.0)
    q = first.query_tokens[focus].label
    _text(fig, width / 2, 0.35, f"{word('queries', lang)} × {word('keys', lang)} · "
          f"{word('focus', lang)} Q{focus + 1} = {_short(q)}", th.muted, 10.5)
    if image is not None:
        cax = _axes(fig, (width - 0.9, height / 2 - 2.0, 0.18, 4.0))
        bar = fig.colorbar(image, cax=cax)
        bar.ax.tick_params(colors=th.fg, labelsize=9)
        bar.outline.set_edgecolor(th.muted)
    return fig
