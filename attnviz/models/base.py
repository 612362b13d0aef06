"""The family-independent forward pass of a checkpoint, and the Architecture every family file fills in.

A family (bert.py, gpt2.py, llama.py, …) is a subclass of `Architecture`: it reads its config into sizes and
flags, names its tensors, and hands this module the weights of one layer as `x @ W` takes them. Subclasses
register themselves by their `model_types` (no hand-kept list). Everything else is here, once:

    embed:      h₀ = family.embed(ids)                                      (T, d_model)
    layer i, pre-norm (GPT-2, Llama, …):            post-norm (BERT family):
        n₁ = Norm₁(h)                                   r₁ = h + Attn(h)
        r₁ = h + [post₁](Attn(n₁))                      n₁ = Norm₁(r₁)
        n₂ = Norm₂(r₁)                                  r₂ = n₁ + FFN(n₁)
        r₂ = r₁ + [post₂](FFN(n₂))  → hᵢ₊₁              n₂ = Norm₂(r₂)  → hᵢ₊₁
    ([post] is Gemma's norm on a sublayer's output before the residual.)
    Attn(x): q = x W_Q (+ b_Q), k, v likewise → heads (h query heads, g K/V heads) → [q/k RMSNorm per head]
             → [RoPE] → per query head i with K/V head i // (h/g): scores, · scale, [soft-cap], mask, softmax,
             weighted sum → concat → W_O (+ b_O)
    final:      family.final_norm(h_N) (GPT-2's ln_f, Llama's norm), when every layer ran

Arrays are float32 like the checkpoints; norms' statistics and the softmax in float64.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .. import attention
from ..errors import ModelError
from ..layers import BlockParams, FFNTrace, Norm, NormTrace, ffn_trace, matmul, sublayer
from ..tokens import Tokenizer
from ..trace import AttentionInfo, HeadTrace, RopeInfo
from .config import activation, check_tensors, config_float, config_int  # noqa: F401  (families use them)
from .guard import check_finite, quiet, stack_label

#: model_type → the Architecture subclass that runs it; filled by Architecture.__init_subclass__.
REGISTRY: dict[str, type[Architecture]] = {}


# --- what one layer computes ---------------------------------------------------------------------

@dataclass(frozen=True)
class AttentionWeights:
    """One layer's attention parameters as `x @ W` takes them (views of the memory map where possible)."""

    w_q: np.ndarray  # (d_model, h·d_k)
    w_k: np.ndarray  # (d_model, g·d_k)
    w_v: np.ndarray  # (d_model, g·d_v)
    w_o: np.ndarray  # (h·d_v, d_model)
    b_q: np.ndarray | None = None  # (h·d_k,)
    b_k: np.ndarray | None = None
    b_v: np.ndarray | None = None
    b_o: np.ndarray | None = None  # (d_model,)
    q_norm: Norm | None = None  # RMSNorm over each head's d_k (Qwen3, Gemma 3)
    k_norm: Norm | None = None


@dataclass(frozen=True)
class LayerAttention:
    """One layer's self-attention, every stage kept (what a Trace of that layer holds).

    x is what Q, K and V are projected from: the layer's input for post-norm encoders (BERT), the first norm's
    output for pre-norm decoders (GPT-2, Llama). For layer 0, `embeddings` and `positions` are the token and
    position embedding rows the input was built from; for later layers they are x and zeros.
    """

    x: np.ndarray  # (T, d_model)
    embeddings: np.ndarray  # (T, d_model)
    positions: np.ndarray  # (T, d_model)
    heads: tuple[HeadTrace, ...]
    concat: np.ndarray  # (T, h·d_v)
    output: np.ndarray  # (T, d_model) concat · W_O + b_O, before the residual and any norm
    info: AttentionInfo | None = None  # GQA, RoPE, scale, soft-cap, window; None for plain MHA with 1/√d_k
    memory: np.ndarray | None = None  # (S, d_model) cross-attention: what K and V come from (None: x itself)


