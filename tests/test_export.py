"""JSON export: the documented fields, byte-stable output, round trip, and numbers that recompute."""

import json

import numpy as np

from attnviz.export import FORMAT, trace_from_json, trace_to_json
from attnviz.pipeline import self_attention


def test_document_fields_and_shapes():
    tr = self_attention("고양이는 침대에서 잔다", tokenizer="words", causal=True)
    doc = json.loads(trace_to_json(tr))
    assert doc["format"] == FORMAT == "attnviz.trace/1"
    for key in ("version", "kind", "query_tokens", "key_tokens", "d_model", "d_k", "d_v", "n_heads", "seed",
                "causal", "x", "memory", "heads", "concat", "output"):
        assert key in doc
    assert doc["kind"] == "self" and doc["memory"] is None and doc["causal"] is True
    assert [t["label"] for t in doc["query_tokens"]] == ["고양이는", "침대에서", "잔다"]
    head = doc["heads"][0]
    assert np.asarray(head["scores"]).shape == (3, 3)
    assert np.asarray(head["q"]).shape == (3, 4)
    assert head["mask"] == [[True, False, False], [True, True, False], [True, True, True]]
    assert np.asarray(doc["output"]).shape == (3, 8)


def test_same_input_same_bytes():
    a = trace_to_json(self_attention("The cat sat", tokenizer="words", seed=7))
    b = trace_to_json(self_attention("The cat sat", tokenizer="words", seed=7))
    assert a == b


def test_round_trip_keeps_every_number():
    tr = self_attention("the cat sat on the mat", tokenizer="words", n_heads=2, d_k=2, causal=True)
    back = trace_from_json(trace_to_json(tr))
    assert back.query_tokens == tr.query_tokens
    for name in ("x", "embeddings", "positions", "concat", "output"):
        np.testing.assert_array_equal(getattr(back, name), getattr(tr, name))
    for h1, h2 in zip(tr.heads, back.heads):
        for name in ("q", "k", "v", "scores", "scaled", "mask", "masked", "weights", "output"):
            np.testing.assert_array_equal(getattr(h1, name), getattr(h2, name))


def test_numbers_recompute_from_own_qkv():
    doc = json.loads(trace_to_json(self_attention("고양이는 침대에서 잔다", tokenizer="words")))
    h = doc["heads"][0]
    q, k, v = (np.asarray(h[n]) for n in ("q", "k", "v"))
    scaled = q @ k.T / np.sqrt(doc["d_k"])
    np.testing.assert_allclose(np.asarray(h["scores"]), q @ k.T, atol=1e-13)
    w = np.exp(scaled - scaled.max(1, keepdims=True))
    w /= w.sum(1, keepdims=True)
    np.testing.assert_allclose(np.asarray(h["weights"]), w, atol=1e-13)
    np.testing.assert_allclose(np.asarray(h["output"]), w @ v, atol=1e-13)


def test_public_api_names_resolve():
    import attnviz

    for name in attnviz.__all__:
        assert getattr(attnviz, name) is not None, name
    trace = attnviz.self_attention("고양이는 침대에서 잔다")
    assert attnviz.trace_to_json(trace).startswith('{"format":"attnviz.trace/1"')


def test_lone_surrogates_become_replacement_characters():
    # invalid UTF-8 in argv reaches Python as lone surrogates (\udcXX), which UTF-8 cannot encode
    tr = self_attention("\udcff\udcfe cat \ud800", tokenizer="words")
    text = trace_to_json(tr)
    text.encode("utf-8")  # the old writer failed here
    doc = json.loads(text)
    assert doc["text"] == "\ufffd\ufffd cat \ufffd"
    cat = next(t for t in doc["query_tokens"] if t["label"] == "cat")
    assert doc["text"][cat["start"]:cat["end"]] == "cat"  # one character for one: offsets still hold


def test_chunked_matrices_give_json_dumps_bytes():
    from attnviz.export import CHUNK_NUMBERS, trace_to_dict

    tr = self_attention("a " * 300, tokenizer="words", causal=True)  # 300 × 300 > CHUNK_NUMBERS per matrix
    assert tr.heads[0].scores.size > CHUNK_NUMBERS
    expected = json.dumps(trace_to_dict(tr), ensure_ascii=False, separators=(",", ":")) + "\n"
    assert trace_to_json(tr) == expected


def test_writing_a_long_trace_streams_in_small_pieces():
    import tracemalloc

    from attnviz.export import write_json

    tr = self_attention("a " * 1100, tokenizer="words")  # past 1,024² cells: float32 stages

    class Sink:
        size = 0
        largest = 0

        def write(self, chunk):
            self.size += len(chunk)
            self.largest = max(self.largest, len(chunk))

    sink = Sink()
    tracemalloc.start()
    write_json("trace", tr, sink)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert sink.size > 50_000_000  # ~60 MB of JSON …
    assert peak < 16 * 2**20 and sink.largest < 4 * 2**20  # … never held whole (it took 4× the file)


def test_nan_is_never_written():
    import pytest

    from attnviz.export import json_chunks

    with pytest.raises(ValueError):
        "".join(json_chunks({"a": np.array([1.0, np.nan])}))
