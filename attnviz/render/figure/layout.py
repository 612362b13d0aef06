"""Layout in inches, estimated without drawing: tick plans (`Ticks`), margins, and fitting and wrapping
text to a width."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .glyphs import width as _width
from .panels import Panel
from .style import _short

#: At most this many tick labels per axis; longer axes label every k-th token.
MAX_TICKS_STAGE = 40
MAX_TICKS_PIPELINE = 24
TICK = 2 + 3.5  # points from a heatmap's edge to its tick labels: the tick mark, then the gap
LABEL_PAD = 6  # points from the tick labels to the axis label


@dataclass(frozen=True)
class Ticks:
    """Which rows and columns get a tick label, their size, and whether column labels slant."""

    rows: list[int]
    cols: list[int]
    step: int  # 1, or k when only every k-th label is shown
    row_size: float  # points
    col_size: float
    slant: int  # column labels at 0°, 45° or 90°


def _fit(text: str, size: float, width: float) -> float:
    """`size`, made smaller (down to 3/4 of it) when `text` would be wider than `width` inches."""
    return max(0.75 * size, min(size, size * width / max(_width(text, size), 1e-9)))


def _wrap(text: str, size: float, width: float) -> str:
    """`text` broken at spaces into lines at most about `width` inches wide at `size` points; a lone
    symbol stays with both its neighbours ("Qi · Kj" is never split)."""
    pieces: list[str] = []
    words = text.split()
    while words:
        piece = words.pop(0)
        if pieces and len(piece) == 1 and not piece.isalnum():
            pieces[-1] += f" {piece}" + (f" {words.pop(0)}" if words else "")
        else:
            pieces.append(piece)
    lines: list[str] = []
    for piece in pieces:
        if lines and _width(f"{lines[-1]} {piece}", size) <= width:
            lines[-1] += f" {piece}"
        else:
            lines.append(piece)
    return "\n".join(lines)


def _ticks_at(n: int, max_ticks: int) -> tuple[list[int], int]:
    """Tick positions 0, k, 2k, … with k chosen so at most `max_ticks` labels show."""
    step = max(1, math.ceil(n / max_ticks))
    return list(range(0, n, step)), step


def _tick_size(n: int, inches: float, base: float) -> float:
    """Points for `n` tick labels along `inches`: `base`, smaller when crowded, never below 6."""
    return float(np.clip(inches * 72 / max(n, 1) * 0.7, 6, base))


def _plan(panel: Panel, max_ticks: int, base: float, nominal: float, width: float) -> Ticks:
    """Tick labels for `panel` drawn `width` inches wide: slanted when they would not fit flat."""
    n_rows, n_cols = panel.matrix.shape
    rows, row_step = _ticks_at(n_rows, max_ticks)
    cols, col_step = _ticks_at(n_cols, max_ticks)
    col_size = _tick_size(len(cols), nominal, base)
    widest = max((_width(_short(panel.cols[j]), col_size) for j in cols), default=0.0)
    space = width / max(len(cols), 1)  # inches from one column label to the next
    if not panel.cols_are_tokens or widest <= 0.95 * space:
        slant = 0
    else:  # 45° while slanted neighbours stay a line apart, else upright
        slant = 45 if space * 0.7071 >= col_size * 1.3 / 72 else 90
    return Ticks(rows, cols, max(row_step, col_step), _tick_size(len(rows), nominal, base), col_size, slant)


def _left_margin(panel: Panel, max_ticks: int, base: float, nominal: float) -> float:
    """Inches left of the heatmap for the row labels and the axis label (`base` points)."""
    rows, _ = _ticks_at(panel.matrix.shape[0], max_ticks)
    size = _tick_size(len(rows), nominal, base)
    widest = max((_width(_short(panel.rows[i]), size) for i in rows), default=0.0)
    return (TICK + LABEL_PAD) / 72 + widest + base * 1.3 / 72  # tick, gap, labelpad, the rotated label


def _bottom_margin(panel: Panel, ticks: Ticks, label: float) -> float:
    """Inches below the heatmap for the column labels and the axis label."""
    return (TICK + LABEL_PAD) / 72 + _col_labels_height(panel, ticks) + label * 1.3 / 72


def _row_labels_width(panel: Panel, ticks: Ticks) -> float:
    """Inches taken by the widest row label drawn."""
    return max((_width(_short(panel.rows[i]), ticks.row_size) for i in ticks.rows), default=0.0)


def _col_labels_height(panel: Panel, ticks: Ticks) -> float:
    """Inches taken below the heatmap by the column labels (flat, or slanted 45° or 90°)."""
    line = ticks.col_size * 1.25 / 72
    widest = max((_width(_short(panel.cols[j]), ticks.col_size) for j in ticks.cols), default=0.0)
    if ticks.slant == 45:  # the box of a slanted label is (width + height)·sin 45° tall
        return (widest + line) * 0.7072
    return widest if ticks.slant == 90 else line
