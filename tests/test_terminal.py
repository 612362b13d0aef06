"""Terminal panels rendered at 80 columns without colour: content, detail lines, width, cuts."""

import io

import numpy as np
import pytest
from rich.cells import cell_len
from rich.console import Console

from attnviz.pipeline import self_attention
from attnviz.render.terminal import STAGES, View, explain_view


def render(trace, width=80, **kwargs):
    view = View(lang=kwargs.pop("lang", "en"), precision=kwargs.pop("precision", 2), width=width,
                full=kwargs.pop("full", False))
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(explain_view(trace, view=view, **kwargs))
    return console.file.getvalue()


@pytest.fixture(scope="module")
def seed_trace():
    return self_attention("고양이는 침대에서 잔다", tokenizer="words")


def test_pipeline_panels_in_seed_order(seed_trace):
    out = render(seed_trace)
    order = ["[Input]", "[Tokens]", "[Input X = E + P]", "[Step 0 · Query, Key, Value]",
             "[Step 1 · Scores Q·Kᵀ]", "[Step 2 · Scaled", "[Step 3 · Softmax]", "[Step 4 · Weighted sum",
             "[Output = concat·W_O]", "[Passed to the next layer]"]
    positions = [out.index(title) for title in order]
    assert positions == sorted(positions)
    assert out.count("↓") >= len(order) - 1
    assert "┌─" in out and "└─" in out


def test_lines_fit_80_columns(seed_trace):
    for line in render(seed_trace).splitlines():
        assert cell_len(line) <= 80, line


def test_focus_detail_lines_match_the_numbers(seed_trace):
    hd = seed_trace.heads[0]
    out = render(seed_trace)
    assert f"Q1 · K3 → {hd.scores[0, 2]:.2f} ← 고양이는 · 잔다" in out
    assert "√d_k = √4 = 2.00" in out
    best = int(np.argmax(hd.weights[0]))
    label = seed_trace.key_tokens[best].label
    assert f"고양이는 → {label}: ({hd.weights[0, best]:.2f}) ← most attended" in out
    assert f"{hd.weights[0, 0]:.2f} × V1 +" in out
    vec = "[" + ", ".join(f"{v:.2f}" for v in hd.output[0]) + "]"
    assert f"= {vec}" in out


def test_query_focus_and_precision(seed_trace):
    hd = seed_trace.heads[0]
    out = render(seed_trace, focus=2, precision=3, stage="scores")
    assert f"Q3 · K1 → {hd.scores[2, 0]:.3f} ← 잔다 · 고양이는" in out


@pytest.mark.parametrize("stage", [s for s in STAGES if s != "all"])
def test_each_stage_alone(seed_trace, stage):
    out = render(seed_trace, stage=stage)
    assert out.count("┌─") >= 1
    assert ("[Step 3 · Softmax]" in out) == (stage == "softmax")


def test_korean_captions(seed_trace):
    out = render(seed_trace, lang="ko")
    for title in ("0단계", "1단계", "2단계", "3단계", "4단계", "다음 레이어로 전달", "가장 집중"):
        assert title in out


def test_long_input_is_cut_with_a_note():
    tr = self_attention("가나다라마바사아자차카타파하" * 3, tokenizer="chars")
    out = render(tr, stage="softmax")
    assert "…" in out and "⋮" in out
    assert "use --full" in out
    assert all(cell_len(line) <= 80 for line in out.splitlines())
    full = render(tr, stage="softmax", full=True, width=400)
    assert "use --full" not in full
    assert "K42" in full


def test_no_ansi_without_colour(seed_trace):
    assert "\x1b[" not in render(seed_trace)


def test_masked_cells_show_minus_infinity():
    tr = self_attention("a b c", tokenizer="words", causal=True)
    out = render(tr, stage="scaled")
    assert "−∞" in out


def test_a_long_weighted_sum_lists_its_largest_weights_first_and_sums_the_rest():
    trace = self_attention("고양이는 침대에서 잔다. 강아지는 마당에서 뛰어논다. " * 4, tokenizer="chars")
    row = trace.heads[0].weights[4]
    out = render(trace, stage="output", focus=4)
    shown = [line.split("×")[0].strip("│ ") for line in out.splitlines() if "× V" in line]
    assert len(shown) == 11 and len(row) > 12
    expected = sorted(row, reverse=True)[:11]
    assert [float(s) for s in shown] == pytest.approx(expected, abs=0.005)  # the largest, largest first
    rest = float(out.split("weights summing to ")[1].split()[0])
    assert rest == pytest.approx(1 - sum(expected), abs=0.006)
    assert f"+ {len(row) - 11} more terms" in out


def test_a_narrow_console_drops_the_sum_column_before_cutting_numbers():
    trace = self_attention("고양이는 침대에서 잔다")
    out = render(trace, width=40, stage="softmax", precision=4)
    rows = [line for line in out.splitlines() if line.startswith("│ Q")]
    assert rows and all(cell_len(line) == 40 for line in rows)
    weights = trace.heads[0].weights
    for i, line in enumerate(rows[:5]):
        assert f"{weights[i, 0]:.4f}" in line and f"{weights[i, -1]:.4f}" in line  # whole numbers, not cut
    assert "Σ" not in out.split("[Step 3")[1].split("Focus")[0]
    assert "Σ" in render(trace, width=80, stage="softmax", precision=4)  # where there is room, the sums stay
