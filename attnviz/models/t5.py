"""T5 in numpy: t5 (relu FFN, tied and rescaled LM head), t5 v1.1 / flan-t5 / mT5 (gated-gelu, untied head).

Pre-norm blocks with T5's RMSNorm (no mean, no bias), no position embeddings but a learned relative position
bias, and scores that are *not* divided by √d_k:

    h₀ = shared[ids]                                                 (T, d_model)   nothing added
    bucket(i, j) = relative_position_bucket(j − i)                   (T, S)  bidirectional in the encoder,
                                                                              only j ≤ i in the decoder
    bias[head, i, j] = relative_attention_bias[bucket(i, j), head]   (h, T, S)  one table per stack, stored in
                                                                              block 0, added in every layer
    layer:  x = RMSNorm(h);  scores = q kᵀ (× 1);  + bias;  softmax;  … W_o;  h + …
            FFN: relu(x W_i) W_o,  or gated:  (gelu_new(x W_i0) ⊙ x W_i1) W_o
    final:  RMSNorm (encoder: the memory; decoder: before the LM head)
    logits = y W_lmᵀ, with y · d_model^-½ first when config.json does not say tie_word_embeddings false

The cross-attention (EncDecAttention) has no position bias. nn.Linear weights are (out, in): `x @ W.T`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import positions
from ..errors import ModelError
from ..layers import BlockParams, Norm, NormTrace, rms_norm_stages
from .base import AttentionWeights, check_tensors
from .base import activation as check_activation
from .config import check_sizes, config_bool, config_float, config_id, config_int, config_str
from .seq2seq import DecoderStack, Seq2Seq

MODEL_TYPES = ("t5", "mt5")


@dataclass(frozen=True, eq=False)
class T5Stack(DecoderStack):
    """One T5 stack (encoder or decoder): block.{i}.layer.{0 self, [1 cross,] last FFN}."""

    model_type: str
    prefix: str  # "encoder." or "decoder."
    n_layers: int
    n_heads: int
    d_model: int
    d_kv: int
    d_ff: int
    vocab: int
    eps: float
    act_name: str
    gated: bool
    num_buckets: int
    max_distance: int
    pad_id: int
    causal: bool  # the decoder: causal mask and one-sided buckets
    embedding: str  # the token table's name
    max_positions: int = 1 << 20  # relative positions: no table limits the length
    norm_first = True
    exact_projections = True  # unscaled scores: see Architecture.exact_projections

    @property
    def d_k(self) -> int:
        return self.d_kv

    def attention_scale(self, i: int) -> float:
        """T5 does not scale its scores: × 1 (the 1/√d_k is folded into the initialisation of W_q)."""
        return 1.0

    def _block(self, i: int, j: int) -> str:
        return f"{self.prefix}block.{i}.layer.{j}."

    @property
    def bias_table_name(self) -> str:
        return self._block(0, 0) + "SelfAttention.relative_attention_bias.weight"

    def buckets(self, t: int, s: int) -> np.ndarray:
        """(T, S) the bucket of each key − query offset."""
        return positions.relative_position_bucket(positions.relative_positions(t, s), not self.causal,
                                                  self.num_buckets, self.max_distance)

    def position_bias(self, tensors: Any, i: int, t: int, s: int) -> np.ndarray:
        """(h, T, S) the stack's learned bias for each query–key bucket, the same in every layer."""
        return positions.t5_position_bias(self.buckets(t, s), tensors.read(self.bias_table_name))

    def _ffn_layer(self) -> int:
        return 2 if self.causal else 1

    def expected(self) -> dict[str, tuple[int, ...]]:
        d, f, inner = self.d_model, self.d_ff, self.n_heads * self.d_kv
        out = {self.embedding: (self.vocab, d), self.prefix + "final_layer_norm.weight": (d,),
               self.bias_table_name: (self.num_buckets, self.n_heads)}
        attns = [(0, "SelfAttention")] + ([(1, "EncDecAttention")] if self.causal else [])
        for i in range(self.n_layers):
            for j, name in attns:
                for w in "qkv":
                    out[f"{self._block(i, j)}{name}.{w}.weight"] = (inner, d)
                out[f"{self._block(i, j)}{name}.o.weight"] = (d, inner)
            for j in range(self._ffn_layer() + 1):
                out[self._block(i, j) + "layer_norm.weight"] = (d,)
            ff = self._block(i, self._ffn_layer()) + "DenseReluDense."
            for w in (("wi_0", "wi_1") if self.gated else ("wi",)):
                out[f"{ff}{w}.weight"] = (f, d)
            out[ff + "wo.weight"] = (d, f)
        return out

    def embed(self, tensors: Any, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(E, P = 0, h₀ = E): T5 adds no positions to its embeddings."""
        e = tensors.rows(self.embedding, ids)  # (T, d_model)
        return e, np.zeros_like(e), e

    def layer_norms(self, tensors: Any, i: int) -> tuple[Norm, ...]:
        """Block i's RMSNorms: before the self-attention, [the cross-attention,] the FFN."""
        return tuple(Norm(tensors.read(self._block(i, j) + "layer_norm.weight"), None, self.eps, "rms")
                     for j in range(self._ffn_layer() + 1))

    def _attention(self, tensors: Any, i: int, j: int, name: str) -> AttentionWeights:
        def read(w: str):
            return tensors.matrix(f"{self._block(i, j)}{name}.{w}.weight")

        return AttentionWeights(read("q"), read("k"), read("v"), read("o"))

    def attention_weights(self, tensors: Any, i: int) -> AttentionWeights:
        return self._attention(tensors, i, 0, "SelfAttention")

    def cross_weights(self, tensors: Any, i: int) -> AttentionWeights:
        return self._attention(tensors, i, 1, "EncDecAttention")

    def block_params(self, tensors: Any, i: int) -> BlockParams:
        """Block i's FFN (W_i or the gate W_i0 and up W_i1, then W_o; no biases) and its RMSNorms' weights."""
        ff = self._block(i, self._ffn_layer()) + "DenseReluDense."

        def read(w: str):
            return tensors.matrix(f"{ff}{w}.weight")

        gammas = tuple(n.gamma for n in self.layer_norms(tensors, i))
        if self.gated:
            return BlockParams(read("wi_0"), None, read("wo"), None, gammas, (None,) * len(gammas), self.act_name,
                               self.eps, w_up=read("wi_1"), norm="rms")
        return BlockParams(read("wi"), None, read("wo"), None, gammas, (None,) * len(gammas), self.act_name,
                           self.eps, norm="rms")

    def final_norm(self, tensors: Any, h: np.ndarray) -> NormTrace:
        return rms_norm_stages(h, tensors.read(self.prefix + "final_layer_norm.weight"), self.eps)


@dataclass(frozen=True, eq=False)
class T5(Seq2Seq):
    """A T5-family encoder–decoder as config.json describes it, checked against the tensors."""

    model_type: str
    encoder: T5Stack
    decoder: T5Stack
    decoder_start_id: int
    eos_id: int
    lm_head: str  # the LM head's tensor name (shared.weight when tied)
    rescale: bool  # multiply the decoder output by d_model^-½ before the LM head (original T5)
    model_types = MODEL_TYPES

    @classmethod
    def from_config(cls, config: dict, tensors: Any, folder: Path) -> T5:
        path = folder / "config.json"
        d_model = config_int(config, folder, "d_model")
        n_heads = config_int(config, folder, "num_heads")
        d_kv = config_int(config, folder, "d_kv", default=d_model // n_heads)
        d_ff = config_int(config, folder, "d_ff")
        n_enc = config_int(config, folder, "num_layers")
        n_dec = config_int(config, folder, "num_decoder_layers", default=n_enc)
        proj = config_str(config, folder, "feed_forward_proj", "relu")
        parts = proj.split("-")
        if len(parts) > 2 or (len(parts) == 2 and parts[0] != "gated"):
            raise ModelError(f"{path}: feed_forward_proj {proj!r} is not `ACT` or `gated-ACT`")
        gated = len(parts) == 2
        act_name = "gelu_new" if proj == "gated-gelu" else parts[-1]
        check_activation(act_name, path, "feed_forward_proj")
        eps = config_float(config, folder, "layer_norm_epsilon", 1e-6, null_is_default=False)
        buckets = config_int(config, folder, "relative_attention_num_buckets", default=32)
        check_sizes(tensors, folder, layers={"num_layers": n_enc, "num_decoder_layers": n_dec},
                    sizes={"d_model": d_model, "num_heads": n_heads, "d_kv": d_kv, "d_ff": d_ff,
                           "relative_attention_num_buckets": buckets})
        distance = config_int(config, folder, "relative_attention_max_distance", default=128)
        shared = next((n for n in ("shared.weight", "encoder.embed_tokens.weight") if n in tensors), "shared.weight")
        vocab = (tensors.shape(shared) or (config_int(config, folder, "vocab_size"),))[0]
        pad_id = config_id(config, folder, "pad_token_id", vocab, 0)
        common = dict(model_type=config["model_type"], n_heads=n_heads, d_model=d_model, d_kv=d_kv, d_ff=d_ff,
                      vocab=vocab, eps=eps, act_name=act_name, gated=gated, num_buckets=buckets,
                      max_distance=distance, pad_id=pad_id)
        dec_table = "decoder.embed_tokens.weight" if "decoder.embed_tokens.weight" in tensors and \
            "shared.weight" not in tensors else shared
        encoder = T5Stack(prefix="encoder.", n_layers=n_enc, causal=False, embedding=shared, **common)
        decoder = T5Stack(prefix="decoder.", n_layers=n_dec, causal=True, embedding=dec_table, **common)
        start = config_id(config, folder, "decoder_start_token_id", vocab, pad_id)
        eos = config_id(config, folder, "eos_token_id", vocab, 1)
        t5 = cls(config["model_type"], encoder, decoder, start, eos,
                 "lm_head.weight" if "lm_head.weight" in tensors else shared,
                 config_bool(config, folder, "tie_word_embeddings", True))
        expected = {**encoder.expected(), **decoder.expected()}
        if t5.lm_head != shared:
            expected[t5.lm_head] = (vocab, d_model)
        check_tensors(tensors, expected, path)
        return t5

    def unembedding(self, tensors: Any) -> np.ndarray:
        return tensors.read(self.lm_head)

    def logits(self, tensors: Any, h: np.ndarray) -> np.ndarray:
        """(T, vocab): y W_lmᵀ, y rescaled by d_model^-½ first for original (tied) T5."""
        if self.rescale:
            h = (h * np.float32(self.d_model ** -0.5)).astype(np.float32)  # (T, d_model)
        return super().logits(tensors, h)
