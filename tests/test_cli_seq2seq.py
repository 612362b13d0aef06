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


def test_heads_on_an_encoder_decoder_shows_the_encoder_and_with_cross_the_cross_attention():
    t5 = str(FIX / "tiny-t5")
    r = run("heads", SRC, "--model", str(FIX / "tiny-bart"), "--layer", "all", "--json", "-")
    assert r.exit_code == 0, r.output
    enc = np.array([[h["weights"] for h in d["heads"]] for d in json.loads(r.stdout)])
    assert np.abs(enc - GOLDEN["bart/ko_en/encoder_attentions"]).max() <= 1e-5  # the encoder's heads
    r = run("heads", SRC, "--model", t5, "--layer", "0", "--json", "-")
    assert "relative" in json.loads(r.stdout)["attention"]  # T5's bias stage travels with the trace
    r = run("heads", SRC, "--model", str(FIX / "tiny-bart"), "--cross", TGT, "--layer", "all", "--json", "-")
    assert r.exit_code == 0, r.output
    docs = json.loads(r.stdout)
    assert [d["kind"] for d in docs] == ["cross", "cross"]
    cross = np.array([[h["weights"] for h in d["heads"]] for d in docs])
    assert np.abs(cross - GOLDEN["bart/ko_en/cross_attentions"]).max() <= 1e-5
    r = run("heads", SRC, "--model", str(FIX / "tiny-bart"), "--decoder", TGT, "--layer", "1", "--json", "-")
    dec = np.array([h["weights"] for h in json.loads(r.stdout)["heads"]])
    assert np.abs(dec - GOLDEN["bart/ko_en/decoder_attentions"][1]).max() <= 1e-5
    r = run("heads", SRC, "--model", t5, "--layer", "all", "--cross", TGT)
    assert r.exit_code == 0 and "tiny-t5 · cross-attention" in r.stdout
    r = run("heads", SRC, "--model", t5, "--layer", "1", "--cross", TGT)
    assert r.exit_code == 0 and "Cross-attention × 4 heads" in r.stdout


def test_heads_cross_grid_png(tmp_path):
    png = tmp_path / "grid.png"
    r = run("heads", SRC, "--model", str(FIX / "tiny-mbart"), "--cross", TGT, "--layer", "all", "--png", str(png))
    assert r.exit_code == 0, r.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_heads_decoder_and_cross_errors_are_one_line():
    for args, says in ((("--cross", TGT), "give --model too"),
                       (("--model", str(FIX / "tiny-gpt2"), "--cross", TGT), "need an encoder–decoder"),
                       (("--model", str(FIX / "tiny-t5"), "--cross", TGT, "--decoder", TGT), "not both"),
                       (("--model", str(FIX / "tiny-t5"), "--causal"), "use --decoder TARGET")):
        r = run("heads", SRC, *args)
        assert r.exit_code == 1 and r.stderr.startswith("Error: ") and says in r.stderr, (args, r.output)
        assert r.stderr.count("\n") == 1 and "Traceback" not in r.output


def test_cross_model_json_is_streamed_as_export_builds_it():
    from attnviz.export import trace_to_json, traces_to_json
    from attnviz.models import load_model
    from attnviz.models.encdec import cross_traces

    folder = str(FIX / "tiny-marian")
    traces = cross_traces(load_model(folder), SRC, TGT)
    every = run("cross", SRC, TGT, "--model", folder, "--layer", "all", "--json", "-")
    assert every.exit_code == 0, every.output
    assert json.loads(every.stdout) == json.loads(traces_to_json(traces))
    one = run("cross", SRC, TGT, "--model", folder, "--layer", "1", "--json", "-")
    assert json.loads(one.stdout) == json.loads(trace_to_json(traces[1]))
