"""JSON of encoder–decoder results: `attnviz.generation/1` (flow --model) and T5's relative position bias in
`attnviz.trace/1`."""

import io
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from attnviz.export import generation_to_json, trace_from_json, trace_to_json, write_json
from attnviz.models import load_model
from attnviz.models.encdec import cross_trace, decoder_trace, encoder_trace, generate

ROOT = Path(__file__).parent
GOLDEN = np.load(ROOT / "golden" / "seq2seq_golden.npz", allow_pickle=False)
SRC = "고양이는 침대에서 잔다"
T5 = load_model(ROOT / "fixtures" / "tiny-t5")
MARIAN = load_model(ROOT / "fixtures" / "tiny-marian")


def test_generation_document():
    gen = generate(MARIAN, SRC, 4)
    text = generation_to_json(gen)
    doc = json.loads(text)
    assert doc["format"] == "attnviz.generation/1" and doc["architecture"] == "marian"
    assert doc["ids"] == GOLDEN["marian/ko_en/generated"].tolist()
    assert doc["source_ids"] == GOLDEN["marian/ko_en/input_ids"].tolist()
    assert [s["pick"] for s in doc["steps"]] == doc["ids"] and doc["vocab"] == MARIAN.arch.vocab
    for k, step in enumerate(doc["steps"]):
        assert step["input_ids"] == [MARIAN.arch.decoder_start_id, *doc["ids"][:k]]  # start, then the picks
        assert step["top"][0]["id"] == step["pick"]  # greedy: the most probable token
        assert step["prob"] == pytest.approx(step["top"][0]["prob"])
        assert all(a["logit"] >= b["logit"] for a, b in zip(step["top"], step["top"][1:]))
    assert doc["text"] == gen.text and doc["stopped"] is gen.stopped
    stream = io.StringIO()
    write_json("generation", gen, stream)
    assert stream.getvalue() == text and text.endswith("}\n")  # streamed: the same bytes


def test_generation_document_never_writes_nan():
    gen = generate(MARIAN, SRC, 2)
    bad = replace(gen.steps[0], top=(replace(gen.steps[0].top[0], logit=float("nan")),))
    with pytest.raises(ValueError):
        generation_to_json(replace(gen, steps=(bad, *gen.steps[1:])))


@pytest.mark.parametrize("side", ["encoder", "decoder"])
def test_t5_trace_json_keeps_the_relative_bias(side):
    trace = encoder_trace(T5, SRC, 1) if side == "encoder" else decoder_trace(T5, SRC, "The cat", 0)
    text = trace_to_json(trace)
    rel = json.loads(text)["attention"]["relative"]
    assert np.array_equal(rel["buckets"], trace.attention.relative.buckets)
    assert np.array_equal(rel["table"], trace.attention.relative.table)
    assert rel["bidirectional"] is (side == "encoder") and rel["max_distance"] == 16
    back = trace_from_json(text)
    assert back.attention.relative.buckets.dtype.kind == "i"
    np.testing.assert_array_equal(back.attention.relative.buckets, trace.attention.relative.buckets)
    np.testing.assert_array_equal(back.attention.relative.table, trace.attention.relative.table)
    np.testing.assert_array_equal(back.heads[1].bias, trace.heads[1].bias)
    assert trace_to_json(back) == text  # read back, written again: the same bytes


def test_traces_without_a_relative_bias_write_no_relative_key():
    cross = json.loads(trace_to_json(cross_trace(T5, SRC, "The cat", 0)))  # T5's cross-attention has no bias
    assert cross["attention"]["scale"] == 1.0 and "relative" not in cross["attention"]
    assert cross["attention"]["position_bias"] is None
