"""Projection weights and token embeddings: seeded init, and load/save/validate of weight files.

A weight file is safetensors (or .npz, read with allow_pickle=False) holding
    w_q        (d_model, h·d_k)
    w_k        (d_model, h·d_k)
    w_v        (d_model, h·d_v)
    w_o        (h·d_v, d_model)    optional
    embedding  (vocab, d_model)    optional, indexed by the tokenizer's ids
The head count h is stored as metadata (safetensors `n_heads`, or an integer `n_heads` array in an
.npz); it defaults to 1.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import OutputError, WeightsError
from .files import atomic_write

#: Seeded values are rounded to this many decimals, so the numbers shown are the numbers used.
DECIMALS = 2
MAX_WIDTH = 4096
#: Most numbers one tensor may hold (the embedding table's limit; 512 MiB as float64).
MAX_ELEMENTS = 2**26
#: The safetensors dtypes read (numpy has no bfloat16 or float8).
SAFETENSORS_FLOATS = ("F16", "F32", "F64")
TENSORS = ("w_q", "w_k", "w_v", "w_o", "embedding")
REQUIRED = ("w_q", "w_k", "w_v")


@dataclass(frozen=True)
class Weights:
    """The parameters of one attention layer (float64)."""

    w_q: np.ndarray  # (d_model, h·d_k)
    w_k: np.ndarray  # (d_model, h·d_k)
    w_v: np.ndarray  # (d_model, h·d_v)
    w_o: np.ndarray | None  # (h·d_v, d_model)
    embedding: np.ndarray | None  # (vocab, d_model)
    n_heads: int
    seed: int | None
    source: str

    @property
    def d_model(self) -> int:
        return self.w_q.shape[0]

    @property
    def d_k(self) -> int:
        return self.w_q.shape[1] // self.n_heads

    @property
    def d_v(self) -> int:
        return self.w_v.shape[1] // self.n_heads


def check_sizes(d_model: int, d_k: int, n_heads: int) -> None:
    """Reject sizes the seeded model cannot be built with."""
    for name, value in (("--d-model", d_model), ("--d-k", d_k), ("--heads", n_heads)):
        if value < 1:
            raise WeightsError(f"{name} must be at least 1 (got {value})")
    if d_model > MAX_WIDTH or d_k * n_heads > MAX_WIDTH:
        raise WeightsError(f"--d-model and --d-k × --heads must be at most {MAX_WIDTH}: pick smaller sizes")


def init_weights(rng: np.random.Generator, d_model: int = 8, d_k: int = 4, n_heads: int = 1,
                 seed: int | None = None) -> Weights:
    """Seeded W_Q, W_K, W_V (d_model × h·d_k) and W_O (h·d_k × d_model).

    Entries are N(0, 1/d_model) for W_Q, W_K, W_V and N(0, 1/(h·d_k)) for W_O, drawn in that
    order from `rng` and rounded to two decimals, small enough to multiply by hand.
    """
    check_sizes(d_model, d_k, n_heads)
    width = n_heads * d_k

    def draw(rows: int, cols: int) -> np.ndarray:
        return np.round(rng.standard_normal((rows, cols)) / np.sqrt(rows), DECIMALS)

    w_q, w_k, w_v = draw(d_model, width), draw(d_model, width), draw(d_model, width)
    w_o = draw(width, d_model)
    src = f"seed {seed}" if seed is not None else "seeded"
    return Weights(w_q, w_k, w_v, w_o, None, n_heads, seed, src)


def token_embedding(piece: str, seed: int, d_model: int) -> np.ndarray:
    """The seeded vector of one token, shape (d_model,): N(0, 1) rounded to two decimals.

    It depends on the seed and the token's text alone, so a token gets the same vector in every
    sentence (the generator is seeded with [seed, first 8 bytes of blake2b(text)]).
    """
    data = piece.encode("utf-8", "surrogatepass")  # a lone surrogate (invalid UTF-8 in argv) hashes too
    digest = int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")
    rng = np.random.default_rng([seed, digest])
    return np.round(rng.standard_normal(d_model), DECIMALS)


def embed(pieces: list[str], ids: list[int | None], weights: Weights, seed: int) -> np.ndarray:
    """E, shape (T, d_model): rows of the file's embedding table, or seeded vectors per token."""
    if weights.embedding is None:
        vectors = {p: token_embedding(p, seed, weights.d_model) for p in dict.fromkeys(pieces)}  # once a piece
        return np.stack([vectors[p] for p in pieces])  # (T, d_model)
    if any(i is None for i in ids):
        raise WeightsError(
            f"{weights.source} has an embedding table, which needs token ids: use the default "
            "tokenizer or a tokenizer.json, not words/chars"
        )
    vocab = weights.embedding.shape[0]
    too_big = [i for i in ids if i >= vocab]
    if too_big:
        raise WeightsError(
            f"token id {too_big[0]} is past the end of the embedding table in {weights.source} "
            f"({vocab} rows): use the tokenizer the table was made for (--tokenizer)"
        )
    return weights.embedding[np.asarray(ids)]  # (T, d_model)


