"""The summary view: a long text's summary trace (attnviz.summary) — why it is a summary, the focus query's top
keys, m, ℓ, entropy and output, then one line per query (cut unless --full)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.console import Group, RenderableType
from rich.text import Text

from ..text import word
from .common import ARROW, PANEL_CHROME, PANEL_WIDTH, SUMMARY_LINES, View, _note, _panel, _shown, short

if TYPE_CHECKING:  # annotations only
    from ...summary import SummaryTrace


def _vector(values, view: View, room: int) -> str:
    """"[0.12, −0.30, …]" cut with … to `room` cells."""
    texts = [view.num(float(x)) for x in values]
    out = "["
    for i, piece in enumerate(texts):
        tail = "" if i == len(texts) - 1 else ", "
        if not view.full and len(out) + len(piece) + len(tail) + 2 > room:
            return out + "…]"
        out += piece + tail
    return out + "]"


def _model_lines(summary: SummaryTrace, view: View) -> list[Text]:
    """Which checkpoint and layer (and what ran before it), then the parts of the attention beyond plain
    multi-head attention: K/V heads, RoPE, the scale, soft-capping."""
    lines = []
    info = summary.model
    if info is not None:
        lines.append(Text(word("summary_model", view.lang).format(name=short(info.name, 32), layer=info.layer,
                                                                    last=info.n_layers - 1, arch=info.architecture),
                          style="bold"))
        if info.layer > 0:
            layers = (word("summary_layer0", view.lang) if info.layer == 1 else
                      word("summary_layers", view.lang).format(prev=info.layer - 1))
            lines.append(Text(word("summary_before", view.lang).format(layers=layers), style="dim"))
    extras = []
    if summary.kv_heads is not None:
        extras.append(word("summary_kv", view.lang).format(g=summary.kv_heads))
    if summary.rope_theta is not None:
        extras.append(word("summary_rope", view.lang).format(theta=f"{summary.rope_theta:g}"))
    if summary.scale is not None:
        inverse_square = 1.0 / (summary.scale * summary.scale)  # Gemma: query_pre_attn_scalar
        near = round(inverse_square)
        expr = f"1/√{near}" if abs(inverse_square - near) < 1e-6 * inverse_square else f"{summary.scale:.6g}"
        extras.append(word("summary_scale", view.lang).format(expr=expr))
    if summary.softcap is not None:
        extras.append(word("summary_softcap", view.lang).format(cap=f"{summary.softcap:g}"))
    if extras:
        lines.append(Text(" · ".join(extras), style="dim"))
    return lines


def summary_view(summary: SummaryTrace, *, focus: int = 0, head: int = 0, view: View) -> Group:
    """[Summary trace] why, and what it keeps ↓ [Q focus] its top-k keys, m, ℓ, H, output, Z ↓
    [Every query] top key, its weight, H, m, ℓ per query."""
    from rich.table import Table

    room = min(view.width, PANEL_WIDTH) - PANEL_CHROME
    t = len(summary.query_tokens)
    hd = summary.heads[head]
    mask = (word("summary_window", view.lang).format(w=summary.window) if summary.window is not None else
            word("summary_causal" if summary.causal else "summary_nomask", view.lang))
    why = _note("summary", view, cells=f"{t * len(summary.key_tokens):,}", limit=f"{summary.limit:,}",
                k=summary.top_k)
    parts: list[RenderableType] = [_panel(
        "summary", Group(why, *_model_lines(summary, view)), view, t=f"{t:,}",
        subtitle=word("summary_mask", view.lang).format(mask=mask, h=summary.n_heads, d_k=summary.d_k)), ARROW]

    keys = summary.key_tokens
    weight = View(view.lang, max(view.precision, 4), view.width, view.full).num  # long rows: small weights
    lines: list[RenderableType] = [Text(word("summary_top", view.lang).format(k=summary.top_k), style="bold")]
    for j, w in zip(hd.top_keys[focus], hd.top_weights[focus]):
        if j >= 0:
            lines.append(Text(f"  K{j + 1} {short(keys[j].label, 16)}  {weight(float(w))}"))
    lines.append(Text(word("summary_stats", view.lang).format(m=view.num(float(hd.m[focus])),
                                                                l=view.num(float(hd.ell[focus])),
                                                                h=view.num(float(hd.entropy[focus])))))
    head_out = f"{word('summary_output', view.lang)} = "
    lines.append(Text(head_out + _vector(hd.output[focus], view, room - len(head_out))))
    if summary.output is not None:
        z = f"{word('summary_z', view.lang)} = "
        lines.append(Text(z + _vector(summary.output[focus], view, room - len(z))))
    label = short(summary.query_tokens[focus].label, 16)
    parts += [_panel("summary_focus", Group(*lines), view, q=focus + 1, label=label, h=head + 1), ARROW]

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), show_edge=False)
    for name, justify in (("Q", "left"), (word("summary_key", view.lang), "left"), ("w", "right"),
                          ("H", "right"), ("m", "right"), ("ℓ", "right")):
        table.add_column(name, justify=justify, no_wrap=True)
    rows = list(range(t)) if view.full else _shown(t, SUMMARY_LINES, keep=focus)
    for i in rows:
        if i is None:
            table.add_row("⋮", "⋮", "⋮", "⋮", "⋮", "⋮")
            continue
        j = int(hd.top_keys[i, 0]) if hd.top_keys.shape[1] else -1
        top = f"K{j + 1} {short(keys[j].label)}" if j >= 0 else "—"
        table.add_row(f"Q{i + 1} {short(summary.query_tokens[i].label)}", top,
                      weight(float(hd.top_weights[i, 0])) if j >= 0 else "—", view.num(float(hd.entropy[i])),
                      view.num(float(hd.m[i])), view.num(float(hd.ell[i])), style="bold" if i == focus else None)
    body: list[RenderableType] = [table]
    if len(rows) < t:
        body.append(Text(word("summary_cut", view.lang).format(rows=sum(i is not None for i in rows), n=t),
                         style="italic yellow"))
    parts.append(_panel("summary_rows", Group(*body), view, h=head + 1))
    return Group(*parts)
