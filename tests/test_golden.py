"""attnviz against reference values computed by PyTorch (tests/golden/attention_golden.npz).

The file is made by tests/golden/make_golden.py in a separate torch environment; these tests need
numpy alone. Every stage must agree with torch to TOL in float64.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

from attnviz.attention import attention_stages, causal_mask, softmax
from attnviz.positions import sinusoidal as positional_encoding
from attnviz.trace import project_heads
from attnviz.weights import Weights

GOLDEN = Path(__file__).parent / "golden" / "attention_golden.npz"
TOL = 1e-12

#: case -> causal; every case in the file, and only these.
CASES = {
    "single": False,  # one head, T = S = 5, d_model 8, d_k 4, plain torch ops + scaled_dot_product_attention
    "single_causal": True,  # the same inputs, is_causal=True
    "mha_h2": False,  # nn.MultiheadAttention, h 2, d_model 8
    "mha_h4": False,  # nn.MultiheadAttention, h 4, d_model 16
    "mha_h2_causal": True,  # nn.MultiheadAttention, h 2, d_model 8, causal attn_mask
    "cross_h2": False,  # nn.MultiheadAttention, T = 3 queries from x, S = 6 keys/values from memory
    "hard": False,  # scaled scores ≈ ±1024: naive exp() overflows / underflows
}
#: golden name -> HeadTrace field, for the per-head stages (stacked along a leading head axis).
HEAD_STAGES = {"q": "q", "k": "k", "v": "v", "scores": "scores", "scaled": "scaled", "masked": "masked",
               "weights": "weights", "head_output": "output"}


@functools.lru_cache(maxsize=1)
def golden() -> dict[str, np.ndarray]:
    with np.load(GOLDEN, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def case_data(case: str) -> dict[str, np.ndarray]:
    prefix = case + "/"
    return {key[len(prefix):]: val for key, val in golden().items() if key.startswith(prefix)}


def weights_of(g: dict[str, np.ndarray], case: str) -> Weights:
    return Weights(g["w_q"], g["w_k"], g["w_v"], g["w_o"], None, int(g["n_heads"]), None, f"golden {case}")


@functools.cache
def attnviz_run(case: str):
    """(heads, concat, output) from attnviz.trace.project_heads on the case's stored inputs."""
    g = case_data(case)
    memory = g.get("memory", g["x"])
    return project_heads(g["x"], memory, weights_of(g, case), g.get("mask"))


def assert_matches(what: str, got: np.ndarray, want: np.ndarray) -> None:
    """Same shape, the same ±inf cells, and every finite cell within TOL."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{what}: attnviz shape {got.shape}, torch shape {want.shape}"
    assert not np.isnan(got).any(), f"{what}: attnviz has NaN"
    inf_got, inf_want = np.isinf(got), np.isinf(want)
    assert np.array_equal(inf_got, inf_want), f"{what}: ±inf cells differ from torch"
    assert np.array_equal(got[inf_got], want[inf_want]), f"{what}: the signs of the infinite cells differ"
    diff = np.abs(np.where(inf_got, 0.0, got) - np.where(inf_want, 0.0, want))
    worst = np.unravel_index(np.argmax(diff), diff.shape) if diff.size else ()
    assert diff.size == 0 or diff.max() <= TOL, (
        f"{what}: max |attnviz − torch| = {diff.max():.3e} > {TOL:g} at {tuple(int(i) for i in worst)} "
        f"(attnviz {got[worst]!r}, torch {want[worst]!r})"
    )


def stage_params() -> list:
    params = []
    for case, causal in CASES.items():
        names = [s for s in HEAD_STAGES if causal or s != "masked"] + ["concat", "output"]
        params += [pytest.param(case, name, id=f"{case}-{name}") for name in names]
    return params


def test_file_holds_the_expected_cases_as_plain_arrays():
    data = golden()
    assert {key.split("/")[0] for key in data} == set(CASES) | {"pe", "meta"}
    for key, val in data.items():
        assert val.dtype.kind in "fbiU", f"{key}: dtype {val.dtype}"
        if val.dtype.kind == "f":
            assert val.dtype == np.float64, f"{key}: {val.dtype}, not float64"
    for case, causal in CASES.items():
        g = case_data(case)
        assert bool(g["causal"]) is causal
        assert ("mask" in g) is causal and ("masked" in g) is causal
    assert str(data["meta/torch_version"]).startswith("2.13.0")


@pytest.mark.parametrize("case, stage", stage_params())
def test_project_heads_matches_torch(case, stage):
    heads, concat, output = attnviz_run(case)
    want = case_data(case)[stage]
    if stage == "concat":
        got = concat
    elif stage == "output":
        assert output is not None, "W_O was given, so project_heads must return an output"
        got = output
    else:
        got = np.stack([getattr(hd, HEAD_STAGES[stage]) for hd in heads])  # (h, …)
    assert len(heads) == int(case_data(case)["n_heads"])
    assert_matches(f"{case} {stage}", got, want)


@pytest.mark.parametrize("case", CASES)
def test_attention_stages_on_torch_qkv(case):
    """attention_stages alone, fed torch's own per-head q, k, v (so projections cannot hide a difference)."""
    g = case_data(case)
    for i in range(int(g["n_heads"])):
        q, k, v = g["q"][i], g["k"][i], g["v"][i]
        scores, scaled, masked, weights, output = attention_stages(q, k, v, g.get("mask"))
        assert_matches(f"{case} head {i} scores", scores, g["scores"][i])
        assert_matches(f"{case} head {i} scaled", scaled, g["scaled"][i])
        if "mask" in g:
            assert_matches(f"{case} head {i} masked", masked, g["masked"][i])
        else:
            assert masked is None
        assert_matches(f"{case} head {i} weights", weights, g["weights"][i])
        assert_matches(f"{case} head {i} output", output, g["head_output"][i])


@pytest.mark.parametrize("case", [c for c, causal in CASES.items() if causal])
def test_causal_cells_are_exactly_zero(case):
    g = case_data(case)
    t_len, s_len = g["mask"].shape
    assert np.array_equal(causal_mask(t_len, s_len), g["mask"]), "attnviz's causal mask differs from torch's"
    hidden = ~g["mask"]
    assert hidden.any()
    heads, _, _ = attnviz_run(case)
    for i, hd in enumerate(heads):
        assert np.all(hd.weights[hidden] == 0.0), f"{case} head {i}: a hidden cell has a nonzero weight"
        assert np.all(hd.masked[hidden] == -np.inf), f"{case} head {i}: a hidden cell is not −inf"
        assert np.all(g["weights"][i][hidden] == 0.0), f"{case} head {i}: torch's hidden cell is nonzero"


def test_hard_case_overflows_naively_but_not_in_attnviz():
    g = case_data("hard")
    scaled = g["scaled"][0]
    assert np.abs(scaled).min() > 1000
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        naive = np.exp(scaled) / np.exp(scaled).sum(axis=-1, keepdims=True)
    assert not np.isfinite(naive).all(), "the case should defeat a softmax that does not subtract the max"
    weights = softmax(scaled)
    assert np.isfinite(weights).all()
    assert np.abs(weights.sum(axis=-1) - 1.0).max() <= TOL
    assert_matches("hard softmax(scaled)", weights, g["weights"][0])


def test_positional_encoding_matches_torch():
    want = golden()["pe/positions"]
    assert want.shape == (50, 16)
    assert_matches("positional_encoding(50, 16)", positional_encoding(50, 16), want)
