"""Why √d_k, and softmax step by step: the numbers behave as the seeds say."""

import math

import numpy as np
import pytest

from attnviz.lessons import DEFAULT_DKS, scale_lesson, softmax_steps


def test_scale_lesson_spreads():
    lesson = scale_lesson(np.random.default_rng(0), n_keys=10, n_rows=400)
    assert [r.d_k for r in lesson.rows] == list(DEFAULT_DKS)
    for row in lesson.rows:
        assert row.std_dot == pytest.approx(math.sqrt(row.d_k), rel=0.1)  # q·k spreads like √d_k
        assert row.std_scaled == pytest.approx(1.0, rel=0.1)  # ÷√d_k brings it back to 1
        assert row.std_scaled == pytest.approx(row.std_dot / math.sqrt(row.d_k), rel=1e-12)
        assert 0 < row.entropy_raw <= math.log(10) and 0 < row.entropy_scaled <= math.log(10)
    raw = [r.max_weight_raw for r in lesson.rows]
    assert raw == sorted(raw) and raw[-1] > 0.9  # unscaled softmax saturates as d_k grows
    assert all(r.max_weight_scaled < 0.5 for r in lesson.rows)  # scaled does not
    assert lesson.rows[-1].entropy_raw < 0.2 < 1.5 < lesson.rows[-1].entropy_scaled


def test_scale_lesson_is_reproducible():
    a = scale_lesson(np.random.default_rng(5))
    b = scale_lesson(np.random.default_rng(5))
    assert a == b


def test_softmax_steps_on_the_seed_row():
    s = softmax_steps([10.5, 2.3, 6.1, 4.4, 9.7])
    exps = [math.exp(x - 10.5) for x in (10.5, 2.3, 6.1, 4.4, 9.7)]
    total = sum(exps)
    assert s.shifted.tolist() == pytest.approx([0.0, -8.2, -4.4, -6.1, -0.8])
    assert s.total == pytest.approx(total, rel=1e-15)
    assert s.probs.tolist() == pytest.approx([e / total for e in exps], rel=1e-14)
    assert round(float(s.probs[0]), 2) == 0.68 and round(float(s.probs[4]), 2) == 0.31


def test_scale_and_temperature_divide_the_scores():
    s = softmax_steps([2.0, 0.0], scale=2.0, temperature=0.5)
    assert s.logits.tolist() == [2.0, 0.0]
    assert s.probs[0] == pytest.approx(math.exp(2) / (math.exp(2) + 1))
    flat = softmax_steps([2.0, 0.0], temperature=100.0)
    assert flat.probs[0] == pytest.approx(0.5, abs=0.01)


def test_scale_lesson_matches_drawing_the_keys():
    # the dots are drawn as N(0, |q|²) given q: the same distribution as q·k with the keys drawn
    rng = np.random.default_rng(1)
    q = rng.standard_normal((2000, 16))
    k = rng.standard_normal((2000, 10, 16))
    from attnviz import attention

    explicit = np.einsum("rd,rnd->rn", q, k)  # (R, n)
    lesson = scale_lesson(np.random.default_rng(2), d_ks=(16,), n_keys=10, n_rows=2000)
    row = lesson.rows[0]
    assert row.std_dot == pytest.approx(explicit.std(), rel=0.03)
    assert row.max_weight_raw == pytest.approx(attention.softmax(explicit).max(axis=1).mean(), abs=0.02)
    assert row.entropy_scaled == pytest.approx(attention.entropy(attention.softmax(explicit / 4)).mean(), abs=0.03)


def test_scale_lesson_at_its_most_keys_is_small():
    import tracemalloc

    tracemalloc.start()
    lesson = scale_lesson(np.random.default_rng(0), n_keys=4096)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 200 * 2**20  # was 8 GB: the keys themselves are never drawn
    assert lesson.rows[-1].max_weight_raw > lesson.rows[0].max_weight_raw


@pytest.mark.parametrize("scale, temperature, message", [
    (float("nan"), 1.0, "--scale must be a positive, finite number"),
    (1.0, float("nan"), "--temperature must be a positive, finite number"),
    (1.0, float("inf"), "--temperature must be a positive, finite number"),  # used to write Infinity
    (float("inf"), 1.0, "--scale must be a positive, finite number"),
    (0.0, 1.0, "--scale must be a positive"),
    (-2.0, 1.0, "--scale must be a positive"),
    (1e200, 1e200, "--scale × --temperature"),
])
def test_softmax_refuses_scales_with_the_real_reason(scale, temperature, message):
    from attnviz.errors import InputError

    with pytest.raises(InputError, match=message) as info:
        softmax_steps([1.0, 2.0], scale=scale, temperature=temperature)
    assert "overflow" not in str(info.value) or "×" in message


@pytest.mark.parametrize("row, message", [
    ([1e308, -1e308], "too far apart"),  # finite logits whose max − min is not: −∞ after the shift
    ([1e308, 1.0], None),  # far apart, but max − min fits: exp gives exact 0 for the small one
    ([1e300], None),
    ([float("nan"), 1.0], "finite number"),
    ([float("-inf"), 1.0], "finite number"),
    ([], "1 to 4,096 scores"),
    ([0.0] * 4097, "1 to 4,096 scores"),
])
def test_softmax_rows_are_refused_or_exact(row, message):
    import warnings

    from attnviz.errors import InputError

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning either way
        if message is not None:
            with pytest.raises(InputError, match=message):
                softmax_steps(row)
            return
        s = softmax_steps(row)
    for stage in (s.logits, s.shifted, s.exp, s.probs):
        assert np.all(np.isfinite(stage))
    assert s.probs.sum() == pytest.approx(1.0) and s.probs[0] == pytest.approx(1.0)


def test_overflowing_logits_are_an_overflow():
    from attnviz.errors import InputError

    with pytest.raises(InputError, match="overflow float64: use smaller scores or a larger --scale"):
        softmax_steps([1e308, 1.0], scale=1e-6)
