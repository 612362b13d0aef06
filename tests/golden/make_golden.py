"""Make tests/golden/attention_golden.npz: reference attention values computed by PyTorch.

attnviz itself never imports torch. This script is run by hand, in a separate virtual environment that
has torch, and its output file is committed; tests/test_golden.py then checks attnviz against it with
numpy alone. From the repository root:

    python3 -m venv /path/to/torch-venv
    /path/to/torch-venv/bin/pip install torch==2.13.0 numpy
    /path/to/torch-venv/bin/python tests/golden/make_golden.py

The inputs (token vectors X, memory, W_Q, W_K, W_V, W_O) are drawn with numpy from a fixed seed;
every expected stage is computed by torch in float64 and cross-checked against a second torch path
(softmax weights · V against scaled_dot_product_attention, per-head weights and concat · W_O against
nn.MultiheadAttention). Rerunning it with the same torch version rewrites the same bytes.

Keys are "<case>/<name>"; per-head stages are stacked along a leading head axis:

    x (T, d_model)   memory (S, d_model)   n_heads ()   causal ()
    w_q, w_k (d_model, h·d_k)   w_v (d_model, h·d_v)   w_o (h·d_v, d_model)
    q (h, T, d_k)   k (h, S, d_k)   v (h, S, d_v)
    scores, scaled (h, T, S)        q kᵀ, and q kᵀ / √d_k
    mask (T, S) bool, True = may attend      masked (h, T, S) scaled with −inf where hidden
                                             (both only in causal cases)
    weights (h, T, S)               softmax rows
    head_output (h, T, d_v)         weights v
    concat (T, h·d_v)               the heads side by side
    output (T, d_model)             concat W_O

plus "pe/positions" (50, 16) and "meta/*" (versions and seed, as strings and integers).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from npz import save_npz  # tests/golden/npz.py: this script runs from its own folder

SEED = 20240611
OUT = Path(__file__).resolve().parent / "attention_golden.npz"
DT = torch.float64
AGREE = 1e-13  # how closely the two torch paths must agree before a value is written


def t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))


def n(x: torch.Tensor) -> np.ndarray:
    return x.detach().cpu().numpy().astype(np.float64, copy=True)


def check(name: str, a: torch.Tensor, b: torch.Tensor, tol: float = AGREE) -> None:
    diff = float((a - b).detach().abs().max())
    if not diff <= tol:
        sys.exit(f"{name}: the two torch paths differ by {diff:.3e} (> {tol:g}); not writing the file")


def draw_weights(rng: np.random.Generator, d_model: int, width: int) -> dict[str, np.ndarray]:
    """N(0, 1/d_model) for W_Q, W_K, W_V and N(0, 1/width) for W_O, like attnviz's seeded init."""
    w = {name: rng.standard_normal((d_model, width)) / math.sqrt(d_model) for name in ("w_q", "w_k", "w_v")}
    w["w_o"] = rng.standard_normal((width, d_model)) / math.sqrt(width)
    return w


def hidden_mask(t_len: int, s_len: int) -> torch.Tensor:
    """torch's convention, True = may NOT attend: key j is hidden from query i when j > i + (S - T)."""
    return torch.ones(t_len, s_len, dtype=torch.bool).triu(diagonal=s_len - t_len + 1)


def stages(q: torch.Tensor, k: torch.Tensor, hidden: torch.Tensor | None) -> dict[str, torch.Tensor]:
    """scores, scaled, (masked), weights for q (h, T, d_k) and k (h, S, d_k)."""
    d_k = q.shape[-1]
    scores = q @ k.transpose(-2, -1)  # (h, T, S)
    scaled = scores / math.sqrt(d_k)  # (h, T, S)
    out = {"scores": scores, "scaled": scaled}
    logits = scaled
    if hidden is not None:
        logits = scaled.masked_fill(hidden, float("-inf"))
        out["masked"] = logits
    out["weights"] = torch.softmax(logits, dim=-1)
    return out


