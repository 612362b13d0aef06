"""BART, mBART and Marian in numpy: one family, its variants as flags.

    E  = embed_tokens[ids] · (√d_model if scale_embedding else 1)       (T, d_model)
    P  = BART/mBART: embed_positions[position + 2] (learned, offset 2);  Marian: sinusoidal, not in the file:
         P[p, i] = sin(p / 10000^(2i/d)) for i < d/2, P[p, d/2 + i] = cos(p / 10000^(2i/d))  (halves, not interleaved)
    h₀ = layernorm_embedding(E + P)   (BART, mBART;  Marian: E + P)
    layer (BART, Marian: post-norm;  mBART: pre-norm, and a final layer_norm after each stack):
        self_attn (q_proj · d_k^-½, biases) → self_attn_layer_norm
        [decoder: encoder_attn on the encoder's output → encoder_attn_layer_norm]
        act(fc1) → fc2 → final_layer_norm
    logits = y W_embᵀ (tied, or lm_head) + final_logits_bias

nn.Linear stores W as (out, in), so `x @ W.T` (transposed views of the memory map).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError
from ..layers import BlockParams, Norm, NormTrace, layer_norm, layer_norm_stages
from .base import AttentionWeights, activation, check_tensors
from .config import check_sizes, config_bool, config_id, config_int
from .seq2seq import DecoderStack, Seq2Seq

MODEL_TYPES = ("bart", "mbart", "marian")
#: model_type → (pre-norm with a final layer_norm per stack, layernorm_embedding, learned positions offset)
VARIANTS = {"bart": (False, True, 2), "mbart": (True, True, 2), "marian": (False, False, None)}


def sinusoidal_halves(n_positions: int, d_model: int) -> np.ndarray:
    """Marian's positions (n_positions, d_model) float32: sines in the first half, cosines in the second,
    both of the angles p / 10000^(2i/d), i < d/2 (transformers' MarianSinusoidalPositionalEmbedding)."""
    pos = np.arange(n_positions, dtype=np.float64)[:, None]  # (N, 1)
    j = np.arange(d_model)
    angle = pos / np.power(10000, 2 * (j // 2) / d_model)[None, :]  # (N, d_model) each j's angle, as transformers
    half = d_model // 2 + d_model % 2
    out = np.empty((n_positions, d_model), dtype=np.float32)
    out[:, :half] = np.sin(angle[:, 0::2])  # (N, ⌈d/2⌉)
    out[:, half:] = np.cos(angle[:, 1::2])  # (N, ⌊d/2⌋)
    return out


@dataclass(frozen=True, eq=False)
class BartStack(DecoderStack):
    """One stack (model.encoder. or model.decoder.) of a BART-family checkpoint."""

    model_type: str
    prefix: str
    n_layers: int
    n_heads: int
    d_model: int
    d_ff: int
    vocab: int
    max_positions: int
    eps: float
    act_name: str
    pad_id: int
    causal: bool
    embedding: str  # the token table's name
    embed_scale: float
    pre_norm: bool  # mBART
    ln_embedding: bool
    position_offset: int | None  # learned positions at position + offset; None: Marian's sinusoidal

    @property
    def norm_first(self) -> bool:  # type: ignore[override]
        return self.pre_norm

    def _layer(self, i: int) -> str:
        return f"{self.prefix}layers.{i}."

    def _norm_names(self, i: int) -> tuple[str, ...]:
        pre = self._layer(i)
        middle = (pre + "encoder_attn_layer_norm",) if self.causal else ()
        return (pre + "self_attn_layer_norm", *middle, pre + "final_layer_norm")

    def expected(self) -> dict[str, tuple[int, ...]]:
        d, f = self.d_model, self.d_ff
        out: dict[str, tuple[int, ...]] = {self.embedding: (self.vocab, d)}
        if self.position_offset is not None:
            out[self.prefix + "embed_positions.weight"] = (self.max_positions + self.position_offset, d)
        extra = ([self.prefix + "layernorm_embedding"] if self.ln_embedding else []) + \
            ([self.prefix + "layer_norm"] if self.norm_first else [])
        for i in range(self.n_layers):
            pre = self._layer(i)
            attns = ("self_attn",) + (("encoder_attn",) if self.causal else ())
            for a in attns:
                for p in ("q_proj", "k_proj", "v_proj", "out_proj"):
                    out[f"{pre}{a}.{p}.weight"], out[f"{pre}{a}.{p}.bias"] = (d, d), (d,)
            out[pre + "fc1.weight"], out[pre + "fc1.bias"] = (f, d), (f,)
            out[pre + "fc2.weight"], out[pre + "fc2.bias"] = (d, f), (d,)
            extra += list(self._norm_names(i))
        for name in extra:
            out[name + ".weight"], out[name + ".bias"] = (d,), (d,)
        return out

    def _norm(self, tensors: Any, name: str) -> Norm:
        return Norm(tensors.read(name + ".weight"), tensors.read(name + ".bias"), self.eps)

    def embed(self, tensors: Any, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(E · scale, P, h₀ = [layernorm_embedding](E · scale + P)), each (T, d_model) float32."""
        e = tensors.rows(self.embedding, ids)  # (T, d_model)
        if self.embed_scale != 1.0:
            e = (e * np.float32(self.embed_scale)).astype(np.float32)
        t = len(ids)
        if self.position_offset is None:
            p = sinusoidal_halves(t, self.d_model)  # (T, d_model)
        else:
            p = tensors.rows(self.prefix + "embed_positions.weight", np.arange(t) + self.position_offset)
        h = e + p  # (T, d_model)
        if self.ln_embedding:
            name = self.prefix + "layernorm_embedding"
            h = layer_norm(h, tensors.read(name + ".weight"), tensors.read(name + ".bias"), self.eps)
        return e, p, h

    def layer_norms(self, tensors: Any, i: int) -> tuple[Norm, ...]:
        """Layer i's LayerNorms: after (pre-norm: before) the self-attention, [the cross-attention,] the FFN."""
        return tuple(self._norm(tensors, name) for name in self._norm_names(i))

    def _attention(self, tensors: Any, i: int, name: str) -> AttentionWeights:
        pre = f"{self._layer(i)}{name}."

        def read(p: str, part: str = "weight") -> np.ndarray:
            name = f"{pre}{p}.{part}"
            return tensors.matrix(name) if part == "weight" else tensors.read(name)

        return AttentionWeights(read("q_proj"), read("k_proj"), read("v_proj"), read("out_proj"),
                                read("q_proj", "bias"), read("k_proj", "bias"), read("v_proj", "bias"),
                                read("out_proj", "bias"))

    def attention_weights(self, tensors: Any, i: int) -> AttentionWeights:
        return self._attention(tensors, i, "self_attn")

    def cross_weights(self, tensors: Any, i: int) -> AttentionWeights:
        return self._attention(tensors, i, "encoder_attn")

    def block_params(self, tensors: Any, i: int) -> BlockParams:
        pre = self._layer(i)
        norms = self.layer_norms(tensors, i)
        return BlockParams(tensors.matrix(pre + "fc1.weight"), tensors.read(pre + "fc1.bias"),
                           tensors.matrix(pre + "fc2.weight"), tensors.read(pre + "fc2.bias"),
                           tuple(n.gamma for n in norms), tuple(n.beta for n in norms), self.act_name, self.eps)

    def final_norm(self, tensors: Any, h: np.ndarray) -> NormTrace | None:
        """mBART's layer_norm after the last layer; BART and Marian end with their last layer's norm."""
        if not self.norm_first:
            return None
        name = self.prefix + "layer_norm"
        return layer_norm_stages(h, tensors.read(name + ".weight"), tensors.read(name + ".bias"), self.eps)


@dataclass(frozen=True, eq=False)
class Bart(Seq2Seq):
    """A BART-family encoder–decoder as config.json describes it, checked against the tensors."""

    model_type: str
    encoder: BartStack
    decoder: BartStack
    decoder_start_id: int
    eos_id: int
    lm_head: str
    logits_bias: str | None  # final_logits_bias, when the file has it
    model_types = MODEL_TYPES

    @classmethod
    def from_config(cls, config: dict, tensors: Any, folder: Path) -> Bart:
        path = folder / "config.json"
        model_type = config["model_type"]
        pre_norm, ln_embedding, offset = VARIANTS[model_type]
        d_model = config_int(config, folder, "d_model")
        act_name = config.get("activation_function", "gelu")
        activation(act_name, path, "activation_function")
        scale = float(np.sqrt(d_model)) if config_bool(config, folder, "scale_embedding", False) else 1.0
        max_positions = config_int(config, folder, "max_position_embeddings", default=1024)
        check_sizes(tensors, folder, sizes={"d_model": d_model,
                                            # Marian's positions are computed, not a table of the file
                                            **({} if offset is None else {"max_position_embeddings": max_positions})})
        stacks = []
        for side in ("encoder", "decoder"):
            n_heads = config_int(config, folder, f"{side}_attention_heads")
            n_layers = config_int(config, folder, f"{side}_layers")
            d_ff = config_int(config, folder, f"{side}_ffn_dim")
            check_sizes(tensors, folder, layers={f"{side}_layers": n_layers},
                        sizes={f"{side}_attention_heads": n_heads, f"{side}_ffn_dim": d_ff})
            if d_model % n_heads:
                raise ModelError(f"{path}: d_model {d_model} is not a multiple of {n_heads} {side} heads")
            prefix = f"model.{side}."
            table = prefix + "embed_tokens.weight" if prefix + "embed_tokens.weight" in tensors and \
                "model.shared.weight" not in tensors else "model.shared.weight"
            if side == "decoder" and prefix + "embed_tokens.weight" in tensors and \
                    not config_bool(config, folder, "share_encoder_decoder_embeddings", True):
                table = prefix + "embed_tokens.weight"
            vocab = (tensors.shape(table) or (config_int(config, folder, "vocab_size"),))[0]
            if side == "encoder":
                pad_id = config_id(config, folder, "pad_token_id", vocab, 1)
            stacks.append(BartStack(model_type, prefix, n_layers, n_heads, d_model, d_ff, vocab, max_positions,
                                    1e-5, act_name, pad_id, side == "decoder", table, scale, pre_norm,
                                    ln_embedding, offset))
        encoder, decoder = stacks
        start = config_id(config, folder, "decoder_start_token_id", decoder.vocab, 2)
        eos = config_id(config, folder, "eos_token_id", decoder.vocab, 2)
        lm_head = "lm_head.weight" if "lm_head.weight" in tensors else decoder.embedding
        bart = cls(model_type, encoder, decoder, start, eos, lm_head,
                   "final_logits_bias" if "final_logits_bias" in tensors else None)
        expected = {**encoder.expected(), **decoder.expected()}
        if lm_head != decoder.embedding:
            expected[lm_head] = (decoder.vocab, d_model)
        check_tensors(tensors, expected, path)
        return bart

    def unembedding(self, tensors: Any) -> np.ndarray:
        return tensors.read(self.lm_head)

    def logits(self, tensors: Any, h: np.ndarray) -> np.ndarray:
        """(T, vocab): y W_embᵀ + final_logits_bias."""
        logits = super().logits(tensors, h)  # (T, vocab)
        if self.logits_bias is not None:
            logits = logits + tensors.read(self.logits_bias).reshape(-1)[: logits.shape[-1]]
        return logits
