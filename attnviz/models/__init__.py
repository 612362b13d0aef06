"""Real pretrained checkpoints run in numpy: any layer and head of a BERT-family encoder or GPT-2, as a Trace.

    load_model(spec) -> Model                                   a directory, `minilm`, or a repo id in the HF cache
    fetch(spec) -> Path                                         download a repo id missing from the cache (network)
    encode(model, text, *, pad_to=None) -> tuple[Token, ...]    the model's tokens, labelled from the text
    model_trace(model, text, layer, *, causal=None, pad_to=None) -> Trace          one layer, every head
    model_traces(model, text, *, layers=None, causal=None, pad_to=None) -> list[Trace]   many layers, one pass
    hidden_states(model, text, *, causal=None, pad_to=None) -> list[np.ndarray]    every layer's hidden states
    block_trace(model, text, layer, *, pad_to=None) -> EncoderBlockTrace           one whole layer, every stage
    model_summary(model, text, layer, *, causal=None, progress=None) -> SummaryTrace   a long text's layer, tiled
    model_trace_or_summary(model, text, layer, *, …) -> Trace | SummaryTrace       the one past the full limit

Past the full trace's limit (trace.max_tokens(heads): 4,096² numbers a stage over the heads) a text gets a
SummaryTrace instead (attnviz.summary): the layers before run with their heads tile by tile (models/long.py),
never a T × T array; the model's position limit stays.

Layers count from 0. Only the layers up to the one asked for are computed, and only their tensors are read
from the memory-mapped model.safetensors. Nothing here imports torch or transformers.

What a model Trace holds for layer L (T tokens, including [CLS]/[SEP], special=True):
    x            (T, d_model)  what Q, K, V are projected from: layer L's input (BERT), ln_1 of it (GPT-2)
    embeddings   (T, d_model)  layer 0: the token embedding rows (BERT: word + token type 0); later layers: x
    positions    (T, d_model)  layer 0: the position embedding rows; later layers: zeros
                               (so x = LayerNorm(E + P) for BERT and ln_1(E + P) for GPT-2 at layer 0)
    heads[i]     q, k, v with their biases, scores, scaled, mask, masked, weights, output
    mask         (T, S) bool, True = may attend: causal for GPT-2, [PAD] keys hidden with pad_to; None when
                 nothing is hidden (an encoder on an unpadded text)
    concat       (T, h·d_v)
    output       (T, d_model)  concat W_O + b_O: the attention output dense layer, before residual and LayerNorm
    model        {"name", "architecture", "layer", "n_layers"};  weights_source: the checkpoint directory
"""

from __future__ import annotations

import os

import numpy as np

from .. import attention
from ..block import EncoderBlockTrace
from ..errors import InputError, ModelError
from ..tokens import Token, clean_text
from ..trace import ModelInfo, Trace, check_length, max_tokens
from . import bart, bert, captioner, gpt2, llama, t5, vit  # noqa: F401  (each family registers itself)
from . import resolve as checkpoint
from .base import REGISTRY, LayerAttention, Model
from .resolve import check_files, fetch, load_model_tokenizer, read_config
from .safetensors import open_tensors

#: text encoders and decoders first, then encoder–decoders, then image models; each family's own order within
SUPPORTED = tuple(sorted(REGISTRY, key=lambda t: (REGISTRY[t].reads_images,
                                                  getattr(REGISTRY[t], "encoder_decoder", False))))
PAD = "[PAD]"
#: how to see a text too long for a full trace of one layer
SUMMARY_FIX = ("give a shorter text (explain, heads and mask --model show one layer of a longer text as a summary, "
               "computed tile by tile)")

__all__ = ["SUPPORTED", "Model", "ModelError", "block_trace", "encode", "fetch", "hidden_states", "load_model",
           "logits", "model_summary", "model_trace", "model_trace_or_summary", "model_traces"]


