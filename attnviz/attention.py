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


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """softmax(x)_j = exp(x_j - max x) / sum_i exp(x_i - max x), along `axis`.

    Subtracting the row maximum keeps exp() from overflowing; it does not change the result.
    A row whose every entry is -inf (every key hidden by a mask) has no distribution: it comes
    back as all zeros, never NaN.
    """
    x = np.asarray(x, dtype=np.float64)
    row_max = np.max(x, axis=axis, keepdims=True)
    hidden_row = ~np.isfinite(row_max)  # all -inf (or an empty row)
    shifted = x - np.where(hidden_row, 0.0, row_max)
    exp = np.exp(shifted)  # exp(-inf) = 0 for hidden cells
    total = np.sum(exp, axis=axis, keepdims=True)
    return np.divide(exp, total, out=np.zeros_like(exp), where=total > 0)


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
    q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
    """Scaled dot-product attention, every stage kept.

    q (T, d_k), k (S, d_k), v (S, d_v), mask (T, S) bool with True = may attend, or None.

        scores  = q kᵀ                        (T, S)
        scaled  = scores / √d_k               (T, S)
        masked  = scaled, −∞ where hidden     (T, S)   None when there is no mask
        weights = softmax(masked) row by row  (T, S)   a hidden cell is exactly 0
        output  = weights v                   (T, d_v)

    Returns (scores, scaled, masked, weights, output).
    """
    d_k = q.shape[-1]
    scores = q @ k.T  # (T, S)
    scaled = scores / np.sqrt(d_k)  # (T, S)
    masked = None if mask is None else np.where(mask, scaled, -np.inf)  # (T, S)
    weights = softmax(scaled if masked is None else masked)  # (T, S)
    output = weights @ v  # (T, d_v)
    return scores, scaled, masked, weights, output


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
