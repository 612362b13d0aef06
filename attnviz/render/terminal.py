"""Terminal panels (rich): the self-attention pipeline as boxed steps joined by ↓, like the seed diagrams.

Every function returns rich renderables; printing is the CLI's job. Rows are queries, columns keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from rich import box
from rich.cells import cell_len
from rich.columns import Columns
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.style import Style
from rich.table import Table
from rich.text import Text

from ..attention import entropy
from ..lessons import ScaleLesson, SoftmaxSteps
from ..tokens import visible
from ..trace import PAD, HeadTrace, Trace
from .text import caption, table_rows, title, word

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


def _panel(stage: str, body: RenderableType, view: View, subtitle: str | None = None, **fmt) -> Panel:
    """A ┌─┐ box titled like the seed diagrams ([Softmax]); one width for every panel.

    `fmt` fills placeholders in the title ("Self-Attention × {h} heads")."""
    name = title(stage, view.lang).format(**fmt) if fmt else title(stage, view.lang)
    return Panel(body, title=f"[{name}]", title_align="left", box=box.SQUARE,
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
    cell: Callable[[int, int | None, float], Text] | None = None,
    grid: bool = False,
    pad: int = 1,
) -> tuple[Table, Text | None]:
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
        num_w = max((len(view.num(v)) for v in matrix.ravel()), default=1)
    else:
        num_w = max((cell_len(cell(i, j, matrix[i, j]).plain) for i in rows if i is not None
                     for j in range(n_cols)), default=1)
    heads = [_header(c) for c in col_labels]
    widest = max((cell_len(line) for h in heads for line in h.split("\n")), default=1)
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
    table = (Table(box=box.SQUARE, padding=(0, pad), show_lines=True) if grid else
             Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, pad), show_edge=False))
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
            if cell is not None:
                cells.append(cell(i, j, value))
                continue
            style = _tint(value, j == row_max) if tint else ""
            cells.append(Text(view.num(value), style=style))
        if row_sums:
            total = float(np.sum(matrix[i][np.isfinite(matrix[i])]))
            cells.append(view.num(total) if cell is None else cell(i, None, total))
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


def mask_grid(trace: Trace, *, head: int = 0, view: View, focus: int | None = None) -> tuple[Table, Text | None]:
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


def patch_grid_table(trace: Trace, *, focus: int = 0, head: int = 0, view: View) -> tuple[Table, Text | None]:
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
