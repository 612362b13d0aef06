"""The attention math, in numpy alone: softmax, masks, positions, scaled dot-product, heads.

Shape legend (used in every docstring and comment below):
    T        query tokens
    S        key tokens (S == T for self-attention)
    h        heads
    d_model  width of a token vector
    d_k      width of one head's query/key vectors
    d_v      width of one head's value vectors

Everything here is a pure function of its arguments: no printing, no files, no global state.
"""

from __future__ import annotations

import numpy as np


def softmax(x: np.ndarray, axis: int = -1, dtype: type | None = None) -> np.ndarray:
    """softmax(x)_j = exp(x_j - max x) / sum_i exp(x_i - max x), along `axis`.

    Subtracting the row maximum keeps exp() from overflowing; it does not change the result.
    A row whose every entry is -inf (every key hidden by a mask) has no distribution: it comes
    back as all zeros, never NaN. Computed in float64 unless `dtype` says otherwise (e.g. np.float32).
    """
    x = np.asarray(x, dtype=np.float64 if dtype is None else dtype)
    row_max = np.max(x, axis=axis, keepdims=True)
    hidden_row = ~np.isfinite(row_max)  # all -inf (or an empty row)
    exp = np.subtract(x, np.where(hidden_row, 0.0, row_max).astype(x.dtype))  # shifted: every entry ≤ 0
    np.exp(exp, out=exp)  # exp(-inf) = 0 for hidden cells; the shifted copy reused in place
    total = np.sum(exp, axis=axis, keepdims=True)  # ≥ 1 on a row with a visible cell, 0 on a hidden row
    return np.divide(exp, total, out=exp, where=total > 0)  # a hidden row stays all zeros


