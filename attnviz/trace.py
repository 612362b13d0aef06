"""Traces: frozen records of every attention stage, and the functions that compute them.

A Trace is what every renderer draws and what `--json` writes. Rows are queries, columns are keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from . import attention, positions
from .errors import InputError, WeightsError
from .positions import sinusoidal
from .tokens import Token
from .weights import Weights, embed

#: Longest sequence a full trace (every T×S stage kept) is computed for, with one head.
MAX_TOKENS = 4096
#: Most numbers one T×S stage may hold over every head (h·T·S): 4,096² (64 MiB a stage in float32),
#: so h heads allow √(4,096² / h) tokens (2,048 for 4 heads, 512 for 64).
MAX_CELLS = MAX_TOKENS * MAX_TOKENS
#: Beyond this many cells a head (T·S > 1,024²), the T×S stages are kept in float32 (half the memory;
#: the display shows 2–8 decimals) and each head's output comes from the tiled kernel in float64.
FLOAT32_CELLS = 1024 * 1024
TILE_KEYS, TILE_QUERIES = 1024, 512  # tiled_attention's key block and query block for long inputs


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
    kv_head: int | None = None  # grouped-query attention: the K/V head this query head reads (None: its own)
    q_unrotated: np.ndarray | None = None  # (T, d_k) q before RoPE (q is after); None without RoPE
    k_unrotated: np.ndarray | None = None  # (S, d_k) k before RoPE
    capped: np.ndarray | None = None  # (T, S) soft-capped scaled scores (Gemma 2), what is masked; None without
    bias: np.ndarray | None = None  # (T, S) a position bias added to the scores (T5); None without


@dataclass(frozen=True)
class ModelInfo:
    """Which checkpoint and layer a Trace comes from."""

    name: str  # the repo id or folder name
    architecture: str  # config.json's model_type
    layer: int  # counting from 0
    n_layers: int


@dataclass(frozen=True)
class RopeInfo:
    """The rotary position stage of a layer: q and k of each head are rotated by position."""

    angles: np.ndarray  # (T, rotary_dim / 2) θ = position · inv_freq for each query row's position
    key_angles: np.ndarray  # (S, rotary_dim / 2)
    rotary_dim: int  # how many of d_k's dimensions are rotated (the rest pass through: partial rotary)
    base: float  # rope_theta
    scaling: str  # default, linear, llama3, dynamic, yarn, longrope
    attention_factor: float = 1.0  # cos and sin are multiplied by this (yarn, longrope)
    inv_freq: np.ndarray | None = None  # (rotary_dim / 2,) ω_i: pair i turns by m · ω_i at position m
    positions: np.ndarray | None = None  # (T,) the query rows' positions m (angles[i] = positions[i] · ω)


@dataclass(frozen=True)
class RelativeBias:
    """T5's relative position bias of a layer: each query–key offset's bucket, and the learned bias per bucket."""

    buckets: np.ndarray  # (T, S) int: the bucket of key − query offset j − i
    table: np.ndarray  # (num_buckets, h) the learned bias of each bucket for each head
    bidirectional: bool  # encoder: half the buckets for later keys; decoder: later keys all in bucket 0
    max_distance: int  # offsets this far or farther share the last bucket


@dataclass(frozen=True)
class AttentionInfo:
    """What a layer's attention does beyond plain multi-head attention with 1/√d_k."""

    n_kv_heads: int  # K/V heads: = heads for MHA, fewer for GQA, 1 for MQA
    scale: float  # what the scores are multiplied by (1/√d_k; Gemma: query_pre_attn_scalar^-½; T5: 1)
    softcap: float | None = None  # Gemma 2: scaled scores → cap · tanh(scaled / cap)
    window: int | None = None  # sliding window: a query sees at most this many keys (itself included)
    rope: RopeInfo | None = None
    qk_norm: bool = False  # Qwen3, Gemma 3: each head's q and k are RMS-normed before RoPE
    position_bias: str | None = None  # "relative" for T5's learned bucketed bias
    relative: RelativeBias | None = None  # T5: the buckets and the bias table behind HeadTrace.bias


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
    model: ModelInfo | None = field(default=None)
    patch_grid: tuple[int, int] | None = None  # (rows, cols) when the keys are image patches
    image_path: str | None = None  # the image the patches were cut from
    attention: AttentionInfo | None = None  # how the scores were made, when it is not plain MHA with 1/√d_k

    @property
    def n_heads(self) -> int:
        return len(self.heads)