# --- files -----------------------------------------------------------------------------------

def save_weights(weights: Weights, path: Path) -> None:
    """Write `weights` as safetensors (or .npz by the extension), atomically: temp file + rename."""
    tensors = {name: np.ascontiguousarray(getattr(weights, name), dtype=np.float64)
               for name in TENSORS if getattr(weights, name) is not None}
    suffix = path.suffix.lower()
    if suffix not in (".safetensors", ".npz"):
        raise OutputError(f"{path}: weight files end in .safetensors or .npz")

    def write(tmp: Path) -> None:
        if suffix == ".npz":
            with open(tmp, "wb") as fh:
                np.savez(fh, **tensors, n_heads=np.asarray(weights.n_heads, dtype=np.int64))
        else:
            from safetensors.numpy import save_file

            save_file(tensors, str(tmp), metadata={"format": "attnviz.weights/1",
                                                   "n_heads": str(weights.n_heads)})

    atomic_write(path, write)


def load_weights(path: Path) -> Weights:
    """Read and validate a weight file (.safetensors, or .npz without pickle)."""
    path = Path(path)
    if not path.exists():
        raise WeightsError(f"weight file {path} does not exist: check the path, or make one with "
                           "`attnviz weights init -o w.safetensors`")
    if not path.is_file():
        raise WeightsError(f"{path} is not a file: give the path of a .safetensors or .npz file")
    if path.suffix.lower() == ".npz":
        tensors, n_heads = _read_npz(path)
    else:
        tensors, n_heads = _read_safetensors(path)
    return validate(tensors, n_heads, str(path))


def _read_safetensors(path: Path) -> tuple[dict, int]:
    from safetensors import SafetensorError
    from safetensors.numpy import safe_open

    try:
        with safe_open(str(path), framework="numpy") as fh:
            meta = fh.metadata() or {}
            for name in fh.keys():  # every tensor checked from the header, before any data is read
                piece = fh.get_slice(name)
                dtype = piece.get_dtype()
                _check_header(str(path), name, tuple(piece.get_shape()), dtype, dtype in SAFETENSORS_FLOATS)
            tensors = {name: fh.get_tensor(name) for name in fh.keys()}
    except (SafetensorError, OSError, ValueError, TypeError) as exc:
        raise WeightsError(
            f"{path} is not a readable safetensors file ({str(exc).splitlines()[0][:100]}): "
            "make one with `attnviz weights init -o w.safetensors`"
        ) from None
    try:
        n_heads = int(meta.get("n_heads", "1"))
    except ValueError:
        raise WeightsError(f"{path}: metadata n_heads={meta['n_heads']!r} is not a whole number") from None
    return tensors, n_heads


