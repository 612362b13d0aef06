"""Encoder–decoder checkpoints (T5, BART, mBART, Marian): two stacks and the forward pass that joins them.

A family file (t5.py, bart.py) builds two `Architecture` stacks over the same tensors and a `Seq2Seq` that
holds them. The encoder stack runs through base.py's forward as any encoder does; the decoder's layers have
a third sublayer, the cross-attention, run here:

    encoder:  h₀ = embed(source ids) → layers (self-attention, FFN) → [final norm] → memory  (S, d_model)
    decoder:  y₀ = embed(decoder ids: start token, then the target's) → layer i:
        pre-norm (T5, mBART)                          post-norm (BART, Marian)
        r₁ = y + SelfAttn(N₁(y))       causal         n₁ = N₁(y + SelfAttn(y))
        r₂ = r₁ + CrossAttn(N₂(r₁), memory)           n₂ = N₂(n₁ + CrossAttn(n₁, memory))
        y' = r₂ + FFN(N₃(r₂))                         y' = N₃(n₂ + FFN(n₂))
              → [final norm] → logits = y W_Uᵀ (+ final_logits_bias)   (T, vocab)

Each sublayer is layers.sublayer; the self-attention is base.self_attention (with T5's position bias), the
cross-attention models/cross.py. Arrays are float32 like the checkpoints, norms and softmax in float64.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import attention
from ..layers import NormTrace, Sublayer, ffn_trace, matmul, sublayer
from .base import Architecture, AttentionWeights, Forward, LayerAttention, self_attention
from .cross import cross_attention
from .guard import check_finite, quiet


@dataclass(frozen=True)
class DecoderLayerRun:
    """One decoder layer, every stage kept: its three residual sublayers, in order."""

    self_attn: Sublayer  # inner: the masked self-attention's LayerAttention
    cross_attn: Sublayer  # inner: the cross-attention's LayerAttention (memory = the encoder's output)
    ffn: Sublayer  # inner: the FFNTrace

    @property
    def output(self) -> np.ndarray:
        return self.ffn.output  # (T, d_model)


@dataclass(frozen=True)
class DecoderForward:
    """What the decoder computed: hidden[i] is layer i's input (hidden[0] the embedding output); when every
    layer ran, the last entry is after the final norm (transformers' decoder_hidden_states)."""

    hidden: list[np.ndarray] = field(default_factory=list)  # each (T, d_model)
    self_layers: dict[int, LayerAttention] = field(default_factory=dict)
    cross_layers: dict[int, LayerAttention] = field(default_factory=dict)
    runs: dict[int, DecoderLayerRun] = field(default_factory=dict)
    final: NormTrace | None = None


class DecoderStack(Architecture):
    """A decoder stack: an Architecture whose layer_norms gives three norms and which has cross_weights."""

    def cross_weights(self, tensors: Any, i: int) -> AttentionWeights:
        raise NotImplementedError


def decoder_layer(dec: DecoderStack, tensors: Any, i: int, y: np.ndarray, mask: np.ndarray, memory: np.ndarray,
                  embeddings: np.ndarray, positions_rows: np.ndarray) -> DecoderLayerRun:
    """Decoder layer i on its input y (T, d_model) with the encoder's output memory (S, d_model)."""
    t = len(y)
    n_self, n_cross, n_ffn = dec.layer_norms(tensors, i)
    bias = dec.position_bias(tensors, i, t, t)  # (h, T, T) or None

    def self_f(x: np.ndarray):
        first = i == 0
        la = self_attention(dec, dec.attention_weights(tensors, i), i, x, mask, np.arange(t),
                            embeddings if first else x, positions_rows if first else np.zeros_like(x), bias)
        return la, la.output.astype(np.float32)

    def cross_f(x: np.ndarray):
        la = cross_attention(dec.cross_weights(tensors, i), x, memory, dec.n_heads, scale=dec.attention_scale(i),
                             exact=dec.exact_projections)
        return la, la.output.astype(np.float32)

    params = dec.block_params(tensors, i)

    def ffn_f(x: np.ndarray):
        f = ffn_trace(x, params)
        return f, f.output

    first = sublayer(y, self_f, n_self, norm_first=dec.norm_first)
    second = sublayer(first.output, cross_f, n_cross, norm_first=dec.norm_first)
    third = sublayer(second.output, ffn_f, n_ffn, norm_first=dec.norm_first)
    return DecoderLayerRun(first, second, third)


class Seq2Seq(Architecture):
    """An encoder–decoder checkpoint: `encoder` (an Architecture run by base.forward) and `decoder` (a
    DecoderStack), with the ids that start and end generation. Families set these in from_config."""

    encoder_decoder = True
    causal = False
    encoder: Architecture
    decoder: DecoderStack
    decoder_start_id: int
    eos_id: int

    @property
    def n_layers(self) -> int:  # type: ignore[override]
        return self.encoder.n_layers

    @property
    def n_decoder_layers(self) -> int:
        return self.decoder.n_layers

    @property
    def n_heads(self) -> int:  # type: ignore[override]
        return self.encoder.n_heads

    @property
    def d_model(self) -> int:  # type: ignore[override]
        return self.encoder.d_model

    @property
    def vocab(self) -> int:  # type: ignore[override]
        return self.decoder.vocab

    @property
    def pad_id(self) -> int:  # type: ignore[override]
        return self.encoder.pad_id

    @property
    def position_limit(self) -> int:
        return min(self.encoder.position_limit, self.decoder.position_limit)

    def encode(self, tensors: Any, ids: np.ndarray, last: int | None = None, keep: set[int] | None = None
               ) -> Forward:
        """The encoder on the source ids (S,), layers 0 … `last` (default: every layer, then the final norm:
        hidden[-1] is the memory every cross-attention reads). Keeps the layers in `keep` (None: all)."""
        last = self.encoder.n_layers - 1 if last is None else last
        return self.encoder.forward(tensors, ids, None, last, finish=True, keep=keep)

    def decode(self, tensors: Any, ids: np.ndarray, memory: np.ndarray, last: int | None = None,
               keep: set[int] | None = None, runs: set[int] | frozenset[int] = frozenset()) -> DecoderForward:
        """The decoder on ids (T,) (start token first) reading memory (S, d_model): layers 0 … `last`
        (default: all, then the final norm). Keeps the self- and cross-attention of the layers in `keep`
        (None: all) and the whole DecoderLayerRun of those in `runs`."""
        with quiet():  # a non-finite stage is reported by check_finite, once, naming the layer
            return self._decode(tensors, ids, memory, last, keep, runs)

    def _decode(self, tensors: Any, ids: np.ndarray, memory: np.ndarray, last: int | None,
                keep: set[int] | None, runs: set[int] | frozenset[int]) -> DecoderForward:
        dec = self.decoder
        last = dec.n_layers - 1 if last is None else last
        e, p, y = dec.embed(tensors, ids)  # (T, d_model) each
        for name, a in (("the token embeddings E", e), ("the positions P", p), ("y₀", y)):
            check_finite("the decoder embeddings", a, name)
        mask = attention.causal_mask(len(ids))  # (T, T)
        out = DecoderForward([y])
        for i in range(last + 1):
            run = decoder_layer(dec, tensors, i, y, mask, memory, e, p)
            check_finite(f"decoder layer {i}", run)
            if keep is None or i in keep:
                out.self_layers[i] = run.self_attn.inner
                out.cross_layers[i] = run.cross_attn.inner
            if i in runs:
                out.runs[i] = run
            y = run.output  # (T, d_model)
            out.hidden.append(y)
        if last == dec.n_layers - 1:
            final = dec.final_norm(tensors, y)
            check_finite("the decoder's final norm", final)
            if final is not None:
                out.hidden[-1] = final.output
                out = DecoderForward(out.hidden, out.self_layers, out.cross_layers, out.runs, final)
        return out

    def logits(self, tensors: Any, h: np.ndarray) -> np.ndarray:
        """(T, vocab) float32 next-token logits from the decoder's final hidden states h (T, d_model)."""
        return matmul(h, self.unembedding(tensors).T)  # (T, vocab)

    def checked_logits(self, tensors: Any, h: np.ndarray) -> np.ndarray:
        """logits(h), refused when any is NaN or ±inf (a corrupt or overflowing LM head)."""
        with quiet():
            out = self.logits(tensors, h)
        check_finite("the LM head", out, "the logits")
        return out
