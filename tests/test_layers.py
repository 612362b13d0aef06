"""attnviz.layers: norms, activations, FFNs and the residual sublayer — hand-worked cases and properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from attnviz.layers import (
    BlockParams,
    Norm,
    activation,
    ffn_trace,
    gelu,
    gelu_tanh,
    layer_norm_stages,
    quick_gelu,
    relu,
    rms_norm_stages,
    silu,
    sublayer,
)

ROWS = arrays(np.float64, (3, 6), elements=st.floats(-50, 50, allow_nan=False))


def test_rms_norm_by_hand():
    # x = (3, 4): mean square (9 + 16) / 2 = 12.5, RMS √12.5; with w = (1, 2) and ε = 0
    n = rms_norm_stages(np.array([[3.0, 4.0]]), np.array([1.0, 2.0]), eps=0.0)
    r = math.sqrt(12.5)
    np.testing.assert_allclose(n.var, [12.5])
    np.testing.assert_allclose(n.rms, [r])
    np.testing.assert_allclose(n.output, [[3 / r, 8 / r]])
    assert n.mean is None and n.beta is None and n.kind == "rms"


def test_gemma_rms_norm_scales_by_one_plus_w():
    x = np.array([[1.0, -2.0, 2.0]])
    plain = rms_norm_stages(x, np.zeros(3), eps=1e-6)  # Llama's form with w = 0 would zero everything
    gemma = rms_norm_stages(x, np.zeros(3), eps=1e-6, offset=1.0)  # Gemma's (1 + w) with w = 0 is the identity scale
    np.testing.assert_array_equal(plain.output, 0 * x)
    np.testing.assert_allclose(gemma.output, gemma.normed)
    np.testing.assert_allclose(gemma.scale, np.ones(3))


@settings(max_examples=50, deadline=None)
@given(ROWS)
def test_rms_norm_rows_have_rms_one(x):
    n = rms_norm_stages(x, np.ones(6), eps=1e-12)
    big = np.sqrt(np.mean(x**2, axis=1)) > 1e-3
    np.testing.assert_allclose(np.sqrt(np.mean(n.output[big] ** 2, axis=1)), 1.0, rtol=1e-6)


@settings(max_examples=50, deadline=None)
@given(ROWS)
def test_layer_norm_rows_have_mean_zero_and_variance_one(x):
    n = layer_norm_stages(x, np.ones(6), np.zeros(6), eps=1e-12)
    big = x.std(axis=1) > 1e-3
    np.testing.assert_allclose(n.output[big].mean(axis=1), 0.0, atol=1e-9)
    np.testing.assert_allclose(n.output[big].var(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(n.rms**2, np.mean(x**2, axis=1), rtol=1e-9, atol=1e-12)


def test_norms_keep_float32_and_float64():
    x = np.array([[1.0, 2.0, 4.0]])
    for norm in (Norm(np.ones(3)), Norm(np.ones(3), kind="rms")):
        assert norm(x.astype(np.float32)).output.dtype == np.float32
        assert norm(x).output.dtype == np.float64


def test_activations_by_hand():
    assert gelu(np.array([1.0]))[0] == pytest.approx(0.8413447460685429, abs=1e-15)  # Φ(1)
    assert silu(np.array([1.0]))[0] == pytest.approx(1 / (1 + math.exp(-1)), abs=1e-15)
    assert quick_gelu(np.array([1.0]))[0] == pytest.approx(1 / (1 + math.exp(-1.702)), abs=1e-15)
    np.testing.assert_array_equal(relu(np.array([-2.0, 0.0, 3.0])), [0.0, 0.0, 3.0])
    np.testing.assert_allclose(gelu_tanh(np.array([1.0])), gelu(np.array([1.0])), atol=2e-4)  # the tanh fit
    big = np.array([-1e4, 1e4], dtype=np.float32)
    with np.errstate(all="raise"):  # no overflow warning far out in either direction
        np.testing.assert_array_equal(silu(big), [0.0, 1e4])
        np.testing.assert_array_equal(quick_gelu(big), [0.0, 1e4])


def test_activation_registry_names_what_it_knows():
    assert activation("swish") is silu and activation("gelu_pytorch_tanh") is gelu_tanh
    with pytest.raises(ValueError, match="'swiglu' is not supported; attnviz knows gelu"):
        activation("swiglu")


def test_gated_ffn_equals_its_formula():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    w_gate, w_up, w_down = rng.standard_normal((4, 6)), rng.standard_normal((4, 6)), rng.standard_normal((6, 4))
    p = BlockParams(w_gate, None, w_down, None, (), (), "silu", w_up=w_up)
    f = ffn_trace(x, p)
    gate = x @ w_gate
    np.testing.assert_allclose(f.activated, gate / (1 + np.exp(-gate)), rtol=1e-12)
    np.testing.assert_allclose(f.up, x @ w_up)
    np.testing.assert_allclose(f.product, f.activated * f.up)
    np.testing.assert_allclose(f.output, f.product @ w_down, rtol=1e-12)
    assert f.gated and p.gated


def test_plain_ffn_equals_its_formula():
    rng = np.random.default_rng(1)
    x, w1, b1, w2, b2 = (rng.standard_normal(s) for s in ((2, 3), (3, 5), (5,), (5, 3), (3,)))
    f = ffn_trace(x, BlockParams(w1, b1, w2, b2, (), (), "relu"))
    np.testing.assert_allclose(f.output, np.maximum(x @ w1 + b1, 0) @ w2 + b2)
    assert not f.gated and f.up is None


def test_sublayer_pre_and_post_norm():
    x = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 4.0]])
    norm = Norm(np.ones(3), np.zeros(3))

    def double(y):
        return "f", 2 * y

    pre = sublayer(x, double, norm, norm_first=True)
    np.testing.assert_allclose(pre.output, x + 2 * norm(x).output)  # x + f(N(x))
    post = sublayer(x, double, norm, norm_first=False)
    np.testing.assert_allclose(post.output, norm(3 * x).output)  # N(x + f(x))
    sandwich = sublayer(x, double, norm, norm_first=True, post=norm)
    np.testing.assert_allclose(sandwich.output, x + norm(2 * norm(x).output).output)  # Gemma: x + N'(f(N(x)))