def load_model(spec: str | os.PathLike) -> Model:
    """Open a checkpoint: `minilm`, a directory with config.json, model.safetensors and tokenizer.json, or a
    Hugging Face repo id (`org/name[@revision]`) already in the local cache. Reads the config, the safetensors
    header (memory-mapping the file) and the tokenizer; checks every tensor's name and shape; reads no weights."""
    folder, name = checkpoint.resolve(spec)
    check_files(folder, ())  # config.json and the weights; the rest once the family is known
    config = read_config(folder)
    model_type = config.get("model_type")
    if not isinstance(model_type, (str, type(None))):
        raise ModelError(f"{folder / 'config.json'}: model_type = {model_type!r} is not a string; attnviz runs "
                         f"{', '.join(SUPPORTED)}: give a checkpoint of one of those")
    if model_type not in REGISTRY:
        what = "has no model_type" if model_type is None else f"has model_type {model_type!r}"
        raise ModelError(f"{folder / 'config.json'} {what}; attnviz runs {', '.join(SUPPORTED)}: "
                         "give a checkpoint of one of those")
    family = REGISTRY[model_type]
    check_files(folder, (checkpoint.TOKENIZER,) * family.reads_text + (checkpoint.PROCESSOR,) * family.reads_images)
    tensors = open_tensors(folder)
    arch = family.from_config(config, tensors, folder)
    if not family.reads_text:
        return Model(name, folder, config, arch, None, tensors, PAD)
    if getattr(arch, "encoder_decoder", False):
        from .sides import TextSide, has_spm, load_spm_sides

        if has_spm(folder) and model_type == "marian":
            source, target = load_spm_sides(folder)
            return Model(name, folder, config, arch, source, tensors, source.piece(arch.pad_id), target)
        _, hf = load_model_tokenizer(folder)
        side = TextSide(str(folder / "tokenizer.json"), hf)
        return Model(name, folder, config, arch, side, tensors, hf.id_to_token(arch.pad_id) or PAD, side)
    tokenizer, hf = load_model_tokenizer(folder)
    return Model(name, folder, config, arch, tokenizer, tensors, hf.id_to_token(arch.pad_id) or PAD)


def encode(model: Model, text: str, *, pad_to: int | None = None) -> tuple[Token, ...]:
    """The model's tokens for `text` (special tokens included, special=True), then [PAD] up to `pad_to`."""
    return _tokens(model, clean_text(text), pad_to)[0]


def _tokens(model: Model, text: str, pad_to: int | None, n_layers: int = 1, *, full: bool = True
            ) -> tuple[tuple[Token, ...], int]:
    """(tokens, how many of them are the text's, before any [PAD]); a full trace (`full`) of `n_layers` layers,
    every head, must fit attnviz's limit on T × T cells, and any text the model's position limit."""
    if model.tokenizer is None:
        raise InputError(f"{model.name} is an image model ({model.architecture}): it reads images, not text; "
                         "give --image FILE instead of a text")
    tokens = model.tokenizer.encode(text)
    n_real = len(tokens)
    if not tokens:
        raise InputError(f"{model.name}'s tokenizer found no tokens in the text: give words to attend to")
    if pad_to is not None:
        if pad_to < n_real:
            raise InputError(f"--pad-to {pad_to} is shorter than the text's {n_real} tokens: give at least {n_real}")
        end = tokens[-1].end
        tokens += tuple(Token(PAD, model.pad_piece, model.arch.pad_id, end, end, special=True)
                        for _ in range(pad_to - n_real))
    if full:
        check_length(tokens, model.n_heads, n_layers=n_layers, fix=None if n_layers > 1 else SUMMARY_FIX)
    if len(tokens) > model.arch.position_limit:
        raise InputError(f"the text has {len(tokens)} tokens; {model.name} reads at most "
                         f"{model.arch.position_limit}: give a shorter text")
    return tokens, n_real


def _prepare(model: Model, text: str, causal: bool | None, pad_to: int | None, n_layers: int = 1, *,
             full: bool = True) -> tuple[str, tuple[Token, ...], np.ndarray, np.ndarray | None, bool]:
    """(clean text, tokens, ids (T,), mask (T, S) or None, causal).

    mask: causal (key j ≤ query i) when causal, and/or padding (every query sees the text's keys only, as in
    transformers: a [PAD] query still attends to the real keys); None when nothing is hidden, and always None
    without `full` (the summary path describes its mask tile by tile, and has no padding)."""
    if getattr(model.arch, "encoder_decoder", False):
        raise InputError(f"{model.name} is an encoder–decoder ({model.architecture}): this view shows one stack; "
                         "use `attnviz explain TEXT --model …` (encoder, or --decoder TARGET), `attnviz cross` "
                         "or `attnviz flow`")
    text = clean_text(text)
    tokens, n_real = _tokens(model, text, pad_to, n_layers, full=full)
    ids = np.array([tk.id for tk in tokens], dtype=np.int64)  # (T,)
    if int(ids.max()) >= model.arch.vocab:
        raise ModelError(f"{model.path / 'tokenizer.json'} gave token id {int(ids.max())} but the embedding table "
                         f"has {model.arch.vocab} rows: the tokenizer does not belong to this model")
    causal = model.causal if causal is None else bool(causal)
    t = len(tokens)
    if not full:
        return text, tokens, ids, None, causal
    mask = attention.causal_mask(t) if causal else None  # (T, T)
    if n_real < t:
        padding = attention.padding_mask(np.arange(t) < n_real, t)  # (T, T)
        mask = padding if mask is None else mask & padding
    return text, tokens, ids, mask, causal