@dataclass(frozen=True)
class LayerRun:
    """One whole layer of a checkpoint, every stage kept, in the order of attnviz.block's EncoderBlockTrace.

    post-norm (BERT family, norm_first False):        pre-norm (GPT-2, Llama, …; norm_first True):
        residual1 = x + Attn(x)                           norm1     = N₁(x)      (attention.x is its output)
        norm1     = N₁(residual1)                         residual1 = x + [post_attn](Attn(norm1.output))
        ffn       = FFN(norm1.output)                     norm2     = N₂(residual1)
        residual2 = norm1.output + ffn.output             ffn       = FFN(norm2.output)
        norm2     = N₂(residual2)                         residual2 = residual1 + [post_ffn](ffn.output)
        output    = norm2.output                          output    = residual2
    When the run stopped after the attention, only `attention` is set (and norm1 for pre-norm, which the
    attention needs); the rest is None.
    """

    attention: LayerAttention
    norm_first: bool
    residual1: np.ndarray | None = None  # (T, d_model)
    norm1: NormTrace | None = None
    ffn: FFNTrace | None = None
    residual2: np.ndarray | None = None  # (T, d_model)
    norm2: NormTrace | None = None
    params: BlockParams | None = None  # the FFN and the norms of this layer
    output: np.ndarray | None = None  # (T, d_model) the next layer's input
    post_attn: NormTrace | None = None  # Gemma: the norm of Attn's output, before the residual
    post_ffn: NormTrace | None = None  # Gemma: the norm of the FFN's output, before the residual


@dataclass(frozen=True)
class Forward:
    """What a forward pass up to some layer computed.

    hidden[i] is the input of layer i (hidden[0] the embedding output); when every layer ran, the last entry
    is the final output, after the final norm when the family has one (transformers' hidden_states).
    """

    hidden: list[np.ndarray] = field(default_factory=list)  # each (T, d_model) float32
    layers: dict[int, LayerAttention] = field(default_factory=dict)  # the layers asked to be kept
    blocks: dict[int, LayerRun] = field(default_factory=dict)  # whole layers, when asked for
    final: NormTrace | None = None  # the final norm, when every layer ran with `finish`


# --- the architecture a family fills in -----------------------------------------------------------

