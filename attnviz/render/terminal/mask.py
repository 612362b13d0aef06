"""The mask view: the ○/× grid, scores with −∞, softmax rows with exact zeros, and what a mask is for."""

from __future__ import annotations

import numpy as np
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from ...trace import PAD, Trace
from ..text import table_rows, word
from .common import ARROW, View, _indexed, _lines, _note, _panel, _small_table
from .grids import _masked_weight_cell, _visible
from .matrix import Matrix, matrix_table


def _is_pad(token) -> bool:
    return token.special and token.label == PAD


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
    if trace.attention is not None and trace.attention.window is not None:
        return "mask_window"
    padded = any(_is_pad(t) for t in trace.key_tokens)
    return "mask_both" if padded and trace.causal else "mask_padding" if padded else "mask_causal"


def _scale_corner(trace: Trace) -> str:
    """÷ √d_k, or the model's own × scale, or cap·tanh when the masked scores are Gemma 2's capped ones."""
    if trace.attention is None:
        return "÷ √d_k"
    from .decoder import scale_corner

    return "cap·tanh" if trace.heads[0].capped is not None else scale_corner(trace)


def _mask_focus_lines(trace: Trace, head: int, focus: int, view: View) -> list[Text]:
    """The seed's Masked Self-Attention box: Q4 · K1 → 5.10 ← 에서 · <BOS>, then which keys are out."""
    hd = trace.heads[head]
    mask = _visible(trace, head)[focus]
    q_toks, k_toks = trace.query_tokens, trace.key_tokens
    label = q_toks[focus].label
    head_line = word("focus_scaled", view.lang).format(q=focus + 1, label=label)
    if trace.attention is not None:  # the model's own scale (and Gemma 2's cap): what the mask is applied to
        head_line = head_line.replace("÷ √d_k", _scale_corner(trace))
    out = [Text(head_line, style="bold")]
    if not mask.any():
        return [*out, Text(f"Q{focus + 1} {label} {word('all_hidden', view.lang)}", style="yellow")]
    seen = [j for j in range(len(mask)) if mask[j]]
    scaled = hd.scaled if hd.capped is None else hd.capped
    width = max(len(view.num(scaled[focus, j])) for j in seen)
    k_w = len(str(len(k_toks)))
    lines = [Text(f"Q{focus + 1} · K{j + 1:<{k_w}} → {view.num(scaled[focus, j]):>{width}} ← "
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
    notes = [_note("mask_grid", view), *([_note("mask_window", view)] if kind == "mask_window" else [])]
    window = {"w": trace.attention.window} if kind == "mask_window" else {}
    parts.append(_panel(kind, Group(*notes, grid, *([cut] if cut else [])), view,
                        subtitle=word("may_attend", view.lang), **window))
    table, cut = matrix_table(hd.scaled if hd.masked is None else hd.masked, _indexed("Q", trace.query_tokens),
                              _indexed("K", trace.key_tokens), view, corner=_scale_corner(trace), focus=focus)
    scores = [_note("masked", view), table, *([cut] if cut else []), *_mask_focus_lines(trace, head, focus, view)]
    parts += [ARROW, _panel("masked", Group(*scores), view), ARROW]
    weights = _mask_softmax_table(trace, head, focus, view)
    parts.append(_panel("mask_softmax", Group(_note("mask_softmax", view), *weights,
                                              *_softmax_focus_lines(trace, head, focus, view)), view))
    why: list[RenderableType] = []
    if kind in ("mask_causal", "mask_both", "mask_none", "mask_window"):
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
