"""After attention: the whole transformer block (residual, LayerNorm, FFN) and the encoder–decoder flow.

Post-LN blocks, as in the original Transformer and seed 001 (sublayer → residual → LayerNorm):

    encoder block:  a  = LayerNorm(x + SelfAttn(x))
                    y  = LayerNorm(a + FFN(a))
    decoder block:  a  = LayerNorm(x + MaskedSelfAttn(x))
                    c  = LayerNorm(a + CrossAttn(a, memory))
                    y  = LayerNorm(c + FFN(c))
    FFN(x) = act(x W₁ + b₁) W₂ + b₂,   act = GELU or ReLU,   d_model → d_ff → d_model

Every stage is kept in frozen dataclasses, as trace.py does for attention. `flow()` runs a tiny seeded
encoder–decoder end to end — ids → embeddings + positions → N encoder blocks → <BOS> → N decoder blocks →
logits → softmax → sampling — one token at a time. Its parameters are random, never trained: the tokens it
picks are nonsense; the point is the flow of shapes and numbers.

Where the seeded numbers come from (each stream a `np.random.Generator` made from --seed):
    default_rng(seed)         `block_from_text`: attention W_Q, W_K, W_V, W_O (the same as `attnviz explain`)
    default_rng([seed, 2])    `block_from_text`: FFN W₁ b₁ W₂ b₂ (LayerNorm γ = 1, β = 0)
    default_rng([seed, 3])    `block_from_text --decoder`: the cross-attention's weights
    default_rng([seed, 4])    `block_from_text --decoder`: the source's encoder block (its memory)
    default_rng(seed)         `flow`: every parameter, layer by layer, then W_out
    default_rng([seed, 6])    `flow`: the sampler (unless a generator is passed in)

Shapes: T decoder (query) tokens, S source (key) tokens, d_model, d_ff, V output vocabulary.
No printing, no files, no rich/matplotlib here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

import numpy as np

from . import attention
from .errors import InputError
from .tokens import DEFAULT_TOKENIZER, Token, bos_token, load_tokenizer, tokenize, visible
from .trace import Trace, check_length, embed_with_positions, project_heads
from .weights import DECIMALS, Weights, check_sizes, init_weights

ACTIVATIONS = ("gelu", "relu")
SAMPLERS = ("greedy", "top-k", "top-p")
EPS = 1e-5  # LayerNorm's ε (torch's default)
FFN_RATIO = 4  # d_ff = 4 · d_model unless given (512 → 2048 in the original Transformer)
FLOW_VOCAB = 512  # the flow's output vocabulary: the tokenizer's first 512 ordinary pieces
TOP = 5  # candidates kept per step for display
PARAMS_STREAM, CROSS_STREAM, SOURCE_STREAM, SAMPLE_STREAM = 2, 3, 4, 6
MAX_LAYERS = 12
MAX_STEPS = 64


# --- the math ------------------------------------------------------------------------------------

def erf(x) -> np.ndarray:
    """The error function erf(x) = 2/√π ∫₀ˣ e^(−t²) dt, to float64 precision (|error| < 1e-15).

    Uses the series with positive terms only (no cancellation):
        erf(z) = 2/√π · e^(−z²) · Σₙ 2ⁿ z^(2n+1) / (1·3·5·…·(2n+1))
    for |z| ≤ 6, and erf(±z) = ±1 beyond (1 − erf(6) ≈ 2e-17 is below float64's resolution).
    """
    x = np.asarray(x, dtype=np.float64)
    z = np.minimum(np.abs(x), 6.0)
    z2 = z * z
    term = z.copy()  # n = 0
    total = z.copy()
    for n in range(1, 400):
        term = term * (2.0 * z2 / (2 * n + 1))  # 2ⁿ z^(2n+1) / (2n+1)!!
        total = total + term
        if not np.any(term > 1e-17 * total):
            break
    out = np.minimum(2.0 / math.sqrt(math.pi) * np.exp(-z2) * total, 1.0)
    return np.where(np.isnan(x), np.nan, np.copysign(out, x))


def gelu(x) -> np.ndarray:
    """GELU(x) = x · Φ(x) = ½ x (1 + erf(x / √2)), the exact (erf) form."""
    x = np.asarray(x, dtype=np.float64)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def relu(x) -> np.ndarray:
    """ReLU(x) = max(x, 0)."""
    return np.maximum(np.asarray(x, dtype=np.float64), 0.0)


def activate(x: np.ndarray, name: str) -> np.ndarray:
    if name == "gelu":
        return gelu(x)
    if name == "relu":
        return relu(x)
    raise InputError(f"activation must be one of {', '.join(ACTIVATIONS)} (got {name!r})")


def layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = EPS) -> np.ndarray:
    """LayerNorm(x) = (x − mean) / √(var + ε) · γ + β, each token (row) on its own.

    x (T, d_model); mean and var (the biased variance, 1/d_model) are taken over a row's d_model numbers.
    """
    return norm_trace(x, gamma, beta, eps).output


def ffn(x: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray,
        activation: str = "gelu") -> np.ndarray:
    """FFN(x) = act(x W₁ + b₁) W₂ + b₂: x (T, d_model) → (T, d_ff) → (T, d_model), token by token."""
    return ffn_trace(x, BlockParams(w1, b1, w2, b2, (), (), activation)).output


# --- parameters ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class BlockParams:
    """A block's parameters besides attention: the FFN and the LayerNorms (float64 when seeded; a
    checkpoint's are float32, and `activation` is its config's name, e.g. gelu_new)."""

    w1: np.ndarray  # (d_model, d_ff)
    b1: np.ndarray  # (d_ff,)
    w2: np.ndarray  # (d_ff, d_model)
    b2: np.ndarray  # (d_model,)
    gammas: tuple[np.ndarray, ...]  # one γ (d_model,) per LayerNorm: 2 in an encoder block, 3 in a decoder one
    betas: tuple[np.ndarray, ...]  # one β (d_model,) per LayerNorm
    activation: str = "gelu"
    eps: float = EPS

    @property
    def d_model(self) -> int:
        return self.w1.shape[0]

    @property
    def d_ff(self) -> int:
        return self.w1.shape[1]


def init_block_params(rng: np.random.Generator, d_model: int, d_ff: int | None = None, activation: str = "gelu",
                      n_norms: int = 2, eps: float = EPS) -> BlockParams:
    """Seeded FFN parameters, drawn from `rng` in the order W₁, b₁, W₂, b₂ and rounded to two decimals:
    W₁ ~ N(0, 1/d_model), W₂ ~ N(0, 1/d_ff), biases ~ N(0, 0.1²). LayerNorm γ = 1, β = 0 (`n_norms` of each).
    """
    d_ff = FFN_RATIO * d_model if d_ff is None else d_ff
    check_sizes(d_model, d_ff, 1)
    if activation not in ACTIVATIONS:
        raise InputError(f"activation must be one of {', '.join(ACTIVATIONS)} (got {activation!r})")

    def draw(shape: tuple[int, ...], scale: float) -> np.ndarray:
        return np.round(rng.standard_normal(shape) * scale, DECIMALS)

    w1 = draw((d_model, d_ff), 1 / math.sqrt(d_model))
    b1 = draw((d_ff,), 0.1)
    w2 = draw((d_ff, d_model), 1 / math.sqrt(d_ff))
    b2 = draw((d_model,), 0.1)
    ones, zeros = np.ones(d_model), np.zeros(d_model)
    return BlockParams(w1, b1, w2, b2, tuple(ones.copy() for _ in range(n_norms)),
                       tuple(zeros.copy() for _ in range(n_norms)), activation, eps)


# --- stage records -------------------------------------------------------------------------------

@dataclass(frozen=True)
class NormTrace:
    """One LayerNorm, every step kept. T tokens (rows), d_model numbers each."""

    input: np.ndarray  # (T, d_model) the residual sum it normalises
    mean: np.ndarray  # (T,) each row's mean, before
    var: np.ndarray  # (T,) each row's variance (1/d_model), before
    normed: np.ndarray  # (T, d_model) (input − mean) / √(var + ε)
    output: np.ndarray  # (T, d_model) normed · γ + β
    gamma: np.ndarray  # (d_model,)
    beta: np.ndarray  # (d_model,)
    eps: float

    @property
    def mean_after(self) -> np.ndarray:
        """(T,) each output row's mean: ≈ 0 when β = 0."""
        return self.output.mean(axis=-1)

    @property
    def var_after(self) -> np.ndarray:
        """(T,) each output row's variance: ≈ 1 (var / (var + ε)) when γ = 1."""
        return self.output.var(axis=-1)


