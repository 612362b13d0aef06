"""Fuzzing the CLI in-process: any text or option value either works or gives one `Error:` line.

To cover a new command, add a line to COMMANDS (how to call it with a fuzzed TEXT).
"""

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from attnviz.cli import app

runner = CliRunner()

#: command → argument list around the fuzzed text
COMMANDS = {
    "explain": lambda text: ["explain", text, "--stage", "softmax"],
    "mask": lambda text: ["mask", text, "--causal"],
    "heads": lambda text: ["heads", text, "--heads", "2"],
    "cross": lambda text: ["cross", "고양이는 침대에서 잔다", text],
    "cross-source": lambda text: ["cross", text],
    "block": lambda text: ["block", text],
    "block-decoder": lambda text: ["block", text, "--decoder", "--source", "고양이는 침대에서 잔다"],
    "flow": lambda text: ["flow", text, "--steps", "1", "--layers", "1"],
    "flash": lambda text: ["flash", text, "--block", "3"],
}

TEXTS = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Mn", "Zs", "Zl", "Zp"]), max_size=20),
    st.sampled_from(["", " ", "\n\t", "\u200d", "e\u0301", "مرحبا بالعالم", "👩‍👩‍👧‍👦 가족", "가" * 3000,
                     "a " * 1500, "\x00\x1b[31mred", "\ud800 broken", "[PAD] <bos> [CLS]", "x" * 100_000,
                     "고양이 " * 25_000, "\u202eRTL override\u202c", "\U0001F469\u200d\U0001F4BB" * 50]),
)


def check(args):
    result = runner.invoke(app, args, env={"COLUMNS": "80", "LANG": "C.UTF-8"})
    assert result.exit_code in (0, 1, 2), (args, result.exit_code, result.exception)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args!r} raised {result.exception!r}")
    if result.exit_code == 1:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), (args, result.stderr)
    if result.exit_code == 0:
        assert result.stdout.strip(), args
        if not any("nan" in str(a).lower() for a in args):  # whole words are tokens now: "banana" is a label
            assert "nan" not in result.stdout.lower().replace("nans", "")
    return result


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(command=st.sampled_from(sorted(COMMANDS)), text=TEXTS)
def test_any_text(command, text):
    check(COMMANDS[command](text))


@settings(max_examples=40, deadline=None)
@given(query=st.one_of(st.integers(-3, 9).map(str), st.text(string.printable, max_size=6),
                       st.sampled_from(["고양이", "는", "잔다", "0", "-1", "99"])))
def test_any_query(query):
    check(["explain", "--query", query, "--stage", "scores"])


@settings(max_examples=30, deadline=None)
@given(d_model=st.integers(-2, 5000), d_k=st.integers(-2, 5000), seed=st.integers(-5, 2**33))
def test_any_size_and_seed(d_model, d_k, seed):
    check(["explain", "--d-model", str(d_model), "--d-k", str(d_k), "--seed", str(seed), "--stage", "input"])


@settings(max_examples=25, deadline=None)
@given(block=st.integers(-2, 5000), text=st.sampled_from(["고양이는 침대에서 잔다", "a", "a b c d e f g"]))
def test_any_flash_block(block, text):
    check(["flash", text, "--block", str(block)])


def test_repeated_query_token_picks_the_first():
    result = check(["explain", "the cat saw the dog", "--query", "the", "--stage", "softmax"])
    assert result.exit_code == 0 and "Focus on Q1" in result.stdout


def test_same_command_same_bytes_across_processes(tmp_path):
    import subprocess
    import sys

    outputs = []
    for run in range(2):
        folder = tmp_path / str(run)
        folder.mkdir()
        cmd = [sys.executable, "-m", "attnviz", "explain", "--json", str(folder / "t.json"), "--dpi", "50"]
        for ext in ("png", "svg", "pdf"):
            subprocess.run([*cmd, "--png", str(folder / f"p.{ext}")], check=True, capture_output=True,
                           env={"PATH": "/usr/bin:/bin", "COLUMNS": "80", "PYTHONHASHSEED": str(run)})
        outputs.append({p.name: p.read_bytes() for p in folder.iterdir()})
    assert outputs[0].keys() == {"t.json", "p.png", "p.svg", "p.pdf"}
    for name in outputs[0]:
        assert outputs[0][name] == outputs[1][name], name


