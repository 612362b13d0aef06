"""Pieces every figure shares: a themed `Figure`, axes and text placed in inches, titles, the headline,
the footer and an outlined row."""

from __future__ import annotations

from collections.abc import Callable

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ...trace import Trace
from ..text import word
from .glyphs import Labels
from .glyphs import width as _width
from .layout import _fit
from .style import Theme, _register_font


def _outline_row(ax: Axes, row: int, n_cols: int, color: str, *, linestyle="-", linewidth: float = 2.2) -> None:
    ax.add_patch(Rectangle((-0.5, row - 0.5), n_cols, 1, fill=False, edgecolor=color, linewidth=linewidth,
                           linestyle=linestyle, clip_on=False, zorder=4))


def _titles(fig: Figure, x: float, top: float, main: str, heading: str, th: Theme, main_size: float,
            heading_size: float, lines: int = 0) -> None:
    """`heading` (muted) just above `top` inches and `main` above it, centred on x; `main` sits above
    `lines` heading lines (at least the heading's own), so titles of a row line up."""
    lines = max(lines, heading.count("\n") + 1 if heading else 0)
    _text(fig, x, top + 0.1, heading, th.muted, heading_size, linespacing=1.25)
    y = top + 0.1 + (lines * heading_size * 1.25 / 72 + 0.12 if lines else 0)
    _text(fig, x, y, main, th.fg, main_size, linespacing=1.3)


def _new_figure(size: tuple[float, float], th: Theme) -> Figure:
    _register_font()
    return Figure(figsize=size, facecolor=th.bg, layout="none")


def _axes(fig: Figure, box: tuple[float, float, float, float]) -> Axes:
    """An Axes at (x, y, width, height) in inches from the figure's bottom-left corner."""
    fw, fh = fig.get_size_inches()
    x, y, w, h = box
    return fig.add_axes((x / fw, y / fh, w / fw, h / fh))


def _text(fig: Figure, x: float, y: float, s: str, color: str, size: float, *, va: str = "bottom",
          linespacing: float = 1.2) -> None:
    """Centred text at (x, y) inches, each line centred: a `Labels` artist named "text" (`$` is
    plain text, never mathtext)."""
    label = Labels(fig.dpi_scale_trans, "text")
    label.add(x, y, s, color, size, va=va, linespacing=linespacing)
    fig.add_artist(label)


def _sentence(trace: Trace, limit: int = 60) -> str:
    text = " ".join((trace.text or " ".join(tk.label for tk in trace.query_tokens)).split())
    return _cut(text, limit)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _headline(fig: Figure, make: Callable[[int], str], th: Theme, size: float = 22.0) -> None:
    """The figure's title at its top: make(n) with n characters of the sentence in it, the largest n
    (60 at most) that fits the width at 3/4 of `size` or more."""
    width, height = fig.get_size_inches()
    for limit in range(60, 4, -5):
        text = make(limit)
        if _width(text, 0.75 * size) <= width - 1:
            break
    _text(fig, width / 2, height - 0.35, text, th.fg, _fit(text, size, width - 1), va="top")


def _details(trace: Trace, head: int | None, lang: str, step: int = 1) -> str:
    """Footer: token count, widths, head (None: all heads shown), mask, label thinning and where the
    weights came from."""
    parts = [
        word("n_tokens", lang).format(n=len(trace.query_tokens)),
        f"d_model = {trace.d_model}",
        f"d_k = {trace.d_k}",
        f"d_v = {trace.d_v}",
        f"h = {trace.n_heads}" if head is None else word("head_of", lang).format(head=head + 1, heads=trace.n_heads),
    ]
    if trace.causal:
        parts.append(word("causal_mask", lang))
    if step > 1:
        parts.append(word("every_nth", lang).format(n=step))
    parts.append(word("weights_from", lang).format(source=trace.weights_source))
    return "  ·  ".join(parts)
