"""The lessons' charts: why divide by √d_k (`scale_figure`) and one row through softmax as bars
(`softmax_figure`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch
from matplotlib.ticker import NullLocator

from ...errors import InputError
from ...lessons import ScaleLesson, SoftmaxSteps
from ..text import caption, title, word
from .canvas import _axes, _new_figure, _text
from .checks import _check_drawable, _check_style
from .glyphs import width as _width
from .layout import MAX_TICKS_PIPELINE, _tick_size, _ticks_at, _wrap
from .style import FONT_FAMILY, NUMBER_FAMILY, THEMES, Theme, _num, _short


def scale_figure(lesson: ScaleLesson, *, theme: str = "light", lang: str = "en", precision: int = 2) -> Figure:
    """Why divide by √d_k, measured: left, the spread (standard deviation) of q·k against d_k (log₂
    axis) with the curve √d_k, and the spread of q·k / √d_k ≈ 1; right, the mean largest softmax
    weight and the mean entropy of a row, without and with the scaling (unscaled rows saturate)."""
    _check_style(theme, lang, precision)
    th = THEMES[theme]
    width, height = 16.0, 9.0
    fig = _new_figure((width, height), th)
    d_k = np.array([r.d_k for r in lesson.rows], dtype=float)
    label = 12.0
    cap = _wrap(caption("scale", lang), 12.0, width - 1.5)
    cap_h = (cap.count("\n") + 1) * 12 * 1.4 * 1.17 / 72
    y0 = 0.3 + 10.5 * 1.2 / 72 + 0.2 + cap_h + 0.3 + 0.75  # above the footer, the caption, the x labels
    top = height - 1.0 - 0.75  # below the title and the panel titles
    spread = _plot_axes(fig, (1.3, y0, 6.2, top - y0), th, label, "plot spread")
    gap = 0.25
    half = (top - y0 - gap - 0.45) / 2
    peak = _plot_axes(fig, (9.4, y0 + half + gap + 0.45, 6.2, half), th, label, "plot max weight")
    ent = _plot_axes(fig, (9.4, y0, 6.2, half), th, label, "plot entropy")

    std_dot = [r.std_dot for r in lesson.rows]
    std_scaled = [r.std_scaled for r in lesson.rows]
    fine = np.geomspace(d_k.min(), d_k.max(), 64)
    spread.plot(fine, np.sqrt(fine), color=th.muted, linestyle="--", linewidth=1.6, label="√d_k")
    spread.plot(d_k, std_dot, color=th.accent, marker="o", linewidth=2.2, label=word("fig_dot_std", lang))
    spread.plot(d_k, std_scaled, color=th.bar, marker="s", linewidth=2.2, label=word("fig_scaled_std", lang))
    for x, a, b in zip(d_k, std_dot, std_scaled):
        spread.annotate(_num(a, precision), (x, a), xytext=(-6, 7), textcoords="offset points", ha="right",
                        fontsize=10, color=th.accent, fontfamily=NUMBER_FAMILY)
        spread.annotate(_num(b, precision), (x, b), xytext=(0, -7), textcoords="offset points", ha="center",
                        va="top", fontsize=10, color=th.bar, fontfamily=NUMBER_FAMILY)
    high = max(max(std_dot), math.sqrt(d_k.max())) * 1.12
    spread.set_ylim(-0.07 * high, high)  # room under the scaled line for its values
    spread.set_ylabel(word("fig_std", lang), color=th.fg, fontsize=label, fontfamily=FONT_FAMILY)

    n = lesson.n_keys
    peak.plot(d_k, [r.max_weight_raw for r in lesson.rows], color=th.accent, marker="o", linewidth=2.2,
              label=word("fig_raw", lang))
    peak.plot(d_k, [r.max_weight_scaled for r in lesson.rows], color=th.bar, marker="s", linewidth=2.2,
              label=word("fig_scaled", lang))
    peak.axhline(1 / n, color=th.muted, linestyle=":", linewidth=1.4, label=word("fig_uniform_w", lang))
    peak.set_ylim(0, 1.08)
    peak.set_ylabel(word("fig_max_weight", lang), color=th.fg, fontsize=label - 1, fontfamily=FONT_FAMILY)
    peak.tick_params(axis="x", labelbottom=False)
    ent.plot(d_k, [r.entropy_raw for r in lesson.rows], color=th.accent, marker="o", linewidth=2.2,
             label=word("fig_raw", lang))
    ent.plot(d_k, [r.entropy_scaled for r in lesson.rows], color=th.bar, marker="s", linewidth=2.2,
             label=word("fig_scaled", lang))
    ent.axhline(math.log(n), color=th.muted, linestyle=":", linewidth=1.4, label=word("fig_uniform_h", lang))
    ent.set_ylim(0, math.log(n) * 1.15)
    ent.set_ylabel(word("fig_entropy", lang), color=th.fg, fontsize=label - 1, fontfamily=FONT_FAMILY)

    for ax in (spread, peak, ent):
        ax.set_xscale("log", base=2)
        ax.set_xlim(d_k.min() / 1.5, d_k.max() * 1.5)
        ax.set_xticks(d_k, [str(int(v)) for v in d_k])
        ax.xaxis.set_minor_locator(NullLocator())
        _legend(ax, th, 10.5, "upper left" if ax is spread else "center right")
    for ax in (spread, ent):
        ax.set_xlabel(word("fig_dk_log", lang), color=th.fg, fontsize=label, fontfamily=FONT_FAMILY)
    _text(fig, 1.3 + 3.1, top + 0.15, word("fig_spread", lang), th.fg, 15)
    _text(fig, 9.4 + 3.1, top + 0.15, word("fig_saturates", lang), th.fg, 15)
    heading = title("scale", lang)
    _text(fig, width / 2, height - 0.35, heading, th.fg, 22, va="top")
    _text(fig, width / 2, 0.3 + 10.5 * 1.2 / 72 + 0.2, cap, th.fg, 12, linespacing=1.4)
    setup = word("scale_setup", lang).format(rows=lesson.n_rows, keys=n, seed=lesson.seed)
    _text(fig, width / 2, 0.3, setup, th.muted, 10.5)
    return fig


def softmax_figure(steps: SoftmaxSteps, *, labels: Sequence[str] | None = None, theme: str = "light",
                   lang: str = "en", precision: int = 2) -> Figure:
    """One row of scores and the probabilities softmax makes of them, as bars labelled with their
    values, the largest highlighted; p_j = exp(x_j − max x) / Σ_i exp(x_i − max x), where
    x = scores ÷ (scale · temperature) (noted when that divisor is not 1). `labels` name the bars."""
    _check_style(theme, lang, precision)
    n = len(steps.scores)
    if n == 0:
        raise InputError("softmax_figure needs at least one score")
    names = [str(i + 1) for i in range(n)] if labels is None else [_short(str(x)) for x in labels]
    if len(names) != n:
        raise InputError(f"{len(names)} labels for {n} scores: give one label per score")
    th = THEMES[theme]
    width, height = 16.0, 9.0
    fig = _new_figure((width, height), th)
    label = 12.0
    divisor = steps.scale * steps.temperature
    cap = caption("softmax_steps", lang)
    if divisor != 1:
        cap = word("divisor", lang).format(scale=_num(steps.scale, precision), temp=_num(steps.temperature, precision),
                                           div=_num(divisor, precision)) + "\n" + cap
    cap = "\n".join(_wrap(line, 12.0, width - 1.5) for line in cap.split("\n"))
    cap_h = (cap.count("\n") + 1) * 12 * 1.4 * 1.17 / 72
    shown = _ticks_at(n, MAX_TICKS_PIPELINE)[0] if labels is not None else _round_ticks(n, 12)
    tick_size = _tick_size(len(shown), 6.0, label)
    tick_room = max(_width(names[i], tick_size) for i in shown)
    slant = tick_room > 6.0 / len(shown) * 0.9
    y0 = 0.3 + 10.5 * 1.2 / 72 + 0.2 + cap_h + 0.35 + (tick_room * 0.72 if slant else 0.25) + 0.45
    top = height - 1.0 - 0.75
    box_h = top - y0
    scores_ax = _plot_axes(fig, (1.3, y0, 6.0, box_h), th, label, "bars scores")
    probs_ax = _plot_axes(fig, (9.6, y0, 6.0, box_h), th, label, "bars probs")
    best = int(np.argmax(steps.probs))
    finite = np.isfinite(steps.scores)
    heights = np.where(finite, steps.scores, 0.0)
    _check_drawable(float(np.abs(heights).max()), "the scores")
    values = [_num(v, precision) if ok else "−∞" for v, ok in zip(steps.scores, finite)]
    _bars(scores_ax, heights, values, best, th, 6.0, names, shown, tick_size, slant)
    _bars(probs_ax, steps.probs, [_num(v, precision) for v in steps.probs], best, th, 6.0, names, shown, tick_size,
          slant)
    probs_ax.set_ylim(0, min(1.05, float(steps.probs.max()) * 1.2))  # (small weights stay visible)
    for ax, y_word in ((scores_ax, "fig_score"), (probs_ax, "fig_prob")):
        ax.set_xlabel(word("fig_entry", lang), color=th.fg, fontsize=label, fontfamily=FONT_FAMILY)
        ax.set_ylabel(word(y_word, lang), color=th.fg, fontsize=label, fontfamily=FONT_FAMILY)
    _text(fig, 1.3 + 3.0, top + 0.15, word("fig_scores", lang), th.fg, 15)
    _text(fig, 9.6 + 3.0, top + 0.15, word("fig_probs", lang), th.fg, 15)
    a, b, y = 7.45, 8.75, y0 + box_h / 2
    fig.add_artist(FancyArrowPatch((a, y), (b, y), transform=fig.dpi_scale_trans, arrowstyle="-|>",
                                   mutation_scale=22, color=th.muted, linewidth=2))
    op = "softmax" if divisor == 1 else f"÷ {_num(divisor, precision)}\nsoftmax"
    _text(fig, (a + b) / 2, y + 0.12, op, th.fg, 12, linespacing=1.35)
    total = word("sum_exp", lang).split(":")[0].format(total=_num(steps.total, precision))
    _text(fig, (a + b) / 2, y - 0.12, total, th.muted, 10.5, va="top")
    heading = title("softmax_steps", lang)
    _text(fig, width / 2, height - 0.35, heading, th.fg, 22, va="top")
    _text(fig, width / 2, 0.3 + 10.5 * 1.2 / 72 + 0.2, cap, th.fg, 12, linespacing=1.4)
    most = f"{word('largest', lang)}: {names[best]} → {_num(steps.probs[best], precision)}"
    _text(fig, width / 2, 0.3, most, th.accent, 10.5)
    return fig


def _round_ticks(n: int, max_ticks: int) -> list[int]:
    """Indices (0-based) of entries 1, step, 2·step, … (1-based) with a round step (1, 2, 5, 10, 20 …)
    so that at most about `max_ticks` show."""
    if n <= max_ticks:
        return list(range(n))
    step = next(m * 10 ** e for e in range(10) for m in (1, 2, 5) if m * 10 ** e * max_ticks >= n)
    return [0, *range(step - 1, n, step)]


def _plot_axes(fig: Figure, box: tuple[float, float, float, float], th: Theme, size: float, name: str) -> Axes:
    """Axes for a line or bar chart in the theme's colours, light grid lines behind the data."""
    ax = _axes(fig, box)
    ax.set_label(name)
    ax.set_facecolor(th.bg)
    for spine in ax.spines.values():
        spine.set_color(th.muted)
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.tick_params(colors=th.muted, labelcolor=th.fg, labelsize=size - 1, labelfontfamily=NUMBER_FAMILY)
    ax.grid(True, color=th.muted, alpha=0.25, linewidth=0.8)
    ax.set_axisbelow(True)
    return ax


