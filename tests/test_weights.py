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


# --- hostile files: refused from their headers, before any data is read (issue 13) -------------------

def _safetensors_header(path, dtype, shape, nbytes):
    import json
    import struct

    header = json.dumps({name: {"dtype": dtype, "shape": shape, "data_offsets": [0, nbytes]}
                         for name in ("w_q",)}).encode()
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * nbytes)
    return path


@pytest.mark.parametrize("dtype, size", [("F8_E4M3", 1), ("F8_E5M2", 1), ("BF16", 2), ("I64", 8), ("BOOL", 1)])
def test_safetensors_dtypes_numpy_lacks_are_named(tmp_path, dtype, size):
    path = _safetensors_header(tmp_path / "w.safetensors", dtype, [8, 4], 32 * size)
    with pytest.raises(WeightsError, match=f"dtype {dtype}, which attnviz does not read"):
        load_weights(path)


@pytest.mark.parametrize("suffix", [".safetensors", ".npz"])
def test_empty_tensor_is_called_empty_not_flat(tmp_path, suffix):
    tensors = _good()
    tensors["w_q"] = np.zeros((0, 4), np.float32)
    with pytest.raises(WeightsError, match=r"shape \(0, 4\), which holds no numbers"):
        load_weights(_save_raw(tmp_path, tensors, suffix))


def _npy(header_dict: str, data: bytes = b"", pad_to: int = 0) -> bytes:
    import struct

    header = header_dict + " " * max(0, pad_to - len(header_dict)) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1") + data


def _zip(path, members: dict, method=None):
    import zipfile

    with zipfile.ZipFile(path, "w", method or zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_npz_claiming_terabytes_is_refused_from_its_header(tmp_path):
    huge = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }"
    path = _zip(tmp_path / "tera.npz", {"w_q.npy": _npy(huge, b"\0" * 64)})
    with pytest.raises(WeightsError, match="1,000,000 × 1,000,000; widths above 4096"):
        load_weights(path)
    table = "{'descr': '<f4', 'fortran_order': False, 'shape': (100000000, 8), }"
    path = _zip(tmp_path / "table.npz", {"embedding.npy": _npy(table, b"\0" * 64)})
    with pytest.raises(WeightsError, match="tables of at most"):
        load_weights(path)


def test_npz_inflating_past_the_limits_is_refused_before_inflating(tmp_path):
    import tracemalloc
    import zipfile

    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("w_q.npy", "w", force_zip64=True) as fh:
            np.lib.format.write_array(fh, np.zeros((4100, 4096)))  # 128 MiB of zeros, ~130 KB packed
    assert path.stat().st_size < 1_000_000
    tracemalloc.start()
    with pytest.raises(WeightsError, match="4,100 × 4,096; widths above 4096"):
        load_weights(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 16 * 2**20  # the old reader inflated all 128 MiB first


def test_npz_short_of_its_shape_is_cut_short(tmp_path):
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (8, 4), }"
    path = _zip(tmp_path / "cut.npz", {"w_q.npy": _npy(header, b"\0" * 100)})
    with pytest.raises(WeightsError, match="cut short"):
        load_weights(path)


def test_oversized_npy_header_is_not_called_pickle(tmp_path):
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (8, 4), }"
    path = _zip(tmp_path / "big.npz", {"w_q.npy": _npy(header, b"\0" * 256, pad_to=20_000)})
    with pytest.raises(WeightsError, match="header of 20,001 bytes") as info:
        load_weights(path)
    assert "pickle" not in str(info.value)


def _patch_zip(path, local_offset, central_offset, value, mask=False):
    """Change a 2-byte field of every local and central zip header (flag bits or method)."""
    import struct

    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", local_offset), (b"PK\x01\x02", central_offset)):
        at = data.find(signature)
        while at >= 0:
            old = struct.unpack_from("<H", data, at + offset)[0]
            struct.pack_into("<H", data, at + offset, old | value if mask else value)
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))
    return path


def test_encrypted_npz_is_one_clear_error(tmp_path):
    path = _patch_zip(_save_raw(tmp_path, _good(), ".npz"), 6, 8, 0x1, mask=True)
    with pytest.raises(WeightsError, match="is encrypted"):
        load_weights(path)


@pytest.mark.parametrize("method", [99, 12, 14])  # unknown, bzip2, lzma: numpy writes neither
def test_npz_with_another_compression_method_is_one_clear_error(tmp_path, method):
    path = _patch_zip(_save_raw(tmp_path, _good(), ".npz"), 8, 10, method)
    with pytest.raises(WeightsError, match=f"zip method {method}"):
        load_weights(path)


def test_npz_oddities_are_named(tmp_path):
    good = "{'descr': '<f8', 'fortran_order': False, 'shape': (8, 4), }"
    cases = {
        "arr_0.npy": ({"arr_0.npy": _npy(good, b"\0" * 256)}, "unknown tensor 'arr_0.npy'"),
        "text": ({"w_q.npy": b"hello, not numpy"}, "is not a .npy array"),
        "version": ({"w_q.npy": b"\x93NUMPY\x09\x00" + b"\0" * 80}, "unknown version"),
        "garbled": ({"w_q.npy": _npy("{'descr': 'nonsense'", b"")}, "unreadable .npy header"),
        "objects": ({"w_q.npy": _npy("{'descr': '|O', 'fortran_order': False, 'shape': (8, 4), }")}, "pickled"),
        "float128": ({"w_q.npy": _npy("{'descr': '<f16', 'fortran_order': False, 'shape': (8, 4), }")},
                     "dtype float128"),
        "too many": ({f"w_q{i}.npy": b"" for i in range(9)}, "holds 9 files"),
    }
    for name, (members, message) in cases.items():
        path = _zip(tmp_path / f"{name.replace(' ', '_')}.npz", members)
        with pytest.raises(WeightsError, match=message):
            load_weights(path)


def test_fortran_order_and_big_endian_npz_load(tmp_path):
    tensors = {name: np.asfortranarray(a.astype(">f8")) for name, a in _good().items()}
    path = tmp_path / "f.npz"
    np.savez(path, **tensors)
    w = load_weights(path)
    np.testing.assert_array_equal(w.w_q, _good()["w_q"].astype(np.float64))
