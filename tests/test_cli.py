"""The `attnviz` app driven through typer's CliRunner: exit codes, text, files, and error lines."""

import json

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from attnviz import __version__
from attnviz.cli import app

runner = CliRunner()


def run(*args, env=None):
    return runner.invoke(app, list(args), env={"COLUMNS": "80", "LANG": "C.UTF-8", **(env or {})})


def assert_error(result, fragment):
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert fragment in lines[0]
    assert "Traceback" not in result.output


def test_version():
    result = run("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"attnviz {__version__}"


def test_explain_defaults_to_the_seed_sentence():
    result = run("explain")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert '"고양이는 침대에서 잔다"' in out
    assert "고양이 | 는 | 침대 | 에서 | 잔다" in out
    assert "Q1 · K1 →" in out and "× V1 +" in out and "[Passed to the next layer]" in out


def test_korean_from_lang_env_and_option():
    assert "3단계" in run("explain", env={"LANG": "ko_KR.UTF-8"}).stdout
    assert "3단계" not in run("explain", env={"LANG": "en_US.UTF-8"}).stdout
    assert "3단계" in run("explain", "--lang", "ko").stdout


@pytest.mark.parametrize("stage", ["input", "qkv", "scores", "scaled", "softmax", "output", "all"])
def test_stage_option(stage):
    result = run("explain", "--stage", stage)
    assert result.exit_code == 0
    assert ("[Step 3 · Softmax]" in result.stdout) == (stage in ("softmax", "all"))


@pytest.mark.parametrize("query, expect", [("잔다", "Q5 · K1 →"), ("3", "Q3 · K1 →"), ("1", "Q1 · K1 →")])
def test_query_by_token_or_index(query, expect):
    result = run("explain", "--query", query, "--stage", "scores")
    assert result.exit_code == 0 and expect in result.stdout


@pytest.mark.parametrize("query", ["0", "6", "-1", "강아지"])
def test_bad_query_is_one_error_line(query):
    assert_error(run("explain", "--query", query), "--query")


def test_empty_text_is_one_error_line():
    assert_error(run("explain", "  "), "empty")


def test_json_to_stdout_only():
    result = run("explain", "--json", "-")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)  # nothing else on stdout
    assert doc["format"] == "attnviz.trace/1"
    assert [t["label"] for t in doc["query_tokens"]] == ["고양이", "는", "침대", "에서", "잔다"]
    assert run("explain", "--json", "-").stdout == result.stdout  # byte-identical


def test_json_file_and_seed_sizes(tmp_path):
    path = tmp_path / "t.json"
    result = run("explain", "The cat sat", "--json", str(path), "--seed", "5", "--d-model", "6", "--d-k", "3",
                 "--precision", "3")
    assert result.exit_code == 0, result.output
    doc = json.loads(path.read_text())
    assert (doc["seed"], doc["d_model"], doc["d_k"]) == (5, 6, 3)
    assert "Q1 · K1 →" in result.stdout


def test_json_to_missing_folder_fails_cleanly(tmp_path):
    assert_error(run("explain", "--json", str(tmp_path / "no" / "t.json")), "does not exist")


@pytest.mark.parametrize("args", [["--d-model", "0"], ["--d-k", "0"], ["--precision", "9"], ["--dpi", "5"],
                                  ["--stage", "nope"], ["--lang", "fr"], ["--seed", "-1"], ["--head", "0"]])
