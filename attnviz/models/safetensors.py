"""safetensors files, memory-mapped: the header is parsed by hand, tensors are views of the file.

A float32 tensor is a read-only view of the mapping (no copy); float16 and bfloat16 tensors are converted to
float32 exactly (bfloat16 is the high half of a float32: a shift), one tensor at a time, when it is read — so a
forward pass up to layer L converts only the tensors of layers 0 … L. Sharded checkpoints
(model.safetensors.index.json naming several files) open each shard only when one of its tensors is asked for.
"""

from __future__ import annotations

import json
import math
import mmap
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..half import HalfMatrix, bfloat16_to_float32

_HEADER_LIMIT = 100_000_000  # bytes; safetensors' own limit on the JSON header
SINGLE, INDEX = "model.safetensors", "model.safetensors.index.json"

_DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "BF16": np.dtype("<u2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U8": np.dtype("u1"), "BOOL": np.dtype("?"),
}


@dataclass(frozen=True)
class TensorInfo:
    dtype: str  # safetensors' name: F32, F16, BF16, …
    shape: tuple[int, ...]
    start: int  # byte offset in the file
    end: int


class TensorFile:
    """A safetensors file, memory-mapped; tensors are read (paged in) only when asked for.

    Only the small JSON header is parsed at open time. `read(name)` returns a float32 array that is a
    read-only view of the mapping for F32 tensors (F16/BF16 are converted, which copies that one tensor);
    `rows(name, ids)` reads only the given rows of a table (an embedding). `reads` lists every tensor read,
    in order, so tests can check that a forward pass touched only the layers it needed.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.reads: list[str] = []
        try:
            size = self.path.stat().st_size
            with open(self.path, "rb") as fh:
                self.info = self._parse_header(fh, size)
                self._map = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else None
        except OSError as exc:
            raise ModelError(f"cannot read {self.path}: {exc.strerror or exc}") from None

    def _parse_header(self, fh, size: int) -> dict[str, TensorInfo]:
        head = fh.read(8)
        if len(head) < 8:
            self._broken(f"{size} bytes, shorter than a header")
        n = int.from_bytes(head, "little")
        if n > min(size - 8, _HEADER_LIMIT):
            self._broken(f"its header claims {n} bytes but the file has {size}")
        try:
            header = json.loads(fh.read(n).decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            self._broken("its header is not JSON, or nests too deeply")
        if not isinstance(header, dict):
            self._broken("its header is not a JSON object")
        data_start, data_size = 8 + n, size - 8 - n
        out: dict[str, TensorInfo] = {}
        for name, entry in header.items():
            if name == "__metadata__":
                continue
            try:
                dtype, shape, (begin, end) = entry["dtype"], tuple(entry["shape"]), entry["data_offsets"]
                if isinstance(dtype, str) and dtype not in _DTYPES:
                    raise ModelError(f"{self.path}: tensor {name[:80]!r} has dtype {dtype[:20]!r}, which attnviz "
                                     f"cannot read (it reads {', '.join(_DTYPES)}): save the model in float32, "
                                     "float16 or bfloat16")
                ok = (dtype in _DTYPES and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
                      and isinstance(begin, int) and isinstance(end, int) and 0 <= begin <= end <= data_size
                      and end - begin == math.prod(shape) * _DTYPES[dtype].itemsize)
            except (KeyError, TypeError, ValueError):
                ok = False
            if not ok:
                self._broken(f"the entry for {name[:80]!r} is invalid or points past the end of the file")
            out[name] = TensorInfo(dtype, shape, data_start + begin, data_start + end)
        return out

    def _broken(self, why: str):
        raise ModelError(f"{self.path} is not a valid safetensors file ({why}): "
                         "it may be truncated or corrupt; download or save it again")

    def __contains__(self, name: str) -> bool:
        return name in self.info

    def shapes(self) -> list[tuple[int, ...]]:
        """Every tensor's shape, from the header."""
        return [info.shape for info in self.info.values()]

    def shape(self, name: str) -> tuple[int, ...] | None:
        info = self.info.get(name)
        return None if info is None else info.shape

    def _view(self, name: str) -> np.ndarray:
        info = self.info[name]
        dtype = _DTYPES[info.dtype]
        count = math.prod(info.shape)
        if count == 0:
            return np.zeros(info.shape, dtype=dtype)
        return np.frombuffer(self._map, dtype=dtype, count=count, offset=info.start).reshape(info.shape)

    def read(self, name: str) -> np.ndarray:
        """The whole tensor as float32 (a view of the mapping when it is stored as F32).

        A converted tensor (F16, BF16) is a copy: the pages of the mapping it was read from are released
        right after (madvise DONTNEED), so a forward pass through a bfloat16 model holds one layer's float32
        copies and not, in addition, every page of the file it has read (they stay in the page cache)."""
        self.reads.append(name)
        info = self.info[name]
        out = _as_float32(self._view(name), info.dtype)
        if info.dtype != "F32":
            self._release(info.start, info.end)
        return out

    def matrix(self, name: str):
        """A 2-D weight stored as Wᵀ (d_out, d_in), as `x @ W` takes it (d_in, d_out): a float32 one as a transposed
        view of the mapping, a bfloat16 or float16 one as a half.HalfMatrix over the mapping, which products
        convert block by block (the pages they read are released after each product, as `read` does)."""
        info = self.info[name]
        if info.dtype not in ("BF16", "F16") or len(info.shape) != 2 or 0 in info.shape:
            return self.read(name).T
        self.reads.append(name)
        return HalfMatrix(self._view(name), info.dtype == "BF16", lambda: self._release(info.start, info.end))

    def _release(self, start: int, end: int) -> None:
        """Unmap the whole pages of bytes [start, end) from this process (re-read from the file if touched
        again: the mapping is read-only); pages shared with a neighbouring tensor are kept."""
        page = mmap.PAGESIZE
        first, last = -(-start // page) * page, end // page * page
        if last > first and hasattr(mmap, "MADV_DONTNEED"):
            self._map.madvise(mmap.MADV_DONTNEED, first, last - first)

    def rows(self, name: str, ids: np.ndarray) -> np.ndarray:
        """Rows `ids` of a 2-D table as float32, (len(ids), width); only those rows are paged in."""
        self.reads.append(name)
        return _as_float32(self._view(name)[np.asarray(ids, dtype=np.intp)], self.info[name].dtype)


def _as_float32(a: np.ndarray, dtype: str) -> np.ndarray:
    """a as float32: the array itself for F32, else one new array written in place (no temporaries)."""
    if dtype == "BF16":
        return bfloat16_to_float32(a)
    return a if a.dtype == np.float32 else a.astype(np.float32)


class ShardedTensors:
    """The tensors of a sharded checkpoint (model.safetensors.index.json), with TensorFile's interface: each
    shard is opened (its header parsed, the file mapped) the first time one of its tensors is needed."""

    def __init__(self, index: Path):
        self.path = Path(index)
        try:
            weight_map = json.loads(self.path.read_text(encoding="utf-8"))["weight_map"]
            ok = isinstance(weight_map, dict) and all(
                isinstance(f, str) and "/" not in f and "\\" not in f and f not in ("", ".", "..")
                for f in weight_map.values())
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, RecursionError):
            ok = False
        if not ok:
            raise ModelError(f"{self.path} is not a valid safetensors index (a JSON object whose weight_map names "
                             "a file in this folder for each tensor): save the model again")
        self.weight_map: dict[str, str] = weight_map
        self._files: dict[str, TensorFile] = {}
        self.reads: list[str] = []
        missing = sorted({f for f in weight_map.values() if not (self.path.parent / f).is_file()})
        if missing:
            raise ModelError(f"{self.path.parent} lacks the shard {missing[0]} that {self.path.name} names: "
                             "download or save every shard of the checkpoint")

    def _file(self, name: str) -> TensorFile:
        shard = self.weight_map[name]
        if shard not in self._files:
            self._files[shard] = TensorFile(self.path.parent / shard)
        file = self._files[shard]
        if name not in file:
            raise ModelError(f"{self.path.name} puts {name} in {shard}, which does not hold it: save the model "
                             "again")
        return file

    def __contains__(self, name: str) -> bool:
        return name in self.weight_map

    def shape(self, name: str) -> tuple[int, ...] | None:
        return self._file(name).shape(name) if name in self.weight_map else None

    def shapes(self) -> list[tuple[int, ...]]:
        """Every tensor's shape, from the shards' headers (each shard is opened)."""
        return [self._file(name).shape(name) for name in self.weight_map]

    def read(self, name: str) -> np.ndarray:
        self.reads.append(name)
        return self._file(name).read(name)

    def rows(self, name: str, ids: np.ndarray) -> np.ndarray:
        self.reads.append(name)
        return self._file(name).rows(name, ids)

    def matrix(self, name: str):
        self.reads.append(name)
        return self._file(name).matrix(name)


def open_tensors(folder: Path) -> TensorFile | ShardedTensors:
    """The checkpoint's weights: model.safetensors, else the shards model.safetensors.index.json names."""
    single = folder / SINGLE
    return TensorFile(single) if single.is_file() else ShardedTensors(folder / INDEX)
