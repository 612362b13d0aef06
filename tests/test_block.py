"""The transformer block (residual, LayerNorm, FFN), the encoder–decoder flow and sampling, their views
and JSON: hand-worked cases, an independent float64 reference, and properties."""

import json
import math

import numpy as np
import pytest
from console import fits, render
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from attnviz.block import block_from_text, decoder_block, encoder_block, init_block_params
from attnviz.errors import InputError
from attnviz.export import block_to_json, flow_to_json
from attnviz.flow import FLOW_VOCAB, SHAPE_NAMES, flow, shape_text
from attnviz.layers import BlockParams, erf, gelu, layer_norm, relu
from attnviz.layers import layer_norm_stages as norm_trace
from attnviz.pipeline import make_weights
from attnviz.render.terminal import View, block_view, flow_view
from attnviz.render.text import title
from attnviz.sampling import sample
from attnviz.tokens import tokenize
from attnviz.weights import init_weights

KO = "고양이는 침대에서 잔다"
EN = "The cat sat on the mat"
LANGS = ("en", "ko")


@pytest.fixture(scope="module")
def enc():
    return block_from_text(KO, make_weights(0))


@pytest.fixture(scope="module")
def dec():
    return block_from_text("고양이가 잔다", make_weights(0, n_heads=2, d_k=2), decoder=True, source=KO)


@pytest.fixture(scope="module")
def run():
    return flow(KO, steps=4, sample_method="top-k", k=5, seed=3)


# --- the math ------------------------------------------------------------------------------------

def test_erf_and_gelu_match_math_erf_on_a_grid():
    xs = np.linspace(-12, 12, 48001)
    want_erf = np.array([math.erf(x) for x in xs])
    want_gelu = np.array([0.5 * x * (1 + math.erf(x / math.sqrt(2))) for x in xs])
    assert np.max(np.abs(erf(xs) - want_erf)) <= 1e-7
    assert np.max(np.abs(gelu(xs) - want_gelu)) <= 1e-7
    assert erf(np.array([np.inf]))[0] == 1 and erf(np.array([-np.inf]))[0] == -1
    assert np.isnan(erf(np.array([np.nan]))[0])


def test_gelu_hand_values_and_relu():
    # GELU(1) = Φ(1) = 0.8413447460685429…, GELU(−1) = −(1 − Φ(1))
    np.testing.assert_allclose(gelu(np.array([0.0, 1.0, -1.0])), [0.0, 0.8413447460685429, -0.15865525393145707],
                               atol=1e-12)
    np.testing.assert_array_equal(relu(np.array([-2.0, 0.0, 3.0])), [0.0, 0.0, 3.0])


def test_layer_norm_hand_worked():
    x = np.array([[1.0, 2.0, 3.0, 4.0]])  # mean 2.5, variance (2.25 + .25 + .25 + 2.25) / 4 = 1.25
    n = norm_trace(x, np.ones(4), np.zeros(4), eps=1e-5)
    assert n.mean[0] == 2.5 and n.var[0] == 1.25
    np.testing.assert_allclose(n.output[0], (x[0] - 2.5) / math.sqrt(1.25 + 1e-5))
    gamma, beta = np.array([2.0, 1.0, 1.0, 1.0]), np.array([0.0, 0.0, 0.0, 1.0])
    np.testing.assert_allclose(layer_norm(x, gamma, beta, 1e-5), n.normed * gamma + beta)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(2, 16)),
                  elements=st.floats(-50, 50, allow_nan=False)))
def test_layer_norm_rows_have_mean_0_and_variance_1(x):
    n = norm_trace(x, np.ones(x.shape[1]), np.zeros(x.shape[1]))
    np.testing.assert_allclose(n.mean_after, 0, atol=1e-9)
    np.testing.assert_allclose(n.var_after, n.var / (n.var + n.eps), rtol=1e-9, atol=1e-12)  # 1 − ε / (σ² + ε)
    spread = n.var > 0.1  # a (near-)constant row has nothing to scale up: σ² stays ≈ 0
    np.testing.assert_allclose(n.var_after[spread], 1, atol=1e-4)


