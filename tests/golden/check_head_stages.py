"""Dev-only check: attnviz.attention.head_stages against transformers' eager attention, float32.

Not a test (it needs torch): run by hand after changing head_stages, from the repository root,

    /path/to/torch-venv/bin/python tests/golden/check_head_stages.py

It draws random float32 queries, keys and values (seed 20240611) and runs transformers' own
eager_attention_forward of Llama (grouped-query, causal), Mistral (sliding window), Gemma 2 (soft-capping,
query_pre_attn_scalar) and T5 (no scaling, position bias) next to attnviz's head_stages with float32 q, k, v
and dtype=None (float64 softmax), as the model code calls it, and both next to transformers in float64. Prints the
largest differences; exits 1 when attnviz and float32 transformers differ by more than 1e-5 in an attention
probability or an output value.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
from transformers.masking_utils import sliding_window_causal_mask_function
from transformers.models.gemma2 import modeling_gemma2
from transformers.models.llama import modeling_llama
from transformers.models.t5 import modeling_t5

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from attnviz import attention, positions  # noqa: E402  (attnviz from this checkout, numpy only)

SEED = 20240611
TOL_WEIGHTS, TOL_OUTPUT = 1e-5, 1e-5


def additive(mask: np.ndarray) -> torch.Tensor:
    """transformers' 4-d float mask: 0 where visible, the float32 minimum where hidden."""
    return torch.from_numpy(np.where(mask, 0.0, np.finfo(np.float32).min).astype(np.float32))[None, None]


def run(name, eager, rng, *, h, g, t, d, mask, scale, softcap=None, bias=None, std=1.0):
    q = (rng.standard_normal((1, h, t, d)) * std).astype(np.float32)  # (1, h, T, d_k)
    k = (rng.standard_normal((1, g, t, d)) * std).astype(np.float32)  # (1, g, S, d_k)
    v = rng.standard_normal((1, g, t, d)).astype(np.float32)  # (1, g, S, d_v)
    module = SimpleNamespace(num_key_value_groups=h // g, training=False, head_dim=d)
    kwargs = {"scaling": scale} | ({"softcap": softcap} if softcap is not None else {})
    results = {}
    for dt in (torch.float32, torch.float64):  # float32 as the models run; float64 as the reference
        extra = {} if bias is None else {"position_bias": torch.from_numpy(bias).to(dt)[None]}  # (1, h, T, S)
        hidden = None if mask is None else additive(mask).to(dt)
        with torch.no_grad():
            out, weights = eager(module, *(torch.from_numpy(a).to(dt) for a in (q, k, v)), hidden, **kwargs, **extra)
        results[dt] = weights[0].double().numpy(), out[0].transpose(0, 1).double().numpy()  # (h, T, S), (h, T, d_v)
    k_rep, v_rep = attention.repeat_kv(k[0], h // g), attention.repeat_kv(v[0], h // g)  # (h, S, d)
    ours = [attention.head_stages(q[0, i], k_rep[i], v_rep[i], mask, scale=scale, softcap=softcap,
                                  bias=None if bias is None else bias[i]) for i in range(h)]
    mine_w = np.stack([st.weights for st in ours])  # (h, T, S)
    mine_o = np.stack([st.output for st in ours])  # (h, T, d_v)
    (w32, o32), (w64, _) = results[torch.float32], results[torch.float64]
    dw, do = float(np.abs(mine_w - w32).max()), float(np.abs(mine_o - o32).max())
    print(f"{name:30s} attnviz − eager32: weights {dw:.1e} output {do:.1e}   |   vs eager64: attnviz "
          f"{np.abs(mine_w - w64).max():.1e}, eager32 {np.abs(w32 - w64).max():.1e} (weights)")
    return dw <= TOL_WEIGHTS and do <= TOL_OUTPUT


def main() -> None:
    torch.set_num_threads(1)
    rng = np.random.default_rng(SEED)
    t = 24
    causal = attention.causal_mask(t)
    window = 5
    sliding = sliding_window_causal_mask_function(window)
    zero, rows, cols = torch.tensor(0), torch.arange(t)[:, None], torch.arange(t)[None, :]
    want = sliding(zero, zero, rows, cols).numpy()  # (T, S)
    if not np.array_equal(want, attention.sliding_window_mask(t, window)):
        sys.exit("sliding_window_mask differs from transformers' sliding_window_causal_mask_function")
    table = rng.standard_normal((32, 4)).astype(np.float32)
    bias = positions.t5_position_bias(positions.relative_position_bucket(
        positions.relative_positions(t), True, 32, 128), table)  # (h, T, S)
    ok = all([
        run("llama, GQA 8/2, causal", modeling_llama.eager_attention_forward, rng, h=8, g=2, t=t, d=64,
            mask=causal, scale=64 ** -0.5),
        run("llama, GQA, large logits", modeling_llama.eager_attention_forward, rng, h=8, g=2, t=t, d=64,
            mask=causal, scale=64 ** -0.5, std=3.0),
        run("llama, no mask", modeling_llama.eager_attention_forward, rng, h=4, g=4, t=t, d=32, mask=None,
            scale=32 ** -0.5),
        run("mistral, sliding window 5", modeling_llama.eager_attention_forward, rng, h=4, g=1, t=t, d=32,
            mask=attention.sliding_window_mask(t, window), scale=32 ** -0.5),
        run("gemma2, softcap 50, q_pre 224", modeling_gemma2.eager_attention_forward, rng, h=4, g=2, t=t, d=64,
            mask=causal, scale=224 ** -0.5, softcap=50.0, std=4.0),
        run("t5, unscaled + position bias", modeling_t5.eager_attention_forward, rng, h=4, g=4, t=t, d=16,
            mask=None, scale=1.0, bias=bias),
    ])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
