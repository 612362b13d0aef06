"""Untrusted checkpoints (issue 13, round 2): config values of the wrong type or range, JSON nested too deep, a
broken Hugging Face cache ref, safetensors headers numpy cannot read, and NaN or huge weights — each one clear
ModelError naming the key, the tensor or the layer, never a traceback, a huge allocation, NaN or a warning."""

from __future__ import annotations

import json
import resource
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from attnviz.cli import app
from attnviz.errors import ModelError
from attnviz.models import load_model, model_trace

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def copy_fixture(tmp_path: Path, name: str = "tiny-bert") -> Path:
    folder = tmp_path / name
    shutil.copytree(FIXTURES / name, folder)
    return folder


def edit_config(folder: Path, **changes) -> None:
    path = folder / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    config.update(changes)
    path.write_text(json.dumps(config), encoding="utf-8")


def refused(folder: Path, pattern: str) -> str:
    """load_model's one-line error, which must match `pattern`."""
    with pytest.raises(ModelError, match=pattern) as raised:
        load_model(folder)
    assert "\n" not in str(raised.value)
    return str(raised.value)


# --------------------------------------------------------------------------------------------------------------
# config values: wrong type or range, each named by its key


@pytest.mark.parametrize("fixture, change, says", [
    ("tiny-bert", {"layer_norm_eps": "abc"}, "layer_norm_eps = 'abc' is not a positive number"),
    ("tiny-bert", {"layer_norm_eps": None}, "layer_norm_eps = null is not a positive number"),
    ("tiny-bert", {"layer_norm_eps": -1e-5}, "layer_norm_eps = -1e-05 is not a positive number"),
    ("tiny-gpt2", {"layer_norm_epsilon": float("nan")}, "layer_norm_epsilon = nan is not a positive number"),
    ("tiny-llama", {"rms_norm_eps": [1e-6]}, "rms_norm_eps = \\[1e-06\\] is not a positive number"),
    ("tiny-t5", {"layer_norm_epsilon": True}, "layer_norm_epsilon = True is not a positive number"),
    ("tiny-bert", {"hidden_act": ["gelu"]}, "hidden_act = \\['gelu'\\] is not the name of an activation"),
    ("tiny-gpt2", {"activation_function": {"a": 1}}, "activation_function = \\{'a': 1\\} is not the name"),
    ("tiny-distilbert", {"activation": 3}, "activation = 3 is not the name of an activation"),
    ("tiny-t5", {"feed_forward_proj": ["relu"]}, "feed_forward_proj = \\['relu'\\] is not a string"),
    ("tiny-bert", {"position_embedding_type": ["absolute"]}, "position_embedding_type = .* is not a string"),
    ("tiny-bert", {"num_attention_heads": True}, "num_attention_heads = True is not a positive integer"),
    ("tiny-bert", {"num_hidden_layers": 1e8}, "num_hidden_layers = 100000000.0 is not a positive integer"),
    ("tiny-gpt2", {"scale_attn_weights": "yes"}, "scale_attn_weights = 'yes' is not true or false"),
    ("tiny-bart", {"scale_embedding": 1}, "scale_embedding = 1 is not true or false"),
    ("tiny-qwen2", {"attention_bias": "no"}, "attention_bias = 'no' is not true or false"),
    ("tiny-gemma3", {"sliding_window_pattern": 0}, "sliding_window_pattern = 0 is not a positive integer"),
    ("tiny-qwen2", {"use_sliding_window": True, "sliding_window": 4, "max_window_layers": "x"},
     "max_window_layers = 'x' is not a layer count"),
    ("tiny-bert", {"model_type": ["bert"]}, "model_type = \\['bert'\\] is not a string; attnviz runs bert"),
])
def test_a_config_value_of_the_wrong_type_names_its_key(tmp_path, fixture, change, says):
    folder = copy_fixture(tmp_path, fixture)
    edit_config(folder, **change)
    refused(folder, f"config.json: {says}")


