"""Tiny random checkpoints for golden values (shared by the make_*_golden.py scripts; never by attnviz).

Weights are drawn from one seeded torch.Generator, wider than transformers' default (std 0.02 gives near-uniform
attention, which a wrong forward pass would match too): std QK_STD for query/key projections, STD for every
other matrix, BIAS_STD for biases, and norm weights moved off their initial value (1, or 0 for Gemma's `1 + w`)
by N(0, NORM_STD²), so a forward pass that skipped one would not match; per-head query/key norms are drawn
around QK_NORM instead (with weights near 1 they leave queries and keys of unit RMS: nearly flat attention).
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import torch

QK_STD = 0.35
STD = 0.25
BIAS_STD = 0.2
NORM_STD = 0.1
QK_NORM = 2.0  # q_norm/k_norm weights (Qwen3, Gemma 3): unit-RMS queries and keys alone give flat attention
QK_NAMES = ("q_proj", "k_proj", "qkv_proj", ".query.", ".key.", ".q.", ".k.", "c_attn", "q_attn", "q_lin", "k_lin")
WEIGHT_FILES = ("config.json", "model.safetensors", "model.safetensors.index.json")
MAX_FIXTURE = 200_000  # bytes per fixture folder


def randomize(model: torch.nn.Module, seed: int) -> None:
    """Redraw every parameter (in named_parameters order, so tied weights are drawn once) from `seed`."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen, dtype=torch.float32)
            if "q_norm" in name or "k_norm" in name:
                p.add_((QK_NORM - 1.0) + 3 * NORM_STD * noise.to(p.dtype))  # base 1 (or 0 for 1 + w): ≈ QK_NORM
            elif "norm" in name.lower() or ".ln_" in name or name.startswith("ln_") or "layernorm" in name.lower():
                p.add_(NORM_STD * noise.to(p.dtype))
            elif name.endswith("bias"):
                p.copy_(BIAS_STD * noise)
            elif p.ndim >= 2:
                p.copy_((QK_STD if any(k in name for k in QK_NAMES) else STD) * noise)
            else:  # other vectors (e.g. a learned scale): perturb like a norm weight
                p.add_(NORM_STD * noise.to(p.dtype))


def keep_only(folder: Path, keep: Callable[[str], bool]) -> None:
    for path in folder.iterdir():
        if not keep(path.name):
            path.unlink()


def is_weight_or_config(name: str) -> bool:
    return name in WEIGHT_FILES or (name.startswith("model-") and name.endswith(".safetensors"))


def fresh(folder: Path) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def check_size(folder: Path, limit: int = MAX_FIXTURE) -> int:
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    if size > limit:
        sys.exit(f"{folder} is {size} bytes (> {limit}): make the model or its vocabulary smaller")
    return size


def edit_json(path: Path, edit: Callable[[dict], None]) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def stack(tensors: Iterable[torch.Tensor]) -> np.ndarray:
    """A tuple of per-layer (1, …) outputs → one float32 array (L, …) without the batch axis."""
    arr = torch.stack([t[0] for t in tensors]).detach().to(torch.float32).numpy()
    if not np.isfinite(arr).all():
        sys.exit("non-finite values in a transformers output")
    return arr


def attention_stats(att: np.ndarray) -> tuple[float, float]:
    """(mean normalized entropy, mean max probability) over query rows with at least 3 visible keys.

    att (..., T, S). Normalized entropy is H / log(visible keys): 1 for uniform attention, 0 for one-hot."""
    rows = att.reshape(-1, att.shape[-1])
    visible = (rows > 0).sum(-1)
    keep = rows[visible >= 3]
    n = visible[visible >= 3]
    p = np.where(keep > 0, keep, 1.0)
    entropy = -(keep * np.log(p)).sum(-1) / np.log(n)
    return float(entropy.mean()), float(keep.max(-1).mean())


def check_not_uniform(name: str, att: np.ndarray, max_entropy: float = 0.8) -> None:
    entropy, peak = attention_stats(att)
    if entropy > max_entropy:
        sys.exit(f"{name}: attention too close to uniform (normalized entropy {entropy:.2f}); draw wider weights")
    if not np.allclose(att.sum(-1), 1, atol=1e-5):
        sys.exit(f"{name}: attention rows do not sum to 1")


def versions() -> dict[str, np.ndarray]:
    import tokenizers
    import transformers

    out = {"meta/torch_version": torch.__version__, "meta/transformers_version": transformers.__version__,
           "meta/tokenizers_version": tokenizers.__version__, "meta/numpy_version": np.__version__}
    try:
        import sentencepiece

        out["meta/sentencepiece_version"] = sentencepiece.__version__
    except ImportError:
        pass
    return {k: np.asarray(v) for k, v in out.items()}
