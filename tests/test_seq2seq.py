"""Encoder–decoder checkpoints (T5, BART, mBART, Marian) against transformers' golden values
(tests/golden/README.md)."""

from pathlib import Path

import numpy as np
import pytest

from attnviz.errors import InputError, ModelError
from attnviz.models import load_model
from attnviz.models.encdec import (
    cross_traces,
    decoder_tokens,
    decoder_trace,
    encoder_trace,
    generate,
    source_tokens,
)

ROOT = Path(__file__).parent
GOLDEN = np.load(ROOT / "golden" / "seq2seq_golden.npz", allow_pickle=False)
CASES = sorted({k.rsplit("/", 1)[0] for k in GOLDEN.files if not k.startswith("meta/")})
# T5's unscaled scores (up to ±40 here) make float32 rounding matter: transformers in float64 differs from
# transformers in float32 (the golden) by up to 5.3e-5 in the decoder, so no float32 computation can be
# held to 1e-5 there (attnviz: 2.6e-5, its Q, K, V rounded once from float64 sums; 5.0e-5 when summed in
# float32). The encoder, and BART and Marian throughout, are held to 1e-5.
TOL = {"bart": (1e-5, 1e-5), "mbart": (1e-5, 1e-5), "marian": (1e-5, 1e-5), "t5": (1e-5, 6e-5)}


def _model(name: str):
    return load_model(ROOT / "fixtures" / f"tiny-{name}")


MODELS = {name: _model(name) for name in ("t5", "bart", "mbart", "marian")}


def _g(case: str, name: str):
    return GOLDEN[f"{case}/{name}"]


def _weights(traces) -> np.ndarray:
    return np.stack([[h.weights for h in t.heads] for t in traces])  # (L, h, T, S)


@pytest.mark.parametrize("case", CASES)
def test_ids_match_transformers(case):
    model = MODELS[case.split("/")[0]]
    src = source_tokens(model, str(_g(case, "source")))
    dec = decoder_tokens(model, str(_g(case, "target")))
    assert [t.id for t in src] == _g(case, "input_ids").tolist()
    assert [t.id for t in dec] == _g(case, "decoder_input_ids").tolist()


@pytest.mark.parametrize("case", CASES)
def test_every_attention_matches_transformers(case):
    name = case.split("/")[0]
    model, (enc_tol, dec_tol) = MODELS[name], TOL[name]
    source, target = str(_g(case, "source")), str(_g(case, "target"))
    enc = _weights([encoder_trace(model, source, i) for i in range(model.n_layers)])
    dec = _weights([decoder_trace(model, source, target, i) for i in range(model.arch.n_decoder_layers)])
    cross = _weights(cross_traces(model, source, target))
    assert enc.shape == _g(case, "encoder_attentions").shape
    assert np.abs(enc - _g(case, "encoder_attentions")).max() <= enc_tol
    assert np.abs(dec - _g(case, "decoder_attentions")).max() <= dec_tol
    assert np.abs(cross - _g(case, "cross_attentions")).max() <= dec_tol
    assert np.abs(dec[0] - _g(case, "decoder_attentions")[0]).max() <= 1e-5  # before float32 error piles up
    np.testing.assert_allclose(cross.sum(-1), 1, atol=1e-9)
    assert np.all(np.triu(dec, 1) == 0)  # the decoder is causal


@pytest.mark.parametrize("case", CASES)
def test_hidden_states_and_logits(case):
    model = MODELS[case.split("/")[0]]
    arch, tensors = model.arch, model.tensors
    enc = arch.encode(tensors, _g(case, "input_ids"))
    out = arch.decode(tensors, _g(case, "decoder_input_ids"), enc.hidden[-1])
    tol = 2e-4 if case.startswith("t5") else 1e-5  # relative to values up to 17
    assert np.abs(np.stack(enc.hidden) - _g(case, "encoder_hidden_states")).max() <= tol
    assert np.abs(np.stack(out.hidden) - _g(case, "decoder_hidden_states")).max() <= tol
    logits = arch.logits(tensors, out.hidden[-1])
    assert np.abs(logits[-1] - _g(case, "last_logits")).max() <= 1e-4
    if f"{case}/logits" in GOLDEN.files:
        assert np.abs(logits - _g(case, "logits")).max() <= 1e-4


