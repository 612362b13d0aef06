"""ViT (Vision Transformer) in numpy: [CLS] + image patches through pre-LayerNorm encoder blocks, float32.

    pixel_values (C, H, W)  from the checkpoint's processor (attnviz.preprocess)
    patches  = conv(pixel_values, W_patch, stride = patch size p)   (N, d_model), N = (H/p)·(W/p), row by row:
               each p × p × C patch flattened (channel, row, column) times W_patch (d_model, C·p·p)ᵀ + b_patch
    E  = [cls_token; patches]                     (T, d_model), T = N + 1, [CLS] first
    P  = position_embeddings[0 … T−1]             (T, d_model)
    h₀ = E + P
    layer i:  x = layernorm_before(hᵢ);  Q, K, V = x W_Q + b_Q, …  → heads → attention (no mask: every token
              sees every token)
              a    = hᵢ + concat W_O + b_O
              hᵢ₊₁ = a + act(layernorm_after(a) W_1 + b_1) W_2 + b_2
    output = layernorm(h_N)  (transformers' last_hidden_state; its hidden_states keep h_N before it)

torch's nn.Linear stores W as (out, in), so `x @ W.T` (a transposed view of the memory map).
The tensors sit under `vit.` (ViTForImageClassification), `` (ViTModel) or `encoder.` (the vision encoder of a
VisionEncoderDecoderModel).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError
from ..layers import BlockParams, Norm, NormTrace, layer_norm_stages
from .base import Architecture, AttentionWeights, activation, check_tensors
from .config import check_sizes, config_bool, config_float, config_int

MODEL_TYPES = ("vit",)
_PREFIXES = ("vit.", "", "encoder.")
_LAYER = "encoder.layer.{i}."


def _pair(config: dict, folder: Path, name: str) -> tuple[int, int]:
    """image_size / patch_size: one number, or [height, width]."""
    value = config.get(name)
    if isinstance(value, (list, tuple)) and len(value) == 2:
        value = tuple(value)
    elif value is not None:
        value = (value, value)
    if (value is None or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)):
        raise ModelError(f"{folder / 'config.json'}: {name} = {config.get(name)!r} is not a positive size")
    return value


@dataclass(frozen=True, eq=False)
class ViT(Architecture):
    """A ViT encoder as config.json describes it, checked against the tensors of model.safetensors."""

    n_layers: int
    n_heads: int
    d_model: int
    d_ff: int
    image_size: tuple[int, int]  # (height, width) the position embeddings were trained for
    patch_size: tuple[int, int]  # (height, width) of a patch: the convolution's kernel and stride
    channels: int
    eps: float
    act: Any  # np.ndarray -> np.ndarray
    prefix: str
    qkv_bias: bool = True
    act_name: str = "gelu"
    model_type = "vit"
    causal = False
    reads_text = False
    reads_images = True
    vocab = 0
    pad_id = 0
    model_types = MODEL_TYPES

    @classmethod
    def from_config(cls, config: dict, tensors: Any, folder: Path, prefix: str | None = None) -> ViT:
        path = folder / "config.json"
        d_model = config_int(config, folder, "hidden_size")
        n_heads = config_int(config, folder, "num_attention_heads")
        if d_model % n_heads:
            raise ModelError(f"{path}: hidden_size {d_model} is not a multiple of {n_heads} heads")
        image, patch = _pair(config, folder, "image_size"), _pair(config, folder, "patch_size")
        if image[0] % patch[0] or image[1] % patch[1]:
            raise ModelError(f"{path}: image_size {image} is not a whole number of {patch} patches")
        act_name = config.get("hidden_act", "gelu")
        n_layers = config_int(config, folder, "num_hidden_layers")
        d_ff = config_int(config, folder, "intermediate_size")
        channels = config_int(config, folder, "num_channels", default=3)
        check_sizes(tensors, folder, layers={"num_hidden_layers": n_layers},
                    sizes={"hidden_size": d_model, "intermediate_size": d_ff, "num_channels": channels,
                           "patch_size": max(patch)})
        if prefix is None:
            prefix = next((p for p in _PREFIXES if p + "embeddings.cls_token" in tensors), "")
        vit = cls(n_layers, n_heads, d_model, d_ff, image, patch, channels,
                  config_float(config, folder, "layer_norm_eps", 1e-12, null_is_default=False),
                  activation(act_name, path), prefix, config_bool(config, folder, "qkv_bias", True), act_name)
        check_tensors(tensors, vit.expected(), path)
        return vit

    @property
    def grid(self) -> tuple[int, int]:
        """(rows, cols) of patches."""
        return self.image_size[0] // self.patch_size[0], self.image_size[1] // self.patch_size[1]

    @property
    def max_positions(self) -> int:
        rows, cols = self.grid
        return rows * cols + 1

    def name(self, part: str, i: int | None = None) -> str:
        return self.prefix + ("" if i is None else _LAYER.format(i=i)) + part

    def expected(self) -> dict[str, tuple[int, ...]]:
        """Every tensor name the forward pass reads, with the shape config.json implies."""
        d, f, c = self.d_model, self.d_ff, self.channels
        out = {self.name("embeddings.cls_token"): (1, 1, d),
               self.name("embeddings.position_embeddings"): (1, self.max_positions, d),
               self.name("embeddings.patch_embeddings.projection.weight"): (d, c, *self.patch_size),
               self.name("embeddings.patch_embeddings.projection.bias"): (d,),
               self.name("layernorm.weight"): (d,), self.name("layernorm.bias"): (d,)}
        for i in range(self.n_layers):
            parts = {"attention.output.dense": ((d, d), (d,)), "intermediate.dense": ((f, d), (f,)),
                     "output.dense": ((d, f), (d,)), "layernorm_before": ((d,), (d,)),
                     "layernorm_after": ((d,), (d,))}
            for role in ("query", "key", "value"):
                parts[f"attention.attention.{role}"] = ((d, d), (d,) if self.qkv_bias else None)
            for part, (w, b) in parts.items():
                out[self.name(f"{part}.weight", i)] = w
                if b is not None:
                    out[self.name(f"{part}.bias", i)] = b
        return out

    def patch_embeddings(self, tensors: Any, pixel_values: np.ndarray) -> np.ndarray:
        """conv(pixel_values (C, H, W), kernel = stride = p) → (N, d_model), patches row by row.

        A convolution whose stride equals its kernel touches each patch once: it is one matrix product of the
        flattened patches (N, C·p_h·p_w) with the flattened kernels (d_model, C·p_h·p_w)ᵀ, plus the bias."""
        c, height, width = pixel_values.shape
        if (c, height, width) != (self.channels, *self.image_size):
            raise ModelError(f"the image is {c} × {height} × {width} but this ViT reads {self.channels} × "
                             f"{self.image_size[0]} × {self.image_size[1]}: its preprocessor_config.json must "
                             "resize to the config's image_size")
        (rows, cols), (ph, pw) = self.grid, self.patch_size
        grid = pixel_values.reshape(c, rows, ph, cols, pw)  # (C, rows, p_h, cols, p_w)
        grid = grid.transpose(1, 3, 0, 2, 4)  # (rows, cols, C, p_h, p_w)
        patches = grid.reshape(rows * cols, c * ph * pw)  # (N, C·p_h·p_w), the kernel's (in, kh, kw) order
        kernel = tensors.read(self.name("embeddings.patch_embeddings.projection.weight"))  # (d, C, p_h, p_w)
        w_patch = kernel.reshape(self.d_model, c * ph * pw)  # (d_model, C·p_h·p_w)
        bias = tensors.read(self.name("embeddings.patch_embeddings.projection.bias"))  # (d_model,)
        return (patches.astype(np.float32) @ w_patch.T + bias).astype(np.float32)  # (N, d_model)

    def embed(self, tensors: Any, pixel_values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(E = [cls_token; patch embeddings], P = position_embeddings, h₀ = E + P), each (T, d_model)."""
        cls_token = tensors.read(self.name("embeddings.cls_token")).reshape(1, self.d_model)  # (1, d_model)
        e = np.concatenate([cls_token, self.patch_embeddings(tensors, pixel_values)])  # (T, d_model)
        p = tensors.read(self.name("embeddings.position_embeddings"))[0]  # (T, d_model)
        return e, p, e + p

    def _norm(self, tensors: Any, part: str, i: int | None = None) -> Norm:
        return Norm(tensors.read(self.name(f"{part}.weight", i)), tensors.read(self.name(f"{part}.bias", i)),
                    self.eps)

    def layer_norms(self, tensors: Any, i: int) -> tuple[Norm, Norm]:
        """layernorm_before (before the attention) and layernorm_after (before the MLP) of layer i."""
        return self._norm(tensors, "layernorm_before", i), self._norm(tensors, "layernorm_after", i)

    def block_params(self, tensors: Any, i: int) -> BlockParams:
        """Layer i's MLP (intermediate.dense, output.dense: transposed views of nn.Linear's weights) and its
        two LayerNorms."""
        def read(part: str) -> np.ndarray:
            return tensors.read(self.name(part, i))

        return BlockParams(tensors.matrix(self.name("intermediate.dense.weight", i)), read("intermediate.dense.bias"),
                           tensors.matrix(self.name("output.dense.weight", i)), read("output.dense.bias"),
                           (read("layernorm_before.weight"), read("layernorm_after.weight")),
                           (read("layernorm_before.bias"), read("layernorm_after.bias")), self.act_name, self.eps)

    def attention_weights(self, tensors: Any, i: int) -> AttentionWeights:
        """Layer i's query, key, value and output projections (transposed views of nn.Linear's weights)."""
        def read(part: str) -> np.ndarray | None:
            name = self.name(part, i)
            return tensors.read(name) if name in tensors else None

        def w(part: str):
            return tensors.matrix(self.name(part, i))  # (out, in) stored: x @ W takes (in, out)

        return AttentionWeights(w("attention.attention.query.weight"), w("attention.attention.key.weight"),
                                w("attention.attention.value.weight"), w("attention.output.dense.weight"),
                                read("attention.attention.query.bias"), read("attention.attention.key.bias"),
                                read("attention.attention.value.bias"), read("attention.output.dense.bias"))

    def final_norm(self, tensors: Any, h: np.ndarray) -> NormTrace:
        """layernorm, after the last layer: transformers' last_hidden_state (the classifier's and a captioner's
        input). Its `input` is the last entry of transformers' hidden_states."""
        norm = self._norm(tensors, "layernorm")
        return layer_norm_stages(h, norm.gamma, norm.beta, self.eps)
