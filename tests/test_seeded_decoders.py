"""Today's decoder parts on the seeded teaching model (explain --rope, heads --kv-heads, mask --window,
block --norm rms --ffn swiglu --pre-norm): small enough to check by hand, the same layers real checkpoints use,
and the seeded defaults untouched when none of them is asked for."""

import re

import numpy as np
import pytest
from console import fits, render
from typer.testing import CliRunner

from attnviz.block import block_from_text
from attnviz.cli import app
from attnviz.errors import InputError
from attnviz.pipeline import make_weights, self_attention
from attnviz.render.terminal import View, block_view, explain_view, heads_view, mask_view

SENTENCE = "고양이는 침대에서 잔다"


def test_rope_d_k_4_by_hand():
    trace = self_attention(SENTENCE, tokenizer="words", rope_theta=10000.0)
    rope = trace.attention.rope
    assert rope.rotary_dim == 4 and np.array_equal(rope.inv_freq, [1.0, 0.01])  # ω_i = 10000^(−2i/4)
    assert np.array_equal(rope.angles[:, 0], np.arange(3)) and np.allclose(rope.angles[:, 1], 0.01 * np.arange(3))
    assert not trace.positions.any() and np.array_equal(trace.x, trace.embeddings)  # no P: RoPE instead
    hd = trace.heads[0]
    for m in range(3):
        a, b, c, d = hd.q_unrotated[m]  # pairs (d1, d3) and (d2, d4)
        t1, t2 = m * 1.0, m * 0.01
        by_hand = [a * np.cos(t1) - c * np.sin(t1), b * np.cos(t2) - d * np.sin(t2),
                   c * np.cos(t1) + a * np.sin(t1), d * np.cos(t2) + b * np.sin(t2)]
        assert np.allclose(hd.q[m], by_hand, atol=1e-12)
    assert np.allclose(hd.scores, hd.q @ hd.k.T)
    assert np.allclose(np.linalg.norm(hd.q, axis=1), np.linalg.norm(hd.q_unrotated, axis=1))


def test_rope_view_and_relative_line_at_80_columns():
    trace = self_attention(SENTENCE, rope_theta=10000.0, causal=True)
    for lang in ("en", "ko"):
        out = render(explain_view(trace, focus=3, view=View(lang=lang, width=80)))
        fits(out)
        assert "[RoPE" in out and "ω = [1, 0.01]" in out
    out = " ".join(render(explain_view(trace, focus=3, stage="rope", view=View(width=80))).replace("│", " ").split())
    found = re.search(r"q·k = (-?[\d.]+) and (-?[\d.]+) \(\|Δ\| = ([\d.e+-]+)\)", out)
    assert found and found.group(1) == found.group(2) and float(found.group(3)) < 1e-12
    assert f"{trace.heads[0].scores[3, 2]:.2f}" == found.group(1)  # (m, n) = (3, 2): the table's Q4 · K3


def test_defaults_are_plain_multi_head_attention():
    plain = self_attention(SENTENCE)
    assert plain.attention is None and plain.heads[0].kv_head is None and plain.heads[0].q_unrotated is None
    assert plain.positions.any()  # sinusoidal P, as before
    block = block_from_text(SENTENCE, make_weights(0))
    assert block.params.norm == "layer" and not block.ffn.gated and block.norm1.kind == "layer"