class Architecture:
    """A model family: sizes and flags from config.json, tensor names, and the weights of a layer.

    Subclasses set `model_types` (the config.json model_type values they run) and are registered by it;
    they provide from_config, expected, embed, layer_norms, attention_weights, block_params and final_norm, and may
    override rope / window / post_norms for their variants. The forward pass itself is `forward` below.
    """

    model_types: ClassVar[tuple[str, ...]] = ()
    norm_first: ClassVar[bool] = True  # pre-norm (GPT-2, Llama) or post-norm (BERT)
    reads_text: ClassVar[bool] = True  # has a tokenizer.json (a ViT reads images only)
    reads_images: ClassVar[bool] = False  # has a vision encoder and a preprocessor_config.json (ViT, captioners)
    #: Q, K and V accumulated in float64 and rounded once to float32 (`linear`): T5, whose unscaled scores reach
    #: ±40, where a float32 product's own rounding moves the probabilities by ~1e-5
    exact_projections: ClassVar[bool] = False

    # set by each family's from_config
    model_type: str
    n_layers: int
    n_heads: int
    d_model: int
    vocab: int
    pad_id: int
    causal: bool

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for model_type in cls.model_types:
            REGISTRY[model_type] = cls

    # sizes and flags with defaults for plain multi-head attention
    @property
    def n_kv_heads(self) -> int:
        return self.n_heads

    @property
    def d_k(self) -> int:
        return self.d_model // self.n_heads

    @property
    def position_limit(self) -> int:
        return self.max_positions

    def attention_scale(self, i: int) -> float | None:
        """What layer i's scores are multiplied by; None: 1/√d_k (the division shown as ÷√d_k)."""
        return None

    def softcap(self, i: int) -> float | None:
        return None

    def window(self, i: int) -> int | None:
        """Layer i's sliding window (a query sees this many keys, itself included), or None."""
        return None

    def rope(self, i: int):
        """Layer i's positions.Rope, or None when positions are added to the embeddings."""
        return None

    def position_bias(self, tensors: Any, i: int, t: int, s: int) -> np.ndarray | None:
        """(h, T, S) added to layer i's scaled scores (T5's relative position bias), or None."""
        return None

    def post_norms(self, tensors: Any, i: int) -> tuple[Norm | None, Norm | None]:
        """Gemma's norms on the attention's and the FFN's outputs, before each residual; (None, None) elsewhere."""
        return None, None

    def final_norm(self, tensors: Any, h: np.ndarray) -> NormTrace | None:
        return None

    def unembedding(self, tensors: Any) -> np.ndarray:
        """The LM head W_U (vocab, d_model): logits = h W_Uᵀ. Only decoders have one."""
        raise ModelError(f"{self.model_type} is an encoder: it has no language-model head to give next-token "
                         "logits; use a decoder (gpt2, llama, qwen2, …)")

    def logits(self, tensors: Any, h: np.ndarray) -> np.ndarray:
        """(T, vocab) float32 next-token logits from the final-normed hidden states h (T, d_model)."""
        return matmul(h, self.unembedding(tensors).T)  # (T, vocab)

    def checked_logits(self, tensors: Any, h: np.ndarray) -> np.ndarray:
        """logits(h), refused when any is NaN or ±inf (a corrupt or overflowing LM head)."""
        with quiet():
            out = self.logits(tensors, h)
        check_finite("the LM head", out, "the logits")
        return out

    def forward(self, tensors: Any, ids: np.ndarray, mask: np.ndarray | None, last: int, finish: bool,
                keep: set[int] | None = None, blocks: set[int] | frozenset[int] = frozenset()) -> Forward:
        """Layers 0 … `last` (the last one only up to its attention output unless `finish`), then the final
        norm when every layer ran and `finish`. ids (T,) (an image model: its pixel values (C, H, W), which
        its embed turns into T tokens), mask (T, S) bool or None (the model's own masking,
        to which each layer's sliding window is added). Keeps the LayerAttention of the layers in `keep`
        (None: all) and the whole LayerRun of those in `blocks`."""
        with quiet():  # a non-finite stage is reported by check_finite, once, naming the layer
            return self._forward(tensors, ids, mask, last, finish, keep, blocks)

    def _forward(self, tensors: Any, ids: np.ndarray, mask: np.ndarray | None, last: int, finish: bool,
                 keep: set[int] | None, blocks: set[int] | frozenset[int]) -> Forward:
        e, p, h = self.embed(tensors, ids)  # (T, d_model) each
        label = stack_label(self)
        for name, a in (("the token embeddings E", e), ("the positions P", p), ("h₀", h)):
            check_finite(f"the {label.replace('layer', 'embeddings')}", a, name)
        hidden, layers, kept, final = [h], {}, {}, None
        positions = np.arange(len(h))  # (T,) RoPE's positions
        for i in range(last + 1):
            stop = i == last and not finish
            run = run_layer(self, tensors, i, h, mask, e, p, positions, attention_only=stop)
            check_finite(f"{label} {i}", run)
            if keep is None or i in keep:
                layers[i] = run.attention
            if i in blocks:
                kept[i] = run
            if stop:
                break
            h = run.output  # (T, d_model)
            hidden.append(h)
        if finish and last == self.n_layers - 1:
            final = self.final_norm(tensors, hidden[-1])
            check_finite("the final norm", final)
            if final is not None:
                hidden[-1] = final.output
        return Forward(hidden, layers, kept, final)


