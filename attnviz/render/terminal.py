"""Terminal panels (rich): the self-attention pipeline as boxed steps joined by ↓, like the seed diagrams.

Every function returns rich renderables; printing is the CLI's job. Rows are queries, columns keys.
Every matrix is a Matrix, a renderable that writes its own segments; rich's Table (the small text tables)
and Columns are imported only by the views that use them, so the explain view does not pay for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, JustifyMethod, RenderableType, RenderResult
from rich.measure import Measurement
from rich.panel import Panel
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from ..attention import entropy
from ..tokens import visible
from ..trace import PAD, HeadTrace, Trace
from .text import caption, table_rows, title, word

if TYPE_CHECKING:  # annotations only: the explain path does not import the lessons, flash and block modules,
    # nor rich's Table and Columns (imported where they are used: a few ms, with fractions and decimal)
    from rich.table import Table

    from ..block import DecoderBlockTrace, EncoderBlockTrace, FlowStep, FlowTrace, NormTrace
    from ..flash import BlockStep, FlashWalk
    from ..lessons import ScaleLesson, SoftmaxSteps

STAGES = ("input", "qkv", "scores", "scaled", "softmax", "output", "all")
ARROW = Text("                ↓")
LABEL_MAX = 8  # widest token label (terminal cells) before it is cut with …
HEADER_MAX = 6  # widest column header (terminal cells): three Hangul syllables, six letters
MAX_ROWS = 12  # rows shown before a matrix is cut (unless --full)
MAX_LINES = 12  # focus-detail lines shown before they are cut (unless --full)
PANEL_CHROME = 4  # the panel's borders and padding
PANEL_WIDTH = 80  # panels are this wide (or the terminal's width, if narrower)
SUMMARY_LINES = 20  # per-query summary lines (long inputs) shown before they are cut (unless --full)
TOKEN_LINES = 4  # lines of token pieces (and of ids) shown before they are cut (unless --full)


@dataclass(frozen=True)
class View:
    """How to draw: language, number precision, console width, and whether to cut."""

    lang: str = "en"
    precision: int = 2
    width: int = 80
    full: bool = False

    def num(self, value: float) -> str:
        """A number at the view's precision; −∞ for hidden cells, no "-0.00"."""
        if value == -np.inf:
            return "−∞"
        text = f"{value:.{self.precision}f}"
        return text[1:] if text.startswith("-") and float(text) == 0 else text


def short(label: str, limit: int = LABEL_MAX) -> str:
    """Cut a label to `limit` terminal cells, marking the cut with …"""
    if cell_len(label) <= limit:
        return label
    out = ""
    for ch in label:
        if cell_len(out + ch) > limit - 1:
            break
        out += ch
    return out + "…"


def _panel(stage: str, body: RenderableType, view: View, subtitle: str | None = None, **fmt) -> Panel:
    """A ┌─┐ box titled like the seed diagrams ([Softmax]); one width for every panel.

    `fmt` fills placeholders in the title ("Self-Attention × {h} heads"). Title and subtitle are Text, drawn
    as written: a token in them is not read as console markup or :emoji: (nor is rich's emoji table loaded)."""
    name = title(stage, view.lang).format(**fmt) if fmt else title(stage, view.lang)
    return Panel(body, title=Text(f"[{name}]"), title_align="left", box=box.SQUARE,
                 expand=not view.full, width=None if view.full else min(view.width, PANEL_WIDTH),
                 subtitle=None if subtitle is None else Text(subtitle), subtitle_align="left")


def _shown(n: int, limit: int, keep: int | None = None) -> list[int | None]:
    """Indices to show out of n (None = a "…" gap), keeping index `keep` visible."""
    if n <= limit:
        return list(range(n))
    head = list(range(limit - 2))
    tail = n - 1 if keep is None or keep < limit - 2 else keep
    return [*head, None, tail]


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


def _joined(items: list[str], view: View, sep: str = " | ", lines: int = TOKEN_LINES) -> str:
    """items joined by `sep`, cut (unless --full) after about `lines` lines of the panel, with "… N more"."""
    room = lines * (min(view.width, PANEL_WIDTH) - PANEL_CHROME) - cell_len(word("more", view.lang)) - 4
    out, used = [], 0
    for n, item in enumerate(items):
        used += cell_len(item) + len(sep)
        if not view.full and used > room:
            return sep.join(out) + " " + word("more", view.lang).format(n=len(items) - n)
        out.append(item)
    return sep.join(out)


def _header(label: str) -> str:
    """"K3 침대" → "K3\n침대" (index over token); other labels unchanged."""
    first, _, rest = label.partition(" ")
    return f"{first}\n{rest}" if rest and first[:1] in "QKVZ" and first[1:].isdigit() else label


def _tint(weight: float, is_max: bool) -> Style:
    """Background shade for a softmax cell: stronger blue for a larger weight, readable on light
    and dark terminals (white text on a blue that darkens as the weight grows)."""
    if not np.isfinite(weight) or weight < 0.005:
        return Style(dim=True)
    w = float(min(max(weight, 0.0), 1.0)) ** 0.6
    lo, hi = (150, 180, 225), (20, 60, 170)
    r, g, b = (round(a + (c - a) * w) for a, c in zip(lo, hi))
    return Style(bgcolor=f"rgb({r},{g},{b})", color="#ffffff" if w > 0.45 else "#000000", bold=is_max)


def _labels(tokens) -> list[str]:
    return [t.label for t in tokens]


def _indexed(prefix: str, tokens) -> list[str]:
    return [f"{prefix}{i + 1} {t.label}" for i, t in enumerate(tokens)]


def _line_rows(n: int, view: View, keep: int | None = None) -> list[int | None]:
    """Which of n detail lines `_lines` keeps (None = the ⋮ line): build only those on long inputs."""
    if view.full or n <= MAX_LINES:
        return list(range(n))
    if keep is None or keep < MAX_LINES - 2:
        return [*range(MAX_LINES - 1), None]
    return [*range(MAX_LINES - 2), None, keep]


def _some_lines(make: Callable[[int], Text], n: int, view: View, keep: int | None = None) -> list[Text]:
    """`_lines([make(j) for j in range(n)], view, keep)` without making the lines that are cut."""
    return [Text("⋮") if j is None else make(j) for j in _line_rows(n, view, keep)]


def _lines(items: list[Text], view: View, keep: int | None = None) -> list[Text]:
    """Cut a list of detail lines to MAX_LINES (unless --full) with a ⋮ line, keeping line `keep`."""
    if view.full or len(items) <= MAX_LINES:
        return items
    if keep is None or keep < MAX_LINES - 2:
        return [*items[: MAX_LINES - 1], Text("⋮")]
    return [*items[: MAX_LINES - 2], Text("⋮"), items[keep]]


def _printable(text: str, view: View, limit: int = 400) -> str:
    """The input text safe for a terminal (control characters shown, not obeyed), cut unless --full."""
    if not view.full and len(text) > limit:
        text = text[:limit] + "…"
    return "".join(ch if ch == " " or ch.isprintable() else visible(ch) for ch in text)


# --- the stages --------------------------------------------------------------------------------

def input_panels(trace: Trace, view: View) -> list[RenderableType]:
    """[Input] the sentence → [Tokens] the pieces with ids → [X = E + P] the input matrix."""
    toks = trace.query_tokens
    text = Text(f'"{_printable(trace.text, view)}"' if trace.text else " ".join(f'"{t.label}"' for t in toks))
    pieces = Text(_joined([t.label for t in toks], view))
    ids = [t.id for t in toks]
    body = [pieces, Text(f"{len(toks)} {word('token', view.lang)}" + ("s" if view.lang == "en" else ""),
                         style="dim")]
    if all(i is not None for i in ids):
        body.append(Text("ids: " + _joined([str(i) for i in ids], view, sep=" ", lines=1), style="dim"))
    labels = _indexed("", toks)
    dims = [f"d{j + 1}" for j in range(trace.d_model)]
    tables = []
    for name, mat in (("E", trace.embeddings), ("P", trace.positions), ("X = E + P", trace.x)):
        table, cut = matrix_table(mat, labels, dims, view, corner=name)
        tables.append(table)
    x_body = Group(Text(caption("x", view.lang), style="italic"), *tables)
    return [
        _panel("input", text, view), ARROW,
        _panel("tokens", Group(*body), view), ARROW,
        _panel("x", x_body, view, subtitle=f"T × d_model = {len(toks)} × {trace.d_model}"),
    ]


def qkv_panel(trace: Trace, head: HeadTrace, view: View) -> Panel:
    """[Query/Key/Value] token → Qi, Ki, Vi, then the Q, K, V matrices."""
    toks = trace.query_tokens
    width = max(cell_len(f'"{t.label}"') for t in toks)
    mapping = [Text(f'"{t.label}"' + " " * (width - cell_len(f'"{t.label}"')) + f" → Q{i + 1}, K{i + 1}, V{i + 1}")
               for i, t in enumerate(toks)]
    parts: list[RenderableType] = [Text(caption("qkv", view.lang), style="italic"), *_lines(mapping, view)]
    for name, mat, prefix in (("Q = X·W_Q", head.q, "Q"), ("K = X·W_K", head.k, "K"), ("V = X·W_V", head.v, "V")):
        dims = [f"d{j + 1}" for j in range(mat.shape[1])]
        table, _ = matrix_table(mat, _indexed(prefix, trace.key_tokens if prefix != "Q" else toks), dims, view,
                                corner=name)
        parts.append(table)
    sub = f"d_model = {trace.d_model} → d_k = {trace.d_k}, d_v = {trace.d_v}"
    return _panel("qkv", Group(*parts), view, subtitle=sub)