def _check_layer(model: Model, layer: int) -> int:
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 0 <= layer < model.n_layers:
        raise InputError(f"layer {layer} does not exist: {model.name} has layers 0–{model.n_layers - 1}")
    return int(layer)


def _trace(model: Model, text: str, tokens: tuple[Token, ...], causal: bool, i: int, la: LayerAttention) -> Trace:
    d_k = la.heads[0].q.shape[-1]
    info = ModelInfo(model.name, model.architecture, i, model.n_layers)
    return Trace("self", tokens, tokens, la.embeddings, la.positions, la.x, None, la.heads, la.concat, la.output,
                 model.d_model, d_k, la.heads[0].v.shape[-1], None, causal, str(model.path), text, info,
                 attention=la.info)


def model_trace(model: Model, text: str, layer: int, *, causal: bool | None = None,
                pad_to: int | None = None) -> Trace:
    """Layer `layer`'s self-attention for `text`, every head and stage, after the real layers before it.

    Runs layers 0 … layer−1 and the attention of `layer`, nothing after. causal=None uses the model's own
    masking (GPT-2 causal, encoders not); True/False overrides it in every layer run (a what-if: the numbers
    are then no longer the model's). pad_to appends [PAD] tokens whose keys every query ignores.
    """
    layer = _check_layer(model, layer)
    text, tokens, ids, mask, causal = _prepare(model, text, causal, pad_to)
    run = model.arch.forward(model.tensors, ids, mask, layer, finish=False, keep={layer})
    return _trace(model, text, tokens, causal, layer, run.layers[layer])


def model_summary(model: Model, text: str, layer: int, *, causal: bool | None = None, top_k: int | None = None,
                  progress=None):
    """Layer `layer`'s self-attention for `text` as a SummaryTrace (attnviz.summary), in O(T) memory: layers
    0 … layer−1 run whole with their heads computed tile by tile, then each head of `layer` is summarized — per
    query its top keys and weights, entropy, m, ℓ and output; block-pooled matrices; concat and W_O — with the
    family's scale, soft-cap, sliding window, GQA, q/k norm and RoPE (models/long.py). Any length up to the
    model's position limit; no padding. causal as in model_trace. progress(rows, total) as query rows are done.
    """
    from ..summary import TOP_K, SummaryTrace, pool_starts
    from .long import summary_forward

    layer = _check_layer(model, layer)
    text, tokens, ids, _, causal = _prepare(model, text, causal, None, full=False)
    arch, t = model.arch, len(tokens)
    top_k = TOP_K if top_k is None else top_k
    _, ls = summary_forward(arch, model.tensors, ids, layer, causal, top_k=top_k, progress=progress)
    g, h = arch.n_kv_heads, arch.n_heads
    hd = ls.heads[0]
    return SummaryTrace(tokens, tokens, ls.heads, ls.concat, ls.output, model.d_model, arch.d_k, hd.output.shape[1],
                        None, causal, str(model.path), text, max_tokens(h), pool_starts(t), pool_starts(t),
                        None if ls.mask is None else ls.mask.window, None if ls.rope is None else float(ls.rope.base),
                        None if g == h else g, top_k, ModelInfo(model.name, model.architecture, layer, model.n_layers),
                        arch.attention_scale(layer), arch.softcap(layer))


def model_trace_or_summary(model: Model, text: str, layer: int, *, causal: bool | None = None,
                           pad_to: int | None = None, progress=None):
    """model_trace, or past the full trace's limit (trace.max_tokens of the model's heads) model_summary, which
    has no --pad-to; the model's position limit applies to both."""
    from ..summary import needs_summary

    layer = _check_layer(model, layer)
    if getattr(model.arch, "encoder_decoder", False):
        return model_trace(model, text, layer, causal=causal, pad_to=pad_to)  # its one-line refusal
    tokens, _ = _tokens(model, clean_text(text), pad_to, full=False)
    if not needs_summary(len(tokens), model.n_heads):
        return model_trace(model, text, layer, causal=causal, pad_to=pad_to)
    if pad_to is not None:
        raise InputError(f"--pad-to {pad_to}: {len(tokens)} tokens are past the {max_tokens(model.n_heads)} of a full "
                         f"trace with {model.n_heads} heads, and the summary made for longer texts has no padding: "
                         "drop --pad-to or give a shorter text")
    return model_summary(model, text, layer, causal=causal, progress=progress)


