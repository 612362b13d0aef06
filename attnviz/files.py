"""Writing output files safely: temp file beside the target, then rename."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from .errors import OutputError


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call write(tmp) on a temp file beside `path`, then rename it over `path`.

    A failed write leaves no partial file and never destroys an existing one.
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        what = "is not a folder" if parent.exists() else "does not exist (create it first)"
        raise OutputError(f"cannot write {path}: {parent} {what}")
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a folder; give a file name")
    try:
        import tempfile  # only when a file is written: not on the terminal path

        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise OutputError(f"cannot write in {parent}: {exc.strerror} (choose a writable folder)") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror} (choose a writable path)") from None
    finally:
        tmp.unlink(missing_ok=True)


def ensure_dir(path: Path) -> Path:
    """Create the folder `path` (its parent must exist); an existing folder is fine."""
    path = Path(path)
    if path.is_dir():
        return path
    if path.exists():
        raise OutputError(f"cannot write figures into {path}: it is a file; give a folder")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        what = "is not a folder" if parent.exists() else "does not exist (create it first)"
        raise OutputError(f"cannot create {path}: {parent} {what}")
    try:
        path.mkdir()
    except OSError as exc:
        raise OutputError(f"cannot create {path}: {exc.strerror} (choose a writable folder)") from None
    return path
