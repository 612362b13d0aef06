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

from .loader import (
    Forward,
    LayerAttention,
    ModelError,
    TensorFile,
    activation,
    check_tensors,
    config_int,
    layer_norm,
    matmul,
    self_attention,
)

MODEL_TYPES = ("gpt2",)
_PREFIXES = ("", "transformer.")


@dataclass(frozen=True)
class GPT2:
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
    model_type = "gpt2"
    causal = True

    @classmethod
    def from_config(cls, config: dict, tensors: TensorFile, folder: Path) -> GPT2:
        path = folder / "config.json"
        d_model = config_int(config, folder, "n_embd", "hidden_size")
        n_heads = config_int(config, folder, "n_head", "num_attention_heads")
        n_layers = config_int(config, folder, "n_layer", "num_hidden_layers")
        d_ff = config_int(config, folder, "n_inner") if config.get("n_inner") is not None else 4 * d_model
        max_positions = config_int(config, folder, "n_positions", "max_position_embeddings", default=1024)
        if d_model % n_heads:
            raise ModelError(f"{path}: n_embd {d_model} is not a multiple of {n_heads} heads")
        if config.get("scale_attn_weights", True) is not True or config.get("scale_attn_by_inverse_layer_idx"):
            raise ModelError(f"{path}: attnviz runs GPT-2 with the usual 1/√d_k scaling only "
                             "(scale_attn_weights true, scale_attn_by_inverse_layer_idx false)")
        act = activation(config.get("activation_function", "gelu_new"), path)
        prefix = next((p for p in _PREFIXES if p + "wte.weight" in tensors), "")
        vocab = (tensors.shape(prefix + "wte.weight") or (config_int(config, folder, "vocab_size"),))[0]
        pad_id = next((config[k] for k in ("pad_token_id", "eos_token_id") if isinstance(config.get(k), int)),
                      vocab - 1)
        gpt2 = cls(n_layers, n_heads, d_model, d_ff, vocab, max_positions,
                   float(config.get("layer_norm_epsilon", 1e-5)), act, pad_id, prefix)
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

    def forward(self, tensors: TensorFile, ids: np.ndarray, mask: np.ndarray | None, last: int, finish: bool,
                keep: set[int] | None = None) -> Forward:
        """Layers 0 … `last`; the last one only up to its attention output unless `finish`.

        ids (T,), mask (T, S) bool or None. Keeps the LayerAttention of the layers in `keep` (None: all).
        The final ln_f is applied to the last hidden state when every layer ran and `finish` is set.
        """
        t, pre = len(ids), self.prefix
        e = tensors.rows(f"{pre}wte.weight", ids)  # (T, d_model)
        p = tensors.rows(f"{pre}wpe.weight", np.arange(t))  # (T, d_model)
        h = e + p  # (T, d_model)
        run = Forward([h], {})

        def w(name: str) -> np.ndarray:
            return tensors.read(f"{pre}{name}")

        def norm(x: np.ndarray, name: str) -> np.ndarray:
            return layer_norm(x, w(f"{name}.weight"), w(f"{name}.bias"), self.eps)

        def conv1d(x: np.ndarray, name: str) -> np.ndarray:  # x W + b, W (in, out)
            return matmul(x, w(f"{name}.weight")) + w(f"{name}.bias")

        d = self.d_model
        for i in range(last + 1):
            x = norm(h, f"h.{i}.ln_1")  # (T, d_model)
            qkv = conv1d(x, f"h.{i}.attn.c_attn")  # (T, 3·d_model): [Q | K | V]
            first = i == 0
            layer: LayerAttention = self_attention(
                x, qkv[:, :d], qkv[:, d:2 * d], qkv[:, 2 * d:],  # each (T, h·d_k)
                w(f"h.{i}.attn.c_proj.weight"), w(f"h.{i}.attn.c_proj.bias"), self.n_heads, mask,
                e if first else x, p if first else np.zeros((t, d), np.float32))
            if keep is None or i in keep:
                run.layers[i] = layer
            if i == last and not finish:
                break
            a = h + layer.output.astype(np.float32)  # (T, d_model)
            h = a + conv1d(self.act(conv1d(norm(a, f"h.{i}.ln_2"), f"h.{i}.mlp.c_fc")), f"h.{i}.mlp.c_proj")
            run.hidden.append(h)
        if finish and last == self.n_layers - 1:
            run.hidden[-1] = norm(run.hidden[-1], "ln_f")
        return run
