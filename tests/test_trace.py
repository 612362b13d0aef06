"""The self-attention trace: every stage present, consistent, and equal to a float64 recomputation."""

import numpy as np
import pytest

from attnviz import attention
from attnviz.errors import InputError
from attnviz.pipeline import make_weights, self_attention
from attnviz.positions import sinusoidal
from attnviz.tokens import Token
from attnviz.trace import MAX_TOKENS, self_attention_trace


def test_stages_recompute_from_their_inputs():
    tr = self_attention("고양이는 침대에서 잔다", seed=3, tokenizer="words")
    w = make_weights(seed=3)
    np.testing.assert_array_equal(tr.x, tr.embeddings + tr.positions)
    np.testing.assert_array_equal(tr.positions, sinusoidal(3, 8))
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


def test_padding_hides_pad_keys_and_pad_queries():
    tr = self_attention("고양이는 침대에서 잔다", pad_to=8)
    labels = [t.label for t in tr.query_tokens]
    assert labels[5:] == ["[PAD]"] * 3 and all(t.special for t in tr.query_tokens[5:])
    w = tr.heads[0].weights
    assert np.all(w[:, 5:] == 0.0)  # nobody attends to padding
    np.testing.assert_allclose(w[:5].sum(axis=1), 1.0, atol=1e-15)
    assert np.all(w[5:] == 0.0) and not np.isnan(w).any()  # [PAD] queries: every key hidden, zeros
    np.testing.assert_array_equal(tr.heads[0].output[5:], 0.0)


def test_padding_with_causal_combines_both():
    tr = self_attention("a b c", tokenizer="words", pad_to=5, causal=True)
    expect = np.tril(np.ones((5, 5), bool))
    expect[:, 3:] = False
    expect[3:, :] = False
    assert tr.heads[0].mask.tolist() == expect.tolist()


def test_pad_to_shorter_than_text_is_an_error():
    with pytest.raises(InputError, match="--pad-to 2"):
        self_attention("고양이는 침대에서 잔다", pad_to=2)


def test_padding_leaves_real_rows_of_a_causal_trace_unchanged():
    a = self_attention("a b c", tokenizer="words", causal=True)
    b = self_attention("a b c", tokenizer="words", causal=True, pad_to=6)
    np.testing.assert_allclose(b.heads[0].weights[:3, :3], a.heads[0].weights, atol=1e-15)


@pytest.mark.parametrize("h, d_model", [(1, 8), (2, 8), (4, 16)])
def test_merged_equals_separate_heads(h, d_model):
    a = self_attention("고양이는 침대에서 잔다", n_heads=h, d_model=d_model, d_k=d_model // h, split="merged")
    b = self_attention("고양이는 침대에서 잔다", n_heads=h, d_model=d_model, d_k=d_model // h, split="separate")
    for ha, hb in zip(a.heads, b.heads, strict=True):
        np.testing.assert_allclose(ha.weights, hb.weights, atol=1e-13)
        np.testing.assert_allclose(ha.q, hb.q, atol=1e-13)
    np.testing.assert_allclose(a.output, b.output, atol=1e-13)


def test_one_head_equals_explain_exactly():
    single = self_attention("고양이는 침대에서 잔다", d_k=4)
    multi = self_attention("고양이는 침대에서 잔다", d_k=4, n_heads=1, split="separate")
    np.testing.assert_array_equal(single.heads[0].weights, multi.heads[0].weights)
    np.testing.assert_array_equal(single.output, multi.output)


def test_each_head_is_single_head_attention_on_its_columns():
    from attnviz.trace import head_weights

    tr = self_attention("the cat sat on the mat", tokenizer="words", n_heads=4, d_model=8, d_k=2)
    w = make_weights(seed=0, d_model=8, d_k=2, n_heads=4)
    for i, hd in enumerate(tr.heads):
        w_q, w_k, w_v = head_weights(w, i)
        _, _, _, weights, out = attention.attention_stages(tr.x @ w_q, tr.x @ w_k, tr.x @ w_v)
        np.testing.assert_allclose(hd.weights, weights, atol=1e-14)
        np.testing.assert_allclose(hd.output, out, atol=1e-14)


def test_cross_attention_shapes_and_sources():
    from attnviz.pipeline import cross_attention

    tr = cross_attention("고양이는 침대에서 잔다", "고양이는")
    assert tr.kind == "cross"
    assert [t.label for t in tr.query_tokens] == ["<BOS>", "고양이", "는"]
    assert [t.label for t in tr.key_tokens] == ["고양이", "는", "침대", "에서", "잔다"]
    hd = tr.heads[0]
    assert hd.weights.shape == (3, 5) and hd.q.shape == (3, 4) and hd.k.shape == (5, 4)
    w = make_weights(seed=0)
    np.testing.assert_allclose(hd.k, tr.memory @ w.w_k, atol=1e-14)
    np.testing.assert_allclose(hd.q, tr.x @ w.w_q, atol=1e-14)
    np.testing.assert_allclose(hd.weights.sum(axis=1), 1.0, atol=1e-15)
    source = self_attention("고양이는 침대에서 잔다")
    np.testing.assert_array_equal(tr.memory, source.x)  # the encoder side is the source's X = E + P


def test_cross_attention_defaults_to_bos_alone():
    from attnviz.pipeline import cross_attention

    tr = cross_attention("고양이는 침대에서 잔다")
    assert [t.label for t in tr.query_tokens] == ["<BOS>"]
    assert tr.heads[0].weights.shape == (1, 5)
