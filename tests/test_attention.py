"""The numpy core against hand-worked cases, a float64 loop reference, and properties."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from attnviz import attention


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
    p = attention.positional_encoding(6, 8)
    assert p.shape == (6, 8)
    for pos in range(6):
        for i in range(4):
            angle = pos / 10000 ** (2 * i / 8)
            assert p[pos, 2 * i] == pytest.approx(math.sin(angle), abs=1e-15)
            assert p[pos, 2 * i + 1] == pytest.approx(math.cos(angle), abs=1e-15)
    assert attention.positional_encoding(3, 5).shape == (3, 5)  # odd widths work too


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
