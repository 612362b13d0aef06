"""16-bit checkpoint weights multiplied block by block (attnviz/half.py): the same numbers as the float32 matrix."""

import json
import struct

import numpy as np
import pytest

from attnviz import half
from attnviz.half import HalfMatrix
from attnviz.layers import matmul
from attnviz.models.safetensors import TensorFile


def bf16_bits(a: np.ndarray) -> np.ndarray:
    """The bfloat16 bits of float32 values (truncated: the test only needs some bfloat16 numbers)."""
    return (np.ascontiguousarray(a, dtype=np.float32).view(np.uint32) >> 16).astype(np.uint16)


def test_bfloat16_bits_widen_to_the_float32_they_are_the_top_half_of():
    bits = np.array([[0x3F80, 0xC000, 0x0000, 0x8000], [0x7F80, 0xFF80, 0x3E80, 0x4049]], dtype=np.uint16)
    w = np.asarray(HalfMatrix(bits, bf16=True))  # (d_in 4, d_out 2): the stored rows are Wᵀ
    assert w.shape == (4, 2) and w.dtype == np.float32
    np.testing.assert_array_equal(w[:, 0], [1.0, -2.0, 0.0, -0.0])
    assert np.signbit(w[3, 0])
    np.testing.assert_array_equal(w[:, 1], [np.inf, -np.inf, 0.25, 3.140625])


@pytest.mark.parametrize("bf16", [True, False])
@pytest.mark.parametrize("split", [False, True])
def test_a_product_equals_the_float32_weights_product(monkeypatch, bf16, split):
    rng = np.random.default_rng(0)
    stored = rng.standard_normal((203, 37)).astype(np.float32)  # Wᵀ (d_out 203, d_in 37): blocks end mid-way
    rows = bf16_bits(stored) if bf16 else stored.astype(np.float16)
    w = HalfMatrix(rows, bf16=bf16)
    monkeypatch.setattr(half, "BLOCK_ROWS", 16)
    monkeypatch.setattr(half, "BLOCK_BYTES", 0)  # blocks of 16 rows: 13 of them, the last one short
    monkeypatch.setattr(half, "SPLIT_PRODUCT", 0 if split else 1 << 62)  # the helper thread takes half, or not
    calls = []
    monkeypatch.setattr(half, "_helper", lambda real=half._helper: calls.append(1) or real())
    monkeypatch.setattr(half.os, "cpu_count", lambda: 2)
    x = rng.standard_normal((5, 37)).astype(np.float32)
    full = np.asarray(w)  # (37, 203) float32
    if bf16:
        np.testing.assert_array_equal(full, (rows.astype(np.uint32) << 16).view(np.float32).T)
    else:
        np.testing.assert_array_equal(full, rows.astype(np.float32).T)
    out = matmul(x, w)
    assert out.shape == (5, 203) and out.dtype == np.float32
    assert len(calls) == split  # the helper thread took the second half of the columns, or was not asked
    exact = x.astype(np.float64) @ full.astype(np.float64)
    np.testing.assert_allclose(out, exact, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out, x @ full, rtol=1e-6, atol=1e-6)
    x64 = x.astype(np.float64)  # a float64 input (the attention's concat) gets a float64 product
    out64 = matmul(x64, w)
    assert out64.dtype == np.float64
    np.testing.assert_allclose(out64, exact, rtol=1e-12, atol=1e-12)


def test_column_slices_stay_16_bit_and_other_indexes_read_the_matrix():
    rng = np.random.default_rng(1)
    rows = bf16_bits(rng.standard_normal((12, 6)))
    w = HalfMatrix(rows, bf16=True)
    full = np.asarray(w)  # (6, 12)
    part = w[:, 4:9]
    assert isinstance(part, HalfMatrix) and part.shape == (6, 5)
    np.testing.assert_array_equal(np.asarray(part), full[:, 4:9])
    x = rng.standard_normal((3, 6)).astype(np.float32)
    np.testing.assert_allclose(matmul(x, part), x @ full[:, 4:9], rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(w[2], full[2])  # not a column slice: the float32 matrix's row
    np.testing.assert_array_equal(w.astype(np.float64), full.astype(np.float64))
    np.testing.assert_array_equal(w.T, full.T)


def test_done_is_called_after_each_product_and_bad_shapes_are_refused():
    calls = []
    w = HalfMatrix(np.zeros((4, 3), dtype=np.uint16), bf16=True, done=lambda: calls.append(1))
    matmul(np.ones((2, 3), dtype=np.float32), w)
    matmul(np.ones((1, 3), dtype=np.float32), w)
    assert calls == [1, 1]
    with pytest.raises(ValueError, match="cannot multiply"):
        w.product(np.ones((2, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="2-D"):
        HalfMatrix(np.zeros(4, dtype=np.uint16), bf16=True)
    with pytest.raises(ValueError, match="float16"):
        HalfMatrix(np.zeros((2, 2), dtype=np.float32), bf16=False)


def write_safetensors(path, tensors: dict[str, tuple[str, np.ndarray]]) -> None:
    header, blobs, offset = {}, [], 0
    for name, (dtype, a) in tensors.items():
        data = a.tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def test_a_file_gives_16_bit_matrices_as_half_matrices_and_float32_ones_as_views(tmp_path):
    rng = np.random.default_rng(2)
    w32 = rng.standard_normal((5, 3)).astype(np.float32)  # stored Wᵀ (d_out 5, d_in 3)
    w16 = rng.standard_normal((5, 3)).astype(np.float16)
    bits = bf16_bits(rng.standard_normal((5, 3)))
    path = tmp_path / "model.safetensors"
    write_safetensors(path, {"a": ("F32", w32), "b": ("BF16", bits), "c": ("F16", w16)})
    f = TensorFile(path)
    a, b, c = f.matrix("a"), f.matrix("b"), f.matrix("c")
    assert isinstance(a, np.ndarray) and a.shape == (3, 5)
    np.testing.assert_array_equal(a, w32.T)
    assert isinstance(b, HalfMatrix) and isinstance(c, HalfMatrix) and b.shape == c.shape == (3, 5)
    np.testing.assert_array_equal(np.asarray(b), f.read("b").T)  # the same numbers as the whole conversion
    np.testing.assert_array_equal(np.asarray(c), w16.astype(np.float32).T)
    x = rng.standard_normal((2, 3)).astype(np.float32)
    np.testing.assert_allclose(matmul(x, b), x @ f.read("b").T, rtol=1e-6, atol=1e-6)  # pages released after
    np.testing.assert_allclose(matmul(x, b), x @ f.read("b").T, rtol=1e-6, atol=1e-6)  # … and read again
    assert f.reads[:3] == ["a", "b", "c"]
