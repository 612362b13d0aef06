"""Weights kept in 16 bits (bfloat16 or float16, as today's checkpoints store them), multiplied block by block.

A checkpoint stores a linear layer's weight as Wᵀ, (d_out, d_in), often in bfloat16. Converting the whole of it to
float32 before `x @ W` writes twice its size to memory and reads it back; `HalfMatrix` instead converts a block of
rows at a time (64 rows or 512 KiB, which stay in the cache) and multiplies it at once:

    x @ W = [x @ B₀ᵀ | x @ B₁ᵀ | …]      B_b = float32(rows b·n … (b+1)·n − 1 of Wᵀ)   (T, d_out)

Every output column is the same dot product over all of d_in as in the whole product. bfloat16 is the high half
of a float32 (a 16-bit shift, exact) and float16 widens exactly, so the numbers are the float32 weights' own.
Large products split the output columns between this thread and one helper thread (numpy releases the GIL in the
conversion and in BLAS), which uses the second core without BLAS's own spinning threads. numpy only.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

BLOCK_ROWS = 64  # stored rows converted per block at least: narrower blocks slow BLAS down
BLOCK_BYTES = 1 << 19  # … and up to this many float32 bytes (few calls for narrow weights; the block stays in cache)
SPLIT_PRODUCT = 1 << 22  # multiply-adds from which a product is shared with the helper thread
_HELPER: list = []  # the one helper thread (a ThreadPoolExecutor), started by the first large product


def bfloat16_to_float32(bits: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """bfloat16 numbers given as their uint16 bits, as float32, exactly: a bfloat16 is a float32's high half, so
    one widening shift, in one pass. `out`: a uint32 array of bits' shape to write into (default: a new one)."""
    out = np.empty(bits.shape, dtype=np.uint32) if out is None else out
    np.left_shift(bits, 16, out=out, dtype=np.uint32)
    return out.view(np.float32)


def _helper():
    if not _HELPER:
        from concurrent.futures import ThreadPoolExecutor

        _HELPER.append(ThreadPoolExecutor(1, thread_name_prefix="attnviz-matmul"))
    return _HELPER[0]


class HalfMatrix:
    """W (d_in, d_out) as `x @ W` takes it, kept as stored: `rows` is Wᵀ (d_out, d_in), bfloat16 bits as uint16
    (bf16=True) or float16, typically a view of a memory-mapped file. `layers.matmul(x, W)` multiplies it block by
    block; np.asarray(W) (and astype, indexing) gives the float32 matrix, a copy. W[:, a:b] stays a
    HalfMatrix (no copy). `done` is called after each product (a file releases the pages the product read)."""

    ndim = 2
    dtype = np.dtype(np.float32)

    def __init__(self, rows: np.ndarray, bf16: bool, done: Callable[[], None] | None = None):
        if rows.ndim != 2 or rows.dtype != (np.uint16 if bf16 else np.float16):
            raise ValueError(f"HalfMatrix needs 2-D {'uint16 bfloat16 bits' if bf16 else 'float16'} rows, got "
                             f"{rows.dtype} {rows.shape}")
        self.rows, self.bf16, self.done = rows, bf16, done

    @property
    def shape(self) -> tuple[int, int]:
        return self.rows.shape[1], self.rows.shape[0]

    @property
    def size(self) -> int:
        return self.rows.size

    def convert(self, rows: np.ndarray, dtype=np.float32) -> np.ndarray:
        """Stored rows (n, d_in) as a new (n, d_in) array of `dtype` (float32 or float64), exactly."""
        if not self.bf16:
            return rows.astype(dtype)
        f = bfloat16_to_float32(rows)
        return f if dtype == np.float32 else f.astype(dtype)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return self.convert(self.rows, np.float32 if dtype is None else dtype).T  # (d_in, d_out)

    def astype(self, dtype) -> np.ndarray:
        return np.asarray(self, dtype=dtype)

    @property
    def T(self) -> np.ndarray:
        return np.asarray(self).T

    def __getitem__(self, index):
        """W[:, a:b] is the columns a … b − 1 still in 16 bits (rows a … b − 1 of the stored Wᵀ, no copy: a fused
        projection split in parts); any other index reads the float32 matrix."""
        if (isinstance(index, tuple) and len(index) == 2 and index[0] == slice(None)
                and isinstance(index[1], slice) and index[1].step in (None, 1)):
            return HalfMatrix(self.rows[index[1]], self.bf16, self.done)
        return np.asarray(self)[index]

    def product(self, x: np.ndarray) -> np.ndarray:
        """x @ W for x (T, d_in) float32 or float64, in x's dtype (float32 × float32 in float32 as numpy does)."""
        if x.ndim != 2 or x.shape[1] != self.shape[0]:
            raise ValueError(f"cannot multiply {x.shape} by a {self.shape} weight")
        dtype = np.result_type(x.dtype, np.float32)
        d_out = self.rows.shape[0]
        out = np.empty((x.shape[0], d_out), dtype=dtype)  # (T, d_out)
        step = max(BLOCK_ROWS, BLOCK_BYTES // (4 * self.rows.shape[1]))  # stored rows per block
        if x.shape[0] * self.size >= SPLIT_PRODUCT and d_out >= 2 * step and (os.cpu_count() or 1) > 1:
            half = (d_out // 2 + step - 1) // step * step  # the helper takes the columns from `half` on
            other = _helper().submit(self._blocks, x, out, half, d_out, step, dtype)
            self._blocks(x, out, 0, half, step, dtype)
            other.result()
        else:
            self._blocks(x, out, 0, d_out, step, dtype)
        if self.done is not None:
            self.done()
        return out

    def _blocks(self, x: np.ndarray, out: np.ndarray, start: int, end: int, step: int, dtype) -> None:
        """out[:, start:end] = x @ W[:, start:end], `step` stored rows at a time, through one reused buffer."""
        bits = np.empty((step, self.rows.shape[1]), dtype=np.uint32)  # (step, d_in) a block, as float32 bits
        wide = bits.view(np.float32) if dtype == np.float32 else np.empty(bits.shape, dtype=dtype)
        for a in range(start, end, step):
            b = min(a + step, end)
            n = b - a
            if self.bf16:
                bfloat16_to_float32(self.rows[a:b], out=bits[:n])
                if wide.dtype != np.float32:
                    np.copyto(wide[:n], bits[:n].view(np.float32))
            else:
                np.copyto(wide[:n], self.rows[a:b])
            np.matmul(x, wide[:n].T, out=out[:, a:b])  # (T, n)
