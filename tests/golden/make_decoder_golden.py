"""Make tests/fixtures/tiny-{llama,mistral,qwen2,qwen3,gemma,gemma2,gemma3,phi3} and tests/golden/decoders_golden.npz.

Decoder-only checkpoints of eight families, tiny and random (seed SEED), with the features each family adds to
the plain causal transformer, run by transformers in float32 with eager attention. attnviz never imports torch:
this script is run by hand in a separate virtual environment, its outputs are committed, and the tests compare
attnviz's numpy forward pass with them. From the repository root:

    python3 -m venv /path/to/torch-venv
    /path/to/torch-venv/bin/pip install torch==2.13.0 transformers==5.24.0 sentencepiece numpy
    /path/to/torch-venv/bin/python tests/golden/make_decoder_golden.py

It writes
    tests/fixtures/tiny-<family>/   config.json, model.safetensors (tiny-mistral: model-0000k-of-0000n.safetensors
        and model.safetensors.index.json), tokenizer.json; README.md in tests/golden says what each exercises
    tests/golden/decoders_golden.npz, for each family f and case c (en, ko, mix: TEXTS below):
        f/c/text               the text
        f/c/ids                (T,) int64          ids from the fixture's tokenizer.json (special tokens included)
        f/c/attentions         (L, h, T, T) float32 output_attentions (rows: queries, columns: keys)
        f/c/hidden_states      (L + 1, T, d) float32 output_hidden_states: [embedding output (Gemma: times
                               sqrt(d)), after layer 1, …, after layer L-1, *after the final norm*]; transformers
                               replaces the last layer's output by the final-normed one
        f/c/last_layer_output  (T, d) float32       layer L's output before the final norm (a forward hook)
        f/c/last_logits        (V,) float32         the last position's logits; V = config.vocab_size (Qwen, Phi-3:
                               more embedding rows than the tokenizer has tokens)
        f/mix/logits           (T, V) float32       every position's logits, for the mix case only (size)
        f/c/q_rope0, k_rope0   (h, T, d_head), (g, T, d_head) float32  layer 0's queries and keys after RoPE (and
                               after q_norm/k_norm where the family has them), before GQA repetition and scaling
        f/c/generated          (n,) int64  greedy generate(do_sample=False, max_new_tokens=4): the new ids only
                               (n < 4 would mean an eos id was produced; checked equal to step-by-step argmax of
                               a full forward pass, no cache)
        plus meta/* (versions, seed).

Every fixture is reloaded from the files just written, in float32 (bf16/fp16 weights upcast exactly), before its
golden values are computed, and each feature it exercises is checked to matter: switching it off in the config
must change the attentions or logits by more than 1e-3.
"""

from __future__ import annotations

import contextlib
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
OUT = Path(__file__).resolve().parent / "decoders_golden.npz"
TEXTS = {"en": "The cat sat on the mat.", "ko": "고양이는 침대에서 잔다", "mix": "The cat: 고양이는 침대에서 잔다 🐱"}
NEW_TOKENS = 4
FULL_LOGITS = ("mix",)  # cases that keep the logits of every position; the others keep the last one
WINDOW = 4  # every sliding window: shorter than every text
MATTERS = 1e-3  # an ablated feature must move attentions or logits by more than this
SIZE = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "max_position_embeddings": 128}

# Phi-3 longrope: texts longer than this use long_factor; en and ko (+ 4 generated) stay within it, mix exceeds it.
PHI3_ORIGINAL_MAX = 16
PHI3_SHORT = [1.0, 1.25, 1.5]
PHI3_LONG = [1.5, 4.0, 12.0]


@dataclass
class Fixture:
    name: str
    config: transformers.PretrainedConfig
    tokenizer: tokenizers.Tokenizer
    dtype: torch.dtype  # of the saved weights
    features: str  # for the report; README.md has the table
    legacy: Callable[[dict], None] | None = None  # rewrite config.json in the hub's older layout
    shard: int | None = None  # max_shard_size in bytes
    ablations: dict[str, Callable[[transformers.PretrainedConfig], None]] = field(default_factory=dict)


