"""Two small numeric lessons: why divide by √d_k, and softmax worked step by step (numpy only)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import attention

DEFAULT_DKS = (4, 16, 64, 256, 1024)


@dataclass(frozen=True)
class ScaleRow:
    """What √d_k does at one width d_k, measured on seeded unit-variance q and k."""

    d_k: int
    std_dot: float  # spread of q·k            ≈ √d_k
    std_scaled: float  # spread of q·k / √d_k  ≈ 1
    max_weight_raw: float  # mean largest softmax weight of a row of n keys, unscaled
    max_weight_scaled: float  # the same, scaled
    entropy_raw: float  # mean row entropy (nats), unscaled; log n is the most possible
    entropy_scaled: float  # the same, scaled


@dataclass(frozen=True)
class ScaleLesson:
    rows: tuple[ScaleRow, ...]
    n_keys: int
    n_rows: int
    seed: int


def scale_lesson(rng: np.random.Generator, d_ks=DEFAULT_DKS, n_keys: int = 10, n_rows: int = 200,
                 seed: int = 0) -> ScaleLesson:
    """For each d_k: n_rows queries q ~ N(0, I) against n_keys keys k ~ N(0, I).

    q·k is a sum of d_k products of unit variance, so its standard deviation is √d_k; dividing by
    √d_k brings it back to 1. Unscaled, the softmax of a row saturates (one weight near 1, entropy
    near 0) as d_k grows; scaled, it does not.
    """
    rows = []
    for d_k in d_ks:
        q = rng.standard_normal((n_rows, d_k))  # (R, d_k)
        k = rng.standard_normal((n_rows, n_keys, d_k))  # (R, n, d_k)
        dots = np.einsum("rd,rnd->rn", q, k)  # (R, n)
        scaled = dots / np.sqrt(d_k)  # (R, n)
        w_raw, w_scaled = attention.softmax(dots), attention.softmax(scaled)  # (R, n) each
        rows.append(ScaleRow(
            d_k, float(dots.std()), float(scaled.std()),
            float(w_raw.max(axis=1).mean()), float(w_scaled.max(axis=1).mean()),
            float(attention.entropy(w_raw).mean()), float(attention.entropy(w_scaled).mean()),
        ))
    return ScaleLesson(tuple(rows), n_keys, n_rows, seed)


@dataclass(frozen=True)
class SoftmaxSteps:
    """softmax(scores / (scale · temperature)), every intermediate kept (all shape (n,))."""

    scores: np.ndarray
    scale: float
    temperature: float
    logits: np.ndarray  # scores / (scale · temperature)
    shifted: np.ndarray  # logits − max(logits)
    exp: np.ndarray  # exp(shifted)
    total: float  # Σ exp
    probs: np.ndarray  # exp / total


def softmax_steps(scores, scale: float = 1.0, temperature: float = 1.0) -> SoftmaxSteps:
    """Softmax of one row, the way a person would work it on paper."""
    scores = np.asarray(scores, dtype=np.float64)
    logits = scores / (scale * temperature)
    shifted = logits - logits.max()
    exp = np.exp(shifted)
    total = float(exp.sum())
    return SoftmaxSteps(scores, float(scale), float(temperature), logits, shifted, exp, total, exp / total)
