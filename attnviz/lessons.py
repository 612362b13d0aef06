"""Two small numeric lessons: why divide by √d_k, and softmax worked step by step (numpy only)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import attention
from .errors import InputError

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

    Given q, the n dot products q·k with k ~ N(0, I) are independent N(0, |q|²): they are drawn so,
    exactly as distributed, without the R·n·d_k entries of the keys themselves (8 GB and 40 s for
    4,096 keys at d_k = 1,024; this way R·(d_k + n) numbers).
    """
    rows = []
    for d_k in d_ks:
        q = rng.standard_normal((n_rows, d_k))  # (R, d_k)
        z = rng.standard_normal((n_rows, n_keys))  # (R, n)
        dots = np.linalg.norm(q, axis=1, keepdims=True) * z  # (R, n): q·k for n keys k ~ N(0, I)
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


#: Most scores one softmax row may hold.
MAX_SCORES = 4096


def softmax_steps(scores, scale: float = 1.0, temperature: float = 1.0) -> SoftmaxSteps:
    """Softmax of one row, the way a person would work it on paper.

    Raises InputError for what has no softmax to show: no scores or more than MAX_SCORES, a NaN or
    infinite score, a scale or temperature that is not a positive finite number, logits past float64's
    range, or logits so far apart that max − min overflows (−∞ after the shift).
    """
    for name, value in (("--scale", scale), ("--temperature", temperature)):
        if not (math.isfinite(value) and value > 0):
            raise InputError(f"{name} must be a positive, finite number (got {value}): 1 leaves the scores as "
                             "they are")
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1 or not 1 <= scores.size <= MAX_SCORES:
        raise InputError(f"softmax takes a row of 1 to {MAX_SCORES:,} scores (got {scores.size})")
    if not np.isfinite(scores).all():
        raise InputError("every score must be a finite number (no inf or nan): a hidden key is left out, "
                         "not given −∞")
    divisor = scale * temperature
    if not math.isfinite(divisor):
        raise InputError(f"--scale × --temperature ({scale:g} × {temperature:g}) overflows float64: give smaller "
                         "values")
    with np.errstate(over="ignore", invalid="ignore"):  # each overflow is reported below, clearly
        logits = scores / divisor
        if not np.isfinite(logits).all():
            raise InputError("scores ÷ (scale × temperature) overflow float64: use smaller scores or a larger "
                             "--scale")
        shifted = logits - logits.max()
        if not np.isfinite(shifted).all():
            raise InputError(f"the logits are too far apart: max − min ({logits.max():.3g} − ({logits.min():.3g})) "
                             "overflows float64; use scores closer together or a larger --scale")
    exp = np.exp(shifted)
    total = float(exp.sum())
    return SoftmaxSteps(scores, float(scale), float(temperature), logits, shifted, exp, total, exp / total)
