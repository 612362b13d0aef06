"""`attnviz survey` over every layer and head against one `attnviz explain --layer <last>`, whole process.

Run: python bench/survey.py DIR [--runs 5] [--text TEXT]

DIR is a decoder checkpoint folder (config.json, model.safetensors, tokenizer.json), e.g. a SmolLM2-135M-shaped
one with random weights (30 layers × 9 heads, d_model 576). Both commands start a fresh Python on the same
20-token text (by default) and print to the terminal (COLUMNS=80, output discarded):
    explain   attnviz explain TEXT --model DIR --layer <last>      (one layer's trace: one forward pass)
    survey    attnviz survey TEXT --model DIR                      (every layer × head on TEXT, plus the
                                                                    induction input: a second forward pass)
Medians of --runs runs after one warm-up each; the ratio survey / explain is the result.

Target (issue #16): survey ≤ 2 × explain.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

TEXT = "The cat sat on the mat and the dog sat on the rug"


def timed(cmd: list[str]) -> float:
    env = {**os.environ, "COLUMNS": "80"}
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def median(cmd: list[str], runs: int) -> float:
    timed(cmd)  # warm-up: the page cache holds the weights for every measured run
    return statistics.median(timed(cmd) for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--text", default=TEXT)
    args = parser.parse_args()
    n_layers = json.loads((args.model / "config.json").read_text())["num_hidden_layers"]
    base = [sys.executable, "-m", "attnviz"]
    explain = median([*base, "explain", args.text, "--model", str(args.model), "--layer", str(n_layers - 1)],
                     args.runs)
    survey = median([*base, "survey", args.text, "--model", str(args.model)], args.runs)
    print(f"explain --layer {n_layers - 1}: {explain:.3f} s (median of {args.runs})")
    print(f"survey (every layer × head): {survey:.3f} s")
    print(f"ratio survey / explain: {survey / explain:.2f} (target ≤ 2)")


if __name__ == "__main__":
    main()
