"""The RoPE figure (`rope_figure`): the angle of every pair at every position as a heatmap on a cyclic colour
scale, and the focus query's q before and after the rotation — as numbers and as arrows turning in each pair's
plane."""

from __future__ import annotations

import math

import matplotlib as mpl
import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch

from ...errors import InputError
from ...trace import Trace
from ..text import caption, title, word
from .canvas import _axes, _details, _headline, _new_figure, _sentence, _text
from .checks import _check, _check_focus
from .heatmap import _cell_size, _colorbar, _heatmap
from .layout import MAX_TICKS_PIPELINE, _bottom_margin, _fit, _left_margin, _plan, _wrap
from .panels import Panel
from .style import THEMES, _num, _short

TWO_PI = 2 * math.pi
PAIRS_DRAWN = 4  # pairs drawn as turning arrows (the fastest ones, and the slowest)


def _pairs_to_draw(half: int) -> list[int]:
    """The pairs drawn as arrows: the first three (fast) and the last (slowest), or all of them when few."""
    return list(range(half)) if half <= PAIRS_DRAWN else [0, 1, 2, half - 1]


def rope_figure(trace: Trace, *, head: int = 0, focus: int = 0, theme: str = "light", lang: str = "en",
                precision: int = 2) -> Figure:
    """RoPE on one 16:9 figure. Left: θ = m · ω_i mod 2π for every position m (rows) and pair i (columns), on a
    cyclic colour scale, so fast pairs stripe and slow pairs stay one colour. Right: the focus query's q of head
    `head` before and after RoPE (a 2 × d_k heatmap), and its pairs as arrows turned by θ in their own planes.
    """
    _check(trace, head, theme, lang, precision)
    _check_focus(trace, focus)
    info = trace.attention
    if info is None or info.rope is None:
        raise InputError("this trace has no rotary positions (RoPE): use a Llama-family --model or --rope")
    th = THEMES[theme]
    rope, hd = info.rope, trace.heads[head]
    width, height = 16.0, 9.0
    fig = _new_figure((width, height), th)
    t, half = rope.angles.shape
    positions = np.arange(t) if rope.positions is None else np.asarray(rope.positions)
    rows = tuple(f"m={int(p)} {_short(tk.label)}" for p, tk in zip(positions, trace.query_tokens))
    cols = tuple(str(i + 1) for i in range(half))
    wrapped = np.mod(rope.angles, TWO_PI)  # (T, r/2) where each pair points now
    angles = Panel("rope", wrapped, rows, cols, word("fig_positions", lang), word("fig_pairs", lang), False,
                   word("fig_rope_angles", lang), cols_are_tokens=False)
    label, title_size, margin = 11.0, 15.0, 0.4
    cap = _wrap(caption("rope", lang), 11.5, width - 1.5)
    foot = 0.3 + 10.5 * 1.2 / 72 + 0.15 + (cap.count("\n") + 1) * 11.5 * 1.4 / 72 + 0.2  # details, caption
    top_band = 1.3  # headline and subtitle
    room = height - top_band - foot

    # left: the angle heatmap, as large as the left 55 % allows
    nominal = 4.0
    left = _left_margin(angles, MAX_TICKS_PIPELINE, label, nominal)
    above = 0.25 + title_size * 1.3 / 72 + 11 * 1.25 / 72
    left_w = 0.55 * width - margin
    bar = 0.2 + 0.16 + 0.45
    aspect = float(np.clip(t / half, 0.5, 2.0))
    w = left_w - left - bar
    ticks = _plan(angles, MAX_TICKS_PIPELINE, label, nominal, w)
    bottom = _bottom_margin(angles, ticks, label)
    w = min(w, (room - above - bottom) / aspect)
    h = w * aspect
    x = margin + left + (left_w - left - bar - w) / 2
    y = foot + bottom + (room - above - bottom - h) / 2
    ax = _axes(fig, (x, y, w, h))
    cyclic = (mpl.colormaps["twilight"], Normalize(0.0, TWO_PI))
    image = _heatmap(ax, angles, th, precision, ticks, label, _cell_size(wrapped, precision, w, h), colours=cyclic)
    _colorbar(fig, image, (x + w + 0.2, y, 0.16, h), angles, th, "vertical", label - 1, ticks=range(7))
    _text(fig, x + w / 2, y + h + 0.1, angles.heading, th.muted, _fit(angles.heading, 11, w + 1))
    main = word("fig_rope_table", lang)
    _text(fig, x + w / 2, y + h + 0.15 + 11 * 1.25 / 72, main, th.fg, _fit(main, title_size, w + 1))

    # right: q before and after, then the pairs turning
    rx, rw = 0.55 * width + 0.5, 0.45 * width - 0.5 - margin
    if hd.q_unrotated is not None:
        _q_panel(fig, trace, head, focus, (rx, foot, rw, room), th, lang, precision, label)

    _headline(fig, lambda n: f"{title('rope', lang)}: “{_sentence(trace, n)}”", th)
    sub = word("fig_rope_sub", lang).format(base=_base(rope.base), r=rope.rotary_dim, d_k=trace.d_k)
    if rope.scaling != "default":
        sub += f" · {word('rope_scaling', lang).format(scaling=rope.scaling)}"
    _text(fig, width / 2, height - 0.35 - 22 * 1.5 / 72, sub, th.muted, _fit(sub, 13, width - 1), va="top")
    _text(fig, width / 2, 0.3 + 10.5 * 1.2 / 72 + 0.15, cap, th.fg, 11.5, linespacing=1.4)
    _text(fig, width / 2, 0.3, _details(trace, head, lang, ticks.step), th.muted, 10.5)
    return fig