@pytest.mark.parametrize("fixture, key, value", [
    ("tiny-bert", "pad_token_id", -5),
    ("tiny-bert", "pad_token_id", 2**40),
    ("tiny-roberta", "pad_token_id", 10**6),
    ("tiny-gpt2", "pad_token_id", 2**40),
    ("tiny-gpt2", "eos_token_id", -1),
    ("tiny-gpt2", "pad_token_id", True),
    ("tiny-t5", "decoder_start_token_id", 2**40),
    ("tiny-t5", "pad_token_id", -1),
    ("tiny-bart", "eos_token_id", [2**40]),
    ("tiny-bart", "decoder_start_token_id", -7),
    ("tiny-marian", "decoder_start_token_id", 2**40),
    ("tiny-vit-gpt2", "decoder_start_token_id", 2**40),
])
def test_a_token_id_outside_the_vocabulary_is_refused_by_name(tmp_path, fixture, key, value):
    folder = copy_fixture(tmp_path, fixture)
    edit_config(folder, **{key: value})
    refused(folder, f"config.json: {key} = .* is not a token id of this model \\(0 … \\d+\\)")


def test_a_llama_pad_id_of_minus_one_is_ignored_as_released_configs_have_it(tmp_path):
    folder = copy_fixture(tmp_path, "tiny-llama")
    edit_config(folder, pad_token_id=-1)
    m = load_model(folder)
    assert 0 <= m.arch.pad_id < m.arch.vocab


def test_a_roberta_pad_id_past_the_position_table_says_so_instead_of_a_negative_limit(tmp_path):
    folder = copy_fixture(tmp_path, "tiny-roberta")
    edit_config(folder, pad_token_id=500)  # a token id of the model, but positions would start at 501 of 65
    message = refused(folder, "pad_token_id = 500 leaves no positions: RoBERTa counts positions from "
                              "pad_token_id \\+ 1 and max_position_embeddings is 65")
    assert "-" not in message.split("config.json")[-1].split("(")[0]  # no "reads at most -436"


@pytest.mark.parametrize("fixture, change, says", [
    ("tiny-bert", {"num_hidden_layers": 10**8}, "num_hidden_layers = 100000000 but model.safetensors holds only 37"),
    ("tiny-gpt2", {"n_layer": 10**8}, "n_layer = 100000000 but model.safetensors holds only"),
    ("tiny-llama", {"num_hidden_layers": 10**8}, "num_hidden_layers = 100000000 but"),
    ("tiny-t5", {"num_decoder_layers": 10**8}, "num_decoder_layers = 100000000 but"),
    ("tiny-bart", {"encoder_layers": 10**8}, "encoder_layers = 100000000 but"),
    ("tiny-vit", {"num_hidden_layers": 10**8}, "num_hidden_layers = 100000000 but"),
    ("tiny-llama", {"head_dim": 2**40}, "head_dim = 1099511627776 but no tensor of model.safetensors is that large"),
    ("tiny-gpt2", {"n_inner": 10**12}, "n_inner = 1000000000000 but no tensor"),
    ("tiny-t5", {"relative_attention_num_buckets": 2**40}, "relative_attention_num_buckets = .* but no tensor"),
])
def test_sizes_beyond_the_tensors_are_refused_before_anything_is_built(tmp_path, fixture, change, says):
    folder = copy_fixture(tmp_path, fixture)
    edit_config(folder, **change)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    refused(folder, f"config.json: {says}.*does not belong to these weights")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB: nothing huge allocated


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"a":' * 50_000 + "1" + "}" * 50_000])
def test_json_nested_too_deep_is_one_line(tmp_path, text):
    folder = copy_fixture(tmp_path)
    (folder / "config.json").write_text(text, encoding="utf-8")
    refused(folder, "config.json nests its JSON too deeply to be a real file: save the config again")


def test_the_cli_reports_a_bad_config_value_in_one_line(tmp_path):
    folder = copy_fixture(tmp_path)
    edit_config(folder, hidden_act=["gelu"])
    result = CliRunner().invoke(app, ["explain", "The cat", "--model", str(folder)])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "hidden_act = ['gelu'] is not the name" in result.output


def test_real_configs_still_load_and_run_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in ("tiny-bert", "tiny-roberta", "tiny-gpt2", "tiny-llama", "tiny-gemma2", "tiny-qwen2"):
            trace = model_trace(load_model(FIXTURES / name), "The cat sat", 0)
            assert np.isfinite(trace.heads[0].weights).all()