def test_bad_option_values_are_usage_errors(args):
    result = run("explain", *args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output


@pytest.mark.parametrize("tok, expect", [("words", "고양이는 | 침대에서 | 잔다"), ("chars", "고 | 양 | 이 | 는")])
def test_tokenizer_option(tok, expect):
    result = run("explain", "--tokenizer", tok, "--stage", "input")
    assert result.exit_code == 0 and expect in result.stdout


def test_tokenizer_path_and_bad_path(tmp_path):
    from attnviz.tokens import load_tokenizer

    path = tmp_path / "tokenizer.json"
    load_tokenizer("default")._hf.save(str(path))
    assert run("explain", "--tokenizer", str(path), "--stage", "input").exit_code == 0
    assert_error(run("explain", "--tokenizer", str(tmp_path / "nope.json")), "not found")


def test_weights_init_show_and_use(tmp_path):
    path = tmp_path / "w.safetensors"
    result = run("weights", "init", "-o", str(path), "--seed", "2", "--d-model", "8", "--d-k", "2",
                 "--heads", "4")
    assert result.exit_code == 0 and path.is_file()
    shown = run("weights", "show", str(path))
    assert shown.exit_code == 0
    assert "w_q" in shown.stdout and "8 × 8" in shown.stdout and "heads=4" in shown.stdout
    used = run("explain", "--weights", str(path), "--head", "2", "--json", "-")
    doc = json.loads(used.stdout)
    assert doc["n_heads"] == 4 and doc["d_k"] == 2
    assert_error(run("explain", "--weights", str(path), "--head", "5"), "--head 5")


def test_seeded_weights_equal_their_file(tmp_path):
    path = tmp_path / "w.npz"
    run("weights", "init", "-o", str(path), "--seed", "4")
    a = json.loads(run("explain", "--seed", "4", "--json", "-").stdout)
    b = json.loads(run("explain", "--seed", "4", "--weights", str(path), "--json", "-").stdout)
    np.testing.assert_array_equal(np.asarray(a["heads"][0]["weights"]), np.asarray(b["heads"][0]["weights"]))


def test_broken_weight_files_are_one_error_line(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"garbage")
    assert_error(run("explain", "--weights", str(bad)), "not a readable safetensors")
    assert_error(run("explain", "--weights", str(tmp_path / "none.safetensors")), "does not exist")
    assert_error(run("weights", "show", str(bad)), "not a readable")
    assert_error(run("weights", "init", "-o", str(tmp_path / "w.bin")), ".safetensors or .npz")


def test_help_texts_carry_examples():
    assert "Exit codes" in run("--help").stdout
    assert "Example" in run("explain", "--help").stdout
    assert "Example" in run("weights", "init", "--help").stdout


def _subprocess(*args, env=None):
    import os
    import subprocess
    import sys

    full_env = {**os.environ, "COLUMNS": "80", **(env or {})}
    full_env.pop("FORCE_COLOR", None)
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=full_env, timeout=60)


@pytest.mark.parametrize("env", [{}, {"NO_COLOR": "1", "TERM": "xterm-256color"}, {"TERM": "dumb"}])
def test_piped_output_is_plain_text(env):
    result = _subprocess("-m", "attnviz", "explain", env=env)
    assert result.returncode == 0, result.stderr
    assert "\x1b[" not in result.stdout
    assert "고양이 | 는 | 침대 | 에서 | 잔다" in result.stdout


def test_terminal_path_never_imports_matplotlib():
    code = ("import sys; from typer.testing import CliRunner; from attnviz.cli import app; "
            "r = CliRunner().invoke(app, ['explain']); assert r.exit_code == 0, r.output; "
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported'")
    result = _subprocess("-c", code)
    assert result.returncode == 0, result.stderr


def test_the_console_script_builds_the_named_command_like_the_whole_app():
    from attnviz import cli

    every = list(cli.app.registered_commands)
    helped = _subprocess("-m", "attnviz", "explain", "--help")
    assert helped.returncode == 0 and "Usage: python -m attnviz explain" in helped.stdout
    words = " ".join(helped.stdout.replace("python -m attnviz", "root").split())
    assert words == " ".join(run("explain", "--help").stdout.split())  # as the whole app (CliRunner: "root")
    typo = _subprocess("-m", "attnviz", "explian")
    assert typo.returncode == 2 and "Did you mean 'explain'?" in typo.stderr  # the whole app answers
    assert cli.app.registered_commands == every


def test_error_from_a_real_process_has_no_traceback():
    result = _subprocess("-m", "attnviz", "explain", "--weights", "/nonexistent/w.safetensors")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: ")


@pytest.mark.parametrize("flag, ext, magic", [("--png", "png", b"\x89PNG"), ("--figure", "svg", b"<?xml"),
                                              ("--figure", "pdf", b"%PDF")])
def test_figure_options(tmp_path, flag, ext, magic):
    path = tmp_path / f"pipe.{ext}"
    result = run("explain", flag, str(path), "--theme", "dark", "--dpi", "60", "--lang", "ko")
    assert result.exit_code == 0, result.output
    assert path.read_bytes().startswith(magic)
    assert f"saved {path}" in result.stdout


def test_out_dir_writes_every_stage(tmp_path):
    out = tmp_path / "figs"
    result = run("explain", "--out-dir", str(out), "--dpi", "50")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "00-pipeline.png", "01-embeddings.png", "02-q.png", "03-k.png", "04-v.png", "05-scores.png",
        "06-scaled.png", "07-softmax.png", "08-output.png"]


