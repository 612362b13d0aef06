"""Tiled (flash) attention: a hand-worked case, tiled = naive for random shapes, blocks and masks, the
walkthrough's numbers, the memory table, the JSON document and the terminal view at 80 columns."""

import io
import json
import math
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console

from attnviz import attention
from attnviz.errors import InputError
from attnviz.export import flash_to_json
from attnviz.flash import FLOAT32, MEMORY_SIZES, flash_walk, measure_peak, memory_table, working_set_bytes
from attnviz.pipeline import self_attention
from attnviz.render.terminal import View, flash_view
from attnviz.render.terminal.common import _fmt_diff


def qkv(rng, t, s, d_k, d_v, dtype=np.float64):
    """Uniform [−1, 1) q (T, d_k), k (S, d_k), v (S, d_v)."""
    return tuple(rng.uniform(-1, 1, shape).astype(dtype) for shape in ((t, d_k), (s, d_k), (s, d_v)))


def naive(q, k, v, mask=None):
    return attention.attention_stages(q, k, v, mask)[-1]  # (T, d_v)


# --- the kernel ---------------------------------------------------------------------------------

def test_hand_worked_one_query_two_blocks():
    # d_k = 1: scaled = q·k = [1, 2, 0]; block 1 = keys 1–2: m = 2, ℓ = e⁻¹ + 1;
    # block 2 = key 3: m stays 2, rescale e⁰ = 1, ℓ = e⁻¹ + 1 + e⁻²; output = softmax([1, 2, 0]) · v
    q = np.array([[1.0]])
    k = np.array([[1.0], [2.0], [0.0]])
    v = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    out, m, ell = attention.tiled_attention_with_stats(q, k, v, block=2)
    assert m.tolist() == [2.0]
    assert ell[0] == pytest.approx(1 + math.exp(-1) + math.exp(-2), abs=1e-15)
    p = np.exp([1.0 - 2, 0.0, -2.0]) / ell[0]
    np.testing.assert_allclose(out[0], [p[0] + p[2], p[1] + p[2]], atol=1e-15)


@settings(max_examples=80, deadline=None)
@given(t=st.integers(1, 40), s=st.integers(1, 40), d_k=st.integers(1, 16), d_v=st.integers(1, 8),
       block=st.integers(1, 50), query_block=st.one_of(st.none(), st.integers(1, 50)),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**32 - 1))
def test_tiled_equals_naive(t, s, d_k, d_v, block, query_block, dtype, seed):
    q, k, v = qkv(np.random.default_rng(seed), t, s, d_k, d_v, dtype)
    out = attention.tiled_attention(q, k, v, block=block, query_block=query_block)
    assert out.dtype == dtype and out.shape == (t, d_v)
    np.testing.assert_allclose(out, naive(q, k, v), rtol=0, atol=1e-6 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-6), (np.float64, 1e-12)])
@pytest.mark.parametrize("t, s, block", [
    (100, 100, 7),  # the block does not divide n
    (64, 64, 64),  # exactly one block
    (10, 10, 64),  # block larger than n: a single block
    (1, 1, 1),
    (37, 91, 16),  # T ≠ S
    (91, 37, 16),
    (300, 200, 33),
])
def test_tiled_equals_naive_shapes(dtype, tol, t, s, block):
    q, k, v = qkv(np.random.default_rng(t * 1000 + s), t, s, 8, 5, dtype)
    np.testing.assert_allclose(attention.tiled_attention(q, k, v, block=block), naive(q, k, v), rtol=0, atol=tol)


@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-6), (np.float64, 1e-12)])
@pytest.mark.parametrize("t, s, block", [(20, 20, 3), (13, 29, 4), (29, 13, 4), (50, 50, 64), (64, 64, 8)])
def test_causal_skips_blocks_and_matches(dtype, tol, t, s, block):
    q, k, v = qkv(np.random.default_rng(7), t, s, 4, 3, dtype)
    mask = attention.causal_mask(t, s)  # (T, S)
    ref = naive(q, k, v, mask)
    np.testing.assert_allclose(attention.tiled_attention(q, k, v, block=block, causal=True), ref, rtol=0, atol=tol)
    np.testing.assert_allclose(attention.tiled_attention(q, k, v, block=block, mask=mask), ref, rtol=0, atol=tol)
    if t > s:  # queries 1 … T − S see no key at all
        assert np.all(attention.tiled_attention(q, k, v, block=block, causal=True)[: t - s] == 0)