def _rope(theta: float, scaling: dict | None) -> Callable[[dict], None]:
    """config.json as the hub's Llama 3.2 / Qwen2.5 / Gemma 2 files have it: rope_theta and rope_scaling."""
    def edit(d: dict) -> None:
        d.pop("rope_parameters")
        d["rope_theta"], d["rope_scaling"] = theta, scaling
    return edit


def _qwen2_legacy(d: dict) -> None:
    _rope(1_000_000.0, None)(d)
    d.pop("layer_types")
    d.update(sliding_window=WINDOW, use_sliding_window=False, max_window_layers=1)  # the window is *not* used


def _gemma_legacy(d: dict) -> None:
    """As google/gemma-2b's config.json: rope_theta, rope_scaling null, and hidden_act "gelu", which transformers'
    GemmaConfig reads as gelu_pytorch_tanh (the released weights were trained with the tanh form)."""
    _rope(10_000.0, None)(d)
    d["hidden_act"] = "gelu"


def _gemma2_legacy(d: dict) -> None:
    _rope(10_000.0, None)(d)
    d.pop("layer_types")  # transformers' default for Gemma 2: sliding, full, sliding, …


def _gemma3_legacy(d: dict) -> None:
    for key in ("rope_parameters", "layer_types", "_sliding_window_pattern"):
        d.pop(key)
    d.update(rope_theta=1_000_000.0, rope_local_base_freq=10_000.0, sliding_window_pattern=2,
             rope_scaling={"rope_type": "linear", "factor": 8.0})


def _phi3_legacy(d: dict) -> None:
    d.pop("rope_parameters")
    d.update(rope_theta=10_000.0, partial_rotary_factor=0.75, original_max_position_embeddings=PHI3_ORIGINAL_MAX,
             rope_scaling={"type": "longrope", "short_factor": PHI3_SHORT, "long_factor": PHI3_LONG})


def _set(**values) -> Callable[[transformers.PretrainedConfig], None]:
    def edit(config: transformers.PretrainedConfig) -> None:
        for key, value in values.items():
            setattr(config, key, value)
    return edit


def _full_layers(config: transformers.PretrainedConfig) -> None:
    config.layer_types = ["full_attention"] * config.num_hidden_layers