@pytest.mark.parametrize("case", CASES)
def test_greedy_generation_equals_transformers_generate(case):
    model = MODELS[case.split("/")[0]]
    gen = generate(model, str(_g(case, "source")), 4)
    assert list(gen.ids) == _g(case, "generated").tolist()
    assert all(s.sampling.choice == s.top[0].id for s in gen.steps)
    assert gen.text == model.target.decode(gen.ids)


def test_t5_relative_bias_stage():
    model = MODELS["t5"]
    trace = encoder_trace(model, "고양이는 침대에서 잔다", 1)
    rel = trace.attention.relative
    assert trace.attention.scale == 1.0 and trace.attention.position_bias == "relative"
    assert rel.bidirectional and rel.table.shape == (8, 4)
    hd = trace.heads[2]
    np.testing.assert_array_equal(hd.bias, rel.table[rel.buckets, 2])
    np.testing.assert_allclose(hd.scaled, hd.scores)  # no ÷√d_k
    dec = decoder_trace(model, "고양이는 침대에서 잔다", "The cat", 0)
    assert not dec.attention.relative.bidirectional
    assert np.all(dec.attention.relative.buckets[np.triu_indices(len(dec.query_tokens), 1)] == 0)


def test_mbart_is_pre_norm_with_final_layer_norms():
    """The mBART fixture runs the pre-norm path (N before each sublayer, a final layer_norm after each stack):
    its goldens above would fail on BART's post-norm order, and its cases are in the golden file."""
    model = MODELS["mbart"]
    assert model.arch.encoder.norm_first and model.arch.decoder.norm_first
    assert not MODELS["bart"].arch.encoder.norm_first
    assert {"mbart/ko_en", "mbart/en_ko"} <= set(CASES)
    h = np.ones((2, 32), dtype=np.float32)
    assert model.arch.encoder.final_norm(model.tensors, h) is not None  # layer_norm after the stack
    assert model.arch.decoder.final_norm(model.tensors, h) is not None
    assert MODELS["bart"].arch.encoder.final_norm(MODELS["bart"].tensors, h) is None


def test_cross_trace_without_target_generates_the_queries():
    model = MODELS["marian"]
    (trace,) = cross_traces(model, "고양이는 침대에서 잔다", None, [1], steps=3)
    gen = generate(model, "고양이는 침대에서 잔다", 3)
    assert [t.id for t in trace.query_tokens] == [model.arch.decoder_start_id, *gen.ids]
    assert trace.kind == "cross" and trace.memory.shape == (len(trace.key_tokens), 32)


def test_errors():
    with pytest.raises(InputError, match="layers 0–1"):
        cross_traces(MODELS["bart"], "a", "b", [2])
    with pytest.raises(InputError, match="not an encoder–decoder"):
        cross_traces(load_model(ROOT / "fixtures" / "tiny-gpt2"), "a", "b")


def test_marian_without_sentencepiece_says_what_to_install(monkeypatch, tmp_path):
    import builtins
    import shutil

    folder = tmp_path / "m"
    shutil.copytree(ROOT / "fixtures" / "tiny-marian", folder)
    (folder / "tokenizer.json").unlink()  # opus-mt checkpoints ship no tokenizer.json
    real = builtins.__import__

    def no_spm(name, *args, **kwargs):
        if name == "sentencepiece":
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_spm)
    with pytest.raises(ModelError, match="pip install sentencepiece"):
        load_model(folder)
    monkeypatch.setattr(builtins, "__import__", real)
    assert [t.id for t in source_tokens(load_model(folder), "고양이 🐱")] == _g("marian/emoji", "input_ids").tolist()