def max_tokens(n_heads: int = 1) -> int:
    """Longest text a trace with `n_heads` heads is computed for: h·T² ≤ MAX_CELLS, T ≤ MAX_TOKENS."""
    return min(MAX_TOKENS, int(np.sqrt(MAX_CELLS / max(1, n_heads))))


def check_length(tokens: tuple[Token, ...], n_heads: int = 1, *, n_layers: int = 1, fix: str | None = None) -> None:
    """Raise InputError (one line, with the limit) when `tokens` is too long for a full trace of `n_heads`
    heads in each of `n_layers` layers (layers·h·T² ≤ MAX_CELLS); `fix` ends it (default: a shorter text)."""
    limit = max_tokens(n_heads * n_layers)
    if len(tokens) > limit:
        kept = (f" with {n_layers} layers × {n_heads} heads" if n_layers > 1 else
                f" with {n_heads} heads" if n_heads > 1 else "")
        if fix is None:
            fix = "give a shorter text, or one --layer" if n_layers > 1 else "give a shorter text"
        raise InputError(
            f"the text has {len(tokens)} tokens; a full trace keeps every token × token matrix, "
            f"so attnviz shows at most {limit}{kept}: {fix}"
        )


SPLITS = ("merged", "separate")


def head_weights(weights: Weights, head: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Head `head`'s own (W_Q_i, W_K_i, W_V_i), each d_model × d_k: the columns of the merged
    matrices that belong to it (the "separate" way of seed 000 with the same numbers)."""
    qk = slice(head * weights.d_k, (head + 1) * weights.d_k)
    vv = slice(head * weights.d_v, (head + 1) * weights.d_v)
    return weights.w_q[:, qk], weights.w_k[:, qk], weights.w_v[:, vv]


def project_heads(x: np.ndarray, memory: np.ndarray, weights: Weights, mask: np.ndarray | None,
                  split: str = "merged", *, kv_heads: int | None = None, angles: np.ndarray | None = None
                  ) -> tuple[tuple[HeadTrace, ...], np.ndarray, np.ndarray | None]:
    """Q from x, K and V from memory, per head; attend; concat; W_O.

    x (T, d_model), memory (S, d_model) — the same array for self-attention.
    split="merged": one X·W_Q of width h·d_k, reshaped into h heads (seed 000, way 1);
    split="separate": each head projects with its own d_model × d_k matrices (way 2).
    kv_heads g (grouped-query attention): query head i reads K/V head i // (h/g), which keeps the K and V
    projection of the first query head of its group; None: every head has its own (multi-head attention).
    angles (T, d_k/2): RoPE turns each head's q and k by them (self-attention: keys at the queries' positions).
    Returns (heads, concat (T, h·d_v), output (T, d_model) or None).
    """
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported below, once, clearly
        h = weights.n_heads
        if split == "merged":
            q_all = attention.split_heads(x @ weights.w_q, h)  # (h, T, d_k)
            k_all = attention.split_heads(memory @ weights.w_k, h)  # (h, S, d_k)
            v_all = attention.split_heads(memory @ weights.w_v, h)  # (h, S, d_v)
        elif split == "separate":
            per_head = [head_weights(weights, i) for i in range(h)]
            q_all = [x @ w_q for w_q, _, _ in per_head]  # h × (T, d_k)
            k_all = [memory @ w_k for _, w_k, _ in per_head]  # h × (S, d_k)
            v_all = [memory @ w_v for _, _, w_v in per_head]  # h × (S, d_v)
        else:
            raise InputError(f"split must be one of {', '.join(SPLITS)} (got {split!r})")
        group = 1 if kv_heads is None else attention.kv_groups(h, kv_heads)  # query heads per K/V head
        heads = []
        long = x.shape[0] * memory.shape[0] > FLOAT32_CELLS  # long input: float32 stages, tiled output
        for i, q in enumerate(q_all):
            kv = i // group  # the K/V head query head i reads
            k, v = k_all[kv * group], v_all[kv * group]  # (S, d_k), (S, d_v): the group's first head's projections
            q_plain, k_plain = q, k
            if angles is not None:
                q = positions.apply_rope(q, angles)  # (T, d_k)
                k = positions.apply_rope(k, angles)  # (S, d_k)
            if long:
                scores, scaled, masked, probs, _ = attention.attention_stages(q, k, v, mask, output=False,
                                                                              dtype=np.float32)
                out = attention.tiled_attention(q, k, v, TILE_KEYS, mask, query_block=TILE_QUERIES)  # (T, d_v)
            else:
                scores, scaled, masked, probs, out = attention.attention_stages(q, k, v, mask)
            heads.append(HeadTrace(q, k, v, scores, scaled, mask, masked, probs, out,
                                   kv_head=None if kv_heads is None else kv,
                                   q_unrotated=None if angles is None else q_plain,
                                   k_unrotated=None if angles is None else k_plain))
        concat = attention.merge_heads(np.stack([hd.output for hd in heads]))  # (T, h·d_v)
        output = None if weights.w_o is None else concat @ weights.w_o  # (T, d_model)
    _check_finite(weights, heads, output)
    return tuple(heads), concat, output


def _check_finite(weights: Weights, heads: tuple[HeadTrace, ...], output: np.ndarray | None) -> None:
    """Raise WeightsError when finite but huge weights overflowed a stage to ±inf or NaN (never shown)."""
    stages = [("Q, K or V", a) for hd in heads for a in (hd.q, hd.k, hd.v)]
    stages += [("the scores Q·Kᵀ", hd.scores) for hd in heads]
    stages += [("the output concat·W_O", output)] if output is not None else []
    for what, a in stages:
        if not np.isfinite(a).all():
            tensors = (weights.w_q, weights.w_k, weights.w_v, weights.w_o, weights.embedding)
            largest = max(float(np.abs(w).max()) for w in tensors if w is not None)
            kind = "float32 (kept for long texts)" if a.dtype == np.float32 else "float64"
            raise WeightsError(f"{weights.source}: {what} overflowed {kind} (the largest weight is {largest:.3g}): "
                               "scale the weights down; trained weights are rarely above 10")


def embed_with_positions(tokens: tuple[Token, ...], weights: Weights, seed: int
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(E, P, X = E + P), each (T, d_model)."""
    e = embed([tk.piece for tk in tokens], [tk.id for tk in tokens], weights, seed)  # (T, d_model)
    p = sinusoidal(len(tokens), weights.d_model)  # (T, d_model)
    return e, p, e + p