def _plus(y: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    return y if b is None else y + b


def linear(x: np.ndarray, w, b: np.ndarray | None, exact: bool = False) -> np.ndarray:
    """x W + b (T, d_out); `exact`: accumulated in float64 and rounded once to x's dtype (the correctly rounded
    float32 result, where a float32 product rounds at every step of its sum)."""
    if not exact:
        return _plus(matmul(x, w), b)
    return _plus(matmul(x.astype(np.float64), w), b).astype(x.dtype)


def run_layer(arch: Architecture, tensors: Any, i: int, h: np.ndarray, mask: np.ndarray | None, e: np.ndarray,
              p: np.ndarray, positions: np.ndarray, attention_only: bool = False,
              attend: Callable[[AttentionWeights, int, np.ndarray], Any] | None = None) -> LayerRun:
    """Layer i on its input h (T, d_model), pre-norm or post-norm (see the module docstring).

    attend(w, i, x), when given, replaces `self_attention` (and the (T, S) mask): what it returns is kept as the
    run's attention and its `.output` (T, d_model) goes on through the layer (models/long.py: tile by tile)."""
    norms = arch.layer_norms(tensors, i) if arch.norm_first else None  # a post-norm layer needs them after
    norm1 = norms[0](h) if arch.norm_first else None
    x = norm1.output if arch.norm_first else h  # (T, d_model) what Q, K, V are projected from
    if attend is not None:
        attn = attend(arch.attention_weights(tensors, i), i, x)
    else:
        window = arch.window(i)
        if window is not None:
            sliding = attention.sliding_window_mask(len(h), window)  # (T, T)
            mask = sliding if mask is None else mask & sliding
        first = i == 0
        attn = self_attention(arch, arch.attention_weights(tensors, i), i, x, mask, positions,
                              e if first else x, p if first else np.zeros_like(x),
                              arch.position_bias(tensors, i, len(x), len(x)))
    if attention_only:
        return LayerRun(attn, arch.norm_first, norm1=norm1)
    params = arch.block_params(tensors, i)
    norm_attn, norm_ffn = norms or arch.layer_norms(tensors, i)
    a = attn.output.astype(np.float32)  # (T, d_model)
    def feed_forward(y: np.ndarray) -> tuple[FFNTrace, np.ndarray]:
        f = ffn_trace(y, params)
        return f, f.output

    if not arch.norm_first:  # post-norm
        residual1 = h + a  # (T, d_model)
        norm1 = norm_attn(residual1)
        second = sublayer(norm1.output, feed_forward, norm_ffn, norm_first=False)  # N₂(n₁ + FFN(n₁))
        return LayerRun(attn, False, residual1, norm1, second.inner, second.residual, second.norm, params,
                        second.output)
    post_attn, post_ffn = arch.post_norms(tensors, i)
    pa = None if post_attn is None else post_attn(a)
    residual1 = h + (a if pa is None else pa.output)  # (T, d_model)
    second = sublayer(residual1, feed_forward, norm_ffn, norm_first=True, post=post_ffn)  # r₁ + [post₂](FFN(N₂(r₁)))
    return LayerRun(attn, True, residual1, norm1, second.inner, second.residual, second.norm, params, second.output,
                    pa, second.post)


@dataclass(frozen=True)
class Projection:
    """One layer's queries, keys and values per head, ready for the scores (after any q/k norm and RoPE)."""

    q: np.ndarray  # (h, T, d_k)
    k: np.ndarray  # (g, S, d_k)
    v: np.ndarray  # (g, S, d_v)
    q_plain: np.ndarray  # (h, T, d_k) before RoPE (q itself without RoPE)
    k_plain: np.ndarray  # (g, S, d_k)
    rope: RopeInfo | None = None


def project(arch: Architecture, w: AttentionWeights, i: int, x: np.ndarray, positions: np.ndarray) -> Projection:
    """Layer i's q = x W_Q + b_Q, k, v → heads → [RMSNorm q, k per head] → [RoPE q, k]; x (T, d_model).
    Shared by the full trace (self_attention) and the tiled path (models/long.py)."""
    h, g, exact = arch.n_heads, arch.n_kv_heads, arch.exact_projections
    q = attention.split_heads(linear(x, w.w_q, w.b_q, exact), h)  # (h, T, d_k)
    k = attention.split_heads(linear(x, w.w_k, w.b_k, exact), g)  # (g, S, d_k)
    v = attention.split_heads(linear(x, w.w_v, w.b_v, exact), g)  # (g, S, d_v)
    if w.q_norm is not None:
        q = w.q_norm(q).output  # (h, T, d_k) each head's row normed over d_k
        k = w.k_norm(k).output  # (g, S, d_k)
    rope = arch.rope(i)
    if rope is None:
        return Projection(q, k, v, q, k)
    from .. import positions as pos  # imported only for rotary models

    angles = pos.rope_angles(positions, rope, seq_len=len(positions))  # (T, rotary_dim / 2)
    rope_info = RopeInfo(angles, angles, rope.rotary_dim, rope.base, rope.scaling, rope.attention_factor,
                         pos.rope_inv_freq(rope, len(positions)), np.asarray(positions))
    return Projection(pos.apply_rope(q, angles, rope.attention_factor).astype(np.float32),  # (h, T, d_k)
                      pos.apply_rope(k, angles, rope.attention_factor).astype(np.float32),  # (g, S, d_k)
                      v, q, k, rope_info)


def self_attention(arch: Architecture, w: AttentionWeights, i: int, x: np.ndarray, mask: np.ndarray | None,
                   positions: np.ndarray, embeddings: np.ndarray, positions_rows: np.ndarray,
                   bias: np.ndarray | None = None) -> LayerAttention:
    """Layer i's multi-head (or grouped-query) self-attention on x (T, d_model), every stage kept.

        q = x W_Q + b_Q (T, h·d_k);  k = x W_K + b_K, v = x W_V + b_V (T, g·d_k)
        per head: [RMSNorm q, k] → [RoPE q, k] → scores = q kᵀ → scaled → [+ bias] → [capped] → masked → softmax
                  → · v   (bias (h, T, S): T5's relative position bias, added after the (unit) scale)
        concat = [output_1 … output_h] (T, h·d_v);  output = concat W_O + b_O (T, d_model)
    Query head j reads K/V head j // (h/g) (grouped-query attention; g = h is plain multi-head attention).
    """
    h, g = arch.n_heads, arch.n_kv_heads
    pr = project(arch, w, i, x, positions)
    q, k, v, q_plain, k_plain, rope = pr.q, pr.k, pr.v, pr.q_plain, pr.k_plain, pr.rope
    scale, cap, window = arch.attention_scale(i), arch.softcap(i), arch.window(i)
    plain = scale is None and cap is None and bias is None
    group = h // g
    heads = []
    for j in range(h):
        kv = j // group
        if plain:
            scores, scaled, masked, probs, out = attention.attention_stages(q[j], k[kv], v[kv], mask)
            capped = None
        else:
            st = attention.head_stages(q[j], k[kv], v[kv], mask, scale=scale, softcap=cap,
                                       bias=None if bias is None else bias[j])
            scores, scaled, capped, masked, probs, out = (st.scores, st.scaled, st.capped, st.masked, st.weights,
                                                          st.output)
        heads.append(HeadTrace(q[j], k[kv], v[kv], scores, scaled, mask, masked, probs, out,
                               kv_head=None if g == h else kv,
                               q_unrotated=None if rope is None else q_plain[j],
                               k_unrotated=None if rope is None else k_plain[kv], capped=capped,
                               bias=None if bias is None else bias[j]))
    concat = attention.merge_heads(np.stack([hd.output for hd in heads]))  # (T, h·d_v) float64
    output = _plus(matmul(concat, w.w_o), w.b_o)  # (T, d_model) in float64, as concat is
    info = None
    if not plain or g != h or rope is not None or window is not None or w.q_norm is not None:
        d_k = q.shape[-1]
        info = AttentionInfo(g, float(d_k ** -0.5) if scale is None else float(scale), cap, window, rope,
                             w.q_norm is not None, None if bias is None else "relative")
    return LayerAttention(x, embeddings, positions_rows, tuple(heads), concat, output, info)


# --- an opened checkpoint --------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Model:
    """An opened checkpoint: its config, tokenizer, memory-mapped tensors, and the family that runs it."""

    name: str  # what to call it: the repo id, `sentence-transformers/all-MiniLM-L6-v2`, or the folder's name
    path: Path  # the checkpoint directory
    config: dict
    arch: Any  # an Architecture: sizes, tensor names and the forward pass
    tokenizer: Tokenizer | None  # None for a model that reads images only (ViT)
    tensors: Any  # a safetensors.TensorFile or ShardedTensors
    pad_piece: str  # the tokenizer's piece for arch.pad_id, shown for [PAD] tokens
    target: Any = None  # encoder–decoders: the decoder side's tokenizer (models/sides.py); None otherwise

    @property
    def architecture(self) -> str:
        """config.json's model_type: bert, gpt2, llama, …"""
        return self.arch.model_type

    @property
    def n_layers(self) -> int:
        return self.arch.n_layers

    @property
    def n_heads(self) -> int:
        return self.arch.n_heads

    @property
    def d_model(self) -> int:
        return self.arch.d_model

    @property
    def causal(self) -> bool:
        """Whether the model itself masks the future (decoders) or not (encoders)."""
        return self.arch.causal
