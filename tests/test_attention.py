"""The numpy core against hand-worked cases, a float64 loop reference, and properties."""

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from attnviz import attention
from attnviz.positions import sinusoidal


def reference_attention(q, k, v, mask=None):
    """Plain-Python float64 attention, one loop per index (no numpy vector maths)."""
    t, d_k = len(q), len(q[0])
    s = len(k)
    weights, output = [], []
    for i in range(t):
        scaled = []
        for j in range(s):
            dot = sum(q[i][c] * k[j][c] for c in range(d_k))
            scaled.append(dot / math.sqrt(d_k) if mask is None or mask[i][j] else -math.inf)
        top = max(scaled)
        exps = [0.0 if x == -math.inf else math.exp(x - top) for x in scaled]
        total = sum(exps)
        row = [e / total if total else 0.0 for e in exps]
        weights.append(row)
        output.append([sum(row[j] * v[j][c] for j in range(s)) for c in range(len(v[0]))])
    return np.array(weights), np.array(output)


def test_hand_worked_2x2():
    # Q·Kᵀ = [[4, 0], [0, 0]], d_k = 4 so ÷√d_k = ÷2 → [[2, 0], [0, 0]];
    # softmax row 1 = [e²/(e²+1), 1/(e²+1)] = [0.8807970779778823, 0.11920292202211755], row 2 = [½, ½]
    q = np.array([[1.0, 1, 1, 1], [1, -1, 1, -1]])
    k = np.array([[1.0, 1, 1, 1], [0, 0, 0, 0]])
    v = np.array([[1.0, 0], [0, 1]])
    scores, scaled, masked, weights, output = attention.attention_stages(q, k, v)
    assert scores.tolist() == [[4.0, 0.0], [0.0, 0.0]]
    assert scaled.tolist() == [[2.0, 0.0], [0.0, 0.0]]
    assert masked is None
    e2 = math.exp(2)
    assert weights[0, 0] == pytest.approx(e2 / (e2 + 1), abs=1e-15)
    assert weights[0, 1] == pytest.approx(1 / (e2 + 1), abs=1e-15)
    assert weights[1].tolist() == [0.5, 0.5]
    np.testing.assert_allclose(output, weights, atol=1e-15)  # V = identity


def test_hand_worked_3x3_causal():
    # every score equal: a causal row i spreads 1/(i+1) over keys 0..i and gives the future exactly 0
    q = np.ones((3, 4))
    k = np.ones((3, 4))
    v = np.array([[3.0], [6.0], [9.0]])
    mask = attention.causal_mask(3)
    assert mask.tolist() == [[True, False, False], [True, True, False], [True, True, True]]
    _, scaled, masked, weights, output = attention.attention_stages(q, k, v, mask)
    assert np.all(scaled == 2.0)
    assert masked[0, 1] == -np.inf and masked[0, 0] == 2.0
    np.testing.assert_allclose(weights, [[1, 0, 0], [0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3]], atol=1e-15)
    assert weights[0, 1] == 0.0 and weights[0, 2] == 0.0 and weights[1, 2] == 0.0
    np.testing.assert_allclose(output[:, 0], [3.0, 4.5, 6.0], atol=1e-14)


def test_seed_example_row():
    # the seed's scores 10.5, 2.3, 6.1, 4.4, 9.7 (unscaled) as a softmax row
    row = np.array([10.5, 2.3, 6.1, 4.4, 9.7])
    expect = np.exp(row) / np.exp(row).sum()
    np.testing.assert_allclose(attention.softmax(row), expect, rtol=1e-14)
    assert int(np.argmax(attention.softmax(row))) == 0