PAD = "[PAD]"


def pad_tokens(tokens: tuple[Token, ...], pad_to: int) -> tuple[Token, ...]:
    """`tokens` followed by [PAD] tokens up to `pad_to` (no change when already that long)."""
    if pad_to < len(tokens):
        raise InputError(f"--pad-to {pad_to} is shorter than the text's {len(tokens)} tokens: "
                         f"give at least {len(tokens)}")
    end = tokens[-1].end if tokens else 0
    return tokens + tuple(Token(PAD, PAD, None, end, end, special=True) for _ in range(pad_to - len(tokens)))


def self_attention_trace(tokens: tuple[Token, ...], weights: Weights, seed: int = 0,
                         causal: bool = False, text: str = "", pad_to: int | None = None,
                         split: str = "merged", *, rope_theta: float | None = None, kv_heads: int | None = None,
                         window: int | None = None) -> Trace:
    """The whole self-attention layer for `tokens`, every stage kept.

        E = embeddings(tokens)      (T, d_model)   seeded per token, or the file's table
        P = sinusoidal positions    (T, d_model)   (0 with RoPE: positions enter by turning q and k)
        X = E + P                   (T, d_model)
        Q, K, V = X W_Q, X W_K, X W_V, split into h heads (K, V: g heads with kv_heads, GQA)
        [q, k = RoPE(q, k), θ = m · ω_i, ω_i = rope_theta^(−2i / d_k)]   with rope_theta
        mask = causal (j ≤ i), a sliding window (i − window < j ≤ i), and/or padding (neither the query nor
               the key is [PAD]), or None
        per head: scores, scaled, (masked), weights, output
        concat (T, h·d_v) → output = concat W_O (T, d_model)

    rope_theta, kv_heads and window are the parts of today's decoders, on the seeded numbers (float64: the angles
    are exact, so the relative-position property holds to 1e-15); with none of them the trace is plain multi-head
    attention and `attention` is None.
    """
    n_real = len(tokens)
    if pad_to is not None:
        tokens = pad_tokens(tokens, pad_to)
    check_length(tokens, weights.n_heads)
    _check_modern(weights, rope_theta, kv_heads, window)
    t = len(tokens)
    e, p, x = embed_with_positions(tokens, weights, seed)  # (T, d_model) each
    if rope_theta is not None:  # no position vectors: RoPE turns q and k instead
        p, x = np.zeros_like(e), e  # (T, d_model)
    causal = causal or window is not None  # a sliding window looks back only
    mask = None
    if causal:
        mask = attention.causal_mask(t)  # (T, T)
    if window is not None:
        mask = attention.sliding_window_mask(t, window)  # (T, T) causal, and at most `window` keys back
    if pad_to is not None:
        real = np.arange(t) < n_real  # (T,)
        padding = attention.padding_mask(real, t) & real[:, None]  # (T, T): a [PAD] query sees nothing
        mask = padding if mask is None else mask & padding
    rope = None if rope_theta is None else seeded_rope(t, weights.d_k, rope_theta)
    heads, concat, output = project_heads(x, x, weights, mask, split, kv_heads=kv_heads,
                                          angles=None if rope is None else rope.angles)
    info = None
    if rope is not None or kv_heads is not None or window is not None:
        info = AttentionInfo(weights.n_heads if kv_heads is None else kv_heads, float(weights.d_k ** -0.5),
                             window=window, rope=rope)
    return Trace("self", tokens, tokens, e, p, x, None, heads, concat, output,
                 weights.d_model, weights.d_k, weights.d_v, seed, causal, weights.source, text, attention=info)


