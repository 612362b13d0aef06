"""Summary traces (attnviz.summary): tile by tile, they equal the full trace's top-k, entropy, m, ℓ, output and
pooled matrices on texts small enough to have both."""

import numpy as np
import pytest

from attnviz import attention
from attnviz.pipeline import make_weights
from attnviz.summary import TileMask, pool_starts, self_attention_summary, summarize_head
from attnviz.tokens import tokenize
from attnviz.trace import self_attention_trace

TEXT = "고양이는 침대에서 잔다. 강아지는 마당에서 논다. " * 12


def full_top(weights: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(-weights, axis=1, kind="stable")[:, :k]  # (T, k)
    return order, np.take_along_axis(weights, order, 1)


def check(summary_head, head, k=5, pooled=True):
    top_j, top_w = full_top(head.weights, k)
    np.testing.assert_allclose(summary_head.top_weights, top_w, atol=1e-6)
    visible = top_w > 0
    assert (summary_head.top_keys[visible] == top_j[visible]).all()
    assert (summary_head.top_keys[~visible] == -1).all()
    np.testing.assert_allclose(summary_head.entropy, attention.entropy(head.weights), atol=1e-6)
    np.testing.assert_allclose(summary_head.output, head.output, atol=1e-6)
    logits = head.scaled if head.masked is None else head.masked
    np.testing.assert_allclose(summary_head.m, logits.max(axis=1), atol=1e-6)
    ell = np.exp(logits - logits.max(axis=1, keepdims=True)).sum(axis=1)
    np.testing.assert_allclose(summary_head.ell, ell, rtol=1e-6)


@pytest.mark.parametrize("options", [{}, {"causal": True}, {"window": 7}, {"rope_theta": 10000.0},
                                     {"kv_heads": 1}])
def test_summary_equals_the_full_trace(options):
    tokens = tokenize(TEXT)
    w = make_weights(seed=3, d_model=8, d_k=4, n_heads=2)
    full = self_attention_trace(tokens, w, seed=3, causal=options.get("causal", False), text=TEXT, **{
        key: val for key, val in options.items() if key != "causal"})
    summary = self_attention_summary(tokens, w, seed=3, text=TEXT, **options)
    assert summary.n_heads == full.n_heads == 2
    for sh, fh in zip(summary.heads, full.heads):
        check(sh, fh)
    np.testing.assert_allclose(summary.concat, full.concat, atol=1e-6)
    np.testing.assert_allclose(summary.output, full.output, atol=1e-6)


@pytest.mark.parametrize("tiles", [(1, 1), (3, 5), (16, 8), (512, 1024)])
@pytest.mark.parametrize("mask", [None, TileMask(causal=True), TileMask(True, window=4)])
def test_tiles_and_pooling_do_not_change_the_numbers(tiles, mask):
    rng = np.random.default_rng(0)
    t, d = 37, 4
    q, k, v = (rng.standard_normal((t, d)) for _ in range(3))
    full_mask = None if mask is None else mask.full(t, t)
    stages = attention.head_stages(q, k, v, full_mask)
    hs = summarize_head(q, k, v, mask, top_k=3, pool=8, tile_queries=tiles[0], tile_keys=tiles[1])
    check(hs, type("H", (), {"weights": stages.weights, "output": stages.output, "scaled": stages.scaled,
                             "masked": stages.masked})(), k=3)
    rows, cols = pool_starts(t, 8), pool_starts(t, 8)
    assert len(rows) <= 8
    pooled_w = np.maximum.reduceat(np.maximum.reduceat(stages.weights, rows, 0), cols, 1)
    np.testing.assert_allclose(hs.pooled_weights, pooled_w, atol=1e-12)
    visible = np.ones((t, t), bool) if full_mask is None else full_mask
    sums = np.add.reduceat(np.add.reduceat(np.where(visible, stages.scores, 0), rows, 0), cols, 1)
    counts = np.add.reduceat(np.add.reduceat(visible.astype(int), rows, 0), cols, 1)
    np.testing.assert_allclose(hs.pooled_scores, np.where(counts > 0, sums / np.maximum(counts, 1), 0), atol=1e-9)
    assert (hs.pooled_hidden is not None) == bool((counts == 0).any())


def test_tile_mask_is_the_dense_mask():
    t = 11
    assert (TileMask(causal=True).full(t, t) == attention.causal_mask(t)).all()
    assert (TileMask(True, window=3).full(t, t) == attention.sliding_window_mask(t, 3)).all()
    assert TileMask().full(t, t) is None
    m = TileMask(True, window=3)
    dense = m.full(t, t)
    for i0, i1, j0, j1 in [(0, 4, 4, 8), (8, 11, 0, 4), (4, 8, 4, 8)]:
        assert m.skips(i0, i1, j0, j1) == (not dense[i0:i1, j0:j1].any())


def test_a_row_with_nothing_visible_is_zero_not_nan():
    q = k = v = np.ones((3, 2))
    hs = summarize_head(q, k, v, TileMask(causal=True, offset=-1), top_k=2)  # query 0 sees no key
    assert np.isfinite(hs.output).all() and (hs.output[0] == 0).all() and hs.entropy[0] == 0
    assert (hs.top_keys[0] == -1).all() and (hs.top_weights[0] == 0).all()


# --- the commands past the limit -------------------------------------------------------------------

LONG = "가나다라마바사아자차" * 420  # 4,200 tokens with --tokenizer chars


def _cli(*args):
    from typer.testing import CliRunner

    from attnviz.cli import app

    return CliRunner().invoke(app, list(args), input=LONG, env={"COLUMNS": "80", "LANG": "C.UTF-8"})


def test_explain_past_the_limit_is_a_summary_within_80_columns():
    from rich.cells import cell_len

    result = _cli("explain", "-", "--tokenizer", "chars", "--causal", "-q", "4100")
    assert result.exit_code == 0, result.output
    assert "[Summary trace · 4,200 tokens]" in result.stdout and "at most 4,096 tokens" in result.stdout
    assert "Q4100" in result.stdout and result.stderr == ""  # no progress bar off a terminal
    assert max(cell_len(line) for line in result.stdout.splitlines()) <= 80


def test_summary_json_is_marked_and_matches_the_core():
    import json

    doc = json.loads(_cli("mask", "-", "--tokenizer", "chars", "--causal", "--json", "-").stdout)
    assert doc["format"] == "attnviz.summary/1" and doc["summary"] is True and doc["causal"] is True
    w = make_weights(seed=0)
    core = self_attention_summary(tokenize(LONG, "chars"), w, seed=0, causal=True)
    head = doc["heads"][0]
    assert head["top_keys"] == core.heads[0].top_keys.tolist() and len(head["entropy"]) == 4200
    np.testing.assert_allclose(doc["output"], core.output, atol=0)


def test_summary_limits_are_clear_lines(tmp_path):
    for args, words in ((("explain", "-", "--stage", "qkv"), "needs a full trace"),
                        (("mask", "-", "--pad-to", "4096"), "no --pad-to"),
                        (("heads", "-", "--split", "separate"), "no --split separate")):
        result = _cli(*args, "--tokenizer", "chars")
        assert result.exit_code == 1 and words in result.stderr, result.output
        assert len(result.stderr.strip().splitlines()) == 1


def test_summary_figure(tmp_path):
    path = tmp_path / "summary.png"
    result = _cli("heads", "-", "--tokenizer", "chars", "--heads", "2", "--head", "2", "--png", str(path))
    assert result.exit_code == 0, result.output
    assert path.stat().st_size > 10_000