def scores_panel(trace: Trace, head: HeadTrace, focus: int, view: View) -> Panel:
    """[Query · Key] the score matrix, and for the focus query: Qf · Kj → score ← token · token."""
    q_toks, k_toks = trace.query_tokens, trace.key_tokens
    table, cut = matrix_table(head.scores, _indexed("Q", q_toks), _indexed("K", k_toks), view,
                              corner="Q·Kᵀ", focus=focus)
    row = head.scores[focus]
    width = _num_width(row[None, :], view)
    k_w = len(str(len(k_toks)))
    lines = _some_lines(lambda j: Text(f"Q{focus + 1} · K{j + 1:<{k_w}} → {view.num(row[j]):>{width}} ← "
                                       f"{q_toks[focus].label} · {k_toks[j].label}"), len(row), view)
    parts = [Text(caption("scores", view.lang), style="italic"), table, *lines]
    if cut:
        parts.append(cut)
    return _panel("scores", Group(*parts), view)


def scaled_panel(trace: Trace, head: HeadTrace, focus: int, view: View) -> Panel:
    """[Scaled] scores ÷ √d_k, with √d_k's value, and the focus row worked out."""
    root = float(np.sqrt(trace.d_k))
    table, cut = matrix_table(head.scaled if head.masked is None else head.masked,
                              _indexed("Q", trace.query_tokens), _indexed("K", trace.key_tokens), view,
                              corner="÷ √d_k", focus=focus)
    row_s, row_c = head.scores[focus], head.scaled[focus]
    s_w, c_w = _num_width(row_s[None, :], view), _num_width(row_c[None, :], view)
    k_w = len(str(len(row_s)))
    lines = _some_lines(lambda j: Text(f"Q{focus + 1} · K{j + 1:<{k_w}}: {view.num(row_s[j]):>{s_w}} ÷ "
                                       f"{view.num(root)} = {view.num(row_c[j]):>{c_w}}"), len(row_s), view)
    head_line = Text(f"√d_k = √{trace.d_k} = {root:.{max(view.precision, 2)}f}", style="bold")
    parts = [Text(caption("scaled", view.lang), style="italic"), head_line, table, *lines]
    if cut:
        parts.append(cut)
    return _panel("scaled", Group(*parts), view)


def softmax_panel(trace: Trace, head: HeadTrace, focus: int, view: View) -> Panel:
    """[Softmax] tinted probability rows with their sums, and the focus row as in the seed:
    고양이 → 잔다: (0.48) ← most attended."""
    q_toks, k_toks = trace.query_tokens, trace.key_tokens
    table, cut = matrix_table(head.weights, _indexed("Q", q_toks), _indexed("K", k_toks), view,
                              corner="softmax", focus=focus, tint=True, row_sums=True)
    row = head.weights[focus]
    best = int(np.argmax(row))
    visible = np.ones_like(row, dtype=bool) if head.mask is None else head.mask[focus]

    def make(j: int) -> Text:
        if not visible[j]:
            return Text(f"{q_toks[focus].label} → {k_toks[j].label}: (0)  ×", style="dim")
        line = Text(f"{q_toks[focus].label} → {k_toks[j].label}: ({view.num(row[j])})")
        if j == best:
            line.append(f" ← {word('most', view.lang)}", style="bold")
            line.stylize("bold")
        return line

    focus_head = Text(f"{word('focus', view.lang)} Q{focus + 1} = {q_toks[focus].label}  "
                      f"({word('entropy', view.lang)} {entropy(row):.{view.precision}f} nats)", style="bold")
    parts = [Text(caption("softmax", view.lang), style="italic"), table, focus_head,
             *_some_lines(make, len(row), view, keep=best)]
    if len(q_toks) > MAX_ROWS:  # a long input: one summary line per query
        parts += summary_lines(trace, head, focus, view)
    if cut:
        parts.append(cut)
    return _panel("softmax", Group(*parts), view)


def summary_lines(trace: Trace, head: HeadTrace, focus: int, view: View) -> list[Text]:
    """For each query (cut with ⋮ beyond SUMMARY_LINES unless --full, the focus kept): its most
    attended key, that weight and the row's entropy — "Q12 잔다  → K6 .  0.48  H 1.23"."""
    n = len(trace.query_tokens)
    rows = list(range(n)) if view.full else _shown(n, SUMMARY_LINES, keep=focus)
    q_w, k_w = len(str(n)), len(str(len(trace.key_tokens)))
    out = [Text(word("summary", view.lang), style="bold")]
    for i in rows:
        if i is None:
            out.append(Text("⋮"))
            continue
        row = head.weights[i]
        best = int(np.argmax(row))
        q_label = short(trace.query_tokens[i].label, LABEL_MAX)
        k_label = short(trace.key_tokens[best].label, LABEL_MAX)
        q_cell = f"Q{i + 1:<{q_w}} {q_label}" + " " * (LABEL_MAX - cell_len(q_label))
        k_cell = f"K{best + 1:<{k_w}} {k_label}" + " " * (LABEL_MAX - cell_len(k_label))
        out.append(Text(f"{q_cell} → {k_cell} {view.num(float(row[best]))}  H {view.num(float(entropy(row)))}",
                        style="reverse" if i == focus else ""))
    return out


def output_panel(trace: Trace, head: HeadTrace, focus: int, view: View) -> Panel:
    """[Weighted sum] context = 0.32 × V1 + 0.02 × V2 + … = [ … ], and the output matrix.

    A row longer than MAX_LINES (unless --full) lists its largest weights first, then one line for
    the rest: how many terms, and what their weights add up to."""
    row = head.weights[focus]
    label = f"{word('context', view.lang)} Q{focus + 1} ({trace.query_tokens[focus].label}) ="
    if view.full or len(row) <= MAX_LINES:
        terms = [Text(f"{view.num(row[j])} × V{j + 1}" + (" +" if j < len(row) - 1 else "")) for j in range(len(row))]
    else:
        top = np.argsort(-row, kind="stable")[: MAX_LINES - 1]  # largest first; ties in key order
        keys = trace.key_tokens
        terms = [Text(f"{view.num(row[j])} × V{j + 1} ({short(keys[j].label)}) +") for j in top]
        rest = float(np.sum(row) - np.sum(row[top]))
        terms.append(Text(word("ctx_rest", view.lang).format(n=len(row) - len(top), rest=view.num(rest)),
                          style="dim"))
        label += f"  ({word('ctx_largest', view.lang).format(n=len(top))})"
    vec = "[" + ", ".join(view.num(v) for v in head.output[focus]) + "]"
    dims = [f"d{j + 1}" for j in range(head.output.shape[1])]
    table, _ = matrix_table(head.output, _indexed("Z", trace.query_tokens), dims, view, corner="softmax·V",
                            focus=focus)
    parts = [Text(caption("output", view.lang), style="italic"), Text(label, style="bold"),
             *terms, Text(f"= {vec}", style="bold"), table]
    return _panel("output", Group(*parts), view, subtitle=f"T × d_v = {head.output.shape[0]} × {head.output.shape[1]}")


def next_panels(trace: Trace, focus: int, view: View) -> list[RenderableType]:
    """[concat·W_O] when the layer has W_O, then [Passed to the next layer]."""
    out: list[RenderableType] = []
    if trace.output is not None:
        dims = [f"d{j + 1}" for j in range(trace.output.shape[1])]
        table, _ = matrix_table(trace.output, _indexed("", trace.query_tokens), dims, view,
                                corner="concat·W_O", focus=focus)
        shape = (f"({trace.concat.shape[0]} × {trace.concat.shape[1]}) · "
                 f"({trace.concat.shape[1]} × {trace.d_model}) → {trace.output.shape[0]} × {trace.d_model}")
        out += [ARROW, _panel("projected", Group(Text(caption("projected", view.lang), style="italic"),
                                                 Text(shape, style="dim"), table), view)]
    out += [ARROW, _panel("next", Text(caption("next", view.lang)), view)]
    return out


def explain_view(trace: Trace, *, stage: str = "all", focus: int = 0, head: int = 0,
                 view: View | None = None) -> Group:
    """The pipeline (or one stage of it) for one head and one focus query."""
    view = view or View()
    hd = trace.heads[head]
    parts: list[RenderableType] = []
    if trace.n_heads > 1:
        parts.append(Text(word("head_of", view.lang).format(head=head + 1, heads=trace.n_heads), style="bold"))
    builders = {
        "input": lambda: input_panels(trace, view),
        "qkv": lambda: [qkv_panel(trace, hd, view)],
        "scores": lambda: [scores_panel(trace, hd, focus, view)],
        "scaled": lambda: [scaled_panel(trace, hd, focus, view)],
        "softmax": lambda: [softmax_panel(trace, hd, focus, view)],
        "output": lambda: [output_panel(trace, hd, focus, view), *next_panels(trace, focus, view)],
    }
    if stage == "all":
        for i, key in enumerate(("input", "qkv", "scores", "scaled", "softmax", "output")):
            if i:
                parts.append(ARROW)
            parts.extend(builders[key]())
    else:
        parts.extend(builders[stage]())
    return Group(*parts)


# --- more views: mask, heads, split, cross, scale, softmax -------------------------------------

CROSS_ARROWS = Text("                ↑\n        [Cross-Attention]\n                ↓", style="bold")
COMPACT_LABEL = 5  # widest label (terminal cells) in the heads view's small grids
SEED_SCORES = (10.5, 2.3, 6.1, 4.4, 9.7)  # the seed's Q1 · K1 … Q1 · K5 for 고양이
SEED_WEIGHTS = (0.32, 0.02, 0.12, 0.06, 0.48)  # the seed's illustrative attention scores for them