def fixtures() -> list[Fixture]:
    texts = list(TEXTS.values())
    llama_tok, qwen2_tok, qwen3_tok = tt.llama3(), tt.qwen(), tt.qwen(qwen3=True)
    mistral_tok, gemma_tok = tt.mistral(texts), tt.gemma(texts)
    phi3_tok = tt.mistral(texts, bos=False, added=tt.PHI3_ADDED)
    ll, qw, q3, gm, ph = (t.token_to_id for t in (llama_tok, qwen2_tok, qwen3_tok, gemma_tok, phi3_tok))
    llama3_scaling = {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                      "original_max_position_embeddings": 8192}
    gemma = {"head_dim": 16, "hidden_activation": "gelu_pytorch_tanh", "sliding_window": WINDOW,
             "pad_token_id": gm("<pad>"), "eos_token_id": gm("<eos>"), "bos_token_id": gm("<bos>"),
             "rms_norm_eps": 1e-6, "tie_word_embeddings": True}
    gemma1 = {k: v for k, v in gemma.items() if k not in ("hidden_activation", "sliding_window")}  # Gemma 1 has neither
    return [
        Fixture("llama", transformers.LlamaConfig(
            vocab_size=llama_tok.get_vocab_size(), rms_norm_eps=1e-5, tie_word_embeddings=True,
            rope_parameters={"rope_theta": 500_000.0, **llama3_scaling}, bos_token_id=ll("<|begin_of_text|>"),
            eos_token_id=[ll("<|end_of_text|>"), ll("<|eom_id|>"), ll("<|eot_id|>")],
            **{**SIZE, "max_position_embeddings": 131_072}),
            llama_tok, torch.bfloat16, "GQA 4/2, llama3 RoPE scaling, tied embeddings, bf16 weights, eos list",
            legacy=_rope(500_000.0, llama3_scaling),
            ablations={"llama3 rope scaling": _set(rope_parameters={"rope_type": "default",
                                                                    "rope_theta": 500_000.0})}),
        Fixture("mistral", transformers.MistralConfig(
            vocab_size=mistral_tok.get_vocab_size(), sliding_window=WINDOW, rms_norm_eps=1e-5,
            rope_parameters={"rope_type": "default", "rope_theta": 10_000.0}, bos_token_id=1, eos_token_id=2,
            **SIZE), mistral_tok, torch.float16, "GQA 4/2, sliding window 4 on every layer, fp16, 3 shards",
            shard=40_000, ablations={"sliding window": _set(sliding_window=None)}),
        Fixture("qwen2", transformers.Qwen2Config(
            vocab_size=512, rms_norm_eps=1e-6, tie_word_embeddings=False, use_sliding_window=False,
            rope_parameters={"rope_type": "default", "rope_theta": 1_000_000.0}, bos_token_id=qw("<|endoftext|>"),
            eos_token_id=qw("<|endoftext|>"), pad_token_id=qw("<|endoftext|>"), **SIZE),
            qwen2_tok, torch.bfloat16, "q/k/v biases, GQA 4/2, sliding_window set but use_sliding_window false, "
            "512 embedding rows for 503 tokens, bf16", legacy=_qwen2_legacy,
            ablations={"use_sliding_window false": _set(sliding_window=WINDOW,
                                                            layer_types=["full_attention", "sliding_attention"])}),
        Fixture("qwen3", transformers.Qwen3Config(
            vocab_size=512, head_dim=16, rms_norm_eps=1e-6, tie_word_embeddings=True,
            rope_parameters={"rope_type": "default", "rope_theta": 1_000_000.0}, bos_token_id=q3("<|endoftext|>"),
            eos_token_id=q3("<|im_end|>"), pad_token_id=q3("<|endoftext|>"), **SIZE),
            qwen3_tok, torch.bfloat16, "q_norm/k_norm (RMSNorm per head), head_dim 16 != 32/4, GQA 4/2, tied, "
            "non-special added tokens, bf16"),
        Fixture("gemma", transformers.GemmaConfig(
            vocab_size=gemma_tok.get_vocab_size(), hidden_act="gelu_pytorch_tanh",
            rope_parameters={"rope_type": "default", "rope_theta": 10_000.0},
            **gemma1, **{**SIZE, "num_key_value_heads": 1}), gemma_tok, torch.bfloat16,
            "multi-query attention (4 query heads, 1 K/V head, as Gemma-2B), head_dim 16 != 32/4, GeGLU with the tanh "
            "gelu that the hub's hidden_act \"gelu\" means, (1 + w) RMSNorm, embeddings times sqrt(32), tied, bf16",
            legacy=_gemma_legacy, ablations={"tanh gelu (exact gelu instead)": _set(hidden_act="gelu")}),
        Fixture("gemma2", transformers.Gemma2Config(
            vocab_size=gemma_tok.get_vocab_size(), query_pre_attn_scalar=12, attn_logit_softcapping=5.0,
            final_logit_softcapping=3.0, rope_parameters={"rope_type": "default", "rope_theta": 10_000.0},
            **gemma, **SIZE), gemma_tok, torch.bfloat16,
            "soft-capping (attention 5, logits 3), query_pre_attn_scalar 12 != head_dim 16, sliding window 4 on "
            "layer 0 / full on layer 1, pre+post norms around attention and MLP, GeGLU (gelu tanh), (1 + w) RMSNorm, "
            "embeddings times sqrt(32), head_dim 16, bf16", legacy=_gemma2_legacy,
            ablations={"attention soft-capping": _set(attn_logit_softcapping=None),
                       "final soft-capping": _set(final_logit_softcapping=None),
                       "query_pre_attn_scalar": _set(query_pre_attn_scalar=16),
                       "sliding window": _full_layers}),
        Fixture("gemma3", transformers.Gemma3TextConfig(
            vocab_size=gemma_tok.get_vocab_size(), query_pre_attn_scalar=24, sliding_window_pattern=2,
            rope_parameters={"full_attention": {"rope_type": "linear", "factor": 8.0, "rope_theta": 1_000_000.0},
                             "sliding_attention": {"rope_type": "default", "rope_theta": 10_000.0}},
            **gemma, **{**SIZE, "num_hidden_layers": 3}), gemma_tok, torch.bfloat16,
            "q_norm/k_norm, local (sliding 4, theta 1e4) and global (theta 1e6, linear scaling 8) layers: "
            "sliding, full, sliding; query_pre_attn_scalar 24, bf16", legacy=_gemma3_legacy,
            ablations={"local rope theta": lambda c: c.rope_parameters["sliding_attention"].update(
                           rope_theta=1_000_000.0),
                       "linear scaling on global layers": lambda c: c.rope_parameters["full_attention"].update(
                           rope_type="default"),
                       "sliding window": _full_layers}),
        Fixture("phi3", transformers.Phi3Config(
            vocab_size=704, rms_norm_eps=1e-5, original_max_position_embeddings=PHI3_ORIGINAL_MAX,
            sliding_window=262_144, rope_parameters={
                "rope_type": "longrope", "rope_theta": 10_000.0, "partial_rotary_factor": 0.75,
                "short_factor": PHI3_SHORT, "long_factor": PHI3_LONG}, bos_token_id=1,
            eos_token_id=ph("<|endoftext|>"), pad_token_id=ph("<|endoftext|>"), **SIZE),
            phi3_tok, torch.bfloat16, "fused qkv_proj (GQA 4/2: 32+16+16 rows) and gate_up_proj, partial rotary "
            "0.75 (6 of 8 dims), longrope (short factors up to 16 tokens, long + attention factor beyond), "
            "704 embedding rows for 645 tokens, no BOS added, bf16", legacy=_phi3_legacy,
            ablations={"longrope": _set(rope_parameters={"rope_type": "default", "rope_theta": 10_000.0,
                                                         "partial_rotary_factor": 0.75})}),
    ]


