"""Head scores, attention rollout, value-norm weighting and the logit lens: numpy math on attention probabilities.

Shapes: L layers, h heads, T tokens (queries i = rows, keys j = columns), V the vocabulary, d_v, d_model.
`weights` is one model's attention probabilities stacked (L, h, T, T), special tokens included. Every function
works in float64 and is pure (no I/O); attnviz.probes runs a checkpoint and hands the arrays here.

    entropy(A)   = mean_i −Σ_j A_ij ln A_ij          (nats; 0 · ln 0 = 0)
    sink(A)      = mean_i A_i0                        (weight on the first token)
    previous(A)  = mean_{i ≥ 1} A_i,i−1
    self(A)      = mean_i A_ii
    distance(A)  = mean_i Σ_j A_ij |i − j|
    induction(A) = mean over the second copy's positions i of A_i,i−n+1 on a sequence of n distinct tokens
                   repeated twice (i − n is the token's previous occurrence, i − n + 1 the token after it)
    rollout:       R_0 = I;  M_l = rownorm(½ · mean_heads A_l + ½ · I);  R_l = M_l · R_{l−1}
    value norms:   N_ij = ‖A_ij · v_j W_O^h‖  (Kobayashi et al. 2020), W_O^h the d_v rows of W_O of head h
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: the scores of `head_scores`, in the order they are shown
SCORES = ("entropy", "sink", "previous", "self", "distance", "induction")


def _stack(weights: np.ndarray) -> np.ndarray:
    a = np.asarray(weights, dtype=np.float64)
    if a.ndim != 4 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"weights must be (L, h, T, T), got {a.shape}")
    return a


def head_scores(weights: np.ndarray) -> dict[str, np.ndarray]:
    """{"entropy", "sink", "previous", "self", "distance"} → (L, h) arrays for weights (L, h, T, T).

    A text of one token has no previous-token pair: `previous` is 0 there."""
    a = _stack(weights)  # (L, h, T, T)
    t = a.shape[-1]
    logs = np.log(np.where(a > 0, a, 1.0))  # ln A, with 0 · ln 0 taken as 0
    entropy = -(a * logs).sum(-1).mean(-1)  # (L, h)
    sink = a[..., :, 0].mean(-1)  # (L, h)
    diag = np.diagonal(a, axis1=-2, axis2=-1)  # (L, h, T)
    below = np.diagonal(a, offset=-1, axis1=-2, axis2=-1)  # (L, h, T−1): A_i,i−1
    previous = below.mean(-1) if t > 1 else np.zeros(a.shape[:2])
    gaps = np.abs(np.arange(t)[:, None] - np.arange(t)[None, :])  # (T, T) |i − j|
    distance = (a * gaps).sum(-1).mean(-1)  # (L, h)
    return {"entropy": entropy, "sink": sink, "previous": previous, "self": diag.mean(-1), "distance": distance}


def induction_scores(weights: np.ndarray, start: int, n: int) -> np.ndarray:
    """(L, h): for weights (L, h, T, T) on [prefix] s s [suffix] where s is n distinct tokens beginning at
    position `start`, the mean over the second copy's positions i = start+n … start+2n−1 of A_i,i−n+1."""
    a = _stack(weights)
    if n < 1 or start < 0 or start + 2 * n > a.shape[-1]:
        raise ValueError(f"two copies of {n} tokens from position {start} do not fit in {a.shape[-1]} tokens")
    rows = np.arange(start + n, start + 2 * n)  # (n,) the second copy
    return a[..., rows, rows - n + 1].mean(-1)  # (L, h)


def _rownorm(m: np.ndarray) -> np.ndarray:
    sums = m.sum(-1, keepdims=True)
    return m / np.where(sums > 0, sums, 1.0)


