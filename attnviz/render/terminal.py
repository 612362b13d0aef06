"""Terminal panels (rich): the self-attention pipeline as boxed steps joined by ↓, like the seed diagrams.

Every function returns rich renderables; printing is the CLI's job. Rows are queries, columns keys.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich import box
from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.style import Style
from rich.table import Table
from rich.text import Text

from ..attention import entropy
from ..tokens import visible
from ..trace import HeadTrace, Trace
from .text import caption, title, word

STAGES = ("input", "qkv", "scores", "scaled", "softmax", "output", "all")
ARROW = Text("                ↓")
LABEL_MAX = 8  # widest token label (terminal cells) before it is cut with …
HEADER_MAX = 6  # widest column header (terminal cells): three Hangul syllables, six letters
MAX_ROWS = 12  # rows shown before a matrix is cut (unless --full)
MAX_LINES = 12  # focus-detail lines shown before they are cut (unless --full)
PANEL_CHROME = 4  # the panel's borders and padding
PANEL_WIDTH = 80  # panels are this wide (or the terminal's width, if narrower)


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


def _panel(stage: str, body: RenderableType, view: View, subtitle: str | None = None) -> Panel:
    """A ┌─┐ box titled like the seed diagrams ([Softmax]); one width for every panel."""
    return Panel(body, title=f"[{title(stage, view.lang)}]", title_align="left", box=box.SQUARE,
                 expand=not view.full, width=None if view.full else min(view.width, PANEL_WIDTH),
                 subtitle=subtitle, subtitle_align="left")


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
) -> tuple[Table, Text | None]:
    """A labelled matrix, cut with … rows/columns to fit the view.

    Returns (table, note): the note says how much was cut and how to see it all (None if nothing was).

    A column label "K3 침대" is drawn as a two-line header (K3 over 침대), each line cut to fit.
    """
    n_rows, n_cols = matrix.shape
    label_w = min(LABEL_MAX + 4, max((cell_len(r) for r in row_labels), default=2))
    label_w = max(label_w, cell_len(corner))
    num_w = max((len(view.num(v)) for v in matrix.ravel()), default=1)
    heads = [_header(c) for c in col_labels]
    widest = max((cell_len(line) for h in heads for line in h.split("\n")), default=1)
    col_w = max(num_w, min(HEADER_MAX, widest))
    sum_w = (len(view.num(1.0)) + 2) if row_sums else 0
    fit = _fit_columns(view, n_cols, label_w + sum_w, col_w)
    cols = _shown(n_cols, fit)
    rows = list(range(n_rows)) if view.full else _shown(n_rows, MAX_ROWS, keep=focus)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), show_edge=False)
    table.add_column(corner, justify="left", no_wrap=True, style="bold", min_width=label_w)
    for j in cols:
        head = "…" if j is None else "\n".join(short(line, col_w) for line in heads[j].split("\n"))
        table.add_column(head, justify="right", no_wrap=True, min_width=1 if j is None else col_w)
    if row_sums:
        table.add_column("Σ", justify="right", style="dim", no_wrap=True)
    for i in rows:
        if i is None:
            table.add_row("⋮", *["⋮" if j is not None else "" for j in cols], *([""] if row_sums else []))
            continue
        row_max = int(np.argmax(matrix[i])) if tint else -1
        cells: list[Text | str] = [Text(short(row_labels[i], label_w), style="reverse" if i == focus else "")]
        for j in cols:
            if j is None:
                cells.append("…")
                continue
            value = matrix[i, j]
            style = _tint(value, j == row_max) if tint else ""
            cells.append(Text(view.num(value), style=style))
        if row_sums:
            cells.append(view.num(float(np.sum(matrix[i][np.isfinite(matrix[i])]))))
        table.add_row(*cells)
    cut = len(cols) < n_cols or len(rows) < n_rows
    note = Text(word("cut", view.lang).format(
        rows=sum(r is not None for r in rows), n_rows=n_rows, cols=sum(c is not None for c in cols),
        n_cols=n_cols), style="italic yellow")
    return table, note if cut else None


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
    pieces = Text(" | ".join(t.label for t in toks))
    ids = [t.id for t in toks]
    body = [pieces, Text(f"{len(toks)} {word('token', view.lang)}" + ("s" if view.lang == "en" else ""),
                         style="dim")]
    if all(i is not None for i in ids):
        body.append(Text("ids: " + " ".join(str(i) for i in ids), style="dim"))
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
    width = max(len(view.num(v)) for v in head.scores[focus])
    k_w = len(str(len(k_toks)))
    lines = [Text(f"Q{focus + 1} · K{j + 1:<{k_w}} → {view.num(s):>{width}} ← "
                  f"{q_toks[focus].label} · {k_toks[j].label}")
             for j, s in enumerate(head.scores[focus])]
    parts = [Text(caption("scores", view.lang), style="italic"), table, *_lines(lines, view)]
    if cut:
        parts.append(cut)
    return _panel("scores", Group(*parts), view)


def scaled_panel(trace: Trace, head: HeadTrace, focus: int, view: View) -> Panel:
    """[Scaled] scores ÷ √d_k, with √d_k's value, and the focus row worked out."""
    root = float(np.sqrt(trace.d_k))
    table, cut = matrix_table(head.scaled if head.masked is None else head.masked,
                              _indexed("Q", trace.query_tokens), _indexed("K", trace.key_tokens), view,
                              corner="÷ √d_k", focus=focus)
    s_w = max(len(view.num(v)) for v in head.scores[focus])
    c_w = max(len(view.num(v)) for v in head.scaled[focus])
    k_w = len(str(len(head.scores[focus])))
    lines = [Text(f"Q{focus + 1} · K{j + 1:<{k_w}}: {view.num(s):>{s_w}} ÷ {view.num(root)} = "
                  f"{view.num(c):>{c_w}}")
             for j, (s, c) in enumerate(zip(head.scores[focus], head.scaled[focus]))]
    head_line = Text(f"√d_k = √{trace.d_k} = {root:.{max(view.precision, 2)}f}", style="bold")
    parts = [Text(caption("scaled", view.lang), style="italic"), head_line, table, *_lines(lines, view)]
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
    lines = []
    for j, w in enumerate(row):
        if not visible[j]:
            line = Text(f"{q_toks[focus].label} → {k_toks[j].label}: (0)  ×", style="dim")
        else:
            line = Text(f"{q_toks[focus].label} → {k_toks[j].label}: ({view.num(w)})")
            if j == best:
                line.append(f" ← {word('most', view.lang)}", style="bold")
                line.stylize("bold")
        lines.append(line)
    focus_head = Text(f"{word('focus', view.lang)} Q{focus + 1} = {q_toks[focus].label}  "
                      f"({word('entropy', view.lang)} {entropy(row):.{view.precision}f} nats)", style="bold")
    parts = [Text(caption("softmax", view.lang), style="italic"), table, focus_head,
             *_lines(lines, view, keep=best)]
    if cut:
        parts.append(cut)
    return _panel("softmax", Group(*parts), view)


def output_panel(trace: Trace, head: HeadTrace, focus: int, view: View) -> Panel:
    """[Weighted sum] context = 0.32 × V1 + 0.02 × V2 + … = [ … ], and the output matrix."""
    row = head.weights[focus]
    terms = [Text(f"{view.num(w)} × V{j + 1}" + (" +" if j < len(row) - 1 else "")) for j, w in enumerate(row)]
    vec = "[" + ", ".join(view.num(v) for v in head.output[focus]) + "]"
    label = f"{word('context', view.lang)} Q{focus + 1} ({trace.query_tokens[focus].label}) ="
    dims = [f"d{j + 1}" for j in range(head.output.shape[1])]
    table, _ = matrix_table(head.output, _indexed("Z", trace.query_tokens), dims, view, corner="softmax·V",
                            focus=focus)
    parts = [Text(caption("output", view.lang), style="italic"), Text(label, style="bold"),
             *_lines(terms, view, keep=len(terms) - 1), Text(f"= {vec}", style="bold"), table]
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
