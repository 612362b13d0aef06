"""Where output goes: regular files atomically (mode kept, umask honoured), links followed, devices and
FIFOs written into, long names, signals, and transactions that write all or nothing."""

import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from attnviz.errors import OutputError
from attnviz.files import atomic_write, check_target, ensure_dir, transaction


def text_writer(text):
    return lambda p: Path(p).write_text(text, encoding="utf-8")


def leftovers(folder):
    return sorted(p.name for p in Path(folder).iterdir() if p.name.endswith(".tmp"))


def test_existing_file_keeps_its_mode(tmp_path):
    path = tmp_path / "keep.json"
    path.write_text("old")
    path.chmod(0o600)
    atomic_write(path, text_writer("new"))
    assert path.read_text() == "new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o640)
    atomic_write(path, text_writer("newer"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_new_file_follows_the_umask(tmp_path):
    import attnviz.files as files

    old = os.umask(0o077)
    files._umask_cache.clear()
    try:
        atomic_write(tmp_path / "a.json", text_writer("x"))
    finally:
        os.umask(old)
        files._umask_cache.clear()
    assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o600
    atomic_write(tmp_path / "b.json", text_writer("x"))
    assert stat.S_IMODE((tmp_path / "b.json").stat().st_mode) == 0o666 & ~old


def test_symlink_is_followed_to_its_file(tmp_path):
    real = tmp_path / "data" / "real.json"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    atomic_write(link, text_writer("new"))
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new"
    assert leftovers(tmp_path) == [] and leftovers(real.parent) == []


def test_dangling_symlink_creates_the_file_it_names(tmp_path):
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "made.json")
    atomic_write(link, text_writer("made"))
    assert link.is_symlink() and (tmp_path / "made.json").read_text() == "made"


def test_symlink_loop_is_one_clear_error(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.symlink_to(b)
    b.symlink_to(a)
    with pytest.raises(OutputError, match="cannot write .*a.json"):
        atomic_write(a, text_writer("x"))


def test_character_device_is_written_into_not_replaced(tmp_path):
    link = tmp_path / "null.json"  # a link to /dev/null: the old code replaced the link; worse, as root,
    link.symlink_to("/dev/null")  # `--json /dev/null` replaced the device itself
    atomic_write(link, text_writer("gone"))
    assert link.is_symlink() and stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert leftovers(tmp_path) == []


def test_full_device_is_one_clear_error(tmp_path):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    link = tmp_path / "full.json"  # through a link: a regression would replace the link, not the device
    link.symlink_to("/dev/full")
    with pytest.raises(OutputError, match="cannot write .*full.json: No space left"):
        atomic_write(link, lambda p: Path(p).write_bytes(b"x" * 100_000))
    assert link.is_symlink() and stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_named_pipe_is_written_into(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()), daemon=True)
    reader.start()
    try:
        atomic_write(fifo, text_writer('{"a":1}'))
        reader.join(10)
    finally:
        if reader.is_alive():  # the pipe was never written: let the reader go
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            os.close(fd)
    assert got == ['{"a":1}'] and stat.S_ISFIFO(fifo.stat().st_mode)
    assert leftovers(tmp_path) == []


def test_folder_and_socket_are_refused(tmp_path):
    import socket

    with pytest.raises(OutputError, match="it is a folder"):
        atomic_write(tmp_path, text_writer("x"))
    sock_path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        with pytest.raises(OutputError, match="it is a socket"):
            check_target(sock_path)


def test_longest_legal_name_is_written(tmp_path):
    name = "x" * 245 + ".json"  # 250 characters: the temp name used to pass 255
    atomic_write(tmp_path / name, text_writer("ok"))
    assert (tmp_path / name).read_text() == "ok"
    hangul = "가" * 80 + ".json"  # 245 bytes in UTF-8
    atomic_write(tmp_path / hangul, text_writer("ok"))
    assert (tmp_path / hangul).read_text() == "ok" and leftovers(tmp_path) == []


def test_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "keep.json"
    path.write_text("precious")

    def broken(p):
        Path(p).write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OutputError, match="No space left on device"):
        atomic_write(path, broken)
    assert path.read_text() == "precious" and leftovers(tmp_path) == []


def test_transaction_writes_nothing_when_a_later_output_fails(tmp_path):
    keep = tmp_path / "keep.json"
    keep.write_text("precious")
    with pytest.raises(OutputError):
        with transaction():
            atomic_write(keep, text_writer("replaced"))
            assert keep.read_text() == "precious"  # staged, not renamed yet
            raise OutputError("the figure name is wrong")
    assert keep.read_text() == "precious" and leftovers(tmp_path) == []


def test_transaction_commits_every_output_at_the_end(tmp_path):
    with transaction():
        atomic_write(tmp_path / "a.json", text_writer("a"))
        atomic_write(tmp_path / "b.json", text_writer("b"))
        assert not (tmp_path / "a.json").exists()
    assert (tmp_path / "a.json").read_text() == "a" and (tmp_path / "b.json").read_text() == "b"
    assert leftovers(tmp_path) == []


def test_failed_transaction_removes_the_folder_it_made(tmp_path):
    out = tmp_path / "figs"
    existing = tmp_path / "old"
    existing.mkdir()

    def full(p):
        raise OSError(28, "No space left on device")

    for folder in (out, existing):
        with pytest.raises(OutputError, match="No space left"):
            with transaction():
                ensure_dir(folder)
                atomic_write(folder / "a.png", text_writer("a"))
                atomic_write(folder / "b.png", full)
    assert not out.exists()  # made by the run: gone again
    assert existing.is_dir() and list(existing.iterdir()) == []  # the user's folder stays


def test_save_stage_figures_leaves_no_folder_when_writing_fails(tmp_path, monkeypatch):
    from attnviz.pipeline import self_attention
    from attnviz.render.figure import save as save_module

    written = []

    def write_png(path, pixels, dpi):  # the fourth figure meets a full disk
        written.append(path)
        full = len(written) >= 4

        def write(p):
            if full:
                raise OSError(28, "No space left on device")
            Path(p).write_bytes(b"png")

        atomic_write(path, write)

    monkeypatch.setattr(save_module, "_write_png", write_png)
    out = tmp_path / "stages"
    with pytest.raises(OutputError, match="No space left"):
        save_module.save_stage_figures(self_attention("a b"), out, dpi=20)
    assert len(written) >= 4 and not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_signal_during_a_write_leaves_no_temp_file(tmp_path, sig):
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from attnviz.files import atomic_write

        def slow(p):
            Path(p).write_text("half")
            print("writing", flush=True)
            time.sleep(30)

        atomic_write(Path({str(tmp_path / "fig.png")!r}), slow)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    assert len(leftovers(tmp_path)) == 1
    proc.send_signal(sig)
    assert proc.wait(20) == -sig  # it still dies of the signal
    assert list(tmp_path.iterdir()) == []
