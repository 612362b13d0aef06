"""The explain and mask views of today's decoders at 80 columns: q/k-norm, RoPE, GQA, the scale used, soft-capping,
the sliding-window mask — with the numbers checked against the trace (tiny random checkpoints in tests/fixtures)."""

import re
from pathlib import Path

import numpy as np
import pytest
from console import fits, render
from typer.testing import CliRunner

from attnviz import positions
from attnviz.cli import app
from attnviz.pipeline import model_attention, self_attention
from attnviz.render.terminal import View, explain_view, mask_view
from attnviz.render.terminal.explain import pipeline_stages
from attnviz.trace import without_special

FIXTURES = Path(__file__).parent / "fixtures"
TEXT = "The cat sat on the mat"


@pytest.fixture(scope="module")
def llama():
    return model_attention(FIXTURES / "tiny-llama", TEXT, 0)


@pytest.fixture(scope="module")
def gemma2():
    return model_attention(FIXTURES / "tiny-gemma2", TEXT, 0)  # layer 0: sliding window 4, soft-cap 5


def explain(trace, lang="en", **kw):
    return render(explain_view(trace, view=View(lang=lang, width=80), **kw))


def panel(out: str, title: str) -> str:
    """The text of the panel titled `title` (from its top border to its bottom one)."""
    start = out.index(f"[{title}")
    end = out.index("\n└", start)
    return out[start:end]


def test_llama_pipeline_has_the_decoder_stages_in_order(llama):
    assert pipeline_stages(llama) == ("input", "qkv", "rope", "gqa", "scores", "scaled", "mask", "softmax", "output")
    for lang in ("en", "ko"):
        out = explain(llama, lang=lang, focus=3)
        fits(out)
        en = ["[Step 0", "[RoPE", "[GQA", "[Step 1", "[Step 2", "[Mask · causal]", "[Step 3", "[Step 4"]
        ko = ["[0단계", "[RoPE", "[GQA", "[1단계", "[2단계", "[마스크 · 인과", "[3단계", "[4단계"]
        titles = en if lang == "en" else ko
        at = [out.index(t) for t in titles]
        assert at == sorted(at)


def test_plain_traces_keep_their_stages():
    trace = self_attention("고양이는 침대에서 잔다", tokenizer="words", causal=True)
    assert trace.attention is None
    assert pipeline_stages(trace) == ("input", "qkv", "scores", "scaled", "softmax", "output")
    out = explain(trace)
    assert "RoPE" not in out and "GQA" not in out and "[Mask" not in out
    assert "−∞" in panel(out, "Step 2")  # the seeded causal trace still shows −∞ in its scaled table


def test_gqa_table_and_cache(llama):
    out = panel(explain(llama, head=1), "GQA")
    assert re.search(r"query heads 1, 2 → K/V head 1 +← this view: head 2 → K/V head 1", out)
    assert "query heads 3, 4 → K/V head 2" in out
    assert "2 · g · d_k = 2 · 2 · 8 = 32 numbers" in out and "2 · h · d_k = 64" in out and "50%" in out
    assert "Heads 1, 2 read the very same K and V" in out and "= 0." in out
    assert np.array_equal(llama.heads[0].k, llama.heads[1].k)  # what that line claims
    assert [hd.kv_head for hd in llama.heads] == [0, 0, 1, 1]


def test_rope_angles_pair_and_focus_rows(llama):
    focus = 3
    rope = llama.attention.rope
    hd = llama.heads[0]
    out = panel(explain(llama, focus=focus), "RoPE")
    assert "base = 500000, r = 8 of d_k = 8 dims rotated (4 pairs) · scaling: llama3" in out
    row = next(line for line in out.splitlines() if "m=3 at" in line)
    assert [float(x) for x in row.split()[3:7]] == [round(float(a), 2) for a in rope.angles[3]]
    assert np.allclose(rope.angles[1], rope.inv_freq, rtol=1e-6)  # the row m = 1 is ω itself
    a, b = (float(x) for x in hd.q_unrotated[focus, [0, 4]])
    theta = float(rope.angles[focus, 0])
    a1, b1 = a * np.cos(theta) - b * np.sin(theta), b * np.cos(theta) + a * np.sin(theta)
    assert f"({a:.2f}, {b:.2f}) → ({a1:.2f}, {b1:.2f})" in out
    assert (round(a1, 2), round(b1, 2)) == (round(float(hd.q[focus, 0]), 2), round(float(hd.q[focus, 4]), 2))
    n = float(np.linalg.norm(hd.q[focus]))
    assert f"‖q‖ = {n:.2f} before, {n:.2f} after" in out


