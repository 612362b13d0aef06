"""The mask, heads, cross, scale and softmax commands through CliRunner: outputs, files, errors."""

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from attnviz.cli import app

runner = CliRunner()
SAMPLE = "samples/cat_on_bed.png"


def run(*args):
    return runner.invoke(app, list(args), env={"COLUMNS": "80", "LANG": "C.UTF-8"})


def ok(*args):
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result.stdout


def assert_error(result, fragment):
    assert result.exit_code == 1, result.output
    line = result.stderr.strip()
    assert "\n" not in line and line.startswith("Error: ") and fragment in line, result.stderr


def doc(*args):
    return json.loads(ok(*args, "--json", "-"))


def test_mask_causal():
    out = ok("mask", "--causal")
    assert out.count("○") >= 15 and out.count("×") >= 10 and "−∞" in out
    d = doc("mask", "--causal")
    m = np.asarray(d["heads"][0]["mask"])
    assert d["causal"] is True and m.tolist() == np.tril(np.ones((5, 5), bool)).tolist()
    w = np.asarray(d["heads"][0]["weights"])
    assert np.all(w[~m] == 0.0)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-15)


def test_mask_padding_has_no_nan():
    d = doc("mask", "--pad-to", "7")
    assert [t["label"] for t in d["query_tokens"]][-2:] == ["[PAD]", "[PAD]"]
    w = np.asarray(d["heads"][0]["weights"])
    assert not np.isnan(w).any() and np.all(w[5:] == 0) and np.all(w[:, 5:] == 0)
    assert "[PAD]" in ok("mask", "--pad-to", "7", "--causal")


def test_mask_without_flags_compares_encoder_and_decoder():
    out = ok("mask")
    assert out.count("○") > 15  # the all-○ encoder grid beside the causal one


def test_explain_causal():
    d = doc("explain", "--causal")
    assert d["causal"] is True and d["heads"][0]["mask"] is not None


def test_heads():
    d = doc("heads", "--heads", "4")
    assert d["n_heads"] == 4 and d["d_k"] == 2 and len(d["heads"]) == 4
    out = ok("heads", "--heads", "4")
    assert all(f"Head {i}" in out for i in range(1, 5))
    one = doc("heads", "--heads", "1", "--d-k", "4")
    ex = doc("explain")
    assert one["heads"][0]["weights"] == ex["heads"][0]["weights"]  # --heads 1 = explain, exactly
    assert one["output"] == ex["output"]


def test_heads_open_one_head_and_split():
    out = ok("heads", "--heads", "2", "--head", "2")
    assert "head 2 of 2" in out and "[Step 3 · Softmax]" in out
    merged = doc("heads", "--heads", "2", "--split", "merged")
    separate = doc("heads", "--heads", "2", "--split", "separate")
    np.testing.assert_allclose(np.asarray(merged["output"]), np.asarray(separate["output"]), atol=1e-13)
    assert ok("heads", "--heads", "2", "--split", "separate")


def test_heads_errors():
    assert_error(run("heads", "--heads", "3"), "does not split into 3 heads")
    assert_error(run("heads", "--heads", "2", "--head", "3"), "--head 3")
    assert run("heads", "--heads", "0").exit_code == 2


def test_cross():
    out = ok("cross")
    assert "<BOS>" in out and "Q1 · K5 →" in out
    d = doc("cross", "고양이는 침대에서 잔다", "고양이는")
    assert d["kind"] == "cross" and np.asarray(d["memory"]).shape == (5, 8)
    assert np.asarray(d["heads"][0]["weights"]).shape == (3, 5)


def test_cross_image():
    d = doc("cross", "고양이", "--image", SAMPLE, "--patches", "2x3")
    assert d["patch_grid"] == [2, 3] and d["image"] == SAMPLE
    assert [t["label"] for t in d["key_tokens"]] == [f"patch_{i}" for i in range(1, 7)]
    assert ok("cross", "고양이", "--image", SAMPLE)


def test_cross_image_errors(tmp_path):
    assert run("cross", "--image", SAMPLE, "--patches", "4by4").exit_code == 2
    assert_error(run("cross", "--image", str(tmp_path / "none.png")), "does not exist")
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    assert_error(run("cross", "--image", str(bad)), "not an image")


def test_scale():
    d = doc("scale", "--keys", "8")
    assert d["format"] == "attnviz.scale/1" and [r["d_k"] for r in d["rows"]] == [4, 16, 64, 256, 1024]
    out = ok("scale")
    assert "1024" in out


