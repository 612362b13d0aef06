"""The stages today's decoders add to the explain view: q/k-norm, RoPE, GQA, the scale actually used, soft-capping
and the (sliding-window) mask — Llama, Mistral, Qwen, Gemma and Phi-3 checkpoints, and the seeded model with
--rope, --kv-heads or --window. A plain multi-head trace (trace.attention None) never reaches this module."""

from __future__ import annotations

import math

import numpy as np
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from ...positions import apply_rope
from ...trace import Trace
from ..text import caption, word
from .common import View, _indexed, _lines, _panel, _some_lines
from .matrix import _num_width, matrix_table


def _span(items: list[int]) -> str:
    """1-based names of 0-based indices: [0, 1] → "1, 2"; [0, 1, 2, 3] → "1–4" (a run of three or more)."""
    if len(items) >= 3 and items == list(range(items[0], items[-1] + 1)):
        return f"{items[0] + 1}–{items[-1] + 1}"
    return ", ".join(str(i + 1) for i in items)


def _keys(items: list[int]) -> str:
    """Key names of 0-based indices: "K2–K5", "K1, K3"."""
    if len(items) >= 3 and items == list(range(items[0], items[-1] + 1)):
        return f"K{items[0] + 1}–K{items[-1] + 1}"
    return ", ".join(f"K{j + 1}" for j in items)


def qk_norm_line(trace: Trace, head: int, focus: int, view: View) -> Text:
    """Qwen3 / Gemma 3: each head's q and k are RMS-normed over d_k before RoPE; the RMS of the focus rows."""
    hd = trace.heads[head]
    q = hd.q if hd.q_unrotated is None else hd.q_unrotated
    k = hd.k if hd.k_unrotated is None else hd.k_unrotated
    kf = min(focus, k.shape[0] - 1)
    rms_q, rms_k = (float(np.sqrt(np.mean(np.square(row, dtype=np.float64)))) for row in (q[focus], k[kf]))
    return Text(word("qk_norm", view.lang).format(d_k=trace.d_k, q=focus + 1, k=kf + 1, rq=view.num(rms_q),
                                                  rk=view.num(rms_k)), style="dim")


def _base_text(base: float) -> str:
    """rope_theta as written in configs: 500000, 1000000, 10000.5."""
    return str(int(base)) if float(base).is_integer() else f"{base:g}"


def _omega_text(value: float) -> str:
    return f"{value:.4g}"


def _relative_line(trace: Trace, head: int, focus: int, view: View) -> Text | None:
    """q·k after RoPE depends on m − n alone: the same unrotated q and k placed at two pairs of positions with
    the same offset give the same score (computed in float64 from the layer's own ω)."""
    info = trace.attention
    rope = info.rope
    hd = trace.heads[head]
    t = len(trace.query_tokens)
    if trace.kind != "self" or t < 2 or rope.inv_freq is None or hd.q_unrotated is None:
        return None
    omega = np.asarray(rope.inv_freq, dtype=np.float64)  # (r/2,)
    m = focus
    n = m - 1 if m >= 1 else 1  # a neighbouring key
    shift = 1 if max(m, n) + 1 < t else -1 if min(m, n) >= 1 else t  # stay inside the text when it can
    q = np.asarray(hd.q_unrotated[m], dtype=np.float64)  # (d_k,)
    k = np.asarray(hd.k_unrotated[n], dtype=np.float64)  # (d_k,)

    def score(pm: int, pn: int) -> float:
        q_rot = apply_rope(q[None, :], (pm * omega)[None, :], rope.attention_factor)[0]  # (d_k,)
        k_rot = apply_rope(k[None, :], (pn * omega)[None, :], rope.attention_factor)[0]  # (d_k,)
        return float(q_rot @ k_rot)

    positions = np.arange(t) if rope.positions is None else np.asarray(rope.positions)
    pm, pn = int(positions[m]), int(positions[n])
    s1, s2 = score(pm, pn), score(pm + shift, pn + shift)
    return Text(word("rope_relative", view.lang).format(
        q=m + 1, k=n + 1, m1=pm, n1=pn, m2=pm + shift, n2=pn + shift, s1=view.num(s1), s2=view.num(s2),
        d=f"{abs(s1 - s2):.1e}"), style="bold")