def make_fixture(fx: Fixture) -> Path:
    folder = tm.fresh(FIXTURES / f"tiny-{fx.name}")
    torch.manual_seed(SEED)
    model = transformers.AutoModelForCausalLM.from_config(fx.config).to(torch.float32)
    tm.randomize(model, SEED)
    kwargs = {"max_shard_size": fx.shard} if fx.shard else {}
    model.to(fx.dtype).save_pretrained(folder, **kwargs)
    tm.keep_only(folder, tm.is_weight_or_config)
    if fx.shard and not (folder / "model.safetensors.index.json").exists():
        sys.exit(f"{folder}: expected a sharded checkpoint")
    if fx.legacy:
        tm.edit_json(folder / "config.json", fx.legacy)
        check_same_config(fx.config, transformers.AutoConfig.from_pretrained(folder), folder)
    tt.save(fx.tokenizer, folder / "tokenizer.json")
    return folder


def check_same_config(want: transformers.PretrainedConfig, got: transformers.PretrainedConfig, folder: Path):
    """The rewritten config.json must load as the config the model was made from."""
    def plain(value):  # the hub's "type" is an alias transformers keeps next to "rope_type"
        return {k: plain(v) for k, v in value.items() if k != "type"} if isinstance(value, dict) else value

    for key in ("rope_parameters", "layer_types", "sliding_window", "vocab_size", "head_dim", "hidden_act"):
        a, b = plain(getattr(want, key, None)), plain(getattr(got, key, None))
        if a != b:
            sys.exit(f"{folder}/config.json: {key} loads as {b}, the model was made with {a}")


@contextlib.contextmanager
def rope_qk(model: torch.nn.Module):
    """Record layer 0's query and key states as they enter eager attention (after RoPE, before GQA repeat)."""
    module = sys.modules[type(model).__module__]
    original = module.eager_attention_forward
    seen: dict[str, np.ndarray] = {}

    def recording(attn, query, key, *args, **kwargs):
        if attn.layer_idx == 0 and not seen:
            seen["q"], seen["k"] = query[0].detach().numpy().copy(), key[0].detach().numpy().copy()
        return original(attn, query, key, *args, **kwargs)

    module.eager_attention_forward = recording
    try:
        yield seen
    finally:
        module.eager_attention_forward = original


def load(folder: Path, config: transformers.PretrainedConfig | None = None) -> torch.nn.Module:
    kwargs = {"config": config} if config is not None else {}
    model = transformers.AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager",
                                                              dtype=torch.float32, **kwargs)
    return model.eval()