def test_block_params_are_seeded_and_rounded():
    a = init_block_params(np.random.default_rng(5), 8)
    b = init_block_params(np.random.default_rng(5), 8)
    np.testing.assert_array_equal(a.w1, b.w1)
    assert a.w1.shape == (8, 32) and a.w2.shape == (32, 8) and a.b1.shape == (32,) and a.b2.shape == (8,)
    np.testing.assert_array_equal(a.w1, np.round(a.w1, 2))
    assert len(a.gammas) == 2 and all((g == 1).all() for g in a.gammas) and all((b == 0).all() for b in a.betas)
    assert init_block_params(np.random.default_rng(5), 8, 12, n_norms=3).d_ff == 12
    with pytest.raises(InputError):
        init_block_params(np.random.default_rng(5), 8, activation="tanh")


# --- the encoder block ---------------------------------------------------------------------------

def reference_encoder_block(x, w, p: BlockParams):
    """An independent float64 encoder block: loops over heads and tokens, math.erf for GELU."""
    t, d_model = x.shape
    h, d_k = w.n_heads, w.d_k
    heads = []
    for i in range(h):
        q = x @ w.w_q[:, i * d_k:(i + 1) * d_k]
        k = x @ w.w_k[:, i * d_k:(i + 1) * d_k]
        v = x @ w.w_v[:, i * w.d_v:(i + 1) * w.d_v]
        out = np.zeros((t, w.d_v))
        for row in range(t):
            scores = [float(q[row] @ k[col]) / math.sqrt(d_k) for col in range(t)]
            top = max(scores)
            exps = [math.exp(s - top) for s in scores]
            weights = [e / sum(exps) for e in exps]
            out[row] = sum(weights[col] * v[col] for col in range(t))
        heads.append(out)
    attn = np.concatenate(heads, axis=1) @ w.w_o

    def norm(y, g, b):
        out = np.zeros_like(y)
        for row in range(y.shape[0]):
            mean = sum(y[row]) / d_model
            var = sum((y[row] - mean) ** 2) / d_model
            out[row] = (y[row] - mean) / math.sqrt(var + p.eps) * g + b
        return out

    a = norm(x + attn, p.gammas[0], p.betas[0])
    hidden = a @ p.w1 + p.b1
    act = np.vectorize(lambda z: 0.5 * z * (1 + math.erf(z / math.sqrt(2))))(hidden)
    return norm(a + act @ p.w2 + p.b2, p.gammas[1], p.betas[1])


@pytest.mark.parametrize("heads,d_k", [(1, 4), (2, 2), (4, 3)])
def test_encoder_block_equals_a_float64_reference(heads, d_k):
    w = make_weights(7, 8, d_k, heads)
    p = init_block_params(np.random.default_rng(1), 8, 16)
    p = BlockParams(p.w1, p.b1, p.w2, p.b2, (np.linspace(0.5, 1.5, 8), np.ones(8)),
                    (np.zeros(8), np.linspace(-0.1, 0.1, 8)), "gelu")  # γ, β not the defaults
    tokens = tokenize(EN)
    bt = encoder_block(tokens, w, p, seed=7)
    np.testing.assert_allclose(bt.output, reference_encoder_block(bt.x, w, p), atol=1e-10)


def test_encoder_block_stages_fit_together(enc):
    x = enc.x
    np.testing.assert_array_equal(enc.residual1, x + enc.attention.output)  # residual = input + sublayer
    np.testing.assert_array_equal(enc.norm1.input, enc.residual1)
    np.testing.assert_array_equal(enc.ffn.input, enc.norm1.output)
    np.testing.assert_array_equal(enc.residual2, enc.norm1.output + enc.ffn.output)
    np.testing.assert_array_equal(enc.output, enc.norm2.output)
    np.testing.assert_allclose(enc.ffn.activated, gelu(enc.ffn.hidden))
    np.testing.assert_allclose(enc.ffn.hidden, enc.norm1.output @ enc.params.w1 + enc.params.b1)
    for n in (enc.norm1, enc.norm2):
        np.testing.assert_allclose(n.mean_after, 0, atol=1e-12)
        np.testing.assert_allclose(n.var_after, 1, atol=1e-4)
    assert enc.attention.heads[0].mask is None and enc.ffn.hidden.shape == (5, 32)


def test_encoder_attention_is_the_explain_trace(enc):
    from attnviz.pipeline import self_attention

    tr = self_attention(KO)
    np.testing.assert_array_equal(enc.attention.heads[0].weights, tr.heads[0].weights)
    np.testing.assert_array_equal(enc.attention.output, tr.output)