def test_narrow_terminal_gives_unbroken_text():
    from rich.cells import cell_len

    for args in (["explain"], ["mask", "--causal"], ["heads"], ["cross"], ["softmax"], ["block"]):
        result = runner.invoke(app, args, env={"COLUMNS": "40", "LANG": "C.UTF-8"})
        assert result.exit_code == 0, (args, result.output)
        assert "\x1b[" not in result.stdout
        for line in result.stdout.splitlines():
            assert cell_len(line) <= 40, (args, line)


def test_huge_weights_stay_finite(tmp_path):
    import json

    import numpy as np
    from safetensors.numpy import save_file

    rng = np.random.default_rng(0)
    path = tmp_path / "huge.safetensors"
    save_file({name: (rng.standard_normal((8, 4)) * 1e7).astype(np.float64) for name in ("w_q", "w_k", "w_v")},
              str(path))
    result = runner.invoke(app, ["explain", "--weights", str(path), "--json", "-"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    w = np.asarray(doc["heads"][0]["weights"])
    assert np.all(np.isfinite(w)) and np.abs(np.asarray(doc["heads"][0]["scores"])).max() > 1e14
    np.testing.assert_allclose(w.sum(axis=1), 1.0)


@pytest.mark.parametrize("text", ["x" * 100_000, "고양이 " * 25_000, "가" * 100_000])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_huge_text_is_refused_or_handled(command, text):
    result = check(COMMANDS[command](text))
    if result.exit_code == 1:
        assert "at most" in result.stderr or "tokens" in result.stderr, result.stderr


# --- issue 13: odd values, hostile files, output targets -------------------------------------------

def strict_json(text):
    """json.loads that refuses NaN and ±Infinity (JSON has no such values; Python writes them anyway)."""
    import json

    def refuse(name):
        raise AssertionError(f"{name} in the JSON output")

    return json.loads(text, parse_constant=refuse)


def check_quiet(args):
    """check(), with every RuntimeWarning (numpy's overflow and invalid-value warnings) an error."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        return check(args)


def _huge_weights(tmp_path, scale, name="huge.npz"):
    import numpy as np

    rng = np.random.default_rng(0)
    shapes = {"w_q": (8, 4), "w_k": (8, 4), "w_v": (8, 4), "w_o": (4, 8)}
    path = tmp_path / name
    np.savez(path, **{n: rng.standard_normal(s) * scale for n, s in shapes.items()})
    return str(path)


@pytest.mark.parametrize("command", [["explain"], ["mask", "--causal"], ["heads", "--heads", "1"], ["cross"],
                                     ["flash"], ["block"], ["block", "--decoder", "--source", "a b"]])
def test_weights_that_overflow_are_refused_not_shown(tmp_path, command):
    result = check_quiet([*command, "--weights", _huge_weights(tmp_path, 1e200), "--json", "-"])
    assert result.exit_code == 1 and "overflowed float64" in result.stderr and "scale the weights down" in \
        result.stderr, result.stderr


def test_huge_but_representable_weights_give_finite_json_or_a_layernorm_error(tmp_path):
    import numpy as np

    weights = _huge_weights(tmp_path, 1e100)
    result = check_quiet(["explain", "--weights", weights, "--json", "-"])
    assert result.exit_code == 0
    doc = strict_json(result.stdout)
    assert np.abs(np.asarray(doc["output"])).max() > 1e200  # huge, and finite
    np.testing.assert_allclose(np.asarray(doc["heads"][0]["weights"]).sum(axis=1), 1.0)
    result = check_quiet(["block", "--weights", weights, "--json", "-"])  # residual ~1e201: variance ~1e402
    assert result.exit_code == 1 and "LayerNorm's variance overflowed float64" in result.stderr, result.stderr
    result = check_quiet(["block", "--weights", _huge_weights(tmp_path, 1e50, "big.npz"), "--json", "-"])
    assert result.exit_code == 0
    assert np.all(np.isfinite(np.asarray(strict_json(result.stdout)["norm1"]["var"])))


def test_long_text_overflowing_float32_is_refused(tmp_path):
    # past 1,024² cells a head the T×S stages are float32: scores of ~1e40 fit float64 but not float32
    result = check_quiet(["explain", "a " * 1100, "--weights", _huge_weights(tmp_path, 1e19), "--stage", "input"])
    assert result.exit_code == 1 and "overflowed float32" in result.stderr, result.stderr


def test_tokenizer_without_an_unknown_token_meets_an_unknown_word(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.WordLevel({"cat": 0, "sat": 1}))  # no unk_token
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    path = tmp_path / "tokenizer.json"
    tok.save(str(path))
    assert check(["explain", "cat sat", "--tokenizer", str(path), "--stage", "input"]).exit_code == 0
    result = check(["explain", "cat dog", "--tokenizer", str(path)])
    assert result.exit_code == 1 and "no unknown token" in result.stderr, result.stderr


def test_feed_forward_limits_match_the_help():
    import re

    from attnviz.block import MAX_D_FF

    help_text = runner.invoke(app, ["block", "--help"], env={"COLUMNS": "200"}).stdout
    assert re.search(rf"--d-ff\s+\S+ \S+\s+\[1<=x<={MAX_D_FF}\]", help_text), help_text
    result = check(["block", "--d-ff", "8192", "--json", "-"])  # allowed by --help: used to be refused
    assert result.exit_code == 0 and strict_json(result.stdout)["d_ff"] == 8192
    result = check(["block", "--d-ff", str(MAX_D_FF), "--d-model", "2048"])
    assert result.exit_code == 1 and "give --d-ff 8192 or less" in result.stderr, result.stderr
    result = check(["block", "--d-model", "4096"])  # d_ff = 4 × d_model by default
    assert result.exit_code == 1 and "give --d-ff 4096 or less" in result.stderr, result.stderr


def test_flow_model_size_is_capped_before_drawing():
    import time

    start = time.perf_counter()
    result = check(["flow", "--d-model", "4096", "--d-k", "1024", "--d-ff", "4096", "--layers", "12"])
    assert result.exit_code == 1 and "at most 67,108,864" in result.stderr, result.stderr
    assert time.perf_counter() - start < 5  # refused up front, not after drawing 1.4 billion numbers


# --- the CLI's outputs: checked first, written together, streamed; odd terminals ---------------------

def test_a_failed_run_writes_nothing(tmp_path):
    keep = tmp_path / "keep.json"
    keep.write_text('{"keep": 1}')
    keep.chmod(0o600)
    result = check(["explain", "--json", str(keep), "--png", str(tmp_path / "fig.docx")])
    assert result.exit_code == 1 and ".docx" in result.stderr  # the JSON used to be written first
    assert keep.read_text() == '{"keep": 1}'
    result = check(["explain", "--png", str(tmp_path / "ok.png"), "--json", str(tmp_path / "no" / "t.json")])
    assert result.exit_code == 1 and "does not exist" in result.stderr
    # a figure that fails while drawing, after the JSON was ready: neither is written
    weights = _huge_weights(tmp_path, 1e150)
    result = check(["explain", "--weights", weights, "--json", str(tmp_path / "t.json"), "--png",
                    str(tmp_path / "p.png"), "--out-dir", str(tmp_path / "figs")])
    assert result.exit_code == 1 and "a figure draws numbers up to" in result.stderr, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["huge.npz", "keep.json"]
    assert oct(keep.stat().st_mode & 0o777) == "0o600"


def test_json_to_stdout_waits_for_the_figures(tmp_path):
    result = check(["explain", "--weights", _huge_weights(tmp_path, 1e150), "--json", "-", "--png",
                    str(tmp_path / "p.png")])
    assert result.exit_code == 1 and result.stdout == ""


def test_json_and_png_naming_one_file_is_refused(tmp_path):
    result = check(["explain", "--json", str(tmp_path / "a.png"), "--png", str(tmp_path / "a.png")])
    assert result.exit_code == 1 and "both name" in result.stderr and list(tmp_path.iterdir()) == []


def test_out_dir_on_a_full_disk_leaves_nothing(tmp_path, monkeypatch):
    from pathlib import Path

    def full(self, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)  # every PNG is written by Path.write_bytes
    result = check(["explain", "--json", str(tmp_path / "t.json"), "--out-dir", str(tmp_path / "figs"),
                    "--dpi", "50"])
    assert result.exit_code == 1 and "No space left on device" in result.stderr, result.stderr
    assert list(tmp_path.iterdir()) == []  # no folder, no JSON, no temp file


def test_json_into_a_device_a_fifo_and_through_a_link(tmp_path):
    import os
    import stat
    import threading

    link = tmp_path / "null.json"
    link.symlink_to("/dev/null")
    assert check(["explain", "--json", str(link)]).exit_code == 0
    assert link.is_symlink() and stat.S_ISCHR(os.stat("/dev/null").st_mode)
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()), daemon=True)
    reader.start()
    assert check(["explain", "--json", str(fifo), "--stage", "input"]).exit_code == 0
    reader.join(10)
    assert strict_json(got[0])["format"] == "attnviz.trace/1" and stat.S_ISFIFO(fifo.stat().st_mode)
    real = tmp_path / "real.json"
    real.write_text("old")
    alias = tmp_path / "alias.json"
    alias.symlink_to(real)
    assert check(["softmax", "--json", str(alias)]).exit_code == 0
    assert alias.is_symlink() and strict_json(real.read_text())["format"] == "attnviz.softmax/1"


def test_json_is_streamed_by_the_cli(monkeypatch):
    from attnviz import export

    kinds = []
    real = export.write_json
    monkeypatch.setattr(export, "write_json", lambda kind, obj, stream: (kinds.append(kind), real(kind, obj, stream)))
    for args, kind in ((["explain"], "trace"), (["block"], "block"), (["softmax"], "lesson"), (["flash"], "flash")):
        result = check([*args, "--json", "-"])
        assert result.exit_code == 0 and strict_json(result.stdout)
        assert kinds[-1] == kind


@pytest.mark.parametrize("columns", ["0", "-3", "abc", "", "5"])
def test_odd_columns_still_print_the_view(columns):
    result = runner.invoke(app, ["explain", "--stage", "scores"], env={"COLUMNS": columns, "LANG": "C.UTF-8"})
    assert result.exit_code == 0 and "K1" in result.stdout and "고양이" in result.stdout, result.stdout[:300]


@pytest.mark.parametrize("args, message", [
    (["explain", "--query", "²"], "is not a token"),
    (["explain", "--query", "٣"], "is not a token"),
    (["explain", "--query", "-²"], "is not a token"),
    (["heads", "--model", "minilm", "--layer", "²"], "is not a layer"),
    (["cross", "--image", "samples/cat_on_bed.png", "--patches", "²x2"], "ROWSxCOLS"),
])
def test_unicode_digits_are_not_numbers(args, message):
    result = check(args)
    assert result.exit_code in (1, 2) and message in result.output, result.output


def test_a_number_that_is_a_token_is_that_token():
    result = check(["explain", "1999 2000 20", "--tokenizer", "words", "--query", "20", "--stage", "softmax"])
    assert result.exit_code == 0 and "Focus on Q3" in result.stdout, result.output
    result = check(["explain", "1999 2000 20", "--tokenizer", "words", "--query", "2", "--stage", "softmax"])
    assert "Focus on Q2" in result.stdout  # an index in range is still an index
    result = check(["explain", "1999 2000 20", "--tokenizer", "words", "--query", "21"])
    assert result.exit_code == 1 and "out of range" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["softmax", "--temperature", "inf", "--json", "-"], "--temperature must be a positive, finite number"),
    (["softmax", "--scale", "nan"], "--scale must be a positive, finite number"),
    (["softmax", "1e308", "-1e308", "--png", "OUT"], "too far apart"),
    (["softmax", "1e305", "0", "--png", "OUT"], "a figure draws numbers up to"),
    (["softmax", "nan", "1"], "finite number"),
])
def test_softmax_odd_values_are_refused_by_name(tmp_path, args, message):
    args = [str(tmp_path / "o.png") if a == "OUT" else a for a in args]
    result = check_quiet(args)
    assert result.exit_code == 1 and message in result.stderr, result.stderr
    assert "overflow" not in result.stderr or "far apart" in message or "figure" in message
    assert list(tmp_path.iterdir()) == []


def test_figures_take_precision_eight(tmp_path):
    result = check(["explain", "--precision", "8", "--png", str(tmp_path / "p.png"), "--dpi", "50"])
    assert result.exit_code == 0 and (tmp_path / "p.png").stat().st_size > 0


def _run(args, **env):
    import os
    import subprocess
    import sys

    base = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHONIOENCODING", "LC_", "LANG"))}
    return subprocess.run([sys.executable, "-m", "attnviz", *args], capture_output=True,
                          env={**base, "COLUMNS": "80", **env})


@pytest.mark.parametrize("encoding", ["cp949", "ascii", "latin-1"])
@pytest.mark.parametrize("args", [["explain"], ["softmax"], ["block"], ["mask", "--causal"], ["flash"],
                                  ["explain", "--query", "없는"]])
def test_narrow_encodings_degrade_the_glyphs(encoding, args):
    result = _run(args, PYTHONIOENCODING=encoding, LANG="C.UTF-8")
    assert b"Traceback" not in result.stderr and b"UnicodeEncodeError" not in result.stderr, result.stderr
    if args[-1] == "없는":
        assert result.returncode == 1 and result.stderr.count(b"\n") == 1
    else:
        assert result.returncode == 0 and len(result.stdout) > 500
        result.stdout.decode(encoding)  # every byte is in the stream's own encoding


@pytest.mark.parametrize("lang", ["C.UTF-8", "en_US.UTF-8"])
def test_invalid_utf8_in_argv_is_shown_and_written(tmp_path, lang):
    text = b"\xff\xfe cat \xed\xa0\x80"  # bytes no UTF-8 decoder accepts: lone surrogates in Python
    for tokenizer in ("words", "chars", "default"):
        result = _run(["explain", text, "--tokenizer", tokenizer, "--stage", "input", "--json",
                       str(tmp_path / "t.json")], LANG=lang)
        assert result.returncode == 0, result.stderr
        doc = strict_json((tmp_path / "t.json").read_text(encoding="utf-8"))
        assert doc["text"].startswith("\ufffd\ufffd cat")
        result = _run(["explain", text, "--tokenizer", tokenizer, "--stage", "input"], LANG=lang)
        assert result.returncode == 0 and b"Traceback" not in result.stderr, result.stderr
        result = _run(["explain", text, "--tokenizer", tokenizer, "--json", "-"], LANG=lang)
        assert result.returncode == 0
        assert strict_json(result.stdout.decode("utf-8"))["text"] == "\ufffd\ufffd cat " + "\ufffd" * 3


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP"])
def test_killed_while_writing_figures_leaves_nothing(tmp_path, sig):
    import os
    import signal
    import subprocess
    import sys
    import time

    figs = tmp_path / "figs"
    proc = subprocess.Popen([sys.executable, "-m", "attnviz", "explain", "--out-dir", str(figs), "--dpi", "600",
                             "--json", str(tmp_path / "t.json")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "COLUMNS": "80"})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if figs.is_dir() and any(p.name.endswith(".tmp") for p in figs.iterdir()):
            break
        time.sleep(0.005)
    else:
        proc.kill()
        pytest.skip("the run ended before a figure was being written")
    proc.send_signal(getattr(signal, sig))
    assert proc.wait(30) == -getattr(signal, sig), proc.stderr.read()
    assert list(tmp_path.iterdir()) == []  # no temp file, no JSON, no half-filled folder