def model_traces(model: Model, text: str, *, layers: list[int] | None = None, causal: bool | None = None,
                 pad_to: int | None = None) -> list[Trace]:
    """The traces of `layers` (default: every layer), in order, from one forward pass (for a layers × heads grid).

    Keeps every T × S stage of every kept head in memory: about 5 · layers · heads · T² floats, so the text
    may have at most √(MAX_CELLS / (layers · heads)) tokens (341 for all of GPT-2's 12 × 12).
    """
    wanted = sorted({_check_layer(model, i) for i in (range(model.n_layers) if layers is None else layers)})
    if not wanted:
        raise InputError("no layers asked for: give at least one")
    text, tokens, ids, mask, causal = _prepare(model, text, causal, pad_to, n_layers=len(wanted))
    run = model.arch.forward(model.tensors, ids, mask, wanted[-1], finish=False, keep=set(wanted))
    return [_trace(model, text, tokens, causal, i, run.layers[i]) for i in wanted]


def hidden_states(model: Model, text: str, *, causal: bool | None = None,
                  pad_to: int | None = None) -> list[np.ndarray]:
    """n_layers + 1 arrays (T, d_model), float32, like transformers' output_hidden_states: [0] is the embedding
    output (BERT: after its LayerNorm; GPT-2: E + P), [i] the output of layer i − 1, and for GPT-2 the last
    one after the final ln_f."""
    _, _, ids, mask, _ = _prepare(model, text, causal, pad_to)
    return model.arch.forward(model.tensors, ids, mask, model.n_layers - 1, finish=True, keep=set()).hidden



def logits(model: Model, text: str) -> np.ndarray:
    """(T, vocab) float32: the model's next-token logits at every position (decoders only): every layer, the
    final norm, then the LM head (tied to the embeddings where the checkpoint has no lm_head)."""
    _, _, ids, mask, _ = _prepare(model, text, None, None)
    run = model.arch.forward(model.tensors, ids, mask, model.n_layers - 1, finish=True, keep=set())
    return model.arch.checked_logits(model.tensors, run.hidden[-1])


def block_trace(model: Model, text: str, layer: int, *, pad_to: int | None = None) -> EncoderBlockTrace:
    """Layer `layer` of the checkpoint as one whole transformer block, every stage kept (attnviz block --model).

    Runs layers 0 … layer with the model's own masking, through the same layer code as model_trace and
    hidden_states, so the numbers are the model's own:
        attention    the Trace model_trace(model, text, layer) gives
        BERT family (post-LN, norm_first False):
            residual1 = x + Attn(x);  norm1 = LayerNorm(residual1)  (attention.output.LayerNorm's γ, β, eps)
            ffn = act(norm1.output W₁ + b₁) W₂ + b₂  (intermediate.dense, the config's activation, output.dense)
            residual2 = norm1.output + ffn.output;  norm2 = LayerNorm(residual2)  (output.LayerNorm)
        GPT-2 (pre-LN, norm_first True):
            norm1 = ln_1(x);  residual1 = x + Attn(norm1.output)
            norm2 = ln_2(residual1);  ffn = act(norm2.output W_fc + b_fc) W_proj + b_proj
            residual2 = residual1 + ffn.output
            final_norm = ln_f(residual2) for the last layer only (None otherwise)
    `.x` is hidden_states(...)[layer] and `.output` is hidden_states(...)[layer + 1]: transformers' convention,
    in which GPT-2's last hidden state is after ln_f (the block's own output is `.block_output`).
    Arrays are float32 like the checkpoint (attention.output float64, cast to float32 before the residual;
    the LayerNorm statistics float64). pad_to appends [PAD] tokens whose keys every query ignores.
    """
    layer = _check_layer(model, layer)
    text, tokens, ids, mask, causal = _prepare(model, text, None, pad_to)
    run = model.arch.forward(model.tensors, ids, mask, layer, finish=True, keep={layer}, blocks={layer})
    lr = run.blocks[layer]
    final = run.final if layer == model.n_layers - 1 else None
    return EncoderBlockTrace(_trace(model, text, tokens, causal, layer, lr.attention), lr.residual1, lr.norm1,
                             lr.ffn, lr.residual2, lr.norm2, lr.params, norm_first=lr.norm_first, final_norm=final,
                             post_attn=lr.post_attn, post_ffn=lr.post_ffn)
