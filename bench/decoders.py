"""Llama-style decoders of real sizes, whole process: attnviz (numpy) against transformers + torch, time and peak RSS.

Make the checkpoints once (random weights with the real shapes, bfloat16, ~270 MB and ~1 GB; not committed),
with a Python that has torch and transformers:
    /path/to/torch-python bench/decoders.py --make /tmp/attnviz-decoders
Then measure:
    python bench/decoders.py --dir /tmp/attnviz-decoders [--runs 5] [--torch-python /path/to/torch-python]

    smollm2-135m   LlamaConfig as SmolLM2-135M: d_model 576, 30 layers, 9 heads, 3 K/V heads, d_ff 1536,
                   vocab 49152, tied embeddings, rope_theta 100000
    qwen2.5-0.5b   Qwen2Config as Qwen2.5-0.5B: d_model 896, 24 layers, 14 heads, 2 K/V heads, d_ff 4864,
                   vocab 151936, tied embeddings, q/k/v biases, rope_theta 1000000
Both get a byte-level BPE tokenizer trained on this repository's README (its ids fit either vocabulary; the
timing does not depend on which pieces they are). The weights are random: speed and memory only, no outputs
are compared here (tests/test_decoders.py compares the numbers with transformers on small checkpoints).

Each side is a fresh process asking for head 1 of the *last* layer for TEXT:
    attnviz               `python -m attnviz explain TEXT --model DIR --layer LAST --head 1` (terminal view)
    transformers float32  AutoTokenizer + AutoModelForCausalLM(attn_implementation="eager", dtype=float32),
                          output_attentions=True, one forward, in the Python of --torch-python
    transformers bf16     the same, loaded in bfloat16 (a second line; attentions in bfloat16)
Medians of --runs rounds after one warm-up round; each round runs the three commands one after the other, so a
change in the machine's load (it is shared) hits all of them alike (bench/models.py's run_once: wall time of
the child, its own ru_maxrss from os.wait4).

Targets (issue #11): ≥ 8× faster than transformers float32 for SmolLM2-135M, ≥ 5× for Qwen2.5-0.5B; attnviz's
peak RSS ≤ the size of model.safetensors.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from models import has_torch, run_once  # bench/models.py: one whole process's wall time and its own peak RSS

PY = sys.executable
HERE = Path(__file__).resolve().parent
TEXT = ("Attention lets every word in this sentence look back at the words before it and decide "
        "which ones matter.")
HEAD = 1

SHAPES = {
    "smollm2-135m": ("LlamaConfig", dict(
        hidden_size=576, num_hidden_layers=30, num_attention_heads=9, num_key_value_heads=3, intermediate_size=1536,
        vocab_size=49152, tie_word_embeddings=True, rope_theta=100000.0, max_position_embeddings=8192,
        rms_norm_eps=1e-5, hidden_act="silu")),
    "qwen2.5-0.5b": ("Qwen2Config", dict(
        hidden_size=896, num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2, intermediate_size=4864,
        vocab_size=151936, tie_word_embeddings=True, rope_theta=1000000.0, max_position_embeddings=32768,
        rms_norm_eps=1e-6, hidden_act="silu", use_sliding_window=False)),
}

TRANSFORMERS_CODE = """import sys
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer
folder, text, layer, head, dtype = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
tokenizer = AutoTokenizer.from_pretrained(folder)
model = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager", dtype=getattr(torch, dtype)).eval()
with torch.no_grad():
    out = model(**tokenizer(text, return_tensors="pt"), output_attentions=True)
out.attentions[layer][0, head]
"""


def train_tokenizer(folder: Path) -> None:
    """A byte-level BPE (4,096 pieces) trained on README.md, saved as tokenizer.json + tokenizer_config.json."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=4096, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    corpus = (HERE.parent / "README.md").read_text(encoding="utf-8").splitlines() + [TEXT] * 20
    tok.train_from_iterator(corpus, trainer)
    tok.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps(
        {"tokenizer_class": "PreTrainedTokenizerFast", "eos_token": "<|endoftext|>", "bos_token": "<|endoftext|>",
         "model_max_length": 8192}, indent=2))


