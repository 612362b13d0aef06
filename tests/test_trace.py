"""The self-attention trace: every stage present, consistent, and equal to a float64 recomputation."""

import numpy as np
import pytest

from attnviz import attention
from attnviz.errors import InputError
from attnviz.pipeline import make_weights, self_attention
from attnviz.tokens import Token
from attnviz.trace import MAX_TOKENS, self_attention_trace


def test_stages_recompute_from_their_inputs():
    tr = self_attention("고양이는 침대에서 잔다", seed=3, tokenizer="words")
    w = make_weights(seed=3)
    np.testing.assert_array_equal(tr.x, tr.embeddings + tr.positions)
    np.testing.assert_array_equal(tr.positions, attention.positional_encoding(3, 8))
    hd = tr.heads[0]
    np.testing.assert_allclose(hd.q, tr.x @ w.w_q, atol=1e-14)
    np.testing.assert_allclose(hd.k, tr.x @ w.w_k, atol=1e-14)
    np.testing.assert_allclose(hd.v, tr.x @ w.w_v, atol=1e-14)
    np.testing.assert_allclose(hd.scores, hd.q @ hd.k.T, atol=1e-14)
    np.testing.assert_allclose(hd.scaled, hd.scores / 2.0, atol=1e-14)  # √d_k = √4 = 2
    exp = np.exp(hd.scaled - hd.scaled.max(axis=1, keepdims=True))
    np.testing.assert_allclose(hd.weights, exp / exp.sum(axis=1, keepdims=True), atol=1e-15)
    np.testing.assert_allclose(hd.weights.sum(axis=1), 1.0, atol=1e-15)
    np.testing.assert_allclose(hd.output, hd.weights @ hd.v, atol=1e-14)
    np.testing.assert_allclose(tr.output, tr.concat @ w.w_o, atol=1e-14)
    assert hd.mask is None and hd.masked is None
    assert (tr.d_model, tr.d_k, tr.d_v, tr.n_heads, tr.seed) == (8, 4, 4, 1, 3)


def test_same_token_same_embedding_in_any_sentence():
    a = self_attention("고양이 잔다", tokenizer="words")
    b = self_attention("침대 위 고양이", tokenizer="words")
    np.testing.assert_array_equal(a.embeddings[0], b.embeddings[2])
    assert not np.array_equal(a.x[0], b.x[2])  # positions differ


def test_multi_head_concat_matches_heads():
    tr = self_attention("a b c d", tokenizer="words", d_model=8, d_k=2, n_heads=4)
    assert tr.n_heads == 4
    np.testing.assert_array_equal(tr.concat, np.concatenate([h.output for h in tr.heads], axis=1))


def test_causal_trace_hides_the_future():
    tr = self_attention("a b c", tokenizer="words", causal=True)
    hd = tr.heads[0]
    assert hd.mask.tolist() == attention.causal_mask(3).tolist()
    assert np.all(hd.weights[np.triu_indices(3, 1)] == 0.0)
    assert np.all(hd.masked[np.triu_indices(3, 1)] == -np.inf)


def test_single_token_and_limit():
    tr = self_attention("x", tokenizer="chars")
    assert tr.heads[0].weights.tolist() == [[1.0]]
    tokens = tuple(Token("a", "a", None, i, i + 1) for i in range(MAX_TOKENS + 1))
    with pytest.raises(InputError, match=f"at most {MAX_TOKENS}"):
        self_attention_trace(tokens, make_weights())


def test_empty_text_is_an_input_error():
    with pytest.raises(InputError, match="empty"):
        self_attention("   \n", tokenizer="words")