def test_relu_block_and_given_x():
    w = make_weights(0)
    p = init_block_params(np.random.default_rng(0), 8, activation="relu")
    tokens = tokenize(EN)
    x = np.random.default_rng(1).standard_normal((len(tokens), 8))
    bt = encoder_block(tokens, w, p, x=x)
    np.testing.assert_array_equal(bt.x, x)
    np.testing.assert_array_equal(bt.attention.positions, 0)  # positions were added once, below
    np.testing.assert_array_equal(bt.ffn.activated, np.maximum(bt.ffn.hidden, 0))
    with pytest.raises(InputError):
        encoder_block(tokens, w, p, x=x[:2])


# --- the decoder block ---------------------------------------------------------------------------

def test_decoder_block_masks_and_cross_attends(dec):
    t = len(dec.self_attention.query_tokens)
    s = len(dec.cross_attention.key_tokens)
    assert dec.self_attention.query_tokens[0].label == "<BOS>" and (t, s) == (4, 5)
    for hd in dec.self_attention.heads:
        np.testing.assert_array_equal(hd.mask, np.tril(np.ones((t, t), dtype=bool)))
        assert np.all(hd.weights[np.triu_indices(t, 1)] == 0)
        np.testing.assert_allclose(hd.weights.sum(axis=1), 1)
    for hd in dec.cross_attention.heads:
        assert hd.weights.shape == (t, s) and hd.mask is None
    assert dec.cross_attention.output.shape == (t, 8)
    np.testing.assert_array_equal(dec.cross_attention.x, dec.norm1.output)  # Q from the LayerNorm above
    np.testing.assert_array_equal(dec.residual1, dec.x + dec.self_attention.output)
    np.testing.assert_array_equal(dec.residual2, dec.norm1.output + dec.cross_attention.output)
    np.testing.assert_array_equal(dec.residual3, dec.norm2.output + dec.ffn.output)
    np.testing.assert_array_equal(dec.output, dec.norm3.output)


def test_decoder_memory_is_the_source_encoder_output(dec):
    src = tokenize(KO)
    assert dec.memory.shape == (len(src), 8)
    # memory given: K and V come from it
    w = make_weights(0)
    p = init_block_params(np.random.default_rng(0), 8, n_norms=3)
    mem = np.random.default_rng(2).standard_normal((len(src), 8))
    cross_w = init_weights(np.random.default_rng(9), 8, 4, 1)
    bt = decoder_block(tokenize("잔다"), src, w, cross_w, p, memory=mem)
    np.testing.assert_array_equal(bt.memory, mem)
    np.testing.assert_allclose(bt.cross_attention.heads[0].k, mem @ cross_w.w_k)
    with pytest.raises(InputError):
        decoder_block(tokenize("잔다"), src, w, cross_w, init_block_params(np.random.default_rng(0), 8), memory=mem)


def test_decoder_needs_a_source():
    with pytest.raises(InputError, match="--source"):
        block_from_text("잔다", make_weights(0), decoder=True)


# --- sampling ------------------------------------------------------------------------------------

def test_greedy_is_the_argmax_whatever_the_temperature():
    logits = np.array([0.1, 2.0, -1.0, 1.9])
    for temp in (0.1, 1.0, 10.0):
        s = sample(logits, np.random.default_rng(0), "greedy", temperature=temp)
        assert s.choice == 1 and list(s.candidates) == [1]


@settings(max_examples=80, deadline=None)
@given(hnp.arrays(np.float64, st.integers(2, 40), elements=st.floats(-20, 20, allow_nan=False)),
       st.integers(1, 10), st.integers(0, 2**31), st.floats(0.2, 5))
def test_top_k_never_picks_outside_the_k_best(logits, k, seed, temp):
    s = sample(logits, np.random.default_rng(seed), "top-k", k=k, temperature=temp)
    kth = np.sort(logits)[::-1][min(k, len(logits)) - 1]
    assert logits[s.choice] >= kth
    assert len(s.candidates) == min(k, len(logits)) and s.choice in s.candidates
    np.testing.assert_allclose(s.renormalized.sum(), 1)