@settings(max_examples=60, deadline=None)
@given(t=st.integers(1, 30), s=st.integers(1, 30), block=st.integers(1, 40), causal=st.booleans(),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**32 - 1))
def test_random_masks(t, s, block, causal, dtype, seed):
    rng = np.random.default_rng(seed)
    q, k, v = qkv(rng, t, s, 4, 3, dtype)
    mask = rng.random((t, s)) < 0.6  # (T, S)
    mask[rng.random(t) < 0.2] = False  # some queries see nothing
    full = mask & attention.causal_mask(t, s) if causal else mask
    out, m, ell = attention.tiled_attention_with_stats(q, k, v, block=block, mask=mask, causal=causal)
    assert not np.isnan(out).any()
    np.testing.assert_allclose(out, naive(q, k, v, full), rtol=0, atol=1e-6 if dtype == np.float32 else 1e-12)
    hidden = ~full.any(axis=1)  # (T,)
    assert np.all(out[hidden] == 0) and np.all(ell[hidden] == 0) and np.all(m[hidden] == -np.inf)
    assert np.all(ell[~hidden] >= 1)  # the max key contributes exp(0) = 1


def test_every_key_hidden_gives_zeros_not_nan():
    q, k, v = qkv(np.random.default_rng(0), 4, 6, 4, 2)
    out = attention.tiled_attention(q, k, v, block=4, mask=np.zeros((4, 6), dtype=bool))
    assert out.tolist() == [[0.0, 0.0]] * 4


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_scores_are_stable(dtype):
    # scaled scores of ±1e4: exp would overflow without the running max
    q = np.array([[100.0, 0], [-100.0, 0], [0, 100.0]], dtype=dtype)
    k = np.array([[200.0, 0], [-200.0, 0], [0, 200.0], [1.0, 1.0]], dtype=dtype)  # q·k / √2 ≈ ±1.4e4
    v = np.arange(8, dtype=dtype).reshape(4, 2)
    for block in (1, 2, 3, 4):
        out = attention.tiled_attention(q, k, v, block=block)
        assert np.isfinite(out).all()
        np.testing.assert_allclose(out, naive(q, k, v), atol=1e-6)
    # the max in a later block than the first: the earlier sum is rescaled by exp(−huge) = 0, not inf·0
    out = attention.tiled_attention(q[:1], k[::-1], v[::-1], block=1)
    np.testing.assert_allclose(out, v[:1], atol=1e-6)


def test_dtypes():
    q, k, v = qkv(np.random.default_rng(0), 5, 5, 4, 4, np.float32)
    assert attention.tiled_attention(q, k, v).dtype == np.float32
    assert attention.tiled_attention(q.astype(np.float64), k, v).dtype == np.float64
    ints = np.ones((2, 2), int), np.ones((3, 2), int), np.ones((3, 1), int)
    assert attention.tiled_attention(*ints).dtype == np.float64


def test_never_holds_the_score_matrix():
    t = s = 2048
    q, k, v = qkv(np.random.default_rng(0), t, s, 16, 16, np.float32)
    peak = measure_peak(attention.tiled_attention, q, k, v, block=128)
    assert peak < t * s * FLOAT32 / 8  # the (T, S) float32 matrix would be 16 MiB; this is well under 2 MiB
    assert measure_peak(attention.attention_stages, q, k, v) > t * s * FLOAT32


def test_measure_peak_inside_tracing():
    tracemalloc.start()
    try:
        big = measure_peak(np.zeros, 1 << 20)
        assert big >= 8 << 20 and tracemalloc.is_tracing()
    finally:
        tracemalloc.stop()
    assert not tracemalloc.is_tracing()


# --- the walkthrough ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seed_trace():
    return self_attention("고양이는 침대에서 잔다", tokenizer="words")  # 3 tokens


