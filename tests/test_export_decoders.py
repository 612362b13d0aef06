"""attnviz.trace/1 for today's decoders: kv_head, q/k before RoPE, the capped scores and the layer's attention info
are written only when a trace has them (plain traces keep their exact keys), and read back into the same views."""

import json
from pathlib import Path

import numpy as np
from console import render

from attnviz.export import trace_from_json, trace_to_json
from attnviz.pipeline import model_attention, self_attention
from attnviz.render.terminal import View, explain_view

FIXTURES = Path(__file__).parent / "fixtures"
PLAIN_HEAD = ["q", "k", "v", "scores", "scaled", "mask", "weights", "output"]


def test_plain_traces_keep_their_keys():
    doc = json.loads(trace_to_json(self_attention("고양이는 침대에서 잔다", n_heads=2, causal=True)))
    assert "attention" not in doc and list(doc["heads"][0]) == PLAIN_HEAD
    assert list(doc)[-1] == "output"


def test_llama_trace_round_trips_through_json():
    trace = model_attention(FIXTURES / "tiny-llama", "The cat sat on the mat", 1)
    doc = json.loads(trace_to_json(trace))
    info = doc["attention"]
    assert info["n_kv_heads"] == 2 and info["rope"]["base"] == 500000.0 and info["rope"]["scaling"] == "llama3"
    assert [h["kv_head"] for h in doc["heads"]] == [0, 0, 1, 1]
    assert list(doc["heads"][0])[len(PLAIN_HEAD):] == ["kv_head", "q_unrotated", "k_unrotated"]
    assert np.allclose(info["rope"]["angles"], trace.attention.rope.angles)
    back = trace_from_json(trace_to_json(trace))
    assert back.attention.n_kv_heads == 2 and np.array_equal(back.attention.rope.positions, np.arange(10))
    assert np.array_equal(back.heads[3].q_unrotated, trace.heads[3].q_unrotated.astype(float))
    view = View(width=80)
    assert render(explain_view(back, focus=4, head=2, view=view)) == render(
        explain_view(trace, focus=4, head=2, view=view))


def test_gemma2_capped_scores_and_window():
    trace = model_attention(FIXTURES / "tiny-gemma2", "The cat sat", 0)
    doc = json.loads(trace_to_json(trace))
    assert doc["attention"]["softcap"] == 5.0 and doc["attention"]["window"] == 4
    assert abs(doc["attention"]["scale"] - 12 ** -0.5) < 1e-12
    assert np.allclose(doc["heads"][0]["capped"], trace.heads[0].capped)
    back = trace_from_json(trace_to_json(trace))
    assert np.array_equal(np.isinf(back.heads[0].masked), np.isinf(trace.heads[0].masked))
    assert np.allclose(np.where(trace.heads[0].mask, back.heads[0].masked, 0),
                       np.where(trace.heads[0].mask, trace.heads[0].capped, 0))