def _note(key: str, view: View, **fmt) -> Text:
    """A caption line (italic), filled in with `fmt`."""
    text = caption(key, view.lang)
    return Text(text.format(**fmt) if fmt else text, style="italic")


def _small_table(rows: tuple[tuple[str, ...], ...], view: View) -> RenderableType:
    """A small comparison table (the seed's markdown tables): header row, then text rows that wrap.

    On a narrow console each row becomes a bold name followed by "header: text" lines instead."""
    from rich.table import Table

    if view.full or min(view.width, PANEL_WIDTH) >= 70:
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), show_edge=False)
        for k, head in enumerate(rows[0]):
            table.add_column(head, style="bold" if k == 0 else "")
        for row in rows[1:]:
            table.add_row(*row)
        return table
    lines: list[Text] = []
    for row in rows[1:]:
        lines.append(Text(row[0], style="bold"))
        lines += [Text(f"  {head}: {text}") for head, text in zip(rows[0][1:], row[1:])]
    return Group(*lines)


def _is_pad(token) -> bool:
    return token.special and token.label == PAD


def _visible(trace: Trace, head: int) -> np.ndarray:
    """(T, S) bool, True = may attend (all True without a mask)."""
    hd = trace.heads[head]
    return np.ones(hd.weights.shape, dtype=bool) if hd.mask is None else hd.mask


def _key_list(keys: list[int]) -> str:
    """[4, 5, 6, 7] → "K5, V5, K6, V6, …, K8, V8" (0-based indices in, 1-based names out)."""
    names = [f"K{j + 1}, V{j + 1}" for j in keys]
    return ", ".join(names if len(names) <= 3 else [*names[:2], "…", names[-1]])


def mask_grid(trace: Trace, *, head: int = 0, view: View, focus: int | None = None) -> tuple[Matrix, Text | None]:
    """The seed's ○/× grid: rows queries, columns keys, ○ = may attend, × = hidden."""
    mask = _visible(trace, head)

    def cell(i: int, j: int | None, value: float) -> Text:
        return Text("○", justify="center") if value else Text("×", style="dim", justify="center")

    return matrix_table(mask.astype(float), _indexed("Q", trace.query_tokens), _indexed("K", trace.key_tokens),
                        view, corner="Q ╲ K", focus=focus, cell=cell, grid=True)


def _masked_weight_cell(weights: np.ndarray, mask: np.ndarray, view: View) -> Callable:
    """Draw a softmax cell: hidden → a dim 0, visible → the tinted weight; Σ → "—" for a row with
    no visible key."""
    best = np.argmax(np.where(mask, weights, -1.0), axis=1)  # (T,) most attended visible key

    def cell(i: int, j: int | None, value: float) -> Text:
        if j is None:
            return Text(view.num(value) if mask[i].any() else "—", style="dim")
        if not mask[i, j]:
            return Text("0", style="dim")
        return Text(view.num(value), style=_tint(value, j == best[i]))

    return cell


def _mask_softmax_table(trace: Trace, head: int, focus: int | None, view: View) -> list[RenderableType]:
    """The softmax table with hidden cells as 0 and Σ of the visible keys, then one line per query
    whose every key is hidden."""
    hd = trace.heads[head]
    mask = _visible(trace, head)
    table, cut = matrix_table(hd.weights, _indexed("Q", trace.query_tokens), _indexed("K", trace.key_tokens),
                              view, corner="softmax", focus=focus, row_sums=True,
                              cell=_masked_weight_cell(hd.weights, mask, view))
    empty = [Text(f"Q{i + 1} {trace.query_tokens[i].label} {word('all_hidden', view.lang)}", style="yellow")
             for i in range(len(mask)) if not mask[i].any()]
    return [table, *([cut] if cut else []), *_lines(empty, view)]


def _mask_kind(trace: Trace, head: int) -> str:
    if trace.heads[head].mask is None:
        return "mask_none"
    padded = any(_is_pad(t) for t in trace.key_tokens)
    return "mask_both" if padded and trace.causal else "mask_padding" if padded else "mask_causal"


def _mask_focus_lines(trace: Trace, head: int, focus: int, view: View) -> list[Text]:
    """The seed's Masked Self-Attention box: Q4 · K1 → 5.10 ← 에서 · <BOS>, then which keys are out."""
    hd = trace.heads[head]
    mask = _visible(trace, head)[focus]
    q_toks, k_toks = trace.query_tokens, trace.key_tokens
    label = q_toks[focus].label
    out = [Text(word("focus_scaled", view.lang).format(q=focus + 1, label=label), style="bold")]
    if not mask.any():
        return [*out, Text(f"Q{focus + 1} {label} {word('all_hidden', view.lang)}", style="yellow")]
    seen = [j for j in range(len(mask)) if mask[j]]
    width = max(len(view.num(hd.scaled[focus, j])) for j in seen)
    k_w = len(str(len(k_toks)))
    lines = [Text(f"Q{focus + 1} · K{j + 1:<{k_w}} → {view.num(hd.scaled[focus, j]):>{width}} ← "
                  f"{label} · {k_toks[j].label}") for j in seen]
    out += _lines(lines, view)
    hidden = [j for j in range(len(mask)) if not mask[j]]
    if hidden:
        out.append(Text(word("masked_out", view.lang).format(keys=_key_list(hidden)), style="dim"))
    return out


def _no_mask_panel(compare: Trace, head: int, focus: int, view: View) -> Panel:
    """The encoder's side: every cell ○, softmax over every key."""
    grid, cut = mask_grid(compare, head=head, view=view, focus=focus)
    table, cut2 = matrix_table(compare.heads[head].weights, _indexed("Q", compare.query_tokens),
                               _indexed("K", compare.key_tokens), view, corner="softmax", focus=focus,
                               tint=True, row_sums=True)
    parts = [_note("mask_none", view), grid, *([cut] if cut else []), table, *([cut2] if cut2 else [])]
    return _panel("mask_none", Group(*parts), view, subtitle=word("may_attend", view.lang))


def mask_view(trace: Trace, *, focus: int = 0, head: int = 0, view: View, compare: Trace | None = None) -> Group:
    """Masking as in the seed: the ○/× grid, the scores with −∞, softmax rows with exact zeros,
    the focus query's visible keys, and what the mask is for (BERT vs GPT, padding).

    `compare`: the same tokens with no mask (an encoder), drawn first so the difference shows.
    """
    kind = _mask_kind(trace, head)
    hd = trace.heads[head]
    parts: list[RenderableType] = []
    if trace.n_heads > 1:
        parts.append(Text(word("head_of", view.lang).format(head=head + 1, heads=trace.n_heads), style="bold"))
    if compare is not None:
        c_focus = min(focus, len(compare.query_tokens) - 1)
        parts += [_no_mask_panel(compare, head, c_focus, view), Text("")]
    grid, cut = mask_grid(trace, head=head, view=view, focus=focus)
    parts.append(_panel(kind, Group(_note("mask_grid", view), grid, *([cut] if cut else [])), view,
                        subtitle=word("may_attend", view.lang)))
    table, cut = matrix_table(hd.scaled if hd.masked is None else hd.masked, _indexed("Q", trace.query_tokens),
                              _indexed("K", trace.key_tokens), view, corner="÷ √d_k", focus=focus)
    scores = [_note("masked", view), table, *([cut] if cut else []), *_mask_focus_lines(trace, head, focus, view)]
    parts += [ARROW, _panel("masked", Group(*scores), view), ARROW]
    weights = _mask_softmax_table(trace, head, focus, view)
    parts.append(_panel("mask_softmax", Group(_note("mask_softmax", view), *weights,
                                              *_softmax_focus_lines(trace, head, focus, view)), view))
    why: list[RenderableType] = []
    if kind in ("mask_causal", "mask_both", "mask_none"):
        why += [_note("mask_causal", view), _small_table(table_rows("mask_models", view.lang), view)]
    if compare is not None:
        why += [Text(""), _small_table(table_rows("encoder_decoder", view.lang), view)]
    if kind in ("mask_padding", "mask_both"):
        why += [Text(""), _note("mask_padding", view)] if why else [_note("mask_padding", view)]
    parts += [Text(""), _panel("mask_why", Group(*why), view)]
    return Group(*parts)


def _softmax_focus_lines(trace: Trace, head: int, focus: int, view: View) -> list[Text]:
    """고양이 → 잔다: (0.48) ← most attended; a hidden key as (0) ×."""
    hd = trace.heads[head]
    mask = _visible(trace, head)[focus]
    q_toks, k_toks = trace.query_tokens, trace.key_tokens
    if not mask.any():
        return []
    row = hd.weights[focus]
    best = int(np.argmax(np.where(mask, row, -1.0)))
    lines = []
    for j, w in enumerate(row):
        if not mask[j]:
            lines.append(Text(f"{q_toks[focus].label} → {k_toks[j].label}: (0)  ×", style="dim"))
            continue
        line = Text(f"{q_toks[focus].label} → {k_toks[j].label}: ({view.num(w)})")
        if j == best:
            line.append(f" ← {word('most', view.lang)}")
            line.stylize("bold")
        lines.append(line)
    return [Text(f"{word('focus', view.lang)} Q{focus + 1}", style="bold"), *_lines(lines, view, keep=best)]


def _compact_grid(trace: Trace, head: int, focus: int, view: View) -> tuple[Group, Text | None]:
    """One head's softmax as a small tinted grid titled "Head i" (labels cut short, no padding)."""
    hd = trace.heads[head]
    rows = [short(t.label, COMPACT_LABEL) for t in trace.query_tokens]
    cols = [f"{j + 1}\n{short(t.label, COMPACT_LABEL - 1)}" for j, t in enumerate(trace.key_tokens)]
    cell = _masked_weight_cell(hd.weights, _visible(trace, head), view)
    table, cut = matrix_table(hd.weights, rows, cols, view, focus=focus, cell=cell, pad=0)
    return Group(Text(f"Head {head + 1}", style="bold"), table), cut