def test_softmax_default_is_the_seed_row():
    d = doc("softmax")
    exps = [math.exp(x) for x in (10.5, 2.3, 6.1, 4.4, 9.7)]
    np.testing.assert_allclose(d["probs"], [e / sum(exps) for e in exps], rtol=1e-14)
    assert "0.68" in ok("softmax")


def test_softmax_negative_scores_scale_and_temperature():
    d = doc("softmax", "-1", "2.5", "-3", "--scale", "2", "--temperature", "0.5")
    assert d["scores"] == [-1.0, 2.5, -3.0] and d["logits"] == [-1.0, 2.5, -3.0]
    assert_error(run("softmax", "1", "inf"), "finite")
    assert run("softmax", "1", "abc").exit_code == 2
    assert run("softmax", "1", "--temperature", "0").exit_code == 2


@pytest.mark.parametrize("command", [["mask", "--causal"], ["heads", "--heads", "2"], ["cross"],
                                     ["cross", "--image", SAMPLE], ["scale"], ["softmax"]])
@pytest.mark.parametrize("ext, magic", [("png", b"\x89PNG"), ("svg", b"<?xml"), ("pdf", b"%PDF")])
def test_every_view_saves_figures(tmp_path, command, ext, magic):
    path = tmp_path / f"view.{ext}"
    ok(*command, "--png", str(path), "--dpi", "50", "--lang", "ko", "--theme", "dark")
    assert path.read_bytes().startswith(magic)


@pytest.mark.parametrize("command, name", [(["mask", "--causal"], "mask.png"), (["heads"], "heads.png"),
                                           (["cross"], "cross.png"), (["scale"], "scale.png"),
                                           (["softmax"], "softmax.png")])
def test_out_dir_holds_the_view_figure(tmp_path, command, name):
    ok(*command, "--out-dir", str(tmp_path / "figs"), "--dpi", "50")
    names = {p.name for p in (tmp_path / "figs").iterdir()}
    assert name in names
    if command[0] in ("mask", "heads", "cross"):
        assert "07-softmax.png" in names


def test_softmax_overflow_is_an_error():
    assert_error(run("softmax", "1e300", "1", "--scale", "1e-6", "--temperature", "1e-6"), "overflow")


def test_block_encoder_and_decoder():
    d = doc("block")
    assert d["format"] == "attnviz.block/1"
    out = ok("block", "--activation", "relu", "--d-ff", "16")
    assert "LayerNorm" in out
    dec = ok("block", "고양이는", "--decoder", "--source", "고양이는 침대에서 잔다")
    assert "<BOS>" in dec
    assert_error(run("block", "--decoder"), "--source")


def test_block_figures(tmp_path):
    ok("block", "--png", str(tmp_path / "b.png"), "--out-dir", str(tmp_path / "figs"), "--dpi", "50")
    assert (tmp_path / "b.png").is_file() and (tmp_path / "figs" / "block.png").is_file()


@pytest.mark.parametrize("args", [[], ["--sample", "top-k", "--k", "3"], ["--sample", "top-p", "--p", "0.5"],
                                  ["--temperature", "2"]])
def test_flow(args):
    a = doc("flow", "--steps", "2", "--layers", "1", *args)
    b = doc("flow", "--steps", "2", "--layers", "1", *args)
    assert a == b  # a fixed seed samples the same tokens
    assert a["format"] == "attnviz.flow/1" and len(a["steps"]) == 2
    assert "untrained" in ok("flow", "--steps", "1")


def test_flow_figures_and_limits(tmp_path):
    ok("flow", "--steps", "2", "--out-dir", str(tmp_path / "f"), "--dpi", "50")
    assert sorted(p.name for p in (tmp_path / "f").iterdir()) == [
        "step1-cross.png", "step1-self.png", "step2-cross.png", "step2-self.png"]
    assert run("flow", "--steps", "0").exit_code == 2
    assert run("flow", "--p", "1.5").exit_code == 2
    assert_error(run("flow", "--tokenizer", "words"), "tokenizer")


def test_flash():
    out = ok("flash", "--query", "잔다", "--block", "2")
    assert "Block 3" in out and "max |tiled − standard|" in out
    d = doc("flash", "--block", "3", "--causal")
    assert d["format"] == "attnviz.flash/1"
    assert run("flash", "--block", "0").exit_code == 2