@settings(max_examples=60, deadline=None)
@given(
    t=st.integers(1, 6), s=st.integers(1, 6), d_k=st.integers(1, 5), d_v=st.integers(1, 4),
    data=st.data(),
)
def test_matches_float64_loop_reference(t, s, d_k, d_v, data):
    floats = st.floats(-5, 5, allow_nan=False)
    q = data.draw(hnp.arrays(np.float64, (t, d_k), elements=floats))
    k = data.draw(hnp.arrays(np.float64, (s, d_k), elements=floats))
    v = data.draw(hnp.arrays(np.float64, (s, d_v), elements=floats))
    mask = data.draw(hnp.arrays(bool, (t, s))) if data.draw(st.booleans()) else None
    _, _, _, weights, output = attention.attention_stages(q, k, v, mask)
    ref_w, ref_o = reference_attention(q.tolist(), k.tolist(), v.tolist(),
                                       None if mask is None else mask.tolist())
    np.testing.assert_allclose(weights, ref_w, atol=1e-12)
    np.testing.assert_allclose(output, ref_o, atol=1e-12)
    assert np.all(np.isfinite(weights)) and np.all(np.isfinite(output))
    visible = np.ones((t, s), bool) if mask is None else mask
    assert np.all(weights[~visible] == 0.0)
    sums = weights.sum(axis=1)
    has_key = visible.any(axis=1)
    np.testing.assert_allclose(sums[has_key], 1.0, atol=1e-12)
    assert np.all(sums[~has_key] == 0.0)  # a fully hidden row is zeros, never NaN


def test_softmax_is_stable_for_huge_scores():
    row = np.array([1e30, -1e30, 1e30, 0.0])
    w = attention.softmax(row)
    assert np.all(np.isfinite(w))
    np.testing.assert_allclose(w, [0.5, 0, 0.5, 0])


def test_fully_masked_row_is_zero_not_nan():
    w = attention.softmax(np.array([[-np.inf, -np.inf], [0.0, -np.inf]]))
    assert w.tolist() == [[0.0, 0.0], [1.0, 0.0]]


def test_positional_encoding_formula():
    p = sinusoidal(6, 8)
    assert p.shape == (6, 8)
    for pos in range(6):
        for i in range(4):
            angle = pos / 10000 ** (2 * i / 8)
            assert p[pos, 2 * i] == pytest.approx(math.sin(angle), abs=1e-15)
            assert p[pos, 2 * i + 1] == pytest.approx(math.cos(angle), abs=1e-15)
    assert sinusoidal(3, 5).shape == (3, 5)  # odd widths work too


def test_split_and_merge_heads_round_trip():
    x = np.arange(3 * 8, dtype=float).reshape(3, 8)
    heads = attention.split_heads(x, 2)
    assert heads.shape == (2, 3, 4)
    np.testing.assert_array_equal(heads[1], x[:, 4:])
    np.testing.assert_array_equal(attention.merge_heads(heads), x)


def test_padding_mask_and_entropy():
    m = attention.padding_mask(np.array([True, True, False]), 2)
    assert m.tolist() == [[True, True, False], [True, True, False]]
    assert attention.entropy(np.array([0.5, 0.5, 0.0])) == pytest.approx(math.log(2))
    assert attention.entropy(np.array([1.0, 0.0])) == 0.0


# ---------------------------------------------------------------- sliding window, soft-capping, GQA, head_stages

POSITIONS_GOLDEN = Path(__file__).parent / "golden" / "positions_golden.npz"


def test_sliding_window_by_hand():
    # window 2: each query sees itself and the one key before it; window 3: itself and two before
    assert attention.sliding_window_mask(5, 2).astype(int).tolist() == [
        [1, 0, 0, 0, 0],
        [1, 1, 0, 0, 0],
        [0, 1, 1, 0, 0],
        [0, 0, 1, 1, 0],
        [0, 0, 0, 1, 1],
    ]
    assert attention.sliding_window_mask(5, 3).astype(int).tolist() == [
        [1, 0, 0, 0, 0],
        [1, 1, 0, 0, 0],
        [1, 1, 1, 0, 0],
        [0, 1, 1, 1, 0],
        [0, 0, 1, 1, 1],
    ]
    # bidirectional (Gemma 3's variant): |i − j| < 2
    assert attention.sliding_window_mask(4, 2, causal=False).astype(int).tolist() == [
        [1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 1], [0, 0, 1, 1]]
    # 2 new queries after 3 cached keys sit at positions 3 and 4
    assert attention.sliding_window_mask(2, 2, 5).astype(int).tolist() == [[0, 0, 1, 1, 0], [0, 0, 0, 1, 1]]


