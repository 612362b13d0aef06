"""Real checkpoints past the full trace's limit (issue 17): models.model_summary runs the layers before L with their
heads tile by tile and summarizes layer L's heads. On texts short enough for both, it equals model_trace's full
trace — top-k keys and weights, entropy, m, ℓ, each head's output, concat and W_O — and the hidden state entering
layer L equals the full forward's, for a causal decoder with learned positions (GPT-2), an encoder (BERT), GQA
with biases (Qwen2), Gemma 2's scale, soft-cap and a sliding window shorter than the text, and q/k norms (Qwen3)."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from attnviz import attention
from attnviz import trace as trace_module
from attnviz.cli import app
from attnviz.errors import InputError
from attnviz.models import (
    hidden_states,
    load_model,
    model_summary,
    model_trace,
    model_trace_or_summary,
)
from attnviz.models.long import summary_forward
from attnviz.summary import SummaryTrace, TileMask, summarize_head
from attnviz.trace import Trace

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TEXT = "The quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat by the door."
FAMILIES = ("gpt2", "bert", "qwen2", "gemma2", "qwen3")
TOL = 1e-6  # the bar: summary against the full trace
HIDDEN_TOL = 1e-5  # the hidden state entering layer L


@functools.cache
def model(family: str):
    return load_model(FIXTURES / f"tiny-{family}")


def full_top(weights: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(-weights, axis=1, kind="stable")[:, :k]  # (T, k)
    return order, np.take_along_axis(weights, order, 1)


def logits_of(head) -> np.ndarray:
    """The full trace's last stage before the softmax: capped or scaled, −∞ where masked."""
    return head.masked if head.masked is not None else head.capped if head.capped is not None else head.scaled


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("last", [False, True], ids=["layer0", "last-layer"])
def test_the_summary_equals_the_full_trace(family, last):
    m = model(family)
    layer = m.n_layers - 1 if last else 0
    full = model_trace(m, TEXT, layer)
    summary = model_summary(m, TEXT, layer)
    assert isinstance(summary, SummaryTrace) and summary.n_heads == full.n_heads == m.n_heads
    assert [t.label for t in summary.query_tokens] == [t.label for t in full.query_tokens]
    for sh, fh in zip(summary.heads, full.heads):
        top_j, top_w = full_top(fh.weights, summary.top_k)
        np.testing.assert_allclose(sh.top_weights, top_w, rtol=0, atol=TOL)
        distinct = np.abs(np.diff(top_w, axis=1)) > 1e-9  # ties may come in either order
        ranked = np.concatenate([distinct[:, :1], distinct[:, :-1] & distinct[:, 1:], distinct[:, -1:]], axis=1)
        assert (sh.top_keys[ranked & (top_w > 0)] == top_j[ranked & (top_w > 0)]).all()
        np.testing.assert_allclose(sh.entropy, attention.entropy(fh.weights), rtol=0, atol=TOL)
        logits = logits_of(fh)
        np.testing.assert_allclose(sh.m, logits.max(axis=1), rtol=0, atol=TOL)
        ell = np.exp(logits - logits.max(axis=1, keepdims=True)).sum(axis=1)
        np.testing.assert_allclose(sh.ell, ell, rtol=TOL)
        np.testing.assert_allclose(sh.output, fh.output, rtol=0, atol=TOL)
        assert sh.kv_head == fh.kv_head
    np.testing.assert_allclose(summary.concat, full.concat, rtol=0, atol=TOL)
    np.testing.assert_allclose(summary.output, full.output, rtol=0, atol=TOL)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("rows", [1024, 7], ids=["one-block", "blocks-of-7"])
def test_the_hidden_state_entering_the_layer_is_the_full_forwards(family, rows, monkeypatch):
    from attnviz.models import long

    monkeypatch.setattr(long, "ROWS", rows)  # the layers before L: their FFN in blocks of rows
    m = model(family)
    layer = m.n_layers - 1
    assert layer > 0  # the tiled layers before it are exercised
    ids = np.array([tk.id for tk in model_trace(m, TEXT, 0).query_tokens], dtype=np.int64)
    h, _ = summary_forward(m.arch, m.tensors, ids, layer, m.causal)
    np.testing.assert_allclose(h, hidden_states(m, TEXT)[layer], rtol=0, atol=HIDDEN_TOL)


