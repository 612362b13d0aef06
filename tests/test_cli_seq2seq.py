"""`cross`, `explain` and `flow` on encoder–decoder checkpoints, through typer's CliRunner."""

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from attnviz.cli import app

ROOT = Path(__file__).parent
FIX = ROOT / "fixtures"
GOLDEN = np.load(ROOT / "golden" / "seq2seq_golden.npz", allow_pickle=False)
runner = CliRunner()
SRC, TGT = "고양이는 침대에서 잔다", "The cat sleeps on the bed."


def run(*args):
    return runner.invoke(app, list(args), env={"COLUMNS": "80", "LANG": "C.UTF-8"})


def test_cross_model_json_is_the_golden_cross_attention():
    r = run("cross", SRC, TGT, "--model", str(FIX / "tiny-bart"), "--layer", "1", "--json", "-")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["format"] == "attnviz.trace/1" and doc["kind"] == "cross"
    assert [t["id"] for t in doc["query_tokens"]] == GOLDEN["bart/ko_en/decoder_input_ids"].tolist()
    assert [t["id"] for t in doc["key_tokens"]] == GOLDEN["bart/ko_en/input_ids"].tolist()
    weights = np.array([h["weights"] for h in doc["heads"]])
    assert np.abs(weights - GOLDEN["bart/ko_en/cross_attentions"][1]).max() <= 1e-5


def test_cross_model_t5_says_it_does_not_scale():
    r = run("cross", SRC, TGT, "--model", str(FIX / "tiny-t5"))
    assert r.exit_code == 0, r.output
    assert "No scaling (T5)" in r.stdout and "÷ √d_k" not in r.stdout


def test_cross_model_layer_all_and_alignment_png(tmp_path):
    r = run("cross", SRC, "--model", str(FIX / "tiny-marian"), "--layer", "all", "--steps", "2")
    assert r.exit_code == 0, r.output
    png = tmp_path / "a.png"
    r = run("cross", SRC, TGT, "--model", str(FIX / "tiny-marian"), "--mean", "--png", str(png))
    assert r.exit_code == 0, r.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cross_model_bad_layer_is_one_error_line():
    r = run("cross", SRC, TGT, "--model", str(FIX / "tiny-t5"), "--layer", "7")
    assert r.exit_code == 1 and r.stderr.startswith("Error: layer 7") and "Traceback" not in r.output


def test_explain_t5_shows_the_relative_bias_stage():
    r = run("explain", SRC, "--model", str(FIX / "tiny-t5"), "--layer", "1")
    assert r.exit_code == 0, r.output
    assert "Relative position bias (T5)" in r.stdout and "Encoder: keys after" in r.stdout
    r = run("explain", SRC, "--model", str(FIX / "tiny-t5"), "--decoder", TGT, "--json", "-")
    doc = json.loads(r.stdout)
    assert [t["id"] for t in doc["query_tokens"]] == GOLDEN["t5/ko_en/decoder_input_ids"].tolist()
    assert doc["causal"] is True


def test_flow_model_greedy_matches_generate():
    r = run("flow", SRC, "--model", str(FIX / "tiny-marian"), "--steps", "4", "--json", "-")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["ids"] == GOLDEN["marian/ko_en/generated"].tolist()
    r = run("flow", SRC, "--model", str(FIX / "tiny-t5"), "--steps", "3", "--sample", "top-k", "--seed", "3")
    again = run("flow", SRC, "--model", str(FIX / "tiny-t5"), "--steps", "3", "--sample", "top-k", "--seed", "3")
    assert r.exit_code == 0 and r.stdout == again.stdout and "Output:" in r.stdout