@settings(max_examples=40, deadline=None)
@given(t=st.integers(1, 12), extra=st.integers(0, 5), window=st.integers(1, 20))
def test_sliding_window_properties(t, extra, window):
    s = t + extra
    mask = attention.sliding_window_mask(t, window, s)
    causal = attention.causal_mask(t, s)
    assert mask.shape == (t, s)
    assert np.all(mask[np.arange(t), np.arange(t) + extra])  # every query keeps its own key
    assert not np.any(mask & ~causal)  # never sees the future
    assert np.all(mask.sum(axis=1) == np.minimum(window, np.arange(t) + extra + 1))  # at most `window` keys
    if window >= s:
        np.testing.assert_array_equal(mask, causal)
    both = attention.sliding_window_mask(t, window, s, causal=False)
    assert np.all(both >= mask) and np.array_equal(both & causal, mask)


def test_sliding_window_matches_transformers_models():
    # which keys tiny Mistral/Qwen2/Qwen3/Phi-3/Gemma 2/Gemma 3 models attend to (transformers, eager)
    with np.load(POSITIONS_GOLDEN, allow_pickle=False) as data:
        g = {key: data[key] for key in data.files if key.startswith("mask/")}
    names = sorted({key.split("/")[1] for key in g})
    assert len(names) == 8
    for name in names:
        visible = g[f"mask/{name}/visible"]
        t, window, causal = visible.shape[0], int(g[f"mask/{name}/window"]), bool(g[f"mask/{name}/causal"])
        if bool(g[f"mask/{name}/sliding"]):
            want = attention.sliding_window_mask(t, window, causal=causal)
        else:
            want = attention.causal_mask(t)
        np.testing.assert_array_equal(visible, want, err_msg=name)


@pytest.mark.parametrize("window", [0, -1, 2.5, True])
def test_sliding_window_rejects_bad_windows(window):
    with pytest.raises(ValueError, match="sliding window"):
        attention.sliding_window_mask(4, window)


def test_softcap_by_hand_and_properties():
    assert attention.softcap(np.array(50.0), 50.0) == pytest.approx(50 * math.tanh(1), abs=1e-13)  # 38.0797…
    assert attention.softcap(np.array([0.0]), 30.0).tolist() == [0.0]
    x = np.linspace(-1000, 1000, 2001)
    y = attention.softcap(x, 50.0)
    assert np.all(np.abs(y) <= 50.0) and np.all(np.abs(y[np.abs(x) <= 250]) < 50.0)
    np.testing.assert_array_equal(y, -attention.softcap(-x, 50.0))  # odd
    assert np.all(np.diff(y) >= 0)  # never reorders scores
    small = np.linspace(-1, 1, 101)
    assert np.all(np.abs(attention.softcap(small, 50.0) - small) <= np.abs(small) ** 3 / (3 * 50.0**2) + 1e-16)
    assert attention.softcap(np.ones(3, np.float32), 30.0).dtype == np.float32
    with pytest.raises(ValueError, match="soft cap"):
        attention.softcap(x, 0.0)


def test_gqa_head_mapping_by_hand():
    assert [attention.kv_head_of(i, 8, 2) for i in range(8)] == [0, 0, 0, 0, 1, 1, 1, 1]
    assert [attention.kv_head_of(i, 4, 1) for i in range(4)] == [0, 0, 0, 0]  # multi-query
    assert [attention.kv_head_of(i, 4, 4) for i in range(4)] == [0, 1, 2, 3]  # multi-head
    assert attention.kv_groups(32, 8) == 4
    x = np.array([[[1.0]], [[2.0]]])  # (g 2, S 1, d 1)
    assert attention.repeat_kv(x, 3)[:, 0, 0].tolist() == [1.0, 1.0, 1.0, 2.0, 2.0, 2.0]
    assert attention.repeat_kv(np.zeros((5, 2, 3, 4)), 2).shape == (5, 4, 3, 4)  # (B, g, S, d) too


