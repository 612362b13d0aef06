"""Cross-attention of a checkpoint: queries from the decoder's stream, keys and values from the encoder's output.

One function, shared by every family with a decoder that reads another stack (T5, BART, Marian, and a GPT-2
with cross-attention under a vision encoder):

    q = x W_Q + b_Q        (T, h·d_k)   x: the decoder's (normed) hidden states, T target tokens
    k = memory W_K + b_K   (S, h·d_k)   memory: the encoder's final output, S source tokens (or image patches)
    v = memory W_V + b_V   (S, h·d_v)
    per head: scores = q kᵀ (T, S) → scaled (÷√d_k, or × scale; T5: × 1) → [masked] → softmax → weights v
    concat (T, h·d_v) → output = concat W_O + b_O (T, d_model)

No causal mask (every target token sees the whole source); `mask` (T, S) hides padded source tokens.
"""

from __future__ import annotations

import numpy as np

from .. import attention
from ..layers import matmul
from ..trace import AttentionInfo, HeadTrace
from .base import AttentionWeights, LayerAttention, linear


def _plus(y: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    return y if b is None else y + b


def cross_attention(w: AttentionWeights, x: np.ndarray, memory: np.ndarray, n_heads: int, *,
                    scale: float | None = None, mask: np.ndarray | None = None,
                    embeddings: np.ndarray | None = None, positions: np.ndarray | None = None,
                    exact: bool = False) -> LayerAttention:
    """One layer's multi-head cross-attention, every stage kept (see the module docstring).

    w: the layer's cross-attention projections as `x @ W` takes them; x (T, d_model) the decoder side;
    memory (S, d_model) the encoder side; scale None divides the scores by √d_k, a number multiplies them
    (T5: 1.0, no scaling). embeddings/positions are recorded with the result (default: x and zeros). exact:
    Q, K, V accumulated in float64 and rounded once (base.linear; T5).
    Returns a LayerAttention whose `memory` is the encoder side and whose `info` is set when scale is given.
    """
    h = n_heads
    q = attention.split_heads(linear(x, w.w_q, w.b_q, exact), h)  # (h, T, d_k)
    k = attention.split_heads(linear(memory, w.w_k, w.b_k, exact), h)  # (h, S, d_k)
    v = attention.split_heads(linear(memory, w.w_v, w.b_v, exact), h)  # (h, S, d_v)
    heads = []
    for j in range(h):
        if scale is None:
            scores, scaled, masked, probs, out = attention.attention_stages(q[j], k[j], v[j], mask)
        else:
            st = attention.head_stages(q[j], k[j], v[j], mask, scale=scale)
            scores, scaled, masked, probs, out = st.scores, st.scaled, st.masked, st.weights, st.output
        heads.append(HeadTrace(q[j], k[j], v[j], scores, scaled, mask, masked, probs, out))
    concat = attention.merge_heads(np.stack([hd.output for hd in heads]))  # (T, h·d_v) float64
    output = _plus(matmul(concat, w.w_o), w.b_o)  # (T, d_model) in float64, as concat is
    info = None if scale is None else AttentionInfo(h, float(scale))
    return LayerAttention(x, x if embeddings is None else embeddings,
                          np.zeros_like(x) if positions is None else positions, tuple(heads), concat, output, info,
                          memory)
