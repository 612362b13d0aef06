"""Summary traces of long texts: attention computed tile by tile, keeping per query only what fits in O(T)
memory — the top-k keys and their weights, the row entropy, the running max m and normalizer ℓ, the output —
and, for figures, block-pooled matrices (max of the weights, mean of the scores) accumulated tile by tile.

A full Trace keeps every T × S stage, so it stops at trace.MAX_TOKENS; a SummaryTrace never holds more than a
(Bq, Bk) tile of scores (plus a (T, C) strip of per-row block maxima, C ≤ POOL_CELLS). numpy only.
Shapes as in attention.py: T query tokens, S key tokens, h heads, d_k, d_v, d_model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import attention
from .attention import TileMask
from .errors import InputError
from .tokens import Token
from .trace import MAX_TOKENS, ModelInfo, embed_with_positions, max_tokens, seeded_rope
from .weights import Weights

FORMAT = "attnviz.summary/1"
TOP_K = 5  # keys kept per query
POOL_CELLS = 256  # the pooled matrices have at most this many rows and columns
TILE_QUERIES, TILE_KEYS = 512, 1024  # a tile of scores: query rows × key columns (rounded to the pooling)


@dataclass(frozen=True)
class HeadSummary:
    """One head of a summary trace: per query its top keys, entropy, m, ℓ and output; pooled matrices."""

    top_keys: np.ndarray  # (T, k) int: key indices, largest weight first; −1 past the visible keys
    top_weights: np.ndarray  # (T, k) their softmax weights (0 past the visible keys)
    entropy: np.ndarray  # (T,) −Σ_j w_ij log w_ij in nats
    m: np.ndarray  # (T,) largest scaled score of the row (−∞ when every key is hidden)
    ell: np.ndarray  # (T,) ℓ = Σ_j exp(scaled_j − m) over the visible keys
    output: np.ndarray  # (T, d_v) Σ_j w_ij v_j
    pooled_weights: np.ndarray  # (R, C) max of the weights over each block of cells
    pooled_scores: np.ndarray  # (R, C) mean of the scores q·kᵀ over each block's visible cells (0 if none)
    pooled_hidden: np.ndarray | None  # (R, C) bool: every cell of the block hidden; None when none is
    kv_head: int | None = None  # grouped-query attention: the K/V head this query head reads


@dataclass(frozen=True)
class SummaryTrace:
    """A self-attention layer on a long text, summarized (see HeadSummary); rows are queries, columns keys.
    Seeded or --weights (attnviz.summary.self_attention_summary), or a checkpoint's layer (models.model_summary)."""

    query_tokens: tuple[Token, ...]
    key_tokens: tuple[Token, ...]
    heads: tuple[HeadSummary, ...]
    concat: np.ndarray  # (T, h·d_v)
    output: np.ndarray | None  # (T, d_model) concat W_O; None without W_O
    d_model: int
    d_k: int
    d_v: int
    seed: int | None
    causal: bool
    weights_source: str
    text: str
    limit: int  # the longest text a full trace is made for with these heads
    row_starts: np.ndarray  # (R,) first query of each pooled row
    col_starts: np.ndarray  # (C,) first key of each pooled column
    window: int | None = None
    rope_theta: float | None = None
    kv_heads: int | None = None
    top_k: int = TOP_K
    model: ModelInfo | None = None  # a checkpoint's layer (None: seeded or --weights)
    scale: float | None = None  # what q kᵀ is multiplied by; None: 1/√d_k
    softcap: float | None = None  # Gemma 2: the logits are cap · tanh(s / cap)

    @property
    def n_heads(self) -> int:
        return len(self.heads)