def single_head(x: np.ndarray, w: dict[str, np.ndarray], causal: bool) -> dict[str, np.ndarray]:
    """One head with plain torch ops; the output comes from scaled_dot_product_attention."""
    tx, wq, wk, wv, wo = t(x), t(w["w_q"]), t(w["w_k"]), t(w["w_v"]), t(w["w_o"])
    q, k, v = (tx @ wq)[None], (tx @ wk)[None], (tx @ wv)[None]  # (1, T, d)
    t_len = x.shape[0]
    hidden = hidden_mask(t_len, t_len) if causal else None
    st = stages(q, k, hidden)
    head_out = F.scaled_dot_product_attention(q, k, v, is_causal=causal)  # (1, T, d_v)
    check("weights · v vs scaled_dot_product_attention", st["weights"] @ v, head_out)
    if hidden is not None and not bool((st["weights"][:, hidden] == 0).all()):
        sys.exit("a hidden cell has a nonzero weight")
    concat = head_out[0]
    res = {"x": x, **w, "n_heads": np.asarray(1, dtype=np.int64), "causal": np.asarray(causal),
           "q": n(q), "k": n(k), "v": n(v), **{key: n(val) for key, val in st.items()},
           "head_output": n(head_out), "concat": n(concat), "output": n(concat @ wo)}
    if hidden is not None:
        res["mask"] = n(~hidden).astype(bool)
    return res


def multi_head(x: np.ndarray, memory: np.ndarray | None, w: dict[str, np.ndarray], n_heads: int,
               causal: bool) -> dict[str, np.ndarray]:
    """nn.MultiheadAttention with our matrices loaded, cross-checked against per-head torch ops."""
    mem = x if memory is None else memory
    d_model = x.shape[1]
    width = w["w_q"].shape[1]
    if width != d_model:
        sys.exit("nn.MultiheadAttention needs h·d_k == d_model")
    mha = torch.nn.MultiheadAttention(d_model, n_heads, bias=False, batch_first=True, dtype=DT)
    mha.eval()
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([t(w["w_q"]).T, t(w["w_k"]).T, t(w["w_v"]).T], dim=0))
        mha.out_proj.weight.copy_(t(w["w_o"]).T)
    tx, tm = t(x)[None], t(mem)[None]  # (1, T, d_model), (1, S, d_model)
    t_len, s_len = x.shape[0], mem.shape[0]
    hidden = hidden_mask(t_len, s_len) if causal else None
    out, attn = mha(tx, tm, tm, need_weights=True, average_attn_weights=False, attn_mask=hidden)
    attn = attn[0]  # (h, T, S)
    out = out[0]  # (T, d_model)

    def heads(a: torch.Tensor) -> torch.Tensor:  # (L, h·d) -> (h, L, d); head i owns columns i·d …
        return a.reshape(a.shape[0], n_heads, -1).transpose(0, 1)

    q = heads(t(x) @ t(w["w_q"]))  # (h, T, d_k)
    k = heads(t(mem) @ t(w["w_k"]))  # (h, S, d_k)
    v = heads(t(mem) @ t(w["w_v"]))  # (h, S, d_v)
    st = stages(q, k, hidden)
    check("manual softmax weights vs MultiheadAttention weights", st["weights"], attn)
    head_out = F.scaled_dot_product_attention(q, k, v, attn_mask=None if hidden is None else ~hidden)
    check("weights · v vs scaled_dot_product_attention", attn @ v, head_out)
    concat = head_out.transpose(0, 1).reshape(t_len, -1)  # (T, h·d_v)
    check("concat · W_O vs MultiheadAttention output", concat @ t(w["w_o"]), out)
    if hidden is not None and not bool((attn[:, hidden] == 0).all()):
        sys.exit("a hidden cell has a nonzero weight")
    st["weights"] = attn
    res = {"x": x, **w, "n_heads": np.asarray(n_heads, dtype=np.int64), "causal": np.asarray(causal),
           "q": n(q), "k": n(k), "v": n(v), **{key: n(val) for key, val in st.items()},
           "head_output": n(head_out), "concat": n(concat), "output": n(out)}
    if memory is not None:
        res["memory"] = memory
    if hidden is not None:
        res["mask"] = n(~hidden).astype(bool)
    return res