def rope_panel(trace: Trace, head: int, focus: int, view: View) -> Panel:
    """[RoPE] θ = m · ω of each pair at each position (a table), the focus query's q before and after rotation
    with its first pair worked out, lengths kept, and the score's dependence on m − n alone."""
    rope = trace.attention.rope
    hd = trace.heads[head]
    r, half, d_k = rope.rotary_dim, rope.rotary_dim // 2, trace.d_k
    toks = trace.query_tokens
    positions = np.arange(len(toks)) if rope.positions is None else np.asarray(rope.positions)
    facts = [word("rope_params", view.lang).format(base=_base_text(rope.base), r=r, d_k=d_k, pairs=half)]
    if rope.scaling != "default":
        facts.append(word("rope_scaling", view.lang).format(scaling=rope.scaling))
    if rope.attention_factor != 1.0:
        facts.append(word("rope_factor", view.lang).format(f=f"{rope.attention_factor:.4g}"))
    parts: list[RenderableType] = [Text(caption("rope", view.lang), style="italic"),
                                   Text(" · ".join(facts), style="bold")]
    if r < d_k:
        parts.append(Text(word("rope_pass", view.lang).format(a=r + 1, b=d_k), style="dim"))
    if rope.inv_freq is not None:
        omega = ", ".join(_omega_text(w) for w in rope.inv_freq[:6]) + (", …" if half > 6 else "")
        parts.append(Text(f"ω = [{omega}]", style="dim"))
    labels = [f"m={int(p)} {t.label}" for p, t in zip(positions, toks)]
    cols = [f"θ{i + 1}\n({i + 1},{i + 1 + half})" for i in range(half)]
    table, cut = matrix_table(rope.angles, labels, cols, view, corner="θ = m·ω", focus=focus)
    parts += [Text(word("rope_angles", view.lang), style="dim"), table, *([cut] if cut else [])]
    if hd.q_unrotated is not None:
        m = int(positions[focus])
        before, after = hd.q_unrotated[focus], hd.q[focus]
        both = np.stack([before, after]).astype(np.float64)  # (2, d_k)
        dims = [f"d{j + 1}" for j in range(d_k)]
        q_table, q_cut = matrix_table(both, ["q", "RoPE(q)"], dims, view, corner=f"Q{focus + 1}")
        theta = float(rope.angles[focus, 0])
        omega0 = None if rope.inv_freq is None else float(rope.inv_freq[0])
        t_text = view.num(theta) if omega0 is None else f"{m} · {_omega_text(omega0)} = {view.num(theta)}"
        pair = word("rope_pair_line", view.lang).format(
            b=half + 1, t=t_text, a0=view.num(before[0]), b0=view.num(before[half]), a1=view.num(after[0]),
            b1=view.num(after[half]))
        n0, n1 = (float(np.linalg.norm(np.asarray(v, dtype=np.float64))) for v in (before, after))
        key = "rope_norm" if rope.attention_factor == 1.0 else "rope_norm_factor"
        pair_rule = caption("rope_pair", view.lang)
        if rope.attention_factor != 1.0:
            pair_rule += " " + word("rope_pair_factor", view.lang).format(f=f"{rope.attention_factor:.4g}")
        parts += [Text(word("rope_focus", view.lang).format(q=focus + 1, label=toks[focus].label, head=head + 1,
                                                             m=m), style="bold"),
                  q_table, *([q_cut] if q_cut else []), Text(pair_rule, style="dim"),
                  Text(pair), Text(word(key, view.lang).format(n0=view.num(n0), n1=view.num(n1),
                                                                f=f"{rope.attention_factor:.4g}"))]
        relative = _relative_line(trace, head, focus, view)
        if relative is not None:
            parts.append(relative)
    return _panel("rope", Group(*parts), view, subtitle=f"T × r/2 = {len(toks)} × {half}")


