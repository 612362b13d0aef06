"""The Matrix renderable (a labelled matrix written as rich segments) and matrix_table, which cuts one to fit."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, JustifyMethod, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from ..text import word
from .common import HEADER_MAX, LABEL_MAX, MAX_ROWS, PANEL_CHROME, PANEL_WIDTH, View, _shown, _tint, short

if TYPE_CHECKING:  # annotations only: rich's Table is imported where it is used (a few ms, with fractions
    # and decimal), so the explain view does not pay for it
    from rich.table import Table


def _fit_columns(view: View, n_cols: int, label_w: int, col_w: int) -> int:
    """How many value columns of width col_w fit beside a label column, at the view's width."""
    if view.full:
        return n_cols
    room = min(view.width, PANEL_WIDTH) - PANEL_CHROME - label_w - 1
    return max(3, min(n_cols, room // (col_w + 3)))  # a column: its width, 2 of padding, 1 of divider


Line = list[list[Segment]]  # one line of a matrix row: each cell's segments


class MatrixColumn(NamedTuple):
    """One column of a Matrix: its header (lines split at "\\n"), how its cells are justified, the style
    under them, and its least width in cells (padding not counted)."""

    header: str
    justify: JustifyMethod
    style: str = ""
    min_width: int = 0


class Matrix:
    """A labelled matrix drawn straight to rich segments, as a rich Table with no-wrap columns drew it:

                          K1       K2       K3           headers bottom-aligned, in the theme's
        softmax        고양…     침대     잔다      Σ    table.header style (bold)
        ─────────────────────────────────────────────    a rule under them, as wide as the matrix
        Q1 고양이는     0.50     0.25     0.25   1.00    a bold label column, then right-justified
        Q2 침대         0.10     0.90     0.00   1.00    cells padded `pad` cells either side (not at
                                                         the outer edges), one space between columns

    or, with `grid`, every cell in its own box (┌─┬─┐ … └─┴─┘, padded at the edges too). Each cell is a
    one-style Text (its own justify, if set, wins), drawn in the column's style under the Text's.
    The Table sent every cell through Padding and render_lines; writing the segments directly makes
    printing the explain view about four times faster, with the same characters and styles.

    If the columns do not fit the width they are given (a --full matrix wider than the console, or a few
    narrow consoles), rich's Table draws the matrix instead, as before: it narrows the columns it may
    (cutting their cells with …) and the console crops what still does not fit.
    """

    def __init__(self, columns: list[MatrixColumn], rows: list[list[Text]], *, pad: int = 1,
                 grid: bool = False) -> None:
        self.columns, self.rows, self.pad, self.grid = columns, rows, pad, grid
        last = len(columns) - 1
        # (left, right) padding of each column: none at the outer edges unless the matrix is a grid
        self.pads = [(pad if grid or k else 0, pad if grid or k < last else 0) for k in range(len(columns))]
        self.widths = [  # each column's width in cells, padding included, as the Table measured it
            max(col.min_width, *(cell_len(line) for line in col.header.split("\n")),
                *(cell_len(row[k].plain) for row in rows)) + left + right
            for k, (col, (left, right)) in enumerate(zip(columns, self.pads))]
        self.widths = [width or 1 for width in self.widths]  # an empty column still takes one cell
        self.width = sum(self.widths) + len(columns) - 1 + (2 if grid else 0)  # + dividers (+ edges)

    def _table(self) -> Table:
        """The same matrix as a rich Table, for a width it does not fit."""
        from rich.table import Table

        table = (Table(box=box.SQUARE, padding=(0, self.pad), show_lines=True) if self.grid else
                 Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, self.pad), show_edge=False))
        for col in self.columns:
            table.add_column(Text(col.header), justify=col.justify, style=col.style, no_wrap=True,
                             min_width=col.min_width)
        for row in self.rows:
            table.add_row(*row)
        return table

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        if self.width > options.max_width:
            return self._table().__rich_measure__(console, options)
        return Measurement(self.width, self.width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self.width > options.max_width:
            yield from self._table().__rich_console__(console, options)
            return
        frame = (box.SQUARE if self.grid else box.SIMPLE_HEAD).substitute(options, safe=console.safe_box)
        edge, widths, last = self.grid, self.widths, len(self.rows)
        new_line = Segment.line()
        if edge:
            yield from (Segment(frame.get_top(widths)), new_line)
        rows = [self._header_lines(console), *([line] for line in self._body_lines(console))]  # lines of each row
        for n, lines in enumerate(rows):
            left, divider, right = ((frame.head_left, frame.head_vertical, frame.head_right) if n == 0 else
                                    (frame.foot_left, frame.foot_vertical, frame.foot_right) if n == last else
                                    (frame.mid_left, frame.mid_vertical, frame.mid_right))
            for cells in lines:
                line = [Segment(left)] if edge else []
                for k, cell in enumerate(cells):
                    if k:
                        line.append(Segment(divider))
                    line += cell
                if edge:
                    line.append(Segment(right))
                yield from _merge_unstyled(line)
                yield new_line
            if n == 0:  # the rule under the header
                yield from (Segment(frame.get_row(widths, "head", edge=edge)), new_line)
            elif self.grid and n < last:  # a line between two rows
                yield from (Segment(frame.get_row(widths, "row", edge=True)), new_line)
        if edge:
            yield from (Segment(frame.get_bottom(widths)), new_line)

    def _cell(self, k: int, plain: str, justify: JustifyMethod, under: Style, style: Style) -> list[Segment]:
        """Column k's segments for one line of a cell: padding in `under` (the column's style), the text
        justified to the column's width in `style`."""
        left, right = self.pads[k]
        width = self.widths[k] - left - right
        if justify != "left":  # right/center: trailing spaces go first, as rich's Text does
            plain = plain.rstrip()
        room = width - cell_len(plain)
        before = 0 if justify == "left" else room // 2 if justify == "center" else room
        out = [Segment(" " * before + plain + " " * (room - before), style)]
        if left:
            out.insert(0, Segment(" " * left, under))
        if right:
            out.append(Segment(" " * right, under))
        return out

    def _header_lines(self, console: Console) -> list[Line]:
        """The header row's lines, each a list of cells' segments: shorter headers get blank lines on top."""
        style = console.get_style("table.header")
        heads = [col.header.split("\n") for col in self.columns]
        height = max(len(lines) for lines in heads)
        cells = [[[Segment(" " * width, style)]] * (height - len(lines))
                 + [self._cell(k, line, col.justify, style, style) for line in lines]
                 for k, (col, width, lines) in enumerate(zip(self.columns, self.widths, heads))]
        return [list(line) for line in zip(*cells)]

    def _body_lines(self, console: Console) -> list[Line]:
        """One line a row, each a list of its cells' segments."""
        get_style = console.get_style
        unders = [get_style(col.style) for col in self.columns]
        return [[self._cell(k, text.plain, text.justify or col.justify, under, under + get_style(text.style))
                 for k, (col, under, text) in enumerate(zip(self.columns, unders, row))]
                for row in self.rows]


def _merge_unstyled(segments: list[Segment]) -> list[Segment]:
    """Each run of unstyled segments joined into one. The output is the same (a styled segment is written
    with its own escape codes, so those are left alone) and the panels around a matrix have fewer
    segments to measure and crop."""
    out: list[Segment] = []
    for segment in segments:
        if out and not segment.style and not out[-1].style:
            out[-1] = Segment(out[-1].text + segment.text)
        else:
            out.append(segment)
    return out


def matrix_table(
    matrix: np.ndarray,
    row_labels: list[str],
    col_labels: list[str],
    view: View,
    *,
    corner: str = "",
    focus: int | None = None,
    tint: bool = False,
    row_sums: bool = False,
    cell: Callable[[int, int | None, float], Text] | None = None,
    grid: bool = False,
    pad: int = 1,
) -> tuple[Matrix, Text | None]:
    """A labelled matrix, cut with … rows/columns to fit the view.

    Returns (table, note): the note says how much was cut and how to see it all (None if nothing was).

    A column label "K3 침대" is drawn as a two-line header (K3 over 침대), each line cut to fit.
    `cell(i, j, value)` draws a cell instead of the number (j None: the row sum); `grid` draws every
    cell in its own box, like the seed's ○/× mask; `pad` is the space either side of a value (0: compact).
    """
    n_rows, n_cols = matrix.shape
    label_w = min(LABEL_MAX + 4, max((cell_len(r) for r in row_labels), default=2))
    label_w = max(label_w, cell_len(corner))
    rows = list(range(n_rows)) if view.full else _shown(n_rows, MAX_ROWS, keep=focus)
    if cell is None:
        num_w = _num_width(matrix, view)
    else:
        num_w = max((cell_len(cell(i, j, matrix[i, j]).plain) for i in rows if i is not None
                     for j in range(n_cols)), default=1)
    heads = [_header(c) for c in col_labels]
    # the widest header sets the column width (at most HEADER_MAX): a long input's first 64 columns
    # and its last decide it, rather than measuring thousands of labels
    sample = heads if view.full or n_cols <= 64 else [*heads[:64], heads[-1]]
    widest = max((cell_len(line) for h in sample for line in h.split("\n")), default=1)
    col_w = max(num_w, min(HEADER_MAX, widest))
    sum_w = (len(view.num(1.0)) + 2) if row_sums else 0
    side = label_w + sum_w + (3 if grid else 0)  # a grid adds its two edges and the label's padding
    room = min(view.width, PANEL_WIDTH) - PANEL_CHROME - side - 1
    per = col_w + 1 + 2 * pad  # one value column with its padding and divider
    fewest = n_cols * per if n_cols <= 3 else 2 * per + 2 + 2 * pad  # two columns and the … between them
    if not view.full and not grid and room < fewest:
        col_w = num_w  # a narrow console: cut the headers to the numbers' width rather than crop a cell
    fit = _fit_columns(view, n_cols, side, col_w - 2 * (1 - pad))
    cols = _shown(n_cols, fit)

    def build(sums: bool, pad: int) -> Matrix:
        columns = [MatrixColumn(corner, "left", "bold", label_w)]
        for j in cols:
            head = "…" if j is None else "\n".join(short(line, col_w) for line in heads[j].split("\n"))
            columns.append(MatrixColumn(head, "right", "", 1 if j is None else col_w))
        if sums:
            columns.append(MatrixColumn("Σ", "right", "dim"))
        body: list[list[Text]] = []
        for i in rows:
            if i is None:
                body.append([Text("⋮"), *[Text("⋮" if j is not None else "") for j in cols],
                             *([Text("")] if sums else [])])
                continue
            row_max = int(np.argmax(matrix[i])) if tint else -1
            cells = [Text(short(row_labels[i], label_w), style="reverse" if i == focus else "")]
            for j in cols:
                if j is None:
                    cells.append(Text("…"))
                    continue
                value = matrix[i, j]
                if cell is not None:
                    cells.append(cell(i, j, value))
                    continue
                style = _tint(value, j == row_max) if tint else ""
                cells.append(Text(view.num(value), style=style))
            if sums:
                total = float(np.sum(matrix[i][np.isfinite(matrix[i])]))
                cells.append(Text(view.num(total)) if cell is None else cell(i, None, total))
            body.append(cells)
        return Matrix(columns, body, pad=pad, grid=grid)

    table = build(row_sums, pad)
    inside = min(view.width, PANEL_WIDTH) - PANEL_CHROME
    if not view.full and table.width > inside and row_sums:  # a narrow console: the Σ column goes first,
        table = build(False, pad)
    if not view.full and table.width > inside and pad and not grid:  # then the padding around values
        table = build(False, 0)
    cut = len(cols) < n_cols or len(rows) < n_rows
    note = Text(word("cut", view.lang).format(
        rows=sum(r is not None for r in rows), n_rows=n_rows, cols=sum(c is not None for c in cols),
        n_cols=n_cols), style="italic yellow")
    return table, note if cut else None


def _num_width(matrix: np.ndarray, view: View) -> int:
    """Widest `view.num` of any entry, from the extremes alone: a number's width grows with its size,
    so min and max (and any −∞/nan) decide it — O(1) formatting for a 4,096 × 4,096 matrix."""
    if matrix.size == 0:
        return 1
    lo, hi = float(np.min(matrix)), float(np.max(matrix))  # two passes, and all that is needed
    if np.isfinite(lo) and np.isfinite(hi):
        return max(len(view.num(lo)), len(view.num(hi)))
    finite = np.isfinite(matrix)
    values = [float(v) for v in np.unique(matrix[~finite])] if not finite.all() else []
    if finite.any():
        values += [float(np.min(matrix, where=finite, initial=np.inf)),
                   float(np.max(matrix, where=finite, initial=-np.inf))]
    return max(len(view.num(v)) for v in values)


def _header(label: str) -> str:
    """"K3 침대" → "K3\n침대" (index over token); other labels unchanged."""
    first, _, rest = label.partition(" ")
    return f"{first}\n{rest}" if rest and first[:1] in "QKVZ" and first[1:].isdigit() else label
