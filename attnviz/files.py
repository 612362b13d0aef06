"""Writing output files safely: what a careful tool does with each kind of target.

    a regular file (new or existing)   temp file beside it, renamed over it: a failed write leaves the old
                                       file whole; an existing file keeps its mode, a new one gets the umask's
    a symbolic link                    followed: the file it names is replaced, the link stays
    a character device, a named pipe   written straight into (/dev/null, /dev/stdout, a FIFO): never replaced
    a folder, a block device, a socket refused

Inside `transaction()`, every write is staged (temp files, folders made) and only renamed into place when the
block ends without an error: a run that fails writes nothing. SIGTERM and SIGHUP remove the temp files
before the process dies as the signal says (SIGINT does so through KeyboardInterrupt).
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import OutputError

#: The figure formats written, by the name's extension.
FIGURE_FORMATS = ("png", "svg", "pdf")

#: A temp file is named `.{the first 32 characters of the name}.XXXXXXXX.tmp`: short enough for any
#: legal name (255 bytes), recognisable as the target's.
TEMP_PREFIX_CHARS = 32

_lock = threading.RLock()
_temps: set[str] = set()  # temp files that exist now: removed on failure, SIGTERM or SIGHUP
_batch: _Batch | None = None  # the open transaction(), if any
_umask_cache: list[int] = []
_handled = False


class _Batch:
    """What a transaction() has staged: temp files to rename, direct writes to do, folders it made."""

    def __init__(self) -> None:
        self.renames: list[tuple[str, Path]] = []
        self.direct: list[tuple[Path, Callable[[Path], None]]] = []
        self.folders: list[Path] = []


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Have write(p) write the file `path`: p is a temp file beside it (renamed over it when write
    returns), or `path` itself for a character device or a FIFO. See the module docstring.

    A failed write leaves no partial file and never destroys an existing one (OutputError).
    """
    path = Path(path)
    target, mode, direct = _target(path)
    _guard_signals()
    if direct:
        with _lock:
            if _batch is not None:
                _batch.direct.append((target, write))
                return
        _write_direct(path, target, write)
        return
    tmp = _temp_beside(path, target)
    staged = False
    try:
        write(Path(tmp))
        os.chmod(tmp, mode)
        with _lock:
            if _batch is not None:
                _batch.renames.append((tmp, target))
                staged = True
                return
        os.replace(tmp, target)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc} (choose a writable path with free space)"
                          ) from None
    finally:
        if not staged:
            _discard(tmp)


def check_target(path: Path) -> Path:
    """Raise OutputError when `path` could not be written (missing folder, a folder, a socket …),
    without writing anything; return the file a write would reach (a link followed)."""
    return _target(Path(path))[0]