def gqa_panel(trace: Trace, head: int | None, view: View) -> Panel:
    """[GQA] which query heads share which K/V head, that they read the same K and V, and the KV cache saved.
    `head`: the head the view shows, marked in the table (None: every head is shown, none marked)."""
    info = trace.attention
    h, g = trace.n_heads, info.n_kv_heads
    group = h // g
    kind = "mqa" if g == 1 else "gqa"
    kv_of = [hd.kv_head if hd.kv_head is not None else i // group for i, hd in enumerate(trace.heads)]
    header = word("gqa_cols", view.lang).split("|")
    rows: list[Text] = []
    width = max(len(_span([i for i in range(h) if kv_of[i] == kv])) for kv in range(g))
    for kv in range(g):
        members = [i for i in range(h) if kv_of[i] == kv]
        line = Text(f"{header[0]} {_span(members):<{width}} → {header[1]} {kv + 1}")
        if head is not None and head in members:
            line.append(f"   ← {word('gqa_this', view.lang).format(head=head + 1, kv=kv + 1)}", style="bold")
        rows.append(line)
    keep = 0 if head is None else kv_of[head]
    d_k = trace.d_k
    pct = f"{100 * g / h:.3g}%"
    parts: list[RenderableType] = [
        Text(caption(kind, view.lang), style="italic"),
        Text(word("gqa_sizes", view.lang).format(h=h, g=g, r=group), style="bold"),
        *_lines(rows, view, keep=keep),
        Text(word("gqa_cache", view.lang).format(g=g, h=h, d_k=d_k, small=2 * g * d_k, big=2 * h * d_k, pct=pct)),
    ]
    members = [i for i in range(h) if kv_of[i] == keep]
    if len(members) > 1:
        a, b = members[0], members[1]
        diff = max(float(np.max(np.abs(trace.heads[i].k - trace.heads[a].k))) for i in members)
        diff = max(diff, *(float(np.max(np.abs(trace.heads[i].v - trace.heads[a].v))) for i in members))
        parts.append(Text(word("gqa_same", view.lang).format(heads=_span(members), a=f"_{a + 1}", b=f"_{b + 1}",
                                                             d=f"{diff:g}"), style="dim"))
    return _panel(kind, Group(*parts), view, subtitle=f"h = {h}, g = {g}, h/g = {group}")


def scale_is_root(trace: Trace) -> bool:
    """True when the scores are scaled by 1/√d_k (shown as ÷ √d_k); False for Gemma's query_pre_attn_scalar."""
    info = trace.attention
    return info is None or math.isclose(info.scale, trace.d_k ** -0.5, rel_tol=1e-6)


def scale_corner(trace: Trace) -> str:
    """The corner of a table of scaled scores: ÷ √d_k, or × the scale the model uses."""
    return "÷ √d_k" if scale_is_root(trace) else f"× {trace.attention.scale:.4g}"


def _scale_expr(trace: Trace) -> tuple[str, str]:
    """(how the scale is written, why): 1/√12 with Gemma's query_pre_attn_scalar, else the number."""
    scale = trace.attention.scale
    inverse_square = 1.0 / (scale * scale)
    if abs(inverse_square - round(inverse_square)) < 1e-6 * inverse_square:
        s = round(inverse_square)
        return f"1/√{s}", s
    return f"{scale:.6g}", None


def scaled_by_panel(trace: Trace, head: int, focus: int, view: View) -> Panel:
    """[Scaled × scale] the scores multiplied by the model's own scale (Gemma: query_pre_attn_scalar^-½), with
    the number it multiplies by, and the focus row worked out."""
    hd = trace.heads[head]
    scale = trace.attention.scale
    expr, s = _scale_expr(trace)
    arch = trace.model.architecture if trace.model else ""
    why = word("scale_gemma", view.lang).format(s=s, d_k=trace.d_k) if s is not None and arch.startswith(
        "gemma") else ""
    shown = f"{scale:.4f}"
    table, cut = matrix_table(hd.scaled, _indexed("Q", trace.query_tokens), _indexed("K", trace.key_tokens), view,
                              corner=f"× {scale:.4g}", focus=focus)
    row_s, row_c = hd.scores[focus], hd.scaled[focus]
    s_w, c_w = _num_width(row_s[None, :], view), _num_width(row_c[None, :], view)
    k_w = len(str(len(row_s)))
    lines = _some_lines(lambda j: Text(f"Q{focus + 1} · K{j + 1:<{k_w}}: {view.num(row_s[j]):>{s_w}} × {shown} = "
                                       f"{view.num(row_c[j]):>{c_w}}"), len(row_s), view)
    head_line = Text(word("scale_used", view.lang).format(expr=expr, value=shown, why=why), style="bold")
    parts = [Text(caption("scaled_by", view.lang), style="italic"), head_line, table, *lines]
    if cut:
        parts.append(cut)
    return _panel("scaled_by", Group(*parts), view)


def softcap_panel(trace: Trace, head: int, focus: int, view: View) -> Panel:
    """[Soft-capping] Gemma 2's cap · tanh(scaled / cap), and the focus row worked out."""
    hd = trace.heads[head]
    cap = trace.attention.softcap
    table, cut = matrix_table(hd.capped, _indexed("Q", trace.query_tokens), _indexed("K", trace.key_tokens), view,
                              corner="cap·tanh", focus=focus)
    row_s, row_c = hd.scaled[focus], hd.capped[focus]
    s_w, c_w = _num_width(row_s[None, :], view), _num_width(row_c[None, :], view)
    k_w = len(str(len(row_s)))
    lines = _some_lines(lambda j: Text(f"Q{focus + 1} · K{j + 1:<{k_w}}: {cap:g} · tanh({view.num(row_s[j]):>{s_w}}"
                                       f" / {cap:g}) = {view.num(row_c[j]):>{c_w}}"), len(row_s), view)
    parts = [Text(caption("softcap", view.lang), style="italic"),
             Text(word("softcap_line", view.lang).format(cap=f"{cap:g}"), style="bold"), table, *lines]
    if cut:
        parts.append(cut)
    return _panel("softcap", Group(*parts), view, subtitle=f"|capped| < {cap:g}")


def mask_what(trace: Trace, lang: str) -> str:
    """causal, causal + sliding window W = 4, or padding."""
    info = trace.attention
    if info is not None and info.window is not None:
        return word("mask_what_window", lang).format(w=info.window)
    return word("mask_what_causal" if trace.causal else "mask_what_padding", lang)


def mask_panel(trace: Trace, head: int, focus: int, view: View) -> Panel:
    """[Mask] the ○/× grid (with the sliding window's width), the masked scores, and which keys the focus query
    sees, which are out of the window and which lie in the future."""
    from .mask import mask_grid

    hd = trace.heads[head]
    info = trace.attention
    window = None if info is None else info.window
    grid, cut = mask_grid(trace, head=head, view=view, focus=focus)
    last = hd.scaled if hd.capped is None else hd.capped
    masked = hd.masked if hd.masked is not None else last
    table, cut2 = matrix_table(masked, _indexed("Q", trace.query_tokens), _indexed("K", trace.key_tokens), view,
                               corner="masked", focus=focus)
    notes = [Text(caption("mask_stage", view.lang), style="italic")]
    if window is not None:
        notes.append(Text(caption("mask_window", view.lang), style="dim"))
    visible = np.ones(hd.weights.shape[1], dtype=bool) if hd.mask is None else hd.mask[focus]
    s = len(visible)
    p = focus + (s - len(trace.query_tokens))  # the focus query's position among the keys
    seen = [j for j in range(s) if visible[j]]
    label = trace.query_tokens[focus].label
    lines = [Text(word("mask_sees", view.lang).format(q=focus + 1, label=label, n=len(seen), s=s,
                                                      keys=_keys(seen) or "—"), style="bold")]
    if window is not None:
        out = [j for j in range(s) if j <= p and p - j >= window]
        if out:
            lines.append(Text(word("mask_window_out", view.lang).format(keys=_keys(out), w=window), style="dim"))
    future = [j for j in range(s) if j > p and not visible[j]]
    if future:
        lines.append(Text(word("mask_future", view.lang).format(keys=_keys(future)), style="dim"))
    parts = [*notes, grid, *([cut] if cut else []), table, *([cut2] if cut2 else []), *lines]
    return _panel("mask_stage", Group(*parts), view, subtitle=word("may_attend", view.lang),
                  what=mask_what(trace, view.lang))
