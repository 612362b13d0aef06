"""attnviz.positions: hand-worked RoPE and T5 cases, their properties, and transformers' values.

The transformers values are in tests/golden/positions_golden.npz, made by tests/golden/make_rope_golden.py in a
torch environment; these tests need numpy alone.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attnviz import positions
from attnviz.positions import (
    Rope,
    apply_rope,
    relative_position_bucket,
    relative_positions,
    rope_angles,
    rope_from_config,
    rope_inv_freq,
    rope_pairs,
    t5_position_bias,
)

GOLDEN = Path(__file__).parent / "golden" / "positions_golden.npz"
ULP32 = 2.0**-23  # float32's relative spacing


@functools.lru_cache(maxsize=1)
def golden() -> dict[str, np.ndarray]:
    with np.load(GOLDEN, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def rope_cases() -> list[str]:
    return sorted({key.split("/")[1] for key in golden() if key.startswith("rope/")})


def case(name: str):
    g = golden()

    def get(key: str) -> np.ndarray:
        return g[f"rope/{name}/{key}"]

    rope = rope_from_config(json.loads(str(get("config"))), int(get("head_dim")), local=bool(get("local")))
    return rope, get


def plain(inv_freq, head_dim: int | None = None) -> Rope:
    """A Rope with the given frequencies (rotary width 2·len)."""
    inv_freq = np.asarray(inv_freq, dtype=np.float64)
    return Rope(head_dim=head_dim or 2 * inv_freq.size, rotary_dim=2 * inv_freq.size, base=1.0, inv_freq=inv_freq)


# ---------------------------------------------------------------- hand-worked RoPE


def test_inv_freq_by_hand():
    # head_dim 4, base 10000: inv_freq = 1 / 10000^(0/4), 1 / 10000^(2/4) = 1, 0.01
    rope = rope_from_config({}, 4)
    assert (rope.head_dim, rope.rotary_dim, rope.base, rope.scaling) == (4, 4, 10000.0, "default")
    np.testing.assert_allclose(rope.inv_freq, [1.0, 0.01], rtol=ULP32)
    assert rope.attention_factor == 1.0
    linear = rope_from_config({"rope_scaling": {"type": "linear", "factor": 4.0}}, 4)  # legacy "type" key
    assert linear.scaling == "linear"
    np.testing.assert_allclose(linear.inv_freq, [0.25, 0.0025], rtol=ULP32)


@pytest.mark.parametrize("m", [0, 1, 2, 5, 37])
def test_2d_rotation_by_hand(m):
    # one pair, θ = m · 1: the half-split rotates (1, 0) to (cos m, sin m) and (0, 1) to (−sin m, cos m)
    rope = rope_from_config({}, 2)
    np.testing.assert_array_equal(rope.inv_freq, [1.0])
    angles = rope_angles(np.array([m]), rope, dtype=np.float64)
    assert angles.tolist() == [[float(m)]]
    np.testing.assert_allclose(apply_rope(np.array([[1.0, 0.0]]), angles), [[math.cos(m), math.sin(m)]], atol=1e-15)
    np.testing.assert_allclose(apply_rope(np.array([[0.0, 1.0]]), angles), [[-math.sin(m), math.cos(m)]], atol=1e-15)


def test_4d_half_split_and_interleaved_by_hand():
    # inv_freq (1, 0.1) at position 1: angles 1 and 0.1. Half-split pairs dims (0, 2) and (1, 3);
    # interleaved (GPT-J) pairs (0, 1) and (2, 3).
    rope = plain([1.0, 0.1])
    assert rope_pairs(rope) == [(0, 2), (1, 3)]
    assert rope_pairs(rope, interleaved=True) == [(0, 1), (2, 3)]
    a = rope_angles(np.array([1]), rope, dtype=np.float64)
    c1, s1, c2, s2 = math.cos(1), math.sin(1), math.cos(0.1), math.sin(0.1)
    x = np.array([[1.0, 2.0, 3.0, 4.0]])
    want = [1 * c1 - 3 * s1, 2 * c2 - 4 * s2, 3 * c1 + 1 * s1, 4 * c2 + 2 * s2]
    np.testing.assert_allclose(apply_rope(x, a)[0], want, atol=1e-15)
    want_interleaved = [1 * c1 - 2 * s1, 2 * c1 + 1 * s1, 3 * c2 - 4 * s2, 4 * c2 + 3 * s2]
    np.testing.assert_allclose(apply_rope(x, a, interleaved=True)[0], want_interleaved, atol=1e-15)


def test_position_zero_is_the_identity_and_attention_factor_scales():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 5, 8))  # (h, T, d_k)
    rope = rope_from_config({}, 8)
    np.testing.assert_array_equal(apply_rope(x, rope_angles(np.zeros(5, int), rope)), x)
    a = rope_angles(np.arange(5), rope)
    np.testing.assert_allclose(apply_rope(x, a, 1.5), 1.5 * apply_rope(x, a), rtol=0, atol=1e-14)


# ---------------------------------------------------------------- properties


@settings(max_examples=40, deadline=None)
@given(half=st.integers(1, 8), extra=st.integers(0, 6), t=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_rotation_preserves_norms_and_leaves_the_rest(half, extra, t, seed):
    rng = np.random.default_rng(seed)
    rope = plain(rng.random(half) * 2, head_dim=2 * half + extra)
    x = rng.standard_normal((2, t, 2 * half + extra))  # (h, T, d_k)
    a = rope_angles(rng.integers(0, 5000, t), rope, dtype=np.float64)
    for interleaved in (False, True):
        y = apply_rope(x, a, interleaved=interleaved)
        assert y.shape == x.shape
        np.testing.assert_allclose(np.linalg.norm(y, axis=-1), np.linalg.norm(x, axis=-1), rtol=1e-12)
        np.testing.assert_array_equal(y[..., 2 * half:], x[..., 2 * half:])  # partial rotary: untouched
        for i, j in rope_pairs(rope, interleaved=interleaved):  # each pair keeps its own length
            np.testing.assert_allclose(np.hypot(y[..., i], y[..., j]), np.hypot(x[..., i], x[..., j]), rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(m=st.integers(0, 500), n=st.integers(0, 500), c=st.integers(-500, 500), seed=st.integers(0, 2**32 - 1))
def test_score_depends_only_on_the_offset(m, n, c, seed):
    # q_m · k_n = q_{m+c} · k_{n+c}: RoPE encodes m − n, not m and n
    rng = np.random.default_rng(seed)
    rope = rope_from_config({"rope_theta": 10000.0}, 16)
    q, k = rng.standard_normal((2, 16))
    q, k = q / np.linalg.norm(q), k / np.linalg.norm(k)
    m, n = m + max(0, -c), n + max(0, -c)  # keep every position ≥ 0

    def score(pm, pn):
        a = rope_angles(np.array([pm, pn]), rope, dtype=np.float64)
        rotated = apply_rope(np.stack([q, k]), a)
        return float(rotated[0] @ rotated[1])

    assert score(m, n) == pytest.approx(score(m + c, n + c), abs=1e-12)
    assert score(m, m) == pytest.approx(float(q @ k), abs=1e-12)  # same position: no rotation left


def test_interleaved_is_the_half_split_with_dims_reordered():
    rng = np.random.default_rng(1)
    rope = plain(rng.random(4), head_dim=10)
    x = rng.standard_normal((6, 10))
    a = rope_angles(np.arange(6), rope)
    perm = [0, 4, 1, 5, 2, 6, 3, 7, 8, 9]  # half-split dim i ↔ interleaved 2i, i + r/2 ↔ 2i + 1
    np.testing.assert_allclose(apply_rope(x[:, perm], a, interleaved=True), apply_rope(x, a)[:, perm], atol=1e-15)


def test_float32_stays_float32_and_angles_are_rounded_like_torch():
    rope = rope_from_config({}, 8)
    a32 = rope_angles(np.array([0, 3, 4095]), rope)
    a64 = rope_angles(np.array([0, 3, 4095]), rope, dtype=np.float64)
    assert a32.dtype == np.float64 and np.array_equal(a32, a32.astype(np.float32))  # float32 values
    np.testing.assert_allclose(a32, a64, rtol=ULP32)
    assert apply_rope(np.ones((3, 8), np.float32), a32).dtype == np.float32
    assert apply_rope(np.ones((3, 8)), a32).dtype == np.float64
    with pytest.raises(ValueError, match="do not fit"):
        apply_rope(np.ones((3, 6)), a32)  # r = 8 > d_k = 6


# ---------------------------------------------------------------- scalings and config reading


def test_dynamic_changes_only_past_max_positions():
    rope = rope_from_config({"max_position_embeddings": 64, "rope_scaling": {"rope_type": "dynamic", "factor": 2.0}}, 8)
    assert rope.scaling == "dynamic" and rope.max_position_embeddings == 64
    np.testing.assert_array_equal(rope_inv_freq(rope, 64), rope.inv_freq)
    np.testing.assert_array_equal(rope.inv_freq, rope_from_config({}, 8).inv_freq)
    longer = rope_inv_freq(rope, 65)
    assert longer[0] == 1.0 and np.all(longer[1:] < rope.inv_freq[1:])  # a larger base: slower rotations
    assert np.all(rope_inv_freq(rope, 200)[1:] < longer[1:])


def test_longrope_switches_factors_past_the_original_length():
    config = {"max_position_embeddings": 131072, "original_max_position_embeddings": 4096,
              "rope_scaling": {"type": "longrope", "short_factor": [1.0, 2.0], "long_factor": [4.0, 8.0]}}
    rope = rope_from_config(config, 4)
    base = rope_from_config({}, 4).inv_freq
    np.testing.assert_allclose(rope.inv_freq, base / [1.0, 2.0], rtol=ULP32)
    np.testing.assert_array_equal(rope_inv_freq(rope, 4096), rope.inv_freq)
    np.testing.assert_allclose(rope_inv_freq(rope, 4097), base / [4.0, 8.0], rtol=ULP32)
    assert rope.attention_factor == pytest.approx(math.sqrt(1 + math.log(32) / math.log(4096)), rel=1e-15)


def test_gemma3_local_and_global_layers():
    config = {"rope_theta": 1000000.0, "rope_local_base_freq": 10000.0, "max_position_embeddings": 131072,
              "rope_scaling": {"factor": 8.0, "rope_type": "linear"}}
    global_rope, local_rope = rope_from_config(config, 4), rope_from_config(config, 4, local=True)
    assert (global_rope.base, global_rope.scaling, global_rope.factor) == (1e6, "linear", 8.0)
    assert (local_rope.base, local_rope.scaling) == (10000.0, "default")
    np.testing.assert_allclose(global_rope.inv_freq, [1 / 8, 1e-3 / 8], rtol=ULP32)
    np.testing.assert_allclose(local_rope.inv_freq, [1.0, 0.01], rtol=ULP32)
    other = rope_from_config(config | {"my_base": 5e5}, 4, base_key="my_base", local=True)
    assert other.base == 5e5


def test_partial_rotary_and_new_rope_parameters_layout():
    rope = rope_from_config({"partial_rotary_factor": 0.75, "rope_parameters": {"rope_type": "default",
                                                                                 "rope_theta": 500.0}}, 16)
    assert (rope.rotary_dim, rope.base, rope.inv_freq.shape) == (12, 500.0, (6,))
    assert rope_pairs(rope)[:2] == [(0, 6), (1, 7)]


@pytest.mark.parametrize(("config", "head_dim", "message"), [
    ({"rope_scaling": {"rope_type": "proportional"}}, 8, "rope_scaling.rope_type 'proportional' is not supported"),
    ({"rope_scaling": {"rope_type": "linear"}}, 8, "rope_scaling.factor is missing"),
    ({"rope_scaling": {"rope_type": "linear", "factor": -2}}, 8, "rope_scaling.factor must be a positive number"),
    ({"rope_scaling": {"type": "dynamic", "factor": "2"}}, 8, "rope_scaling.factor must be a positive number"),
    ({"rope_scaling": {"type": "dynamic", "factor": 2.0}}, 8, "max_position_embeddings is missing"),
    ({"rope_theta": "ten"}, 8, "rope_theta must be a positive number"),
    ({"rope_parameters": {"rope_theta": 0}}, 8, "rope_parameters.rope_theta must be a positive number"),
    ({"partial_rotary_factor": 1.5}, 8, "partial_rotary_factor must be in"),
    ({"partial_rotary_factor": 0.5}, 10, "must be even"),
    ({}, 1, "head_dim must be an integer"),
    ({"rope_scaling": [1, 2]}, 8, "rope_scaling must be an object"),
    ({"max_position_embeddings": 64, "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 4.0,
                                                      "high_freq_factor": 1.0}}, 8, "high_freq_factor"),
    ({"max_position_embeddings": 64, "rope_scaling": {"rope_type": "longrope", "short_factor": [1.0],
                                                      "long_factor": [1.0, 2.0]}}, 4,
     "short_factor must be a list of 2 "),
])
def test_bad_configs_name_the_key(config, head_dim, message):
    with pytest.raises(ValueError, match=message):
        rope_from_config(config, head_dim)


# ---------------------------------------------------------------- RoPE against transformers


def test_golden_covers_every_scaling():
    kinds = {case(name)[0].scaling for name in rope_cases()}
    assert kinds == set(positions.SCALINGS)
    assert str(golden()["meta/transformers_version"]).startswith("5.")


@pytest.mark.parametrize("name", rope_cases())
def test_inv_freq_and_attention_factor_match_transformers(name):
    # transformers' float32 pow (SLEEF) is within 1 ulp; here pow is correctly rounded: at most 2 ulp apart
    rope, get = case(name)
    positions_ = get("positions")
    ours_init = rope.inv_freq.astype(np.float32)
    ours = rope_inv_freq(rope, int(positions_.max()) + 1).astype(np.float32)
    assert ours_init.shape == get("init_inv_freq").shape and rope.rotary_dim == 2 * ours.size
    np.testing.assert_array_max_ulp(ours_init, get("init_inv_freq"), maxulp=2)
    np.testing.assert_array_max_ulp(ours, get("inv_freq"), maxulp=2)
    assert rope.attention_factor == pytest.approx(float(get("attention_factor")), rel=1e-15)


def test_inv_freq_mostly_bit_for_bit():
    same = total = 0
    for name in rope_cases():
        rope, get = case(name)
        same += int(np.sum(rope.inv_freq.astype(np.float32) == get("init_inv_freq")))
        total += rope.inv_freq.size
    assert same / total > 0.985, f"{same} of {total} inv_freq entries equal transformers'"  # 99.2% measured


@pytest.mark.parametrize("name", rope_cases())
def test_cos_sin_match_transformers(name):
    rope, get = case(name)
    pos = get("positions")
    # from transformers' own inv_freq: the same float32 angles, so cos/sin within float32 rounding
    exact = rope_angles(pos, plain(get("inv_freq").astype(np.float64)))
    factor = np.float32(get("attention_factor"))
    np.testing.assert_allclose(np.cos(exact).astype(np.float32) * factor, get("cos"), rtol=0, atol=2 * ULP32)
    np.testing.assert_allclose(np.sin(exact).astype(np.float32) * factor, get("sin"), rtol=0, atol=2 * ULP32)
    # from attnviz's inv_freq: the angle m · inv_freq carries the ≤ 2 ulp of inv_freq, times m
    ours = rope_angles(pos, rope)
    inv = get("inv_freq").astype(np.float64)
    tol = 2 * ULP32 + 3.5 * ULP32 * pos[:, None] * inv[None, :]  # (T, r/2)
    assert np.all(np.abs(np.cos(ours).astype(np.float32) * factor - get("cos")) <= tol)
    assert np.all(np.abs(np.sin(ours).astype(np.float32) * factor - get("sin")) <= tol)


@pytest.mark.parametrize("name", sorted({key.split("/")[1] for key in golden() if key.startswith("apply/")}))
def test_apply_rope_matches_transformers(name):
    _, get = case(name)
    x, want = golden()[f"apply/{name}/x"], golden()[f"apply/{name}/rotated"]
    angles = rope_angles(get("positions"), plain(get("inv_freq").astype(np.float64), head_dim=x.shape[-1]))
    got = apply_rope(x, angles, float(get("attention_factor")))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=0, atol=4 * ULP32 * np.abs(want).max())


# ---------------------------------------------------------------- T5


def test_relative_positions_by_hand():
    assert relative_positions(2, 3).tolist() == [[0, 1, 2], [-1, 0, 1]]
    assert relative_positions(1, 3, offset=2).tolist() == [[-2, -1, 0]]


def test_t5_buckets_by_hand():
    rel = np.array([0, 1, -1, 7, -7, 8, -8, 12, -12, 16, -16, 1000, -1000])
    # bidirectional, 32 buckets: 16 per side (keys after the query get +16), 8 exact, then log up to 128
    # 12 → 8 + ⌊ln(12/8) / ln(128/8) · 8⌋ = 8 + ⌊1.17⌋ = 9;  16 → 8 + ⌊ln 2 / ln 16 · 8⌋ = 8 + 2 = 10
    assert relative_position_bucket(rel, True, 32, 128).tolist() == [
        0, 17, 1, 23, 7, 24, 8, 25, 9, 26, 10, 31, 15]
    # unidirectional: later keys (offset > 0) all fall in bucket 0; 32 buckets on −offset, 16 exact
    # −16 → 16 + ⌊ln(16/16) …⌋ = 16;  −1000 → 31 (the last bucket)
    assert relative_position_bucket(rel, False, 32, 128).tolist() == [
        0, 0, 1, 0, 7, 0, 8, 0, 12, 0, 16, 0, 31]


@settings(max_examples=30, deadline=None)
@given(n=st.sampled_from([8, 16, 32, 64]), max_distance=st.integers(64, 300), bidirectional=st.booleans())
def test_t5_buckets_are_monotone_and_in_range(n, max_distance, bidirectional):
    distance = np.arange(0, 1000)
    for sign in (-1, 1):
        b = relative_position_bucket(sign * distance, bidirectional, n, max_distance)
        assert b.min() >= 0 and b.max() < n
        assert np.all(np.diff(b) >= 0)  # farther never lands in a nearer bucket
    if not bidirectional:
        assert np.all(relative_position_bucket(distance, False, n, max_distance) == 0)


def test_t5_buckets_match_transformers_bit_for_bit():
    g = golden()
    rel = g["t5/relative"]
    assert rel.tolist() == list(range(-300, 301))
    keys = sorted(key for key in g if key.startswith("t5/buckets/"))
    assert len(keys) == 8
    for key in keys:
        kind, n, max_distance = key.rsplit("/", 1)[1].split("_")
        got = relative_position_bucket(rel, kind == "bi", int(n), int(max_distance))
        np.testing.assert_array_equal(got, g[key], err_msg=key)


def test_t5_position_bias_by_hand_and_against_transformers():
    table = np.array([[0.0, 10.0], [1.0, 11.0], [2.0, 12.0]])  # (num_buckets 3, h 2)
    bias = t5_position_bias(np.array([[0, 1], [2, 0]]), table)
    assert bias.shape == (2, 2, 2)
    assert bias[0].tolist() == [[0.0, 1.0], [2.0, 0.0]] and bias[1].tolist() == [[10.0, 11.0], [12.0, 10.0]]
    g = golden()
    for name, bidirectional, offset in (("encoder", True, 0), ("decoder", False, 2)):
        buckets = relative_position_bucket(relative_positions(7, 9, offset), bidirectional, 32, 128)
        np.testing.assert_array_equal(t5_position_bias(buckets, g["t5/table"]), g[f"t5/bias/{name}"])