def test_kv_heads_share_the_first_head_of_each_group():
    mha = self_attention(SENTENCE, n_heads=4, d_k=2)
    gqa = self_attention(SENTENCE, n_heads=4, d_k=2, kv_heads=2)
    assert gqa.attention.n_kv_heads == 2 and [h.kv_head for h in gqa.heads] == [0, 0, 1, 1]
    for i, kv in enumerate([0, 0, 2, 2]):  # K/V of query head i: the MHA head that leads its group
        assert np.array_equal(gqa.heads[i].q, mha.heads[i].q)
        assert np.array_equal(gqa.heads[i].k, mha.heads[kv].k) and np.array_equal(gqa.heads[i].v, mha.heads[kv].v)
    for i in (0, 2):  # the first head of each group is the MHA head itself
        assert np.array_equal(gqa.heads[i].weights, mha.heads[i].weights)
    out = render(heads_view(gqa, view=View(width=80)))
    fits(out)
    assert "query heads 1, 2 → K/V head 1" in out and "query heads 3, 4 → K/V head 2" in out
    assert "2 · 2 · 2 = 8 numbers" in " ".join(out.replace("│", " ").split())
    mqa = self_attention(SENTENCE, n_heads=4, d_k=2, kv_heads=1)
    assert "[MQA · multi-query attention]" in render(explain_view(mqa, stage="gqa", view=View(width=80)))
    with pytest.raises(InputError, match="--kv-heads 3 does not divide the 4 heads"):
        self_attention(SENTENCE, n_heads=4, d_k=2, kv_heads=3)


def test_window_mask_by_hand():
    trace = self_attention(SENTENCE, window=2, tokenizer="words")
    i, j = np.indices((3, 3))
    assert trace.causal and np.array_equal(trace.heads[0].mask, (i - j >= 0) & (i - j < 2))
    assert np.all(trace.heads[0].weights[2, 0] == 0)
    out = render(mask_view(trace, focus=2, view=View(width=80)))
    fits(out)
    assert "[Decoder · sliding-window mask (W = 2)]" in out
    with pytest.raises(InputError, match="--d-k must be even"):
        self_attention(SENTENCE, d_k=3, rope_theta=10000.0)


def test_rms_swiglu_block_by_hand():
    bt = block_from_text(SENTENCE, make_weights(0), norm="rms", ffn="swiglu", norm_first=True)
    p = bt.params
    for w in (p.w1, p.w_up, p.w2):
        assert np.array_equal(w, np.round(w, 2))  # two decimals: multiply by hand
    assert p.b1 is None and p.b2 is None and p.activation == "silu" and p.norm == "rms"
    x = bt.x
    by_hand = x / np.sqrt(np.mean(x**2, axis=1, keepdims=True) + p.eps)  # RMSNorm with w = 1
    assert np.allclose(bt.norm1.output, by_hand) and bt.norm1.beta is None
    assert np.allclose(bt.attention.x, bt.norm1.output) and np.allclose(bt.residual1, x + bt.attention.output)
    h = bt.norm2.output
    gate = h @ p.w1
    expected = (gate / (1 + np.exp(-gate)) * (h @ p.w_up)) @ p.w2  # (SiLU(h W_gate) ⊙ h W_up) W_down
    assert np.allclose(bt.ffn.output, expected) and np.allclose(bt.residual2, bt.residual1 + expected)
    for lang, step in (("en", "⑤ Gated feed-forward network (SwiGLU)"), ("ko", "⑤ 게이트 피드포워드 네트워크(SwiGLU)")):
        out = render(block_view(bt, view=View(width=80, lang=lang)))
        fits(out)
        assert f"[{step}]" in out
    assert "Here w = 1 in every dimension" in render(block_view(bt, view=View(width=80)))  # seeded w = 1


def test_cli_options_and_their_errors(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["explain", "--rope", "--stage", "rope", "--query", "3"])
    assert result.exit_code == 0, result.output
    assert "pair 1 (d1, d3) turns by θ = 2 · 1 = 2.00" in result.output
    result = runner.invoke(app, ["heads", "--heads", "4", "--kv-heads", "3"])
    assert result.exit_code == 1 and result.output.strip().endswith("(1 = multi-query attention)")
    result = runner.invoke(app, ["mask", "--window", "2"])
    assert result.exit_code == 0 and "(W = 2)" in result.output and "[Encoder · no mask]" not in result.output
    result = runner.invoke(app, ["block", "--norm", "rms", "--ffn", "geglu", "--json", "-"])
    assert result.exit_code == 0 and '"activation":"gelu"' in result.output and '"w_up":' in result.output
    for args in (["explain", "--rope", "--model", "tests/fixtures/tiny-llama"],
                 ["block", "--norm", "rms", "--model", "tests/fixtures/tiny-llama"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 1 and result.output.startswith("Error: ")
        assert "drop one or the other" in result.output
