"""BERT-style encoders in numpy: BERT (and MiniLM, which is a BERT), RoBERTa and DistilBERT.

Post-LayerNorm blocks, float32 like the checkpoints (LayerNorm statistics and softmax in float64):

    E  = word_embeddings[ids] + token_type_embeddings[0]            (T, d_model)  (DistilBERT: no token types)
    P  = position_embeddings[positions]                             (T, d_model)  0, 1, … (RoBERTa: pad_id + 1, …)
    h₀ = LayerNorm(E + P)
    layer i:  x = hᵢ;  Q, K, V = x W_Q + b_Q, x W_K + b_K, x W_V + b_V  → heads → attention (padding mask)
              a    = LayerNorm(x + concat W_O + b_O)
              hᵢ₊₁ = LayerNorm(a + act(a W_1 + b_1) W_2 + b_2)

torch's nn.Linear stores W as (out, in), so `x @ W.T` (a transposed view of the memory map, no copy).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError
from ..layers import BlockParams, Norm, layer_norm
from .base import Architecture, AttentionWeights, activation, check_tensors
from .config import check_sizes, config_float, config_id, config_int, config_str

MODEL_TYPES = ("bert", "roberta", "distilbert")

#: role → tensor name (without the ".weight"/".bias" suffix); {i} is the layer.
_BERT = {
    "word": "embeddings.word_embeddings", "position": "embeddings.position_embeddings",
    "type": "embeddings.token_type_embeddings", "ln_emb": "embeddings.LayerNorm",
    "q": "encoder.layer.{i}.attention.self.query", "k": "encoder.layer.{i}.attention.self.key",
    "v": "encoder.layer.{i}.attention.self.value", "o": "encoder.layer.{i}.attention.output.dense",
    "ln_attn": "encoder.layer.{i}.attention.output.LayerNorm", "ff_in": "encoder.layer.{i}.intermediate.dense",
    "ff_out": "encoder.layer.{i}.output.dense", "ln_out": "encoder.layer.{i}.output.LayerNorm",
}
_DISTILBERT = {
    "word": "embeddings.word_embeddings", "position": "embeddings.position_embeddings", "type": None,
    "ln_emb": "embeddings.LayerNorm",
    "q": "transformer.layer.{i}.attention.q_lin", "k": "transformer.layer.{i}.attention.k_lin",
    "v": "transformer.layer.{i}.attention.v_lin", "o": "transformer.layer.{i}.attention.out_lin",
    "ln_attn": "transformer.layer.{i}.sa_layer_norm", "ff_in": "transformer.layer.{i}.ffn.lin1",
    "ff_out": "transformer.layer.{i}.ffn.lin2", "ln_out": "transformer.layer.{i}.output_layer_norm",
}
_PREFIXES = ("", "bert.", "roberta.", "distilbert.", "model.")
_LAYER_NORMS = ("ln_emb", "ln_attn", "ln_out")


@dataclass(frozen=True, eq=False)
class Bert(Architecture):
    """A BERT-family encoder as config.json describes it, checked against the tensors of model.safetensors."""

    model_type: str
    n_layers: int
    n_heads: int
    d_model: int
    d_ff: int
    vocab: int
    max_positions: int
    eps: float
    act: Any  # np.ndarray -> np.ndarray
    pad_id: int
    names: dict  # role -> name template, with the file's prefix
    ln_suffix: tuple[str, str]  # ("weight", "bias"), or ("gamma", "beta") in old conversions
    act_name: str = "gelu"  # the config's activation (hidden_act, or DistilBERT's activation)
    causal = False
    model_types = MODEL_TYPES
    norm_first = False

    @classmethod
    def from_config(cls, config: dict, tensors: Any, folder: Path) -> Bert:
        model_type = config["model_type"]
        if model_type == "distilbert":
            d_model = config_int(config, folder, "dim", "hidden_size")
            n_heads = config_int(config, folder, "n_heads", "num_attention_heads")
            layers_key = "n_layers" if config.get("n_layers") is not None else "num_hidden_layers"
            n_layers = config_int(config, folder, "n_layers", "num_hidden_layers")
            d_ff = config_int(config, folder, "hidden_dim", "intermediate_size")
            act_key, eps, table = "activation", 1e-12, _DISTILBERT
        else:
            d_model = config_int(config, folder, "hidden_size")
            n_heads = config_int(config, folder, "num_attention_heads")
            layers_key = "num_hidden_layers"
            n_layers = config_int(config, folder, "num_hidden_layers")
            d_ff = config_int(config, folder, "intermediate_size")
            act_key, table = "hidden_act", _BERT
            eps = config_float(config, folder, "layer_norm_eps", 1e-12, null_is_default=False)
            kind = config_str(config, folder, "position_embedding_type", "absolute")
            if kind != "absolute":
                raise ModelError(f"{folder / 'config.json'}: position_embedding_type {kind!r} is not supported; "
                                 "attnviz runs BERT-style models with absolute positions")
        if d_model % n_heads:
            raise ModelError(f"{folder / 'config.json'}: hidden size {d_model} is not a multiple of "
                             f"{n_heads} heads")
        act_name = config.get(act_key, "gelu")
        act = activation(act_name, folder / "config.json", act_key)
        max_positions = config_int(config, folder, "max_position_embeddings", default=512)
        check_sizes(tensors, folder, layers={layers_key: n_layers},
                    sizes={"hidden_size": d_model, "intermediate_size": d_ff, "max_position_embeddings": max_positions})
        word = table["word"] + ".weight"
        prefix = next((p for p in _PREFIXES if p + word in tensors), "")
        names = {role: None if name is None else prefix + name for role, name in table.items()}
        ln_probe = names["ln_emb"]
        ln_suffix = ("gamma", "beta") if (ln_probe + ".gamma" in tensors and ln_probe + ".weight" not in tensors) \
            else ("weight", "bias")
        vocab = (tensors.shape(prefix + word) or (config_int(config, folder, "vocab_size"),))[0]
        pad_id = config_id(config, folder, "pad_token_id", vocab, 1 if model_type == "roberta" else 0)
        if model_type == "roberta" and pad_id + 1 >= max_positions:
            raise ModelError(f"{folder / 'config.json'}: pad_token_id = {pad_id} leaves no positions: RoBERTa counts "
                             f"positions from pad_token_id + 1 and max_position_embeddings is {max_positions}; "
                             "fix the config (RoBERTa's pad_token_id is 1)")
        bert = cls(model_type, n_layers, n_heads, d_model, d_ff, vocab, max_positions, eps, act, pad_id, names,
                   ln_suffix, act_name)
        check_tensors(tensors, bert.expected(config, folder), folder / "config.json")
        return bert

    def name(self, role: str, layer: int | None = None, part: str = "weight") -> str:
        if role in _LAYER_NORMS:
            part = self.ln_suffix[0] if part == "weight" else self.ln_suffix[1]
        base = self.names[role] if layer is None else self.names[role].format(i=layer)
        return f"{base}.{part}"

    def expected(self, config: dict, folder: Path) -> dict[str, tuple[int, ...]]:
        """Every tensor name the forward pass reads, with the shape config.json implies."""
        d, f = self.d_model, self.d_ff
        out = {self.name("word"): (config_int(config, folder, "vocab_size", default=self.vocab), d),
               self.name("position"): (self.max_positions, d),
               self.name("ln_emb"): (d,), self.name("ln_emb", part="bias"): (d,)}
        if self.names["type"] is not None:
            out[self.name("type")] = (config_int(config, folder, "type_vocab_size", default=2), d)
        for i in range(self.n_layers):
            for role, (w, b) in {"q": ((d, d), (d,)), "k": ((d, d), (d,)), "v": ((d, d), (d,)),
                                 "o": ((d, d), (d,)), "ff_in": ((f, d), (f,)), "ff_out": ((d, f), (d,)),
                                 "ln_attn": ((d,), (d,)), "ln_out": ((d,), (d,))}.items():
                out[self.name(role, i)] = w
                out[self.name(role, i, "bias")] = b
        return out

    @property
    def position_limit(self) -> int:
        """The most tokens one text may have (RoBERTa's positions start after pad_id)."""
        return self.max_positions - (self.pad_id + 1 if self.model_type == "roberta" else 0)

    def position_ids(self, ids: np.ndarray) -> np.ndarray:
        if self.model_type == "roberta":  # like transformers: pad tokens sit at pad_id, the rest count on from it
            real = ids != self.pad_id
            return np.cumsum(real) * real + self.pad_id
        return np.arange(len(ids))

    def embed(self, tensors: Any, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(E, P, h₀ = LayerNorm(E + P)), each (T, d_model) float32."""
        e = tensors.rows(self.name("word"), ids)  # (T, d_model)
        if self.names["type"] is not None:
            e = e + tensors.rows(self.name("type"), [0])  # (T, d_model): token type 0 for every token
        p = tensors.rows(self.name("position"), self.position_ids(ids))  # (T, d_model)
        h = layer_norm(e + p, tensors.read(self.name("ln_emb")), tensors.read(self.name("ln_emb", part="bias")),
                       self.eps)  # (T, d_model)
        return e, p, h

    def block_params(self, tensors: Any, i: int) -> BlockParams:
        """Layer i's FFN (W₁ (d_model, d_ff) and W₂ (d_ff, d_model): transposed views of nn.Linear's weights)
        and its two LayerNorms (after the attention, after the FFN), float32 views of the memory map."""
        def read(role: str, part: str = "weight") -> np.ndarray:
            return tensors.read(self.name(role, i, part))

        return BlockParams(tensors.matrix(self.name("ff_in", i, "weight")), read("ff_in", "bias"),
                           tensors.matrix(self.name("ff_out", i, "weight")), read("ff_out", "bias"),
                           (read("ln_attn"), read("ln_out")), (read("ln_attn", "bias"), read("ln_out", "bias")),
                           self.act_name, self.eps)

    def layer_norms(self, tensors: Any, i: int) -> tuple[Norm, Norm]:
        """Layer i's LayerNorm after the attention's residual and the one after the FFN's."""
        def norm(role: str) -> Norm:
            return Norm(tensors.read(self.name(role, i)), tensors.read(self.name(role, i, "bias")), self.eps)

        return norm("ln_attn"), norm("ln_out")

    def attention_weights(self, tensors: Any, i: int) -> AttentionWeights:
        """Layer i's Q, K, V and output projections (nn.Linear's (out, in) weights as transposed views)."""
        def read(role: str, part: str = "weight") -> np.ndarray:
            return tensors.read(self.name(role, i, part))

        def w(role: str):
            return tensors.matrix(self.name(role, i, "weight"))  # (out, in) stored: x @ W takes (in, out)

        return AttentionWeights(w("q"), w("k"), w("v"), w("o"),
                                read("q", "bias"), read("k", "bias"), read("v", "bias"), read("o", "bias"))

    def final_norm(self, tensors: Any, h: np.ndarray) -> None:
        """BERT-style encoders end with their last layer's LayerNorm: no final one."""
        return None
