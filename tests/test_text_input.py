"""TEXT as - (standard input) and --file PATH, for every command that takes a text; one clear line when the
file is missing, not UTF-8 or empty."""

import pytest
from typer.testing import CliRunner

from attnviz.cli import app

runner = CliRunner()
SENTENCE = "고양이는 침대에서 잔다"


def run(*args, stdin=None):
    return runner.invoke(app, list(args), input=stdin, env={"COLUMNS": "80", "LANG": "C.UTF-8"})


def one_error_line(result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


@pytest.mark.parametrize("command", [["explain"], ["mask", "--causal"], ["heads"], ["block"]])
def test_stdin_and_file_give_the_same_json_as_the_argument(command, tmp_path):
    path = tmp_path / "text.txt"
    path.write_text("\ufeff" + SENTENCE + "\n", encoding="utf-8")  # a byte-order mark and a final newline
    given = run(*command, SENTENCE, "--json", "-")
    assert given.exit_code == 0, given.output
    piped = run(*command, "-", "--json", "-", stdin=SENTENCE + "\n")
    from_file = run(*command, "--file", str(path), "--json", "-")
    assert piped.stdout == given.stdout == from_file.stdout


def test_flash_reads_standard_input():
    import json

    piped = run("flash", "-", "--json", "-", stdin=SENTENCE)
    assert piped.exit_code == 0, piped.output
    assert json.loads(piped.stdout)["text"] == SENTENCE


def test_cross_reads_its_source(tmp_path):
    path = tmp_path / "source.txt"
    path.write_text(SENTENCE, encoding="utf-8")
    assert run("cross", "--file", str(path), "--json", "-").stdout == run("cross", SENTENCE, "--json", "-").stdout


def test_bad_files_are_one_line(tmp_path):
    assert "no such file" in one_error_line(run("explain", "--file", str(tmp_path / "missing.txt")))
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok \xff\xfe")
    assert "not UTF-8" in one_error_line(run("explain", "--file", str(bad))) and "byte 3" in run(
        "explain", "--file", str(bad)).stderr
    empty = tmp_path / "empty.txt"
    empty.write_text(" \n", encoding="utf-8")
    assert "is empty" in one_error_line(run("flash", "--file", str(empty)))
    assert "is a folder" in one_error_line(run("mask", "--file", str(tmp_path)))
    assert "standard input is empty" in one_error_line(run("explain", "-", stdin=""))
    assert "not both" in one_error_line(run("explain", SENTENCE, "--file", str(bad)))


def test_file_is_in_help():
    assert "--file" in run("explain", "--help").stdout and "--file" in run("survey", "--help").stdout