def test_rope_relative_scores_are_equal_and_match_the_table(llama):
    focus = 3
    out = " ".join(panel(explain(llama, focus=focus), "RoPE").split())
    found = re.search(r"\(m, n\) = \((\d+), (\d+)\) and \((\d+), (\d+)\): q·k = (-?[\d.]+) and (-?[\d.]+) "
                      r"\(\|Δ\| = ([\d.e+-]+)\)", out.replace("│ │", " "))
    assert found, out
    m1, n1, m2, n2 = (int(found.group(i)) for i in range(1, 5))
    assert m1 - n1 == m2 - n2 and (m1, n1) != (m2, n2)
    assert found.group(5) == found.group(6) and float(found.group(7)) < 1e-9
    hd = llama.heads[0]
    # the first pair is the table's own Q4 · K3: the real rotated vectors give the same score
    assert (m1, n1) == (3, 2)
    assert f"{float(hd.scores[3, 2]):.2f}" == found.group(5)
    omega = llama.attention.rope.inv_freq
    q = positions.apply_rope(hd.q_unrotated[3][None].astype(float), (m2 * omega)[None])[0]
    k = positions.apply_rope(hd.k_unrotated[2][None].astype(float), (n2 * omega)[None])[0]
    assert f"{float(q @ k):.2f}" == found.group(6)


def test_gemma2_scale_softcap_and_window(gemma2):
    focus = 6
    out = explain(gemma2, focus=focus, lang="en")
    fits(out)
    scaled = panel(out, "Step 2 · Scaled Q·Kᵀ × scale")
    assert "scale = 1/√12 = 0.2887 (query_pre_attn_scalar = 12, not d_k = 16)" in " ".join(scaled.split())
    assert "÷" not in scaled  # a division that does not happen is not shown
    hd = gemma2.heads[0]
    assert f"Q7 · K1 : {hd.scores[6, 0]:.2f} × 0.2887 = {hd.scaled[6, 0]:.2f}" in " ".join(scaled.split())
    capped = panel(out, "Step 2½ · Soft-capping")
    assert "cap = 5: capped = 5 · tanh(scaled / 5)" in capped
    expected = 5 * np.tanh(hd.scaled[6, 1] / 5)
    flat = re.sub(r"\(\s+", "(", " ".join(capped.split()))  # numbers are right-aligned: "tanh( 2.83 / 5)"
    assert f"Q7 · K2 : 5 · tanh({hd.scaled[6, 1]:.2f} / 5) = {expected:.2f}" in flat
    assert np.all(np.abs(hd.capped) < 5)
    mask = panel(out, "Mask · causal + sliding window W = 4")
    assert "Q7 a sees 4 of 14 keys: K4–K7" in mask and "K1–K3: out of the window (i − j ≥ 4)" in mask
    order = [out.index(t) for t in ("[Step 2 · Scaled", "[Step 2½", "[Mask", "[Step 3")]
    assert order == sorted(order)


def grid_rows(out: str) -> dict[str, list[str]]:
    """The ○/× grid's rows: "Q7" → ["×", "×", "×", "○", …] (cells in key order, as drawn)."""
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.split("│")]
        cells = [c for c in cells if c]
        if cells and re.match(r"Q\d+ ", cells[0]) and all(c in "○×…" for c in cells[1:]) and len(cells) > 2:
            rows.setdefault(cells[0].split()[0], cells[1:])
    return rows


