"""The block view: one transformer block (attention, residuals, LayerNorm, FFN) stage by stage."""

from __future__ import annotations

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
             "gelu_fast": "tanh-GELU", "quick_gelu": "QuickGELU"}

PREVIEW_DIMS = 4  # numbers of a vector shown inline in the flow view


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
    layer = info.layer
    fmt = {"block": title(kind, view.lang), "name": info.name, "layer": layer}
    line = word("block_model_line", view.lang).format(arch=info.architecture, n=info.n_layers,
                                                      last=info.n_layers - 1, layer=layer, next=layer + 1)
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
        last = info.layer == info.n_layers - 1
        out_note = _note("blk_output_model_last" if last else "blk_output_model", view, layer=info.layer,
                         next=info.layer + 1)
    else:
        out_note = _note(f"blk_output_{bt.kind}", view)
    parts += [ARROW, _panel("blk_output", out_note, view, subtitle=f"T × d_model = {t} × {d}")]
    return Group(*parts)
