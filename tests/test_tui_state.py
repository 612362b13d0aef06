"""The explorer without Textual: its state's moves, each stage's panel and heatmap, the export, the command's
errors, and that no other command imports Textual."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from console import fits, render
from rich.cells import cell_len
from typer.testing import CliRunner

from attnviz.cli import app
from attnviz.render.figure import texts
from attnviz.render.terminal import View
from attnviz.tui.export import FIGURES, export_stage, file_names
from attnviz.tui.heatmap import Block, Heatmap, color
from attnviz.tui.launch import explorer as start
from attnviz.tui.stages import ALL_STAGES, detail_line, detail_marker, stage_blocks, stage_panel
from attnviz.tui.state import STAGES, Explorer, seeded_source

SEED = "고양이는 침대에서 잔다"
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def explorer():
    return Explorer(seeded_source(SEED, n_heads=2, d_k=4))


def test_moves_stop_at_the_ends(explorer):
    assert explorer.n_tokens == 5 and explorer.focus == 0
    assert not explorer.move_focus(-1)  # already the first query
    assert explorer.move_focus(1) and explorer.focus == 1
    assert explorer.set_focus(99) and explorer.focus == 4
    assert not explorer.move_focus(1)
    assert explorer.stage_name == "input"
    assert not explorer.move_stage(-1)
    for expected in STAGES[1:]:
        assert explorer.move_stage(1) and explorer.stage_name == expected
    assert not explorer.move_stage(1)


def test_heads_wrap_and_one_layer_does_not_move(explorer):
    assert explorer.move_head(1) and explorer.head == 1
    assert explorer.move_head(1) and explorer.head == 0  # wraps
    assert explorer.move_head(-1) and explorer.head == 1
    assert not explorer.move_layer(1) and explorer.layer == 0  # the seeded model has one layer
    single = Explorer(seeded_source(SEED))
    assert not single.move_head(1)


def test_mask_toggle_computes_the_causal_trace(explorer):
    assert explorer.trace.heads[0].mask is None
    explorer.toggle_mask()
    mask = explorer.trace.heads[0].mask
    assert explorer.causal and mask is not None
    assert np.array_equal(mask, np.tril(np.ones((5, 5), dtype=bool)))
    assert explorer.trace.heads[0].weights[0, 1] == 0.0  # the first query sees only itself
    explorer.toggle_mask()
    assert explorer.trace.heads[0].mask is None


def test_layers_of_a_real_model():
    ex = start("the cat sat", model=str(FIXTURES / "tiny-gpt2"), layer=1)
    assert ex.source.n_layers == 2 and ex.layer == 1 and ex.causal  # GPT-2 masks the future itself
    assert ex.trace.model.layer == 1
    first = ex.trace.heads[0].weights
    assert ex.move_layer(1) and ex.layer == 0 and ex.trace.model.layer == 0  # wraps to layer 0
    assert not np.allclose(ex.trace.heads[0].weights, first)
    assert ex.trace.n_heads == 4 and ex.move_head(-1) and ex.head == 3


def test_start_checks_its_options():
    from attnviz.errors import InputError

    with pytest.raises(InputError, match="does not split into 3 heads"):
        start(SEED, n_heads=3)
    with pytest.raises(InputError, match="--layer 5 does not exist"):
        start("the cat", model=str(FIXTURES / "tiny-gpt2"), layer=5)
    assert start(SEED, n_heads=2).trace.d_k == 4  # d_model / heads
    assert start(SEED, stage="softmax", lang="ko").stage_name == "softmax"


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_stage_panel_fits_80_columns(stage, lang):
    trace = Explorer(seeded_source(SEED, causal=True)).trace
    out = render(stage_panel(trace, stage, focus=2, head=0, view=View(lang=lang, width=79)), 79)
    fits(out, 79)
    assert out.strip()


def test_focus_detail_lines_follow_the_focus():
    trace = Explorer(seeded_source(SEED)).trace
    hd = trace.heads[0]
    out = render(stage_panel(trace, "scores", focus=2, head=0, view=View()))
    assert f"Q3 · K1 →   {hd.scores[2, 0]:.2f} ← 침대 · 고양이" in out
    out = render(stage_panel(trace, "weighted", focus=4, head=0, view=View()))
    assert "context Q5 (잔다) =" in out and f"{hd.weights[4, 0]:.2f} × V1 +" in out
    line = detail_line(stage_panel(trace, "softmax", focus=1, head=0, view=View()), 80,
                       detail_marker(trace, "softmax", 1, 0, "en"))
    assert line is not None and "Focus on Q2 = 는" in render(
        stage_panel(trace, "softmax", focus=1, head=0, view=View())).splitlines()[line]


def test_scaled_stage_is_before_the_mask_and_mask_stage_hides():
    trace = Explorer(seeded_source(SEED, causal=True)).trace
    scaled = render(stage_panel(trace, "scaled", focus=0, head=0, view=View()))
    assert "−∞" not in scaled  # the mask is the next stage
    masked = render(stage_panel(trace, "mask", focus=0, head=0, view=View()))
    assert "−∞" in masked and "○" in masked and "×" in masked
    plain = Explorer(seeded_source(SEED)).trace
    assert "Press m" in render(stage_panel(plain, "mask", focus=0, head=0, view=View()))


def test_stage_blocks_are_the_trace_matrices():
    trace = Explorer(seeded_source(SEED, causal=True)).trace
    hd = trace.heads[0]
    assert [b.name for b in stage_blocks(trace, "qkv", 0)] == ["Q", "K", "V"]
    (soft,) = stage_blocks(trace, "softmax", 0)
    assert soft.sequential and soft.matrix is hd.weights and np.array_equal(soft.hidden, ~hd.mask)
    assert stage_blocks(trace, "output", 0)[0].matrix is trace.output
    assert stage_blocks(trace, "input", 0)[0].matrix is trace.x


def test_heatmap_aligns_korean_labels_and_marks_the_focus():
    rows = ["고양이", "는", "침대", "cat", "a"]
    hm = Heatmap([Block("softmax", np.full((5, 5), 0.2), sequential=True)], rows, focus=2)
    lines = [line.plain for line in hm.lines(80)]
    body = lines[1:6]  # after the column numbers
    starts = {cell_len(line[: line.index(label)]) + cell_len(label) + (cell_len("고양이") - cell_len(label))
              for line, label in zip(body, rows)}
    assert len(starts) == 1  # every row's cells start in the same terminal column
    assert body[2].startswith("▶ 침대") and body[2].endswith("◀")
    assert sum("▶" in line for line in lines) == 1
    assert lines[0].split() == ["1", "2", "3", "4", "5"]
    assert lines[-1].startswith("softmax")


def test_heatmap_fits_narrow_widths_and_windows_rows():
    matrix = np.linspace(-1, 1, 40 * 40).reshape(40, 40)
    hm = Heatmap([Block("Q·Kᵀ", matrix)], [f"t{i}" for i in range(40)], focus=30, max_rows=8)
    for width in (40, 80):
        lines = hm.lines(width)
        assert all(cell_len(line.plain) <= width for line in lines)
        body = [line.plain for line in lines[1:-1]]
        assert len(body) == 8 and any(line.startswith("▶ t30") for line in body)
    assert "rows 27–34/40" in hm.lines(80)[-1].plain
    narrow = hm.lines(40)[-1].plain
    assert "columns 1–" in narrow and "/40" in narrow  # 40 one-cell columns do not fit beside the labels
    assert narrow.startswith("Q·Kᵀ")
    keys = Heatmap([Block("softmax", np.full((40, 40), 0.025), sequential=True, keys=True)],
                   [f"t{i}" for i in range(40)], focus=30, max_rows=8)
    numbers, legend = keys.lines(40)[0].plain.split(), keys.lines(40)[-1].plain
    first, last = (int(n) for n in legend.split("columns ")[1].split("/")[0].split("–"))
    assert 1 < first <= 31 <= last <= 40 and numbers[0] == str(first)  # moved to show the focus query's key


def test_heatmap_colours_follow_the_figure_colormaps():
    assert color(0.0, "light", True) == (247, 251, 255)  # Blues' lightest
    assert color(1.0, "light", True) == (8, 48, 107)
    assert color(0.5, "light", False) == (247, 246, 246)  # RdBu_r's white middle: 0
    low, high = color(0.25, "dark", True), color(0.75, "dark", True)
    assert sum(low) < sum(high)  # magma brightens with the weight


def test_export_writes_the_stage_figure(tmp_path):
    trace = Explorer(seeded_source(SEED, n_heads=2, d_k=4)).trace
    paths = export_stage(trace, "softmax", tmp_path, head=1, theme="dark", lang="ko")
    assert paths == [tmp_path / "attnviz-head2-softmax.png"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in export_stage(trace, "qkv", tmp_path, fmt="svg")] == [
        "attnviz-head1-q.svg", "attnviz-head1-k.svg", "attnviz-head1-v.svg"]
    assert file_names(trace, "output", 0, layer=3) == ["attnviz-layer3-heads.png"]
    assert set(FIGURES) == set(ALL_STAGES)


def test_export_of_several_figures_writes_all_or_none(tmp_path, monkeypatch):
    """qkv is three figures: when the third cannot be drawn, the first two are not left behind."""
    from attnviz.render import figure as fig

    trace = Explorer(seeded_source(SEED)).trace
    drawn = fig.stage_figure

    def third_fails(trace, name, **kw):
        if name == "v":
            raise RuntimeError("drawing failed")
        return drawn(trace, name, **kw)

    monkeypatch.setattr(fig, "stage_figure", third_fails)
    with pytest.raises(RuntimeError):
        export_stage(trace, "qkv", tmp_path)
    assert list(tmp_path.iterdir()) == []  # no q.png, k.png, nor a temp file


def test_export_draws_what_png_draws(tmp_path):
    from attnviz.render.figure import stage_figure

    trace = Explorer(seeded_source(SEED)).trace
    (path,) = export_stage(trace, "scores", tmp_path, fmt="svg")
    same = tmp_path / "same.svg"
    from attnviz.render.figure import save_view

    save_view(stage_figure(trace, "scores"), same)
    assert path.read_bytes() == same.read_bytes()
    assert any("Scores" in t for t in texts(stage_figure(trace, "scores")))


def test_command_is_listed_and_has_help():
    runner = CliRunner()
    listed = runner.invoke(app, ["--help"])
    assert listed.exit_code == 0 and "tui" in listed.output
    helped = runner.invoke(app, ["tui", "--help"])
    assert helped.exit_code == 0 and "--model" in helped.output and "focus query" in helped.output


def test_command_without_a_terminal_says_so():
    result = CliRunner().invoke(app, ["tui"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: attnviz tui needs an interactive terminal: run it in one (attnviz explain prints the same panels "
        "to a file or a pipe)"]


@pytest.mark.parametrize("args, message", [
    (["--query", "9"], "Error: --query 9 is out of range: pick 1 to 5 (or a token)"),
    (["--query", "개"], "Error: --query '개' is not a token of this text"),
    (["--heads", "2", "--head", "3"], "Error: --head 3 is out of range: there are 2 head(s)"),
    (["--heads", "3"], "Error: --d-model 8 does not split into 3 heads"),
    (["--out-dir", "no/such/folder"], "Error: --out-dir no/such/folder is not a folder"),
    (["--model", str(FIXTURES / "tiny-gpt2"), "--layer", "7"], "Error: --layer 7 does not exist"),
])
def test_command_bad_input_is_one_error_line(args, message):
    result = CliRunner().invoke(app, ["tui", *args])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), lines


def test_command_bad_option_is_a_usage_error():
    result = CliRunner().invoke(app, ["tui", "--stage", "nope"])
    assert result.exit_code == 2


def test_command_without_textual_says_how_to_install(tmp_path):
    # a `textual` package that fails to import as if absent, first on the path
    fake = tmp_path / "textual"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ModuleNotFoundError('No module named textual', name='textual')\n")
    code = ("import sys; sys.argv = ['attnviz', 'tui']; from attnviz.cli import main; main()")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        'Error: attnviz tui needs Textual, which is not installed: pip install "attnviz[tui]"']


def test_other_commands_do_not_import_textual():
    code = ("import sys; sys.argv = ['attnviz', 'explain']; from attnviz.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "assert not [m for m in sys.modules if m.split('.')[0] == 'textual'], 'textual imported'\n"
            "assert 'attnviz.tui.app' not in sys.modules\nprint('clean')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("clean")


def test_a_decoder_adds_explain_s_stages_and_shows_their_panels():
    ex = start("the cat sat on the mat", model=str(FIXTURES / "tiny-gemma2"))
    assert ex.stages == ("input", "qkv", "rope", "gqa", "scores", "scaled", "softcap", "mask", "softmax", "weighted",
                         "output")
    trace, hd = ex.trace, ex.trace.heads[0]
    rope = render(stage_panel(trace, "rope", focus=1, head=0, view=View()))
    assert "[RoPE · rotary positions]" in rope
    assert rope.splitlines()[detail_line(stage_panel(trace, "rope", focus=1, head=0, view=View()), 80,
                                         detail_marker(trace, "rope", 1, 0, "en"))].lstrip("│ ").startswith("Q2 ")
    capped = render(stage_panel(trace, "softcap", focus=0, head=0, view=View()))
    cap = trace.attention.softcap
    assert re.search(rf"Q1 · K1 *: {cap:g} · tanh\(", capped)
    scaled = render(stage_panel(trace, "scaled", focus=0, head=0, view=View()))
    assert re.search(rf"Q1 · K1 *: +\S+ × {trace.attention.scale:.4f} =", scaled)  # Gemma's scale, not ÷ √d_k
    (block,) = stage_blocks(trace, "softcap", 0)
    assert block.matrix is hd.capped
    assert stage_blocks(trace, "mask", 0)[0].matrix is hd.capped  # what the mask sets to −∞
    assert [b.name for b in stage_blocks(trace, "rope", 0)] == ["RoPE(Q)", "RoPE(K)"]
    for stage in ex.stages:
        fits(render(stage_panel(trace, stage, focus=2, head=1, view=View(width=79)), 79), 79)


def test_a_stage_the_trace_lacks_is_refused_or_falls_back():
    from attnviz.errors import InputError

    with pytest.raises(InputError, match="--stage rope: this layer has no such stage"):
        start(SEED, stage="rope")
    ex = start("the cat sat", model=str(FIXTURES / "tiny-gemma2"), stage="softcap")
    assert ex.stage_name == "softcap"
    assert ex.move_stage(1) and ex.stage_name == "mask"
    assert ex.move_stage(-2) and ex.stage_name == "scaled"
