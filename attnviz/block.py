"""The whole transformer block around attention (residual, LayerNorm, FFN), seeded for teaching.

Post-LN blocks, as in the original Transformer and seed 001 (sublayer → residual → LayerNorm):

    encoder block:  a  = LayerNorm(x + SelfAttn(x))
                    y  = LayerNorm(a + FFN(a))
    decoder block:  a  = LayerNorm(x + MaskedSelfAttn(x))
                    c  = LayerNorm(a + CrossAttn(a, memory))
                    y  = LayerNorm(c + FFN(c))
    FFN(x) = act(x W₁ + b₁) W₂ + b₂,   act = GELU or ReLU,   d_model → d_ff → d_model

The norms and the FFN are attnviz.layers' (the same code real checkpoints run); every stage is kept in frozen
dataclasses, as trace.py does for attention. Checkpoints' own blocks (pre-LN GPT-2, Llama's RMSNorm and gated
FFN) come from attnviz.models and use the same records.

Where the seeded numbers come from (each stream a `np.random.Generator` made from --seed):
    default_rng(seed)         `block_from_text`: attention W_Q, W_K, W_V, W_O (the same as `attnviz explain`)
    default_rng([seed, 2])    `block_from_text`: FFN W₁ b₁ W₂ b₂ (LayerNorm γ = 1, β = 0)
    default_rng([seed, 3])    `block_from_text --decoder`: the cross-attention's weights
    default_rng([seed, 4])    `block_from_text --decoder`: the source's encoder block (its memory)

Shapes: T decoder (query) tokens, S source (key) tokens, d_model, d_ff.
No printing, no files, no rich/matplotlib here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from . import attention
from .errors import InputError, WeightsError
from .layers import EPS, BlockParams, FFNTrace, Norm, NormTrace, ffn_trace
from .tokens import DEFAULT_TOKENIZER, Token, bos_token, tokenize
from .trace import Trace, check_length, embed_with_positions, project_heads
from .weights import DECIMALS, Weights, check_sizes, init_weights

ACTIVATIONS = ("gelu", "relu")  # what the seeded block offers (--activation)
NORMS = ("layer", "rms")  # --norm: LayerNorm, or RMSNorm (Llama)
FFNS = ("plain", "swiglu", "geglu")  # --ffn: act(x W₁ + b₁) W₂ + b₂, or gated (act(x W_gate) ⊙ x W_up) W_down
GATES = {"swiglu": "silu", "geglu": "gelu"}  # a gated FFN's activation
FFN_RATIO = 4  # d_ff = 4 · d_model unless given (512 → 2048 in the original Transformer)
PARAMS_STREAM, CROSS_STREAM, SOURCE_STREAM = 2, 3, 4
MAX_D_FF = 16384  # 4 × the widest d_model (4,096), as --help says
MAX_FFN_WEIGHTS = 4096 * 4096  # numbers in W₁ (and in W₂): 128 MiB each in float64


def check_ffn(d_model: int, d_ff: int) -> None:
    """Reject an FFN the seeded block cannot be built with: d_model as check_sizes says, d_ff at most
    MAX_D_FF, and at most MAX_FFN_WEIGHTS numbers in W₁ (d_model × d_ff)."""
    check_sizes(d_model, 1, 1)
    if not 1 <= d_ff <= MAX_D_FF:
        raise InputError(f"--d-ff must be 1 to {MAX_D_FF:,} (got {d_ff})")
    if d_model * d_ff > MAX_FFN_WEIGHTS:
        raise InputError(f"--d-model {d_model} × --d-ff {d_ff} is {d_model * d_ff:,} weights a matrix; attnviz builds "
                         f"feed-forward layers of at most {MAX_FFN_WEIGHTS:,} (4,096²): give --d-ff "
                         f"{MAX_FFN_WEIGHTS // d_model} or less")


def init_block_params(rng: np.random.Generator, d_model: int, d_ff: int | None = None, activation: str = "gelu",
                      n_norms: int = 2, eps: float = EPS, *, norm: str = "layer", ffn: str = "plain"
                      ) -> BlockParams:
    """Seeded FFN parameters, drawn from `rng` in the order W₁, b₁, W₂, b₂ and rounded to two decimals:
    W₁ ~ N(0, 1/d_model), W₂ ~ N(0, 1/d_ff), biases ~ N(0, 0.1²). LayerNorm γ = 1, β = 0 (`n_norms` of each).

    ffn="swiglu" (SiLU gate, Llama) or "geglu" (GELU gate, Gemma): W_gate, W_up ~ N(0, 1/d_model) and
    W_down ~ N(0, 1/d_ff) in that order, no biases (`activation` is the gate's). norm="rms": RMSNorm with w = 1.
    """
    d_ff = FFN_RATIO * d_model if d_ff is None else d_ff
    check_ffn(d_model, d_ff)
    if norm not in NORMS:
        raise InputError(f"norm must be one of {', '.join(NORMS)} (got {norm!r})")
    if ffn not in FFNS:
        raise InputError(f"ffn must be one of {', '.join(FFNS)} (got {ffn!r})")
    if ffn == "plain" and activation not in ACTIVATIONS:
        raise InputError(f"activation must be one of {', '.join(ACTIVATIONS)} (got {activation!r})")

    def draw(shape: tuple[int, ...], scale: float) -> np.ndarray:
        return np.round(rng.standard_normal(shape) * scale, DECIMALS)

    ones = np.ones(d_model)
    gammas = tuple(ones.copy() for _ in range(n_norms))
    betas = tuple(np.zeros(d_model) if norm == "layer" else None for _ in range(n_norms))
    if ffn != "plain":
        w_gate = draw((d_model, d_ff), 1 / math.sqrt(d_model))
        w_up = draw((d_model, d_ff), 1 / math.sqrt(d_model))
        w_down = draw((d_ff, d_model), 1 / math.sqrt(d_ff))
        return BlockParams(w_gate, None, w_down, None, gammas, betas, GATES[ffn], eps, w_up=w_up, norm=norm)
    w1 = draw((d_model, d_ff), 1 / math.sqrt(d_model))
    b1 = draw((d_ff,), 0.1)
    w2 = draw((d_ff, d_model), 1 / math.sqrt(d_ff))
    b2 = draw((d_model,), 0.1)
    return BlockParams(w1, b1, w2, b2, gammas, betas, activation, eps, norm=norm)


def norm_stage(norm: Norm, x: np.ndarray) -> NormTrace:
    """norm(x) (LayerNorm or RMSNorm, layers.Norm), its overflow named: the residual of finite but huge weights
    (1e100) can have a variance past float64's range, which would show as inf and make every row 0."""
    with np.errstate(over="ignore", invalid="ignore"):  # reported below, once, clearly
        out = norm(x)
    if not ((out.mean is None or np.isfinite(out.mean).all()) and np.isfinite(out.var).all()):
        name = "RMSNorm's mean square" if out.kind == "rms" else "LayerNorm's variance"
        raise WeightsError(f"{name} overflowed float64 (its input reaches {float(np.abs(out.input).max()):.3g}): "
                           "the weights are too large; scale them down")
    return out


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
    post_attn: NormTrace | None = None  # Gemma 2/3: the norm of Attn's output before the first residual
    post_ffn: NormTrace | None = None  # Gemma 2/3: the norm of the FFN's output before the second residual

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
                  x: np.ndarray | None = None, text: str = "", norm_first: bool = False) -> EncoderBlockTrace:
    """One encoder block on `tokens`, every stage kept (norm_first: the pre-norm order of GPT-2 and Llama,
    r₁ = x + SelfAttn(N₁(x)), r₂ = r₁ + FFN(N₂(r₁)), output r₂). The norms are block_params' (LayerNorm or RMSNorm).

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
    norms = block_params.norms()  # LayerNorm or RMSNorm, the layers every model uses
    if norm_first:  # pre-norm (GPT-2, Llama): each sublayer reads a normed copy; the residual keeps x itself
        norm1 = norm_stage(norms[0], x)
        attn = _attend("self", tokens, tokens, e, p, norm1.output, None, weights, None, seed, False, text)
        residual1 = x + attn.output  # (T, d_model)
        norm2 = norm_stage(norms[1], residual1)
        ff = ffn_trace(norm2.output, block_params)
        residual2 = residual1 + ff.output  # (T, d_model)
        return EncoderBlockTrace(attn, residual1, norm1, ff, residual2, norm2, block_params, norm_first=True)
    attn = _attend("self", tokens, tokens, e, p, x, None, weights, None, seed, False, text)
    residual1 = x + attn.output  # (T, d_model)
    norm1 = norm_stage(norms[0], residual1)
    ff = ffn_trace(norm1.output, block_params)
    residual2 = norm1.output + ff.output  # (T, d_model)
    norm2 = norm_stage(norms[1], residual2)
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
    norms = block_params.norms()  # LayerNorm or RMSNorm
    norm1 = norm_stage(norms[0], residual1)
    zero = np.zeros_like(norm1.output)
    cross = _attend("cross", tokens, source_tokens, norm1.output, zero, norm1.output, memory, cross_weights, None,
                    seed, False, text)
    residual2 = norm1.output + cross.output  # (T, d_model)
    norm2 = norm_stage(norms[1], residual2)
    ff = ffn_trace(norm2.output, block_params)
    residual3 = norm2.output + ff.output  # (T, d_model)
    norm3 = norm_stage(norms[2], residual3)
    return DecoderBlockTrace(masked, residual1, norm1, cross, residual2, norm2, ff, residual3, norm3, block_params)



def block_from_text(text: str, weights: Weights, *, seed: int = 0, d_ff: int | None = None,
                    activation: str = "gelu", decoder: bool = False, source: str | None = None,
                    tokenizer: str = DEFAULT_TOKENIZER, norm: str = "layer", ffn: str = "plain",
                    norm_first: bool = False) -> BlockTrace:
    """One block for `text` with seeded FFN parameters (see the stream table at the top).

    Encoder (default): the block reads `text`; its attention numbers equal `attnviz explain`'s with the
    same weights. Decoder: the block reads <BOS> + `text` under the causal mask and cross-attends to
    `source` (required) after one seeded encoder block over it — that block's output is the memory.
    norm="rms", ffn="swiglu"/"geglu" and norm_first (the encoder block only) give a Llama-style block.

    >>> from attnviz.pipeline import make_weights
    >>> block_from_text("고양이는 침대에서 잔다", make_weights(0)).output.shape
    (5, 8)
    """
    tokens = tokenize(text, tokenizer)
    d_model = weights.d_model
    params_rng = np.random.default_rng([seed, PARAMS_STREAM])
    kinds = dict(norm=norm, ffn=ffn)
    if not decoder:
        params = init_block_params(params_rng, d_model, d_ff, activation, **kinds)
        return encoder_block(tokens, weights, params, seed, text=text, norm_first=norm_first)
    if norm_first:
        raise InputError("--pre-norm is for the encoder block; the seeded decoder block is post-norm: drop one")
    if source is None or not source.strip():
        raise InputError('a decoder block cross-attends to a source sentence: give --source "TEXT"')
    source_tokens = tokenize(source, tokenizer)
    params = init_block_params(params_rng, d_model, d_ff, activation, n_norms=3, **kinds)
    d_k, h = weights.d_k, weights.n_heads
    cross_w = init_weights(np.random.default_rng([seed, CROSS_STREAM]), d_model, d_k, h, seed=seed)
    enc_rng = np.random.default_rng([seed, SOURCE_STREAM])
    enc_w = replace(init_weights(enc_rng, d_model, d_k, h, seed=seed), embedding=weights.embedding)  # same table
    enc_params = init_block_params(enc_rng, d_model, params.d_ff, activation, **kinds)
    memory = encoder_block(source_tokens, enc_w, enc_params, seed, text=source).output  # (S, d_model)
    return decoder_block((bos_token(tokenizer), *tokens), source_tokens, weights, cross_w, params, seed,
                         memory=memory, text=text)