def test_a_deep_preprocessor_config_is_one_line(tmp_path):
    folder = copy_fixture(tmp_path, "tiny-vit")
    (folder / "preprocessor_config.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    from attnviz.models.vision import image_trace

    with pytest.raises(ModelError, match="preprocessor_config.json is not readable JSON \\(nested too deeply\\)"):
        image_trace(load_model(folder), FIXTURES / "images" / "rgba.png", 0)


def test_a_deep_marian_vocab_is_one_line(tmp_path):
    pytest.importorskip("sentencepiece")
    folder = copy_fixture(tmp_path, "tiny-marian")
    (folder / "vocab.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    refused(folder, "vocab.json is not readable \\(nested too deeply\\): save the tokenizer again")


# --------------------------------------------------------------------------------------------------------------
# the Hugging Face cache's refs/main


def cached(tmp_path: Path, monkeypatch, ref: bytes) -> Path:
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "cache" / "models--someone--tiny"
    shutil.copytree(FIXTURES / "tiny-bert", repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_bytes(ref)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    return repo / "snapshots" / commit


@pytest.mark.parametrize("ref", [b"\xff\xfe\x00garbage", b"../../../etc", b"", b"0123"])
def test_a_ref_that_is_not_a_commit_hash_is_one_line(tmp_path, monkeypatch, ref):
    cached(tmp_path, monkeypatch, ref)
    with pytest.raises(ModelError, match="refs/main does not hold a commit hash \\(40 hex digits\\): delete it and "
                                         "run again with --download") as raised:
        load_model("someone/tiny")
    assert "\n" not in str(raised.value)


def test_a_good_ref_still_resolves(tmp_path, monkeypatch):
    snapshot = cached(tmp_path, monkeypatch, b"0123456789abcdef0123456789abcdef01234567\n")
    assert load_model("someone/tiny").path == snapshot


# --------------------------------------------------------------------------------------------------------------
# safetensors headers


def with_header(folder: Path, edit) -> None:
    """Rewrite model.safetensors with its JSON header changed by `edit(header)` (the data left as it is)."""
    path = folder / "model.safetensors"
    data = path.read_bytes()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    edit(header)
    raw = json.dumps(header).encode()
    path.write_bytes(len(raw).to_bytes(8, "little") + raw + data[8 + n:])


def first_tensor(header: dict) -> dict:
    return header[next(k for k in header if k != "__metadata__")]


@pytest.mark.parametrize("dtype", ["F8_E4M3", "F8_E5M2", "F4", "C64"])
def test_a_dtype_numpy_lacks_is_named_in_one_line(tmp_path, dtype):
    folder = copy_fixture(tmp_path)
    with_header(folder, lambda h: first_tensor(h).update(dtype=dtype))
    refused(folder, f"tensor '.*' has dtype '{dtype}', which attnviz cannot read \\(it reads F64, F32, F16, BF16, "
                    ".*\\): save the model in float32, float16 or bfloat16")


@pytest.mark.parametrize("change", [
    {"shape": [-1, 32]}, {"shape": [2**62, 2**62]}, {"shape": [True, 32]}, {"shape": "32"},
    {"data_offsets": [-8, 0]}, {"data_offsets": [0, 2**70]}, {"data_offsets": [0.0, 4.0]}, {"data_offsets": [5]},
    {"dtype": ["F32"]}, {"dtype": None},
])
def test_a_header_entry_with_a_bad_shape_offsets_or_dtype_is_one_line(tmp_path, change):
    folder = copy_fixture(tmp_path)
    with_header(folder, lambda h: first_tensor(h).update(change))
    refused(folder, "not a valid safetensors file \\(the entry for '.*' is invalid or points past the end of the "
                    "file\\): it may be truncated or corrupt")


def test_a_deep_safetensors_header_is_one_line(tmp_path):
    folder = copy_fixture(tmp_path)
    raw = b"[" * 100_000 + b"]" * 100_000
    (folder / "model.safetensors").write_bytes(len(raw).to_bytes(8, "little") + raw)
    refused(folder, "not a valid safetensors file \\(its header is not JSON, or nests too deeply\\)")


# --------------------------------------------------------------------------------------------------------------
# NaN and huge weights: refused where the first non-finite stage appears, never shown, no RuntimeWarning


def poison(folder: Path, name: str, value: float, every: bool = False) -> None:
    """Set the first entry (or every entry) of float32/float16 tensor `name` of folder/model.safetensors to `value`."""
    path = folder / "model.safetensors"
    data = bytearray(path.read_bytes())
    n = int.from_bytes(data[:8], "little")
    entry = json.loads(data[8:8 + n])[name]
    begin, end = (8 + n + o for o in entry["data_offsets"])
    arr = np.frombuffer(bytes(data[begin:end]), dtype={"F32": "<f4", "F16": "<f2"}[entry["dtype"]]).copy()
    if every:
        arr[:] = value
    else:
        arr[0] = value
    data[begin:end] = arr.tobytes()
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("fixture, tensor, value, every, says", [
    ("tiny-bert", "encoder.layer.0.attention.self.query.weight", np.nan, False, "layer 0: attention.heads\\[0\\].q "),
    ("tiny-bert", "encoder.layer.0.attention.self.query.weight", 3e38, True, "layer 0: attention.heads\\[0\\].q "),
    ("tiny-bert", "encoder.layer.0.output.dense.weight", 3e38, True, "layer 0: ffn.output "),
    ("tiny-bert", "embeddings.word_embeddings.weight", np.nan, True, "the embeddings: the token embeddings E "),
    ("tiny-gpt2", "h.0.mlp.c_fc.weight", 3e38, True, "layer 0: ffn.hidden "),
    ("tiny-gpt2", "h.1.attn.c_attn.weight", np.inf, False, "layer 1: attention.heads\\[0\\].q "),
])
def test_nan_or_huge_weights_are_refused_naming_the_layer_and_stage(tmp_path, fixture, tensor, value, every, says):
    folder = copy_fixture(tmp_path, fixture)
    poison(folder, tensor, value, every)
    m = load_model(folder)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning on the way
        with pytest.raises(ModelError, match=f"{says}holds NaN or ±inf: the checkpoint's weights hold NaN") as raised:
            model_trace(m, "The cat sat on the mat", m.n_layers - 1)
    assert "\n" not in str(raised.value)


def test_a_nan_in_a_later_layer_does_not_stop_an_earlier_one(tmp_path):
    folder = copy_fixture(tmp_path)
    poison(folder, "encoder.layer.1.attention.self.key.weight", np.nan)
    m = load_model(folder)
    assert np.isfinite(model_trace(m, "The cat", 0).heads[0].weights).all()  # layer 1 is never read
    with pytest.raises(ModelError, match="layer 1: attention.heads\\[0\\].k holds NaN"):
        model_trace(m, "The cat", 1)


def test_a_nan_in_an_unread_embedding_row_is_caught_at_the_tied_lm_head(tmp_path):
    from attnviz.models import logits

    folder = copy_fixture(tmp_path, "tiny-gpt2")
    poison(folder, "wte.weight", np.nan)  # row 0: not a token of the text, but a column of the logits
    m = load_model(folder)
    assert 0 not in [t.id for t in m.tokenizer.encode("The cat")]
    assert np.isfinite(model_trace(m, "The cat", 1).heads[0].weights).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ModelError, match="the LM head: the logits holds NaN or ±inf"):
            logits(m, "The cat")


def test_an_encoder_decoder_with_a_nan_cross_attention_names_the_decoder_layer(tmp_path):
    from attnviz.models.encdec import cross_trace

    folder = copy_fixture(tmp_path, "tiny-bart")
    poison(folder, "model.decoder.layers.0.encoder_attn.k_proj.weight", np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ModelError, match="decoder layer 0: cross_attn\\.\\S+ holds NaN"):
            cross_trace(load_model(folder), "The cat sat", "Die Katze", 0)


def test_the_cli_refuses_a_nan_checkpoint_in_one_line_and_writes_no_json(tmp_path):
    folder = copy_fixture(tmp_path)
    poison(folder, "encoder.layer.0.attention.self.value.weight", np.nan)
    out = tmp_path / "t.json"
    result = CliRunner().invoke(app, ["explain", "The cat", "--model", str(folder), "--json", str(out)])
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "layer 0: attention.heads[0].v holds NaN" in result.output and not out.exists()
