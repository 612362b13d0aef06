"""Llama-style decoders in numpy: Llama 2/3, Mistral, Qwen2/2.5, Qwen3, Gemma 1/2/3 and Phi-3 — one family,
its variants as flags.

Pre-norm blocks with RMSNorm, rotary positions, grouped-query attention and a gated FFN, float32 like the
checkpoints (norm statistics, the softmax and the RoPE angles in float64):

    h₀ = embed_tokens[ids]                                          (T, d_model)   (Gemma: · √d_model)
    layer i:  n₁ = RMSNorm(h)
              q = n₁ W_q (+b), k = n₁ W_k (+b), v = n₁ W_v (+b)     h query heads, g K/V heads, d_k each
              [q, k = RMSNorm per head]                             (Qwen3, Gemma 3)
              q, k = RoPE(q, k)                                     (Phi-3: partial, the first rotary_dim dims)
              scores = q kᵀ · scale                                 (1/√d_k; Gemma 2/3: query_pre_attn_scalar^-½)
              [scores = cap · tanh(scores / cap)]                   (Gemma 2)
              causal mask [∧ sliding window]; softmax; · v; concat; W_o
              r = h + [post_attention_norm](attn)                   (Gemma 2/3 norm the output first)
              h' = r + [post_feedforward_norm]((act(n₂ W_gate) ⊙ n₂ W_up) W_down),  n₂ = RMSNorm(r)
    output = norm(h_N)

Tensor names are transformers' (`model.layers.{i}.self_attn.q_proj.weight`, …); nn.Linear stores W as
(out, in), so `x @ W.T` (transposed views of the memory map). Phi-3 fuses q/k/v (qkv_proj) and gate/up
(gate_up_proj): those are cut into column views.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import positions
from ..errors import ModelError
from ..layers import BlockParams, Norm, NormTrace, matmul
from .base import Architecture, AttentionWeights, activation, check_tensors
from .config import check_sizes, config_bool, config_float, config_int

#: model_type → (q/k/v bias, q/k norm, Gemma-style norms: (1 + w) and √d_model embeddings, sandwich post-norms,
#: fused qkv and gate_up projections)
VARIANTS = {
    "llama": (None, False, False, False, False),
    "mistral": (None, False, False, False, False),
    "qwen2": (True, False, False, False, False),
    "qwen3": (None, True, False, False, False),
    "phi3": (None, False, False, False, True),
    "gemma": (None, False, True, False, False),
    "gemma2": (None, False, True, True, False),
    "gemma3_text": (None, True, True, True, False),
    "gemma3": (None, True, True, True, False),
}
_PREFIXES = ("model.", "model.language_model.", "language_model.model.", "")
SLIDING = "sliding_attention"


@dataclass(frozen=True, eq=False)
class Llama(Architecture):
    """A Llama-style decoder as config.json describes it, checked against the checkpoint's tensors."""

    model_type: str
    n_layers: int
    n_heads: int
    kv_heads: int
    d_model: int
    head_dim: int
    d_ff: int
    vocab: int
    max_positions: int
    eps: float
    act_name: str
    pad_id: int
    prefix: str
    qkv_bias: bool
    o_bias: bool
    qk_norm: bool
    gemma: bool  # RMSNorm as (1 + w), embeddings scaled by √d_model
    sandwich: bool  # post-attention and post-feedforward norms (Gemma 2/3)
    fused: bool  # Phi-3's qkv_proj and gate_up_proj
    layer_types: tuple[str, ...]  # per layer: full_attention or sliding_attention
    sliding_window: int | None
    scale: float | None  # None: 1/√d_k
    attn_softcap: float | None
    ropes: dict  # layer type → positions.Rope
    tied: bool  # the LM head is the embedding table
    final_softcap: float | None = None  # Gemma 2: logits → cap · tanh(logits / cap)
    causal = True
    model_types = tuple(VARIANTS)

    @classmethod
    def from_config(cls, config: dict, tensors: Any, folder: Path) -> Llama:
        path = folder / "config.json"
        model_type = config["model_type"]
        if model_type == "gemma3" and isinstance(config.get("text_config"), dict):
            config = {**config["text_config"], "model_type": "gemma3"}
        bias_default, qk_norm, gemma, sandwich, fused = VARIANTS[model_type]
        d_model = config_int(config, folder, "hidden_size")
        n_heads = config_int(config, folder, "num_attention_heads")
        kv_heads = config_int(config, folder, "num_key_value_heads", default=n_heads)
        n_layers = config_int(config, folder, "num_hidden_layers")
        if n_heads % kv_heads:
            raise ModelError(f"{path}: num_attention_heads {n_heads} is not a multiple of num_key_value_heads "
                             f"{kv_heads}: save the config again")
        head_dim = config_int(config, folder, "head_dim", default=d_model // n_heads)
        d_ff = config_int(config, folder, "intermediate_size")
        check_sizes(tensors, folder, layers={"num_hidden_layers": n_layers},
                    sizes={"hidden_size": d_model, "num_attention_heads": n_heads, "head_dim": head_dim,
                           "intermediate_size": d_ff})
        max_positions = config_int(config, folder, "max_position_embeddings", default=4096)
        eps = config_float(config, folder, "rms_norm_eps", 1e-6, null_is_default=False)
        act_key = "hidden_activation" if config.get("hidden_activation") is not None else "hidden_act"
        default = "gelu_pytorch_tanh" if model_type.startswith("gemma") else "silu"  # transformers' config defaults
        act_name = default if config.get(act_key) is None else config[act_key]
        if model_type == "gemma" and act_name == "gelu":  # transformers' GemmaConfig: the hub's "gelu" is tanh gelu
            act_name = "gelu_pytorch_tanh"
        activation(act_name, path, act_key)
        if config_bool(config, folder, "mlp_bias", False):
            raise ModelError(f"{path}: mlp_bias is true; attnviz runs gated FFNs without biases, as every "
                             "released Llama-style checkpoint has them")
        attention_bias = config_bool(config, folder, "attention_bias", False)
        qkv_bias = attention_bias if bias_default is None else bias_default
        layer_types = _layer_types(config, folder, model_type, n_layers)
        window = config.get("sliding_window") if SLIDING in layer_types else None
        if window is not None and (not isinstance(window, int) or isinstance(window, bool) or window < 1):
            raise ModelError(f"{path}: sliding_window = {window!r} is not a positive integer")
        scalar = config.get("query_pre_attn_scalar") if model_type.startswith("gemma") else None
        scale = None if scalar is None else float(config_float(config, folder, "query_pre_attn_scalar", None)) ** -0.5
        ropes = _ropes(config, head_dim, layer_types, model_type, path)
        word = "embed_tokens.weight"
        prefix = next((p for p in _PREFIXES if p + word in tensors), "model.")
        vocab = (tensors.shape(prefix + word) or (config_int(config, folder, "vocab_size"),))[0]
        pad_id = next((config[k] for k in ("pad_token_id", "eos_token_id", "bos_token_id")
                       if isinstance(config.get(k), int) and not isinstance(config.get(k), bool)
                       and 0 <= config[k] < vocab), 0)
        tied = "lm_head.weight" not in tensors
        model = cls(model_type, n_layers, n_heads, kv_heads, d_model, head_dim, d_ff, vocab, max_positions, eps,
                    act_name, pad_id, prefix, qkv_bias, attention_bias,
                    qk_norm, gemma, sandwich, fused, layer_types, window, scale,
                    _positive(config, folder, "attn_logit_softcapping"), ropes, tied,
                    _positive(config, folder, "final_logit_softcapping"))
        check_tensors(tensors, model.expected(config, folder), path)
        return model

    # --- sizes and per-layer flags -------------------------------------------------------------

    @property
    def n_kv_heads(self) -> int:
        return self.kv_heads

    @property
    def d_k(self) -> int:
        return self.head_dim

    def attention_scale(self, i: int) -> float | None:
        return self.scale

    def softcap(self, i: int) -> float | None:
        return self.attn_softcap

    def window(self, i: int) -> int | None:
        return self.sliding_window if self.layer_types[i] == SLIDING else None

    def rope(self, i: int):
        return self.ropes[self.layer_types[i]]

    # --- tensors -------------------------------------------------------------------------------

    def name(self, part: str, i: int | None = None) -> str:
        return f"{self.prefix}{part}" if i is None else f"{self.prefix}layers.{i}.{part}"

    def expected(self, config: dict, folder: Path) -> dict[str, tuple[int, ...]]:
        """Every tensor name the forward pass reads, with the shape config.json implies."""
        d, f, hd = self.d_model, self.d_ff, self.head_dim
        q, kv = self.n_heads * hd, self.kv_heads * hd
        out = {self.name("embed_tokens.weight"): (config_int(config, folder, "vocab_size", default=self.vocab), d),
               self.name("norm.weight"): (d,)}
        for i in range(self.n_layers):
            layer = {"input_layernorm.weight": (d,), "post_attention_layernorm.weight": (d,),
                     "self_attn.o_proj.weight": (d, q), "mlp.down_proj.weight": (d, f)}
            if self.fused:
                layer.update({"self_attn.qkv_proj.weight": (q + 2 * kv, d), "mlp.gate_up_proj.weight": (2 * f, d)})
            else:
                layer.update({"self_attn.q_proj.weight": (q, d), "self_attn.k_proj.weight": (kv, d),
                              "self_attn.v_proj.weight": (kv, d), "mlp.gate_proj.weight": (f, d),
                              "mlp.up_proj.weight": (f, d)})
            if self.qkv_bias and not self.fused:
                layer.update({"self_attn.q_proj.bias": (q,), "self_attn.k_proj.bias": (kv,),
                              "self_attn.v_proj.bias": (kv,)})
            if self.o_bias:
                layer["self_attn.o_proj.bias"] = (d,)
            if self.qk_norm:
                layer.update({"self_attn.q_norm.weight": (hd,), "self_attn.k_norm.weight": (hd,)})
            if self.sandwich:
                layer.update({"pre_feedforward_layernorm.weight": (d,), "post_feedforward_layernorm.weight": (d,)})
            out.update({self.name(part, i): shape for part, shape in layer.items()})
        return out

    def _norm(self, tensors: Any, name: str, i: int | None = None) -> Norm:
        return Norm(tensors.read(self.name(name, i)), None, self.eps, "rms", 1.0 if self.gemma else 0.0)

    def _bias(self, tensors: Any, name: str, i: int, present: bool) -> np.ndarray | None:
        return tensors.read(self.name(name, i)) if present else None

    def embed(self, tensors: Any, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(E, P, h₀): the embedding rows (Gemma: times √d_model, rounded to float32 as transformers does), no
        position rows (positions enter every layer through RoPE), h₀ = E."""
        e = tensors.rows(self.name("embed_tokens.weight"), ids)  # (T, d_model)
        if self.gemma:
            e = e * np.float32(self.d_model**0.5)  # (T, d_model)
        return e, np.zeros_like(e), e

    def layer_norms(self, tensors: Any, i: int) -> tuple[Norm, Norm]:
        """The RMSNorm before the attention and the one before the FFN (Gemma 2/3: pre_feedforward_layernorm;
        elsewhere post_attention_layernorm, which despite its name is the FFN's input norm)."""
        before_ffn = "pre_feedforward_layernorm.weight" if self.sandwich else "post_attention_layernorm.weight"
        return self._norm(tensors, "input_layernorm.weight", i), self._norm(tensors, before_ffn, i)

    def post_norms(self, tensors: Any, i: int) -> tuple[Norm | None, Norm | None]:
        if not self.sandwich:
            return None, None
        return (self._norm(tensors, "post_attention_layernorm.weight", i),
                self._norm(tensors, "post_feedforward_layernorm.weight", i))

    def attention_weights(self, tensors: Any, i: int) -> AttentionWeights:
        q, kv = self.n_heads * self.head_dim, self.kv_heads * self.head_dim
        if self.fused:
            w = tensors.matrix(self.name("self_attn.qkv_proj.weight", i))  # (d_model, q + 2·kv)
            w_q, w_k, w_v = w[:, :q], w[:, q:q + kv], w[:, q + kv:]
            b_q = b_k = b_v = None
        else:
            w_q, w_k, w_v = (tensors.matrix(self.name(f"self_attn.{p}_proj.weight", i)) for p in "qkv")
            b_q, b_k, b_v = (self._bias(tensors, f"self_attn.{p}_proj.bias", i, self.qkv_bias) for p in "qkv")
        q_norm = self._norm(tensors, "self_attn.q_norm.weight", i) if self.qk_norm else None
        k_norm = self._norm(tensors, "self_attn.k_norm.weight", i) if self.qk_norm else None
        return AttentionWeights(w_q, w_k, w_v, tensors.matrix(self.name("self_attn.o_proj.weight", i)),
                                b_q, b_k, b_v, self._bias(tensors, "self_attn.o_proj.bias", i, self.o_bias),
                                q_norm, k_norm)

    def block_params(self, tensors: Any, i: int) -> BlockParams:
        """Layer i's gated FFN (W_gate, W_up (d_model, d_ff), W_down (d_ff, d_model) as transposed views) and
        its two pre-norms (RMSNorm: betas None)."""
        if self.fused:
            gate_up = tensors.matrix(self.name("mlp.gate_up_proj.weight", i))  # (d_model, 2·d_ff): [gate | up]
            w_gate, w_up = gate_up[:, :self.d_ff], gate_up[:, self.d_ff:]
            b_gate = b_down = None
        else:
            w_gate = tensors.matrix(self.name("mlp.gate_proj.weight", i))
            w_up = tensors.matrix(self.name("mlp.up_proj.weight", i))
            b_gate = b_down = None
        n1, n2 = self.layer_norms(tensors, i)
        return BlockParams(w_gate, b_gate, tensors.matrix(self.name("mlp.down_proj.weight", i)), b_down,
                           (n1.gamma, n2.gamma), (None, None), self.act_name, self.eps, w_up=w_up, norm="rms",
                           norm_offset=n1.offset)

    def _head(self) -> str:
        return "lm_head.weight" if not self.tied else self.name("embed_tokens.weight")

    def unembedding(self, tensors: Any) -> np.ndarray:
        """lm_head.weight (vocab, d_model), or the embedding table when the two are tied."""
        return tensors.read(self._head())

    def logits(self, tensors: Any, h: np.ndarray) -> np.ndarray:
        """h W_Uᵀ (W_U kept as stored: a 16-bit table is multiplied block by block, never copied whole), then
        Gemma 2's final soft-cap: cap · tanh(logits / cap)."""
        out = matmul(h, tensors.matrix(self._head()))  # (T, vocab)
        if self.final_softcap is not None:
            out = (self.final_softcap * np.tanh(out.astype(np.float64) / self.final_softcap)).astype(np.float32)
        return out

    def final_norm(self, tensors: Any, h: np.ndarray) -> NormTrace:
        """The model's last RMSNorm (`model.norm`): transformers' last hidden state and the LM head's input."""
        return self._norm(tensors, "norm.weight")(h)


def _positive(config: dict, folder: Path, key: str) -> float | None:
    return config_float(config, folder, key, None)


def _layer_types(config: dict, folder: Path, model_type: str, n_layers: int) -> tuple[str, ...]:
    """Each layer's attention: full_attention or sliding_attention, from config.json's layer_types or, in older
    configs, as transformers derives it for the family."""
    path = folder / "config.json"
    given = config.get("layer_types")
    if given is not None:
        if (not isinstance(given, list) or len(given) != n_layers
                or any(t not in ("full_attention", SLIDING) for t in given)):
            raise ModelError(f"{path}: layer_types must list full_attention or sliding_attention for each of the "
                             f"{n_layers} layers")
        return tuple(given)
    window = config.get("sliding_window")
    if model_type == "gemma2":
        return tuple(SLIDING if (i + 1) % 2 else "full_attention" for i in range(n_layers))
    if model_type in ("gemma3", "gemma3_text"):
        pattern = config_int(config, folder, "sliding_window_pattern", default=6)
        return tuple(SLIDING if (i + 1) % pattern else "full_attention" for i in range(n_layers))
    if model_type in ("qwen2", "qwen3"):
        if not config_bool(config, folder, "use_sliding_window", False) or window is None:
            return ("full_attention",) * n_layers
        first = config.get("max_window_layers")
        if first is not None and (not isinstance(first, int) or isinstance(first, bool) or first < 0):
            raise ModelError(f"{path}: max_window_layers = {first!r} is not a layer count: fix the config")
        first = n_layers if first is None else first
        return tuple(SLIDING if i >= first else "full_attention" for i in range(n_layers))
    if model_type in ("mistral", "phi3") and window is not None:
        return (SLIDING,) * n_layers
    return ("full_attention",) * n_layers


def _ropes(config: dict, head_dim: int, layer_types: tuple[str, ...], model_type: str, path: Path) -> dict:
    """layer type → positions.Rope (Gemma 3's sliding layers have their own base frequency)."""
    try:
        full = positions.rope_from_config(config, head_dim)
        if model_type in ("gemma3", "gemma3_text") and SLIDING in layer_types:
            return {"full_attention": full, SLIDING: positions.rope_from_config(config, head_dim, local=True)}
    except ValueError as exc:
        raise ModelError(f"{path}: {exc}") from None
    return {"full_attention": full, SLIDING: full}
