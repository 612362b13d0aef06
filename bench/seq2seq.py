"""An encoder–decoder of t5-small's shape, whole process: `attnviz cross --model` against transformers + torch
getting `cross_attentions` for the same source–target pair.

Make the checkpoint once (random weights with t5-small's shapes: d_model 512, 8 heads, d_kv 64, d_ff 2048,
6 + 6 layers, relu FFN, 32 buckets, vocab 32128, float32, ~240 MB; not committed), with a Python that has torch
and transformers:
    /path/to/torch-python bench/seq2seq.py --make /tmp/attnviz-t5-small
Then measure:
    python bench/seq2seq.py --dir /tmp/attnviz-t5-small [--runs 5] [--torch-python /path/to/torch-python]

The tokenizer is tests/fixtures/tiny-t5's (its ids fit the vocabulary; the timing does not depend on which
pieces they are). Each side is a fresh process asking for the last decoder layer's cross-attention:
    attnviz        `python -m attnviz cross SOURCE TARGET --model DIR --layer 5 --json FILE`
    transformers   T5ForConditionalGeneration (eager, float32) + the fast tokenizer, output_attentions=True,
                   one teacher-forced forward, cross_attentions[5] written with numpy
Medians of --runs rounds after a warm-up round; each round runs both one after the other (bench/models.py's
run_once: wall time and peak RSS of the child). Target (issue #14): attnviz ≥ 5× faster.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from models import has_torch, run_once  # bench/models.py

ROOT = Path(__file__).resolve().parent.parent
SOURCE, TARGET = "고양이는 침대에서 잔다", "The cat sleeps on the bed."
T5_SMALL = dict(d_model=512, d_kv=64, d_ff=2048, num_layers=6, num_decoder_layers=6, num_heads=8,
                relative_attention_num_buckets=32, relative_attention_max_distance=128, vocab_size=32128,
                feed_forward_proj="relu", decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)

TORCH_SIDE = """
import sys, numpy as np, torch
from transformers import T5ForConditionalGeneration, PreTrainedTokenizerFast
folder, source, target, out = sys.argv[1:5]
tok = PreTrainedTokenizerFast(tokenizer_file=folder + "/tokenizer.json")
model = T5ForConditionalGeneration.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager").eval()
ids = torch.tensor([tok(source)["input_ids"]])
dec = torch.tensor([[0] + tok(target)["input_ids"]])
with torch.no_grad():
    o = model(input_ids=ids, decoder_input_ids=dec, output_attentions=True)
np.save(out, o.cross_attentions[5][0].numpy())
"""


def make(folder: Path) -> None:
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    torch.manual_seed(0)
    model = T5ForConditionalGeneration(T5Config(**T5_SMALL)).eval()
    model.save_pretrained(folder)
    shutil.copy(ROOT / "tests" / "fixtures" / "tiny-t5" / "tokenizer.json", folder / "tokenizer.json")
    print(f"wrote {folder}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--make", type=Path, help="write the t5-small-shaped checkpoint here (needs torch)")
    parser.add_argument("--dir", type=Path, help="the checkpoint made with --make")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--torch-python", default="/work/.torchvenv/bin/python")
    args = parser.parse_args()
    if args.make:
        return make(args.make)
    if not args.dir or not (args.dir / "config.json").is_file():
        sys.exit("give --dir, a checkpoint made with --make")
    if not has_torch(args.torch_python):
        sys.exit(f"{args.torch_python} has no torch and transformers: give --torch-python")
    with tempfile.TemporaryDirectory() as tmp:
        ours = [sys.executable, "-m", "attnviz", "cross", SOURCE, TARGET, "--model", str(args.dir), "--layer", "5",
                "--json", f"{tmp}/a.json"]
        theirs = [args.torch_python, "-c", TORCH_SIDE, str(args.dir), SOURCE, TARGET, f"{tmp}/t.npy"]
        times: dict[str, list[float]] = {"attnviz": [], "transformers": []}
        rss: dict[str, list[float]] = {"attnviz": [], "transformers": []}
        for r in range(args.runs + 1):
            for name, cmd in (("attnviz", ours), ("transformers", theirs)):
                t, m = run_once(cmd)
                if r:  # the first round warms the page cache
                    times[name].append(t)
                    rss[name].append(m)
        import numpy as np

        doc = json.loads(Path(f"{tmp}/a.json").read_text(encoding="utf-8"))
        diff = float(np.abs(np.array([h["weights"] for h in doc["heads"]]) - np.load(f"{tmp}/t.npy")).max())
    med = {k: statistics.median(v) for k, v in times.items()}
    for name in times:
        print(f"{name:13s} {med[name]:6.2f} s  (peak RSS {statistics.median(rss[name]):6.0f} MiB)")
    print(f"speed-up      {med['transformers'] / med['attnviz']:.1f}×  (target ≥ 5×);  "
          f"cross-attention max |Δ| {diff:.1e}")


if __name__ == "__main__":
    main()
