"""Traces: frozen records of every attention stage, and the functions that compute them.

A Trace is what every renderer draws and what `--json` writes. Rows are queries, columns are keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import attention
from .errors import InputError
from .tokens import Token
from .weights import Weights, embed

#: Longest sequence a full trace (every T×S stage kept) is computed for.
MAX_TOKENS = 1024


@dataclass(frozen=True)
class HeadTrace:
    """One head's stages. Shapes: T query tokens, S key tokens."""

    q: np.ndarray  # (T, d_k)
    k: np.ndarray  # (S, d_k)
    v: np.ndarray  # (S, d_v)
    scores: np.ndarray  # (T, S)  q kᵀ
    scaled: np.ndarray  # (T, S)  scores / √d_k
    mask: np.ndarray | None  # (T, S) bool, True = may attend; None = no mask
    masked: np.ndarray | None  # (T, S)  scaled with −∞ where hidden; None = no mask
    weights: np.ndarray  # (T, S)  softmax rows
    output: np.ndarray  # (T, d_v) weights v


@dataclass(frozen=True)
class Trace:
    """Every stage of one attention layer for one input."""

    kind: str  # "self" or "cross"
    query_tokens: tuple[Token, ...]
    key_tokens: tuple[Token, ...]
    embeddings: np.ndarray  # (T, d_model) E
    positions: np.ndarray  # (T, d_model) P
    x: np.ndarray  # (T, d_model) X = E + P
    memory: np.ndarray | None  # (S, d_model) what K and V come from in cross-attention
    heads: tuple[HeadTrace, ...]
    concat: np.ndarray  # (T, h·d_v)
    output: np.ndarray | None  # (T, d_model) concat W_O; None without W_O
    d_model: int
    d_k: int
    d_v: int
    seed: int | None
    causal: bool
    weights_source: str
    text: str = ""
    model: dict | None = field(default=None)

    @property
    def n_heads(self) -> int:
        return len(self.heads)


def check_length(tokens: tuple[Token, ...]) -> None:
    if len(tokens) > MAX_TOKENS:
        raise InputError(
            f"the text has {len(tokens)} tokens; a full trace keeps every token × token matrix, "
            f"so attnviz shows at most {MAX_TOKENS}: give a shorter text"
        )


def project_heads(x: np.ndarray, memory: np.ndarray, weights: Weights, mask: np.ndarray | None
                  ) -> tuple[tuple[HeadTrace, ...], np.ndarray, np.ndarray | None]:
    """Q from x, K and V from memory, split into heads, attend, concat, W_O.

    x (T, d_model), memory (S, d_model) — the same array for self-attention.
    Returns (heads, concat (T, h·d_v), output (T, d_model) or None).
    """
    h = weights.n_heads
    q_all = attention.split_heads(x @ weights.w_q, h)  # (h, T, d_k)
    k_all = attention.split_heads(memory @ weights.w_k, h)  # (h, S, d_k)
    v_all = attention.split_heads(memory @ weights.w_v, h)  # (h, S, d_v)
    heads = []
    for q, k, v in zip(q_all, k_all, v_all):
        scores, scaled, masked, probs, out = attention.attention_stages(q, k, v, mask)
        heads.append(HeadTrace(q, k, v, scores, scaled, mask, masked, probs, out))
    concat = attention.merge_heads(np.stack([hd.output for hd in heads]))  # (T, h·d_v)
    output = None if weights.w_o is None else concat @ weights.w_o  # (T, d_model)
    return tuple(heads), concat, output


def self_attention_trace(tokens: tuple[Token, ...], weights: Weights, seed: int = 0,
                         causal: bool = False, text: str = "") -> Trace:
    """The whole self-attention layer for `tokens`, every stage kept.

        E = embeddings(tokens)      (T, d_model)   seeded per token, or the file's table
        P = positional_encoding     (T, d_model)
        X = E + P                   (T, d_model)
        Q, K, V = X W_Q, X W_K, X W_V, split into h heads
        per head: scores, scaled, (masked), weights, output
        concat (T, h·d_v) → output = concat W_O (T, d_model)
    """
    check_length(tokens)
    t = len(tokens)
    e = embed([tk.piece for tk in tokens], [tk.id for tk in tokens], weights, seed)  # (T, d_model)
    p = attention.positional_encoding(t, weights.d_model)  # (T, d_model)
    x = e + p  # (T, d_model)
    mask = attention.causal_mask(t) if causal else None  # (T, T)
    heads, concat, output = project_heads(x, x, weights, mask)
    return Trace("self", tokens, tokens, e, p, x, None, heads, concat, output,
                 weights.d_model, weights.d_k, weights.d_v, seed, causal, weights.source, text)
