"""Downloading a checkpoint from the Hugging Face Hub, when the user asks for it (`--model org/name --download`).

Only for a repo id missing from the local Hugging Face cache, and not when HF_HUB_OFFLINE is set. Exactly the
files attnviz reads are fetched (resolve.fetch decides which, from config.json), with huggingface_hub (which
tokenizers installs; the extra `attnviz[hub]` asks for it explicitly), into the Hugging Face cache (HF_HOME /
HF_HUB_CACHE), where later runs find them with no network and no --download. Nothing else in attnviz touches
the network.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import AttnvizError

INSTALL = "pip install 'attnviz[hub]'"
_TRUE = ("1", "ON", "YES", "TRUE")


def downloader(repo_id: str, not_cached: AttnvizError) -> Callable[..., Path | None]:
    """get(name, optional=False) -> the cached path of file `name` of `repo_id` (`org/name[@revision]`), after
    downloading it; an optional file the repo lacks gives None.

    Raises `not_cached`'s class with a line that says what to do when offline is asked for
    (HF_HUB_OFFLINE), when huggingface_hub is not installed, or when a download fails (no network, no
    such repo or revision, a gated repo, or a repo without one of the files, e.g. only pytorch_model.bin).
    """
    error = type(not_cached)
    repo, _, revision = repo_id.partition("@")
    if os.environ.get("HF_HUB_OFFLINE", "").upper() in _TRUE:
        raise error(f"{not_cached} (HF_HUB_OFFLINE is set, so attnviz does not download it)")
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        raise error(f"--download needs the package huggingface_hub: `{INSTALL}`") from None

    def get(name: str, optional: bool = False) -> Path | None:
        try:
            return Path(hf_hub_download(repo, name, revision=revision or None))
        except Exception as exc:  # noqa: BLE001 (network, repo, revision, access: the hub's own errors)
            if optional and _absent(exc):
                return None
            raise error(_failure(repo, revision, name, exc)) from None

    return get


def download(repo_id: str, files: Sequence[str], not_cached: AttnvizError) -> Path:
    """The cache snapshot folder holding `files` of `repo_id`, after downloading them (see downloader)."""
    get = downloader(repo_id, not_cached)
    return [get(name) for name in files][0].parent


def _absent(exc: Exception) -> bool:
    """Whether the hub said the repo has no such file (not: the hub could not be reached)."""
    kinds = {t.__name__ for t in type(exc).__mro__}
    return "EntryNotFoundError" in kinds and "LocalEntryNotFoundError" not in kinds


def _failure(repo: str, revision: str, name: str, exc: Exception) -> str:
    """One line: which file of which repo could not be downloaded, why, and what to do."""
    kinds = {t.__name__ for t in type(exc).__mro__}  # the hub's error classes, matched by name
    where = f"{repo}@{revision}" if revision else repo
    if "LocalEntryNotFoundError" in kinds or "OfflineModeIsEnabled" in kinds:
        why = "the Hub could not be reached: check your network (or a proxy), then run the command again"
    elif "RepositoryNotFoundError" in kinds:
        why = "no such repo (or it is private): check the repo id, or log in with `hf auth login`"
    elif "RevisionNotFoundError" in kinds:
        why = "no such revision: check the name after @"
    elif "GatedRepoError" in kinds:
        why = "the repo is gated: accept its terms on huggingface.co and log in with `hf auth login`"
    elif "EntryNotFoundError" in kinds:
        why = (f"the repo has no {name}" + (" (perhaps only pytorch_model.bin, a pickle attnviz never loads: "
                                            "convert it to safetensors)" if name.endswith(".safetensors") else ""))
    else:
        why = " ".join(str(exc).split())[:200] or "no reason given"
    return f"could not download {name} of {where} from the Hugging Face Hub: {why} [{type(exc).__name__}]"
