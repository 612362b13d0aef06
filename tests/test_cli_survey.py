"""`attnviz survey`, `rollout` and `lens` on the tiny checkpoints: JSON formats, the terminal views at 80
columns, figures, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from attnviz import analysis
from attnviz.cli import app

FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOLDEN = Path(__file__).resolve().parent / "golden" / "decoders_golden.npz"
TEXT = "The cat sat on the mat"
runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(args), env={"COLUMNS": "80", "LANG": "C.UTF-8"})


def test_survey_json_holds_every_score_per_layer_and_head():
    res = run("survey", TEXT, "--model", str(FIXTURES / "tiny-llama"), "--repeat", "7", "--json", "-")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["format"] == "attnviz.survey/1" and doc["model"] == "tiny-llama"
    assert set(doc["scores"]) == set(analysis.SCORES)
    assert np.array(doc["scores"]["entropy"]).shape == (2, 4)
    assert doc["induction"]["n"] == 7 and len(doc["tokens"]) > 0
    assert all(0 <= v <= 1 for row in doc["scores"]["induction"] for v in row)


def test_survey_terminal_fits_80_columns_and_sorts():
    res = run("survey", TEXT, "--model", str(FIXTURES / "tiny-gpt2"), "--sort", "previous", "--top", "3")
    assert res.exit_code == 0, res.output
    assert max(len(line) for line in res.stdout.splitlines()) <= 80
    sorted_panel = res.stdout.split("highest previous")[1]
    names = [line.split()[1] for line in sorted_panel.splitlines() if line.strip("│ ").startswith("L")]
    assert len(names) == 3 and all(n.startswith("L") and ".H" in n for n in names)
    doc = json.loads(run("survey", TEXT, "--model", str(FIXTURES / "tiny-gpt2"), "--json", "-").stdout)
    grid = np.array(doc["scores"]["previous"])
    layer, head = divmod(int(np.argmax(grid)), grid.shape[1])
    assert names[0] == f"L{layer}.H{head + 1}"


def test_rollout_json_rows_sum_to_one_and_value_norm_keeps_attention_beside(tmp_path):
    png = tmp_path / "r.png"
    res = run("rollout", TEXT, "--model", str(FIXTURES / "tiny-bert"), "--weigh", "value-norm", "--layer", "0",
              "--json", str(tmp_path / "r.json"), "--png", str(png))
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["format"] == "attnviz.rollout/1" and doc["layer"] == 0 and doc["weigh"] == "value-norm"
    r = np.array(doc["rollout"])
    np.testing.assert_allclose(r.sum(-1), 1.0, atol=1e-9)
    assert np.array(doc["attention_mix"]).shape == r.shape
    assert png.stat().st_size > 0
    assert "value norm" in res.stdout


def test_lens_json_last_layer_is_the_models_output():
    res = run("lens", "--model", str(FIXTURES / "tiny-mistral"), "--top", "3", "--json", "-",
              str(np.load(GOLDEN, allow_pickle=False)["mistral/mix/text"]))
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["format"] == "attnviz.lens/1"
    want = analysis.softmax(np.load(GOLDEN, allow_pickle=False)["mistral/mix/logits"])
    last = doc["layers"][-1]
    for t, pos in enumerate(last["positions"]):
        assert [e["id"] for e in pos["top"]][0] == int(want[t].argmax())
        for e in pos["top"]:
            assert abs(e["p"] - want[t, e["id"]]) <= 1e-4
    assert [lay["layer"] for lay in doc["layers"]] == list(range(len(doc["layers"])))


def test_lens_terminal_and_figure(tmp_path):
    res = run("lens", TEXT, "--model", str(FIXTURES / "tiny-gpt2"), "--png", str(tmp_path / "l.png"))
    assert res.exit_code == 0, res.output
    assert "Logit lens" in res.stdout and (tmp_path / "l.png").exists()


def test_lens_on_an_encoder_is_one_error_line():
    res = run("lens", TEXT, "--model", str(FIXTURES / "tiny-bert"))
    assert res.exit_code == 1
    assert res.stderr.startswith("Error: ") and "decoder" in res.stderr and len(res.stderr.splitlines()) == 1


def test_survey_needs_a_model_and_rollout_a_real_layer(tmp_path):
    assert run("survey", TEXT).exit_code == 2
    res = run("rollout", TEXT, "--model", str(FIXTURES / "tiny-gpt2"), "--layer", "9", "--json",
              str(tmp_path / "x.json"))
    assert res.exit_code == 1 and "layer 9" in res.stderr
    assert not (tmp_path / "x.json").exists()