def forward(model: torch.nn.Module, ids: list[int]) -> dict[str, np.ndarray]:
    last: list[torch.Tensor] = []
    hook = model.model.layers[-1].register_forward_hook(
        lambda mod, args, out: last.append((out[0] if isinstance(out, tuple) else out)[0].detach().clone()))
    try:
        with torch.no_grad(), rope_qk(model) as qk:
            out = model(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                        output_attentions=True, output_hidden_states=True, use_cache=False)
    finally:
        hook.remove()
    return {"attentions": tm.stack(out.attentions), "hidden_states": tm.stack(out.hidden_states),
            "last_layer_output": last[0].numpy(), "logits": out.logits[0].numpy(), "q_rope0": qk["q"],
            "k_rope0": qk["k"]}


def generate(model: torch.nn.Module, ids: list[int], pad: int) -> np.ndarray:
    """Greedy new ids, checked against the argmax of a full forward pass (no cache) at every step."""
    with torch.no_grad():
        out = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                             do_sample=False, max_new_tokens=NEW_TOKENS, pad_token_id=pad)
        new = out[0, len(ids):].tolist()
        for k, token in enumerate(new):
            logits = model(input_ids=out[:, : len(ids) + k], use_cache=False).logits[0, -1]
            if int(logits.argmax()) != token:
                sys.exit(f"generate() step {k} differs from a full forward pass: {token} != {int(logits.argmax())}")
    return np.asarray(new, dtype=np.int64)


def check_windows(name: str, config: transformers.PretrainedConfig, att: np.ndarray) -> None:
    """Sliding layers give no weight to keys `window` or more tokens back; full layers do (texts are longer)."""
    n_layers, _, t, _ = att.shape
    window = getattr(config, "sliding_window", None)
    types = getattr(config, "layer_types", None) or ["sliding_attention" if window else "full_attention"] * n_layers
    for layer, kind in enumerate(types):
        windowed = kind == "sliding_attention" and window < t
        outside = att[layer][:, np.tril(np.ones((t, t), dtype=bool), -(window if windowed else WINDOW))]
        if windowed == (outside.max() > 0):
            sys.exit(f"{name} layer {layer} ({kind}, window {window}): weights outside the window are "
                     f"{'not ' if not windowed else ''}zero")


def golden_for(fx: Fixture, folder: Path) -> dict[str, np.ndarray]:
    model = load(folder)
    tok = tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
    pad = model.config.pad_token_id
    if pad is None:
        eos = model.config.eos_token_id
        pad = eos[0] if isinstance(eos, list) else eos
    out: dict[str, np.ndarray] = {}
    for case, text in TEXTS.items():
        ids = tok.encode(text).ids
        got = forward(model, ids)
        with torch.no_grad():
            normed = model.model.norm(torch.from_numpy(got["last_layer_output"])).numpy()
        if np.abs(normed - got["hidden_states"][-1]).max() > 1e-6:
            sys.exit(f"{fx.name}: the last hidden state is not the final norm of the last layer's output")
        tm.check_not_uniform(f"{fx.name}/{case}", got["attentions"])
        check_windows(f"{fx.name}/{case}", model.config, got["attentions"])
        got |= {"text": np.asarray(text), "ids": np.asarray(ids, dtype=np.int64),
                "generated": generate(model, ids, pad)}
        got["last_logits"] = got["logits"][-1]
        if case not in FULL_LOGITS:
            del got["logits"]  # (T, V) floats are most of the file: every position for one text is enough
        out |= {f"{fx.name}/{case}/{key}": val for key, val in got.items()}
    for label, edit in fx.ablations.items():
        config = transformers.AutoConfig.from_pretrained(folder)
        edit(config)
        changed = forward(load(folder, config), out[f"{fx.name}/mix/ids"].tolist())
        moved = max(np.abs(changed[k] - out[f"{fx.name}/mix/{k}"]).max() for k in ("attentions", "logits"))
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
        entropy, peak = tm.attention_stats(arrays[f"{fx.name}/mix/attentions"])
        print(f"  mix: normalized attention entropy {entropy:.2f}, mean row max {peak:.2f}, "
              f"generated {arrays[f'{fx.name}/mix/generated'].tolist()}")
    arrays |= tm.versions()
    arrays["meta/seed"] = np.asarray(SEED, dtype=np.int64)
    save_npz(arrays, OUT, cast={"i": np.int64})
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size} bytes, {len(arrays)} arrays) with torch "
          f"{torch.__version__}, transformers {transformers.__version__}")


if __name__ == "__main__":
    main()