def test_the_summary_says_what_the_model_does():
    gemma = model("gemma2")
    s0, s1 = model_summary(gemma, TEXT, 0), model_summary(gemma, TEXT, 1)
    window = gemma.arch.window(0)
    assert window is not None and window < len(s0.query_tokens)  # the fixture's window is shorter than the text
    assert s0.window == window and gemma.arch.window(1) is None and s1.window is None  # alternating layers
    assert s0.scale == pytest.approx(12 ** -0.5) and s0.softcap == 5.0 and s0.kv_heads == 2
    assert s0.heads[0].pooled_hidden is not None  # blocks of keys past the window are hidden
    assert (s0.heads[0].top_keys[:, 0] > np.arange(len(s0.query_tokens)) - window).all()  # inside the window
    assert s1.model.name == "tiny-gemma2" and s1.model.layer == 1 and s1.model.architecture == "gemma2"
    bert = model_summary(model("bert"), TEXT, 1)
    assert not bert.causal and bert.heads[0].pooled_hidden is None and bert.scale is None and bert.kv_heads is None
    assert (bert.heads[0].top_keys[0] > 0).any()  # an encoder's first query sees later keys
    what_if = model_summary(model("bert"), TEXT, 1, causal=True)
    assert what_if.causal and (what_if.heads[0].top_keys[0, 1:] == -1).all()  # the first query sees itself only


def test_no_t_by_t_mask_or_stage_is_built(monkeypatch):
    """The summary path describes its masks (TileMask) and never calls the full path's dense stages."""
    def refuse(*args, **kwargs):
        raise AssertionError("a T × T mask or stage was built")

    for name in ("causal_mask", "sliding_window_mask", "attention_stages", "head_stages", "softmax"):
        monkeypatch.setattr(attention, name, refuse)
    for family in ("gemma2", "gpt2"):
        m = model(family)
        assert model_summary(m, TEXT, m.n_layers - 1).n_heads == m.n_heads


@pytest.mark.parametrize("mask", [None, TileMask(causal=True), TileMask(True, window=3)])
def test_the_kernel_with_scale_softcap_and_window_is_head_stages(mask):
    rng = np.random.default_rng(1)
    t, d = 45, 8
    q, k, v = (rng.standard_normal((t, d)).astype(np.float32) for _ in range(3))
    dense = None if mask is None else mask.full(t, t)
    want = attention.head_stages(q, k, v, dense, scale=0.3, softcap=2.0)
    out, m, ell = attention.tiled_attention_with_stats(q, k, v, 7, mask, query_block=5, scale=0.3, softcap=2.0,
                                                       dtype=np.float64)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, want.output, rtol=0, atol=1e-12)
    logits = want.masked if want.masked is not None else want.capped
    np.testing.assert_allclose(m, logits.max(axis=1), rtol=0, atol=1e-12)
    fast = attention.tiled_attention(q, k, v, 7, mask, query_block=5)  # float32 throughout, 1/√d_k
    np.testing.assert_allclose(fast, attention.head_stages(q, k, v, dense).output, rtol=0, atol=1e-5)
    hs = summarize_head(q, k, v, mask, scale=0.3, softcap=2.0, top_k=3, tile_queries=4, tile_keys=6)
    np.testing.assert_allclose(hs.output, want.output, rtol=0, atol=1e-12)
    np.testing.assert_allclose(hs.entropy, attention.entropy(want.weights), rtol=0, atol=1e-12)
    np.testing.assert_allclose(hs.top_weights, full_top(want.weights, 3)[1], rtol=0, atol=1e-12)


# --- choosing the path, and the commands ----------------------------------------------------------------------

def _limit(monkeypatch, tokens: int) -> None:
    """Make the full trace's limit `tokens` (with one head) for this test: the commands read it at call time."""
    monkeypatch.setattr(trace_module, "MAX_TOKENS", tokens)
    monkeypatch.setattr(trace_module, "MAX_CELLS", tokens * tokens)


def test_past_the_limit_the_summary_and_within_it_the_full_trace(monkeypatch):
    m = model("qwen2")
    assert isinstance(model_trace_or_summary(m, TEXT, 1), Trace)
    _limit(monkeypatch, 40)  # 4 heads: at most 20 tokens
    got = model_trace_or_summary(m, TEXT, 1)
    assert isinstance(got, SummaryTrace) and got.limit == 20
    with pytest.raises(InputError, match="has no padding: drop --pad-to"):
        model_trace_or_summary(m, TEXT, 1, pad_to=60)
    with pytest.raises(InputError, match="reads at most 128: give a shorter text"):  # the position limit stays
        model_trace_or_summary(m, TEXT * 3, 1)


def cli(*args):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "80", "LANG": "C.UTF-8"})


