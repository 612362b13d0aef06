"""Picking the next token from logits: temperature, softmax, then greedy, top-k or top-p (nucleus) sampling.

Randomness only through the `np.random.Generator` the caller passes (flow.py documents its seed stream).
No printing, no files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import attention
from .errors import InputError

SAMPLERS = ("greedy", "top-k", "top-p")


@dataclass(frozen=True)
class Sampling:
    """One sampling step over V logits: temperature, softmax, the candidates the method allows, the pick."""

    method: str  # greedy | top-k | top-p
    temperature: float
    k: int | None  # top-k's k (None otherwise)
    p: float | None  # top-p's p (None otherwise)
    logits: np.ndarray  # (V,)
    scaled: np.ndarray  # (V,) logits / temperature
    probs: np.ndarray  # (V,) softmax(scaled)
    candidates: np.ndarray  # (C,) vocabulary indices the method may pick, most probable first
    renormalized: np.ndarray  # (C,) probs[candidates] / Σ probs[candidates]
    choice: int  # the picked vocabulary index


def check_sampling(method: str, k: int = 5, p: float = 0.9, temperature: float = 1.0) -> None:
    if method not in SAMPLERS:
        raise InputError(f"--sample must be one of {', '.join(SAMPLERS)} (got {method!r})")
    if not (temperature > 0 and math.isfinite(temperature)):
        raise InputError(f"--temperature must be above 0 (got {temperature}): 1 keeps the distribution, "
                         "smaller sharpens it, larger flattens it")
    if method == "top-k" and k < 1:
        raise InputError(f"--k must be at least 1 (got {k})")
    if method == "top-p" and not 0 < p <= 1:
        raise InputError(f"--p must be in (0, 1] (got {p}): 0.9 keeps the most probable tokens that "
                         "together hold 90%")


def sample(logits: np.ndarray, rng: np.random.Generator, method: str = "greedy", *, k: int = 5, p: float = 0.9,
           temperature: float = 1.0) -> Sampling:
    """Pick one index of `logits` (V,).

        scaled = logits / temperature;  probs = softmax(scaled)
        greedy: the argmax (temperature does not move it; no randomness used)
        top-k:  draw from the k most probable, renormalised
        top-p:  draw from the nucleus — the fewest most probable tokens whose probabilities sum to ≥ p
    """
    check_sampling(method, k, p, temperature)
    logits = np.asarray(logits, dtype=np.float64)
    scaled = logits / temperature  # (V,)
    probs = attention.softmax(scaled)  # (V,)
    order = np.argsort(-logits, kind="stable")  # (V,) most probable first (T > 0 keeps the order); ties by index
    if method == "greedy":
        candidates = order[:1]
    elif method == "top-k":
        candidates = order[: min(k, len(order))]
    else:
        cum = np.cumsum(probs[order])  # (V,)
        n = min(int(np.searchsorted(cum, p * (1 - 1e-12))) + 1, len(order))
        candidates = order[:n]
    renormalized = probs[candidates] / probs[candidates].sum()  # (C,)
    if method == "greedy":
        choice = int(candidates[0])
    else:
        choice = int(candidates[rng.choice(len(candidates), p=renormalized)])
    return Sampling(method, float(temperature), k if method == "top-k" else None, p if method == "top-p" else None,
                    logits, scaled, probs, candidates, renormalized, choice)