def _legend(ax: Axes, th: Theme, size: float, loc: str) -> None:
    legend = ax.legend(loc=loc, prop={"family": FONT_FAMILY, "size": size}, labelcolor=th.fg, facecolor=th.bg,
                       edgecolor=th.muted, framealpha=0.9)
    legend.get_frame().set_linewidth(0.6)


def _bars(ax: Axes, heights: np.ndarray, values: list[str], best: int, th: Theme, width: float,
          names: list[str], shown: list[int], tick_size: float, slant: bool) -> None:
    """One bar per entry (the `best` one in the accent colour), its value written at its end when
    there is room; tick labels at `shown`."""
    n = len(heights)
    colours = [th.bar] * n
    colours[best] = th.accent
    if n <= 512:
        ax.bar(np.arange(n), heights, width=0.7, color=colours)
    else:  # thousands of bars, each under a pixel wide: one line each, in one collection
        ax.vlines(np.arange(n), 0, heights, color=th.bar, linewidth=0.6)
        ax.vlines([best], 0, [heights[best]], color=th.accent, linewidth=2.5)
        ax.plot([best], [heights[best]], marker="v", color=th.accent, markersize=8, linestyle="none")
    ax.axhline(0, color=th.muted, linewidth=0.8)
    low, high = min(0.0, float(heights.min())), max(0.0, float(heights.max()))
    pad = (high - low) * 0.14 or 1.0
    ax.set_ylim(low - (pad if low < 0 else 0), high + pad)
    ax.set_xlim(-0.6, n - 0.4)
    size = min(12.0, 0.9 * width * 72 / n / max(_width(v, 1) * 72 for v in values))
    if size >= 6:
        for i, (v, text) in enumerate(zip(heights, values)):
            ax.annotate(text, (i, v), xytext=(0, 4 if v >= 0 else -4), textcoords="offset points", ha="center",
                        va="bottom" if v >= 0 else "top", fontsize=size, fontfamily=NUMBER_FAMILY,
                        color=th.accent if i == best else th.fg)
    slanted = {"rotation": 45, "ha": "right", "rotation_mode": "anchor"} if slant else {}
    ax.set_xticks(shown, [names[i] for i in shown], parse_math=False, **slanted)
    ax.tick_params(axis="x", labelsize=tick_size, labelfontfamily=FONT_FAMILY)
    for tick, i in zip(ax.get_xticklabels(), shown):
        if i == best:
            tick.set_color(th.accent)
