"""The alignment figure (cross --model --png): its title, caption and footer say which layer, one head or the
mean over the heads, and the formula as computed (T5 does not scale)."""

from pathlib import Path

import numpy as np
import pytest

from attnviz.models import load_model
from attnviz.models.encdec import cross_trace, encoder_trace
from attnviz.render import figure
from attnviz.render.figure.alignment import alignment_figure, formula, mean_heads

ROOT = Path(__file__).parent
SRC, TGT = "고양이는 침대에서 잔다", "The cat sleeps on the bed."
T5 = cross_trace(load_model(ROOT / "fixtures" / "tiny-t5"), SRC, TGT, 1)
BART = cross_trace(load_model(ROOT / "fixtures" / "tiny-bart"), SRC, TGT, 0)


def words(fig) -> str:
    return "\n".join(figure.labels(fig, "text"))


def test_mean_says_mean_over_the_heads_not_head_1_of_1():
    text = words(alignment_figure(BART, head=None))
    assert "mean over 4 heads of softmax(Q·Kᵀ / √d_k)" in text
    assert "of 1" not in text and "1/1" not in text
    assert "decoder layer 0 (0–1)" in text and "16 target × 10 source tokens" in text
    assert "Alignment · tiny-bart" in text and "--head H shows one" in text


def test_one_head_says_which():
    text = words(alignment_figure(T5, head=2))
    assert "head 3 of 4" in text and "decoder layer 1 (0–1)" in text and "mean over" not in text
    assert "softmax(Q·Kᵀ)  (not scaled, T5)" in text and "√d_k)" not in text  # no division is drawn
    assert "no position bias in cross-attention" in text


def test_korean_words():
    text = words(alignment_figure(T5, head=None, lang="ko"))
    assert "헤드 4개의 평균: softmax(Q·Kᵀ)  (스케일링 없음, T5)" in text
    assert "디코더 1층 (0–1)" in text and "목표 토큰 20개 × 원문 토큰 9개" in text and "정렬 · tiny-t5" in text


def test_the_mean_is_drawn():
    fig = alignment_figure(BART, head=None)
    (ax,) = [a for a in fig.axes if any(c.get_label() == "cells" for c in (*a.images, *a.collections))]
    (cells,) = [c for c in (*ax.images, *ax.collections) if c.get_label() == "cells"]
    want = np.mean([h.weights for h in BART.heads], axis=0)
    np.testing.assert_allclose(np.asarray(cells.get_array()).reshape(want.shape), want)
    np.testing.assert_allclose(mean_heads(BART).heads[0].weights.sum(-1), 1)


def test_formula_follows_the_trace():
    assert formula(BART) == ("softmax(Q·Kᵀ / √d_k)", False)
    assert formula(T5) == ("softmax(Q·Kᵀ)", True)
    t5_self = encoder_trace(load_model(ROOT / "fixtures" / "tiny-t5"), SRC, 0)
    assert formula(t5_self) == ("softmax(Q·Kᵀ + bias)", True)  # T5's self-attention: scores + bias, × 1


def test_only_cross_attention():
    from attnviz.errors import InputError

    t5_self = encoder_trace(load_model(ROOT / "fixtures" / "tiny-t5"), SRC, 0)
    with pytest.raises(InputError, match="cross-attention"):
        alignment_figure(t5_self)
