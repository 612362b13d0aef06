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