def make(root: Path) -> None:
    """The two random checkpoints under root/<name>/ (config.json, model.safetensors in bfloat16, tokenizer)."""
    import torch
    import transformers

    root.mkdir(parents=True, exist_ok=True)
    for name, (config_class, sizes) in SHAPES.items():
        folder = root / name
        folder.mkdir(exist_ok=True)
        config = getattr(transformers, config_class)(**sizes, bos_token_id=0, eos_token_id=0)
        torch.manual_seed(0)
        model = transformers.AutoModelForCausalLM.from_config(config).to(torch.bfloat16)
        model.save_pretrained(folder)
        del model
        train_tokenizer(folder)
        size = (folder / "model.safetensors").stat().st_size
        print(f"{folder}: model.safetensors {size / 2**20:.0f} MiB")


def measure_rounds(commands: dict[str, list[str]], runs: int) -> dict[str, tuple[float, float]]:
    """label → (median seconds, median peak MiB) over `runs` rounds of every command, after a warm-up round."""
    for cmd in commands.values():
        run_once(cmd)
    rounds = [{label: run_once(cmd) for label, cmd in commands.items()} for _ in range(runs)]
    return {label: (statistics.median(r[label][0] for r in rounds), statistics.median(r[label][1] for r in rounds))
            for label in commands}


def bench(folder: Path, runs: int, torch_python: str | None) -> None:
    config = json.loads((folder / "config.json").read_text())
    last = config["num_hidden_layers"] - 1
    weights_mib = (folder / "model.safetensors").stat().st_size / 2**20
    from tokenizers import Tokenizer

    n_tokens = len(Tokenizer.from_file(str(folder / "tokenizer.json")).encode(TEXT).ids)
    print(f"## {folder.name}: {config['model_type']}, model.safetensors {weights_mib:.0f} MiB (bfloat16); "
          f"{n_tokens} tokens, layer {last}, head {HEAD}; medians of {runs} runs")
    ours = [PY, "-m", "attnviz", "explain", TEXT, "--model", str(folder), "--layer", str(last), "--head", str(HEAD)]
    commands = {"attnviz explain --model": ours}
    if torch_python:
        for dtype in ("float32", "bfloat16"):
            commands[f"transformers {dtype}"] = [torch_python, "-c", TRANSFORMERS_CODE, str(folder), TEXT, str(last),
                                                 str(HEAD), dtype]
    results = measure_rounds(commands, runs)
    t_ours = results["attnviz explain --model"][0]
    print(f"{'what':28} {'time':>8} {'peak RSS':>10} {'RSS/file':>9} {'÷ attnviz':>10}")
    for label, (t, rss) in results.items():
        print(f"{label:28} {t:7.2f}s {rss:7.0f}MiB {rss / weights_mib:8.2f}× {t / t_ours:9.1f}×")
    rss_ours = results["attnviz explain --model"][1]
    speedup = results["transformers float32"][0] / t_ours if torch_python else None
    target = 8 if config["model_type"] == "llama" else 5

    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    if speedup is not None:
        print(f"speed-up vs transformers float32 {speedup:5.1f}×   target ≥ {target}×   {verdict(speedup >= target)}")
    ratio = rss_ours / weights_mib
    print(f"attnviz peak RSS / weights file  {ratio:5.2f}    target ≤ 1     {verdict(ratio <= 1)}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--make", type=Path, metavar="DIR", help="build the random checkpoints under DIR (needs torch)")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/attnviz-decoders"),
                        help="where --make put them [default: /tmp/attnviz-decoders]")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=tuple(SHAPES), help="measure one of the two")
    parser.add_argument("--torch-python", default=PY, help="a Python with torch and transformers [default: this one]")
    args = parser.parse_args()
    if args.make:
        make(args.make)
        return
    missing = [name for name in SHAPES if not (args.dir / name / "model.safetensors").is_file()]
    if missing:
        sys.exit(f"bench/decoders.py: {args.dir} has no {missing[0]}: make the checkpoints first with "
                 f"`<a Python with torch> bench/decoders.py --make {args.dir}`")
    torch_python = args.torch_python if has_torch(args.torch_python) else None
    if torch_python is None:
        print(f"transformers + torch: skipped, {args.torch_python} has no torch or transformers "
              "(give one with --torch-python)\n")
    for name in SHAPES if args.only is None else (args.only,):
        bench(args.dir / name, args.runs, torch_python)


if __name__ == "__main__":
    main()