def norm_trace(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = EPS) -> NormTrace:
    """LayerNorm of each row of x (T, d_model), the statistics kept."""
    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(axis=-1)  # (T,)
    var = np.square(x - mean[..., None]).mean(axis=-1)  # (T,) biased, like torch
    normed = (x - mean[..., None]) / np.sqrt(var[..., None] + eps)  # (T, d_model)
    output = normed * gamma + beta  # (T, d_model)
    return NormTrace(x, mean, var, normed, output, np.asarray(gamma, dtype=np.float64),
                     np.asarray(beta, dtype=np.float64), float(eps))


@dataclass(frozen=True)
class FFNTrace:
    """The position-wise feed-forward network on each token: d_model → d_ff → d_model."""

    input: np.ndarray  # (T, d_model)
    hidden: np.ndarray  # (T, d_ff) x W₁ + b₁, before the activation
    activated: np.ndarray  # (T, d_ff) act(hidden)
    output: np.ndarray  # (T, d_model) activated W₂ + b₂
    activation: str


def ffn_trace(x: np.ndarray, params: BlockParams) -> FFNTrace:
    """FFN(x) = act(x W₁ + b₁) W₂ + b₂, every stage kept."""
    hidden = x @ params.w1 + params.b1  # (T, d_ff)
    activated = activate(hidden, params.activation)  # (T, d_ff)
    output = activated @ params.w2 + params.b2  # (T, d_model)
    return FFNTrace(x, hidden, activated, output, params.activation)


