"""Long inputs, whole processes: peak RSS (GNU time's %M) and wall time of `attnviz flash` and `attnviz explain`
on texts read from standard input (--tokenizer chars: one token a character), and the slope of memory in n
(4,100: just past the full trace's 4,096, where the summary path starts); then a real checkpoint past its full
trace's limit: `attnviz explain --model DIR --layer L --file F` on ~8,000 of its tokens (the layers before L
tile by tile, layer L summarized).

Run: python bench/long.py [--sizes 4100 8192 16384] [--flash-n 65536] [--png]
                          [--model DIR] [--model-tokens 8000] [--model-layers 0 5]
--model defaults to a SmolLM2-135M-shaped checkpoint (bf16 Llama, 9 heads, 3 K/V heads, 8,192 positions) at
/tmp/attnviz-decoders/smollm2-135m, made by `python bench/decoders.py --make /tmp/attnviz-decoders` (torch);
--model none skips it. The text is this README repeated, cut at --model-tokens of the model's tokens.
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
SMOLLM2 = "/tmp/attnviz-decoders/smollm2-135m"


def run(args: list[str], n: int) -> tuple[float, float, str]:
    """(seconds, peak RSS in MiB, stdout) of `attnviz ARGS` with n characters on standard input."""
    text = (SYLLABLES * (n // len(SYLLABLES) + 1))[:n]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8", delete=False) as f:
        f.write(text)
    try:
        with open(f.name, "rb") as stdin:
            return measure([*args, "-", "--tokenizer", "chars"], stdin)
    finally:
        os.unlink(f.name)


def measure(args: list[str], stdin=None) -> tuple[float, float, str]:
    """(seconds, peak RSS in MiB, stdout) of the whole process `attnviz ARGS`."""
    with tempfile.NamedTemporaryFile() as report:
        start = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", report.name, sys.executable, "-m", "attnviz",
                               *args], stdin=stdin, capture_output=True, env={**os.environ, "COLUMNS": "80"})
        seconds = time.perf_counter() - start
        if done.returncode:
            raise SystemExit(done.stderr.decode())
        rss = int(Path(report.name).read_text().split()[-1]) * 1024 / MIB
    return seconds, rss, done.stdout.decode()


def model_text(folder: str, n: int) -> tuple[str, int]:
    """(the README repeated and cut after n of the model's tokens, how many tokens that is)."""
    from attnviz.models import load_model

    tokenizer = load_model(folder).tokenizer
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    text = readme
    while len(tokenizer.encode(text)) < n:
        text += "\n" + readme
    text = text[:tokenizer.encode(text)[n - 1].end]  # the text of the first n tokens
    return text, len(tokenizer.encode(text))


def checkpoint_case(folder: str, n: int, layers: list[int]) -> None:
    """explain --model DIR --layer L --file F on n of the model's tokens: time, peak RSS, widest line."""
    from rich.cells import cell_len

    text, t = model_text(folder, n)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8", delete=False) as f:
        f.write(text)
    try:
        for layer in layers:
            seconds, rss, out = measure(["explain", "--model", folder, "--layer", str(layer), "--file", f.name])
            if "[Summary trace" not in out:
                raise SystemExit(f"expected a summary trace past the limit, got:\n{out[:400]}")
            widest = max(cell_len(line) for line in out.splitlines())
            print(f"explain --model {Path(folder).name} --layer {layer:<3} {t:>7,} tokens {seconds:>8.2f} s "
                  f"{rss:>7.0f} MiB   widest line {widest}")
    finally:
        os.unlink(f.name)


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
    parser.add_argument("--model", default=SMOLLM2, help="a checkpoint for explain --model (none: skip)")
    parser.add_argument("--model-tokens", type=int, default=8000)
    parser.add_argument("--model-layers", type=int, nargs="+", default=[0, 5])
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
    if a.model != "none":
        if not Path(a.model, "config.json").is_file():
            raise SystemExit(f"{a.model}: no checkpoint; make it with python bench/decoders.py --make "
                             f"{Path(a.model).parent} (torch), or pass --model none")
        checkpoint_case(a.model, a.model_tokens, a.model_layers)


if __name__ == "__main__":
    main()
