"""Long inputs: the token limits and their messages, the cut terminal view with per-query summary lines,
float32 stages with a tiled output, and heatmaps pooled with no per-cell text."""

import io

import numpy as np
import pytest
from rich.cells import cell_len
from rich.console import Console
from typer.testing import CliRunner

from attnviz import attention
from attnviz.cli import app
from attnviz.pipeline import self_attention
from attnviz.render.terminal import SUMMARY_LINES, View, explain_view
from attnviz.render.terminal.matrix import _num_width
from attnviz.trace import MAX_TOKENS, max_tokens

runner = CliRunner()
SENTENCE = "고양이는 침대에서 잔다. "  # 6 tokens with the default tokenizer


def run(*args):
    return runner.invoke(app, list(args), env={"COLUMNS": "80", "LANG": "C.UTF-8"})


def one_error_line(result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def test_the_limits():
    assert MAX_TOKENS == 4096
    assert [max_tokens(h) for h in (1, 2, 4, 64)] == [4096, 2896, 2048, 512]


def test_explain_over_the_limit_is_a_summary_or_one_clear_line():
    # past the full trace's limit explain makes a summary trace (issue 17); what needs a full trace says so
    summary = run("explain", "가" * (MAX_TOKENS + 1), "--tokenizer", "chars")
    assert summary.exit_code == 0 and "[Summary trace · 4,097 tokens]" in summary.stdout
    line = one_error_line(run("explain", "가" * (MAX_TOKENS + 1), "--tokenizer", "chars", "--no-special"))
    assert "needs a full trace" in line and "at most 4096 tokens" in line


def test_heads_limit_shrinks_with_the_heads():
    result = run("heads", "가" * 2049, "--tokenizer", "chars", "--heads", "4")
    assert result.exit_code == 0 and "at most 2,048 tokens" in " ".join(result.stdout.replace("│", "").split())


def test_limits_are_in_help():
    assert "4,096 tokens" in " ".join(run("explain", "--help").stdout.split())
    assert "2,048 for 4" in " ".join(run("heads", "--help").stdout.split())


def test_600_tokens_in_80_columns():
    text = SENTENCE * 100  # 600 tokens
    result = run("explain", text)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(cell_len(line) for line in lines) <= 80
    out = result.stdout
    assert "600 tokens" in out and "more (--full shows all)" in out  # the token list is cut
    assert "Every query: its most attended key" in out
    summary = [line for line in lines if "→ K" in line and " H " in line]
    assert len(summary) == SUMMARY_LINES - 1  # 18 first queries and the last, around a ⋮
    assert any("Q600" in line for line in summary)
    assert len(lines) < 400  # a few screens, not 600 rows


def test_summary_line_numbers():
    trace = self_attention(SENTENCE * 3, seed=0)  # 18 tokens: over MAX_ROWS, under SUMMARY_LINES
    console = Console(file=io.StringIO(), width=80, color_system=None)
    console.print(explain_view(trace, stage="softmax", view=View()))
    out = console.file.getvalue()
    w = trace.heads[0].weights[4]
    best = int(np.argmax(w))
    line = next(line for line in out.splitlines() if line.startswith("│ Q5 ") and " H " in line)
    assert f"→ K{best + 1} " in line and f"{w[best]:.2f}" in line
    assert f"H {attention.entropy(w):.2f}" in line


def test_num_width_matches_every_cell():
    rng = np.random.default_rng(0)
    view = View(precision=2)
    for matrix in (rng.normal(size=(7, 9)) * 50, -rng.random((3, 3)) / 1000, np.array([[1.0, -np.inf]]),
                   np.array([[-0.001, 0.004], [9.996, -9.996]])):
        assert _num_width(matrix, view) == max(len(view.num(v)) for v in matrix.ravel())


def test_long_inputs_keep_float32_stages_and_a_tiled_output():
    trace = self_attention("가" * 1100, tokenizer="chars", causal=True)
    hd = trace.heads[0]
    assert hd.scores.dtype == hd.weights.dtype == np.float32 and hd.output.dtype == np.float64
    *_, exact = attention.attention_stages(hd.q, hd.k, hd.v, attention.causal_mask(1100))
    assert np.abs(hd.output - exact).max() < 1e-6
    assert np.allclose(hd.weights.sum(axis=1), 1, atol=1e-5)
    short = self_attention("가" * 10, tokenizer="chars").heads[0]
    assert short.weights.dtype == np.float64


def test_pooled_heatmap_keeps_peaks_and_hidden_blocks():
    from attnviz.render.figure.heatmap import _pool

    m = np.arange(16, dtype=np.float32).reshape(4, 4)
    hidden = np.zeros((4, 4), dtype=bool)
    hidden[:2, 2:] = True
    import attnviz.render.figure.heatmap as fig

    old, fig.HEATMAP_CELLS = fig.HEATMAP_CELLS, 2
    try:
        peak, peak_hidden = _pool(m, hidden, True)
        mean, _ = _pool(m, None, False)
    finally:
        fig.HEATMAP_CELLS = old
    assert peak.tolist() == [[5, 0], [13, 15]] and peak_hidden.tolist() == [[False, True], [False, False]]
    assert mean.tolist() == [[2.5, 4.5], [10.5, 12.5]]


def test_2048_token_figure_has_no_cell_text(tmp_path):
    from attnviz.render import figure
    from attnviz.render.figure import MAX_TICKS_PIPELINE, pipeline_figure, save_view

    trace = self_attention("가" * 2048, tokenizer="chars")
    fig = pipeline_figure(trace)
    heatmaps = [ax for ax in fig.axes if ax.get_label().startswith("heatmap")]
    assert heatmaps
    for ax in heatmaps:
        assert figure.labels(ax, "cells") == [] and len(ax.texts) == 0
        assert 0 < len(figure.labels(ax, "yticks")) <= MAX_TICKS_PIPELINE
    path = save_view(fig, tmp_path / "long.png", dpi=50)
    assert path.stat().st_size > 0


@pytest.mark.parametrize("n", [1, 17])
def test_softmax_keeps_float32(n):
    x = np.random.default_rng(n).normal(size=(3, n)).astype(np.float32)
    assert attention.softmax(x).dtype == np.float64  # the default: float64, as every trace before
    assert attention.softmax(x, dtype=np.float32).dtype == np.float32
    assert np.allclose(attention.softmax(x, dtype=np.float32), attention.softmax(x), atol=1e-6)


def test_pool_fast_path_equals_the_general_one():
    import attnviz.render.figure.heatmap as fig

    m = np.random.default_rng(1).normal(size=(12, 8)).astype(np.float32)
    old, fig.HEATMAP_CELLS = fig.HEATMAP_CELLS, 4
    try:
        for peak in (True, False):
            fast, none = fig._pool(m, None, peak)  # no mask, whole blocks: the strided path
            general, _ = fig._pool(m, np.zeros(m.shape, dtype=bool), peak)
            assert none is None and np.allclose(fast, general)
    finally:
        fig.HEATMAP_CELLS = old