def _read_npz(path: Path) -> tuple[dict, int]:
    """The arrays of an .npz file (np.savez / np.savez_compressed), each refused from its zip entry and
    .npy header (encryption, compression method, dtype, shape, size) before its data is inflated."""
    import zipfile
    import zlib

    bad = f"{path} is not a readable .npz file"
    if not zipfile.is_zipfile(path):
        raise WeightsError(f"{bad} (not a zip archive): save it with np.savez, or use safetensors")
    tensors: dict[str, np.ndarray] = {}
    n_heads, seen = 1, set()
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > len(TENSORS) + 1:
                raise WeightsError(f"{path} holds {len(members)} files; a weight file holds at most "
                                   f"{len(TENSORS) + 1} ({', '.join(TENSORS)}, n_heads)")
            for info in members:
                name = info.filename.removesuffix(".npy")
                if name in seen:
                    raise WeightsError(f"{path} holds {info.filename} twice: save it again with np.savez")
                if info.flag_bits & 0x1:
                    raise WeightsError(f"{path} is encrypted ({info.filename}): attnviz reads plain np.savez files")
                if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise WeightsError(f"{path}: {info.filename} is packed with zip method {info.compress_type}; "
                                       "np.savez and np.savez_compressed use 0 (stored) and 8 (deflate): "
                                       "save it again with numpy")
                if name not in (*TENSORS, "n_heads"):
                    raise WeightsError(f"{path}: unknown tensor {info.filename!r}; expected "
                                       f"{', '.join(TENSORS)} (and n_heads)")
                with archive.open(info) as fh:
                    shape, fortran, dtype = _npy_header(fh, path, info.filename)
                    if name == "n_heads":
                        if shape != () or dtype.kind not in "iu":
                            raise WeightsError(f"{path}: n_heads must be a single integer")
                        n_heads = int(_npy_data(fh, path, info.filename, shape, dtype, fortran))
                    else:
                        _check_header(str(path), name, shape, str(dtype), dtype.kind == "f" and dtype.itemsize <= 8)
                        tensors[name] = _npy_data(fh, path, info.filename, shape, dtype, fortran)
                seen.add(name)
    except WeightsError:
        raise
    except (OSError, zipfile.BadZipFile, EOFError, zlib.error, ValueError, RuntimeError, NotImplementedError) as exc:
        raise WeightsError(f"{bad} ({str(exc)[:100]}): save it with np.savez") from None
    return tensors, n_heads


#: The longest .npy header read (numpy's own limit); np.save writes 128 bytes.
MAX_NPY_HEADER = 10_000


def _npy_header(fh, path: Path, member: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, fortran_order, dtype) of the .npy stream `fh`, checked before anything else is read."""
    import io
    import struct

    if fh.read(6) != b"\x93NUMPY":
        raise WeightsError(f"{path}: {member} is not a .npy array: save the file with np.savez")
    version = tuple(fh.read(2))
    if version not in ((1, 0), (2, 0), (3, 0)):
        raise WeightsError(f"{path}: {member} is a .npy file of unknown version {version}: save it with np.savez")
    length_format = "<H" if version == (1, 0) else "<I"
    raw = fh.read(struct.calcsize(length_format))
    if len(raw) < struct.calcsize(length_format):
        raise WeightsError(f"{path}: {member} is cut short: save it again with np.savez")
    (size,) = struct.unpack(length_format, raw)
    if size > MAX_NPY_HEADER:
        raise WeightsError(f"{path}: {member} has a .npy header of {size:,} bytes, where np.savez writes 128 "
                           "(a damaged or hand-made file): save it again with np.savez")
    header = fh.read(size)
    if len(header) < size:
        raise WeightsError(f"{path}: {member} is cut short: save it again with np.savez")
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    try:
        shape, fortran, dtype = read(io.BytesIO(raw + header))
    except Exception as exc:  # noqa: BLE001 - numpy's literal_eval of a hostile header fails in many ways
        raise WeightsError(f"{path}: {member} has an unreadable .npy header ({str(exc)[:80]}): "
                           "save it again with np.savez") from None
    if dtype.hasobject:
        raise WeightsError(f"{path} holds pickled objects ({member}), which attnviz never loads: "
                           "save plain numeric arrays (np.savez) or use safetensors")
    return tuple(shape), bool(fortran), dtype


def _npy_data(fh, path: Path, member: str, shape: tuple[int, ...], dtype: np.dtype, fortran: bool) -> np.ndarray:
    """The array behind a checked header: exactly the bytes its shape needs, no more."""
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    data = fh.read(count * dtype.itemsize)
    if len(data) < count * dtype.itemsize:
        raise WeightsError(f"{path}: {member} is cut short ({len(data):,} of {count * dtype.itemsize:,} bytes): "
                           "save it again with np.savez")
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")


def _check_header(source: str, name: str, shape: tuple[int, ...], dtype: str, is_float: bool) -> None:
    """Refuse a tensor from what its file's header says (name, dtype, shape), before reading its data."""
    if name not in TENSORS:
        raise WeightsError(f"{source}: unknown tensor {name!r}; expected {', '.join(TENSORS)}")
    if not is_float:
        raise WeightsError(f"{source}: tensor {name} has dtype {dtype}, which attnviz does not read: weights "
                           "must be float16, float32 or float64 (safetensors F16, F32, F64); convert them")
    _check_shape(source, name, shape)


