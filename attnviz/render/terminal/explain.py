"""The explain view: the self-attention pipeline as panels, input → Q/K/V → scores → scaled → softmax → output."""

from __future__ import annotations

import numpy as np
from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from ...attention import entropy
from ...trace import HeadTrace, Trace
from ..text import caption, word
from .common import (
    ARROW,
    LABEL_MAX,
    MAX_LINES,
    MAX_ROWS,
    PANEL_CHROME,
    PANEL_WIDTH,
    SUMMARY_LINES,
    TOKEN_LINES,
    View,
    _indexed,
    _lines,
    _panel,
    _printable,
    _shown,
    _some_lines,
    short,
)
from .matrix import _num_width, matrix_table


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
    rotary = trace.attention is not None and trace.attention.rope is not None  # positions enter through RoPE
    stages = (("E", trace.embeddings), ("X", trace.x)) if rotary else (
        ("E", trace.embeddings), ("P", trace.positions), ("X = E + P", trace.x))
    tables = []
    for name, mat in stages:
        table, cut = matrix_table(mat, labels, dims, view, corner=name)
        tables.append(table)
    key = "x_rope" if rotary else "x"
    x_body = Group(Text(caption(key, view.lang), style="italic"), *tables)
    return [
        _panel("input", text, view), ARROW,
        _panel("tokens", Group(*body), view), ARROW,
        _panel(key, x_body, view, subtitle=f"T × d_model = {len(toks)} × {trace.d_model}"),
    ]


def qkv_panel(trace: Trace, head: HeadTrace, view: View, focus: int = 0) -> Panel:
    """[Query/Key/Value] token → Qi, Ki, Vi, then the Q, K, V matrices (before RoPE, which has its own panel;
    after a q/k-norm, with a line saying so)."""
    toks = trace.query_tokens
    width = max(cell_len(f'"{t.label}"') for t in toks)
    mapping = [Text(f'"{t.label}"' + " " * (width - cell_len(f'"{t.label}"')) + f" → Q{i + 1}, K{i + 1}, V{i + 1}")
               for i, t in enumerate(toks)]
    parts: list[RenderableType] = [Text(caption("qkv", view.lang), style="italic"), *_lines(mapping, view)]
    info = trace.attention
    if info is not None and info.qk_norm:
        from .decoder import qk_norm_line

        parts.append(qk_norm_line(trace, next(i for i, h in enumerate(trace.heads) if h is head), focus, view))
    if head.kv_head is not None:
        parts.append(Text(word("kv_of", view.lang).format(kv=head.kv_head + 1, g=info.n_kv_heads), style="dim"))
    q = head.q if head.q_unrotated is None else head.q_unrotated
    k = head.k if head.k_unrotated is None else head.k_unrotated
    for name, mat, prefix in (("Q = X·W_Q", q, "Q"), ("K = X·W_K", k, "K"), ("V = X·W_V", head.v, "V")):
        dims = [f"d{j + 1}" for j in range(mat.shape[1])]
        table, _ = matrix_table(mat, _indexed(prefix, trace.key_tokens if prefix != "Q" else toks), dims, view,
                                corner=name)
        parts.append(table)
    sub = f"d_model = {trace.d_model} → d_k = {trace.d_k}, d_v = {trace.d_v}"
    if head.q_unrotated is not None:
        sub += f" · {word('before_rope', view.lang)}"
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
    masked = head.masked is not None and trace.attention is None  # a decoder's mask has a panel of its own
    table, cut = matrix_table(head.masked if masked else head.scaled,
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
        "qkv": lambda: [qkv_panel(trace, hd, view, focus)],
        "scores": lambda: [scores_panel(trace, hd, focus, view)],
        "scaled": lambda: [scaled_panel(trace, hd, focus, view)],
        "softmax": lambda: [softmax_panel(trace, hd, focus, view)],
        "output": lambda: [output_panel(trace, hd, focus, view), *next_panels(trace, focus, view)],
    }
    if trace.attention is not None or stage in DECODER_STAGES or (stage == "mask" and hd.mask is not None):
        from . import decoder

        builders.update({
            "rope": lambda: [decoder.rope_panel(trace, head, focus, view)],
            "gqa": lambda: [decoder.gqa_panel(trace, head, view)],
            "softcap": lambda: [decoder.softcap_panel(trace, head, focus, view)],
            "mask": lambda: [decoder.mask_panel(trace, head, focus, view)],
        })
        if not decoder.scale_is_root(trace):
            builders["scaled"] = lambda: [decoder.scaled_by_panel(trace, head, focus, view)]
    if stage == "all":
        for i, key in enumerate(pipeline_stages(trace, head)):
            if i:
                parts.append(ARROW)
            parts.extend(builders[key]())
    else:
        parts.extend(builders[stage]())
    return Group(*parts)


DECODER_STAGES = ("rope", "gqa", "softcap", "mask")  # stages only some traces have (see pipeline_stages)


def pipeline_stages(trace: Trace, head: int = 0) -> tuple[str, ...]:
    """The explain view's stages for this trace, in order. A plain multi-head trace: input, qkv, scores, scaled,
    softmax, output. Today's decoders add rope (RoPE), gqa (fewer K/V heads), softcap (Gemma 2) and mask (its own
    panel, with the sliding window) where they have them."""
    info = trace.attention
    if info is None:
        return ("input", "qkv", "scores", "scaled", "softmax", "output")
    hd = trace.heads[head]
    return ("input", "qkv", *(("rope",) if info.rope is not None else ()),
            *(("gqa",) if info.n_kv_heads != trace.n_heads else ()), "scores", "scaled",
            *(("softcap",) if hd.capped is not None else ()), *(("mask",) if hd.mask is not None else ()),
            "softmax", "output")