def test_bad_figure_paths_leave_nothing(tmp_path):
    assert_error(run("explain", "--png", str(tmp_path / "pipe.gif")), "png")
    assert_error(run("explain", "--png", str(tmp_path / "no" / "pipe.png")), "does not exist")
    assert list(tmp_path.iterdir()) == []


def test_full_shows_every_column():
    text = "가나다라마바사아자차카타파하" * 2
    cut = run("explain", text, "--tokenizer", "chars", "--stage", "scores")
    full = run("explain", text, "--tokenizer", "chars", "--stage", "scores", "--full")
    assert "use --full" in cut.stdout and "K28" in cut.stdout and "K20" not in cut.stdout
    assert full.exit_code == 0 and "K20" in full.stdout and "use --full" not in full.stdout
    header = next(line for line in full.stdout.splitlines() if "K20" in line)
    assert all(f"K{j}" in header for j in range(1, 29))  # every column, none squashed or cropped


def test_output_under_a_file_is_not_a_folder(tmp_path):
    afile = tmp_path / "plain.txt"
    afile.write_text("x")
    assert_error(run("explain", "--json", str(afile / "t.json")), "is not a folder")
    assert_error(run("explain", "--out-dir", str(afile / "figs")), "is not a folder")
    assert afile.read_text() == "x"


def test_every_option_help_is_shown_whole():
    # rich reads "[default: …]" or "[hub]" as a markup tag and drops it unless written "\[": every help
    # text must reach the screen as written
    group = typer.main.get_command(app)
    commands = [(name, cmd) for name, cmd in group.commands.items() if name != "weights"]
    commands += [(f"weights {name}", cmd) for name, cmd in group.commands["weights"].commands.items()]
    for name, cmd in commands:
        shown = " ".join(run(*name.split(), "--help", env={"COLUMNS": "250"}).stdout.replace("│", " ").split())
        for param in cmd.params:
            text = " ".join((getattr(param, "help", None) or "").replace("\\[", "[").split())
            assert text in shown, (name, param.name, text)


def test_help_paragraphs_wrap_to_the_terminal_and_examples_keep_their_lines():
    """Docstrings are wrapped at 120 columns in the source: --help joins a paragraph's lines so rich wraps it to
    the terminal (no ragged half lines at 80 columns), and keeps the lines of a paragraph marked \\b (examples)."""
    from attnviz.cli import _unwrap

    doc = "Short.\n\n    one\n    two\n\n    \b\n    Example: a\n    Other: b\n    "
    assert _unwrap(doc) == "Short.\n\none two\n\nExample: a\nOther: b"
    result = CliRunner().invoke(app, ["explain", "--help"], env={"COLUMNS": "80"}, terminal_width=80)
    lines = [line.strip() for line in result.output.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith("Texts of up to"))
    paragraph = lines[start:lines.index("", start)]
    assert len(paragraph) > 3 and all(len(line) >= 60 for line in paragraph[:-1])  # filled to the width
    assert any(line.startswith("RoPE by hand: attnviz explain") for line in lines)  # an example, on its own line