@settings(max_examples=80, deadline=None)
@given(hnp.arrays(np.float64, st.integers(2, 40), elements=st.floats(-20, 20, allow_nan=False)),
       st.floats(0.05, 1.0), st.integers(0, 2**31))
def test_top_p_picks_inside_the_nucleus(logits, p, seed):
    s = sample(logits, np.random.default_rng(seed), "top-p", p=p)
    held = s.probs[s.candidates]
    assert held.sum() >= p - 1e-9  # the nucleus holds at least p …
    assert held[:-1].sum() < p + 1e-9  # … and is the fewest tokens that do
    assert np.all(held[:-1] >= held[1:])  # most probable first
    assert held.min() >= np.delete(s.probs, s.candidates).max(initial=0)  # nothing better left out
    assert s.choice in s.candidates


def test_sampling_is_reproducible_and_follows_its_distribution():
    logits = np.array([2.0, 1.0, 0.5, 0.0, -1.0])
    a = [sample(logits, np.random.default_rng(11), "top-k", k=3).choice for _ in range(5)]
    b = [sample(logits, np.random.default_rng(11), "top-k", k=3).choice for _ in range(5)]
    assert a == b
    rng = np.random.default_rng(0)
    picks = np.array([sample(logits, rng, "top-k", k=3).choice for _ in range(4000)])
    assert set(picks) <= {0, 1, 2}
    top3 = np.exp(logits[:3]) / np.exp(logits[:3]).sum()
    np.testing.assert_allclose(np.bincount(picks, minlength=3)[:3] / 4000, top3, atol=0.03)


def test_temperature_sharpens_and_flattens():
    logits = np.array([3.0, 1.0, 0.2, -0.5, -2.0])
    ent = []
    for temp in (0.25, 0.5, 1.0, 2.0, 8.0):
        s = sample(logits, np.random.default_rng(0), "top-p", p=1.0, temperature=temp)
        np.testing.assert_allclose(s.scaled, logits / temp)
        assert list(np.argsort(-s.probs)) == [0, 1, 2, 3, 4]  # the order never changes
        ent.append(-np.sum(s.probs * np.log(s.probs)))
    assert ent == sorted(ent)  # a higher temperature, a flatter distribution
    cold = sample(logits, np.random.default_rng(0), "greedy", temperature=0.05).probs
    hot = sample(logits, np.random.default_rng(0), "greedy", temperature=1000.0).probs
    assert cold[0] > 0.999 and np.allclose(hot, 0.2, atol=0.01)


@pytest.mark.parametrize("kwargs", [dict(method="beam"), dict(temperature=0.0), dict(temperature=-1.0),
                                    dict(method="top-k", k=0), dict(method="top-p", p=0.0),
                                    dict(method="top-p", p=1.5)])
def test_bad_sampling_options_are_input_errors(kwargs):
    method = kwargs.pop("method", "greedy")
    with pytest.raises(InputError):
        sample(np.zeros(3), np.random.default_rng(0), method, **kwargs)


# --- the flow ------------------------------------------------------------------------------------

def test_flow_is_reproducible_with_a_seed(run):
    again = flow(KO, steps=4, sample_method="top-k", k=5, seed=3)
    assert again.output_ids == run.output_ids and flow_to_json(again) == flow_to_json(run)
    other = [flow(KO, steps=4, sample_method="top-k", k=5, seed=s).output_ids for s in range(4, 10)]
    assert any(o != run.output_ids for o in other)  # the seed matters


def test_flow_greedy_picks_the_argmax_every_step():
    ft = flow(KO, steps=3, n_layers=1)
    for step in ft.steps:
        assert step.sampling.choice == int(np.argmax(step.sampling.logits))
        assert step.top[0].index == step.sampling.choice and step.token.id == step.top[0].id


def test_flow_top_k_stays_in_the_k_best_for_many_seeds():
    for seed in range(12):
        ft = flow(EN, steps=2, n_layers=1, sample_method="top-k", k=3, seed=seed, temperature=2.0)
        for step in ft.steps:
            logits = step.sampling.logits
            assert logits[step.sampling.choice] >= np.sort(logits)[-3]


