"""A transformer block as a strip of heatmaps joined by arrows (`block_figure`)."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from ..text import word
from .canvas import _axes, _cut, _new_figure, _sentence, _text
from .checks import _check_drawable, _check_style
from .style import FONT_FAMILY, THEMES, _short


def block_figure(block, *, theme: str = "light", lang: str = "en", precision: int = 2) -> Figure:
    """A transformer block as a strip of heatmaps joined by arrows, rows = tokens, columns = dimensions:
    x → Attn(x) → x + Attn(x) → LayerNorm → FFN → + → LayerNorm (a decoder block adds its
    cross-attention step). A pre-LN block (norm_first: GPT-2's layers from attnviz.models.block_trace)
    reads x → LayerNorm → Attn(LN(x)) → x + Attn(LN(x)) → LayerNorm → FFN → + (→ the model's final
    LayerNorm after its last block). Each panel is titled with its stage and shape; a checkpoint's block
    names the model and the layer."""
    _check_style(theme, lang, precision)
    th = THEMES[theme]
    decoder = hasattr(block, "self_attention")
    attn = block.self_attention if decoder else block.attention
    pre = not decoder and getattr(block, "norm_first", False)
    if pre and block.norm1.kind == "rms":  # Llama-style: RMSNorm, a gated FFN, Gemma's norms after each sublayer
        post_attn, post_ffn = getattr(block, "post_attn", None), getattr(block, "post_ffn", None)
        act = block.ffn.activation
        ffn = (("SwiGLU" if act in ("silu", "swish") else "GeGLU" if "gelu" in act else "GLU") + " FFN"
               if block.ffn.gated else f"FFN ({act})")
        stages = [("x", block.x), ("RMSNorm", block.norm1.output), ("Attn(RMS(x))", attn.output),
                  *([("N′(Attn)", post_attn.output)] if post_attn is not None else []),
                  ("x + Attn", block.residual1), ("RMSNorm", block.norm2.output), (ffn, block.ffn.output),
                  *([("N′(FFN)", post_ffn.output)] if post_ffn is not None else []), ("x + FFN", block.residual2)]
        if block.final_norm is not None:
            stages.append(("final RMSNorm", block.final_norm.output))
    elif pre:
        stages = [("x", block.x), ("LayerNorm", block.norm1.output), ("Attn(LN(x))", attn.output),
                  ("x + Attn(LN(x))", block.residual1), ("LayerNorm", block.norm2.output),
                  (f"FFN ({block.ffn.activation})", block.ffn.output), ("x + FFN(LN(x))", block.residual2)]
        if block.final_norm is not None:
            stages.append(("final LayerNorm", block.final_norm.output))
    else:
        norm = "RMSNorm" if block.norm1.kind == "rms" else "LayerNorm"
        stages = [("x", attn.x), ("Attn(x)", attn.output), ("x + Attn(x)", block.norm1.input),
                  (norm, block.norm1.output)]
        if decoder:
            stages += [("Cross(·)", block.cross_attention.output), (f"+ → {norm}", block.norm2.output)]
        last = block.norm3 if decoder else block.norm2
        stages += [(f"FFN ({block.ffn.activation})", block.ffn.output), (f"+ → {norm}", last.output)]
    width, height = 16.0, 9.0
    fig = _new_figure((width, height), th)
    n = len(stages)
    arrow, margin = 0.35, 1.0
    side = (width - 2 * margin - (n - 1) * arrow) / n
    t, d = attn.x.shape
    panel_h = float(np.clip(max(side * t / d * 3.0, 0.2 * t), 2.0, height - 3.6))  # tall enough to read a row
    y = (height - panel_h) / 2
    limit = max(float(np.max(np.abs(m))) for _, m in stages) or 1.0
    _check_drawable(limit, "the block's values")
    typical = float(np.percentile(np.concatenate([np.abs(m).ravel() for _, m in stages]), 99))
    clipped = typical > 0 and limit > 3 * typical  # a few outlier dimensions (real BERTs have them) would wash
    if clipped:  # every other cell out: clip the colour scale at the 99th percentile and say so
        limit = typical
    cmap, norm = mpl.colormaps[th.diverging], Normalize(-limit, limit)
    image = None
    labels = [_short(tok.label) for tok in attn.query_tokens]
    for i, (name, matrix) in enumerate(stages):
        x0 = margin + i * (side + arrow)
        ax = _axes(fig, (x0, y, side, panel_h))
        image = ax.imshow(matrix, cmap=cmap, norm=norm, interpolation="nearest", aspect="auto")
        ax.set_xticks([])
        ax.set_yticks(range(t) if i == 0 and t <= 24 else [])
        if i == 0 and t <= 24:
            ax.set_yticklabels(labels, fontsize=9, color=th.fg, fontfamily=FONT_FAMILY)
        for spine in ax.spines.values():
            spine.set_color(th.muted)
        _text(fig, x0 + side / 2, y + panel_h + 0.15, name, th.fg, 11.0)
        _text(fig, x0 + side / 2, y - 0.3, f"{matrix.shape[0]}×{matrix.shape[1]}", th.muted, 9.5)
        if i:
            _text(fig, x0 - arrow / 2, y + panel_h / 2, "→", th.fg, 14.0, va="center")
    heading = word("decoder_block", lang) if decoder else word("encoder_block", lang)
    info = None if decoder else attn.model
    if info:  # a checkpoint's layer: "Decoder-only block · tiny-gpt2 · layer 1"
        if attn.causal:
            heading = "디코더 전용 블록" if lang == "ko" else "Decoder-only block"
        layer = f"{info.layer}층" if lang == "ko" else f"layer {info.layer}"
        heading = f"{heading} · {_cut(info.name, 40)} · {layer}"
    _text(fig, width / 2, height - 0.9, f"{heading}: “{_sentence(attn, 40 if info else 60)}”", th.fg, 15.0)
    _text(fig, width / 2, 0.6, f"{word('token_rows', lang)} × {word('dim_cols', lang)} · d_ff = "
          f"{block.ffn.hidden.shape[1]}" + ((" · pre-norm RMSNorm" if block.norm1.kind == "rms" else " · pre-LN")
                                             if pre else "")
          + (f" · |values| > {limit:.{precision}f} {'색 범위 밖' if lang == 'ko' else 'off the colour scale'}"
             if clipped else ""), th.muted, 10.5)
    if image is not None:
        cax = _axes(fig, (width / 2 - 2.5, 1.2, 5.0, 0.16))
        bar = fig.colorbar(image, cax=cax, orientation="horizontal", extend="both" if clipped else "neither")
        bar.ax.tick_params(colors=th.fg, labelsize=9)
        bar.outline.set_edgecolor(th.muted)
    return fig
