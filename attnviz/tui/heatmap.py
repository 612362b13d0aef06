"""A stage's matrix as a terminal heatmap: one shaded cell per number, rows are queries (or tokens), the focus
row marked ▶ … ◀, hidden cells ×. A rich renderable (no Textual), drawn in the figures' colours.

    ▶ 고양이  ██▓▓░░  ◀        rows: token labels, cut to LABEL_MAX cells and padded by display width,
      는      ░░██▓▓            so Hangul labels line up with Latin ones
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.style import Style
from rich.text import Text

from ..render.terminal.common import LABEL_MAX, short
from .words import word

#: Nine colours sampled evenly from the figures' colormaps (render/figure/style.py THEMES), low to high:
#: RdBu_r and Blues for the light theme, berlin and magma for the dark one (magma from 0.15 up: its black
#: bottom would vanish into a dark terminal).
COLORMAPS = {
    ("light", False): ((5, 48, 97), (42, 113, 178), (107, 172, 209), (194, 221, 236), (247, 246, 246),
                       (251, 204, 180), (228, 128, 102), (186, 40, 50), (103, 0, 31)),
    ("light", True): ((247, 251, 255), (222, 235, 247), (198, 219, 239), (157, 202, 225), (106, 174, 214),
                      (65, 145, 198), (32, 112, 180), (8, 80, 155), (8, 48, 107)),
    ("dark", False): ((158, 176, 255), (81, 159, 211), (40, 104, 134), (20, 48, 62), (25, 12, 9),
                      (65, 18, 1), (125, 52, 30), (190, 111, 99), (255, 173, 173)),
    ("dark", True): ((37, 18, 85), (82, 19, 124), (124, 35, 130), (170, 51, 125), (213, 68, 109),
                     (244, 103, 92), (253, 154, 106), (254, 204, 143), (252, 253, 191)),  # magma from 0.15
}
HIDDEN = {"light": "#b4b4b4", "dark": "#4a4e55"}  # the figures' colour for cells hidden by the mask
#: About the explorer's background (Textual's light and dark themes): a cell coloured this close to it
#: gets a dim · so the grid stays visible (berlin's 0 is nearly black).
BACKGROUND = {"light": (224, 224, 224), "dark": (18, 18, 18)}
GAP = 2  # cells between two blocks


@dataclass(frozen=True)
class Block:
    """One matrix of a stage (Q, K and V are three blocks of one stage)."""

    name: str  # drawn above it: "Q·Kᵀ", "softmax", "Q", "X = E + P" …
    matrix: np.ndarray  # (rows, cols); rows line up with the heatmap's row labels
    sequential: bool = False  # True: weights 0..1 (softmax); False: signed, centred at 0
    hidden: np.ndarray | None = None  # (rows, cols) bool, True = hidden by the mask
    keys: bool = False  # the columns are the keys (T × S): when cut, the columns around the focus are shown


def color(t: float, theme: str, sequential: bool) -> tuple[int, int, int]:
    """The colormap at t in [0, 1] (linear between the nine samples, t in steps of 1/128: few enough colours
    for their styles to be made once)."""
    stops = COLORMAPS[theme, sequential]
    x = round(min(max(t, 0.0), 1.0) * 128) / 128 * (len(stops) - 1)
    i = min(int(x), len(stops) - 2)
    a, b, f = stops[i], stops[i + 1], x - i
    return tuple(round(p + (q - p) * f) for p, q in zip(a, b))


def _style(rgb: tuple[int, int, int]) -> Style:
    return Style(bgcolor=f"rgb({rgb[0]},{rgb[1]},{rgb[2]})")


@lru_cache(maxsize=4096)
def _cell(rgb: tuple[int, int, int], width: int, theme: str) -> tuple[str, Style]:
    """A shaded cell: its colour, and a dim · when that colour is close to the background."""
    near = max(abs(a - b) for a, b in zip(rgb, BACKGROUND[theme])) < 32
    return ("·".center(width) if near else " " * width), Style(bgcolor=f"rgb({rgb[0]},{rgb[1]},{rgb[2]})",
                                                                   color="grey50")


class Heatmap:
    """Blocks side by side over shared row labels, fitted to the width (cells of 3, 2 or 1 columns, then
    the rightmost columns cut) and to `max_rows` (a window of rows around the focus)."""

    def __init__(self, blocks: list[Block], rows: list[str], focus: int, *, theme: str = "light",
                 lang: str = "en", max_rows: int | None = None) -> None:
        self.blocks, self.rows, self.focus = blocks, rows, focus
        self.theme, self.lang, self.max_rows = theme, lang, max_rows
        finite = [np.abs(b.matrix[np.isfinite(b.matrix)]) for b in blocks if not b.sequential]
        # one scale for every signed block of the stage (Q, K and V share it), from the numbers shown
        self.scale = max((float(f.max()) for f in finite if f.size), default=1.0) or 1.0

    def _value(self, block: Block, value: float) -> tuple[int, int, int]:
        if block.sequential:
            return color(value, self.theme, True)
        return color(0.5 + 0.5 * value / self.scale, self.theme, False)

    def fit(self, width: int) -> tuple[int, list[int]]:
        """(cell width, columns shown of each block) for `width` terminal cells."""
        room = width - self.label_width - 1 - GAP * (len(self.blocks) - 1)
        cols = [b.matrix.shape[1] for b in self.blocks]
        for cell in (3, 2, 1):
            if sum(cols) * cell <= room:
                return cell, cols
        share = max(room, len(cols)) / sum(cols)  # cut each block in proportion, at least one column
        return 1, [max(1, int(c * share)) for c in cols]

    @property
    def label_width(self) -> int:
        return 2 + max(cell_len(short(r, LABEL_MAX)) for r in self.rows)  # "▶ " + the widest label

    def window(self) -> range:
        """The rows shown: all of them, or `max_rows` of them around the focus."""
        return _around(self.focus, len(self.rows), len(self.rows) if self.max_rows is None else self.max_rows)

    def columns(self, block: Block, shown: int) -> range:
        """The `shown` columns of `block` drawn: around the focus query's own key for T × S blocks, else the first."""
        return _around(self.focus if block.keys else 0, block.matrix.shape[1], shown)

    def lines(self, width: int) -> list[Text]:
        """The heatmap as lines of at most `width` cells: block names (several blocks), column numbers, rows,
        then the legend (led by the block's name when there is one)."""
        cell, shown = self.fit(width)
        lw = self.label_width
        names, numbers = Text(" " * lw), Text(" " * lw)
        windows = [self.columns(block, n) for block, n in zip(self.blocks, shown)]
        for k, (block, n) in enumerate(zip(self.blocks, shown)):
            span = n * cell + (GAP if k < len(self.blocks) - 1 else 0)
            names.append(f" {short(block.name, max(1, n * cell - 1))}".ljust(span)[:span], style="bold")
            numbers.append(_numbers(windows[k], cell, block.matrix.shape[1]).ljust(span), style="dim")
        out = [names, numbers] if len(self.blocks) > 1 else [numbers]  # one block: its name in the legend
        for i in self.window():
            label = short(self.rows[i], LABEL_MAX)
            pad = " " * (lw - 2 - cell_len(label))
            focus = i == self.focus
            line = Text()
            line.append("▶ " if focus else "  ", style="bold")
            line.append(label + pad, style="bold reverse" if focus else "")
            line.append(" ")
            for k, block in enumerate(self.blocks):
                for j in windows[k]:
                    if block.hidden is not None and block.hidden[i, j]:
                        line.append("×".center(cell), style=Style(bgcolor=HIDDEN[self.theme], dim=True))
                    else:
                        line.append(*_cell(self._value(block, float(block.matrix[i, j])), cell, self.theme))
                if k < len(self.blocks) - 1:
                    line.append(" " * GAP)
            if focus:
                line.append(" ◀", style="bold")
            out.append(line)
        out.append(self.legend(windows, width))
        return [line[:width] if cell_len(line.plain) > width else line for line in out]

    def legend(self, windows: list[range], width: int) -> Text:
        """The block's name, what was cut (columns, rows), what the colours mean, hidden cells: in that order of
        priority, as many as fit in `width` cells, shown in the order name, colours, hidden, cuts."""
        pieces: list[tuple[int, Text]] = []  # (priority, piece); shown in list order
        if len(self.blocks) == 1:
            pieces.append((0, Text(self.blocks[0].name, style="bold")))
        stops = []
        if any(not b.sequential for b in self.blocks):
            stops += [(color(t, self.theme, False), _num(v)) for t, v in ((0.0, -self.scale), (0.5, 0.0),
                                                                          (1.0, self.scale))]
        if any(b.sequential for b in self.blocks):
            stops += [(color(t, self.theme, True), _num(t)) for t in (0.0, 0.5, 1.0)]
        scale = Text()
        for k, (rgb, value) in enumerate(stops):
            scale.append("  ", style=_style(rgb))
            scale.append(f" {value}" + ("  " if k < len(stops) - 1 else ""))
        pieces.append((2, scale))
        if any(b.hidden is not None and b.hidden.any() for b in self.blocks):
            pieces.append((3, Text(word("hidden_cell", self.lang), style="dim")))
        total, kept = sum(b.matrix.shape[1] for b in self.blocks), sum(len(w) for w in windows)
        if kept < total:
            first, last = (windows[0].start + 1, windows[0].stop) if len(windows) == 1 else (1, kept)
            pieces.append((1, Text(word("cols_cut", self.lang).format(first=first, last=last, n=total),
                                   style="dim")))
        rows = self.window()
        if len(rows) < len(self.rows):
            pieces.append((1, Text(word("rows_cut", self.lang).format(first=rows.start + 1, last=rows.stop,
                                                                     n=len(self.rows)), style="dim")))
        keep, used = set(), 0
        for k in sorted(range(len(pieces)), key=lambda k: pieces[k][0]):
            need = cell_len(pieces[k][1].plain) + (2 if keep else 0)
            if used + need <= width:
                keep.add(k)
                used += need
        return Text("  ").join(piece for k, (_, piece) in enumerate(pieces) if k in keep)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from self.lines(options.max_width)


def _num(value: float) -> str:
    return f"{value:.2f}".replace("-", "−") if value else "0"


def _around(center: int, n: int, size: int) -> range:
    """`size` of range(n) around `center` (all of it when it fits)."""
    if n <= size:
        return range(n)
    size = max(1, size)
    start = min(max(center - size // 2, 0), n - size)
    return range(start, start + size)


def _numbers(window: range, cell: int, total: int) -> str:
    """Column numbers over `window`'s cells, `cell` wide: its first column, then every step-th (step 1, 2, 5, 10,
    20, 50 …, the least that leaves room for the widest number and a space)."""
    need = len(str(total)) + 1
    step = next(s * m for m in (1, 10, 100, 1000) for s in (1, 2, 5) if s * m * cell >= need)
    out = ""
    for k, j in enumerate(window):
        if k == 0 or (j + 1) % step == 0:
            start = k * cell
            if start >= len(out) + (1 if out else 0):
                out = out.ljust(start) + str(j + 1)
    return out
