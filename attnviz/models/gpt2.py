"""GPT-2 in numpy: a causal decoder with pre-LayerNorm blocks, float32 like the checkpoint.

    E  = wte[ids]                      (T, d_model)
    P  = wpe[0 … T−1]                  (T, d_model)
    h₀ = E + P
    layer i:  x = ln_1(hᵢ);  [Q K V] = x W_attn + b_attn  → heads → attention (causal and padding mask)
              a    = hᵢ + concat W_proj + b_proj
              hᵢ₊₁ = a + act(ln_2(a) W_fc + b_fc) W_mlp + b_mlp
    output = ln_f(h_N)

GPT-2's Conv1D stores W as (in, out), so it is `x @ W` (no transpose, unlike nn.Linear).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError
from ..layers import BlockParams, Norm, NormTrace, layer_norm_stages
from .base import Architecture, AttentionWeights, activation, check_tensors
from .config import check_sizes, config_bool, config_float, config_id, config_int

MODEL_TYPES = ("gpt2",)
_PREFIXES = ("", "transformer.", "decoder.transformer.")  # the last: a VisionEncoderDecoder's decoder


@dataclass(frozen=True)
class GPT2(Architecture):
    """GPT-2 as config.json describes it, checked against the tensors of model.safetensors."""

    n_layers: int
    n_heads: int
    d_model: int
    d_ff: int
    vocab: int
    max_positions: int
    eps: float
    act: Any  # np.ndarray -> np.ndarray
    pad_id: int  # what a [PAD] token's id is (the end-of-text token; its key is masked anyway)
    prefix: str
    act_name: str = "gelu_new"  # the config's activation_function
    model_type = "gpt2"
    causal = True
    model_types = MODEL_TYPES

    @classmethod
    def from_config(cls, config: dict, tensors: Any, folder: Path) -> GPT2:
        path = folder / "config.json"
        d_model = config_int(config, folder, "n_embd", "hidden_size")
        n_heads = config_int(config, folder, "n_head", "num_attention_heads")
        n_layers = config_int(config, folder, "n_layer", "num_hidden_layers")
        d_ff = config_int(config, folder, "n_inner") if config.get("n_inner") is not None else 4 * d_model
        max_positions = config_int(config, folder, "n_positions", "max_position_embeddings", default=1024)
        if d_model % n_heads:
            raise ModelError(f"{path}: n_embd {d_model} is not a multiple of {n_heads} heads")
        check_sizes(tensors, folder, layers={"n_layer": n_layers},
                    sizes={"n_embd": d_model, "n_inner": d_ff, "n_positions": max_positions})
        if not config_bool(config, folder, "scale_attn_weights", True) or \
                config_bool(config, folder, "scale_attn_by_inverse_layer_idx", False):
            raise ModelError(f"{path}: attnviz runs GPT-2 with the usual 1/√d_k scaling only "
                             "(scale_attn_weights true, scale_attn_by_inverse_layer_idx false)")
        act_name = config.get("activation_function", "gelu_new")
        act = activation(act_name, path, "activation_function")
        prefix = next((p for p in _PREFIXES if p + "wte.weight" in tensors), "")
        vocab = (tensors.shape(prefix + "wte.weight") or (config_int(config, folder, "vocab_size"),))[0]
        pad_id = config_id(config, folder, "pad_token_id", vocab, None)  # else the end-of-text token
        pad_id = config_id(config, folder, "eos_token_id", vocab, vocab - 1) if pad_id is None else pad_id
        eps = config_float(config, folder, "layer_norm_epsilon", 1e-5, null_is_default=False)
        gpt2 = cls(n_layers, n_heads, d_model, d_ff, vocab, max_positions, eps, act, pad_id, prefix, act_name)
        check_tensors(tensors, gpt2.expected(config, folder), path)
        return gpt2

    def expected(self, config: dict, folder: Path) -> dict[str, tuple[int, ...]]:
        """Every tensor name the forward pass reads, with the shape config.json implies."""
        d, f, pre = self.d_model, self.d_ff, self.prefix
        out = {f"{pre}wte.weight": (config_int(config, folder, "vocab_size", default=self.vocab), d),
               f"{pre}wpe.weight": (self.max_positions, d), f"{pre}ln_f.weight": (d,), f"{pre}ln_f.bias": (d,)}
        for i in range(self.n_layers):
            for name, (w, b) in {"ln_1": ((d,), (d,)), "attn.c_attn": ((d, 3 * d), (3 * d,)),
                                 "attn.c_proj": ((d, d), (d,)), "ln_2": ((d,), (d,)),
                                 "mlp.c_fc": ((d, f), (f,)), "mlp.c_proj": ((f, d), (d,))}.items():
                out[f"{pre}h.{i}.{name}.weight"] = w
                out[f"{pre}h.{i}.{name}.bias"] = b
        return out

    @property
    def position_limit(self) -> int:
        return self.max_positions

    def embed(self, tensors: Any, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(E, P, h₀ = E + P), each (T, d_model) float32."""
        e = tensors.rows(f"{self.prefix}wte.weight", ids)  # (T, d_model)
        p = tensors.rows(f"{self.prefix}wpe.weight", np.arange(len(ids)))  # (T, d_model)
        return e, p, e + p

    def _norm(self, tensors: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
        return tensors.read(f"{self.prefix}{name}.weight"), tensors.read(f"{self.prefix}{name}.bias")

    def block_params(self, tensors: Any, i: int) -> BlockParams:
        """Layer i's MLP (Conv1D weights, already (in, out): W₁ = c_fc (d_model, d_ff), W₂ = c_proj (d_ff,
        d_model)) and its two LayerNorms (ln_1 before the attention, ln_2 before the MLP), float32 views."""
        pre = f"{self.prefix}h.{i}."
        (g1, b1), (g2, b2) = self._norm(tensors, f"h.{i}.ln_1"), self._norm(tensors, f"h.{i}.ln_2")
        return BlockParams(tensors.read(pre + "mlp.c_fc.weight"), tensors.read(pre + "mlp.c_fc.bias"),
                           tensors.read(pre + "mlp.c_proj.weight"), tensors.read(pre + "mlp.c_proj.bias"),
                           (g1, g2), (b1, b2), self.act_name, self.eps)

    def layer_norms(self, tensors: Any, i: int) -> tuple[Norm, Norm]:
        """ln_1 (before the attention) and ln_2 (before the MLP) of layer i."""
        return tuple(Norm(*self._norm(tensors, f"h.{i}.{name}"), self.eps) for name in ("ln_1", "ln_2"))

    def attention_weights(self, tensors: Any, i: int) -> AttentionWeights:
        """Layer i's fused c_attn (d_model, 3·d_model) = [W_Q | W_K | W_V] (Conv1D: already (in, out)), cut into
        three column views, and c_proj."""
        pre, d = f"{self.prefix}h.{i}.", self.d_model
        w, b = tensors.read(pre + "attn.c_attn.weight"), tensors.read(pre + "attn.c_attn.bias")
        return AttentionWeights(w[:, :d], w[:, d:2 * d], w[:, 2 * d:], tensors.read(pre + "attn.c_proj.weight"),
                                b[:d], b[d:2 * d], b[2 * d:], tensors.read(pre + "attn.c_proj.bias"))

    def unembedding(self, tensors: Any) -> np.ndarray:
        """GPT-2's LM head is its token embedding table wte (vocab, d_model), tied."""
        return tensors.read(f"{self.prefix}wte.weight")

    def final_norm(self, tensors: Any, h: np.ndarray) -> NormTrace:
        """ln_f, after the last layer: transformers' last hidden state (and the LM head's input) is ln_f(h_N)."""
        return layer_norm_stages(h, *self._norm(tensors, "ln_f"), self.eps)
