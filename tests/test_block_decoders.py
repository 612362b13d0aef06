"""`attnviz block --model` on today's decoders (tiny random checkpoints in tests/fixtures): the RMSNorm panel, the
gated FFN, Gemma's norms around each sublayer — the numbers shown are the trace's, the view fits 80 columns, and
the block figure draws them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from console import fits, render
from typer.testing import CliRunner

from attnviz.cli import app
from attnviz.models import block_trace, load_model
from attnviz.render.terminal import View, block_view

FIXTURES = Path(__file__).parent / "fixtures"
TEXT = "The cat sat"


def panel(out: str, title: str) -> str:
    start = out.index(f"[{title}")
    return out[start:out.index("\n└", start)]


def flat(text: str) -> str:
    """The panel's text on one line, borders and wrapping gone."""
    return " ".join(text.replace("│", " ").split())


@pytest.fixture(scope="module")
def llama():
    return block_trace(load_model(FIXTURES / "tiny-llama"), TEXT, 1)


@pytest.fixture(scope="module")
def gemma2():
    return block_trace(load_model(FIXTURES / "tiny-gemma2"), TEXT, 0)


def test_llama_block_steps_and_rmsnorm_panel(llama):
    assert llama.norm1.kind == "rms" and llama.norm1.beta is None and llama.ffn.gated
    out = render(block_view(llama, focus=1, view=View(width=80)))
    fits(out)
    steps = ["① RMSNorm", "② Masked multi-head self-attention", "③ Residual: x + Attn(RMS(x))", "④ RMSNorm",
             "⑤ Gated feed-forward network (SwiGLU)", "⑥ Residual: x + FFN(RMS(x))", "⑦ Final RMSNorm"]
    at = [out.index(f"[{s}]") for s in steps]
    assert at == sorted(at)
    rms = flat(panel(out, "① RMSNorm"))
    n = llama.norm1
    label = llama.attention.query_tokens[1].label
    assert (f"{label}: mean(x²) = {n.var[1]:.2f}, ε = 1e-05 → RMS = √(mean(x²) + ε) = "
            f"{np.sqrt(n.var[1] + 1e-5):.2f}; x / RMS has RMS 1.00") in rms
    row = re.search(r"2 The ([-\d.]+) ([-\d.]+) ([-\d.]+)", rms)
    expected = (n.rms[1], np.sqrt(np.mean(n.normed[1] ** 2)), np.sqrt(np.mean(n.output[1].astype(float) ** 2)))
    assert [float(x) for x in row.groups()] == [round(float(v), 2) for v in expected]
    assert "learned scale w (no mean, no β)" in rms and f" w {n.gamma[0]:.2f} " in rms


def test_llama_gated_ffn_panel_numbers(llama):
    out = flat(panel(render(block_view(llama, focus=2, view=View(width=80))), "⑤ Gated"))
    f = llama.ffn
    assert "SiLU(gate) ⊙ up" in out
    act, up, prod = f.activated[2], f.up[2], f.product[2]
    assert np.allclose(prod, act * up, rtol=1e-6)
    assert f"{act[0]:.2f} × {up[0]:.2f} = {prod[0]:.2f}" in out
    silu = f.hidden[2, 0] / (1 + np.exp(-f.hidden[2, 0]))
    assert round(float(silu), 2) == round(float(act[0]), 2)
    t = len(llama.attention.query_tokens)
    assert f"{t} × 32 → gate, up: {t} × 64 → SiLU(gate) ⊙ up → {t} × 32" in out


def test_gemma2_sandwich_norms(gemma2):
    assert gemma2.post_attn is not None and gemma2.post_ffn is not None
    for lang in ("en", "ko"):
        out = render(block_view(gemma2, view=View(width=80, lang=lang)))
        fits(out)
    out = render(block_view(gemma2, view=View(width=80)))
    steps = ["① RMSNorm", "② Masked", "③ RMSNorm of Attn's output", "④ Residual: x + N′(Attn)", "⑤ RMSNorm",
             "⑥ Gated feed-forward network (GeGLU)", "⑦ RMSNorm of FFN's output", "⑧ Residual: x + N′(FFN)"]
    at = [out.index(f"[{s}") for s in steps]
    assert at == sorted(at)
    assert "learned scale 1 + w" in flat(panel(out, "① RMSNorm"))  # Gemma's (1 + w)
    res = flat(panel(out, "④ Residual"))
    x = gemma2.x[0, 0]
    post = gemma2.post_attn.output[0, 0]
    assert f"{x:.2f}" in res and f"{post:.2f}" in res
    assert np.allclose(gemma2.residual1, gemma2.x + gemma2.post_attn.output, atol=1e-5)


def test_block_cli_figure_and_json(tmp_path):
    runner = CliRunner()
    png = tmp_path / "block.png"
    args = ["block", TEXT, "--model", str(FIXTURES / "tiny-gemma2"), "--layer", "1"]
    result = runner.invoke(app, [*args, "--png", str(png)])
    assert result.exit_code == 0, result.output
    assert png.stat().st_size > 10_000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from attnviz.render.figure import block_figure, texts

    bt = block_trace(load_model(FIXTURES / "tiny-gemma2"), TEXT, 1)
    drawn = texts(block_figure(bt))
    assert {"RMSNorm", "N′(Attn)", "GeGLU FFN", "N′(FFN)", "final RMSNorm"} <= set(drawn)
    doc = json.loads(runner.invoke(app, [*args, "--json", "-"]).output)
    assert doc["norm1"]["kind"] == "rms" and doc["norm1"]["mean"] is None and doc["norm1"]["beta"] is None
    assert doc["post_attn"]["offset"] == 1.0 and len(doc["ffn"]["up"]) == len(doc["ffn"]["product"])
    gpt2 = json.loads(runner.invoke(app, ["block", TEXT, "--model", str(FIXTURES / "tiny-gpt2"), "--json", "-"]
                                    ).output)
    assert "post_attn" not in gpt2 and "kind" not in gpt2["norm1"] and "up" not in gpt2["ffn"]