def test_flow_stages_fit_together(run):
    s = len(run.source_tokens)
    assert run.vocab == FLOW_VOCAB and len(run.vocab_labels) == FLOW_VOCAB and run.tokenizer_vocab == 12053
    assert min(run.vocab_ids) > 3  # <unk> <pad> <bos> <eos> left out
    np.testing.assert_array_equal(run.encoder[0].x, run.x)
    np.testing.assert_array_equal(run.encoder[1].x, run.encoder[0].output)  # block i+1 reads block i
    np.testing.assert_array_equal(run.memory, run.encoder[-1].output)
    for number, step in enumerate(run.steps, start=1):
        t = len(step.tokens)
        assert t == number and step.tokens[0].label == "<BOS>"
        assert [tk.id for tk in step.tokens[1:]] == list(run.output_ids[: number - 1])  # picks appended
        for blk in step.decoder:
            np.testing.assert_array_equal(blk.memory, run.memory)
            assert blk.cross_attention.heads[0].weights.shape == (t, s)
        np.testing.assert_array_equal(step.decoder[1].x, step.decoder[0].output)
        np.testing.assert_array_equal(step.hidden, step.decoder[-1].output[-1])
        np.testing.assert_allclose(step.sampling.logits, step.hidden @ run.w_out)
        np.testing.assert_allclose(step.sampling.probs.sum(), 1)
        assert [tp.prob for tp in step.top] == sorted((tp.prob for tp in step.top), reverse=True)
    assert run.output_text == "".join(s.token.piece for s in run.steps)


def test_flow_shapes_at_every_arrow(run):
    s, d, v = len(run.source_tokens), 8, FLOW_VOCAB
    assert [(x.stage, x.shape, x.layer) for x in run.shapes] == [
        ("ids", (s,), None), ("embeddings", (s, d), None), ("x", (s, d), None), ("encoder", (s, d), 1),
        ("encoder", (s, d), 2), ("memory", (s, d), None), ("bos", (1,), None), ("x", (1, d), None),
        ("decoder", (1, d), 1), ("decoder", (1, d), 2), ("last", (d,), None), ("logits", (v,), None),
        ("probs", (v,), None), ("token", (1,), None)]
    assert shape_text(run.shapes).startswith(f"({s},) ids → ({s}, 8) embeddings → ({s}, 8) + positions → ")
    assert shape_text(run.steps[2].shapes, SHAPE_NAMES).startswith("(3,) decoder ids → (3, 8) + positions")


def test_flow_options_are_checked():
    with pytest.raises(InputError):
        flow(KO, steps=0)
    with pytest.raises(InputError):
        flow(KO, n_layers=0)
    with pytest.raises(InputError, match="vocabulary"):
        flow(KO, tokenizer="words")
    ft = flow(KO, steps=1, n_layers=1, vocab=None, d_model=4, d_k=2, n_heads=2)
    assert ft.vocab == 12053 - 4 - 256  # every ordinary piece: no specials, no byte pieces


# --- views ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_encoder_block_view(enc, lang):
    out = render(block_view(enc, view=View(lang=lang)))
    fits(out)
    keys = [("block_encoder", {}), ("blk_attn", {"n": "①"}), ("blk_residual", {"n": "②", "f": "Attn"}),
            ("blk_norm", {"n": "②"}), ("blk_ffn", {"n": "③"}), ("blk_residual", {"n": "④", "f": "FFN"}),
            ("blk_norm", {"n": "④"}), ("blk_output", {})]
    positions = [out.index("[" + title(k, lang).format(**fmt) + "]") for k, fmt in keys]
    assert positions == sorted(positions) and out.count("↓") >= len(keys) - 1
    row = " ".join(f"{v:.2f}" for v in enc.residual1[0])  # x + Attn(x), first token
    assert row.split()[0] in out and "1.00" in out and "d_model → d_ff → d_model = 8 → 32 → 8" in out
    assert f"{enc.norm1.var[0]:.2f}" in out and f"{enc.norm1.mean[0]:.2f}".replace("-0.00", "0.00") in out


@pytest.mark.parametrize("lang", LANGS)
def test_decoder_block_view(dec, lang):
    out = render(block_view(dec, focus=1, view=View(lang=lang)))
    fits(out)
    keys = [("blk_masked", {"n": "①"}), ("blk_cross", {"n": "③"}), ("blk_ffn", {"n": "⑤"}), ("blk_norm", {"n": "⑥"})]
    positions = [out.index("[" + title(k, lang).format(**fmt) + "]") for k, fmt in keys]
    assert positions == sorted(positions)
    assert "T × S = 4 × 5" in out and "memory" in out and "Head 2" in out


