"""The pipeline figure (scores → scaled → softmax → output of one head) and the figure of each stage."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from ...errors import InputError
from ...trace import Trace
from ..text import caption, title, word
from .canvas import _axes, _details, _headline, _new_figure, _sentence, _text
from .checks import _check
from .glyphs import width as _width
from .heatmap import _cell_size, _colorbar, _heatmap
from .layout import MAX_TICKS_PIPELINE, MAX_TICKS_STAGE, _bottom_margin, _fit, _left_margin, _plan, _wrap
from .panels import STAGES, _panel
from .style import THEMES, _num


def pipeline_figure(trace: Trace, *, head: int = 0, theme: str = "light", lang: str = "en",
                    precision: int = 2) -> Figure:
    """The four steps of one head side by side on a 16:9 figure, with arrows between them.

    scores = Q·Kᵀ (T×S) → scaled = scores ÷ √d_k (T×S, the value of √d_k shown) →
    weights = softmax of each row (T×S) → output = weights·V (T×d_v). Rows are queries, columns
    keys; a colour bar and a caption under each panel; the sentence in the title. With a mask,
    hidden cells are grey (hatched, "−∞" / "0" when small) in the scaled and softmax panels.
    """
    _check(trace, head, theme, lang, precision)
    th = THEMES[theme]
    width, height = 16.0, 9.0
    fig = _new_figure((width, height), th)
    hd = trace.heads[head]
    panels = [_panel(trace, stage, head, lang, precision) for stage in ("scores", "scaled", "softmax", "output")]
    op_size, cap_size, title_size, label, margin = 11.0, 12.0, 15.0, 11.0, 0.35
    info = trace.attention
    scale_op = f"{word('op_scale', lang)}\n= {_num(math.sqrt(trace.d_k), precision)}"
    if info is not None and not math.isclose(info.scale, trace.d_k ** -0.5, rel_tol=1e-6):  # Gemma's own scale
        scale_op = f"× {info.scale:.4g}"  # the number the scores are multiplied by, not a division
    ops = [
        scale_op,
        _wrap(word("op_softmax" if hd.mask is None else "op_mask_softmax", lang), op_size, 0.7),
        word("op_v", lang),
    ]

    # geometry in inches: four squares of side `side`, each with `left` room for its row labels
    nominal = 2.4  # about the side of a panel, for the tick label sizes
    left = max(_left_margin(p, MAX_TICKS_PIPELINE, label, nominal) for p in panels)
    gap = max(0.8, _width(ops[0], op_size) + 0.25, _width(ops[1], op_size) + 0.25)  # arrow + its label
    side = (width - 2 * margin - 4 * left - 3 * gap) / 4
    ticks = [_plan(p, MAX_TICKS_PIPELINE, label, nominal, side) for p in panels]
    bottom = max(_bottom_margin(p, t, label) for p, t in zip(panels, ticks))
    own_scale = info is not None and not math.isclose(info.scale, trace.d_k ** -0.5, rel_tol=1e-6)
    keys = ["scaled_by" if own_scale and p.stage == "scaled" else p.stage for p in panels]  # Gemma: × scale
    captions = [_wrap(caption(key, lang), cap_size, side + 0.3) for key in keys]
    heading_lines = max(p.heading.count("\n") + 1 for p in panels)
    above = 0.35 + 2 * title_size * 1.3 / 72 + heading_lines * 11 * 1.25 / 72  # title, formula, note
    cap_lines = max(c.count("\n") + 1 for c in captions)
    bar_top = bottom + 0.1  # colour bar below the column labels
    below = bar_top + 0.14 + 0.35 + cap_lines * cap_size * 1.45 / 72  # bar, its ticks, caption
    top_band, foot_band = 0.9, 0.5  # suptitle, footer
    room = height - top_band - foot_band
    side = max(1.0, min(side, room - above - below))  # (very long labels: crowded rather than gone)
    x0 = (width - (4 * (left + side) + 3 * gap)) / 2 + left
    y0 = foot_band + (room - (above + side + below)) / 2 + below  # panels' bottom edge

    fits = side + 0.2  # a title may reach a little into the gaps beside its panel
    heading_size = min(_fit(p.heading, 11, fits) for p in panels)  # one size for all four panels
    mains = [title(key, lang).replace(" · ", "\n", 1) for key in keys]  # "Step 1" above "Scores Q·Kᵀ"
    main_size = min(_fit(m, title_size, fits) for m in mains)
    for i, panel in enumerate(panels):
        x = x0 + i * (left + side + gap)
        ax = _axes(fig, (x, y0, side, side))
        # values as large as each panel allows (a common size would be set by the most crowded one)
        image = _heatmap(ax, panel, th, precision, ticks[i], label, _cell_size(panel.matrix, precision, side, side))
        bar_box = (x + 0.05 * side, y0 - bar_top - 0.14, 0.9 * side, 0.14)
        _colorbar(fig, image, bar_box, panel, th, "horizontal", label - 1)
        _text(fig, x + side / 2, y0 + side + 0.1, panel.heading, th.muted, heading_size, linespacing=1.25)
        _text(fig, x + side / 2, y0 + side + 0.2 + heading_lines * 11 * 1.25 / 72, mains[i], th.fg, main_size,
              linespacing=1.3)
        _text(fig, x + side / 2, y0 - bar_top - 0.14 - 0.35, captions[i], th.muted, cap_size, va="top",
              linespacing=1.45)
        if i < 3:  # an arrow to the next panel, its operation written above it
            a, b, y = x + side + 0.1, x + side + gap - 0.06, y0 + side / 2
            fig.add_artist(FancyArrowPatch((a, y), (b, y), transform=fig.dpi_scale_trans, arrowstyle="-|>",
                                           mutation_scale=22, color=th.muted, linewidth=2))
            _text(fig, (a + b) / 2, y + 0.12, ops[i], th.fg, op_size, linespacing=1.35)
    _headline(fig, lambda n: f"{title('pipeline', lang)}: “{_sentence(trace, n)}”", th)
    step = max(t.step for t in ticks)
    _text(fig, width / 2, 0.3, _details(trace, head, lang, step), th.muted, 10.5)
    return fig


def stage_figure(trace: Trace, stage: str, *, head: int = 0, theme: str = "light", lang: str = "en",
                 precision: int = 2) -> Figure:
    """One stage as a single 16:9 heatmap with its colour bar, title, formula and caption.

    Stages: embeddings E (T×d_model), positions P (T×d_model), x = E + P (T×d_model),
    q (T×d_k), k (S×d_k), v (S×d_v) — rows tokens, columns dimensions 1…d —, scores, scaled,
    softmax (T×S, rows queries, columns keys) and output (T×d_v) of head `head`;
    "pipeline" gives pipeline_figure.
    """
    if stage == "pipeline":
        return pipeline_figure(trace, head=head, theme=theme, lang=lang, precision=precision)
    if stage not in STAGES:
        raise InputError(f"unknown stage {stage!r}: choose one of pipeline, {', '.join(STAGES)}")
    _check(trace, head, theme, lang, precision)
    th = THEMES[theme]
    width, height = 12.8, 7.2
    fig = _new_figure((width, height), th)
    panel = _panel(trace, stage, head, lang, precision)
    n_rows, n_cols = panel.matrix.shape
    cap_size = 13.0
    cap = _wrap(caption(stage, lang), cap_size, width - 1.5)
    # geometry in inches: heatmap w × h, row labels on its left, colour bar on its right
    label, title_size, margin = 12.0, 20.0, 0.35
    nominal = 4.6  # about the size of the heatmap, for the tick label sizes
    left = _left_margin(panel, MAX_TICKS_STAGE, label, nominal)
    bar = 0.2 + 0.2 + _width("−0.00", label - 1) + 0.1  # gap, bar, its tick labels
    heading_lines = panel.heading.count("\n") + 1
    above = 0.65 + heading_lines * 14 * 1.25 / 72  # title, formula line and note
    foot = 0.3 + 10.5 * 1.2 / 72 + 0.12 + (cap.count("\n") + 1) * cap_size * 1.4 / 72 + 0.15  # details, caption
    aspect = float(np.clip(n_rows / n_cols, 0.4, 2.5))  # height / width: square cells when it can
    room_w = width - 2 * margin - left - bar
    ticks = _plan(panel, MAX_TICKS_STAGE, label, nominal, min(room_w, nominal / aspect))
    for _ in range(2):  # the slant of the column labels depends on the width, which depends on it
        bottom = _bottom_margin(panel, ticks, label)
        room_h = height - margin - above - bottom - foot
        w = max(1.0, min(room_w, room_h / aspect))
        ticks = _plan(panel, MAX_TICKS_STAGE, label, nominal, w)
    h = w * aspect
    x = (width - (left + w + bar)) / 2 + left
    y = foot + bottom + (room_h - h) / 2
    ax = _axes(fig, (x, y, w, h))
    image = _heatmap(ax, panel, th, precision, ticks, label, _cell_size(panel.matrix, precision, w, h))
    _colorbar(fig, image, (x + w + 0.2, y, 0.2, h), panel, th, "vertical", label - 1)
    fits = width - 1.0
    _text(fig, x + w / 2, y + h + 0.14, panel.heading, th.muted, _fit(panel.heading, 14, fits), linespacing=1.25)
    _text(fig, x + w / 2, y + h + 0.26 + heading_lines * 14 * 1.25 / 72, title(stage, lang), th.fg,
          _fit(title(stage, lang), title_size, fits))
    _text(fig, width / 2, 0.3 + 10.5 * 1.2 / 72 + 0.12, cap, th.fg, cap_size, linespacing=1.4)
    _text(fig, width / 2, 0.3, _details(trace, head, lang, ticks.step), th.muted, 10.5)
    return fig
