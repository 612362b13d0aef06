"""Make tests/fixtures/tiny-{t5,bart,mbart,marian} and tests/golden/seq2seq_golden.npz: encoder–decoder golden
values.

Four tiny random encoder–decoder checkpoints (seed SEED), run by transformers in float32 with eager attention,
teacher-forced on a target text and greedily generating. Run by hand in a separate virtual environment (torch,
transformers, sentencepiece); the outputs are committed and attnviz's tests use numpy alone. From the repository
root:

    /path/to/torch-venv/bin/pip install torch==2.13.0 transformers==5.24.0 sentencepiece numpy
    /path/to/torch-venv/bin/python tests/golden/make_seq2seq_golden.py

It writes
    tests/fixtures/tiny-t5/      config.json (t5-v1.1 layout), model.safetensors, tokenizer.json
    tests/fixtures/tiny-bart/    config.json, model.safetensors, tokenizer.json
    tests/fixtures/tiny-mbart/   config.json, model.safetensors, tokenizer.json (BART's byte-level BPE: the
                                 fixture tests mBART's layers — pre-norm, final layer norms — not its
                                 sentencepiece tokenizer or language codes)
    tests/fixtures/tiny-marian/  config.json, model.safetensors, source.spm, target.spm, vocab.json,
                                 tokenizer_config.json (MarianTokenizer's files, as opus-mt checkpoints ship
                                 them) and tokenizer.json (the source side only: see tiny_tokenizers.marian)
    tests/golden/seq2seq_golden.npz, for each model m and case c (PAIRS below):
        m/c/source, m/c/target     the two texts
        m/c/input_ids              (S,) int64   the source's ids (with the tokenizer's special tokens)
        m/c/decoder_input_ids      (T,) int64   [decoder_start_token_id] + the target's ids (teacher forcing;
                                                the target's own special tokens included, nothing dropped)
        m/c/encoder_attentions     (Le, h, S, S) float32
        m/c/decoder_attentions     (Ld, h, T, T) float32  causal
        m/c/cross_attentions       (Ld, h, T, S) float32  rows: decoder positions, columns: source tokens
        m/c/encoder_hidden_states  (Le + 1, S, d) float32 [embedding output, after each layer]; T5's last entry is
                                                after the encoder's final RMSNorm (= encoder_last_hidden_state)
        m/c/decoder_hidden_states  (Ld + 1, T, d) float32 likewise (T5: last after the decoder's final norm)
        m/c/last_logits            (V,) float32 the last decoder position's logits
        m/ko_en/logits             (T, V) float32 every position's logits, for the first pair only (size)
        m/c/generated              (n,) int64   generate(do_sample=False, max_new_tokens=4) from input_ids: the
                                                new ids after decoder_start (checked against the argmax of full,
                                                uncached forward passes)
        plus meta/* (versions, seed).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tiny_models as tm  # tests/golden/: this script runs from its own folder
import tiny_tokenizers as tt
import tokenizers
import torch
import transformers
from npz import save_npz

SEED = 20240611
ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
OUT = Path(__file__).resolve().parent / "seq2seq_golden.npz"
NEW_TOKENS = 4
FULL_LOGITS = "ko_en"  # the case that keeps every position's logits; the others keep the last position's
MATTERS = 1e-3
BILINGUAL = {  # T5 and BART: trained on the whole corpus
    "ko_en": ("고양이는 침대에서 잔다", "The cat sleeps on the bed."),
    "en_ko": ("The cat sleeps on the bed.", "고양이는 침대에서 잔다"),
    "emoji": ("The cat 🐱 sat on the ｍａｔ.", "고양이 🐱"),  # full-width ｍａｔ: the normalizer's job
}
MBART = {k: BILINGUAL[k] for k in ("ko_en", "en_ko")}  # mBART: two pairs are enough for its layers
KO_EN = {  # Marian: Korean source.spm, English target.spm
    "ko_en": ("고양이는 침대에서 잔다", "The cat sleeps on the bed."),
    "long": ("새끼 고양이 두 마리가 상자 안에서 잔다", "Two kittens are sleeping in a box."),
    "emoji": ("고양이 🐱", "The cat"),
}
LAYERS = {"encoder_layers": 2, "decoder_layers": 2, "encoder_attention_heads": 4, "decoder_attention_heads": 4,
          "encoder_ffn_dim": 64, "decoder_ffn_dim": 64, "d_model": 32, "max_position_embeddings": 64,
          "dropout": 0.0, "attention_dropout": 0.0, "activation_dropout": 0.0, "forced_eos_token_id": None}


@dataclass
class Fixture:
    name: str
    config: transformers.PretrainedConfig
    dtype: torch.dtype
    pairs: dict[str, tuple[str, str]]
    features: str
    target_ids: Callable[[str], list[int]]  # the target text's ids, as the model's tokenizer makes them
    legacy: Callable[[dict], None] | None = None
    ablations: dict[str, Callable[[transformers.PretrainedConfig], None]] = field(default_factory=dict)
    files: Callable[[Path], None] | None = None  # writes the tokenizer files


def _t5_legacy(d: dict) -> None:
    """The hub's t5-v1_1 config.json: tie_word_embeddings false, and none of transformers 5's derived keys."""
    for key in ("scale_decoder_outputs", "dense_act_fn", "is_gated_act"):
        d.pop(key)
    d["tie_word_embeddings"] = False


def _set(**values) -> Callable[[transformers.PretrainedConfig], None]:
    def edit(config: transformers.PretrainedConfig) -> None:
        for key, value in values.items():
            setattr(config, key, value)
    return edit


def fixtures() -> list[Fixture]:
    sources = [s for pairs in (BILINGUAL, KO_EN) for s, _ in pairs.values()]
    t5_tok = tt.t5(sources + [t for _, t in BILINGUAL.values()])
    bart_tok = tt.bart()
    marian_dir = tm.fresh(FIXTURES / "tiny-marian")
    marian_tok = tt.marian(marian_dir, [s for s, _ in KO_EN.values()], source_size=400, target_size=150)
    marian_slow = transformers.MarianTokenizer.from_pretrained(marian_dir)
    vocab = len(marian_slow.get_vocab())
    return [
        Fixture("t5", transformers.T5Config(
            vocab_size=416, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=2, num_heads=4,
            relative_attention_num_buckets=8, relative_attention_max_distance=16, feed_forward_proj="gated-gelu",
            tie_word_embeddings=False, dropout_rate=0.0, layer_norm_epsilon=1e-6, decoder_start_token_id=0,
            pad_token_id=0, eos_token_id=1), torch.bfloat16, BILINGUAL,
            "relative position buckets (8 buckets, max distance 16; bidirectional in the encoder, causal in the "
            "decoder; one table per stack, in layer 0, shared by its layers; none in cross-attention), no 1/sqrt(d) "
            "scaling, RMSNorm without mean or bias, gated-gelu FFN (gelu_new(wi_0 x) * wi_1 x), untied lm_head "
            "without the d_model^-1/2 rescale (t5-v1.1), `<unk>` for the emoji, bf16",
            target_ids=lambda text: t5_tok.encode(text).ids, legacy=_t5_legacy,
            ablations={"relative_attention_max_distance 16": _set(relative_attention_max_distance=128),
                       "no output rescale (tie_word_embeddings false)": _set(scale_decoder_outputs=True)},
            files=lambda folder: tt.save(t5_tok, folder / "tokenizer.json")),
        Fixture("bart", transformers.BartConfig(
            vocab_size=bart_tok.get_vocab_size(), activation_function="gelu", scale_embedding=False,
            pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2, **LAYERS),
            torch.float16, BILINGUAL,
            "post-LayerNorm blocks, learned positions offset by 2, layernorm_embedding, biases everywhere, "
            "tied lm_head plus final_logits_bias (drawn nonzero here), decoder_start </s> then <s>, fp16",
            target_ids=lambda text: bart_tok.encode(text).ids,
            ablations={"scale_embedding false": _set(scale_embedding=True)},
            files=lambda folder: tt.save(bart_tok, folder / "tokenizer.json")),
        Fixture("mbart", transformers.MBartConfig(
            vocab_size=bart_tok.get_vocab_size(), activation_function="gelu", scale_embedding=True,
            pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2, **LAYERS),
            torch.bfloat16, MBART,
            "pre-LayerNorm blocks with a final layer_norm after each stack, learned positions offset by 2, "
            "layernorm_embedding, embeddings times sqrt(32), biases everywhere, tied lm_head plus final_logits_bias, "
            "BART's byte-level tokenizer (not mBART's sentencepiece and language codes), bf16",
            target_ids=lambda text: bart_tok.encode(text).ids,
            ablations={"scale_embedding": _set(scale_embedding=False)},
            files=lambda folder: tt.save(bart_tok, folder / "tokenizer.json")),
        Fixture("marian", transformers.MarianConfig(
            vocab_size=vocab, decoder_vocab_size=vocab, activation_function="swish", scale_embedding=True,
            pad_token_id=vocab - 1, eos_token_id=0, decoder_start_token_id=vocab - 1, bos_token_id=None,
            share_encoder_decoder_embeddings=True, **LAYERS), torch.bfloat16, KO_EN,
            "sinusoidal positions (not in the file; sin in the first half of each vector, cos in the second), "
            "embeddings times sqrt(32), swish FFN, post-LN, final_logits_bias, decoder_start = pad (last id), "
            "source.spm/target.spm/vocab.json tokenizer with a joint vocabulary, bf16",
            target_ids=lambda text: marian_slow(text_target=text).input_ids,
            ablations={"scale_embedding": _set(scale_embedding=False)},
            files=lambda folder: tt.save(marian_tok, folder / "tokenizer.json")),
    ]


def make_fixture(fx: Fixture) -> Path:
    folder = FIXTURES / f"tiny-{fx.name}"
    keep = {p.name for p in folder.iterdir()} if folder.exists() and fx.name == "marian" else set()
    if not keep:
        tm.fresh(folder)
    torch.manual_seed(SEED)
    model = transformers.AutoModelForSeq2SeqLM.from_config(fx.config).to(torch.float32)
    if fx.name == "t5":  # transformers 5 ties T5's lm_head to the embeddings on creation: t5-v1.1 has its own
        model.lm_head.weight = torch.nn.Parameter(torch.empty_like(model.lm_head.weight))
    tm.randomize(model, SEED)
    if hasattr(model, "final_logits_bias"):  # a buffer, so randomize() leaves it at 0; draw it so it matters
        gen = torch.Generator().manual_seed(SEED + 1)
        model.final_logits_bias.copy_(tm.BIAS_STD * torch.randn(model.final_logits_bias.shape, generator=gen))
    model.to(fx.dtype).save_pretrained(folder)
    tm.keep_only(folder, lambda name: tm.is_weight_or_config(name) or name in keep)
    if fx.legacy:
        tm.edit_json(folder / "config.json", fx.legacy)
    fx.files(folder)
    return folder


def load(folder: Path, config: transformers.PretrainedConfig | None = None) -> torch.nn.Module:
    kwargs = {"config": config} if config is not None else {}
    model = transformers.AutoModelForSeq2SeqLM.from_pretrained(folder, attn_implementation="eager",
                                                               dtype=torch.float32, **kwargs)
    return model.eval()


def forward(model: torch.nn.Module, ids: list[int], dec: list[int]) -> dict[str, np.ndarray]:
    with torch.no_grad():
        out = model(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                    decoder_input_ids=torch.tensor([dec]), output_attentions=True, output_hidden_states=True,
                    use_cache=False)
    return {"encoder_attentions": tm.stack(out.encoder_attentions),
            "decoder_attentions": tm.stack(out.decoder_attentions),
            "cross_attentions": tm.stack(out.cross_attentions),
            "encoder_hidden_states": tm.stack(out.encoder_hidden_states),
            "decoder_hidden_states": tm.stack(out.decoder_hidden_states),
            "logits": out.logits[0].numpy()}


def generate(model: torch.nn.Module, ids: list[int]) -> np.ndarray:
    """Greedy new ids (after decoder_start), each checked against the argmax of a full, uncached forward pass."""
    src = torch.tensor([ids])
    mask = torch.ones_like(src)
    with torch.no_grad():
        out = model.generate(src, attention_mask=mask, do_sample=False, max_new_tokens=NEW_TOKENS)
        if int(out[0, 0]) != model.config.decoder_start_token_id:
            sys.exit(f"generate() did not start from decoder_start_token_id: {out[0].tolist()}")
        for k in range(1, out.shape[1]):
            logits = model(input_ids=src, attention_mask=mask, decoder_input_ids=out[:, :k], use_cache=False).logits
            if int(logits[0, -1].argmax()) != int(out[0, k]):
                sys.exit(f"generate() step {k} differs from a full forward pass: {out[0].tolist()}")
    return out[0, 1:].numpy().astype(np.int64)


def golden_for(fx: Fixture, folder: Path) -> dict[str, np.ndarray]:
    model = load(folder)
    tok = tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
    out: dict[str, np.ndarray] = {}
    for case, (source, target) in fx.pairs.items():
        ids = tok.encode(source).ids
        dec = [model.config.decoder_start_token_id] + fx.target_ids(target)
        got = forward(model, ids, dec)
        for key in ("encoder_attentions", "decoder_attentions", "cross_attentions"):
            tm.check_not_uniform(f"{fx.name}/{case}/{key}", got[key])
        if np.triu(got["decoder_attentions"], 1).max() != 0:
            sys.exit(f"{fx.name}/{case}: the decoder attends to later positions")
        got |= {"source": np.asarray(source), "target": np.asarray(target),
                "input_ids": np.asarray(ids, dtype=np.int64), "decoder_input_ids": np.asarray(dec, dtype=np.int64),
                "generated": generate(model, ids)}
        got["last_logits"] = got["logits"][-1]
        if case != FULL_LOGITS:
            del got["logits"]  # most of the file: every position for the first pair is enough
        out |= {f"{fx.name}/{case}/{key}": val for key, val in got.items()}
    first = next(iter(fx.pairs))
    for label, edit in fx.ablations.items():
        config = transformers.AutoConfig.from_pretrained(folder)
        edit(config)
        changed = forward(load(folder, config), out[f"{fx.name}/{first}/input_ids"].tolist(),
                          out[f"{fx.name}/{first}/decoder_input_ids"].tolist())
        moved = max(np.abs(changed[k] - out[f"{fx.name}/{first}/{k}"]).max()
                    for k in ("encoder_attentions", "cross_attentions", "logits"))
        print(f"  without {label}: attentions/logits move by {moved:.3g}")
        if moved <= MATTERS:
            sys.exit(f"{fx.name}: {label} does not change the outputs enough ({moved:.2g}) to be tested")
    return out


def main() -> None:
    torch.set_num_threads(1)
    transformers.utils.logging.disable_progress_bar()
    arrays: dict[str, np.ndarray] = {}
    for fx in fixtures():
        folder = make_fixture(fx)
        size = tm.check_size(folder)
        print(f"{folder.relative_to(ROOT)}: {size} bytes; {fx.features}")
        arrays |= golden_for(fx, folder)
        for case in fx.pairs:
            print(f"  {case}: S={len(arrays[f'{fx.name}/{case}/input_ids'])} "
                  f"T={len(arrays[f'{fx.name}/{case}/decoder_input_ids'])}, "
                  f"cross-attention entropy {tm.attention_stats(arrays[f'{fx.name}/{case}/cross_attentions'])[0]:.2f}"
                  f", generated {arrays[f'{fx.name}/{case}/generated'].tolist()}")
    arrays |= tm.versions()
    arrays["meta/seed"] = np.asarray(SEED, dtype=np.int64)
    save_npz(arrays, OUT, cast={"i": np.int64})
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size} bytes, {len(arrays)} arrays) with torch "
          f"{torch.__version__}, transformers {transformers.__version__}")


if __name__ == "__main__":
    main()
