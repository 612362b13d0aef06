"""Attention forward, one head, float32: naive numpy vs tiled numpy (attnviz) vs torch's
scaled_dot_product_attention when torch is installed: median time, peak extra memory, max |error|
against a float64 reference, and ratios (medians of interleaved runs, one warm-up each).

Run: python bench/attention.py [--runs 5] [--sizes 512 2048 8192 16384] [--block 1024] [--query-block 512]
(from a checkout without attnviz installed: PYTHONPATH=. python bench/attention.py)

Targets (issue #5), at n = 16384 and d_k = 64: tiled numpy's peak extra memory < 64 MiB (the naive one
needs ~3 GiB), its time ≤ 2.5× torch's, its output within 1e-5 of float64.

naive = softmax(q kᵀ / √d_k) v in float32 with every (T, S) stage in memory (scores, scaled, weights), as
the textbook writes it; it is skipped where it would need more than --naive-limit GiB. The float64
reference is computed tiled, so it stays in memory at every n. Memory: tracemalloc (numpy's arrays are
tracked) around one call, above what was allocated before, the output included; for torch, the growth of
the peak RSS (VmHWM, reset just before) of a fresh subprocess across one call, the output included
(torch's allocations are invisible to tracemalloc).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

try:
    from attnviz.attention import tiled_attention
    from attnviz.flash import measure_peak
except ImportError:  # run from a checkout: bench/ is beside attnviz/
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from attnviz.attention import tiled_attention
    from attnviz.flash import measure_peak

HAS_TORCH = importlib.util.find_spec("torch") is not None

D_K = 64
SIZES = (512, 2048, 8192, 16384)
GIB = 2**30
MIB = 2**20


def inputs(n: int, d_k: int = D_K, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """q, k, v, each (n, d_k) float32 ~ N(0, 1), the same for every method."""
    rng = np.random.default_rng([seed, n])
    return tuple(rng.standard_normal((n, d_k), dtype=np.float32) for _ in range(3))


def naive(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> np.ndarray:
    """softmax(q kᵀ / √d_k) v, float32, every (T, S) stage held: q (T, d_k), k (S, d_k), v (S, d_v)."""
    scores = q @ k.T  # (T, S)
    scaled = scores / np.float32(np.sqrt(q.shape[1]))  # (T, S)
    del scores
    weights = np.exp(scaled - scaled.max(axis=1, keepdims=True))  # (T, S)
    del scaled
    weights /= weights.sum(axis=1, keepdims=True)  # (T, S)
    return weights @ v  # (T, d_v)


def naive_bytes(n: int) -> int:
    """What `naive` holds at its peak: scaled, scaled − max and exp of it, n × n float32 each."""
    return 3 * n * n * 4


def available_bytes() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def torch_sdpa(q: np.ndarray, k: np.ndarray, v: np.ndarray):
    """torch's fused scaled_dot_product_attention on (1, 1, n, d_k) views of the same arrays."""
    import torch

    qt, kt, vt = (torch.from_numpy(a)[None, None] for a in (q, k, v))  # (1, 1, n, d_k) each, no copy

    def run() -> np.ndarray:
        with torch.no_grad():
            return torch.nn.functional.scaled_dot_product_attention(qt, kt, vt)[0, 0].numpy()  # (n, d_v)

    return run


def _status(key: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key))


