"""Long inputs, whole processes: peak RSS (GNU time's %M) and wall time of `attnviz flash` and `attnviz explain`
on texts read from standard input (--tokenizer chars: one token a character), and the slope of memory in n
(4,100: just past the full trace's 4,096, where the summary path starts).

Run: python bench/long.py [--sizes 4100 8192 16384] [--flash-n 65536] [--png]
Targets (issue 17): flash on ~8k tokens < 300 MiB and on 65,536 < 400 MiB, within 2× of bench/attention.py's
tiled kernel on the same n plus start-up; explain on 16,384 tokens < 800 MiB (every line ≤ 80 columns), with
--png < 1 GiB; memory linear in n.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SYLLABLES = "가나다라마바사아자차"
MIB = 2**20


def run(args: list[str], n: int) -> tuple[float, float, str]:
    """(seconds, peak RSS in MiB, stdout) of `attnviz ARGS` with n characters on standard input."""
    text = (SYLLABLES * (n // len(SYLLABLES) + 1))[:n]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8", delete=False) as f:
        f.write(text)
    try:
        with open(f.name, "rb") as stdin, tempfile.NamedTemporaryFile() as report:
            start = time.perf_counter()
            done = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", report.name, sys.executable, "-m", "attnviz",
                                   *args, "-", "--tokenizer", "chars"], stdin=stdin, capture_output=True,
                                  env={**os.environ, "COLUMNS": "80"})
            seconds = time.perf_counter() - start
            if done.returncode:
                raise SystemExit(done.stderr.decode())
            rss = int(Path(report.name).read_text().split()[-1]) * 1024 / MIB
    finally:
        os.unlink(f.name)
    return seconds, rss, done.stdout.decode()


def kernel_seconds(n: int) -> float:
    """bench/attention.py's tiled kernel (one head, float32, d_k = 4 as the seeded model, tiles 512 × 1024)."""
    import numpy as np

    from attnviz.attention import tiled_attention

    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((n, 4), dtype=np.float32) for _ in range(3))
    start = time.perf_counter()
    tiled_attention(q, k, v, 1024, query_block=512)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4100, 8192, 16384])
    parser.add_argument("--flash-n", type=int, default=65536)
    parser.add_argument("--png", action="store_true", help="also explain --png at the largest size")
    a = parser.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the attnviz command sets it
    print("command            n      time (s)   peak RSS (MiB)")
    for name, extra in (("flash", ["--block", "1024"]), ("explain", [])):
        points = []
        for n in a.sizes:
            seconds, rss, out = run([name, *extra], n)
            from rich.cells import cell_len

            widest = max(cell_len(line) for line in out.splitlines())
            points.append((n, rss))
            print(f"{name:<10} {n:>9,} {seconds:>10.2f} {rss:>12.0f}   widest line {widest}")
        (n0, r0), (n1, r1) = points[0], points[-1]
        print(f"{name}: memory slope {(r1 - r0) / (n1 - n0) * 1024:.1f} MiB per 1,024 tokens "
              f"({n0:,} → {n1:,})")
    if a.png:
        with tempfile.TemporaryDirectory() as tmp:
            seconds, rss, _ = run(["explain", "--png", f"{tmp}/s.png"], a.sizes[-1])
        print(f"explain --png {a.sizes[-1]:>9,} {seconds:>10.2f} {rss:>12.0f}")
    if a.flash_n:
        seconds, rss, _ = run(["flash"], a.flash_n)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "attnviz", "--version"], capture_output=True)
        startup = time.perf_counter() - start
        kernel = kernel_seconds(a.flash_n)
        print(f"flash (--block 2) {a.flash_n:,}: {seconds:.2f} s, {rss:.0f} MiB; tiled kernel {kernel:.2f} s + "
              f"start-up {startup:.2f} s → ratio {seconds / (kernel + startup):.2f}× (target ≤ 2×)")


if __name__ == "__main__":
    main()