def _base(base: float) -> str:
    return str(int(base)) if float(base).is_integer() else f"{base:g}"


def _q_panel(fig: Figure, trace: Trace, head: int, focus: int, box: tuple[float, float, float, float], th, lang: str,
             precision: int, label: float) -> None:
    """The focus q before and after RoPE (2 × d_k, one diverging scale), and below it each drawn pair as two
    arrows in its plane: before (muted, dashed) and after (the accent colour), turned by θ."""
    x0, y0, w0, h0 = box
    rope, hd = trace.attention.rope, trace.heads[head]
    before, after = (np.asarray(v, dtype=np.float64) for v in (hd.q_unrotated[focus], hd.q[focus]))
    both = np.stack([before, after])  # (2, d_k)
    dims = tuple(str(j + 1) for j in range(both.shape[1]))
    token = _short(trace.query_tokens[focus].label)
    panel = Panel("q_rope", both, ("q", "RoPE(q)"), dims, "", word("dim_cols", lang), False,
                  word("fig_q_rope", lang).format(q=focus + 1, token=token, head=head + 1), cols_are_tokens=False)
    left = _left_margin(panel, MAX_TICKS_PIPELINE, label, 3.0)
    qw = w0 - left - 0.9
    qh = min(0.5 * 2, qw * 2 / both.shape[1])
    ticks = _plan(panel, MAX_TICKS_PIPELINE, label, 3.0, qw)
    bottom = _bottom_margin(panel, ticks, label)
    half = rope.angles.shape[1]
    drawn = _pairs_to_draw(half)
    gap, pair_title, legend_h = 0.3, 2 * 11 * 1.3 / 72 + 0.1, 0.45
    size = min((w0 - (len(drawn) - 1) * gap) / len(drawn), 2.2)
    total = 0.45 + qh + bottom + 0.35 + pair_title + size + legend_h  # q's title, q, its labels, the pairs
    qy = y0 + (h0 + total) / 2 - 0.45 - qh  # the right column centred in its box
    ax = _axes(fig, (x0 + left, qy, qw, qh))
    top = float(np.max(np.abs(both))) or 1.0
    image = _heatmap(ax, panel, th, precision, ticks, label, _cell_size(both, precision, qw, qh),
                     colours=(mpl.colormaps[th.diverging], Normalize(-top, top)))
    _colorbar(fig, image, (x0 + left + qw + 0.15, qy, 0.14, qh), panel, th, "vertical", label - 2)
    _text(fig, x0 + left + qw / 2, qy + qh + 0.12, panel.heading, th.fg, _fit(panel.heading, 13, w0))

    # the pairs, each in its own square plane, scaled to its own length
    py = qy - bottom - 0.35 - pair_title - size
    for k, i in enumerate(drawn):
        px = x0 + k * (size + gap) + (w0 - len(drawn) * size - (len(drawn) - 1) * gap) / 2
        ax = _axes(fig, (px, py, size, size))
        a, b = before[i], before[i + half]
        a1, b1 = after[i], after[i + half]
        radius = math.hypot(a, b)
        reach = 1.2 * max(radius, math.hypot(a1, b1), 1e-9)
        ax.set_xlim(-reach, reach)
        ax.set_ylim(-reach, reach)
        ax.set_axis_off()
        ax.add_patch(Circle((0, 0), radius, fill=False, edgecolor=th.muted, linewidth=0.8, linestyle=":"))
        ax.axhline(0, color=th.muted, linewidth=0.5)
        ax.axvline(0, color=th.muted, linewidth=0.5)
        for (u, v), colour, style in (((a, b), th.muted, "--"), ((a1, b1), th.accent, "-")):
            ax.add_patch(FancyArrowPatch((0, 0), (u, v), arrowstyle="-|>", mutation_scale=14, color=colour,
                                         linewidth=2, linestyle=style))
        theta = float(rope.angles[focus, i])
        pair = word("fig_pair", lang).format(i=i + 1, a=i + 1, b=i + 1 + half, t=_num(theta, precision))
        _text(fig, px + size / 2, py + size + 0.08, pair, th.fg, 11, linespacing=1.3)
    legend = word("fig_pair_legend", lang)
    _text(fig, x0 + w0 / 2, py - 0.12, legend, th.muted, _fit(legend, 10.5, w0), va="top")