def test_gqa_each_query_head_reads_its_group():
    rng = np.random.default_rng(3)
    k = rng.standard_normal((2, 5, 4))  # (g, S, d_k)
    k_rep = attention.repeat_kv(k, 4)  # (h 8, S, d_k)
    for head in range(8):
        np.testing.assert_array_equal(k_rep[head], k[attention.kv_head_of(head, 8, 2)])
    np.testing.assert_array_equal(attention.repeat_kv(k, 1), k)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: attention.kv_groups(6, 4), "multiple"),
    (lambda: attention.kv_head_of(0, 6, 4), "multiple"),
    (lambda: attention.kv_head_of(8, 8, 2), "does not exist"),
    (lambda: attention.kv_groups(8, 0), "K/V heads"),
    (lambda: attention.repeat_kv(np.zeros((2, 3, 4)), 0), "n_rep"),
])
def test_gqa_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@settings(max_examples=40, deadline=None)
@given(t=st.integers(1, 6), s=st.integers(1, 6), d_k=st.integers(1, 5), seed=st.integers(0, 2**32 - 1),
       masked=st.booleans(), float32=st.booleans())
def test_head_stages_equals_attention_stages(t, s, d_k, seed, masked, float32):
    rng = np.random.default_rng(seed)
    q, k, v = rng.standard_normal((t, d_k)), rng.standard_normal((s, d_k)), rng.standard_normal((s, 3))
    mask = rng.random((t, s)) < 0.7 if masked else None
    dtype = np.float32 if float32 else None
    old = attention.attention_stages(q, k, v, mask, dtype=dtype)
    new = attention.head_stages(q, k, v, mask, dtype=dtype)
    for got, want in zip((new.scores, new.scaled, new.masked, new.weights, new.output), old):
        if want is None:
            assert got is None
        else:
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
    assert new.biased is None and new.capped is None


def test_head_stages_by_hand():
    # q·kᵀ = [2, 0]; × 0.5 → [1, 0]; + bias [0, 1] → [1, 1]; softcap 1 → [tanh 1, tanh 1]; softmax → [½, ½]
    q, k, v = np.array([[1.0, 0.0]]), np.array([[2.0, 0.0], [0.0, 0.0]]), np.array([[4.0], [8.0]])
    st_ = attention.head_stages(q, k, v, scale=0.5, bias=np.array([[0.0, 1.0]]), softcap=1.0)
    assert st_.scores.tolist() == [[2.0, 0.0]] and st_.scaled.tolist() == [[1.0, 0.0]]
    assert st_.biased.tolist() == [[1.0, 1.0]]
    np.testing.assert_allclose(st_.capped, [[math.tanh(1), math.tanh(1)]], atol=1e-15)
    assert st_.masked is None
    np.testing.assert_allclose(st_.weights, [[0.5, 0.5]], atol=1e-15)
    np.testing.assert_allclose(st_.output, [[6.0]], atol=1e-14)
    # masked after capping: the hidden key is −∞, the visible one the capped score
    masked = attention.head_stages(q, k, v, np.array([[True, False]]), scale=0.5, softcap=1.0)
    assert masked.masked[0, 1] == -np.inf and masked.masked[0, 0] == pytest.approx(math.tanh(1), abs=1e-15)
    assert masked.weights.tolist() == [[1.0, 0.0]]


def test_head_stages_t5_and_float32():
    rng = np.random.default_rng(4)
    q, k, v = rng.standard_normal((3, 4)), rng.standard_normal((5, 4)), rng.standard_normal((5, 2))
    bias = rng.standard_normal((3, 5))
    st_ = attention.head_stages(q, k, v, scale=1.0, bias=bias)  # T5: no scaling, position bias on the scores
    np.testing.assert_array_equal(st_.scaled, st_.scores)
    np.testing.assert_array_equal(st_.weights, attention.softmax(st_.scores + bias))
    f32 = attention.head_stages(q.astype(np.float32), k.astype(np.float32), v.astype(np.float32),
                                scale=4 ** -0.5, softcap=30.0)
    assert f32.scores.dtype == f32.scaled.dtype == f32.capped.dtype == np.float32
    assert f32.weights.dtype == np.float64  # the softmax in float64 unless dtype says otherwise
    np.testing.assert_allclose(f32.weights, attention.head_stages(q, k, v, softcap=30.0).weights, atol=1e-6)
