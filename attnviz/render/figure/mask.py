"""The mask figure: the ○/× grid beside the masked softmax, and the unmasked pair beside it to compare."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ...errors import InputError
from ...trace import Trace
from ..text import caption, title, word
from .canvas import _axes, _details, _headline, _new_figure, _outline_row, _sentence, _text, _titles
from .checks import _check
from .glyphs import width as _width
from .heatmap import _cell_size, _colorbar, _heatmap
from .layout import MAX_TICKS_PIPELINE, MAX_TICKS_STAGE, Ticks, _bottom_margin, _fit, _left_margin, _plan, _wrap
from .panels import Panel, _panel
from .style import FONT_FAMILY, NUMBER_FAMILY, THEMES, Theme, _short


def mask_figure(trace: Trace, *, head: int = 0, compare: Trace | None = None, theme: str = "light",
                lang: str = "en", precision: int = 2) -> Figure:
    """The mask as a ○/× grid beside the masked softmax of head `head` (rows queries, columns keys).

    ○: query i may attend to key j; ×: hidden, its score becomes −∞ and its weight exactly 0 (grey,
    hatched). A query that may attend to nothing (a [PAD] row) is outlined: all its weights are 0.
    With `compare`, a trace of the same tokens without the mask (an encoder), its pair is drawn
    first, so the no-mask and the masked attention stand side by side.
    """
    _check(trace, head, theme, lang, precision)
    traces = [trace]
    if compare is not None:
        _check(compare, head, theme, lang, precision)
        if [tk.label for tk in compare.query_tokens] != [tk.label for tk in trace.query_tokens] or \
                [tk.label for tk in compare.key_tokens] != [tk.label for tk in trace.key_tokens]:
            raise InputError("compare must be a trace of the same tokens as the masked one "
                             "(the same text, tokenizer and --pad-to, without the mask)")
        traces = [compare, trace]
    th = THEMES[theme]
    width, height = 16.0, 9.0
    fig = _new_figure((width, height), th)
    pairs = [_mask_panels(tr, head, lang, precision) for tr in traces]  # (grid, softmax, heading, caption) each
    panels = [p for pair in pairs for p in pair[:2]]
    n_pairs, n = len(pairs), 2 * len(pairs)
    label, margin, main_size, head_size, group_size, cap_size = 11.0, 0.35, 14.0, 10.5, 15.0, 11.5
    nominal = 4.4 if n_pairs == 1 else 2.6
    left = max(_left_margin(p, MAX_TICKS_PIPELINE, label, nominal) for p in panels)
    gap_in, gap_out = 0.5, 1.0
    side_w = (width - 2 * margin - n * left - n_pairs * gap_in - (n_pairs - 1) * gap_out) / n
    heading_lines = max(p.heading.count("\n") + 1 for p in panels)
    above = 0.1 + heading_lines * head_size * 1.25 / 72 + 0.1 + main_size * 1.3 / 72 + 0.2 + group_size * 1.3 / 72
    top_band, foot_band = 0.95, 0.6
    room = height - top_band - foot_band
    side = side_w
    for _ in range(2):  # column labels may slant at a smaller size, captions wrap on a narrower pair
        ticks = [_plan(p, MAX_TICKS_PIPELINE, label, nominal, side) for p in panels]
        bottom = max(_bottom_margin(p, t, label) for p, t in zip(panels, ticks))
        pair_w = 2 * (left + side) + gap_in - left
        captions = [_wrap(pair[3], cap_size, pair_w) for pair in pairs]
        cap_lines = max(c.count("\n") + 1 for c in captions)
        bar_top = bottom + 0.1
        below = bar_top + 0.14 + 0.4 + cap_lines * cap_size * 1.4 * 1.17 / 72
        side = max(1.0, min(side_w, room - above - below))
    x0 = (width - (n * (left + side) + n_pairs * gap_in + (n_pairs - 1) * gap_out)) / 2 + left
    y0 = foot_band + (room - (above + side + below)) / 2 + below  # heatmaps' bottom edge
    mains = [word("fig_mask", lang) if i % 2 == 0 else
             title("mask_softmax", lang) if traces[i // 2].heads[head].mask is not None else
             word("fig_softmax", lang) for i in range(n)]
    main_fit = min(_fit(m, main_size, side + 0.3) for m in mains)
    head_fit = min(_fit(p.heading, head_size, side + 0.3) for p in panels)
    for k, (grid, soft, heading, _) in enumerate(pairs):
        xg = x0 + k * (2 * (left + side) + gap_in + gap_out)
        xs = xg + side + gap_in + left
        ax = _axes(fig, (xg, y0, side, side))
        _mask_grid(ax, grid, th, ticks[2 * k], label, side, side)
        ax = _axes(fig, (xs, y0, side, side))
        empty = tuple(int(i) for i in np.flatnonzero(soft.hidden.all(axis=1))) if soft.hidden is not None else ()
        image = _heatmap(ax, soft, th, precision, ticks[2 * k + 1], label,
                         _cell_size(soft.matrix, precision, side, side), blank_rows=empty)
        for i in empty:
            _empty_row(ax, i, soft, th, side, side, lang)
        _colorbar(fig, image, (xs + 0.05 * side, y0 - bar_top - 0.14, 0.9 * side, 0.14), soft, th,
                  "horizontal", label - 1)
        for x, panel, main in ((xg, grid, mains[2 * k]), (xs, soft, mains[2 * k + 1])):
            _titles(fig, x + side / 2, y0 + side, main, panel.heading, th, main_fit, head_fit, heading_lines)
        centre = (xg + xs + side) / 2
        group_y = y0 + side + above - group_size * 1.3 / 72
        _text(fig, centre, group_y, heading, th.fg, _fit(heading, group_size, xs + side - xg + left))
        fig.add_artist(Line2D([xg - left * 0.5, xs + side], [group_y - 0.06] * 2, transform=fig.dpi_scale_trans,
                              color=th.muted, linewidth=0.8))
        _text(fig, centre, y0 - bar_top - 0.14 - 0.4, captions[k], th.muted, cap_size, va="top", linespacing=1.4)
    _headline(fig, lambda n: f"{word('fig_masking', lang)}: “{_sentence(trace, n)}”", th)
    _text(fig, width / 2, 0.3, _details(trace, head, lang, max(t.step for t in ticks)), th.muted, 10.5)
    return fig


def _mask_panels(trace: Trace, head: int, lang: str, precision: int) -> tuple[Panel, Panel, str, str]:
    """(○/× grid, masked softmax, the pair's heading, its caption) of one trace."""
    hd = trace.heads[head]
    queries = tuple(tk.label for tk in trace.query_tokens)
    keys = tuple(tk.label for tk in trace.key_tokens)
    t, s = len(queries), len(keys)
    allowed = np.ones((t, s), dtype=bool) if hd.mask is None else hd.mask  # (T, S) True = may attend
    grid = Panel("mask", allowed.astype(float), queries, keys, word("queries", lang), word("keys", lang), True,
                 word("may_attend", lang))
    soft = _panel(trace, "softmax", head, lang, precision)
    if soft.hidden is not None and soft.hidden.all(axis=1).any():
        soft = replace(soft, formula=f"{word('fig_rows_sum_empty', lang)}  → {t}×{s}")
    if hd.mask is None:
        kind = "mask_none"
    elif not trace.causal:
        kind = "mask_padding"
    elif np.array_equal(hd.mask, np.tril(np.ones((t, s), dtype=bool), k=s - t)):
        kind = "mask_causal"
    else:
        kind = "mask_both"
    cap = caption("mask_causal" if kind == "mask_both" else kind, lang)
    if kind == "mask_both":
        cap = f"{cap} {caption('mask_padding', lang)}"
    return grid, soft, title(kind, lang), cap


def _mask_grid(ax: Axes, panel: Panel, th: Theme, ticks: Ticks, label: float, w: float, h: float) -> None:
    """The mask as one imshow (allowed / hidden colours) with ○ or × written in each cell."""
    allowed = panel.matrix > 0.5  # (T, S)
    _heatmap(ax, panel, th, 0, ticks, label, None, colours=(ListedColormap([th.hidden, th.allowed]), Normalize(0, 1)))
    ax.set_label("mask grid")
    n_rows, n_cols = allowed.shape
    size = min(22.0, 0.55 * w * 72 / n_cols, 0.55 * h * 72 / n_rows)
    if size < 5 or n_rows > 2 * MAX_TICKS_STAGE or n_cols > 2 * MAX_TICKS_STAGE:
        return
    for i in range(n_rows):
        for j in range(n_cols):
            ok = bool(allowed[i, j])
            ax.text(j, i, "○" if ok else "×", ha="center", va="center_baseline", fontsize=size,
                    color=th.allowed_fg if ok else th.fg, fontfamily=NUMBER_FAMILY)


def _empty_row(ax: Axes, row: int, panel: Panel, th: Theme, w: float, h: float, lang: str) -> None:
    """Outline a row whose every key is hidden and say so inside it (when there is room)."""
    n_rows, n_cols = panel.matrix.shape
    _outline_row(ax, row, n_cols, th.fg, linestyle=(0, (4, 2)), linewidth=1.4)
    text = word("fig_no_keys", lang).format(token=_short(panel.rows[row]))
    size = min(11.0, 0.5 * h * 72 / n_rows, 11.0 * 0.9 * w / _width(text, 11.0))
    if size >= 6:
        ax.text((n_cols - 1) / 2, row, text, ha="center", va="center", fontsize=size, color=th.fg,
                fontfamily=FONT_FAMILY, parse_math=False,
                bbox={"boxstyle": "round,pad=0.25", "facecolor": th.bg, "edgecolor": "none", "alpha": 0.9})