def seeded_rope(t: int, d_k: int, theta: float) -> RopeInfo:
    """RoPE for T positions 0 … T − 1 over all d_k dims, in float64: ω_i = theta^(−2i / d_k), θ = m · ω_i
    (d_k = 4, theta = 10000: ω = [1, 0.01], so position 3 turns its pairs by 3 and 0.03 radians)."""
    inv_freq = 1.0 / np.power(float(theta), np.arange(0, d_k, 2, dtype=np.float64) / d_k)  # (d_k/2,)
    rope = positions.Rope(head_dim=d_k, rotary_dim=d_k, base=float(theta), inv_freq=inv_freq)
    m = np.arange(t)  # (T,)
    angles = positions.rope_angles(m, rope, dtype=np.float64)  # (T, d_k/2)
    return RopeInfo(angles, angles, d_k, float(theta), "default", 1.0, inv_freq, m)


def _check_modern(weights: Weights, rope_theta: float | None, kv_heads: int | None, window: int | None) -> None:
    """InputError, saying how to fix it, for RoPE on an odd d_k, K/V heads that do not divide the heads, or a
    window below 1."""
    if rope_theta is not None:
        if weights.d_k % 2:
            raise InputError(f"--rope turns pairs of dimensions: --d-k must be even (got {weights.d_k})")
        if not rope_theta > 1:
            raise InputError(f"--rope-theta must be above 1 (got {rope_theta:g}); 10000 is the usual base")
    if kv_heads is not None and (kv_heads < 1 or weights.n_heads % kv_heads):
        raise InputError(f"--kv-heads {kv_heads} does not divide the {weights.n_heads} heads: pick a divisor of "
                         f"{weights.n_heads} (1 = multi-query attention)")
    if window is not None and window < 1:
        raise InputError(f"--window must be at least 1 token (got {window})")


