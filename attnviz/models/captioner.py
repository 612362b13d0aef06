"""Image-to-text checkpoints (VisionEncoderDecoderModel: a ViT encoder, a GPT-2 decoder with cross-attention).

    memory = ViT(pixel_values) after its final LayerNorm          (S, d_model), S = 1 + patches ([CLS] first)
             (then enc_to_dec_proj when the widths differ)
    decoder, GPT-2 blocks with a cross-attention sublayer (modeling_gpt2's GPT2Block with add_cross_attention):
        h₀ = wte[ids] + wpe[0 … T−1]                  ids = [decoder_start_token_id] + the caption's ids
        layer i:  a = hᵢ + SelfAttn(ln_1(hᵢ))        causal
                  c = a + CrossAttn(ln_cross_attn(a), memory)    Q = x q_attn; [K | V] = memory c_attn; c_proj
                  hᵢ₊₁ = c + MLP(ln_2(c))
        logits = ln_f(h_L) wteᵀ
The cross-attention is models/cross.py's (shared with the encoder–decoder families); the self-attention,
norms and MLP are the GPT-2 family's, through base.self_attention and layers.ffn_trace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import attention
from ..errors import ModelError
from ..layers import Norm, ffn_trace, matmul
from .base import Architecture, AttentionWeights, LayerAttention, check_tensors, self_attention
from .config import config_bool, config_id
from .cross import cross_attention
from .gpt2 import GPT2
from .guard import check_finite, quiet
from .vit import ViT

MODEL_TYPES = ("vision-encoder-decoder",)


@dataclass(frozen=True)
class Decoded:
    """One decoder pass: every layer's self- and cross-attention (those kept) and the next-token logits."""

    self_layers: dict[int, LayerAttention] = field(default_factory=dict)
    cross_layers: dict[int, LayerAttention] = field(default_factory=dict)
    logits: np.ndarray | None = None  # (T, vocab) float32