def test_sliding_window_grid_hides_i_minus_j_at_least_w():
    trace = model_attention(FIXTURES / "tiny-mistral", "The cat sat on", 0)
    w = trace.attention.window
    assert w == 4
    out = render(mask_view(trace, view=View(width=80), focus=5))
    fits(out)
    assert "[Decoder · sliding-window mask (W = 4)]" in out
    rows = grid_rows(out)
    t = len(trace.query_tokens)
    assert len(rows) == t
    for i in range(t):
        expected = ["○" if 0 <= i - j < w else "×" for j in range(t)]
        assert rows[f"Q{i + 1}"] == expected


def test_qwen3_qk_norm_line():
    trace = model_attention(FIXTURES / "tiny-qwen3", TEXT, 1)
    assert trace.attention.qk_norm
    out = explain(trace, focus=2, head=1, stage="qkv")
    fits(out)
    hd = trace.heads[1]
    rq = float(np.sqrt(np.mean(np.square(hd.q_unrotated[2], dtype=float))))
    rk = float(np.sqrt(np.mean(np.square(hd.k_unrotated[2], dtype=float))))
    assert f"rms(Q3) = {rq:.2f}, rms(K3) = {rk:.2f}" in " ".join(out.split()).replace("│ │ ", "")
    assert "before RoPE" in out


@pytest.mark.parametrize("family", ["llama", "mistral", "qwen2", "qwen3", "phi3", "gemma", "gemma2", "gemma3"])
def test_every_family_fits_80_columns_in_both_languages(family):
    for layer in (0, 1):
        trace = model_attention(FIXTURES / f"tiny-{family}", TEXT, layer)
        for lang in ("en", "ko"):
            fits(explain(trace, lang=lang, focus=len(trace.query_tokens) - 1, head=trace.n_heads - 1))
        fits(render(mask_view(trace, view=View(width=80, lang="ko"))))


def test_phi3_partial_rotary_and_attention_factor():
    trace = model_attention(FIXTURES / "tiny-phi3", TEXT, 0)
    out = " ".join(panel(explain(trace, stage="rope", focus=2), "RoPE").split())
    rope = trace.attention.rope
    assert rope.rotary_dim == 6 and trace.d_k == 8
    assert "d7–d8 pass through unrotated" in out
    assert f"attention factor {rope.attention_factor:.4g}" in out


def test_no_special_keeps_real_positions(llama):
    trace = without_special(llama)  # drops <|begin_of_text|> at position 0
    assert len(trace.query_tokens) == len(llama.query_tokens) - 1
    assert np.array_equal(trace.attention.rope.positions, np.arange(1, len(llama.query_tokens)))
    out = panel(explain(trace, focus=0), "RoPE")
    assert "m=1 The" in out and "m=0" not in out
    assert trace.heads[0].q_unrotated.shape == trace.heads[0].q.shape


def test_stage_cli_errors_and_single_stages(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["explain", "--stage", "rope"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith("Error: --stage rope: this trace has no rotary")
    result = runner.invoke(app, ["explain", TEXT, "--model", str(FIXTURES / "tiny-llama"), "--stage", "gqa"])
    assert result.exit_code == 0, result.output
    assert "[GQA · grouped-query attention]" in result.output and "[Step 1" not in result.output
    result = runner.invoke(app, ["explain", TEXT, "--model", str(FIXTURES / "tiny-llama"), "--stage", "softcap"])
    assert result.exit_code == 1 and "soft-capped" in result.output


def test_mask_of_a_decoder_checkpoint_sets_no_unmasked_trace_beside_it():
    result = CliRunner().invoke(app, ["mask", "The cat sat", "--model", str(FIXTURES / "tiny-gpt2")])
    assert result.exit_code == 0, result.output
    assert "[Encoder · no mask]" not in result.output  # GPT-2 masks on its own: there is no encoder side
    assert "[Decoder · look-ahead mask]" in result.output