def mixing(weights: np.ndarray) -> np.ndarray:
    """(L, T, T): M_l = rownorm(½ · mean over heads of A_l + ½ · I) for A (L, h, T, T) (or any non-negative
    per-head weighting of the keys, such as value_norms: each head's mean row is renormalized to sum 1 first)."""
    a = _stack(weights)
    mean = _rownorm(a.mean(1))  # (L, T, T)
    eye = np.eye(a.shape[-1])
    return _rownorm(0.5 * mean + 0.5 * eye)


def rollout(weights: np.ndarray) -> np.ndarray:
    """(L, T, T): R_l = M_l · R_{l−1}, R_0 = I (Abnar & Zuidema 2020), so R[l] is the rollout through layers
    0 … l; each row sums to 1 (how much of query i's representation comes from each input token)."""
    m = mixing(weights)  # (L, T, T)
    out = np.empty_like(m)
    r = np.eye(m.shape[-1])
    for layer in range(m.shape[0]):
        r = m[layer] @ r  # (T, T)
        out[layer] = r
    return out


def value_norms(weights: np.ndarray, values: np.ndarray, w_o: np.ndarray) -> np.ndarray:
    """(h, T, T): N_ij = A_ij · ‖v_j W_O^h‖ for one layer: weights (h, T, T), values (h, T, d_v) (each query
    head's values: its K/V group's), w_o (h·d_v, d_model) split into h blocks W_O^h of d_v rows."""
    a = np.asarray(weights, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    h, _, d_v = v.shape
    blocks = np.asarray(w_o, dtype=np.float64).reshape(h, d_v, -1)  # (h, d_v, d_model)
    transformed = np.einsum("htv,hvd->htd", v, blocks)  # (h, T, d_model): f(x_j) = v_j W_O^h
    return a * np.linalg.norm(transformed, axis=-1)[:, None, :]  # (h, T, T)


# --- the logit lens -----------------------------------------------------------------------------

def softmax(logits: np.ndarray) -> np.ndarray:
    """Row softmax in float64, the row maximum subtracted."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


def top_ids(p: np.ndarray, k: int) -> np.ndarray:
    """(T, k) the ids of each row's k largest values, largest first, ties by the lower id — what a stable argsort
    of −p gives, without sorting a whole vocabulary: the rows' k-th largest value by partition, then only the ids
    at or above it are sorted."""
    k = min(k, p.shape[-1])
    if k == 0:
        return np.zeros((len(p), 0), dtype=np.intp)
    kth = -np.partition(-p, k - 1, axis=-1)[:, k - 1]  # (T,) each row's k-th largest
    out = np.empty((len(p), k), dtype=np.intp)
    for r, row in enumerate(p):
        ids = np.flatnonzero(row >= kth[r])  # ascending: ties keep the lower id first below
        out[r] = ids[np.argsort(-row[ids], kind="stable")[:k]]
    return out


@dataclass(frozen=True)
class LensLayer:
    """One layer of the logit lens: per position, the top-k ids and probabilities, and the final prediction's
    probability and rank (0 = top) in this layer's distribution."""

    top_ids: np.ndarray  # (T, k) int
    top_p: np.ndarray  # (T, k)
    final_p: np.ndarray  # (T,)
    final_rank: np.ndarray  # (T,) int


def lens_layer(logits: np.ndarray, k: int, final_ids: np.ndarray | None = None) -> LensLayer:
    """The top-k of softmax(logits) (T, V) per position (ties: the lower id first), and the probability and
    rank of final_ids (T,) (default: this layer's own top-1)."""
    p = softmax(logits)  # (T, V)
    order = top_ids(p, k)  # (T, k)
    top_p = np.take_along_axis(p, order, -1)
    final = order[:, 0] if final_ids is None else np.asarray(final_ids)
    final_p = p[np.arange(len(p)), final]  # (T,)
    rank = (p > final_p[:, None]).sum(-1)  # (T,) how many tokens are more likely
    return LensLayer(order, top_p, final_p, rank)
