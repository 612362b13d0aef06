"""`attnviz flash` past 4,096 tokens: never a full trace; the tiled kernel for every query, a sample of rows
recomputed exactly, the focus walkthrough as usual."""

import json

import numpy as np
from rich.cells import cell_len
from typer.testing import CliRunner

from attnviz import attention
from attnviz.cli import app
from attnviz.flash import long_flash_walk
from attnviz.pipeline import make_weights
from attnviz.tokens import tokenize
from attnviz.trace import MAX_TOKENS, embed_with_positions

runner = CliRunner()
LONG = "가나다라마바사아자차" * 420  # 4,200 tokens with --tokenizer chars


def test_long_walk_matches_exact_rows():
    tokens = tokenize(LONG, "chars")
    assert len(tokens) > MAX_TOKENS
    w = make_weights(seed=1)
    walk = long_flash_walk(tokens, w, seed=1, causal=True, text=LONG, block=512, focus=4000, checked=8)
    x = embed_with_positions(tokens, w, 1)[2]
    q, k, v = x @ w.w_q, x @ w.w_k, x @ w.w_v  # one head: the whole matrices
    for i in (0, 4000, len(tokens) - 1):
        scaled = k[: i + 1] @ q[i] / np.sqrt(w.d_k)  # causal: keys 0 … i
        assert abs(walk.m[i] - scaled.max()) < 1e-5
        assert abs(walk.ell[i] - np.exp(scaled - scaled.max()).sum()) < 1e-4 * walk.ell[i]
    exact = attention.softmax(k[:4001] @ q[4000] / np.sqrt(w.d_k)) @ v[:4001]
    np.testing.assert_allclose(walk.standard, exact, atol=1e-12)
    np.testing.assert_allclose(walk.output, exact, atol=1e-12)  # the focus walk is float64
    assert walk.checked == 9 and np.isfinite(walk.row_diff).sum() == 9  # 8 spread rows + the focus
    assert walk.all_max_diff < 1e-5 and walk.peak is None
    assert walk.n_blocks == 9 and walk.steps[-1].skipped and not walk.steps[7].skipped  # causal: K4097… hidden


def test_flash_cli_on_a_long_text_from_stdin():
    result = runner.invoke(app, ["flash", "-", "--tokenizer", "chars", "--block", "1024", "--json", "-"],
                           input=LONG, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["checked"] == 64 and len(doc["queries"]) == 4200
    assert sum(q["max_diff"] is None for q in doc["queries"]) == 4200 - 64
    shown = runner.invoke(app, ["flash", "-", "--tokenizer", "chars", "--block", "1024", "-q", "4100"],
                          input=LONG, env={"COLUMNS": "80"})
    assert shown.exit_code == 0, shown.output
    assert "65 of 4200 queries" in shown.stdout  # 64 spread rows + the focus
    assert max(cell_len(line) for line in shown.stdout.splitlines()) <= 80