def _best_line(trace: Trace, head: int, focus: int, view: View) -> Text:
    """Head 2: 고양이 → 잔다 (0.61)"""
    row = trace.heads[head].weights[focus]
    mask = _visible(trace, head)[focus]
    label = trace.query_tokens[focus].label
    if not mask.any():
        return Text(f"Head {head + 1}: {label} {word('all_hidden', view.lang)}")
    best = int(np.argmax(np.where(mask, row, -1.0)))
    return Text(f"Head {head + 1}: {label} → {trace.key_tokens[best].label} ({view.num(row[best])})")


def heads_view(trace: Trace, *, focus: int = 0, view: View) -> Group:
    """Multi-head attention as in the seed: [Self-Attention × h] each head's softmax side by side,
    the focus query's most attended key per head, ↓ [Concat] (T × h·d_v), ↓ [Linear] W_O (T × d_model)."""
    from rich.columns import Columns

    h = trace.n_heads
    grids = [_compact_grid(trace, i, focus, view) for i in range(h)]
    cut = grids[0][1]
    best = [_best_line(trace, i, focus, view) for i in range(h)]
    label = trace.query_tokens[focus].label
    body = Group(_note("heads", view), Columns([g for g, _ in grids], padding=(1, 3)), *([cut] if cut else []),
                 Text(""),
                 Text(word("most_per_head", view.lang).format(q=focus + 1, label=label), style="bold"),
                 *_lines(best, view))
    parts: list[RenderableType] = [_panel("heads", body, view, h=h), ARROW]
    d_v = trace.heads[0].output.shape[1]
    cols = [f"H{i + 1}\nd{j + 1}" for i in range(h) for j in range(d_v)]
    table, cut = matrix_table(trace.concat, _indexed("", trace.query_tokens), cols, view, corner="concat",
                              focus=focus)
    span = "concat_cols" if d_v > 1 else "concat_col"
    origin = Text(" · ".join(word(span, view.lang).format(a=i * d_v + 1, b=(i + 1) * d_v, h=i + 1)
                             for i in range(h)), style="dim")
    shape = f"T × h·d_v = {trace.concat.shape[0]} × {h}·{d_v} = {trace.concat.shape[0]} × {trace.concat.shape[1]}"
    parts.append(_panel("concat", Group(_note("concat", view), origin, table, *([cut] if cut else [])), view,
                        subtitle=shape))
    parts += next_panels(trace, focus, view)
    return Group(*parts)


def _fmt_diff(value: float) -> str:
    return f"{value:.1e}"


def split_view(merged: Trace, separate: Trace, *, view: View) -> Group:
    """Seed 000's two ways to build per-head Q/K/V, with their shapes, and the largest difference
    between the two traces' weights and outputs, head by head (equal up to float rounding)."""
    from rich.table import Table

    h, t, d_k, d_model = merged.n_heads, len(merged.query_tokens), merged.d_k, merged.d_model
    fmt = dict(d_model=d_model, hd=h * d_k, t=t, h=h, d_k=d_k)
    ways = tuple(tuple(c.format(**fmt) for c in row) for row in table_rows("split_ways", view.lang))
    parts: list[RenderableType] = [_panel("split", Group(
        _note("split_merged", view), _note("split_separate", view), Text(""), _small_table(ways, view), Text(""),
        _note("split_same", view)), view), ARROW]
    diff = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), show_edge=False)
    diff.add_column("", style="bold", no_wrap=True)
    diff.add_column(f"{word('max_diff', view.lang)}\n{word('weights_diff', view.lang)}", justify="right",
                    no_wrap=True)
    diff.add_column(f"{word('max_diff', view.lang)}\n{word('output_diff', view.lang)}", justify="right",
                    no_wrap=True)
    worst = 0.0
    for i, (a, b) in enumerate(zip(merged.heads, separate.heads)):
        dw, do = float(np.max(np.abs(a.weights - b.weights))), float(np.max(np.abs(a.output - b.output)))
        worst = max(worst, dw, do)
        diff.add_row(f"Head {i + 1}", _fmt_diff(dw), _fmt_diff(do))
    dc = float(np.max(np.abs(merged.concat - separate.concat)))
    diff.add_row(word("concat_row", view.lang), "", _fmt_diff(dc))
    worst = max(worst, dc)
    if merged.output is not None and separate.output is not None:
        dout = float(np.max(np.abs(merged.output - separate.output)))
        diff.add_row(word("final_row", view.lang), "", _fmt_diff(dout))
        worst = max(worst, dout)
    verdict = Text(f"{caption('split_equal', view.lang)} {word('max_diff', view.lang)} = {_fmt_diff(worst)}",
                   style="bold")
    parts.append(_panel("split_diff", Group(diff, Text(""), verdict), view))
    return Group(*parts)


def _token_map(tokens, names: str, view: View) -> list[Text]:
    """"고양이" → K1, V1 (names "KV") or "<BOS>" → Q1 (names "Q"), one line per token, cut to fit."""
    width = max(cell_len(f'"{t.label}"') for t in tokens)
    return _lines([Text(f'"{t.label}"' + " " * (width - cell_len(f'"{t.label}"')) + " → "
                        + ", ".join(f"{n}{i + 1}" for n in names)) for i, t in enumerate(tokens)], view)


def patch_grid_table(trace: Trace, *, focus: int = 0, head: int = 0, view: View) -> tuple[Matrix, Text | None]:
    """The focus query's weight on each image patch, laid out as the image's rows × cols grid."""
    rows, cols = trace.patch_grid
    grid = trace.heads[head].weights[focus].reshape(rows, cols)  # (rows, cols), patch_1 top-left
    best = divmod(int(np.argmax(grid)), cols)

    def cell(i: int, j: int | None, value: float) -> Text:
        if j is None:
            return Text(view.num(value))
        return Text(view.num(value), style=_tint(value, (i, j) == best))

    return matrix_table(grid, [word("row_n", view.lang).format(n=r + 1) for r in range(rows)],
                        [word("col_n", view.lang).format(n=c + 1) for c in range(cols)], view,
                        corner=f"Q{focus + 1}", cell=cell)


def cross_view(trace: Trace, *, focus: int = 0, head: int = 0, view: View) -> Group:
    """Cross-attention as in the seed: [Encoder output] → [Key / Value] ↑ [Cross-Attention] ↓
    [Decoder input] → Q·K → softmax (rows decoder tokens, columns source tokens) → weighted sum,
    the patch grid when the keys are image patches, and the self- vs cross-attention table."""
    hd = trace.heads[head]
    parts: list[RenderableType] = []
    if trace.n_heads > 1:
        parts.append(Text(word("head_of", view.lang).format(head=head + 1, heads=trace.n_heads), style="bold"))
    if trace.patch_grid is not None:
        rows, cols = trace.patch_grid
        path = trace.image_path or trace.text
        parts += [_panel("image_input", Text(_printable(path, view)), view), ARROW,
                  _panel("vision", Text(word("vision_steps", view.lang).format(rows=rows, cols=cols, n=rows * cols,
                                                                                 d=trace.d_model)), view), ARROW,
                  _panel("image_kv", Group(*_token_map(trace.key_tokens, "KV", view)), view,
                         subtitle=f"S = {len(trace.key_tokens)}")]
    else:
        source = Text(" ".join(f'"{t.label}"' for t in trace.key_tokens))
        parts += [_panel("encoder_output", Group(_note("encoder_output", view), source), view), ARROW,
                  _panel("kv", Group(_note("kv", view), *_token_map(trace.key_tokens, "KV", view)), view)]
    parts += [CROSS_ARROWS,
              _panel("decoder_input", Group(_note("decoder_input", view),
                                            *_token_map(trace.query_tokens, "Q", view)), view),
              ARROW, scores_panel(trace, hd, focus, view), ARROW, scaled_panel(trace, hd, focus, view), ARROW,
              softmax_panel(trace, hd, focus, view)]
    if trace.patch_grid is not None:
        rows, cols = trace.patch_grid
        table, cut = patch_grid_table(trace, focus=focus, head=head, view=view)
        parts += [Text(""), _panel("patch_grid", Group(_note("vision", view, rows=rows, cols=cols),
                                                _note("patch_grid", view, q=focus + 1), table,
                                                *([cut] if cut else [])), view,
                            subtitle=word("n_patches", view.lang).format(rows=rows, cols=cols, n=rows * cols))]
    parts += [ARROW, output_panel(trace, hd, focus, view), *next_panels(trace, focus, view)]
    compare: list[RenderableType] = [_small_table(table_rows("cross_vs_self", view.lang), view)]
    if trace.patch_grid is not None:
        compare.append(_note("multimodal", view))
    parts += [Text(""), _panel("cross_vs_self", Group(*compare), view)]
    return Group(*parts)