def hard_inputs(rng: np.random.Generator) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Scaled scores of about ±1024, where exp() of a raw row overflows (or every entry underflows).

    Column 7 of X is a constant 1 and W_K sends it, times 2048, into key feature 0, so every key
    has k₀ = 2048; X's column 0 is ±1 and W_Q copies it into q₀. Each scaled score is then
    ±1024 + a small term from the other features, so the rows still hold real distributions.
    Every entry is a small dyadic number, so Q, K, scores and scaled are exact in float64 and equal
    for any summation order: only softmax itself can differ.
    """
    t_len, d_model, d_k = 5, 8, 4
    x = rng.integers(-2, 3, size=(t_len, d_model)).astype(np.float64)
    x[:, 0] = [1, -1, 1, -1, 1]
    x[:, 7] = 1.0

    def small() -> np.ndarray:
        return rng.integers(-2, 3, size=(d_model, d_k)) / 4.0

    w_q, w_k = small(), small()
    w_q[:, 0] = 0.0
    w_q[0, 0] = 1.0
    w_k[:, 0] = 0.0
    w_k[7, 0] = 2048.0
    w_v = rng.standard_normal((d_model, d_k)) / math.sqrt(d_model)
    w_o = rng.standard_normal((d_k, d_model)) / math.sqrt(d_k)
    return x, {"w_q": w_q, "w_k": w_k, "w_v": w_v, "w_o": w_o}


def positions(n_pos: int, d_model: int) -> torch.Tensor:
    """The textbook torch form: div = exp(2i · (−ln 10000 / d)), so PE[pos, 2i] = sin(pos / 10000^(2i/d))."""
    pos = torch.arange(n_pos, dtype=DT)[:, None]
    div = torch.exp(torch.arange(0, d_model, 2, dtype=DT) * (-math.log(10000.0) / d_model))
    pe = torch.zeros(n_pos, d_model, dtype=DT)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div)[:, : d_model // 2]
    return pe


def build() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(SEED)
    cases: dict[str, dict[str, np.ndarray]] = {}

    x = rng.standard_normal((5, 8))
    w = draw_weights(rng, 8, 4)
    cases["single"] = single_head(x, w, causal=False)
    cases["single_causal"] = single_head(x, w, causal=True)

    x = rng.standard_normal((6, 8))
    cases["mha_h2"] = multi_head(x, None, draw_weights(rng, 8, 8), 2, causal=False)
    x = rng.standard_normal((7, 16))
    cases["mha_h4"] = multi_head(x, None, draw_weights(rng, 16, 16), 4, causal=False)
    x = rng.standard_normal((6, 8))
    cases["mha_h2_causal"] = multi_head(x, None, draw_weights(rng, 8, 8), 2, causal=True)

    x_dec, memory = rng.standard_normal((3, 8)), rng.standard_normal((6, 8))
    cases["cross_h2"] = multi_head(x_dec, memory, draw_weights(rng, 8, 8), 2, causal=False)

    x, w = hard_inputs(rng)
    hard = single_head(x, w, causal=False)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        naive = np.exp(hard["scaled"]) / np.exp(hard["scaled"]).sum(axis=-1, keepdims=True)
    if np.isfinite(naive).all() or not np.isfinite(hard["weights"]).all():
        sys.exit("the hard case is not hard: naive softmax should fail and torch should not")
    cases["hard"] = hard

    arrays = {f"{case}/{key}": val for case, vals in cases.items() for key, val in vals.items()}
    arrays["pe/positions"] = n(positions(50, 16))
    arrays["meta/torch_version"] = np.asarray(torch.__version__)
    arrays["meta/numpy_version"] = np.asarray(np.__version__)
    arrays["meta/seed"] = np.asarray(SEED, dtype=np.int64)
    return arrays


def main() -> None:
    torch.set_num_threads(1)
    arrays = build()
    save_npz(arrays, OUT, cast={"f": np.float64})
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(arrays)} arrays) with torch {torch.__version__}")


if __name__ == "__main__":
    main()
