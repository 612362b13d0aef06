"""Seeded init, embeddings, and weight files: round trips and every way a file can be wrong."""

import numpy as np
import pytest

from attnviz.errors import OutputError, WeightsError
from attnviz.weights import (
    Weights,
    describe,
    embed,
    init_weights,
    load_weights,
    save_weights,
    token_embedding,
)


def seeded(seed=0, d_model=8, d_k=4, heads=1):
    return init_weights(np.random.default_rng(seed), d_model, d_k, heads, seed=seed)


def test_init_shapes_and_rounding():
    w = seeded(d_model=8, d_k=4, heads=2)
    assert w.w_q.shape == w.w_k.shape == w.w_v.shape == (8, 8)
    assert w.w_o.shape == (8, 8)
    assert (w.d_model, w.d_k, w.d_v, w.n_heads) == (8, 4, 4, 2)
    np.testing.assert_array_equal(w.w_q, np.round(w.w_q, 2))  # two decimals: checkable by hand


def test_init_is_reproducible_and_seed_dependent():
    a, b, c = seeded(0), seeded(0), seeded(1)
    np.testing.assert_array_equal(a.w_q, b.w_q)
    assert not np.array_equal(a.w_q, c.w_q)


@pytest.mark.parametrize("kwargs", [dict(d_model=0), dict(d_k=0), dict(heads=0), dict(d_model=5000)])
def test_init_rejects_bad_sizes(kwargs):
    with pytest.raises(WeightsError):
        seeded(**kwargs)


def test_token_embedding_depends_on_text_and_seed_only():
    a = token_embedding("고양이", 0, 8)
    np.testing.assert_array_equal(a, token_embedding("고양이", 0, 8))
    assert not np.array_equal(a, token_embedding("고양이", 1, 8))
    assert not np.array_equal(a, token_embedding("침대", 0, 8))
    w = seeded()
    e = embed(["침대", "고양이"], [None, None], w, seed=0)
    np.testing.assert_array_equal(e[1], a)


@pytest.mark.parametrize("suffix", [".safetensors", ".npz"])
def test_save_load_round_trip(tmp_path, suffix):
    w = seeded(d_model=16, d_k=4, heads=4)
    path = tmp_path / f"w{suffix}"
    save_weights(w, path)
    back = load_weights(path)
    for name in ("w_q", "w_k", "w_v", "w_o"):
        np.testing.assert_array_equal(getattr(back, name), getattr(w, name))
    assert back.n_heads == 4 and back.d_k == 4
    names = [row[0] for row in describe(path)]
    assert names == ["w_k", "w_o", "w_q", "w_v"]


def _save_raw(tmp_path, tensors, suffix=".safetensors", **meta):
    path = tmp_path / f"raw{suffix}"
    if suffix == ".npz":
        np.savez(path, **tensors)
    else:
        from safetensors.numpy import save_file

        save_file(tensors, str(path), metadata=meta or None)
    return path


def _good(d_model=8, width=4):
    rng = np.random.default_rng(0)
    return {n: rng.standard_normal((d_model, width)).astype(np.float32) for n in ("w_q", "w_k", "w_v")}


def test_embedding_table_is_used_by_id(tmp_path):
    tensors = _good()
    tensors["embedding"] = np.arange(10 * 8, dtype=np.float32).reshape(10, 8)
    w = load_weights(_save_raw(tmp_path, tensors))
    np.testing.assert_array_equal(embed(["a", "b"], [3, 1], w, 0), tensors["embedding"][[3, 1]])
    with pytest.raises(WeightsError, match="past the end"):
        embed(["a"], [10], w, 0)
    with pytest.raises(WeightsError, match="token ids"):
        embed(["a"], [None], w, 0)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda t: t.pop("w_k"), "missing"),
        (lambda t: t.update(w_x=t["w_q"]), "unknown tensor"),
        (lambda t: t.update(w_k=np.zeros((7, 4), np.float32)), "shape"),
        (lambda t: t.update(w_o=np.zeros((4, 5), np.float32)), "shape"),
        (lambda t: t.update(w_q=np.zeros((8, 4), np.int32)), "dtype"),
        (lambda t: t.update(w_v=np.full((8, 4), np.nan, np.float32)), "NaN or Inf"),
        (lambda t: t.update(w_v=np.full((8, 4), np.inf, np.float32)), "NaN or Inf"),
        (lambda t: t.update(w_q=np.zeros((8,), np.float32)), "2-D"),
    ],
)
def test_bad_tensors_are_named(tmp_path, change, message):
    tensors = _good()
    change(tensors)
    with pytest.raises(WeightsError, match=message):
        load_weights(_save_raw(tmp_path, tensors))


def test_float16_and_float64_files_load_as_float64(tmp_path):
    for dtype in (np.float16, np.float64):
        tensors = {k: v.astype(dtype) for k, v in _good().items()}
        w = load_weights(_save_raw(tmp_path, tensors))
        assert w.w_q.dtype == np.float64


def test_heads_must_divide_width(tmp_path):
    path = _save_raw(tmp_path, _good(width=6), n_heads="4")
    with pytest.raises(WeightsError, match="n_heads = 4"):
        load_weights(path)


@pytest.mark.parametrize("content", [b"", b"not a weight file at all", b"\xff" * 40])
def test_unreadable_files(tmp_path, content):
    for suffix in (".safetensors", ".npz"):
        path = tmp_path / f"bad{suffix}"
        path.write_bytes(content)
        with pytest.raises(WeightsError, match="not a readable"):
            load_weights(path)


def test_truncated_file(tmp_path):
    path = _save_raw(tmp_path, _good())
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(WeightsError):
        load_weights(path)


def test_missing_and_directory(tmp_path):
    with pytest.raises(WeightsError, match="does not exist"):
        load_weights(tmp_path / "nope.safetensors")
    with pytest.raises(WeightsError, match="not a file"):
        load_weights(tmp_path)


def test_pickled_npz_is_refused_not_loaded(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, w_q=np.array([{"a": 1}], dtype=object))
    with pytest.raises(WeightsError, match="pickle"):
        load_weights(path)


def test_save_is_atomic_and_checks_the_folder(tmp_path):
    w = seeded()
    with pytest.raises(OutputError, match="does not exist"):
        save_weights(w, tmp_path / "missing" / "w.safetensors")
    with pytest.raises(OutputError, match=".safetensors or .npz"):
        save_weights(w, tmp_path / "w.txt")
    target = tmp_path / "w.safetensors"
    target.write_bytes(b"precious")
    bad = Weights(w.w_q, w.w_k, w.w_v, w.w_o, None, w.n_heads, 0, "x")
    save_weights(bad, target)
    assert target.read_bytes() != b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.safetensors"]  # no temp files left