def scale_view(lesson: ScaleLesson, *, view: View) -> Group:
    """Why √d_k (seeds 000/002): per d_k, the spread of q·k with and without scaling, the mean
    largest softmax weight and the mean entropy, against the most possible entropy log n."""
    cols = ["√d_k", "std\nq·k", "std\n÷√d_k", "max w\nraw", "max w\n÷√d_k", "H\nraw", "H\n÷√d_k"]
    matrix = np.array([[np.sqrt(r.d_k), r.std_dot, r.std_scaled, r.max_weight_raw, r.max_weight_scaled,
                        r.entropy_raw, r.entropy_scaled] for r in lesson.rows])  # (rows, 7)

    def cell(i: int, j: int | None, value: float) -> Text:
        style = _tint(value, False) if j in (3, 4) else "bold" if j == 2 else ""
        return Text(view.num(value), style=style)

    table, cut = matrix_table(matrix, [str(r.d_k) for r in lesson.rows], cols, view, corner="d_k", cell=cell)
    log_n = float(np.log(lesson.n_keys))
    body = [_note("scale", view), Text(""), table, *([cut] if cut else []),
            Text(word("scale_setup", view.lang).format(rows=lesson.n_rows, keys=lesson.n_keys, seed=lesson.seed),
                 style="dim"),
            Text(word("scale_legend", view.lang).format(n=lesson.n_keys, log_n=view.num(log_n)), style="dim")]
    return Group(_panel("scale", Group(*body), view))


def _fmt_step(value: float, view: View) -> str:
    """A softmax intermediate: the view's precision, or 1.2e-04 when that would print 0.00 for a
    non-zero number, or 1.2e+07 when it is very large."""
    if not np.isfinite(value):
        return view.num(value) if value == -np.inf else str(value)
    if value != 0 and (abs(value) < 0.5 * 10.0 ** -view.precision or abs(value) >= 1e6):
        return f"{value:.1e}"
    return view.num(value)


def softmax_view(steps: SoftmaxSteps, *, view: View) -> Group:
    """A row of scores turned into probabilities, every step in a table:
    score → ÷ (scale · temperature) → − max → exp → ÷ Σ exp."""
    from rich.table import Table

    n = len(steps.scores)
    div = steps.scale * steps.temperature
    best = int(np.argmax(steps.probs))
    rows = list(range(n)) if view.full else _shown(n, MAX_ROWS, keep=best)
    heads = ["#", "score", *([f"÷ {div:g}"] if div != 1 else []), "− max", "exp", "÷ Σ"]
    cells = [[str(i + 1), _fmt_step(steps.scores[i], view),
              *([_fmt_step(steps.logits[i], view)] if div != 1 else []),
              _fmt_step(steps.shifted[i], view), _fmt_step(steps.exp[i], view), _fmt_step(steps.probs[i], view)]
             for i in rows if i is not None]
    widths = [max(cell_len(c) for c in col) for col in zip(heads, *cells)]
    mark = f"← {word('largest', view.lang)}"
    wide = view.full or sum(widths) + 3 * len(widths) + cell_len(mark) <= min(view.width, PANEL_WIDTH) - 4
    pad = 1 if wide else 0  # a narrow console: columns one space apart, the mark a bare ←
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, pad), show_edge=False)
    for k, head in enumerate(heads):
        table.add_column(head, justify="left" if k == 0 else "right", no_wrap=True, style="bold" if k == 0 else "")
    table.add_column("", no_wrap=True)
    shown = iter(cells)
    for i in rows:
        if i is None:
            table.add_row("⋮", *["⋮"] * (len(heads) - 1), "")
            continue
        row = next(shown)
        prob = Text(row[-1], style=_tint(steps.probs[i], i == best))
        table.add_row(*row[:-1], prob, Text(mark if wide else "←", style="bold") if i == best else "",
                      style="bold" if i == best else "")
    table.add_section()
    table.add_row("Σ", *[""] * (len(heads) - 3), _fmt_step(steps.total, view), view.num(float(steps.probs.sum())),
                  "")
    body: list[RenderableType] = [_note("softmax_steps", view), Text(""), table,
                                  Text(word("sum_exp", view.lang).format(total=_fmt_step(steps.total, view)),
                                       style="bold")]
    if not wide:
        body.append(Text(f"← = {word('largest', view.lang)}", style="dim"))
    if steps.scale != 1 or steps.temperature != 1:
        body.append(Text(word("divisor", view.lang).format(scale=f"{steps.scale:g}", temp=f"{steps.temperature:g}",
                                                           div=f"{div:g}"), style="italic"))
    if n == len(SEED_SCORES) and np.allclose(steps.scores, SEED_SCORES):
        seed = " / ".join(f"{w:.2f}" for w in SEED_WEIGHTS)
        real = " / ".join(view.num(p) for p in steps.probs)
        body.append(Text(word("seed_compare", view.lang).format(seed=seed, real=real), style="italic"))
    return Group(_panel("softmax_steps", Group(*body), view))


def layers_view(traces, *, focus: int = 0, view: View) -> Group:
    """Every layer × head of a real model, one line per head for the focus query: the most attended key,
    its weight, and the row's entropy (a terminal stand-in for bertviz's model view)."""
    from rich.table import Table

    first = traces[0]
    q_label = first.query_tokens[focus].label
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name, justify in (("layer", "right"), ("head", "right"), (word("most", view.lang), "left"),
                          (word("weight", view.lang), "right"), (word("entropy", view.lang), "right")):
        table.add_column(name, justify=justify, no_wrap=True)
    for tr in traces:
        layer = tr.model["layer"] if tr.model else 0
        for h, hd in enumerate(tr.heads):
            row = hd.weights[focus]
            best = int(np.argmax(row))
            table.add_row(str(layer), str(h + 1), short(tr.key_tokens[best].label, 16),
                          Text(view.num(row[best]), style=_tint(row[best], True)), view.num(entropy(row)))
    name = (first.model or {}).get("name", first.weights_source)
    head_line = Text(f"{name}: {word('focus', view.lang)} Q{focus + 1} = {q_label}", style="bold")
    return Group(_panel("layers", Group(head_line, table), view))


# --- flash: tiled attention walked block by block ---


FLASH_MAX_BLOCKS = 6  # key blocks walked through before the list is cut (unless --full); the last one always shows


def _flash_bytes(n: float) -> str:
    """1536 → "1.5 KiB", 4194304 → "4 MiB" (powers of 1024)."""
    unit = "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            break
        n /= 1024
    return f"{n:.0f} {unit}" if unit == "B" or n >= 100 or n == int(n) else f"{n:.1f} {unit}"


def _flash_vector(values: np.ndarray, view: View, room: int) -> str:
    """"[0.12, −0.30, …, 0.01]": the numbers at the view's precision, cut with … to `room` cells."""
    texts = [view.num(x) for x in values]
    limit = len(texts)
    while True:
        idx = list(range(len(texts))) if view.full or limit >= len(texts) else _shown(len(texts), limit)
        out = "[" + ", ".join("…" if i is None else texts[i] for i in idx) + "]"
        if view.full or cell_len(out) <= room or limit <= 3:
            return out
        limit -= 1


def _flash_keys(start: int, stop: int) -> str:
    return f"K{start + 1}" if stop - start == 1 else f"K{start + 1}–K{stop}"


def _flash_block_head(walk: FlashWalk, st: BlockStep, view: View, room: int) -> Text:
    """Block 2 · K3–K4: 침대, 에서"""
    head = f"{word('flash_block', view.lang).format(n=st.index + 1)} · {_flash_keys(st.start, st.stop)}: "
    labels = ", ".join(walk.key_labels[st.start:st.stop])
    return Text(head + short(labels, max(4, room - cell_len(head))), style="bold")


def _flash_block_lines(walk: FlashWalk, st: BlockStep, view: View, room: int) -> list[Text]:
    """One key block for the focus query: its scores, block max, m, rescale, ℓ and the output so far."""
    lines = [_flash_block_head(walk, st, view, room)]
    if st.skipped:
        return [*lines, Text("  " + word("flash_skipped", view.lang), style="dim")]
    num = view.num
    scores = "  s = q·k/√d_k = "
    lines.append(Text(scores + _flash_vector(st.scaled, view, room - cell_len(scores))))
    lines.append(Text(f"  {word('flash_block_max', view.lang)} {num(st.block_max)} · m {num(st.m_before)} → "
                      f"{num(st.m_after)} · {word('flash_rescale', view.lang)} exp({num(st.m_before)} − "
                      f"{num(st.m_after)}) = {num(st.rescale)}"))
    lines.append(Text(f"  ℓ = {num(st.rescale)} × {num(st.l_before)} + {num(st.block_sum)} = {num(st.l_after)}"))
    partial = f"  {word('flash_partial', view.lang)} = "
    lines.append(Text(partial + _flash_vector(st.partial, view, room - cell_len(partial)), style="bold"))
    return lines