def cross_attention_trace(query_tokens: tuple[Token, ...], key_tokens: tuple[Token, ...], weights: Weights,
                          seed: int = 0, memory: np.ndarray | None = None, text: str = "",
                          patch_grid: tuple[int, int] | None = None, image_path: str | None = None) -> Trace:
    """Cross-attention: queries from the decoder side, keys and values from the encoder side.

        X = E(query tokens) + P              (T, d_model)   the decoder's input
        memory = E(key tokens) + P, or given (S, d_model)   the encoder's output
        Q = X W_Q;  K = memory W_K;  V = memory W_V
        scores (T, S) … output (T, d_model), as in self-attention, with no mask
    """
    check_length(query_tokens, weights.n_heads)
    check_length(key_tokens, weights.n_heads)
    e, p, x = embed_with_positions(query_tokens, weights, seed)  # (T, d_model) each
    if memory is None:
        memory = embed_with_positions(key_tokens, weights, seed)[2]  # (S, d_model)
    heads, concat, output = project_heads(x, memory, weights, None)
    return Trace("cross", query_tokens, key_tokens, e, p, x, memory, heads, concat, output,
                 weights.d_model, weights.d_k, weights.d_v, seed, False, weights.source, text, None,
                 patch_grid, image_path)


def without_special(trace: Trace) -> Trace:
    """The same trace with special tokens' ([CLS], [SEP], [PAD], <BOS>…) rows and columns left out —
    for display only: every number is the one computed with them (rows may no longer sum to 1)."""
    keep_q = [i for i, t in enumerate(trace.query_tokens) if not t.special]
    keep_k = [j for j, t in enumerate(trace.key_tokens) if not t.special]
    if not keep_q or not keep_k:
        raise InputError("--no-special would hide every token: the text has only special tokens")
    rows, cols = np.asarray(keep_q), np.asarray(keep_k)

    def square(m: np.ndarray | None) -> np.ndarray | None:
        return None if m is None else m[np.ix_(rows, cols)]

    def cut(m: np.ndarray | None, keep: np.ndarray) -> np.ndarray | None:
        return None if m is None else m[keep]

    heads = tuple(HeadTrace(h.q[rows], h.k[cols], h.v[cols], square(h.scores), square(h.scaled), square(h.mask),
                            square(h.masked), square(h.weights), h.output[rows], h.kv_head, cut(h.q_unrotated, rows),
                            cut(h.k_unrotated, cols), square(h.capped), square(h.bias)) for h in trace.heads)
    info = trace.attention
    if info is not None and info.relative is not None:
        info = replace(info, relative=replace(info.relative, buckets=square(info.relative.buckets)))
    if info is not None and info.rope is not None:
        rope = info.rope
        info = replace(info, rope=replace(rope, angles=rope.angles[rows], key_angles=rope.key_angles[cols],
                                          positions=cut(rope.positions, rows)))
    return replace(
        trace, query_tokens=tuple(trace.query_tokens[i] for i in keep_q),
        key_tokens=tuple(trace.key_tokens[j] for j in keep_k), embeddings=trace.embeddings[rows],
        positions=trace.positions[rows], x=trace.x[rows],
        memory=None if trace.memory is None else trace.memory[cols], heads=heads, concat=trace.concat[rows],
        output=None if trace.output is None else trace.output[rows], attention=info)
