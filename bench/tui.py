"""First-screen time of `attnviz tui`: from starting the process to the whole first screen written to the
terminal, in a pseudo-terminal of 80 × 24, against a minimal Textual app measured the same way in the same run.

Run: python bench/tui.py [--runs 7] [--model DIR]

How: each run starts the command on the slave side of a new pty (TERM=xterm-256color, 80 × 24) and reads the
master side until the screen's last pieces have arrived: the key line ("q quit", drawn at the bottom) and
the first panel's title ("[Input]"); Textual writes a frame at once, so these arrive with the rest of
it. The time from just before the process is started to that moment is the first-screen time (Python's
start-up, the imports, the trace, Textual's start and first paint). Then `q` is sent and the process must
exit. Medians of `--runs` runs after one warm-up each.

Target (issue #18): the seed sentence's first screen within about 1 s.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import statistics
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable


def first_screen(cmd: list[str], markers: list[bytes], *, size=(80, 24), timeout: float = 20.0) -> float:
    """Seconds from starting `cmd` in a pty until every one of `markers` has been written; then quit it."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(size[0]), "LINES": str(size[1])}
    env.pop("NO_COLOR", None)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
                            start_new_session=True)
    os.close(slave)
    seen, elapsed = b"", None
    try:
        while time.perf_counter() - start < timeout:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                seen += chunk
                if all(m in seen for m in markers):
                    elapsed = time.perf_counter() - start
                    break
            if proc.poll() is not None:
                break
        if elapsed is None:
            raise RuntimeError(f"{' '.join(cmd)}: no first screen within {timeout} s (exit {proc.poll()}); "
                               f"last output: {seen[-400:]!r}")
        os.write(master, b"q")
        _drain(master, proc, timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode} after q")
        return elapsed
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


def _drain(master: int, proc: subprocess.Popen, timeout: float) -> None:
    """Read (and drop) the output until the process has exited, so it never blocks on a full pty."""
    end = time.perf_counter() + timeout
    while proc.poll() is None and time.perf_counter() < end:
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                os.read(master, 65536)
            except OSError:
                break
    proc.wait(timeout=max(0.1, end - time.perf_counter()))


def median(cmd: list[str], markers: list[bytes], runs: int) -> tuple[float, float, float]:
    """(median, min, max) of `runs` first-screen times after one warm-up run."""
    first_screen(cmd, markers)
    times = [first_screen(cmd, markers) for _ in range(runs)]
    return statistics.median(times), min(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--model", help="also time `attnviz tui … --model MODEL` (e.g. minilm)")
    args = parser.parse_args()
    cases = [("attnviz tui (seed sentence)", [PY, "-m", "attnviz", "tui", "--lang", "en"],
              [b"q quit", b"[Input]"])]
    if args.model:
        cases.append((f"attnviz tui --model {args.model}",
                      [PY, "-m", "attnviz", "tui", "The cat sat on the mat", "--model", args.model, "--lang", "en"],
                      [b"q quit", b"[Input]"]))
    base_name, base_cmd = "minimal Textual app", [PY, str(HERE / "minimal_textual_app.py")]
    base = median(base_cmd, [b"q quit", b"hello"], args.runs)
    print(f"{'first screen, 80 x 24 pty':34} {'median':>8} {'range':>15} {'ratio':>6}  target")
    print(f"{base_name:34} {base[0]:7.3f}s {base[1]:6.3f}–{base[2]:.3f}s {1:6.2f}")
    for name, cmd, markers in cases:
        t = median(cmd, markers, args.runs)
        verdict = "ok" if t[0] <= 1.0 else "OVER"
        print(f"{name:34} {t[0]:7.3f}s {t[1]:6.3f}–{t[2]:.3f}s {t[0] / base[0]:6.2f}  ≤ 1 s {verdict}")


if __name__ == "__main__":
    main()
