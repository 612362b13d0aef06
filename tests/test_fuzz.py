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