def pool_starts(n: int, cells: int = POOL_CELLS) -> np.ndarray:
    """First index of each pooled block: n indices in blocks of ⌈n / cells⌉ (at most `cells` blocks)."""
    f = max(1, -(-n // cells))
    return np.arange(0, n, f)


def summarize_head(q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: TileMask | None = None, *,
                   scale: float | None = None, softcap: float | None = None, top_k: int = TOP_K,
                   pool: int = POOL_CELLS, tile_queries: int = TILE_QUERIES, tile_keys: int = TILE_KEYS,
                   progress: Callable[[int], None] | None = None) -> HeadSummary:
    """One head's attention, tile by tile: q (T, d_k), k (S, d_k), v (S, d_v).

    The online softmax of `attention.tiled_attention_with_stats`, per query tile over key tiles
    (s = q kⱼᵀ / √d_k on a (Bq, Bk) tile — or q kⱼᵀ · scale, then cap · tanh(s / cap) with softcap, each
    tile's logits as `attention.head_stages` computes them (`attention.tile_logits`: q kᵀ in q and k's
    type, float32 for a float32 checkpoint) — −∞ where hidden; the rest in float64):

        m_new = max(m, rowmax(s));  α = exp(m − m_new);  p = exp(s − m_new)
        ℓ = α ℓ + Σ p;  acc = α acc + p vⱼ;  e = α e + Σ p·s
    and at the end output = acc / ℓ and entropy H = m + log ℓ − e / ℓ (from log w = s − m − log ℓ).
    Alongside: a running top-k of s per row (the k largest weights, as weights are monotonic in s), and for
    the pooled matrices the block sums of q·kᵀ and each row's block max of s, whose weight exp(max − m) / ℓ
    is pooled over the rows once m and ℓ are final. `progress(rows)` is called after each query tile.
    """
    kind = np.result_type(q, k, np.float32)  # q kᵀ as the full trace computes it
    q = np.asarray(q, dtype=kind)  # (T, d_k)
    k = np.asarray(k, dtype=kind)  # (S, d_k)
    v = np.asarray(v, dtype=np.float64)  # (S, d_v)
    t, _ = q.shape
    s_len, d_v = v.shape
    rows, cols = pool_starts(t, pool), pool_starts(s_len, pool)  # (R,), (C,)
    fr, fc = (rows[1] if len(rows) > 1 else max(t, 1)), (cols[1] if len(cols) > 1 else max(s_len, 1))
    bq = max(1, -(-tile_queries // fr)) * fr  # query tiles start on a pooled row
    bk = max(1, -(-tile_keys // fc)) * fc  # key tiles start on a pooled column
    kk = min(top_k, s_len)
    k_t = np.ascontiguousarray(k.T)  # (d_k, S)
    output = np.zeros((t, d_v))  # (T, d_v)
    m_all, l_all, h_all = np.full(t, -np.inf), np.zeros(t), np.zeros(t)  # (T,) each
    top_s, top_j = np.full((t, kk), -np.inf), np.full((t, kk), -1, dtype=np.int64)  # (T, k)
    row_block_max = np.full((t, len(cols)), -np.inf)  # (T, C) per row, max of s over each pooled column
    score_sum = np.zeros((len(rows), len(cols)))  # (R, C) Σ q·kᵀ over visible cells
    count = np.zeros((len(rows), len(cols)), dtype=np.int64)  # (R, C) visible cells
    row_sizes, col_sizes = np.diff(np.append(rows, t)), np.diff(np.append(cols, s_len))  # (R,), (C,)
    k_pool = np.add.reduceat(k.astype(np.float64), cols, axis=0) if s_len else np.zeros((0, k.shape[1]))  # (C, d_k)
    for i0 in range(0, t, bq):
        i1 = min(i0 + bq, t)
        n = i1 - i0
        m, ell, ent = np.full(n, -np.inf), np.zeros(n), np.zeros(n)  # (Bq,) running m, ℓ, Σ p·s
        acc = np.zeros((n, d_v))  # (Bq, d_v)
        best_s, best_j = top_s[i0:i1], top_j[i0:i1]  # (Bq, k) views, updated below
        r0 = i0 // fr
        r_starts = np.arange(0, n, fr)  # pooled rows inside the tile
        rr = slice(r0, r0 + len(r_starts))
        q_pool = np.add.reduceat(q[i0:i1].astype(np.float64), r_starts, axis=0)  # (R_tile, d_k) Σ q over a block
        for j0 in range(0, s_len, bk):
            j1 = min(j0 + bk, s_len)
            if mask is not None and mask.skips(i0, i1, j0, j1):
                continue
            scores, logits = attention.tile_logits(q[i0:i1], k_t[:, j0:j1], scale=scale, softcap=softcap)
            scaled = logits.astype(np.float64, copy=False)  # (Bq, Bk)  q kᵀ / √d_k (or · scale, capped)
            visible = None if mask is None else mask.tile(i0, i1, j0, j1)  # (Bq, Bk) or None
            c0, c_starts = j0 // fc, np.arange(0, j1 - j0, fc)  # pooled columns inside the tile
            cc = slice(c0, c0 + len(c_starts))
            if visible is None:  # every cell visible: Σ_{i∈R, j∈C} q_i·k_j = (Σ_R q)·(Σ_C k), block by block
                score_sum[rr, cc] += q_pool @ k_pool[cc].T  # (R_tile, C_tile)
                count[rr, cc] += np.outer(row_sizes[rr], col_sizes[cc])
                finite = scaled  # (Bq, Bk)  nothing hidden
            else:
                score_sum[rr, cc] += _pool_sum(np.multiply(scores, visible, dtype=np.float64), r_starts, c_starts)
                count[rr, cc] += _pool_sum(visible.astype(np.int64), r_starts, c_starts)
                finite = scaled * visible  # (Bq, Bk)  p·s below with 0·(−∞) = 0
                scaled[~visible] = -np.inf
            np.maximum(row_block_max[i0:i1, cc], np.maximum.reduceat(scaled, c_starts, axis=1),
                       out=row_block_max[i0:i1, cc])
            _top_update(best_s, best_j, scaled, j0)
            m_new = np.maximum(m, scaled.max(axis=1))  # (Bq,)
            m_safe = np.where(np.isfinite(m_new), m_new, 0.0)  # (Bq,)  nothing seen yet: −∞ − 0
            alpha = np.exp(m - m_safe)  # (Bq,)
            p = np.exp(scaled - m_safe[:, None])  # (Bq, Bk)  0 where hidden
            ell = alpha * ell + p.sum(axis=1)  # (Bq,)
            ent = alpha * ent + np.einsum("ij,ij->i", p, finite)  # (Bq,)
            acc = alpha[:, None] * acc + p @ v[j0:j1]  # (Bq, d_v)
            m = m_new
        seen = ell > 0  # (Bq,)  a row with at least one visible key
        np.divide(acc, ell[:, None], out=output[i0:i1], where=seen[:, None])  # (Bq, d_v)
        safe_l = np.where(seen, ell, 1.0)
        h_all[i0:i1] = np.where(seen, m + np.log(safe_l) - ent / safe_l, 0.0)  # (Bq,)  H = m + log ℓ − e/ℓ
        m_all[i0:i1], l_all[i0:i1] = m, ell
        if progress is not None:
            progress(n)
    order = np.argsort(-top_s, axis=1, kind="stable")  # (T, k) largest first
    top_s, top_j = np.take_along_axis(top_s, order, 1), np.take_along_axis(top_j, order, 1)
    safe_m, safe_l = np.where(np.isfinite(m_all), m_all, 0.0), np.where(l_all > 0, l_all, 1.0)
    top_w = np.exp(top_s - safe_m[:, None]) / safe_l[:, None]  # (T, k)  0 where −∞
    top_j[~np.isfinite(top_s)] = -1
    row_w = np.exp(row_block_max - safe_m[:, None]) / safe_l[:, None]  # (T, C) each row's block max weight
    pooled_w = np.maximum.reduceat(row_w, rows, axis=0) if t and len(cols) else np.zeros((len(rows), len(cols)))
    hidden = count == 0  # (R, C)
    pooled_s = np.divide(score_sum, count, out=np.zeros_like(score_sum), where=~hidden)  # (R, C)
    return HeadSummary(top_j, top_w, h_all, m_all, l_all, output, pooled_w, pooled_s,
                       hidden if hidden.any() else None)


def _pool_sum(x: np.ndarray, r_starts: np.ndarray, c_starts: np.ndarray) -> np.ndarray:
    """Sums of x over blocks starting at r_starts (rows) × c_starts (columns)."""
    return np.add.reduceat(np.add.reduceat(x, r_starts, axis=0), c_starts, axis=1)


def _top_update(best_s: np.ndarray, best_j: np.ndarray, scaled: np.ndarray, j0: int) -> None:
    """Merge a tile's scores (Bq, Bk) (keys from j0) into the running top-k (Bq, k), in place; ties keep the
    earlier key (the top-k of a row is the k largest scores, the first of equal ones). Only the scores above
    their row's k-th best so far are candidates: past the first tiles, a few a row."""
    kk = best_s.shape[1]
    if kk == 0:
        return
    above = scaled > best_s.min(axis=1)[:, None]  # (Bq, Bk)  could enter the top k
    counts = above.sum(axis=1)  # (Bq,)
    rows = np.flatnonzero(counts)  # (n,)
    if rows.size == 0:
        return
    width = int(counts.max())
    if width > 4 * kk:  # many candidates (the first tiles): every score of those rows
        new_s = scaled[rows]  # (n, Bk)
        new_j = np.broadcast_to(np.arange(j0, j0 + scaled.shape[1]), new_s.shape)  # (n, Bk)
    else:  # each row's candidates, left-aligned in (n, width), −∞ after them
        r, c = np.nonzero(above[rows])  # row-major: each row's candidates in key order
        n_row = counts[rows]  # (n,)
        slot = np.arange(r.size) - np.repeat(np.cumsum(n_row) - n_row, n_row)  # place within its row
        new_s, new_j = np.full((rows.size, width), -np.inf), np.full((rows.size, width), -1, dtype=np.int64)
        new_s[r, slot], new_j[r, slot] = scaled[rows[r], c], j0 + c
    cand_s = np.concatenate([best_s[rows], new_s], axis=1)  # (n, k + width)
    cand_j = np.concatenate([best_j[rows], new_j], axis=1)
    pick = np.argsort(-cand_s, axis=1, kind="stable")[:, :kk] if cand_s.shape[1] <= 5 * kk else (
        np.argpartition(-cand_s, kk - 1, axis=1)[:, :kk])  # (n, k)
    best_s[rows] = np.take_along_axis(cand_s, pick, 1)
    best_j[rows] = np.take_along_axis(cand_j, pick, 1)


def needs_summary(n_tokens: int, n_heads: int = 1) -> bool:
    """True when a full trace of `n_tokens` with `n_heads` heads is past the limit (trace.check_length)."""
    return n_tokens > max_tokens(n_heads)


def self_attention_summary(tokens: tuple[Token, ...], weights: Weights, seed: int = 0, causal: bool = False,
                           text: str = "", *, rope_theta: float | None = None, kv_heads: int | None = None,
                           window: int | None = None, top_k: int = TOP_K,
                           progress: Callable[[int, int], None] | None = None) -> SummaryTrace:
    """`trace.self_attention_trace`'s layer (merged heads; RoPE, GQA, causal or a sliding window) as a
    SummaryTrace: X = E + P, Q/K/V per head, each head summarized tile by tile, concat, W_O.
    progress(rows, total) is called as query rows are done (total = T·h)."""
    if not tokens:
        raise InputError("the text has no tokens: give a text")
    if kv_heads is not None and (kv_heads < 1 or weights.n_heads % kv_heads):
        raise InputError(f"--kv-heads {kv_heads} does not divide the {weights.n_heads} heads: pick a divisor of "
                         f"{weights.n_heads} (1 = multi-query attention)")
    if rope_theta is not None and weights.d_k % 2:
        raise InputError(f"--rope turns pairs of dimensions: --d-k must be even (got {weights.d_k})")
    t, h = len(tokens), weights.n_heads
    e, _, x = embed_with_positions(tokens, weights, seed)  # (T, d_model) each
    if rope_theta is not None:
        x = e  # RoPE: no position vectors; q and k turn instead
    del e
    causal = causal or window is not None
    mask = TileMask(causal, window) if causal else None
    q_all = attention.split_heads(x @ weights.w_q, h)  # (h, T, d_k)
    k_all = attention.split_heads(x @ weights.w_k, h)  # (h, T, d_k)
    v_all = attention.split_heads(x @ weights.w_v, h)  # (h, T, d_v)
    group = 1 if kv_heads is None else attention.kv_groups(h, kv_heads)
    angles = None if rope_theta is None else seeded_rope(t, weights.d_k, rope_theta).angles  # (T, d_k/2)
    heads = []
    tick = None if progress is None else (lambda rows: progress(rows, t * h))  # rows done, of T·h in all
    for i in range(h):
        kv = i // group
        q, k, v = q_all[i], k_all[kv * group], v_all[kv * group]  # (T, d_k), (T, d_k), (T, d_v)
        if angles is not None:
            from .positions import apply_rope

            q, k = apply_rope(q, angles), apply_rope(k, angles)  # (T, d_k) each
        hs = summarize_head(q, k, v, mask, top_k=top_k, progress=tick)
        heads.append(hs if kv_heads is None else HeadSummary(*_fields(hs)[:-1], kv_head=kv))
    concat = attention.merge_heads(np.stack([hd.output for hd in heads]))  # (T, h·d_v)
    output = None if weights.w_o is None else concat @ weights.w_o  # (T, d_model)
    if not np.isfinite(concat).all() or (output is not None and not np.isfinite(output).all()):
        raise InputError(f"{weights.source}: the attention overflowed float64: scale the weights down")
    return SummaryTrace(tokens, tokens, tuple(heads), concat, output, weights.d_model, weights.d_k, weights.d_v,
                        seed, causal, weights.source, text, max_tokens(h), pool_starts(t), pool_starts(t),
                        window, rope_theta, kv_heads, top_k)


def _fields(hs: HeadSummary) -> tuple:
    return (hs.top_keys, hs.top_weights, hs.entropy, hs.m, hs.ell, hs.output, hs.pooled_weights, hs.pooled_scores,
            hs.pooled_hidden, hs.kv_head)


__all__ = ["FORMAT", "MAX_TOKENS", "HeadSummary", "SummaryTrace", "TileMask", "needs_summary", "pool_starts",
           "self_attention_summary", "summarize_head"]
