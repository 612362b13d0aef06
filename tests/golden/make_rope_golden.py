"""Make tests/golden/positions_golden.npz: RoPE, T5 relative positions and sliding windows by transformers.

attnviz computes positions with numpy alone (attnviz/positions.py). This script is run by hand, in a separate
virtual environment with torch and transformers; its output is committed, and tests/test_positions.py and
tests/test_attention.py check attnviz against it with numpy alone. From the repository root:

    /path/to/torch-venv/bin/pip install torch==2.13.0 transformers numpy
    /path/to/torch-venv/bin/python tests/golden/make_rope_golden.py

Keys:
    rope/<case>/config            the config.json text given to transformers (and, in the test, to attnviz)
    rope/<case>/head_dim          ()   int
    rope/<case>/local             ()   bool: a Gemma 3 sliding-window layer (layer_type "sliding_attention")
    rope/<case>/positions         (T,) int64  the position_ids of one forward pass
    rope/<case>/init_inv_freq     (r/2,) float32  the inv_freq buffer as the rotary module was built
    rope/<case>/inv_freq          (r/2,) float32  the buffer used by that forward pass (dynamic/longrope change it)
    rope/<case>/attention_factor  ()   float64  the module's attention_scaling
    rope/<case>/cos, sin          (T, r/2) float32  what the rotary module's forward returned (its first half:
                                  the second half repeats it, checked)
    apply/<case>/x                (2, T, d_k) float32  random queries, multiples of 1/8 in [−4, 4] (seed SEED)
    apply/<case>/rotated          (h, T, d_k) float32  the family's apply_rotary_pos_emb(x, x, cos, sin)[0],
                                  with rope/<case>'s cos and sin
    t5/relative                   (601,) int64  key − query offsets −300 … 300
    t5/buckets/<bi|uni>_<n>_<max> (601,) int64  T5Attention._relative_position_bucket of each offset
    t5/table                      (32, 3) float32  a seeded relative_attention_bias table (3 heads)
    t5/bias/encoder, t5/bias/decoder  (3, 7, 9) float32  compute_bias(7, 9) of a bidirectional / causal
                                  T5Attention with that table (the decoder with past_seen_tokens 2)
    mask/<case>/visible           (8, 8) bool  which keys each query of a tiny sliding-window model sees (its eager
                                  attention probabilities > 0, the same in every head): mistral, qwen2, qwen3,
                                  phi3, gemma2_sliding, gemma2_full, gemma3_sliding, gemma3_bidirectional
    mask/<case>/window            ()   int  the config's sliding_window after transformers read it (Gemma 3
                                  bidirectional: window // 2 + 1)
    mask/<case>/causal, sliding   ()   bool  whether the model is causal and that layer a sliding-window one
plus meta/* (versions, seed). Before writing, every cos/sin is checked against cos(m · inv_freq) · factor
recomputed with torch from the stored buffer. With the same versions the bytes are the same.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch
import transformers
from npz import save_npz  # tests/golden/npz.py: this script runs from its own folder
from transformers.models.gemma3 import modeling_gemma3
from transformers.models.llama import modeling_llama
from transformers.models.phi3 import modeling_phi3
from transformers.models.qwen2 import modeling_qwen2
from transformers.models.qwen3 import modeling_qwen3
from transformers.models.t5 import modeling_t5

SEED = 20240611
ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent / "positions_golden.npz"

FAMILIES = {  # name -> (config class, rotary class, apply_rotary_pos_emb)
    "llama": (transformers.LlamaConfig, modeling_llama.LlamaRotaryEmbedding, modeling_llama.apply_rotary_pos_emb),
    "qwen2": (transformers.Qwen2Config, modeling_qwen2.Qwen2RotaryEmbedding, modeling_qwen2.apply_rotary_pos_emb),
    "qwen3": (transformers.Qwen3Config, modeling_qwen3.Qwen3RotaryEmbedding, modeling_qwen3.apply_rotary_pos_emb),
    "phi3": (transformers.Phi3Config, modeling_phi3.Phi3RotaryEmbedding, modeling_phi3.apply_rotary_pos_emb),
    "gemma3": (transformers.Gemma3TextConfig, modeling_gemma3.Gemma3RotaryEmbedding,
               modeling_gemma3.apply_rotary_pos_emb),
}
SHORT = np.r_[0, 1, 2, 3, 7, 31, 100, 511, 1000, 2047, 4095]  # positions of a forward pass (not necessarily a prefix)


def factors(rng: np.random.Generator, n: int, high: float) -> list[float]:
    """n LongRoPE rescale factors, rising from 1 to about `high` (rounded so the JSON is short and exact)."""
    return [round(float(x), 4) for x in np.sort(1 + rng.random(n) * (high - 1))]


def cases(rng: np.random.Generator) -> dict[str, tuple[str, dict, int, bool, np.ndarray]]:
    """case -> (family, config, head_dim, local, positions)."""
    llama = {"hidden_size": 256, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 64,
             "intermediate_size": 512, "num_hidden_layers": 2, "max_position_embeddings": 2048}
    llama31 = llama | {"hidden_size": 512, "head_dim": 128, "rope_theta": 500000.0, "max_position_embeddings": 131072,
                       "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                        "original_max_position_embeddings": 8192, "rope_type": "llama3"}}
    dynamic = llama | {"max_position_embeddings": 64, "rope_scaling": {"rope_type": "dynamic", "factor": 2.0}}
    qwen2_yarn = {"hidden_size": 512, "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 512,
                  "num_hidden_layers": 2, "max_position_embeddings": 131072, "rope_theta": 1000000.0,
                  "rope_scaling": {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768}}
    phi3 = {"hidden_size": 384, "num_attention_heads": 4, "num_key_value_heads": 4, "intermediate_size": 512,
            "num_hidden_layers": 2, "max_position_embeddings": 131072, "original_max_position_embeddings": 4096,
            "rope_scaling": {"type": "longrope", "short_factor": factors(rng, 48, 1.3),
                             "long_factor": factors(rng, 48, 40.0)}}
    phi4 = {"hidden_size": 512, "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 512,
            "num_hidden_layers": 2, "max_position_embeddings": 131072, "original_max_position_embeddings": 4096,
            "partial_rotary_factor": 0.75, "rope_theta": 10000.0,
            "rope_scaling": {"type": "longrope", "short_factor": factors(rng, 48, 1.2),
                             "long_factor": factors(rng, 48, 30.0)}}
    gemma3 = {"hidden_size": 512, "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 256,
              "intermediate_size": 512, "num_hidden_layers": 6, "max_position_embeddings": 131072,
              "sliding_window": 512, "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0,
              "rope_scaling": {"factor": 8.0, "rope_type": "linear"}}
    gemma3_nested = {k: v for k, v in gemma3.items() if k not in ("rope_theta", "rope_local_base_freq", "rope_scaling")}
    gemma3_nested["rope_parameters"] = {
        "full_attention": {"rope_type": "linear", "factor": 4.0, "rope_theta": 500000.0},
        "sliding_attention": {"rope_type": "default", "rope_theta": 20000.0}}
    long = np.r_[SHORT, 10000, 131071]
    return {
        "llama_default": ("llama", llama | {"rope_theta": 10000.0}, 64, False, SHORT),
        "llama_odd_base": ("llama", llama | {"hidden_size": 320, "head_dim": 80, "rope_theta": 1234567.89}, 80, False,
                           SHORT),
        "qwen3_default": ("qwen3", llama | {"hidden_size": 512, "head_dim": 128, "rope_theta": 1000000.0}, 128, False,
                          SHORT),
        "llama3": ("llama", llama31, 128, False, long),
        "llama3_rope_parameters": ("llama", llama | {"rope_parameters": {
            "rope_type": "llama3", "rope_theta": 500000.0, "factor": 32.0, "low_freq_factor": 1.0,
            "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}}, 64, False, SHORT),
        "linear_legacy_type": ("llama", llama | {"rope_scaling": {"type": "linear", "factor": 4.0}}, 64, False, SHORT),
        "dynamic_short": ("llama", dynamic, 64, False, np.r_[0:5, 49]),
        "dynamic_long": ("llama", dynamic, 64, False, np.r_[0:5, 99]),
        "dynamic_long_gap": ("llama", dynamic, 64, False, np.r_[0:5, 999]),
        "yarn_qwen2": ("qwen2", qwen2_yarn, 128, False, long),
        "yarn_mscale": ("llama", llama | {"max_position_embeddings": 163840, "rope_scaling": {
            "rope_type": "yarn", "factor": 40.0, "original_max_position_embeddings": 4096, "mscale": 0.707,
            "mscale_all_dim": 1.0, "beta_fast": 32, "beta_slow": 1}}, 64, False, SHORT),
        "yarn_no_truncate": ("llama", llama | {"max_position_embeddings": 16384, "rope_scaling": {
            "rope_type": "yarn", "factor": 8.0, "original_max_position_embeddings": 2048, "truncate": False,
            "attention_factor": 1.5, "beta_fast": 16.0, "beta_slow": 2.0}}, 64, False, SHORT),
        "longrope_short": ("phi3", phi3, 96, False, np.r_[0:5, 4095]),
        "longrope_long": ("phi3", phi3, 96, False, np.r_[0:5, 4096]),
        "phi3_partial_longrope": ("phi3", phi4, 128, False, np.r_[0:5, 8000]),
        "phi3_partial_default": ("phi3", phi4 | {"rope_scaling": None, "partial_rotary_factor": 0.5}, 128, False,
                                 SHORT),
        "gemma3_global": ("gemma3", gemma3, 256, False, SHORT),
        "gemma3_local": ("gemma3", gemma3, 256, True, SHORT),
        "gemma3_nested_global": ("gemma3", gemma3_nested, 256, False, SHORT),
        "gemma3_nested_local": ("gemma3", gemma3_nested, 256, True, SHORT),
    }


def n32(x: torch.Tensor) -> np.ndarray:
    return x.detach().cpu().numpy().astype(np.float32, copy=True)


def rope_case(name: str, family: str, config: dict, head_dim: int, local: bool, positions: np.ndarray,
              rng: np.random.Generator) -> dict[str, np.ndarray]:
    config_cls, rotary_cls, apply = FAMILIES[family]
    text = json.dumps(config, sort_keys=True)
    cfg = config_cls.from_dict(json.loads(text))  # a fresh copy: transformers edits the dicts it is given
    module = rotary_cls(cfg)
    kind = ("sliding_attention" if local else "full_attention") if family == "gemma3" else None
    prefix = f"{kind}_" if kind else ""
    init = n32(getattr(module, f"{prefix}inv_freq"))
    x = torch.zeros(1, 1, len(positions), head_dim, dtype=torch.float32)
    pos = torch.from_numpy(np.asarray(positions, dtype=np.int64))[None, :]  # (1, T)
    with torch.no_grad():
        cos, sin = module(x, pos, kind) if kind else module(x, pos)  # (1, T, r)
    inv = n32(getattr(module, f"{prefix}inv_freq"))
    factor = float(getattr(module, f"{prefix}attention_scaling"))
    angles = pos[0, :, None].float() * torch.from_numpy(inv)[None, :]  # (T, r/2) float32, as transformers
    emb = torch.cat((angles, angles), dim=-1)  # (T, r)
    if not (torch.equal(cos[0], emb.cos() * factor) and torch.equal(sin[0], emb.sin() * factor)):
        sys.exit(f"{name}: cos/sin are not cos(m · inv_freq) · attention_scaling; not writing the file")
    out = {"config": np.asarray(text), "head_dim": np.asarray(head_dim, dtype=np.int64), "local": np.asarray(local),
           "positions": np.asarray(positions, dtype=np.int64), "init_inv_freq": init, "inv_freq": inv,
           "attention_factor": np.asarray(factor, dtype=np.float64), "cos": n32(cos[0, :, : inv.size]),
           "sin": n32(sin[0, :, : inv.size])}
    arrays = {f"rope/{name}/{key}": val for key, val in out.items()}
    if name in ("llama_default", "yarn_qwen2", "phi3_partial_longrope", "longrope_long"):
        q = (rng.integers(-32, 33, (1, 2, len(positions), head_dim)) / 8).astype(np.float32)  # (1, h, T, d_k)
        with torch.no_grad():
            rotated, _ = apply(torch.from_numpy(q), torch.from_numpy(q), cos, sin)
        arrays[f"apply/{name}/x"] = q[0]
        arrays[f"apply/{name}/rotated"] = n32(rotated[0])
    return arrays


def t5_arrays(rng: np.random.Generator) -> dict[str, np.ndarray]:
    rel = torch.arange(-300, 301, dtype=torch.long)
    out = {"t5/relative": rel.numpy().copy()}
    bucket = modeling_t5.T5Attention._relative_position_bucket
    for bidirectional in (True, False):
        for num_buckets, max_distance in ((32, 128), (64, 256), (16, 32), (8, 20)):
            key = f"t5/buckets/{'bi' if bidirectional else 'uni'}_{num_buckets}_{max_distance}"
            out[key] = bucket(rel, bidirectional=bidirectional, num_buckets=num_buckets,
                              max_distance=max_distance).numpy().copy()
    table = rng.standard_normal((32, 3)).astype(np.float32)
    out["t5/table"] = table
    for name, is_decoder, past in (("encoder", False, 0), ("decoder", True, 2)):
        cfg = transformers.T5Config(d_model=12, d_kv=4, num_heads=3, relative_attention_num_buckets=32,
                                    relative_attention_max_distance=128, is_decoder=is_decoder)
        attn = modeling_t5.T5Attention(cfg, has_relative_attention_bias=True)
        with torch.no_grad():
            attn.relative_attention_bias.weight.copy_(torch.from_numpy(table))
            out[f"t5/bias/{name}"] = n32(attn.compute_bias(7, 9, past_seen_tokens=past)[0])  # (h, T, S)
    return out


def mask_arrays(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Which keys each query sees in tiny sliding-window models (1 or 2 layers), from their eager attentions."""
    t = 8
    common = {"vocab_size": 64, "hidden_size": 16, "intermediate_size": 32, "num_attention_heads": 2,
              "num_key_value_heads": 1, "head_dim": 8, "max_position_embeddings": 64, "pad_token_id": 0,
              "bos_token_id": 1, "eos_token_id": 2, "num_hidden_layers": 2}
    gemma_layers = {"layer_types": ["sliding_attention", "full_attention"]}
    models = {  # case -> (config class, model class, config, layer)
        "mistral": (transformers.MistralConfig, transformers.MistralModel, common | {"sliding_window": 3}, 0),
        "qwen2": (transformers.Qwen2Config, transformers.Qwen2Model,
                  common | {"use_sliding_window": True, "sliding_window": 3, "max_window_layers": 0}, 0),
        "qwen3": (transformers.Qwen3Config, transformers.Qwen3Model,
                  common | {"use_sliding_window": True, "sliding_window": 4, "max_window_layers": 0}, 0),
        "phi3": (transformers.Phi3Config, transformers.Phi3Model, common | {"sliding_window": 2}, 0),
        "gemma2_sliding": (transformers.Gemma2Config, transformers.Gemma2Model, common | {"sliding_window": 3}, 0),
        "gemma2_full": (transformers.Gemma2Config, transformers.Gemma2Model, common | {"sliding_window": 3}, 1),
        "gemma3_sliding": (transformers.Gemma3TextConfig, transformers.Gemma3TextModel,
                           common | gemma_layers | {"sliding_window": 3}, 0),
        "gemma3_bidirectional": (transformers.Gemma3TextConfig, transformers.Gemma3TextModel,
                                 common | gemma_layers | {"sliding_window": 5, "use_bidirectional_attention": True}, 0),
    }
    ids = torch.from_numpy(rng.integers(3, 64, (1, t)))
    out = {}
    for name, (config_cls, model_cls, config, layer) in models.items():
        cfg = config_cls(**config)
        cfg._attn_implementation = "eager"
        torch.manual_seed(SEED)
        model = model_cls(cfg).eval()
        with torch.no_grad():
            weights = model(input_ids=ids, output_attentions=True).attentions[layer][0]  # (h, T, T)
        visible = (weights > 0).numpy()
        if not (visible == visible[:1]).all():
            sys.exit(f"{name}: the heads disagree on which keys are visible; not writing the file")
        out |= {f"mask/{name}/visible": visible[0], f"mask/{name}/window": np.asarray(cfg.sliding_window),
                f"mask/{name}/causal": np.asarray(not getattr(cfg, "use_bidirectional_attention", False)),
                f"mask/{name}/sliding": np.asarray(getattr(cfg, "layer_types", ["sliding_attention"] * 2)[layer]
                                                   == "sliding_attention")}
    return out


def main() -> None:
    torch.set_num_threads(1)
    rng = np.random.default_rng(SEED)
    arrays: dict[str, np.ndarray] = {}
    for name, (family, config, head_dim, local, positions) in cases(rng).items():
        arrays |= rope_case(name, family, config, head_dim, local, positions, rng)
    arrays |= t5_arrays(rng)
    arrays |= mask_arrays(rng)
    arrays["meta/torch_version"] = np.asarray(torch.__version__)
    arrays["meta/transformers_version"] = np.asarray(transformers.__version__)
    arrays["meta/numpy_version"] = np.asarray(np.__version__)
    arrays["meta/seed"] = np.asarray(SEED, dtype=np.int64)
    save_npz(arrays, OUT, cast={"i": np.int64})
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size} bytes, {len(arrays)} arrays) with torch "
          f"{torch.__version__}, transformers {transformers.__version__}")


if __name__ == "__main__":
    main()