def _check_shape(source: str, name: str, shape: tuple[int, ...]) -> None:
    if len(shape) != 2:
        raise WeightsError(f"{source}: tensor {name} has shape {shape}; it must be a 2-D matrix")
    if 0 in shape:
        raise WeightsError(f"{source}: tensor {name} has shape {shape}, which holds no numbers; every weight "
                           "matrix needs at least one row and one column")
    rows, cols = shape
    if name == "embedding":
        if cols > MAX_WIDTH or rows * cols > MAX_ELEMENTS:
            raise WeightsError(f"{source}: tensor embedding is {rows:,} × {cols:,}; attnviz reads tables of at "
                               f"most {MAX_WIDTH:,} columns and {MAX_ELEMENTS:,} numbers")
    elif rows > MAX_WIDTH or cols > MAX_WIDTH:
        raise WeightsError(f"{source}: tensor {name} is {rows:,} × {cols:,}; widths above {MAX_WIDTH} are more "
                           "than attnviz can show")


def validate(tensors: dict, n_heads: int, source: str) -> Weights:
    """Check names, dimensions, shapes, dtypes and finiteness; return float64 Weights."""
    unknown = sorted(set(tensors) - set(TENSORS))
    if unknown:
        raise WeightsError(f"{source}: unknown tensor {unknown[0]!r}; expected {', '.join(TENSORS)}")
    missing = [n for n in REQUIRED if n not in tensors]
    if missing:
        raise WeightsError(f"{source}: tensor {missing[0]!r} is missing; a weight file needs w_q, w_k, w_v")
    if n_heads < 1:
        raise WeightsError(f"{source}: n_heads must be at least 1 (got {n_heads})")
    arrays = {}
    for name, arr in tensors.items():
        arr = np.asarray(arr)
        if arr.dtype.kind != "f" or arr.dtype.itemsize > 8:
            raise WeightsError(f"{source}: tensor {name} has dtype {arr.dtype}; weights must be floats "
                               "(float16, float32 or float64)")
        _check_shape(source, name, arr.shape)
        if not np.all(np.isfinite(arr)):
            raise WeightsError(f"{source}: tensor {name} contains NaN or Inf; every weight must be finite")
        arrays[name] = arr.astype(np.float64)
    d_model = arrays["w_q"].shape[0]
    width_qk = arrays["w_q"].shape[1]
    expect = {"w_q": (d_model, width_qk), "w_k": (d_model, width_qk),
              "w_v": (d_model, arrays["w_v"].shape[1])}
    if "w_o" in arrays:
        expect["w_o"] = (arrays["w_v"].shape[1], d_model)
    if "embedding" in arrays:
        expect["embedding"] = (arrays["embedding"].shape[0], d_model)
    for name, shape in expect.items():
        if arrays[name].shape != shape:
            raise WeightsError(
                f"{source}: tensor {name} has shape {arrays[name].shape}, but w_q is {arrays['w_q'].shape} "
                f"so {name} must be {shape} (d_model = {d_model})"
            )
    for name in ("w_q", "w_v"):
        if arrays[name].shape[1] % n_heads:
            raise WeightsError(f"{source}: {name} has {arrays[name].shape[1]} columns, "
                               f"which do not split into n_heads = {n_heads} equal heads")
    if d_model > MAX_WIDTH or width_qk > MAX_WIDTH:
        raise WeightsError(f"{source}: widths above {MAX_WIDTH} are more than attnviz can show")
    return Weights(arrays["w_q"], arrays["w_k"], arrays["w_v"], arrays.get("w_o"),
                   arrays.get("embedding"), n_heads, None, source)


def describe(path: Path) -> list[tuple[str, tuple[int, ...], str]]:
    """(name, shape, dtype) of each tensor in a weight file, after validating it."""
    load_weights(path)  # raises a clear error when the file is not usable
    if Path(path).suffix.lower() == ".npz":
        tensors, _ = _read_npz(Path(path))
    else:
        tensors, _ = _read_safetensors(Path(path))
    return [(name, tuple(arr.shape), str(arr.dtype)) for name, arr in sorted(tensors.items())]
