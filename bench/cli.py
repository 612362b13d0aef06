"""Whole-process start-up and figure times of the attnviz CLI, as ratios against baselines measured
in the same run (medians of several runs; one warm-up each).

Run: python bench/cli.py [--runs 7]

Targets (issue #5): explain to the terminal ≤ 1.5× `python -c "import numpy, rich, typer"`;
--help ≤ 1.3× a minimal two-command typer app's --help; explain --out-dir (every stage figure and
the pipeline figure) ≤ 2.5× `python -c "import matplotlib; from matplotlib.figure import Figure"`.
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
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


if __name__ == "__main__":
    main()