def flash_view(walk: FlashWalk, *, view: View) -> Group:
    """Flash (tiled) attention as the textbook has it: [Tiles] the keys cut into blocks of B ↓
    [Online softmax] block by block for the focus query: scores, block max, m, rescale exp(m_old − m_new),
    ℓ and the output so far ↓ [Result] tiled vs standard softmax·V, max |difference|, every query's final
    m and ℓ ↓ [Memory] the T × S score matrix vs a tile's working set for n = 1k … 64k, and this run's peak."""
    from rich.table import Table

    room = min(view.width, PANEL_WIDTH) - PANEL_CHROME
    s = len(walk.key_labels)
    tiles = []
    for st in walk.steps:
        head = f"{word('flash_block', view.lang).format(n=st.index + 1)}: {_flash_keys(st.start, st.stop)}  "
        labels = short(" · ".join(walk.key_labels[st.start:st.stop]), max(4, room - cell_len(head)))
        tiles.append(Text(head + labels, style="dim" if st.skipped else ""))
    parts: list[RenderableType] = [_panel(
        "flash_tiles", Group(_note("flash_tiles", view), Text(""), *_lines(tiles, view, keep=len(tiles) - 1)), view,
        subtitle=word("flash_n_blocks", view.lang).format(s=s, b=walk.block, n=walk.n_blocks), b=walk.block),
        ARROW]

    shown = list(range(walk.n_blocks)) if view.full else _shown(walk.n_blocks, FLASH_MAX_BLOCKS)
    steps: list[RenderableType] = [_note("flash_steps", view)]
    for i in shown:
        steps.append(Text(""))
        if i is None:
            steps.append(Text("⋮"))
            continue
        steps += _flash_block_lines(walk, walk.steps[i], view, room)
    focus_label = walk.query_labels[walk.focus]
    parts += [_panel("flash_steps", Group(*steps), view, q=walk.focus + 1, label=short(focus_label, 16)), ARROW]

    tiled_head, standard_head = word("flash_tiled", view.lang), word("flash_standard", view.lang)
    w = max(cell_len(tiled_head), cell_len(standard_head))
    pad = {tiled_head: " " * (w - cell_len(tiled_head)), standard_head: " " * (w - cell_len(standard_head))}
    tiled_line = f"{tiled_head}{pad[tiled_head]}  O = "
    standard_line = f"{standard_head}{pad[standard_head]}  softmax·V = "
    result: list[RenderableType] = [
        _note("flash_result", view), Text(""),
        Text(tiled_line + _flash_vector(walk.output, view, room - cell_len(tiled_line))),
        Text(standard_line + _flash_vector(walk.standard, view, room - cell_len(standard_line))),
        Text(word("flash_focus_diff", view.lang).format(q=walk.focus + 1, d=_fmt_diff(walk.max_diff)),
             style="bold"), Text("")]
    summary = np.column_stack([walk.m, walk.ell, walk.row_diff])  # (T, 3)

    def cell(i: int, j: int | None, value: float) -> Text:
        return Text(_fmt_diff(value) if j == 2 else view.num(value))

    table, cut = matrix_table(summary, [f"Q{i + 1} {label}" for i, label in enumerate(walk.query_labels)],
                              ["m", "ℓ", "max |Δ|"], view, corner="Q", focus=walk.focus, cell=cell)
    if cut:
        shown_rows = sum(i is not None for i in _shown(len(walk.query_labels), MAX_ROWS, keep=walk.focus))
        cut = Text(word("flash_cut", view.lang).format(rows=shown_rows, n=len(walk.query_labels)),
                   style="italic yellow")
    result += [table, *([cut] if cut else []),
               Text(word("flash_all_diff", view.lang).format(t=len(walk.query_labels), d=_fmt_diff(walk.all_max_diff)),
                    style="bold"),
               Text(word("flash_no_matrix", view.lang), style="italic")]
    parts += [_panel("flash_result", Group(*result), view), ARROW]

    mem = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), show_edge=False)
    mem.add_column("n = T = S", justify="right", no_wrap=True, style="bold")
    mem.add_column(word("flash_full", view.lang), justify="right", no_wrap=True)
    mem.add_column(word("flash_tile", view.lang).format(b=walk.block), justify="right", no_wrap=True)
    mem.add_column(word("flash_ratio", view.lang), justify="right", no_wrap=True)
    for row in walk.memory:
        mem.add_row(f"{row.n:,}", _flash_bytes(row.full_bytes), _flash_bytes(row.tiled_bytes), f"{row.ratio:,.0f}×")
    memory: list[RenderableType] = [_note("flash_memory", view), Text(""), mem]
    if walk.peak is not None:
        peak = walk.peak
        memory += [Text(""), Text(word("flash_run", view.lang).format(
            t=len(walk.query_labels), s=s, scores=_flash_bytes(peak.scores_bytes),
            full=_flash_bytes(peak.full_bytes), tiled=_flash_bytes(peak.tiled_bytes)))]
        if len(walk.query_labels) * s < 64 * 64:
            memory.append(Text(word("flash_run_small", view.lang), style="dim"))
    parts.append(_panel("flash_memory", Group(*memory), view,
                        subtitle=word("flash_d", view.lang).format(d_k=walk.d_k, d_v=walk.d_v)))
    return Group(*parts)


# --- block and flow: the transformer block and the encoder–decoder walk ---


CIRCLED = "①②③④⑤⑥⑦"
ACT_NAMES = {"gelu": "GELU", "relu": "ReLU", "gelu_new": "tanh-GELU", "gelu_pytorch_tanh": "tanh-GELU",
             "gelu_fast": "tanh-GELU", "quick_gelu": "QuickGELU"}

PREVIEW_DIMS = 4  # numbers of a vector shown inline in the flow view
FLOW_STEPS_SHOWN = 6  # generation steps drawn in full before they are cut (unless --full)


def _inner(view: View) -> View:
    """The view for panels nested inside a panel: 4 cells narrower."""
    return View(view.lang, view.precision, min(view.width, PANEL_WIDTH) - PANEL_CHROME, view.full)