@pytest.mark.parametrize("block", [1, 2, 3, 5])
@pytest.mark.parametrize("causal", [False, True])
def test_walk_final_partial_is_the_trace_output(block, causal):
    tr = self_attention("the cat sat on the mat", tokenizer="words", causal=causal, d_k=8, d_model=16)
    hd = tr.heads[0]
    for focus in range(len(tr.query_tokens)):
        walk = flash_walk(tr, block=block, focus=focus, measure=False)
        assert walk.n_blocks == math.ceil(6 / block)
        assert [(s.start, s.stop) for s in walk.steps] == [(j, min(j + block, 6)) for j in range(0, 6, block)]
        np.testing.assert_allclose(walk.steps[-1].partial, hd.output[focus], atol=1e-12)
        np.testing.assert_array_equal(walk.output, walk.steps[-1].partial)
        assert walk.max_diff < 1e-12 and walk.all_max_diff < 1e-12
        visible = hd.mask[focus] if causal else np.ones(6, bool)
        for step in walk.steps:  # each block's scores are the trace's scaled row, −∞ where hidden
            row = np.where(visible, hd.scaled[focus], -np.inf)[step.start:step.stop]
            np.testing.assert_allclose(step.scaled, row, atol=1e-12)
            assert step.skipped == (not visible[step.start:step.stop].any())
        last = walk.steps[-1]
        assert last.m_after == pytest.approx(np.max(hd.scaled[focus][visible]), abs=1e-12)
        assert last.l_after == pytest.approx(np.sum(np.exp(hd.scaled[focus][visible] - last.m_after)), abs=1e-12)
        # the kernel's m and ℓ for every query agree with the walkthrough's for the focus query
        assert walk.m[focus] == pytest.approx(last.m_after, abs=1e-12)
        assert walk.ell[focus] == pytest.approx(last.l_after, abs=1e-12)


def test_walk_recurrence():
    tr = self_attention("the cat sat on the mat and looked at the dog", tokenizer="words")
    walk = flash_walk(tr, block=3, focus=4, measure=False)
    m, ell = -np.inf, 0.0
    for step in walk.steps:
        assert step.m_before == m and step.l_before == ell
        assert step.block_max == np.max(step.scaled)
        assert step.m_after == max(m, step.block_max)
        assert step.rescale == pytest.approx(math.exp(m - step.m_after))
        assert step.l_after == pytest.approx(step.rescale * ell + step.block_sum)
        m, ell = step.m_after, step.l_after
    assert walk.steps[0].rescale == 0.0  # exp(−∞ − m): nothing summed yet


def test_walk_rejects_bad_arguments(seed_trace):
    with pytest.raises(InputError, match="block"):
        flash_walk(seed_trace, block=0)
    with pytest.raises(InputError, match="query 9"):
        flash_walk(seed_trace, focus=8)


def test_walk_measures_peaks():
    walk = flash_walk(self_attention("the cat sat on the mat " * 40, tokenizer="words"), block=16)
    assert walk.peak is not None and walk.peak.scores_bytes == 240 * 240 * FLOAT32
    assert walk.peak.tiled_bytes < walk.peak.full_bytes  # at 240 tokens the (T, S) stages dominate


# --- the memory table ---------------------------------------------------------------------------

def test_memory_table_numbers():
    rows = memory_table(block=64, d_k=64)
    assert [r.n for r in rows] == list(MEMORY_SIZES) == [1024, 4096, 16384, 65536]
    assert [r.full_bytes for r in rows] == [n * n * 4 for n in MEMORY_SIZES]
    assert rows[-1].full_bytes == 16 * 2**30  # 64k tokens: 16 GiB of float32 scores
    tile = 4 * (64 * 64 + 4 * 64 * 64 + 2 * 64)  # B² scores + Q, K, V, O tiles + m, ℓ
    assert {r.tiled_bytes for r in rows} == {tile} and working_set_bytes(64, 64, 64) == tile
    assert rows[0].ratio == pytest.approx(1024 * 1024 * 4 / tile)
    assert memory_table(2, 4)[0].tiled_bytes == 4 * (4 + 2 * 2 * 4 + 2 * 2 * 4 + 4)