@dataclass(frozen=True)
class EncoderBlockTrace:
    """One self-attention block. Post-LN (the seeded blocks, BERT): self-attention → residual → LayerNorm →
    FFN → residual → LayerNorm. Pre-LN (norm_first, GPT-2; from attnviz.models.block_trace): LayerNorm →
    self-attention → residual → LayerNorm → FFN → residual, then the model's final LayerNorm after its last
    block (final_norm, GPT-2's ln_f)."""

    attention: Trace  # self-attention; attention.x is the block's input x (post-LN) or norm1.output (pre-LN)
    residual1: np.ndarray  # (T, d_model) x + Attn(x)  |  pre-LN: x + Attn(LN₁(x))
    norm1: NormTrace  # LayerNorm(residual1)  |  pre-LN: LN₁(x), what the attention reads
    ffn: FFNTrace  # on norm1.output  |  pre-LN: on norm2.output
    residual2: np.ndarray  # (T, d_model) norm1.output + FFN(norm1.output)  |  pre-LN: residual1 + FFN(LN₂(residual1))
    norm2: NormTrace  # LayerNorm(residual2): the block's output  |  pre-LN: LN₂(residual1), what the FFN reads
    params: BlockParams
    norm_first: bool = False  # True: pre-LN, the order of the second column above
    final_norm: NormTrace | None = None  # a model's final LayerNorm on this (its last) block's output, or None

    kind = "encoder"

    @property
    def x(self) -> np.ndarray:
        return self.norm1.input if self.norm_first else self.attention.x

    @property
    def block_output(self) -> np.ndarray:
        """(T, d_model) the block's own output: norm2.output (post-LN) or residual2 (pre-LN)."""
        return self.residual2 if self.norm_first else self.norm2.output

    @property
    def output(self) -> np.ndarray:
        """(T, d_model) what comes next: the block's output, then final_norm when there is one (so a model's
        last block gives transformers' last hidden state, after GPT-2's ln_f)."""
        return self.block_output if self.final_norm is None else self.final_norm.output