def _dims(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{j + 1}" for j in range(n)]


def _matrix(mat: np.ndarray, tokens, view: View, corner: str, focus: int | None, prefix: str = "d",
            note: bool = True) -> list[RenderableType]:
    """A T × n matrix with token rows, and its cut note when it was cut (and `note`)."""
    table, cut = matrix_table(mat, _indexed("", tokens), _dims(prefix, mat.shape[1]), view, corner=corner,
                              focus=focus)
    return [table, *([cut] if cut and note else [])]


def _attention_panel(trace: Trace, key: str, n: str, focus: int, view: View, pre: bool = False) -> Panel:
    """① the attention weights of each head (compact grids), then Attn(x) = concat·W_O (T × d_model).
    `pre`: a pre-LN block, whose attention reads LN(x)."""
    from rich.columns import Columns

    grids = [_compact_grid(trace, i, focus, view) for i in range(trace.n_heads)]
    cut = grids[0][1]
    parts: list[RenderableType] = [_note(key, view), *([Text(caption("blk_pre_attn", view.lang), style="dim")]
                                                        if pre else []),
                                   Columns([g for g, _ in grids], padding=(1, 3)), *([cut] if cut else [])]
    if trace.kind == "cross":
        parts += [Text(word("memory_kv", view.lang), style="bold"),
                  *_matrix(trace.memory, trace.key_tokens, view, "memory", None)]
    parts += _matrix(trace.output, trace.query_tokens, view, "Attn(x)", focus)
    t, s = len(trace.query_tokens), len(trace.key_tokens)
    sub = (f"T × S = {t} × {s} → T × d_model = {t} × {trace.d_model}" if trace.kind == "cross"
           else f"T × d_model = {t} × {trace.d_model} → {t} × {trace.d_model}")
    return _panel(key, Group(*parts), view, subtitle=sub, n=n)


def _residual_panel(x: np.ndarray, sub: np.ndarray, total: np.ndarray, f: str, n: str, tokens, focus: int,
                    view: View, pre: bool = False) -> Panel:
    """x, f(x) and their sum x + f(x), one under the other (`pre`: x, f(LN(x)) and x + f(LN(x)))."""
    arg = "LN(x)" if pre else "x"
    names = ["x", f"{f}({arg})", f"x+{f}({arg})"]
    wide = max(cell_len(n) for n in names)
    x_t, sub_t, total_t = (n + " " * (wide - cell_len(n)) for n in names)  # one label column width: aligned
    parts: list[RenderableType] = [_note("blk_residual", view)]
    parts += _matrix(x, tokens, view, x_t, focus, note=False)
    parts += [Text("+", style="bold"), *_matrix(sub, tokens, view, sub_t, focus, note=False)]
    parts += [Text("=", style="bold"), *_matrix(total, tokens, view, total_t, focus)]
    return _panel("blk_residual_pre" if pre else "blk_residual", Group(*parts), view,
                  subtitle=f"T × d_model = {x.shape[0]} × {x.shape[1]}", n=n, f=f)


def _norm_panel(norm: NormTrace, n: str, tokens, focus: int, view: View, key: str = "blk_norm") -> Panel:
    """Per-token mean and variance before (and ~0, ~1 after), γ and β, and the normalised matrix.
    `key` titles the panel (blk_final_norm: a model's final LayerNorm)."""
    stats = np.stack([norm.mean, norm.var, norm.mean_after, norm.var_after], axis=1)  # (T, 4)
    cols = word("ln_cols", view.lang).split("|")
    table, cut = matrix_table(stats, _indexed("", tokens), cols, view, corner="LayerNorm", focus=focus)
    plain = np.all(norm.gamma == 1) and np.all(norm.beta == 0)
    f = focus
    line = word("ln_focus", view.lang).format(
        label=tokens[f].label, mean=view.num(norm.mean[f]), var=view.num(norm.var[f]), eps=f"{norm.eps:g}",
        mean2=view.num(norm.mean_after[f]), var2=view.num(norm.var_after[f]))
    parts: list[RenderableType] = [_note("blk_norm", view),
                                   *([Text(caption(key, view.lang), style="dim")] if key != "blk_norm" else []),
                                   table, *([cut] if cut else []), Text(line, style="bold"),
                                   Text(word("gamma_beta" if plain else "gamma_beta_set", view.lang), style="dim")]
    if not plain:  # learned γ, β: the standardised row has μ 0, σ² 1 before they move it
        normed = norm.normed[f]
        mean = float(normed.mean())
        mean = 0.0 if abs(mean) < 0.5 * 10.0 ** -view.precision else mean  # no "-0.00"
        parts.append(Text(word("ln_normed", view.lang).format(
            label=tokens[f].label, mean=view.num(mean), var=view.num(normed.var())), style="dim"))
        gb = np.stack([norm.gamma, norm.beta])  # (2, d_model)
        gb_table, gb_cut = matrix_table(gb, ["γ", "β"], _dims("d", gb.shape[1]), view)
        parts += [gb_table, *([gb_cut] if gb_cut else [])]
    parts += _matrix(norm.output, tokens, view, "LN(x)", focus)
    return _panel(key, Group(*parts), view, n=n)


def _activation_line(ffn, tokens, focus: int, view: View) -> list[Text]:
    """The focus token's first hidden units before → after the activation."""
    h, a = ffn.hidden[focus], ffn.activated[focus]
    label = tokens[focus].label
    if ffn.activation == "relu":
        head = word("relu_focus", view.lang).format(label=label, n=int(np.sum(a == 0)), f=len(h))
    else:
        head = word("gelu_focus", view.lang).format(label=label)
    pairs = ", ".join(f"{view.num(x)} → {view.num(y)}" for x, y in zip(h[:PREVIEW_DIMS], a[:PREVIEW_DIMS]))
    more = ", …" if len(h) > PREVIEW_DIMS else ""
    return [Text(head, style="bold"), Text(f"  {pairs}{more}")]


def _ffn_panel(ffn, n: str, tokens, focus: int, view: View) -> Panel:
    """x·W₁ + b₁ (T × d_ff), act(…) (T × d_ff), ·W₂ + b₂ (T × d_model)."""
    t, d = ffn.input.shape
    f = ffn.hidden.shape[1]
    act = ACT_NAMES.get(ffn.activation, ffn.activation)
    shapes = word("ffn_shapes", view.lang).format(t=t, d=d, f=f, act=act)
    parts: list[RenderableType] = [_note("blk_ffn", view), Text(shapes, style="dim")]
    parts += _matrix(ffn.hidden, tokens, view, "x·W₁ + b₁", focus, prefix="h", note=False)
    parts += [ARROW, *_matrix(ffn.activated, tokens, view, f"{act}(…)", focus, prefix="h")]
    parts += _activation_line(ffn, tokens, focus, view)
    parts += [ARROW, *_matrix(ffn.output, tokens, view, "·W₂ + b₂", focus)]
    return _panel("blk_ffn", Group(*parts), view, subtitle=f"d_model → d_ff → d_model = {d} → {f} → {d}", n=n)


def _model_head(bt: EncoderBlockTrace, view: View) -> tuple[str, dict, list[RenderableType]]:
    """(title key, its placeholders, extra header lines) of a block: a checkpoint's layer names the model and
    the layer, and says which hidden states it joins."""
    first = bt.attention
    kind = "block_decoder_only" if first.causal else "block_encoder"
    info = first.model
    if not info:
        return kind, {}, []
    layer = info["layer"]
    fmt = {"block": title(kind, view.lang), "name": info["name"], "layer": layer}
    line = word("block_model_line", view.lang).format(arch=info["architecture"], n=info["n_layers"],
                                                      last=info["n_layers"] - 1, layer=layer, next=layer + 1)
    return "block_model", fmt, [Text(line, style="dim")]


def _pre_ln_parts(bt: EncoderBlockTrace, tokens, focus: int, view: View) -> list[RenderableType]:
    """A pre-LN block (GPT-2): ① LayerNorm → ② attention on LN(x) → ③ x + Attn(LN(x)) → ④ LayerNorm →
    ⑤ FFN → ⑥ h + FFN(LN(h)) [→ ⑦ the model's final LayerNorm, after its last block]."""
    first = bt.attention
    parts: list[RenderableType] = [
        _norm_panel(bt.norm1, "①", tokens, focus, view), ARROW,
        _attention_panel(first, "blk_masked" if first.causal else "blk_attn", "②", focus, view, pre=True), ARROW,
        _residual_panel(bt.x, first.output, bt.residual1, "Attn", "③", tokens, focus, view, pre=True), ARROW,
        _norm_panel(bt.norm2, "④", tokens, focus, view), ARROW,
        _ffn_panel(bt.ffn, "⑤", tokens, focus, view), ARROW,
        _residual_panel(bt.residual1, bt.ffn.output, bt.residual2, "FFN", "⑥", tokens, focus, view, pre=True)]
    if bt.final_norm is not None:
        parts += [ARROW, _norm_panel(bt.final_norm, "⑦", tokens, focus, view, key="blk_final_norm")]
    return parts


def _steps_text(bt: EncoderBlockTrace, view: View) -> str:
    """The header's list of steps: the seeded post-LN wording, or a pre-LN block's own order."""
    if not (bt.kind == "encoder" and bt.norm_first):
        return word(f"block_steps_{bt.kind}", view.lang)
    lang = view.lang
    attn = "blk_masked" if bt.attention.causal else "blk_attn"
    lines = [title("blk_norm", lang).format(n="①"), title(attn, lang).format(n="②"),
             title("blk_residual_pre", lang).format(n="③", f="Attn"), title("blk_norm", lang).format(n="④"),
             title("blk_ffn", lang).format(n="⑤"), title("blk_residual_pre", lang).format(n="⑥", f="FFN")]
    if bt.final_norm is not None:
        lines.append(title("blk_final_norm", lang).format(n="⑦"))
    return "\n".join(lines)


def block_view(block_trace: EncoderBlockTrace | DecoderBlockTrace, *, focus: int = 0, view: View) -> Group:
    """One transformer block, stage by stage, panels joined by ↓ (seed 001, "어텐션, 그 이후"):

    encoder: ① multi-head self-attention → ② residual x + Attn(x) → ② LayerNorm → ③ FFN → ④ residual
    x + FFN(x) → ④ LayerNorm; decoder: ① masked self-attention → ② residual, LayerNorm → ③ cross-attention
    over the encoder's output → ④ residual, LayerNorm → ⑤ FFN → ⑥ residual, LayerNorm.
    A pre-LN block (norm_first: GPT-2's layers from attnviz.models.block_trace): ① LayerNorm → ② (masked)
    self-attention on LN(x) → ③ residual x + Attn(LN(x)) → ④ LayerNorm → ⑤ FFN → ⑥ residual, then ⑦ the
    model's final LayerNorm after its last block. A checkpoint's block is titled with the model and layer."""
    bt = block_trace
    decoder = bt.kind == "decoder"
    first = bt.self_attention if decoder else bt.attention
    tokens = first.query_tokens
    p = bt.params
    pre = not decoder and bt.norm_first
    dims = word("block_dims_pre" if pre else "block_dims", view.lang).format(
        d=p.d_model, f=p.d_ff, h=first.n_heads, act=ACT_NAMES.get(p.activation, p.activation), eps=f"{p.eps:g}")
    key, fmt, model_lines = ((f"block_{bt.kind}", {}, []) if decoder else _model_head(bt, view))
    head: list[RenderableType] = [Text(_steps_text(bt, view)), Text(dims, style="dim"), *model_lines]
    if decoder:
        head.append(Text(word("decoder_tokens", view.lang), style="dim"))
    parts: list[RenderableType] = [_panel(key, Group(*head), view, **fmt), ARROW]
    if pre:
        parts += _pre_ln_parts(bt, tokens, focus, view)
    elif not decoder:
        parts += [_attention_panel(first, "blk_masked" if first.causal else "blk_attn", "①", focus, view), ARROW,
                  _residual_panel(first.x, first.output, bt.residual1, "Attn", "②", tokens, focus, view), ARROW,
                  _norm_panel(bt.norm1, "②", tokens, focus, view), ARROW,
                  _ffn_panel(bt.ffn, "③", tokens, focus, view), ARROW,
                  _residual_panel(bt.norm1.output, bt.ffn.output, bt.residual2, "FFN", "④", tokens, focus, view),
                  ARROW, _norm_panel(bt.norm2, "④", tokens, focus, view)]
    else:
        cross = bt.cross_attention
        parts += [_attention_panel(first, "blk_masked", "①", focus, view), ARROW,
                  _residual_panel(first.x, first.output, bt.residual1, "Attn", "②", tokens, focus, view), ARROW,
                  _norm_panel(bt.norm1, "②", tokens, focus, view), ARROW,
                  _attention_panel(cross, "blk_cross", "③", focus, view), ARROW,
                  _residual_panel(bt.norm1.output, cross.output, bt.residual2, "Cross", "④", tokens, focus, view),
                  ARROW, _norm_panel(bt.norm2, "④", tokens, focus, view), ARROW,
                  _ffn_panel(bt.ffn, "⑤", tokens, focus, view), ARROW,
                  _residual_panel(bt.norm2.output, bt.ffn.output, bt.residual3, "FFN", "⑥", tokens, focus, view),
                  ARROW, _norm_panel(bt.norm3, "⑥", tokens, focus, view)]
    t, d = bt.output.shape
    info = None if decoder else first.model
    if info:
        last = info["layer"] == info["n_layers"] - 1
        out_note = _note("blk_output_model_last" if last else "blk_output_model", view, layer=info["layer"],
                         next=info["layer"] + 1)
    else:
        out_note = _note(f"blk_output_{bt.kind}", view)
    parts += [ARROW, _panel("blk_output", out_note, view, subtitle=f"T × d_model = {t} × {d}")]
    return Group(*parts)


# --- the flow ----------------------------------------------------------------------------------

def _vector(vec: np.ndarray, view: View) -> str:
    """[0.12, −0.50, 0.33, 1.02, …]: the first numbers of a vector."""
    shown = ", ".join(view.num(v) for v in vec[:PREVIEW_DIMS])
    return f"[{shown}{', …' if len(vec) > PREVIEW_DIMS else ''}]"


def _token_vectors(tokens, mat: np.ndarray, view: View) -> list[Text]:
    """"고양이" → [0.12, −0.50, …], one line per token, cut to fit."""
    width = max(cell_len(f'"{short(t.label)}"') for t in tokens)
    return _lines([Text(f'"{short(t.label)}"' + " " * (width - cell_len(f'"{short(t.label)}"')) + " → "
                        + _vector(row, view)) for t, row in zip(tokens, mat)], view)


def _shape(shape: tuple[int, ...]) -> str:
    return str(tuple(shape))


def _arrow_lines(shapes, names: dict[str, str], lead: str, room: int, view: View, style: str = "") -> list[Text]:
    """"(5,) ids → (5, 8) embeddings → …" packed into lines of at most `room` cells, broken only at
    arrows (a continuation line starts with →), so no shape is split."""
    from ..block import shape_text

    parts = [shape_text((s,), names) for s in shapes]
    lines, line = [], lead + parts[0]
    for part in parts[1:]:
        if view.full or cell_len(line + " → " + part) <= room:
            line += " → " + part
        else:
            lines.append(line)
            line = "  → " + part
    lines.append(line)
    return [Text(t, style=style) for t in lines]


def _pct(p: float, view: View) -> str:
    """A probability as a percentage: 4.6%."""
    return f"{100 * p:.{max(1, view.precision - 1)}f}%"


def _shape_names(lang: str) -> dict[str, str]:
    en = {"ids": "ids", "embeddings": "embeddings", "x": "+ positions", "encoder": "encoder {n}",
          "memory": "memory (K/V)", "bos": "decoder ids", "decoder": "decoder {n}", "last": "last token",
          "logits": "logits", "probs": "softmax", "token": "next id"}
    ko = {"ids": "ids", "embeddings": "임베딩", "x": "+ 위치", "encoder": "인코더 {n}", "memory": "memory (K/V)",
          "bos": "디코더 ids", "decoder": "디코더 {n}", "last": "마지막 토큰", "logits": "로짓", "probs": "softmax",
          "token": "다음 id"}
    return ko if lang == "ko" else en


def _top_table(step: FlowStep, view: View) -> Table:
    """The step's most probable tokens: rank, token, id, logit, p, and which one was picked."""
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), show_edge=False)
    for k, name in enumerate(word("rank_cols", view.lang).split("|")):
        table.add_column(name, justify="left" if k in (0, 1) else "right", no_wrap=True)
    table.add_column("", no_wrap=True)
    picked = step.sampling.choice
    for rank, top in enumerate(step.top):
        mark = word("picked", view.lang) if top.index == picked else ""
        table.add_row(str(rank + 1), short(top.label, LABEL_MAX + 4), str(top.id), view.num(top.logit),
                      _pct(top.prob, view), mark, style="bold" if mark else "")
    return table