def positional_encoding(n_positions: int, d_model: int) -> np.ndarray:
    """Sinusoidal positions (Vaswani et al. 2017), shape (n_positions, d_model).

    P[pos, 2i]   = sin(pos / 10000^(2i / d_model))
    P[pos, 2i+1] = cos(pos / 10000^(2i / d_model)),   pos = 0, 1, …
    """
    pos = np.arange(n_positions, dtype=np.float64)[:, None]  # (T, 1)
    two_i = np.arange(0, d_model, 2, dtype=np.float64)[None, :]  # (1, ceil(d_model/2))
    angle = pos / np.power(10000.0, two_i / d_model)  # (T, ceil(d_model/2))
    p = np.zeros((n_positions, d_model), dtype=np.float64)
    p[:, 0::2] = np.sin(angle)
    p[:, 1::2] = np.cos(angle[:, : d_model // 2])
    return p


def causal_mask(t: int, s: int | None = None) -> np.ndarray:
    """Look-ahead mask, shape (T, S), True = may attend.

    Query i sees key j when j <= i + (S - T): itself and everything before it.
    """
    s = t if s is None else s
    return np.tril(np.ones((t, s), dtype=bool), k=s - t)


def padding_mask(key_is_real: np.ndarray, t: int) -> np.ndarray:
    """Padding mask, shape (T, S), True = may attend: every query sees the real keys only."""
    key_is_real = np.asarray(key_is_real, dtype=bool)  # (S,)
    return np.broadcast_to(key_is_real[None, :], (t, key_is_real.shape[0])).copy()  # (T, S)


def attention_stages(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray | None = None, output: bool = True,
    dtype: type | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray, np.ndarray | None]:
    """Scaled dot-product attention, every stage kept.

    q (T, d_k), k (S, d_k), v (S, d_v), mask (T, S) bool with True = may attend, or None.

        scores  = q kᵀ                        (T, S)
        scaled  = scores / √d_k               (T, S)
        masked  = scaled, −∞ where hidden     (T, S)   None when there is no mask
        weights = softmax(masked) row by row  (T, S)   a hidden cell is exactly 0
        output  = weights v                   (T, d_v)

    Returns (scores, scaled, masked, weights, output); output is None when `output` is False (the
    caller computes it another way, e.g. tiled). `dtype` (e.g. np.float32: half the memory of each
    (T, S) stage) computes every stage in that type; by default the softmax is taken in float64.
    """
    d_k = q.shape[-1]
    if dtype is not None:
        q, k, v = (np.asarray(a, dtype=dtype) for a in (q, k, v))  # (T, d_k), (S, d_k), (S, d_v)
    root = np.sqrt(d_k) if dtype is None else np.dtype(dtype).type(np.sqrt(d_k))
    scores = q @ k.T  # (T, S)
    scaled = scores / root  # (T, S)
    masked = None if mask is None else np.where(mask, scaled, -np.inf)  # (T, S)
    weights = softmax(scaled if masked is None else masked, dtype=dtype)  # (T, S)
    return scores, scaled, masked, weights, (weights @ v if output else None)  # output (T, d_v)


def split_heads(x: np.ndarray, n_heads: int) -> np.ndarray:
    """(T, h·d) → (h, T, d): head i owns columns i·d … (i+1)·d − 1."""
    t, width = x.shape
    return x.reshape(t, n_heads, width // n_heads).transpose(1, 0, 2)  # (h, T, d)


def merge_heads(x: np.ndarray) -> np.ndarray:
    """(h, T, d) → (T, h·d): the heads' outputs side by side (concatenation)."""
    h, t, d = x.shape
    return x.transpose(1, 0, 2).reshape(t, h * d)  # (T, h·d)


def entropy(weights: np.ndarray, axis: int = -1) -> np.ndarray:
    """Shannon entropy in nats of each probability row: −Σ p log p (0 log 0 = 0)."""
    p = np.asarray(weights, dtype=np.float64)
    logp = np.log(p, out=np.zeros_like(p), where=p > 0)
    return -np.sum(p * logp, axis=axis)


def tiled_attention_with_stats(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, block: int = 64, mask: np.ndarray | None = None,
    causal: bool = False, query_block: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tiled (FlashAttention) forward pass with online softmax; returns (output, m, ℓ).

    q (T, d_k), k (S, d_k), v (S, d_v); mask (T, S) bool with True = may attend, or None;
    causal: query i sees key j only when j ≤ i + (S − T), as in `causal_mask`.

    Queries go in tiles of `query_block` rows (default: `block`), keys in blocks of `block`. For each
    query tile, over the key blocks j = 1, 2, … (s = the tile's scaled scores q kⱼᵀ / √d_k):

        m_new = max(m, rowmax(s))                 running max, per query
        p     = exp(s − m_new)                    (Bq, Bk)   at most 1: never overflows
        α     = exp(m − m_new)                    rescale what was summed against the old max
        ℓ     = α ℓ + rowsum(p)                   running sum of exp
        acc   = α acc + p vⱼ                      (Bq, d_v)  running (unnormalized) output
    and at the end output = acc / ℓ, which equals softmax(q kᵀ / √d_k) v.

    Only a (Bq, Bk) tile of scores exists at any time, never the (T, S) matrix. A block that a
    causal mask hides entirely (above the diagonal) is skipped. A query whose every key is hidden
    ends with m = −∞ and ℓ = 0, and its output row is zeros, never NaN. float32 inputs are computed
    and returned in float32, float64 in float64 (other inputs in float64).

    Returns output (T, d_v), m (T,) the largest scaled score per query (−∞ when every key is
    hidden) and ℓ (T,) = Σ_j exp(scaled_j − m) over the visible keys.
    """
    dtype = np.result_type(q, k, v, np.float32)  # float32 stays float32; float64 (or ints) → float64
    t, d_k = q.shape
    s_len, d_v = v.shape
    bk = max(1, int(block))
    bq = bk if query_block is None else max(1, int(query_block))
    offset = s_len - t  # causal: query i sees keys j ≤ i + offset
    q_scaled = np.asarray(q, dtype=dtype) * dtype.type(1.0 / np.sqrt(d_k))  # (T, d_k)  ÷ √d_k once, here
    k_t = np.ascontiguousarray(np.asarray(k, dtype=dtype).T)  # (d_k, S)  contiguous for fast matmul
    v = np.asarray(v, dtype=dtype)  # (S, d_v)
    mask = None if mask is None else np.asarray(mask, dtype=bool)  # (T, S)
    output = np.zeros((t, d_v), dtype=dtype)  # (T, d_v)
    m_all = np.full(t, -np.inf, dtype=dtype)  # (T,)
    l_all = np.zeros(t, dtype=dtype)  # (T,)
    for i0 in range(0, t, bq):
        i1 = min(i0 + bq, t)
        q_tile = q_scaled[i0:i1]  # (Bq, d_k)
        m = np.full(i1 - i0, -np.inf, dtype=dtype)  # (Bq,) running max
        ell = np.zeros(i1 - i0, dtype=dtype)  # (Bq,) running sum ℓ
        acc = np.zeros((i1 - i0, d_v), dtype=dtype)  # (Bq, d_v) running output, not yet ÷ ℓ
        stop = s_len if not causal else min(s_len, max(0, i1 + offset))  # causal: keys past the tile's last
        # query's diagonal (j > i1 − 1 + offset) are hidden from every query of the tile: never visited
        for j0 in range(0, stop, bk):
            j1 = min(j0 + bk, s_len)
            scaled = q_tile @ k_t[:, j0:j1]  # (Bq, Bk)  q kᵀ / √d_k for this tile
            hidden = None if mask is None else ~mask[i0:i1, j0:j1]  # (Bq, Bk)
            if causal and j1 - 1 > i0 + offset:  # a tile on the diagonal: some keys lie in the future
                future = np.arange(j0, j1)[None, :] > np.arange(i0, i1)[:, None] + offset  # (Bq, Bk)
                hidden = future if hidden is None else hidden | future
            if hidden is not None:
                if hidden.all():
                    continue  # nothing visible in this tile
                scaled[hidden] = -np.inf
            m_new = np.maximum(m, scaled.max(axis=1))  # (Bq,)
            m_safe = np.where(np.isfinite(m_new), m_new, 0)  # (Bq,)  a row with nothing seen yet: −∞ − 0
            alpha = np.exp(m - m_safe)  # (Bq,)  exp(m_old − m_new); 0 on the first visible block
            np.subtract(scaled, m_safe[:, None], out=scaled)  # (Bq, Bk)  s − m_new ≤ 0
            p = np.exp(scaled, out=scaled)  # (Bq, Bk)  exp(s − m_new), the tile reused in place
            ell = alpha * ell + p.sum(axis=1)  # (Bq,)
            acc *= alpha[:, None]  # (Bq, d_v)
            acc += p @ v[j0:j1]  # (Bq, d_v)
            m = m_new
        np.divide(acc, ell[:, None], out=output[i0:i1], where=ell[:, None] > 0)  # (Bq, d_v); ℓ = 0 → 0
        m_all[i0:i1], l_all[i0:i1] = m, ell
    return output, m_all, l_all


def tiled_attention(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, block: int = 64, mask: np.ndarray | None = None,
    causal: bool = False, query_block: int | None = None,
) -> np.ndarray:
    """softmax(q kᵀ / √d_k) v without the (T, S) matrix: the FlashAttention forward, online softmax.

    q (T, d_k), k (S, d_k), v (S, d_v) → output (T, d_v), equal to `attention_stages(q, k, v, mask)[-1]`
    (with `causal`, the mask `causal_mask(T, S)` and'ed in) up to float rounding; see
    `tiled_attention_with_stats` for the recurrence. Memory: one (query_block, block) tile of scores
    plus O(T·d_v), so it runs on sequences whose score matrix would not fit. float32 in → float32 out.
    """
    return tiled_attention_with_stats(q, k, v, block, mask, causal, query_block)[0]