@dataclass(frozen=True)
class DecoderBlockTrace:
    """One post-LN decoder block: masked self-attention → residual+LN → cross-attention over the encoder's
    output → residual+LN → FFN → residual+LN."""

    self_attention: Trace  # causal self-attention; self_attention.x is the block's input x (T, d_model)
    residual1: np.ndarray  # (T, d_model) x + MaskedAttn(x)
    norm1: NormTrace
    cross_attention: Trace  # Q from norm1.output (T), K and V from the memory (S): weights (T, S)
    residual2: np.ndarray  # (T, d_model) norm1.output + CrossAttn(norm1.output, memory)
    norm2: NormTrace
    ffn: FFNTrace  # on norm2.output
    residual3: np.ndarray  # (T, d_model) norm2.output + FFN(norm2.output)
    norm3: NormTrace  # the block's output
    params: BlockParams

    kind = "decoder"

    @property
    def x(self) -> np.ndarray:
        return self.self_attention.x

    @property
    def memory(self) -> np.ndarray:
        return self.cross_attention.memory

    @property
    def output(self) -> np.ndarray:
        return self.norm3.output


BlockTrace = EncoderBlockTrace | DecoderBlockTrace


# --- blocks --------------------------------------------------------------------------------------

def _inputs(tokens: tuple[Token, ...], weights: Weights, seed: int, x: np.ndarray | None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(E, P, X). With x given (a block above the first), E is x and P is 0: positions were added once,
    before the first block."""
    if x is None:
        return embed_with_positions(tokens, weights, seed)  # (T, d_model) each
    x = np.asarray(x, dtype=np.float64)
    if x.shape != (len(tokens), weights.d_model):
        raise InputError(f"x has shape {x.shape}; the block needs ({len(tokens)}, {weights.d_model})")
    return x, np.zeros_like(x), x


def _attend(kind: str, q_tokens, k_tokens, e, p, x, memory, weights: Weights, mask, seed, causal, text) -> Trace:
    """A Trace for attention whose queries come from x (T, d_model) and keys/values from memory."""
    if weights.w_o is None:
        raise InputError(f"{weights.source} has no w_o: a block adds Attn(x) to x, which needs the output "
                         "projection W_O (d_model wide); use a weight file with w_o")
    heads, concat, output = project_heads(x, x if memory is None else memory, weights, mask)
    return Trace(kind, q_tokens, k_tokens, e, p, x, memory, heads, concat, output, weights.d_model, weights.d_k,
                 weights.d_v, seed, causal, weights.source, text)


def _check_params(params: BlockParams, weights: Weights, n_norms: int) -> None:
    if params.d_model != weights.d_model:
        raise InputError(f"the block's FFN is {params.d_model} wide but the attention is d_model = "
                         f"{weights.d_model}: make them the same width")
    if len(params.gammas) < n_norms or len(params.betas) < n_norms:
        raise InputError(f"this block needs {n_norms} LayerNorms; the parameters have {len(params.gammas)}")


def encoder_block(tokens: tuple[Token, ...], weights: Weights, block_params: BlockParams, seed: int = 0,
                  x: np.ndarray | None = None, text: str = "") -> EncoderBlockTrace:
    """One encoder block on `tokens`, every stage kept.

        x  = E + P (or the given x, the block below's output)     (T, d_model)
        r₁ = x + SelfAttn(x)                                      (T, d_model)   residual
        a  = LayerNorm₁(r₁)                                       (T, d_model)
        h  = a W₁ + b₁ → act(h)                                   (T, d_ff)
        f  = act(h) W₂ + b₂                                       (T, d_model)
        r₂ = a + f                                                (T, d_model)   residual
        y  = LayerNorm₂(r₂)                                       (T, d_model)   the block's output
    """
    check_length(tokens)
    _check_params(block_params, weights, 2)
    e, p, x = _inputs(tokens, weights, seed, x)
    attn = _attend("self", tokens, tokens, e, p, x, None, weights, None, seed, False, text)
    residual1 = x + attn.output  # (T, d_model)
    norm1 = norm_trace(residual1, block_params.gammas[0], block_params.betas[0], block_params.eps)
    ff = ffn_trace(norm1.output, block_params)
    residual2 = norm1.output + ff.output  # (T, d_model)
    norm2 = norm_trace(residual2, block_params.gammas[1], block_params.betas[1], block_params.eps)
    return EncoderBlockTrace(attn, residual1, norm1, ff, residual2, norm2, block_params)


def decoder_block(tokens: tuple[Token, ...], source_tokens: tuple[Token, ...], self_weights: Weights,
                  cross_weights: Weights, block_params: BlockParams, seed: int = 0, x: np.ndarray | None = None,
                  memory: np.ndarray | None = None, text: str = "") -> DecoderBlockTrace:
    """One decoder block: `tokens` (the decoder's input, T) attend to themselves under the causal mask,
    then to `source_tokens` (S) through the encoder's output `memory` (S, d_model; default E + P of the
    source tokens).

        r₁ = x + MaskedSelfAttn(x)              a = LayerNorm₁(r₁)     (T, d_model)
        r₂ = a + CrossAttn(Q = a, K, V = mem)   c = LayerNorm₂(r₂)     (T, d_model)   weights (T, S)
        r₃ = c + FFN(c)                         y = LayerNorm₃(r₃)     (T, d_model)
    """
    check_length(tokens)
    check_length(source_tokens)
    _check_params(block_params, self_weights, 3)
    if cross_weights.d_model != self_weights.d_model:
        raise InputError("the self- and cross-attention weights must have the same d_model")
    e, p, x = _inputs(tokens, self_weights, seed, x)
    if memory is None:
        memory = embed_with_positions(source_tokens, cross_weights, seed)[2]  # (S, d_model)
    memory = np.asarray(memory, dtype=np.float64)
    if memory.shape != (len(source_tokens), self_weights.d_model):
        raise InputError(f"memory has shape {memory.shape}; expected ({len(source_tokens)}, {self_weights.d_model})")
    t = len(tokens)
    masked = _attend("self", tokens, tokens, e, p, x, None, self_weights, attention.causal_mask(t), seed, True, text)
    residual1 = x + masked.output  # (T, d_model)
    g, b, eps = block_params.gammas, block_params.betas, block_params.eps
    norm1 = norm_trace(residual1, g[0], b[0], eps)
    zero = np.zeros_like(norm1.output)
    cross = _attend("cross", tokens, source_tokens, norm1.output, zero, norm1.output, memory, cross_weights, None,
                    seed, False, text)
    residual2 = norm1.output + cross.output  # (T, d_model)
    norm2 = norm_trace(residual2, g[1], b[1], eps)
    ff = ffn_trace(norm2.output, block_params)
    residual3 = norm2.output + ff.output  # (T, d_model)
    norm3 = norm_trace(residual3, g[2], b[2], eps)
    return DecoderBlockTrace(masked, residual1, norm1, cross, residual2, norm2, ff, residual3, norm3, block_params)



def block_from_text(text: str, weights: Weights, *, seed: int = 0, d_ff: int | None = None,
                    activation: str = "gelu", decoder: bool = False, source: str | None = None,
                    tokenizer: str = DEFAULT_TOKENIZER) -> BlockTrace:
    """One block for `text` with seeded FFN parameters (see the stream table at the top).

    Encoder (default): the block reads `text`; its attention numbers equal `attnviz explain`'s with the
    same weights. Decoder: the block reads <BOS> + `text` under the causal mask and cross-attends to
    `source` (required) after one seeded encoder block over it — that block's output is the memory.

    >>> from attnviz.pipeline import make_weights
    >>> block_from_text("고양이는 침대에서 잔다", make_weights(0)).output.shape
    (5, 8)
    """
    tokens = tokenize(text, tokenizer)
    d_model = weights.d_model
    params_rng = np.random.default_rng([seed, PARAMS_STREAM])
    if not decoder:
        params = init_block_params(params_rng, d_model, d_ff, activation)
        return encoder_block(tokens, weights, params, seed, text=text)
    if source is None or not source.strip():
        raise InputError('a decoder block cross-attends to a source sentence: give --source "TEXT"')
    source_tokens = tokenize(source, tokenizer)
    params = init_block_params(params_rng, d_model, d_ff, activation, n_norms=3)
    d_k, h = weights.d_k, weights.n_heads
    cross_w = init_weights(np.random.default_rng([seed, CROSS_STREAM]), d_model, d_k, h, seed=seed)
    enc_rng = np.random.default_rng([seed, SOURCE_STREAM])
    enc_w = replace(init_weights(enc_rng, d_model, d_k, h, seed=seed), embedding=weights.embedding)  # same table
    enc_params = init_block_params(enc_rng, d_model, params.d_ff, activation)
    memory = encoder_block(source_tokens, enc_w, enc_params, seed, text=source).output  # (S, d_model)
    return decoder_block((bos_token(tokenizer), *tokens), source_tokens, weights, cross_w, params, seed,
                         memory=memory, text=text)


# --- sampling ------------------------------------------------------------------------------------

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


# --- the flow ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Shape:
    """One arrow of the flow: a stage's name and the shape of what it hands on."""

    stage: str  # ids, embeddings, x, encoder, memory, bos, decoder, last, logits, probs, token
    shape: tuple[int, ...]
    layer: int | None = None  # 1-based, for encoder/decoder blocks


SHAPE_NAMES = {"ids": "ids", "embeddings": "embeddings", "x": "+ positions", "encoder": "encoder {n}",
               "memory": "memory (K/V)", "bos": "decoder ids", "decoder": "decoder {n}", "last": "last token",
               "logits": "logits", "probs": "softmax", "token": "next id"}


def shape_text(shapes: tuple[Shape, ...], names: dict[str, str] | None = None) -> str:
    """"(5,) ids → (5, 8) embeddings → …": each shape followed by its stage's name."""
    names = SHAPE_NAMES if names is None else names
    return " → ".join(f"{s.shape} {names[s.stage].format(n=s.layer)}" for s in shapes)


@dataclass(frozen=True)
class TopToken:
    """One of a step's most probable next tokens."""

    index: int  # into the output vocabulary
    id: int  # the tokenizer's id
    label: str
    logit: float
    prob: float  # softmax(logits / temperature)


@dataclass(frozen=True)
class FlowStep:
    """One generation step: the decoder reruns on <BOS> + the tokens picked so far."""

    number: int  # 1-based
    tokens: tuple[Token, ...]  # the decoder's input (T,)
    decoder: tuple[DecoderBlockTrace, ...]  # N blocks
    hidden: np.ndarray  # (d_model,) the last token's row of the last block's output
    sampling: Sampling
    top: tuple[TopToken, ...]  # the TOP most probable, best first
    token: Token  # the pick
    shapes: tuple[Shape, ...]  # this step's decoder path, bos → token

    @property
    def prob(self) -> float:
        """The pick's probability softmax(logits / T)."""
        return float(self.sampling.probs[self.sampling.choice])


@dataclass(frozen=True)
class FlowModel:
    """A tiny seeded encoder–decoder. Untrained: every number is random."""

    encoder: tuple[tuple[Weights, BlockParams], ...]  # per layer: self-attention, FFN + 2 LayerNorms
    decoder: tuple[tuple[Weights, Weights, BlockParams], ...]  # per layer: masked self, cross, FFN + 3 LayerNorms
    w_out: np.ndarray  # (d_model, V) the output projection to the vocabulary


def init_flow_model(rng: np.random.Generator, n_layers: int, vocab: int, d_model: int = 8, d_k: int = 4,
                    n_heads: int = 1, d_ff: int | None = None, activation: str = "gelu",
                    seed: int | None = None) -> FlowModel:
    """Draw every parameter from `rng`: encoder layers, decoder layers, then W_out ~ N(0, 1/d_model)."""
    enc = tuple((init_weights(rng, d_model, d_k, n_heads, seed), init_block_params(rng, d_model, d_ff, activation))
                for _ in range(n_layers))
    dec = tuple((init_weights(rng, d_model, d_k, n_heads, seed), init_weights(rng, d_model, d_k, n_heads, seed),
                 init_block_params(rng, d_model, d_ff, activation, n_norms=3)) for _ in range(n_layers))
    w_out = np.round(rng.standard_normal((d_model, vocab)) / math.sqrt(d_model), DECIMALS)
    return FlowModel(enc, dec, w_out)


@dataclass(frozen=True)
class FlowTrace:
    """The seed's encoder–decoder walk-through, every stage kept. The model is untrained: its output is
    nonsense; what it shows is how shapes and numbers flow."""

    source: str
    source_tokens: tuple[Token, ...]  # (S,)
    embeddings: np.ndarray  # (S, d_model) E
    positions: np.ndarray  # (S, d_model) P
    x: np.ndarray  # (S, d_model) E + P
    encoder: tuple[EncoderBlockTrace, ...]  # N blocks
    memory: np.ndarray  # (S, d_model) the last encoder block's output: K and V of every cross-attention
    steps: tuple[FlowStep, ...]
    vocab_ids: np.ndarray  # (V,) the tokenizer id of each output index
    vocab_labels: tuple[str, ...]  # (V,)
    tokenizer_vocab: int  # the tokenizer's whole vocabulary
    w_out: np.ndarray  # (d_model, V)
    output_ids: tuple[int, ...]
    output_text: str  # the picked ids decoded by the tokenizer
    shapes: tuple[Shape, ...]  # ids → … → token, for the first step
    sample: str
    k: int | None
    p: float | None
    temperature: float
    seed: int
    n_layers: int
    d_model: int
    d_k: int
    n_heads: int
    d_ff: int
    activation: str
    tokenizer: str

    @property
    def vocab(self) -> int:
        return len(self.vocab_ids)


_BYTE_PIECE = re.compile(r"<0x[0-9A-Fa-f]{2}>")


def output_vocabulary(tokenizer: str = DEFAULT_TOKENIZER, size: int | None = FLOW_VOCAB
                      ) -> tuple[np.ndarray, tuple[str, ...], int]:
    """(ids, labels, tokenizer's vocabulary size): the first `size` ordinary ids of the tokenizer (all of
    them when None). Special tokens (<unk> <pad> <bos> <eos>) and byte pieces (<0x..>) are left out, so
    every pick decodes to text and generation never stops early."""
    tok = load_tokenizer(tokenizer)
    hf = tok._hf
    if hf is None:
        raise InputError(f"the flow picks tokens from a vocabulary, and the {tokenizer} tokenizer has none: "
                         "use the default tokenizer or a tokenizer.json")
    special = {i for i, added in hf.get_added_tokens_decoder().items() if added.special}
    total = tok.vocab_size
    ids, labels = [], []
    for i in range(total):
        piece = hf.id_to_token(i)
        if i in special or piece is None or _BYTE_PIECE.fullmatch(piece):
            continue
        ids.append(i)
        labels.append(visible(hf.decode([i]).strip() or piece))
        if size is not None and len(ids) == size:
            break
    if len(ids) < 2:
        raise InputError(f"the {tokenizer} tokenizer has fewer than 2 ordinary tokens to pick from")
    return np.asarray(ids), tuple(labels), total


def flow(source: str, *, seed: int = 0, n_layers: int = 2, steps: int = 4, sample_method: str = "greedy",
         k: int = 5, p: float = 0.9, temperature: float = 1.0, d_model: int = 8, d_k: int = 4, n_heads: int = 1,
         d_ff: int | None = None, activation: str = "gelu", tokenizer: str = DEFAULT_TOKENIZER,
         vocab: int | None = FLOW_VOCAB, rng: np.random.Generator | None = None) -> FlowTrace:
    """Seed 001's encoder–decoder, end to end, on a tiny untrained seeded model.

        source → ids (S,) → E + P (S, d_model) → N encoder blocks → memory (S, d_model)
        step s: <BOS> + picks so far (T = s) → E + P (T, d_model) → N decoder blocks (each cross-attends
                to memory) → last row h (d_model,) → logits = h W_out (V,) → softmax(logits / temperature)
                → greedy / top-k / top-p → the next token, appended; the decoder reruns from scratch.

    The output vocabulary is the tokenizer's first `vocab` ordinary pieces (512 of the default tokenizer's
    12,053 unless given; None for all). Model parameters come from default_rng(seed); the sampler from
    `rng`, or default_rng([seed, 6]). The model was never trained, so the text it writes is nonsense.

    >>> [s.token.id is not None for s in flow("고양이는 침대에서 잔다", steps=2).steps]
    [True, True]
    """
    if not 1 <= n_layers <= MAX_LAYERS:
        raise InputError(f"--layers must be between 1 and {MAX_LAYERS} (got {n_layers})")
    if not 1 <= steps <= MAX_STEPS:
        raise InputError(f"--steps must be between 1 and {MAX_STEPS} (got {steps})")
    check_sampling(sample_method, k, p, temperature)
    check_sizes(d_model, d_k, n_heads)
    vocab_ids, vocab_labels, total = output_vocabulary(tokenizer, vocab)
    source_tokens = tokenize(source, tokenizer)
    check_length(source_tokens)
    model = init_flow_model(np.random.default_rng(seed), n_layers, len(vocab_ids), d_model, d_k, n_heads, d_ff,
                            activation, seed)
    d_ff = model.encoder[0][1].d_ff
    sampler = np.random.default_rng([seed, SAMPLE_STREAM]) if rng is None else rng

    e, pos, x = embed_with_positions(source_tokens, model.encoder[0][0], seed)  # (S, d_model) each
    encoder, h = [], x
    for w, params in model.encoder:
        blk = encoder_block(source_tokens, w, params, seed, x=None if not encoder else h, text=source)
        encoder.append(blk)
        h = blk.output  # (S, d_model)
    memory = h  # (S, d_model)
    s_len = len(source_tokens)
    enc_shapes = (Shape("ids", (s_len,)), Shape("embeddings", e.shape), Shape("x", x.shape),
                  *(Shape("encoder", b.output.shape, i + 1) for i, b in enumerate(encoder)),
                  Shape("memory", memory.shape))

    hf = load_tokenizer(tokenizer)._hf
    dec_tokens: tuple[Token, ...] = (bos_token(tokenizer),)
    picked: list[int] = []
    out_steps = []
    for number in range(1, steps + 1):
        blocks, y = [], None
        for w_self, w_cross, params in model.decoder:
            blk = decoder_block(dec_tokens, source_tokens, w_self, w_cross, params, seed, x=y, memory=memory,
                                text=source)
            blocks.append(blk)
            y = blk.output  # (T, d_model)
        hidden = y[-1]  # (d_model,) the last position predicts the next token
        logits = hidden @ model.w_out  # (V,)
        pick = sample(logits, sampler, sample_method, k=k, p=p, temperature=temperature)
        top = tuple(TopToken(int(j), int(vocab_ids[j]), vocab_labels[j], float(logits[j]), float(pick.probs[j]))
                    for j in np.argsort(-logits, kind="stable")[:TOP])
        tid = int(vocab_ids[pick.choice])
        picked.append(tid)
        end = len(hf.decode(picked))
        token = Token(vocab_labels[pick.choice], hf.id_to_token(tid), tid, len(hf.decode(picked[:-1])), end)
        t = len(dec_tokens)
        shapes = (Shape("bos", (t,)), Shape("x", (t, d_model)),
                  *(Shape("decoder", b.output.shape, i + 1) for i, b in enumerate(blocks)),
                  Shape("last", hidden.shape), Shape("logits", logits.shape), Shape("probs", pick.probs.shape),
                  Shape("token", (1,)))
        out_steps.append(FlowStep(number, dec_tokens, tuple(blocks), hidden, pick, top, token, shapes))
        dec_tokens = (*dec_tokens, token)
    return FlowTrace(source, source_tokens, e, pos, x, tuple(encoder), memory, tuple(out_steps), vocab_ids,
                     vocab_labels, total, model.w_out, tuple(picked), hf.decode(picked),
                     enc_shapes + out_steps[0].shapes, sample_method, k if sample_method == "top-k" else None,
                     p if sample_method == "top-p" else None, float(temperature), seed, n_layers, d_model, d_k,
                     n_heads, d_ff, activation, tokenizer)