def _step_lines(step: FlowStep, flow_trace: FlowTrace, view: View) -> list[RenderableType]:
    """Step s · decoder input: <BOS> 고양이 …, the top tokens, the pick and its pool."""
    toks = " ".join(short(t.label) for t in step.tokens)
    out: list[RenderableType] = [Text(word("step_input", view.lang).format(s=step.number, tokens=toks),
                                      style="bold"), _top_table(step, view)]
    s = step.sampling
    pick = Text(word("picked_line", view.lang).format(label=step.token.label, id=step.token.id,
                                                       p=_pct(step.prob, view)), style="bold")
    if s.method != "greedy":
        mass = float(s.probs[s.candidates].sum())
        pick.append("  · " + word("pool", view.lang).format(n=len(s.candidates), mass=_pct(mass, view)),
                    style="dim")
    out += [pick, Text("")]
    return out


def flow_view(flow_trace: FlowTrace, *, view: View) -> Group:
    """Seed 001's encoder–decoder diagram as panels: input → tokenizer → [Transformer: embeddings →
    positions → encoder blocks × N → encoder output (K/V) → decoder input <BOS> → decoder blocks × N →
    logits → softmax] → sampling (each step's top tokens and pick) → detokenizing, then the shapes at every
    arrow. It says plainly that the model is untrained, so the text is nonsense."""
    ft = flow_trace
    inner = _inner(view)
    lang = view.lang
    first = ft.steps[0]
    warn = Text(caption("untrained", lang), style="bold yellow")
    parts: list[RenderableType] = [warn, Text("")]
    parts += [_panel("flow_input", Text(f'"{_printable(ft.source, view)}"'), view), ARROW]
    pieces = Text(", ".join(f'"{t.label}"' for t in ft.source_tokens))
    ids = Text("→ [" + ", ".join(str(t.id) for t in ft.source_tokens) + "]")
    parts += [_panel("flow_tokenizer", Group(pieces, ids), view, subtitle=f"{_shape((len(ft.source_tokens),))} ids"),
              ARROW]

    s_len, d = ft.x.shape
    enc_layers = [Text(word("layer_shape", lang).format(i=i + 1, a=_shape(b.x.shape), b=_shape(b.output.shape)),
                       style="dim") for i, b in enumerate(ft.encoder)]
    last_dec = first.decoder
    dec_layers = [Text(word("layer_shape", lang).format(i=i + 1, a=_shape(b.x.shape), b=_shape(b.output.shape)),
                       style="dim") for i, b in enumerate(last_dec)]
    final = ft.steps[-1]
    cross = final.decoder[-1].cross_attention
    grid, grid_cut = _compact_grid(cross, 0, len(cross.query_tokens) - 1, inner)
    quoted = [f'"{short(t.label)}"' for t in first.top]
    lw = max(cell_len(q) for q in quoted)
    logit_lines = [Text(q + " " * (lw - cell_len(q)) + f" → {view.num(t.logit)}") for q, t in zip(quoted, first.top)]
    uniform = word("uniform", lang).format(p=_pct(1 / ft.vocab, view))
    prob_lines = [Text(q + " " * (lw - cell_len(q)) + f" → {_pct(t.prob, view)}") for q, t in zip(quoted, first.top)]
    vocab = word("vocab", lang).format(v=ft.vocab, total=f"{ft.tokenizer_vocab:,}")
    body: list[RenderableType] = [
        _panel("flow_embeddings", Group(_note("flow_embeddings", inner),
                                        *_token_vectors(ft.source_tokens, ft.embeddings, inner)), inner,
               subtitle=f"{_shape(ft.embeddings.shape)} E"), ARROW,
        _panel("flow_positions", Group(_note("flow_positions", inner),
                                       *_token_vectors(ft.source_tokens, ft.x, inner)), inner,
               subtitle=f"{_shape(ft.x.shape)} E + P"), ARROW,
        _panel("flow_encoders", Group(_note("flow_encoders", inner), Text(""),
                                      Text(word("block_steps_encoder", lang)), Text(""), *enc_layers), inner,
               n=ft.n_layers), ARROW,
        Text("      " + caption("flow_memory", lang).format(shape=_shape(ft.memory.shape)), style="bold"), ARROW,
        _panel("flow_decoder_input", Group(_note("flow_decoder_input", inner),
                                           *_token_vectors(first.tokens, first.decoder[0].x, inner)), inner,
               subtitle=f"{_shape((len(first.tokens),))} ids → {_shape(first.decoder[0].x.shape)} E + P"), ARROW,
        _panel("flow_decoders", Group(_note("flow_decoders", inner), Text(""),
                                      Text(word("block_steps_decoder", lang)), Text(""), *dec_layers, Text(""),
                                      Text(word("cross_last", lang).format(s=final.number, n=len(final.decoder)),
                                           style="bold"), grid, *([grid_cut] if grid_cut else [])), inner,
               n=ft.n_layers), ARROW,
        _panel("flow_logits", Group(_note("flow_logits", inner), Text(vocab, style="dim"), *logit_lines), inner,
               subtitle=f"{_shape(first.hidden.shape)} · {_shape(ft.w_out.shape)} → {_shape((ft.vocab,))}"), ARROW,
        _panel("flow_softmax", Group(_note("flow_softmax", inner), *prob_lines, Text(uniform, style="dim")), inner,
               subtitle=f"{_shape((ft.vocab,))}, Σ = 1"),
    ]
    parts += [_panel("flow_transformer", Group(*body), view), ARROW]

    method = word(f"sampler_{ft.sample}", lang).format(k=ft.k, p=ft.p)
    sampling: list[RenderableType] = [Text(method, style="bold"),
                                      Text(word("temperature", lang).format(t=f"{ft.temperature:g}", seed=ft.seed),
                                           style="dim"), Text("")]
    steps = list(ft.steps)
    if not view.full and len(steps) > FLOW_STEPS_SHOWN:
        hidden = (steps[FLOW_STEPS_SHOWN - 1].number, steps[-2].number)
        for step in steps[: FLOW_STEPS_SHOWN - 1]:
            sampling += _step_lines(step, ft, view)
        sampling += [Text("⋮"), Text(word("steps_cut", lang).format(a=hidden[0], b=hidden[1]), style="italic yellow"),
                     Text("")]
        sampling += _step_lines(steps[-1], ft, view)
    else:
        for step in steps:
            sampling += _step_lines(step, ft, view)
    parts += [_panel("flow_sampling", Group(*sampling[:-1]), view), ARROW]

    picked = ", ".join(f'"{s.token.label}"' for s in ft.steps)
    detok = [_note("flow_detokenize", view), Text(f'{picked} → "{_printable(ft.output_text, view)}"', style="bold"),
             warn]
    parts += [_panel("flow_detokenize", Group(*detok), view), Text("")]

    names = _shape_names(lang)
    room = min(view.width, PANEL_WIDTH) - PANEL_CHROME
    shape_lines: list[Text] = _arrow_lines(ft.shapes, names, "", room, view)
    later = ft.steps[1:] if view.full else ft.steps[-1:] if len(ft.steps) > 1 else ()
    if not view.full and len(ft.steps) > 2:
        shape_lines.append(Text(word("shapes_same", lang).format(a=2, b=ft.steps[-2].number), style="dim"))
    for step in later:
        shape_lines += _arrow_lines(step.shapes, names, f"{word('step_n', lang).format(s=step.number)}: ", room,
                                    view)
    parts.append(_panel("flow_shapes", Group(*shape_lines), view))
    return Group(*parts)