def torch_child(n: int, out_path: str) -> None:
    """In a fresh process, serving the parent over stdin/stdout: one warm-up call, one call with the peak
    RSS (VmHWM) reset just before it (the output goes to `out_path`, .npy), then one timed call per
    "run" line, answered with its seconds."""
    import torch

    run = torch_sdpa(*inputs(n))
    run()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset VmHWM to the current RSS
        before = _status("VmRSS:")
        out = run()
        peak = max(0, _status("VmHWM:") - before)
    except (OSError, StopIteration):
        out, peak = run(), None
    np.save(out_path, out)
    print(json.dumps({"peak": peak, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        start = time.perf_counter()
        run()
        print(time.perf_counter() - start, flush=True)


class TorchChild:
    """torch in a subprocess, so its OpenMP threads never spin beside numpy's BLAS threads in one process,
    yet its timed calls interleave with numpy's: `figures` (peak, threads), `output` (n, d_v), `time()`."""

    def __init__(self, n: int):
        self._tmp = tempfile.TemporaryDirectory()
        out_path = str(Path(self._tmp.name) / "out.npy")
        self._proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--torch-child", str(n),
                                       out_path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.figures = json.loads(self._proc.stdout.readline())
        self.output = np.load(out_path)

    def time(self) -> float:
        self._proc.stdin.write("run\n")
        self._proc.stdin.flush()
        return float(self._proc.stdout.readline())

    def close(self) -> None:
        self._proc.stdin.close()
        self._proc.wait(timeout=60)
        self._tmp.cleanup()


def fmt_bytes(b: int | None) -> str:
    if b is None:
        return "—"
    return f"{b / GIB:.2f} GiB" if b >= GIB else f"{b / MIB:.1f} MiB" if b >= MIB / 10 else f"{b / 1024:.0f} KiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per method and size (median)")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--block", type=int, default=1024, help="keys a block of the tiled kernel")
    parser.add_argument("--query-block", type=int, default=512, help="queries a tile of the tiled kernel")
    parser.add_argument("--naive-limit", type=float, default=4.0, help="skip naive above this many GiB")
    parser.add_argument("--no-torch", action="store_true", help="leave torch out even when it is installed")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--torch-child", nargs=2, help=argparse.SUPPRESS)  # n out.npy: see torch_child
    args = parser.parse_args()
    if args.torch_child:
        torch_child(int(args.torch_child[0]), args.torch_child[1])
        return
    use_torch = HAS_TORCH and not args.no_torch

    def tiled(q, k, v):
        return tiled_attention(q, k, v, block=args.block, query_block=args.query_block)

    torch_version = importlib.metadata.version("torch") if HAS_TORCH else "not installed"
    print(f"{sys.executable}: numpy {np.__version__}, torch {torch_version}, {os.cpu_count()} CPUs, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    where = ", torch's in a subprocess" if use_torch else ""
    print(f"d_k = {D_K}, float32, one head; tiled: blocks of {args.block} keys × {args.query_block} queries; "
          f"median of {args.runs} interleaved runs (×5 below n = 8192){where}")
    if not HAS_TORCH:
        print("torch is not installed: its rows are skipped (install torch to compare).")
    rows = []
    for n in args.sizes:
        q, k, v = inputs(n)
        reference = tiled_attention(q.astype(np.float64), k.astype(np.float64), v.astype(np.float64),
                                    block=args.block, query_block=args.query_block)  # (n, d_v) float64
        methods = {"tiled": tiled}
        limit = min(args.naive_limit * GIB, (available_bytes() or 2**62) / 2)
        naive_note = None
        if naive_bytes(n) <= limit:
            methods["naive"] = naive
        else:
            naive_note = f"naive skipped at n = {n}: it would need {fmt_bytes(naive_bytes(n))} (> {fmt_bytes(limit)})"
        result = {}
        child = TorchChild(n) if use_torch else None  # warmed up; its peak and output taken
        if child is not None:
            result["torch"] = {**child.figures, "times": [],
                               "error": float(np.max(np.abs(child.output.astype(np.float64) - reference)))}
        for name, fn in methods.items():  # warm-up, accuracy and memory
            out = fn(q, k, v)
            result[name] = {"error": float(np.max(np.abs(out.astype(np.float64) - reference))),
                            "peak": measure_peak(fn, q, k, v), "times": []}
            del out
        runs = args.runs if n >= 8192 else 5 * args.runs  # small sizes are cheap: more runs, steadier medians
        for _ in range(runs):  # interleaved, so a busy machine slows every method alike
            for name, fn in methods.items():
                start = time.perf_counter()
                fn(q, k, v)
                result[name]["times"].append(time.perf_counter() - start)
            if child is not None:
                result["torch"]["times"].append(child.time())
        if child is not None:
            child.close()
        for r in result.values():
            r["median"], r["best"] = statistics.median(r["times"]), min(r["times"])
        rows.append({"n": n, "naive_note": naive_note, **result})

    print()
    print(f"{'n':>6} {'method':7} {'median':>9} {'best':>9} {'peak extra':>11} {'max |Δ| vs f64':>15}")
    for row in rows:
        for name in ("naive", "tiled", "torch"):
            r = row.get(name)
            if r is None:
                continue
            print(f"{row['n']:>6} {name:7} {r['median'] * 1000:7.1f}ms {r['best'] * 1000:7.1f}ms "
                  f"{fmt_bytes(r['peak']):>11} {r['error']:15.2e}")
        if row["naive_note"]:
            print(f"{'':>6} {row['naive_note']}")
    print()
    print(f"{'n':>6} {'tiled/naive':>11} {'tiled/torch':>11}   (medians; best/best in brackets)")
    for row in rows:
        ratios = []
        for other in ("naive", "torch"):
            if other in row:
                med = row["tiled"]["median"] / row[other]["median"]
                best = row["tiled"]["best"] / row[other]["best"]
                ratios.append(f"{med:5.2f} ({best:.2f})")
            else:
                ratios.append("—")
        print(f"{row['n']:>6} {ratios[0]:>11} {ratios[1]:>11}")
    big = next((row for row in rows if row["n"] == 16384), None)
    if big is not None:
        tiled_row = big["tiled"]
        checks = [("tiled peak extra < 64 MiB", tiled_row["peak"] < 64 * MIB, fmt_bytes(tiled_row["peak"])),
                  ("tiled max |Δ| ≤ 1e-5", tiled_row["error"] <= 1e-5, f"{tiled_row['error']:.1e}")]
        if "torch" in big:
            ratio = tiled_row["median"] / big["torch"]["median"]
            checks.append(("tiled median time ≤ 2.5 × torch's", ratio <= 2.5, f"{ratio:.2f}×"))
        print()
        for name, ok, value in checks:
            print(f"{'ok  ' if ok else 'MISS'} {name}: {value}")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (other processes' load "
          f"slows numpy's multi-threaded BLAS far more than torch: compare medians with bests)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
