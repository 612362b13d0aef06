"""The attention math, in numpy alone: softmax, masks, soft-capping, scaled dot-product, heads, K/V groups.

Shape legend (used in every docstring and comment below):
    T        query tokens
    S        key tokens (S == T for self-attention)
    h        heads (query heads)
    g        K/V heads (g == h for multi-head, 1 for multi-query, in between for grouped-query attention)
    d_model  width of a token vector
    d_k      width of one head's query/key vectors
    d_v      width of one head's value vectors

Everything here is a pure function of its arguments: no printing, no files, no global state.
Positions (sinusoidal, RoPE, T5's relative bias) live in positions.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

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


def sliding_window_mask(t: int, window: int, s: int | None = None, *, causal: bool = True) -> np.ndarray:
    """Sliding-window mask, shape (T, S), True = may attend (Mistral, Qwen2/3, Gemma 2/3, Phi-3).

    Query i sits at position p = i + (S − T) (as in `causal_mask`) and sees key j when

        j ≤ p  and  p − j < window

    itself and the window − 1 keys before it. This is transformers' `kv_idx > q_idx − sliding_window` and'ed
    with the causal mask (masking_utils.sliding_window_causal_mask_function), the same rule for every
    family in transformers 5. causal=False: |p − j| < window, Gemma 3's bidirectional variant (whose
    config's window is already window // 2 + 1). A window ≥ S is the plain causal mask.
    """
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"the sliding window must be a whole number of tokens ≥ 1, got {window!r}")
    s = t if s is None else s
    distance = (np.arange(t)[:, None] + (s - t)) - np.arange(s)[None, :]  # (T, S)  p − j
    if causal:
        return (distance >= 0) & (distance < window)
    return np.abs(distance) < window


@dataclass(frozen=True)
class TileMask:
    """A mask described, never built: causal (key j visible to query i when j ≤ i + offset) and/or a sliding
    window (also i + offset − j < window); offset = S − T. `tile` gives one (Bq, Bk) block of it; `full` the
    dense (T, S) mask that `causal_mask` / `sliding_window_mask` build."""

    causal: bool = False
    window: int | None = None
    offset: int = 0

    def skips(self, i0: int, i1: int, j0: int, j1: int) -> bool:
        """True when the tile (queries i0…i1−1, keys j0…j1−1) is hidden entirely."""
        if self.causal and j0 > i1 - 1 + self.offset:  # every key after the last query's diagonal
            return True
        return self.window is not None and (i0 + self.offset) - (j1 - 1) >= self.window  # all out of the window

    def tile(self, i0: int, i1: int, j0: int, j1: int) -> np.ndarray | None:
        """(Bq, Bk) bool, True = may attend; None when every cell of the tile is visible."""
        if not self.causal and self.window is None:
            return None
        if (not self.causal or j1 - 1 <= i0 + self.offset) and (
                self.window is None or (i1 - 1 + self.offset) - j0 < self.window):
            return None  # below the diagonal and inside the window: nothing hidden
        distance = (np.arange(i0, i1)[:, None] + self.offset) - np.arange(j0, j1)[None, :]  # (Bq, Bk)  p − j
        visible = distance >= 0 if self.causal else np.ones(distance.shape, dtype=bool)
        if self.window is not None:
            visible &= distance < self.window
        return visible

    def full(self, t: int, s: int) -> np.ndarray | None:
        """The whole (T, S) mask (for short inputs and tests only)."""
        return self.tile(0, t, 0, s) if (self.causal or self.window is not None) else None


def _cap(x: np.ndarray, cap: float) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    if not cap > 0:
        raise ValueError(f"the soft cap must be a positive number, got {cap!r}")
    c = x.dtype.type(cap)
    return np.tanh(x / c) * c  # transformers' order: ÷ cap, tanh, × cap


def softcap(x: np.ndarray, cap: float) -> np.ndarray:
    """Soft-capping (Gemma 2's attention logits and final logits): cap · tanh(x / cap), same shape.

    Smooth, odd and increasing; about x for |x| ≪ cap, and never beyond ±cap. float32 stays float32.
    """
    return _cap(x, cap)


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


class HeadStages(NamedTuple):
    """Every stage of one head's attention (see `head_stages`); a stage that was not asked for is None."""

    scores: np.ndarray  # (T, S)  q kᵀ
    scaled: np.ndarray  # (T, S)  scores · scale
    biased: np.ndarray | None  # (T, S)  scaled + bias (T5, ALiBi)
    capped: np.ndarray | None  # (T, S)  softcap(…) (Gemma 2)
    masked: np.ndarray | None  # (T, S)  −∞ where hidden
    weights: np.ndarray  # (T, S)  softmax rows
    output: np.ndarray  # (T, d_v)  weights v


def head_stages(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray | None = None, *, scale: float | None = None,
    softcap: float | None = None, bias: np.ndarray | None = None, dtype: type | None = None,
) -> HeadStages:
    """One head's attention with every stage of the real model families kept.

    q (T, d_k), k (S, d_k), v (S, d_v), mask (T, S) bool with True = may attend, or None.

        scores  = q kᵀ                                  (T, S)
        scaled  = scores · scale                        (T, S)   default scores / √d_k
        biased  = scaled + bias                         (T, S)   None without a bias
        capped  = cap · tanh(biased / cap)              (T, S)   None without softcap
        masked  = (the last of those), −∞ where hidden  (T, S)   None without a mask
        weights = softmax(masked) row by row            (T, S)
        output  = weights v                             (T, d_v)

    scale: None divides by √d_k (exactly `attention_stages`); Llama-style models multiply by d_k**-0.5,
    Gemma by query_pre_attn_scalar**-0.5, and T5 does not scale (scale=1.0). bias (T, S) is added after
    scaling, as T5 adds its position bias and ALiBi its slopes. float32 q, k (with dtype=None) give float32
    scores, scaled, biased and capped, as transformers computes them, and a float64 softmax; `dtype` computes
    every stage in that type, as in `attention_stages`.
    """
    d_k = q.shape[-1]
    if dtype is not None:
        q, k, v = (np.asarray(a, dtype=dtype) for a in (q, k, v))  # (T, d_k), (S, d_k), (S, d_v)
    scores = q @ k.T  # (T, S)
    if scale is None:
        scaled = scores / (np.sqrt(d_k) if dtype is None else np.dtype(dtype).type(np.sqrt(d_k)))  # (T, S)
    else:
        kind = scores.dtype if scores.dtype.kind == "f" else np.dtype(np.float64)
        scaled = scores.astype(kind, copy=False) * kind.type(scale)  # (T, S)
    biased = None if bias is None else scaled + np.asarray(bias, dtype=scaled.dtype)  # (T, S)
    logits = scaled if biased is None else biased
    capped = None if softcap is None else _cap(logits, softcap)  # (T, S)
    logits = logits if capped is None else capped
    masked = None if mask is None else np.where(mask, logits, -np.inf)  # (T, S)
    weights = softmax(logits if masked is None else masked, dtype=dtype)  # (T, S)
    return HeadStages(scores=scores, scaled=scaled, biased=biased, capped=capped, masked=masked,
                      weights=weights, output=weights @ v)  # output (T, d_v)


def split_heads(x: np.ndarray, n_heads: int) -> np.ndarray:
    """(T, h·d) → (h, T, d): head i owns columns i·d … (i+1)·d − 1."""
    t, width = x.shape
    return x.reshape(t, n_heads, width // n_heads).transpose(1, 0, 2)  # (h, T, d)


def merge_heads(x: np.ndarray) -> np.ndarray:
    """(h, T, d) → (T, h·d): the heads' outputs side by side (concatenation)."""
    h, t, d = x.shape
    return x.transpose(1, 0, 2).reshape(t, h * d)  # (T, h·d)


def kv_groups(n_heads: int, n_kv_heads: int) -> int:
    """How many query heads share one K/V head: h / g (1 for multi-head, h for multi-query attention).

    Raises ValueError when h is not a positive multiple of g.
    """
    for name, n in (("query heads", n_heads), ("K/V heads", n_kv_heads)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"the number of {name} must be a whole number ≥ 1, got {n!r}")
    if n_heads % n_kv_heads:
        raise ValueError(f"{n_heads} query heads cannot share {n_kv_heads} K/V heads: "
                         "the query heads must be a multiple of the K/V heads")
    return n_heads // n_kv_heads


def kv_head_of(head: int, n_heads: int, n_kv_heads: int) -> int:
    """The K/V head that query head `head` reads (grouped-query attention): head // (h / g)."""
    n_rep = kv_groups(n_heads, n_kv_heads)
    if not 0 <= head < n_heads:
        raise ValueError(f"query head {head} does not exist: there are {n_heads} (0 … {n_heads - 1})")
    return head // n_rep


def repeat_kv(x: np.ndarray, n_rep: int) -> np.ndarray:
    """(…, g, S, d) → (…, g · n_rep, S, d): each K/V head repeated n_rep times in a row, like transformers'
    repeat_kv, so query head i meets K/V head i // n_rep."""
    if isinstance(n_rep, bool) or not isinstance(n_rep, (int, np.integer)) or n_rep < 1:
        raise ValueError(f"n_rep must be a whole number ≥ 1, got {n_rep!r}")
    return np.repeat(x, n_rep, axis=-3)  # (…, g·n_rep, S, d)


def entropy(weights: np.ndarray, axis: int = -1) -> np.ndarray:
    """Shannon entropy in nats of each probability row: −Σ p log p (0 log 0 = 0)."""
    p = np.asarray(weights, dtype=np.float64)
    logp = np.log(p, out=np.zeros_like(p), where=p > 0)
    return -np.sum(p * logp, axis=axis)


def tile_logits(q: np.ndarray, k_t: np.ndarray, *, scale: float | None = None, softcap: float | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """One tile's (scores, logits), computed as `head_stages` computes them for the whole matrix, so a tiled
    pass meets the full one: q (Bq, d_k), k_t (d_k, Bk) (the keys transposed).

        scores = q kᵀ                                   (Bq, Bk)  in q and k's type (float32 stays float32)
        logits = scores / √d_k  (or · scale)           (Bq, Bk)
                 → cap · tanh(logits / cap)            with softcap
    """
    scores = q @ k_t  # (Bq, Bk)
    if scale is None:
        logits = scores / np.sqrt(q.shape[-1])  # (Bq, Bk)
    else:
        kind = scores.dtype if scores.dtype.kind == "f" else np.dtype(np.float64)
        logits = scores.astype(kind, copy=False) * kind.type(scale)  # (Bq, Bk)
    return scores, (logits if softcap is None else _cap(logits, softcap))


def tiled_attention_with_stats(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, block: int = 64, mask: np.ndarray | TileMask | None = None,
    causal: bool = False, query_block: int | None = None, *, scale: float | None = None,
    softcap: float | None = None, dtype: type | None = None, progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tiled (FlashAttention) forward pass with online softmax; returns (output, m, ℓ).

    q (T, d_k), k (S, d_k), v (S, d_v); mask (T, S) bool with True = may attend, a TileMask (causal and/or a
    sliding window, described and never built), or None; causal: query i sees key j only when
    j ≤ i + (S − T), as in `causal_mask`.

    Queries go in tiles of `query_block` rows (default: `block`), keys in blocks of `block`. For each
    query tile, over the key blocks j = 1, 2, … (s = the tile's scaled scores q kⱼᵀ / √d_k):

        m_new = max(m, rowmax(s))                 running max, per query
        p     = exp(s − m_new)                    (Bq, Bk)   at most 1: never overflows
        α     = exp(m − m_new)                    rescale what was summed against the old max
        ℓ     = α ℓ + rowsum(p)                   running sum of exp
        acc   = α acc + p vⱼ                      (Bq, d_v)  running (unnormalized) output
    and at the end output = acc / ℓ, which equals softmax(q kᵀ / √d_k) v.

    scale multiplies q kᵀ instead of 1/√d_k (Gemma's query_pre_attn_scalar^-½) and softcap caps s as
    cap · tanh(s / cap) (Gemma 2), as in `head_stages`. q is scaled once, before the tiles — unless the
    softmax runs in a wider type than q kᵀ (below): then each tile's logits are `tile_logits`, computed as the
    full trace computes them, and the output meets the full trace's to float64 rounding.

    Only a (Bq, Bk) tile of scores exists at any time, never the (T, S) matrix. A block that the mask
    hides entirely (above the diagonal, before a sliding window) is skipped. A query whose every key is
    hidden ends with m = −∞ and ℓ = 0, and its output row is zeros, never NaN. q kᵀ is computed in q and
    k's type; the softmax and the output in `dtype`, by default that of the inputs: float32 stays float32,
    float64 float64 (other inputs float64). dtype=np.float64 with float32 inputs is a float32 checkpoint's
    full trace: float32 scores, the softmax and the weighted sum in float64 (models/long.py). `progress(rows)`
    is called after each query tile.

    Returns output (T, d_v), m (T,) the largest scaled score per query (−∞ when every key is
    hidden) and ℓ (T,) = Σ_j exp(scaled_j − m) over the visible keys.
    """
    kind = np.result_type(q, k, np.float32)  # q kᵀ: float32 stays float32; float64 (or ints) → float64
    dtype = np.result_type(q, k, v, np.float32) if dtype is None else np.dtype(dtype)  # the softmax, the output
    t, d_k = q.shape
    s_len, d_v = v.shape
    bk = max(1, int(block))
    bq = bk if query_block is None else max(1, int(query_block))
    tiles = mask if isinstance(mask, TileMask) else None  # described: skipped / cut tile by tile
    dense = None if mask is None or tiles is not None else np.asarray(mask, dtype=bool)  # (T, S)
    if causal:  # query i sees keys j ≤ i + (S − T)
        tiles = TileMask(True, None if tiles is None else tiles.window, s_len - t if tiles is None else tiles.offset)
    exact = dtype.itemsize > kind.itemsize  # float32 scores, a float64 softmax: each tile as head_stages does it
    q_scaled = np.asarray(q, dtype=kind)  # (T, d_k)
    if not exact:
        q_scaled = q_scaled * kind.type(1.0 / np.sqrt(d_k) if scale is None else scale)  # scaled once, here
    k_t = np.ascontiguousarray(np.asarray(k, dtype=kind).T)  # (d_k, S)  contiguous for fast matmul
    v = np.asarray(v, dtype=dtype)  # (S, d_v)
    output = np.zeros((t, d_v), dtype=dtype)  # (T, d_v)
    m_all = np.full(t, -np.inf, dtype=dtype)  # (T,)
    l_all = np.zeros(t, dtype=dtype)  # (T,)
    for i0 in range(0, t, bq):
        i1 = min(i0 + bq, t)
        q_tile = q_scaled[i0:i1]  # (Bq, d_k)
        m = np.full(i1 - i0, -np.inf, dtype=dtype)  # (Bq,) running max
        ell = np.zeros(i1 - i0, dtype=dtype)  # (Bq,) running sum ℓ
        acc = np.zeros((i1 - i0, d_v), dtype=dtype)  # (Bq, d_v) running output, not yet ÷ ℓ
        for j0 in range(0, s_len, bk):
            j1 = min(j0 + bk, s_len)
            if tiles is not None and tiles.skips(i0, i1, j0, j1):
                continue  # hidden from every query of the tile: never visited
            if exact:
                scaled = tile_logits(q_tile, k_t[:, j0:j1], scale=scale, softcap=softcap)[1]  # (Bq, Bk)
            else:
                scaled = q_tile @ k_t[:, j0:j1]  # (Bq, Bk)  q kᵀ / √d_k for this tile
                if softcap is not None:
                    scaled = _cap(scaled, softcap)  # (Bq, Bk)
            scaled = scaled.astype(dtype, copy=False)  # (Bq, Bk)
            hidden = None if dense is None else ~dense[i0:i1, j0:j1]  # (Bq, Bk)
            visible = None if tiles is None else tiles.tile(i0, i1, j0, j1)  # (Bq, Bk) or None
            if visible is not None:
                hidden = ~visible if hidden is None else hidden | ~visible
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
        if progress is not None:
            progress(i1 - i0)
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
