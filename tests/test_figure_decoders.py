"""The RoPE and GQA figures (render/figure/rope.py, gqa.py) and where they are saved: what they draw is the trace's
numbers, both languages, and plain traces' figure folders are unchanged."""

import math
from pathlib import Path

import numpy as np
import pytest
from matplotlib.patches import ConnectionPatch
from typer.testing import CliRunner

from attnviz.cli import app
from attnviz.errors import InputError
from attnviz.pipeline import model_attention, self_attention
from attnviz.render.figure import gqa_figure, labels, rope_figure, save_view, texts
from attnviz.render.figure.style import _num

FIXTURES = Path(__file__).parent / "fixtures"
TEXT = "The cat sat on the mat"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def llama():
    return model_attention(FIXTURES / "tiny-llama", TEXT, 0)


def _axes(fig, name):
    return next(ax for ax in fig.axes if ax.get_label() == f"heatmap {name}")


def test_rope_figure_draws_the_angles_and_the_turned_pairs(llama, tmp_path):
    focus = 3
    fig = rope_figure(llama, focus=focus)
    rope = llama.attention.rope
    cells = labels(_axes(fig, "rope"), "cells")
    expected = [_num(v, 2) for v in np.mod(rope.angles, 2 * math.pi).ravel()]
    assert cells == expected  # every cell: θ mod 2π, rows positions, columns pairs
    q_cells = labels(_axes(fig, "q_rope"), "cells")
    hd = llama.heads[0]
    assert q_cells == [_num(v, 2) for v in np.stack([hd.q_unrotated[focus], hd.q[focus]]).ravel()]
    drawn = texts(fig)
    assert any(t.startswith("RoPE · rotary positions: “The cat sat on the mat”") for t in drawn)
    assert f"pair 1 (d1, d5)\nθ = {_num(rope.angles[focus, 0], 2)}" in drawn
    assert f"pair 4 (d4, d8)\nθ = {_num(rope.angles[focus, 3], 2)}" in drawn
    path = save_view(fig, tmp_path / "rope.png")
    assert path.read_bytes()[:8] == PNG and path.stat().st_size > 20_000


def test_rope_figure_in_korean_and_its_errors():
    seeded = self_attention("고양이는 침대에서 잔다", rope_theta=10000.0)
    drawn = texts(rope_figure(seeded, focus=2, lang="ko"))
    assert any(t.startswith("RoPE · 회전 위치 인코딩") for t in drawn)
    assert "1번 쌍 (d1, d3)\nθ = 2.00" in drawn and "2번 쌍 (d2, d4)\nθ = 0.02" in drawn
    with pytest.raises(InputError, match="no rotary positions"):
        rope_figure(self_attention("고양이는 침대에서 잔다"))


def test_gqa_figure_groups_and_cache(llama, tmp_path):
    fig = gqa_figure(llama, focus=2)
    drawn = texts(fig)
    assert {"K/V 1", "K/V 2", "1", "4"} <= set(drawn)
    assert "multi-head: 2 · h · d_k = 64" in drawn and "this model: 2 · g · d_k = 32 (50%)" in drawn
    links = [a for a in fig.artists if isinstance(a, ConnectionPatch)]
    assert len(links) == llama.n_heads
    colours = [tuple(link.get_edgecolor()) for link in links]
    assert colours[0] == colours[1] != colours[2] == colours[3]  # heads 1, 2 → K/V 1; heads 3, 4 → K/V 2
    ko = texts(gqa_figure(self_attention("고양이는 침대에서 잔다", n_heads=4, d_k=2, kv_heads=1), lang="ko"))
    assert any(t.startswith("MQA · 멀티 쿼리 어텐션") for t in ko)
    with pytest.raises(InputError, match="no GQA"):
        gqa_figure(self_attention("고양이는 침대에서 잔다", n_heads=2))
    assert save_view(fig, tmp_path / "gqa.svg").read_text(encoding="utf-8").startswith("<?xml")


def test_cli_saves_the_new_figures(tmp_path):
    runner = CliRunner()
    out = tmp_path / "llama"
    result = runner.invoke(app, ["explain", "The cat sat", "--model", str(FIXTURES / "tiny-llama"), "--out-dir",
                                 str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "09-rope.png").read_bytes()[:8] == PNG and (out / "10-gqa.png").read_bytes()[:8] == PNG
    plain = tmp_path / "plain"
    assert runner.invoke(app, ["explain", "--out-dir", str(plain)]).exit_code == 0
    assert sorted(p.name for p in plain.iterdir())[-1] == "08-output.png"  # a plain trace: no 09, no 10
    rope = tmp_path / "rope.png"
    result = runner.invoke(app, ["explain", "--rope", "--stage", "rope", "--png", str(rope)])
    assert result.exit_code == 0 and rope.read_bytes()[:8] == PNG
    result = runner.invoke(app, ["explain", "--stage", "gqa", "--png", str(tmp_path / "none.png")])
    assert result.exit_code == 1 and not (tmp_path / "none.png").exists()