def check_suffix(path: Path, formats: tuple[str, ...] = FIGURE_FORMATS) -> str:
    """The format named by `path`'s extension, one of `formats`; else an OutputError saying which to use."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in formats:
        given = f"the extension {path.suffix!r}" if path.suffix else "no extension"
        raise OutputError(f"cannot write {path}: it has {given}; end the name with "
                          f"{', '.join('.' + f for f in formats)}")
    return fmt


def check_folder(path: Path) -> None:
    """Raise OutputError when the folder `path` neither exists nor can be created (its parent missing),
    or is a file; nothing is created."""
    path = Path(path)
    if path.is_dir():
        return
    if path.exists():
        raise OutputError(f"cannot write figures into {path}: it is a file; give a folder")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        what = "is not a folder" if parent.exists() else "does not exist (create it first)"
        raise OutputError(f"cannot create {path}: {parent} {what}")


@contextmanager
def transaction() -> Iterator[None]:
    """Stage every atomic_write and ensure_dir inside the block; commit them when it ends without an
    error, else remove what was staged (temp files, folders it created): a failed run writes nothing.
    Regular files are renamed into place first, then devices and FIFOs are written. Nested: one batch."""
    global _batch
    with _lock:
        if _batch is not None:
            outer = True
        else:
            outer, _batch = False, _Batch()
        batch = _batch
    if outer:
        yield
        return
    _guard_signals()
    try:
        yield
    except BaseException:
        with _lock:
            _batch = None
        _abort(batch)
        raise
    with _lock:
        _batch = None
    try:
        for tmp, target in batch.renames:
            try:
                os.replace(tmp, target)
            except OSError as exc:
                raise OutputError(f"cannot write {target}: {exc.strerror} (choose a writable path)") from None
            _forget(tmp)
    finally:
        _abort(batch, folders=False)  # whatever was not renamed
    for target, write in batch.direct:
        _write_direct(target, target, write)


def ensure_dir(path: Path) -> Path:
    """Create the folder `path` (its parent must exist); an existing folder is fine. Inside a
    transaction() that fails, a folder made here is removed again (when empty)."""
    path = Path(path)
    if path.is_dir():
        return path
    check_folder(path)
    _guard_signals()
    try:
        path.mkdir()
    except OSError as exc:
        raise OutputError(f"cannot create {path}: {exc.strerror} (choose a writable folder)") from None
    with _lock:
        if _batch is not None:
            _batch.folders.append(path)
    return path


# --- helpers --------------------------------------------------------------------------------------

def _target(path: Path) -> tuple[Path, int, bool]:
    """(the path to write, the mode a replacing file gets, whether to write straight into it)."""
    try:
        st = os.stat(path)  # follows symbolic links
    except (FileNotFoundError, NotADirectoryError):  # a new file (its folder is checked below)
        st = None
    except OSError as exc:  # a link loop, a file used as a folder, a name too long, no permission
        raise OutputError(f"cannot write {path}: {exc.strerror} (choose another path)") from None
    if st is not None:
        kind = st.st_mode
        if stat.S_ISDIR(kind):
            raise OutputError(f"cannot write {path}: it is a folder; give a file name")
        if stat.S_ISCHR(kind) or stat.S_ISFIFO(kind):
            return path, 0, True
        if not stat.S_ISREG(kind):
            what = "a block device" if stat.S_ISBLK(kind) else "a socket" if stat.S_ISSOCK(kind) else "not a file"
            raise OutputError(f"cannot write {path}: it is {what}; give a file name, a character device or a "
                              "named pipe")
        target = Path(os.path.realpath(path)) if os.path.islink(path) else path
        return target, stat.S_IMODE(kind), False
    target = Path(os.path.realpath(path)) if os.path.islink(path) else path  # a link to a file to create
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        what = "is not a folder" if parent.exists() else "does not exist (create it first)"
        raise OutputError(f"cannot write {path}: {parent} {what}")
    return target, 0o666 & ~_umask(), False


def _temp_beside(path: Path, target: Path) -> str:
    import tempfile  # only when a file is written: not on the terminal path

    parent = target.parent if str(target.parent) else Path(".")
    with _lock:  # registered before a signal handler could miss it
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:TEMP_PREFIX_CHARS]}.", suffix=".tmp", dir=parent)
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror} in {parent} (choose a writable folder)"
                              ) from None
        _temps.add(tmp)
    os.close(fd)
    return tmp


def _write_direct(shown: Path, target: Path, write: Callable[[Path], None]) -> None:
    try:
        write(target)
    except OSError as exc:
        raise OutputError(f"cannot write {shown}: {exc.strerror or exc} (choose a writable path)") from None


def _discard(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except OSError:
        pass
    _forget(tmp)


def _forget(tmp: str) -> None:
    with _lock:
        _temps.discard(tmp)


def _abort(batch: _Batch, folders: bool = True) -> None:
    for tmp, _ in batch.renames:
        with _lock:
            live = tmp in _temps
        if live:
            _discard(tmp)
    if folders:
        for folder in reversed(batch.folders):
            try:
                folder.rmdir()  # only when empty: never a file the user had
            except OSError:
                pass


def _umask() -> int:
    """The process's umask, read without changing it where the system allows (Linux), cached."""
    if not _umask_cache:
        mask = None
        try:
            with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
                for line in fh:
                    if line.startswith("Umask:"):
                        mask = int(line.split()[1], 8)
        except (OSError, ValueError, IndexError):
            mask = None
        if mask is None:
            mask = os.umask(0o022)
            os.umask(mask)
        _umask_cache.append(mask)
    return _umask_cache[0]


def _guard_signals() -> None:
    """Install SIGTERM/SIGHUP handlers that remove temp files first (only where the default action,
    terminate, is in place; only from the main thread, where Python allows it). Idempotent."""
    global _handled
    if _handled or threading.current_thread() is not threading.main_thread():
        return
    import signal

    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None and signal.getsignal(sig) == signal.SIG_DFL:
            signal.signal(sig, _on_signal)
    _handled = True


def _on_signal(signum, frame) -> None:
    """Remove every temp file (and the folders of an open transaction), then die of the signal."""
    import signal

    with _lock:
        temps, batch = list(_temps), _batch
    for tmp in temps:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    if batch is not None:
        for folder in reversed(batch.folders):
            try:
                folder.rmdir()
            except OSError:
                pass
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
