"""attnviz.analysis: head scores, rollout, value norms and the lens on hand-built attention patterns (each
checked against a plain float64 loop), and on the tiny checkpoints (the lens's last layer against transformers)."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

from attnviz import analysis, probes
from attnviz.models import load_model

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
DECODERS = ("llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3", "phi3")


@functools.cache
def golden(name: str) -> dict[str, np.ndarray]:
    with np.load(ROOT / "tests" / "golden" / name, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


@functools.cache
def model(family: str):
    return load_model(FIXTURES / f"tiny-{family}")


def _previous_head(t: int) -> np.ndarray:
    a = np.zeros((t, t))
    a[0, 0] = 1.0
    a[np.arange(1, t), np.arange(t - 1)] = 1.0
    return a


def _causal_uniform(t: int) -> np.ndarray:
    return np.tril(np.ones((t, t))) / np.arange(1, t + 1)[:, None]


def _reference_scores(a: np.ndarray) -> dict[str, float]:
    """The definitions, one loop each, in float64."""
    t = len(a)
    ent = sum(-sum(a[i, j] * np.log(a[i, j]) for j in range(t) if a[i, j] > 0) for i in range(t)) / t
    return {"entropy": ent, "sink": sum(a[i, 0] for i in range(t)) / t,
            "previous": sum(a[i, i - 1] for i in range(1, t)) / (t - 1),
            "self": sum(a[i, i] for i in range(t)) / t,
            "distance": sum(a[i, j] * abs(i - j) for i in range(t) for j in range(t)) / t}


def test_hand_built_heads_score_as_their_definitions_say():
    t = 6
    uniform = np.full((t, t), 1 / t)
    sink = np.zeros((t, t))
    sink[:, 0] = 1.0
    weights = np.stack([np.stack([_previous_head(t), uniform, sink, np.eye(t)])])  # (1, 4, T, T)
    s = analysis.head_scores(weights)
    assert s["previous"][0, 0] == pytest.approx(1.0)
    assert s["entropy"][0, 1] == pytest.approx(np.log(t))  # ln T per row
    assert s["sink"][0, 2] == pytest.approx(1.0) and s["distance"][0, 2] == pytest.approx(np.mean(np.arange(t)))
    assert s["self"][0, 3] == pytest.approx(1.0) and s["entropy"][0, 3] == 0.0 and s["distance"][0, 3] == 0.0
    assert s["distance"][0, 0] == pytest.approx((t - 1) / t)  # every row but the first looks one back


def test_scores_equal_a_loop_on_random_rows():
    rng = np.random.default_rng(3)
    raw = rng.random((2, 3, 7, 7)) ** 4 * np.tril(np.ones((7, 7)))
    weights = raw / raw.sum(-1, keepdims=True)
    s = analysis.head_scores(weights)
    for layer in range(2):
        for h in range(3):
            ref = _reference_scores(weights[layer, h])
            for name, value in ref.items():
                assert s[name][layer, h] == pytest.approx(value, abs=1e-12), name


def test_induction_reads_the_token_after_the_previous_copy():
    n, start = 5, 1
    t = start + 2 * n + 1
    perfect = np.zeros((t, t))
    perfect[np.arange(t), np.arange(t)] = 1.0
    for i in range(start + n, start + 2 * n):
        perfect[i] = 0.0
        perfect[i, i - n + 1] = 1.0
    weights = np.stack([np.stack([perfect, _previous_head(t), _causal_uniform(t)])])  # (1, 3, T, T)
    got = analysis.induction_scores(weights, start, n)
    assert got[0, 0] == pytest.approx(1.0)
    assert got[0, 1] == 0.0  # a previous-token head looks at i − 1, never at i − n + 1
    want = np.mean([1 / (i + 1) for i in range(start + n, start + 2 * n)])
    assert got[0, 2] == pytest.approx(want)
    with pytest.raises(ValueError):
        analysis.induction_scores(weights, start, n + 1)


def test_rollout_is_the_product_of_half_residual_mixings():
    rng = np.random.default_rng(0)
    raw = rng.random((3, 2, 4, 4))
    weights = raw / raw.sum(-1, keepdims=True)
    r = analysis.rollout(weights)
    want = np.eye(4)
    for layer in range(3):
        m = 0.5 * weights[layer].mean(0) + 0.5 * np.eye(4)
        m = m / m.sum(-1, keepdims=True)
        want = m @ want
        np.testing.assert_allclose(r[layer], want, atol=1e-14)
    np.testing.assert_allclose(r.sum(-1), 1.0, atol=1e-12)


def test_rollout_of_identity_heads_is_identity_and_of_a_sink_flows_to_token_one():
    t = 5
    eye = np.broadcast_to(np.eye(t), (4, 2, t, t))
    np.testing.assert_allclose(analysis.rollout(eye)[-1], np.eye(t))
    sink = np.zeros((t, t))
    sink[:, 0] = 1.0
    r = analysis.rollout(np.broadcast_to(sink, (4, 1, t, t)))
    # each layer keeps half of what a token had and gives half to token 1: 1 − 2⁻ᴸ after L layers
    np.testing.assert_allclose(r[-1][1:, 0], 1 - 0.5 ** 4)


def test_value_norms_weigh_each_key_by_its_transformed_value_length():
    a = np.array([[[1.0, 0.0], [0.5, 0.5]]])  # (1, 2, 2)
    v = np.array([[[3.0, 4.0], [0.0, 1.0]]])  # (1, 2, d_v=2)
    w_o = np.eye(2)  # (h·d_v, d_model)
    np.testing.assert_allclose(analysis.value_norms(a, v, w_o)[0], [[5.0, 0.0], [2.5, 0.5]])
    # two heads: each head uses its own d_v rows of W_O
    a2 = np.stack([a[0], a[0]])
    v2 = np.stack([v[0], v[0]])
    w_o2 = np.vstack([np.eye(2), 2 * np.eye(2)])  # (4, 2)
    got = analysis.value_norms(a2, v2, w_o2)
    np.testing.assert_allclose(got[1], 2 * got[0])


@pytest.mark.parametrize("k", [0, 1, 3, 7, 40])
def test_top_ids_is_a_stable_argsort_of_the_top_k(k):
    rng = np.random.default_rng(3)
    p = rng.integers(0, 6, size=(9, 40)).astype(np.float64)  # many ties: the lower id must come first
    p[4] = 1.0  # a row of equal values
    want = np.argsort(-p, axis=-1, kind="stable")[:, :k]
    np.testing.assert_array_equal(analysis.top_ids(p, k), want)


def test_lens_layer_top_k_and_rank():
    logits = np.log(np.array([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3]]))
    lay = analysis.lens_layer(logits, 2, final_ids=np.array([0, 1]))
    assert lay.top_ids.tolist() == [[1, 2], [0, 2]]
    np.testing.assert_allclose(lay.top_p, [[0.6, 0.3], [0.5, 0.3]])
    np.testing.assert_allclose(lay.final_p, [0.1, 0.2])
    assert lay.final_rank.tolist() == [2, 2]


# --- the tiny checkpoints ---------------------------------------------------------------------------

@pytest.mark.parametrize("family", DECODERS)
def test_lens_last_layer_is_the_models_output_distribution(family):
    g = golden("decoders_golden.npz")
    result = probes.lens(model(family), str(g[f"{family}/mix/text"]), top=4)
    want = analysis.softmax(g[f"{family}/mix/logits"])  # (T, V) from transformers
    last = result.layers[-1]
    assert len(result.layers) == model(family).n_layers + 1
    np.testing.assert_allclose(last.top_p, np.take_along_axis(want, last.top_ids, -1), atol=1e-4)
    assert (last.top_ids[:, 0] == want.argmax(-1)).all()
    assert (last.final_rank == 0).all()


def test_lens_middle_layers_use_the_final_norm():
    m = model("llama")
    g = golden("decoders_golden.npz")
    text = str(g["llama/en/text"])
    result = probes.lens(m, text, top=3)
    hidden = g["llama/en/hidden_states"]  # (L + 1, T, d): transformers' (the last already final-normed)
    normed = m.arch.final_norm(m.tensors, hidden[1].astype(np.float32)).output
    want = analysis.softmax(m.arch.logits(m.tensors, normed))
    np.testing.assert_allclose(result.layers[1].top_p, np.take_along_axis(want, result.layers[1].top_ids, -1),
                               atol=1e-4)


def test_survey_of_a_checkpoint_equals_the_scores_of_its_golden_attentions():
    g = golden("decoders_golden.npz")
    text = str(g["qwen2/en/text"])
    result = probes.survey(model("qwen2"), text, n=6, seed=1)
    want = analysis.head_scores(g["qwen2/en/attentions"])  # transformers' probabilities (L, h, T, T)
    for name, grid in want.items():
        np.testing.assert_allclose(result.scores[name], grid, atol=1e-5)
    assert result.scores["induction"].shape == grid.shape
    assert ((result.scores["induction"] >= 0) & (result.scores["induction"] <= 1)).all()
    assert result.induction_n == 6 and len(result.induction_ids) >= 12


def test_induction_input_is_seeded_and_repeats_distinct_tokens():
    m = model("gpt2")
    ids, start = probes.induction_ids(m, 8, 4)
    again, _ = probes.induction_ids(m, 8, 4)
    np.testing.assert_array_equal(ids, again)
    seq = ids[start:start + 8]
    np.testing.assert_array_equal(ids[start + 8:start + 16], seq)
    assert len(set(seq.tolist())) == 8
    assert not np.array_equal(probes.induction_ids(m, 8, 5)[0], ids)


def test_rollout_of_a_checkpoint_uses_its_golden_attentions():
    g = golden("models_golden.npz")
    result = probes.rollout(model("bert"), str(g["tiny-bert/en/text"]))
    np.testing.assert_allclose(result.rollout, analysis.rollout(g["tiny-bert/en/attentions"]), atol=1e-5)


def test_value_norm_rollout_differs_from_attention_and_rows_sum_to_one():
    m = model("gpt2")
    plain = probes.rollout(m, "The cat sat on the mat")
    weighed = probes.rollout(m, "The cat sat on the mat", weigh="value-norm")
    np.testing.assert_allclose(weighed.attention_mix, plain.mix)
    np.testing.assert_allclose(weighed.rollout.sum(-1), 1.0, atol=1e-12)
    assert np.abs(weighed.mix - plain.mix).max() > 1e-3


@pytest.mark.parametrize("family", ["llama", "gemma2"])
def test_packed_induction_input_equals_a_run_of_its_own_for_rotary_models(family):
    m = model(family)
    result = probes.survey(m, "The cat sat on the mat", n=5, seed=2)
    ids, start = probes.induction_ids(m, 5, 2)
    alone = probes._packed(m, [ids])  # (L, h, T, T): the induction input by itself
    np.testing.assert_allclose(result.scores["induction"], analysis.induction_scores(alone, start, 5), atol=1e-5)
