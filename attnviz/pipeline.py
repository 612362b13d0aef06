"""Text in, Trace out: tokenizer + weights + trace, the one call the CLI and notebooks make."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .tokens import DEFAULT_TOKENIZER, tokenize
from .trace import Trace, self_attention_trace
from .weights import Weights, init_weights, load_weights

SEED_SENTENCE = "고양이는 침대에서 잔다"


def make_weights(seed: int = 0, d_model: int = 8, d_k: int = 4, n_heads: int = 1,
                 weights: str | Path | None = None) -> Weights:
    """Load `weights` from a file, or draw them from `seed`."""
    if weights is not None:
        return load_weights(Path(weights))
    return init_weights(np.random.default_rng(seed), d_model, d_k, n_heads, seed=seed)


def self_attention(text: str = SEED_SENTENCE, *, seed: int = 0, d_model: int = 8, d_k: int = 4,
                   n_heads: int = 1, weights: str | Path | None = None,
                   tokenizer: str = DEFAULT_TOKENIZER, causal: bool = False) -> Trace:
    """Every stage of one self-attention layer for `text`.

    >>> trace = self_attention("고양이는 침대에서 잔다", seed=0)
    >>> trace.heads[0].weights.shape
    (5, 5)
    """
    tokens = tokenize(text, tokenizer)
    w = make_weights(seed, d_model, d_k, n_heads, weights)
    return self_attention_trace(tokens, w, seed=seed, causal=causal, text=text)
