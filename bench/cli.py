"""Whole-process start-up and figure times of the attnviz CLI, as ratios against baselines measured
in the same run (medians of several runs; one warm-up each).

Run: python bench/cli.py [--runs 7] [--no-long]

Targets (issue #5): explain to the terminal ≤ 1.5× `python -c "import numpy, rich, typer"`;
--help ≤ 1.3× a minimal two-command typer app's --help; explain --out-dir (every stage figure and
the pipeline figure) ≤ 2.5× `python -c "import matplotlib; from matplotlib.figure import Figure"`.
Long inputs (a second table: whole processes, median wall time and peak RSS of the process): a 512-token
explain to the terminal within 1 s; explain --png for n = 512, 2048, 4096 tokens within 2 s each.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable
SENTENCE = "고양이는 침대에서 잔다"


def timed(cmd: list[str], runs: int) -> float:
    """Median wall time of `cmd` over `runs` runs, after one warm-up run."""
    env = {**os.environ, "COLUMNS": "80"}
    subprocess.run(cmd, capture_output=True, env=env, check=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, env=env, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak(cmd: list[str]) -> float:
    """Peak resident memory (MiB) of one run of `cmd`, from a wrapper process whose only child it is."""
    probe = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], capture_output=True, check=True); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([PY, "-c", probe, *cmd], capture_output=True, text=True, check=True,
                         env={**os.environ, "COLUMNS": "80"})
    return int(out.stdout) / 1024  # ru_maxrss is in KiB on Linux


def long_inputs(runs: int, out_dir: str) -> None:
    """The second table: long texts (one character a token with --tokenizer chars)."""
    cases = [("explain 512 tokens → terminal", 512, [], 1.0)]
    cases += [(f"explain {n} tokens --png", n, ["--png", str(Path(out_dir) / f"long{n}.png")], 2.0)
              for n in (512, 2048, 4096)]
    print(f"\n{'long input':32} {'time':>8} {'peak RSS':>10} {'target':>8}")
    for name, n, extra, target in cases:
        cmd = [PY, "-m", "attnviz", "explain", "가" * n, "--tokenizer", "chars", *extra]
        t = timed(cmd, runs)
        verdict = "ok" if t <= target else "OVER"
        print(f"{name:32} {t:7.3f}s {peak(cmd):7.0f} MiB {'≤' + str(target) + 's':>8} {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-long", action="store_true", help="skip the long-input table")
    args = parser.parse_args()
    runs = args.runs
    # up-to-date bytecode first: with PYTHONDONTWRITEBYTECODE set, an edited module would otherwise be
    # compiled again in every timed run (~60 ms for cli.py and the terminal renderer together)
    compileall.compile_dir(HERE.parent / "attnviz", quiet=1)
    out_dir = tempfile.mkdtemp(prefix="attnviz-bench-")
    cases = [
        ("explain → terminal", [PY, "-m", "attnviz", "explain", SENTENCE],
         "import numpy, rich, typer", [PY, "-c", "import numpy, rich, typer"], 1.5),
        ("attnviz --help", [PY, "-m", "attnviz", "--help"],
         "minimal typer app --help", [PY, str(HERE / "minimal_typer_app.py"), "--help"], 1.3),
        ("attnviz explain --help", [PY, "-m", "attnviz", "explain", "--help"],
         "minimal typer app --help", [PY, str(HERE / "minimal_typer_app.py"), "--help"], 1.3),
        ("explain --out-dir (9 figures)", [PY, "-m", "attnviz", "explain", SENTENCE, "--out-dir", out_dir],
         "import matplotlib + Figure", [PY, "-c", "import matplotlib; from matplotlib.figure import Figure"], 2.5),
    ]
    print(f"{'command':32} {'time':>8} {'baseline':28} {'time':>8} {'ratio':>6} {'target':>7}")
    for name, cmd, base_name, base_cmd, target in cases:
        t, b = timed(cmd, runs), timed(base_cmd, runs)
        verdict = "ok" if t / b <= target else "OVER"
        print(f"{name:32} {t:7.3f}s {base_name:28} {b:7.3f}s {t / b:6.2f} {'≤' + str(target):>7} {verdict}")
    if not args.no_long:
        long_inputs(max(1, runs // 2), out_dir)


if __name__ == "__main__":
    main()