def test_block_view_relu_and_narrow_console():
    bt = block_from_text(EN, make_weights(1), activation="relu", d_ff=12)
    out = render(block_view(bt, focus=2, view=View(width=60)), width=60)
    fits(out, 60)
    n_zero = int(np.sum(bt.ffn.activated[2] == 0))
    assert f"ReLU sets {n_zero} of 12 hidden units to 0" in out


@pytest.mark.parametrize("lang", LANGS)
def test_flow_view(run, lang):
    out = render(flow_view(run, view=View(lang=lang)))
    fits(out)
    keys = ["flow_input", "flow_tokenizer", "flow_transformer", "flow_embeddings", "flow_positions",
            "flow_encoders", "flow_decoder_input", "flow_decoders", "flow_logits", "flow_softmax", "flow_sampling",
            "flow_detokenize", "flow_shapes"]
    positions = [out.index("[" + title(k, lang).format(n=2) + "]") for k in keys]
    assert positions == sorted(positions)
    assert ("untrained" in out) if lang == "en" else ("학습되지 않았습니다" in out)
    assert "[41, 13, 56, 27, 84]" in out and "(5,) ids" in out and "(8,) · (8, 512) → (512,)" in out
    for step in run.steps:
        assert f"(id {step.token.id}, p = {100 * step.prob:.1f}%)" in out
        for tp in step.top:
            assert f"{100 * tp.prob:.1f}%" in out
    joined = " ".join(line.strip("│ ") for line in out.splitlines())
    assert "(5, 8) memory (K/V)" in joined or "(5, 8) memory (K/V)" in out


def test_flow_view_cuts_long_runs_unless_full():
    ft = flow(EN, steps=9, n_layers=1)
    out = render(flow_view(ft, view=View()))
    fits(out)
    assert "Step 9 · decoder input" in out and "Step 7 · decoder input" not in out and "steps 6–8" in out
    full = render(flow_view(ft, view=View(full=True)))
    assert "Step 7 · decoder input" in full and "step 5: (5,) decoder ids" in full


# --- JSON ----------------------------------------------------------------------------------------

def test_block_json(enc, dec):
    doc = json.loads(block_to_json(enc))
    assert doc["format"] == "attnviz.block/1" and doc["kind"] == "encoder"
    for key in ("x", "attention", "residual1", "norm1", "ffn", "residual2", "norm2", "output", "params"):
        assert key in doc
    assert doc["attention"]["format"] == "attnviz.trace/1"
    np.testing.assert_array_equal(np.asarray(doc["residual1"]), enc.residual1)
    np.testing.assert_array_equal(np.asarray(doc["norm1"]["var"]), enc.norm1.var)
    np.testing.assert_array_equal(np.asarray(doc["ffn"]["hidden"]), enc.ffn.hidden)
    assert set(doc["ffn"]) == {"activation", "input", "hidden", "activated", "output"}
    doc = json.loads(block_to_json(dec))
    assert doc["kind"] == "decoder"
    for key in ("self_attention", "cross_attention", "residual3", "norm3"):
        assert key in doc
    assert np.asarray(doc["cross_attention"]["heads"][0]["weights"]).shape == (4, 5)
    assert doc["self_attention"]["causal"] is True


def test_flow_json(run):
    text = flow_to_json(run)
    doc = json.loads(text)
    assert doc["format"] == "attnviz.flow/1" and doc["untrained"] is True
    for key in ("source_tokens", "settings", "vocab", "embeddings", "positions", "x", "encoder", "memory",
                "decoder_params", "w_out", "steps", "output_ids", "output_text", "shapes"):
        assert key in doc
    assert len(doc["encoder"]) == 2 and len(doc["steps"]) == 4
    step = doc["steps"][1]
    assert step["token"]["id"] == run.output_ids[1] and len(step["top"]) == 5
    np.testing.assert_array_equal(np.asarray(step["sampling"]["logits"]), run.steps[1].sampling.logits)
    assert step["sampling"]["choice"] in step["sampling"]["candidates"]
    assert doc["shapes"][0] == {"stage": "ids", "shape": [5], "layer": None}
    assert "Infinity" not in text and "NaN" not in text