# --- JSON ---------------------------------------------------------------------------------------

def test_flash_json():
    tr = self_attention("고양이는 침대에서 잔다", tokenizer="words", causal=True)
    walk = flash_walk(tr, block=2, focus=0)
    doc = json.loads(flash_to_json(walk))
    assert doc["format"] == "attnviz.flash/1"
    assert doc["query_tokens"] == ["고양이는", "침대에서", "잔다"] and doc["block"] == 2
    assert [s["keys"] for s in doc["steps"]] == [[0, 2], [2, 3]]
    first, second = doc["steps"]
    assert first["m_before"] is None and first["scaled"][1] is None  # −∞ → null (key 2 is in Q1's future)
    assert second["skipped"] is True
    np.testing.assert_allclose(doc["output"], tr.heads[0].output[0], atol=1e-12)
    assert len(doc["queries"]) == 3 and doc["all_max_diff"] == walk.all_max_diff
    assert doc["memory"][0] == {"n": 1024, "full_bytes": 4 * 1024 * 1024, "tiled_bytes": walk.memory[0].tiled_bytes}
    assert set(doc["peak"]) == {"tiled_bytes", "full_bytes", "scores_bytes"}


# --- the terminal view --------------------------------------------------------------------------

def render(walk, lang="en", width=80, full=False):
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(flash_view(walk, view=View(lang=lang, width=width, full=full)))
    return console.file.getvalue()


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("text, block, causal", [
    ("고양이는 침대에서 잔다", 2, False),
    ("고양이는 침대에서 잔다", 1, True),
    ("the cat sat on the mat and looked at the dog " * 12, 16, False),
    ("the cat sat on the mat and looked at the dog " * 12, 64, True),
])
def test_view_fits_80_columns(lang, text, block, causal):
    walk = flash_walk(self_attention(text, causal=causal), block=block, focus=1)
    out = render(walk, lang)
    for line in out.splitlines():
        assert cell_len(line) <= 80, line
    assert _fmt_diff(walk.max_diff) in out and _fmt_diff(walk.all_max_diff) in out
    assert out.count("↓") >= 3 and "16 GiB" in out


def test_view_en_content(seed_trace):
    walk = flash_walk(seed_trace, block=2, focus=0)
    out = render(walk)
    order = ["[Tiles · keys in blocks of 2]", "[Online softmax · Q1 고양이는]", "[Result · tiled = standard]",
             "[Memory · T × S scores vs tiles]"]
    assert [out.index(t) for t in order] == sorted(out.index(t) for t in order)
    assert "Block 1: K1–K2" in out and "Block 2 · K3: 잔다" in out
    first = walk.steps[0]
    assert f"exp(−∞ − {first.m_after:.2f}) = 0.00" in out
    assert f"ℓ = 0.00 × 0.00 + {first.block_sum:.2f} = {first.l_after:.2f}" in out
    assert f"max |tiled − standard| = {_fmt_diff(walk.max_diff)}" in out
    assert "S = 3 keys, B = 2 → 2 blocks" in out
    assert "65,536" in out and "4 MiB" in out and "1 GiB" in out


def test_view_ko(seed_trace):
    out = render(flash_walk(seed_trace, block=2), "ko")
    for words in ("타일", "온라인 소프트맥스", "블록 1", "재조정", "지금까지의 출력", "메모리", "최대 |타일 − 표준|"):
        assert words in out


def test_long_view_is_cut_and_full_is_not():
    text = "the cat sat on the mat and looked at the dog " * 12
    walk = flash_walk(self_attention(text), block=4, focus=30, measure=False)
    out = render(walk)
    assert "⋮" in out and "use --full" in out
    assert f"Block {walk.n_blocks} ·" in out  # the last block, holding the final output, always shows
    full = render(walk, full=True, width=200)
    assert all(f"Block {i} ·" in full for i in range(1, walk.n_blocks + 1))


def test_narrow_console(seed_trace):
    out = render(flash_walk(seed_trace, block=2), width=60)
    assert all(cell_len(line) <= 60 for line in out.splitlines())