def one_error_line(result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def test_explain_model_past_the_limit_is_a_summary(monkeypatch):
    _limit(monkeypatch, 40)
    gemma = str(FIXTURES / "tiny-gemma2")
    result = cli("explain", TEXT, "--model", gemma, "--layer", "1", "--head", "2", "-q", "5")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "[Summary trace · 67 tokens]" in out and "tiny-gemma2 (gemma2) · layer 1 of layers 0–1" in out
    assert "layer 0 ran first" in out and "scale × 1/√12 · soft-cap 5" in out and "[Q5 u · head 2]" in out
    assert max(cell_len(line) for line in out.splitlines()) <= 80 and result.stderr == ""
    doc = json.loads(cli("heads", TEXT, "--model", gemma, "--layer", "1", "--json", "-").stdout)
    assert doc["format"] == "attnviz.summary/1" and doc["summary"] is True
    assert doc["model"] == {"name": "tiny-gemma2", "architecture": "gemma2", "layer": 1, "n_layers": 2}
    assert doc["softcap"] == 5.0 and doc["kv_heads"] == 2
    core = model_summary(model("gemma2"), TEXT, 1)
    np.testing.assert_allclose(doc["heads"][3]["top_weights"], core.heads[3].top_weights, rtol=1e-12)


def test_what_needs_the_full_matrices_is_one_line(monkeypatch):
    _limit(monkeypatch, 40)
    gpt2 = str(FIXTURES / "tiny-gpt2")
    assert "no padding: drop --pad-to" in one_error_line(cli("mask", TEXT, "--model", gpt2, "--pad-to", "60"))
    assert "--no-special needs a full trace" in one_error_line(cli("explain", TEXT, "--model", gpt2, "--no-special"))
    assert "--stage rope needs a full trace" in one_error_line(cli("explain", TEXT, "--model",
                                                                   str(FIXTURES / "tiny-qwen3"), "--stage", "rope"))
    line = one_error_line(cli("block", TEXT, "--model", gpt2))
    assert "at most 20 with 4 heads" in line and "show one layer of a longer text as a summary" in line
    assert "or one --layer" in one_error_line(cli("heads", TEXT, "--model", gpt2, "--layer", "all"))
    assert "reads at most 64" in one_error_line(cli("explain", TEXT * 3, "--model", gpt2))  # positions
    mask = cli("mask", TEXT, "--model", gpt2, "--layer", "1")
    assert mask.exit_code == 0 and "[Summary trace · 54 tokens]" in mask.stdout and "causal mask" in mask.stdout


def test_rollout_and_the_survey_say_they_need_every_layer(monkeypatch):
    """A text that fits one layer's full trace but not every layer's: `heads --layer all` may drop to one --layer,
    rollout and the survey cannot."""
    m = model("gpt2")
    t, h, n = len(m.tokenizer.encode("The cat sat on the mat")), m.n_heads, m.n_layers
    monkeypatch.setattr(trace_module, "MAX_CELLS", n * h * t * t - 1)
    gpt2 = str(FIXTURES / "tiny-gpt2")
    assert "or one --layer" in one_error_line(cli("heads", "The cat sat on the mat", "--model", gpt2, "--layer", "all"))
    line = one_error_line(cli("rollout", "The cat sat on the mat", "--model", gpt2))
    assert "rollout multiplies every layer" in line and "one --layer" not in line
    assert "survey scores every layer" in one_error_line(cli("survey", "The cat sat on the mat", "--model", gpt2))


# --- the progress bar ------------------------------------------------------------------------------------------

def _terminal(monkeypatch):
    """stderr as a terminal, and the bar drawn at once."""
    from attnviz.cli import common

    monkeypatch.setattr(common, "_stderr_is_terminal", lambda: True)
    monkeypatch.setattr(common._Progress, "DELAY", -1.0)


BAR = "━"  # rich's bar


@pytest.mark.parametrize("args", [
    ("explain", TEXT, "--model", str(FIXTURES / "tiny-gpt2"), "--layer", "1"),
    ("mask", TEXT * 2, "--causal"),
    ("flash", TEXT * 2, "--block", "8"),
], ids=["explain-model", "mask", "flash"])
def test_the_progress_bar_is_on_a_terminals_stderr_only(monkeypatch, args):
    _limit(monkeypatch, 40)
    assert cli(*args).stderr == ""  # piped (the runner's stderr is no terminal): no bar
    _terminal(monkeypatch)
    drawn = cli(*args)
    assert drawn.exit_code == 0, drawn.output
    import threading  # every bar stopped: none left refreshing (two heads' threads once started two bars)

    assert not [t for t in threading.enumerate() if type(t).__name__ == "_RefreshThread"]
    assert BAR in drawn.stderr and BAR not in drawn.stdout and "%" not in drawn.stdout.split("\n")[0]
    as_json = cli(*args, "--json", "-")
    assert as_json.exit_code == 0 and as_json.stderr == "" and BAR not in as_json.stdout
    json.loads(as_json.stdout)
