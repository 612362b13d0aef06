"""The block view: one transformer block (attention, residuals, LayerNorm, FFN) stage by stage."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from ...trace import Trace
from ..text import caption, title, word
from .common import ARROW, View, _indexed, _note, _panel
from .grids import _compact_grid
from .matrix import matrix_table

if TYPE_CHECKING:  # annotations only
    from ...block import DecoderBlockTrace, EncoderBlockTrace
    from ...layers import NormTrace

ACT_NAMES = {"gelu": "GELU", "relu": "ReLU", "gelu_new": "tanh-GELU", "gelu_pytorch_tanh": "tanh-GELU",
             "gelu_fast": "tanh-GELU", "quick_gelu": "QuickGELU", "silu": "SiLU", "swish": "SiLU"}
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩"

PREVIEW_DIMS = 4  # numbers of a vector shown inline in the flow view


def _dims(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{j + 1}" for j in range(n)]


def _matrix(mat: np.ndarray, tokens, view: View, corner: str, focus: int | None, prefix: str = "d",
            note: bool = True) -> list[RenderableType]:
    """A T × n matrix with token rows, and its cut note when it was cut (and `note`)."""
    table, cut = matrix_table(mat, _indexed("", tokens), _dims(prefix, mat.shape[1]), view, corner=corner,
                              focus=focus)
    return [table, *([cut] if cut and note else [])]


def _attention_panel(trace: Trace, key: str, n: str, focus: int, view: View, pre: bool | str = False) -> Panel:
    """① the attention weights of each head (compact grids), then Attn(x) = concat·W_O (T × d_model).
    `pre`: a pre-LN block, whose attention reads LN(x) ("rms": RMS(x))."""
    from rich.columns import Columns

    grids = [_compact_grid(trace, i, focus, view) for i in range(trace.n_heads)]
    cut = grids[0][1]
    pre_key = "blk_pre_attn_rms" if pre == "rms" else "blk_pre_attn"
    parts: list[RenderableType] = [_note(key, view), *([Text(caption(pre_key, view.lang), style="dim")]
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
                    view: View, pre: bool = False, arg: str | None = None, key: str | None = None,
                    f_title: str | None = None) -> Panel:
    """x, f(x) and their sum x + f(x), one under the other (`pre`: x, f(LN(x)) and x + f(LN(x)); `arg` names
    what f reads, `key` the panel's title)."""
    arg = arg or ("LN(x)" if pre else "x")
    names = ["x", f"{f}({arg})", f"x+{f}({arg})"]
    wide = max(cell_len(n) for n in names)
    x_t, sub_t, total_t = (n + " " * (wide - cell_len(n)) for n in names)  # one label column width: aligned
    parts: list[RenderableType] = [_note("blk_residual", view)]
    parts += _matrix(x, tokens, view, x_t, focus, note=False)
    parts += [Text("+", style="bold"), *_matrix(sub, tokens, view, sub_t, focus, note=False)]
    parts += [Text("=", style="bold"), *_matrix(total, tokens, view, total_t, focus)]
    return _panel(key or ("blk_residual_pre" if pre else "blk_residual"), Group(*parts), view,
                  subtitle=f"T × d_model = {x.shape[0]} × {x.shape[1]}", n=n, f=f_title or f)


def _rms_panel(norm: NormTrace, n: str, tokens, focus: int, view: View, key: str, **fmt) -> Panel:
    """RMSNorm: each token's RMS before, the normalised row's RMS (≈ 1) and the output's, the learned scale
    (offset + w) it is multiplied by, and the output matrix. No mean is subtracted and nothing is added."""
    normed_rms = np.sqrt(np.mean(np.square(norm.normed, dtype=np.float64), axis=-1))  # (T,) ≈ 1
    out_rms = np.sqrt(np.mean(np.square(norm.output, dtype=np.float64), axis=-1))  # (T,)
    stats = np.stack([norm.rms, normed_rms, out_rms], axis=1)  # (T, 3)
    cols = word("rms_cols", view.lang).split("|")
    table, cut = matrix_table(stats, _indexed("", tokens), cols, view, corner="RMSNorm", focus=focus)
    f = focus
    line = word("rms_focus", view.lang).format(label=tokens[f].label, ms=view.num(norm.var[f]), eps=f"{norm.eps:g}",
                                               rms=view.num(float(np.sqrt(norm.var[f] + norm.eps))),
                                               r1=view.num(normed_rms[f]))
    scale_name = "1 + w" if norm.offset == 1.0 else "w" if norm.offset == 0.0 else f"{norm.offset:g} + w"
    scale_table, scale_cut = matrix_table(norm.scale[None, :].astype(np.float64), [scale_name],
                                          _dims("d", norm.scale.shape[0]), view)
    parts: list[RenderableType] = [_note("blk_rmsnorm", view),
                                   *([Text(caption(key, view.lang), style="dim")] if key != "blk_rmsnorm" else []),
                                   table, *([cut] if cut else []), Text(line, style="bold"),
                                   Text(word("rms_scale", view.lang).format(scale=scale_name), style="dim")]
    if np.all(norm.scale == 1):  # the seeded block's initial w = 1: nothing to show but the rule
        parts.append(Text(word("rms_scale_one", view.lang), style="dim"))
    else:
        parts += [scale_table, *([scale_cut] if scale_cut else [])]
    parts += _matrix(norm.output, tokens, view, "RMSNorm(x)", focus)
    return _panel(key, Group(*parts), view, n=n, **fmt)


def _norm_panel(norm: NormTrace, n: str, tokens, focus: int, view: View, key: str = "blk_norm", **fmt) -> Panel:
    """Per-token mean and variance before (and ~0, ~1 after), γ and β, and the normalised matrix.
    `key` titles the panel (blk_final_norm: a model's final LayerNorm). An RMSNorm has its own panel."""
    if norm.kind == "rms":
        rms_key = {"blk_norm": "blk_rmsnorm", "blk_final_norm": "blk_final_rmsnorm"}.get(key, key)
        return _rms_panel(norm, n, tokens, focus, view, rms_key, **fmt)
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


def _gated_panel(ffn, n: str, tokens, focus: int, view: View) -> Panel:
    """A gated FFN (SwiGLU, GeGLU): gate = x·W_gate, act(gate), up = x·W_up, act(gate) ⊙ up, then ·W_down."""
    t, d = ffn.input.shape
    f = ffn.hidden.shape[1]
    act = ACT_NAMES.get(ffn.activation, ffn.activation)
    shapes = word("gated_shapes", view.lang).format(t=t, d=d, f=f, act=act)
    parts: list[RenderableType] = [_note("blk_gated", view), Text(shapes, style="dim")]
    parts += _matrix(ffn.hidden, tokens, view, "gate = x·W_g", focus, prefix="h", note=False)
    parts += [ARROW, *_matrix(ffn.activated, tokens, view, f"{act}(gate)", focus, prefix="h", note=False)]
    parts += [Text("⊙", style="bold"), *_matrix(ffn.up, tokens, view, "up = x·W_up", focus, prefix="h", note=False)]
    parts += [Text("=", style="bold"), *_matrix(ffn.product, tokens, view, "act ⊙ up", focus, prefix="h")]
    g, a, u, p = (m[focus] for m in (ffn.hidden, ffn.activated, ffn.up, ffn.product))
    terms = ", ".join(f"{view.num(a[j])} × {view.num(u[j])} = {view.num(p[j])}" for j in range(min(PREVIEW_DIMS - 1,
                                                                                                      len(g))))
    more = ", …" if len(g) > PREVIEW_DIMS - 1 else ""
    parts += [Text(word("gated_focus", view.lang).format(label=tokens[focus].label, act=act), style="bold"),
              Text(f"  {terms}{more}")]
    parts += [ARROW, *_matrix(ffn.output, tokens, view, "·W_down", focus)]
    return _panel("blk_gated", Group(*parts), view, subtitle=f"d_model → d_ff → d_model = {d} → {f} → {d}", n=n,
                  kind=_gated_name(ffn.activation))


def _gated_name(activation: str) -> str:
    """SwiGLU (SiLU gate) or GeGLU (a GELU gate)."""
    return "SwiGLU" if activation in ("silu", "swish") else "GeGLU" if "gelu" in activation else "GLU"


def _ffn_panel(ffn, n: str, tokens, focus: int, view: View) -> Panel:
    """x·W₁ + b₁ (T × d_ff), act(…) (T × d_ff), ·W₂ + b₂ (T × d_model); a gated FFN has its own panel."""
    if ffn.gated:
        return _gated_panel(ffn, n, tokens, focus, view)
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
    layer = info.layer
    fmt = {"block": title(kind, view.lang), "name": info.name, "layer": layer}
    line = word("block_model_line", view.lang).format(arch=info.architecture, n=info.n_layers,
                                                      last=info.n_layers - 1, layer=layer, next=layer + 1)
    return "block_model", fmt, [Text(line, style="dim")]


def _pre_steps(bt: EncoderBlockTrace, tokens, focus: int, view: View) -> list[tuple[str, dict, Callable]]:
    """A pre-norm block's steps in order, each (title key, its placeholders, panel(n)): GPT-2's ① LayerNorm →
    ② attention on LN(x) → ③ x + Attn(LN(x)) → ④ LayerNorm → ⑤ FFN → ⑥ h + FFN(LN(h)) [→ ⑦ the final
    LayerNorm]; Llama's the same with RMSNorm and a gated FFN; Gemma 2/3 add a norm on the attention's and the
    FFN's outputs before each residual (post_attn, post_ffn)."""
    first = bt.attention
    rms = bt.norm1.kind == "rms"
    norm_key, arg = ("blk_rmsnorm", "RMS(x)") if rms else ("blk_norm", "LN(x)")
    attn = "blk_masked" if first.causal else "blk_attn"
    ffn_key, ffn_fmt = ("blk_gated", {"kind": _gated_name(bt.ffn.activation)}) if bt.ffn.gated else ("blk_ffn", {})

    def residual(x, out, total, f: str, post) -> tuple[str, dict, Callable]:
        if post is None:
            key = "blk_residual_rms" if rms else "blk_residual_pre"
            return key, {"f": f}, lambda n: _residual_panel(x, out, total, f, n, tokens, focus, view, pre=True,
                                                            arg=arg, key=key)
        return "blk_residual_post", {"f": f}, lambda n: _residual_panel(
            x, post.output, total, "N′", n, tokens, focus, view, arg=f, key="blk_residual_post", f_title=f)

    steps = [(norm_key, {}, lambda n: _norm_panel(bt.norm1, n, tokens, focus, view)),
             (attn, {}, lambda n: _attention_panel(first, attn, n, focus, view, pre="rms" if rms else True))]
    if bt.post_attn is not None:
        steps.append(("blk_post_norm", {"f": "Attn"}, lambda n: _norm_panel(bt.post_attn, n, tokens, focus, view,
                                                                             key="blk_post_norm", f="Attn")))
    steps += [residual(bt.x, first.output, bt.residual1, "Attn", bt.post_attn),
              (norm_key, {}, lambda n: _norm_panel(bt.norm2, n, tokens, focus, view)),
              (ffn_key, ffn_fmt, lambda n: _ffn_panel(bt.ffn, n, tokens, focus, view))]
    if bt.post_ffn is not None:
        steps.append(("blk_post_norm", {"f": "FFN"}, lambda n: _norm_panel(bt.post_ffn, n, tokens, focus, view,
                                                                            key="blk_post_norm", f="FFN")))
    steps.append(residual(bt.residual1, bt.ffn.output, bt.residual2, "FFN", bt.post_ffn))
    if bt.final_norm is not None:
        final = "blk_final_rmsnorm" if rms else "blk_final_norm"
        steps.append((final, {}, lambda n: _norm_panel(bt.final_norm, n, tokens, focus, view, key="blk_final_norm")))
    return steps


def _pre_ln_parts(bt: EncoderBlockTrace, tokens, focus: int, view: View) -> list[RenderableType]:
    """A pre-norm block's panels, numbered ①, ②, … in order and joined by ↓ (see _pre_steps)."""
    parts: list[RenderableType] = []
    for i, (_, _, make) in enumerate(_pre_steps(bt, tokens, focus, view)):
        parts += [*([ARROW] if i else []), make(CIRCLED[i])]
    return parts


def _steps_text(bt: EncoderBlockTrace, view: View) -> str:
    """The header's list of steps: the seeded post-LN wording, or a pre-norm block's own order."""
    if not (bt.kind == "encoder" and bt.norm_first):
        text = word(f"block_steps_{bt.kind}", view.lang)
        if bt.params.norm == "rms":
            text = text.replace("LayerNorm", "RMSNorm")
        if bt.params.gated:
            text = "\n".join(title("blk_gated", view.lang).format(n=line[0], kind=_gated_name(bt.params.activation))
                             if "(FFN)" in line else line for line in text.split("\n"))
        return text
    steps = _pre_steps(bt, bt.attention.query_tokens, 0, view)
    return "\n".join(title(key, view.lang).format(n=CIRCLED[i], **fmt) for i, (key, fmt, _) in enumerate(steps))


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
    dims_key = "block_dims_rms" if p.norm == "rms" or p.gated else "block_dims_pre" if pre else "block_dims"
    info = first.attention
    act = ACT_NAMES.get(p.activation, p.activation)
    g = first.n_heads if info is None else info.n_kv_heads
    ffn = (word("ffn_gated_desc", view.lang).format(kind=_gated_name(p.activation), act=act) if p.gated
           else f"{act} FFN")
    dims = word(dims_key, view.lang).format(
        d=p.d_model, f=p.d_ff, h=first.n_heads, act=act, eps=f"{p.eps:g}", ffn=ffn,
        kv=word("kv_heads_n", view.lang).format(g=g) if g != first.n_heads else "",
        norm="RMSNorm" if p.norm == "rms" else "LayerNorm", order=("pre" if pre else "post"))
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
        last = info.layer == info.n_layers - 1
        out_note = _note("blk_output_model_last" if last else "blk_output_model", view, layer=info.layer,
                         next=info.layer + 1)
    else:
        out_note = _note(f"blk_output_{bt.kind}", view)
    parts += [ARROW, _panel("blk_output", out_note, view, subtitle=f"T × d_model = {t} × {d}")]
    return Group(*parts)