@dataclass(frozen=True, eq=False)
class Captioner(Architecture):
    """A ViT → GPT-2 VisionEncoderDecoderModel: sizes are the decoder's; `encoder` is the ViT."""

    encoder: ViT
    decoder: GPT2
    start_id: int  # decoder_start_token_id: the first query
    eos_id: int | None
    model_type = "vision-encoder-decoder"
    causal = True
    reads_images = True
    model_types = MODEL_TYPES

    @classmethod
    def from_config(cls, config: dict, tensors: Any, folder: Path) -> Captioner:
        path = folder / "config.json"
        enc, dec = config.get("encoder"), config.get("decoder")
        if not isinstance(enc, dict) or not isinstance(dec, dict):
            raise ModelError(f"{path}: a vision-encoder-decoder config needs its encoder and decoder configs")
        if enc.get("model_type") != "vit" or dec.get("model_type") != "gpt2":
            raise ModelError(f"{path}: attnviz runs vision-encoder-decoder models with a ViT encoder and a GPT-2 "
                             f"decoder (this one: {enc.get('model_type')!r} → {dec.get('model_type')!r})")
        if not config_bool(dec, folder, "add_cross_attention", False):
            raise ModelError(f"{path}: the GPT-2 decoder has no cross-attention (add_cross_attention false)")
        encoder = ViT.from_config(enc, tensors, folder, prefix="encoder.")
        decoder = GPT2.from_config(dec, tensors, folder)
        ids = {"decoder_start_token_id": dec.get("bos_token_id"), "eos_token_id": dec.get("eos_token_id"),
               **{k: v for k, v in config.items() if k in ("decoder_start_token_id", "eos_token_id") and v is not None}}
        start = config_id(ids, folder, "decoder_start_token_id", decoder.vocab, None)
        if start is None:
            raise ModelError(f"{path} has no decoder_start_token_id (nor the decoder's bos_token_id): fix the config")
        model = cls(encoder, decoder, start, config_id(ids, folder, "eos_token_id", decoder.vocab, None))
        check_tensors(tensors, model.cross_expected(), path)
        if encoder.d_model != decoder.d_model and "enc_to_dec_proj.weight" not in tensors:
            raise ModelError(f"{path}: the encoder's width {encoder.d_model} differs from the decoder's "
                             f"{decoder.d_model} and there is no enc_to_dec_proj")
        return model

    # the decoder's sizes are the model's (Model.n_layers, n_heads, d_model, vocab)
    @property
    def n_layers(self) -> int:
        return self.decoder.n_layers

    @property
    def n_heads(self) -> int:
        return self.decoder.n_heads

    @property
    def d_model(self) -> int:
        return self.decoder.d_model

    @property
    def vocab(self) -> int:
        return self.decoder.vocab

    @property
    def pad_id(self) -> int:
        return self.decoder.pad_id

    @property
    def max_positions(self) -> int:
        return self.decoder.max_positions

    def _layer(self, i: int) -> str:
        return f"{self.decoder.prefix}h.{i}."

    def cross_expected(self) -> dict[str, tuple[int, ...]]:
        """The cross-attention tensors of every decoder layer, with the shapes the config implies."""
        d, out = self.decoder.d_model, {}
        for i in range(self.n_layers):
            for name, (w, b) in {"crossattention.q_attn": ((d, d), (d,)),
                                 "crossattention.c_attn": ((d, 2 * d), (2 * d,)),
                                 "crossattention.c_proj": ((d, d), (d,)), "ln_cross_attn": ((d,), (d,))}.items():
                out[f"{self._layer(i)}{name}.weight"] = w
                out[f"{self._layer(i)}{name}.bias"] = b
        return out

    def cross_weights(self, tensors: Any, i: int) -> AttentionWeights:
        """Layer i's cross-attention: q_attn (d, d) for Q, the fused c_attn (d, 2d) = [W_K | W_V] on the image's
        states, c_proj; GPT-2's Conv1D weights are already (in, out)."""
        pre, d = self._layer(i) + "crossattention.", self.d_model
        kv, kv_b = tensors.read(pre + "c_attn.weight"), tensors.read(pre + "c_attn.bias")
        return AttentionWeights(tensors.read(pre + "q_attn.weight"), kv[:, :d], kv[:, d:],
                                tensors.read(pre + "c_proj.weight"), tensors.read(pre + "q_attn.bias"), kv_b[:d],
                                kv_b[d:], tensors.read(pre + "c_proj.bias"))

    def memory(self, tensors: Any, encoded: np.ndarray) -> np.ndarray:
        """The encoder's last_hidden_state (S, d_enc) → what the decoder's cross-attention reads (S, d_model)."""
        if "enc_to_dec_proj.weight" not in tensors:
            return encoded
        with quiet():  # an overflow is reported by decode's check of the memory
            return (matmul(encoded, tensors.read("enc_to_dec_proj.weight").T)
                    + tensors.read("enc_to_dec_proj.bias")).astype(np.float32)  # (S, d_model)

    def decode(self, tensors: Any, ids: np.ndarray, memory: np.ndarray, keep: set[int] | None = None,
               logits: bool = True) -> Decoded:
        """The decoder on ids (T,) reading memory (S, d_model): every layer (see the module docstring), keeping
        the self- and cross-attention of the layers in `keep` (None: all), then the logits (T, vocab)."""
        with quiet():  # a non-finite stage is reported by check_finite, once, naming the layer
            return self._decode(tensors, ids, memory, keep, logits)

    def _decode(self, tensors: Any, ids: np.ndarray, memory: np.ndarray, keep: set[int] | None,
                logits: bool) -> Decoded:
        check_finite("the image encoder's output", memory, "memory")
        dec = self.decoder
        e, p, h = dec.embed(tensors, ids)  # (T, d_model) each
        t = len(ids)
        mask = attention.causal_mask(t)  # (T, T)
        positions = np.arange(t)
        out = Decoded()
        for i in range(self.n_layers):
            ln_1, ln_2 = dec.layer_norms(tensors, i)
            x = ln_1(h).output  # (T, d_model)
            first = i == 0
            attn = self_attention(dec, dec.attention_weights(tensors, i), i, x, mask, positions, e if first else x,
                                  p if first else np.zeros_like(x))
            a = h + attn.output.astype(np.float32)  # (T, d_model)
            pre = self._layer(i) + "ln_cross_attn."
            xc = Norm(tensors.read(pre + "weight"), tensors.read(pre + "bias"), dec.eps)(a).output  # (T, d_model)
            cross = cross_attention(self.cross_weights(tensors, i), xc, memory, self.n_heads)
            c = a + cross.output.astype(np.float32)  # (T, d_model)
            ffn = ffn_trace(ln_2(c).output, dec.block_params(tensors, i))
            h = c + ffn.output  # (T, d_model)
            check_finite(f"decoder layer {i}", (attn, cross, ffn, h))
            if keep is None or i in keep:
                out.self_layers[i], out.cross_layers[i] = attn, cross
        if logits:
            final = dec.final_norm(tensors, h).output  # (T, d_model)
            return Decoded(out.self_layers, out.cross_layers, dec.checked_logits(tensors, final))
        return out

    # the encoder-side Architecture methods a Model needs are the decoder's (block views use GPT-2's layers)
    def embed(self, tensors: Any, ids: np.ndarray):
        return self.decoder.embed(tensors, ids)

    def layer_norms(self, tensors: Any, i: int):
        return self.decoder.layer_norms(tensors, i)

    def attention_weights(self, tensors: Any, i: int) -> AttentionWeights:
        return self.decoder.attention_weights(tensors, i)

    def block_params(self, tensors: Any, i: int):
        return self.decoder.block_params(tensors, i)

    def unembedding(self, tensors: Any) -> np.ndarray:
        return self.decoder.unembedding(tensors)

    def final_norm(self, tensors: Any, h: np.ndarray):
        return self.decoder.final_norm(tensors, h)
