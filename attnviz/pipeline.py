"""Text in, Trace out: tokenizer + weights + trace, the one call the CLI and notebooks make."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import InputError
from .tokens import DEFAULT_TOKENIZER, Token, bos_token, tokenize
from .trace import Trace, cross_attention_trace, max_tokens, self_attention_trace
from .weights import Weights, init_weights, load_weights

SEED_SENTENCE = "고양이는 침대에서 잔다"


def make_weights(seed: int = 0, d_model: int = 8, d_k: int = 4, n_heads: int = 1,
                 weights: str | Path | None = None) -> Weights:
    """Load `weights` from a file, or draw them from `seed`."""
    if weights is not None:
        return load_weights(Path(weights))
    return init_weights(np.random.default_rng(seed), d_model, d_k, n_heads, seed=seed)


def self_attention(text: str = SEED_SENTENCE, *, seed: int = 0, d_model: int = 8, d_k: int = 4,
                   n_heads: int = 1, weights: str | Path | None = None,
                   tokenizer: str = DEFAULT_TOKENIZER, causal: bool = False, pad_to: int | None = None,
                   split: str = "merged", rope_theta: float | None = None, kv_heads: int | None = None,
                   window: int | None = None) -> Trace:
    """Every stage of one self-attention layer for `text`; rope_theta (RoPE instead of sinusoidal positions),
    kv_heads (grouped-query attention) and window (a sliding-window mask) add today's decoders' parts.

    >>> trace = self_attention("고양이는 침대에서 잔다", seed=0)
    >>> trace.heads[0].weights.shape
    (5, 5)
    """
    tokens = tokenize(text, tokenizer)
    w = make_weights(seed, d_model, d_k, n_heads, weights)
    return self_attention_trace(tokens, w, seed=seed, causal=causal, text=text, pad_to=pad_to, split=split,
                                rope_theta=rope_theta, kv_heads=kv_heads, window=window)


def self_attention_or_summary(text: str = SEED_SENTENCE, *, seed: int = 0, d_model: int = 8, d_k: int = 4,
                              n_heads: int = 1, weights: str | Path | None = None,
                              tokenizer: str = DEFAULT_TOKENIZER, causal: bool = False, pad_to: int | None = None,
                              split: str = "merged", rope_theta: float | None = None, kv_heads: int | None = None,
                              window: int | None = None, progress=None):
    """`self_attention`, or past the full trace's limit (trace.max_tokens) a SummaryTrace computed tile by tile
    (attnviz.summary), which --pad-to and --split separate do not have."""
    from .summary import needs_summary, self_attention_summary

    tokens = tokenize(text, tokenizer)
    w = make_weights(seed, d_model, d_k, n_heads, weights)
    if not needs_summary(len(tokens) if pad_to is None else max(pad_to, len(tokens)), w.n_heads):
        return self_attention_trace(tokens, w, seed=seed, causal=causal, text=text, pad_to=pad_to, split=split,
                                    rope_theta=rope_theta, kv_heads=kv_heads, window=window)
    if pad_to is not None or split != "merged":
        what = "--pad-to" if pad_to is not None else "--split separate"
        raise InputError(f"the text has {len(tokens)} tokens, past the {max_tokens(w.n_heads)} of a full trace; "
                         f"the summary made for longer texts has no {what}: drop it or give a shorter text")
    return self_attention_summary(tokens, w, seed=seed, causal=causal, text=text, rope_theta=rope_theta,
                                  kv_heads=kv_heads, window=window, progress=progress)


def decoder_tokens(target: str | None, tokenizer: str) -> tuple[Token, ...]:
    """<BOS>, then the target text's tokens (if any): the decoder's input."""
    bos = bos_token(tokenizer)
    if target is None or not target.strip():
        return (bos,)
    return (bos, *tokenize(target, tokenizer))


def cross_attention(source: str = SEED_SENTENCE, target: str | None = None, *, seed: int = 0,
                    d_model: int = 8, d_k: int = 4, n_heads: int = 1, weights: str | Path | None = None,
                    tokenizer: str = DEFAULT_TOKENIZER) -> Trace:
    """Cross-attention: the decoder's <BOS> (+ target) queries the source sentence's keys and values.

    >>> cross_attention("고양이는 침대에서 잔다").heads[0].weights.shape
    (1, 5)
    """
    keys = tokenize(source, tokenizer)
    w = make_weights(seed, d_model, d_k, n_heads, weights)
    return cross_attention_trace(decoder_tokens(target, tokenizer), keys, w, seed=seed, text=source)


def image_attention(image: str | Path, target: str | None = None, *, grid: tuple[int, int] = (4, 4),
                    seed: int = 0, d_model: int = 8, d_k: int = 4, n_heads: int = 1,
                    weights: str | Path | None = None, tokenizer: str = DEFAULT_TOKENIZER) -> Trace:
    """Cross-attention over image patches: the text's queries attend to a rows × cols grid of patches,
    each embedded by a seeded linear map (ViT-style) plus its position."""
    from .images import load_image
    from .patches import PATCH_PIXELS, patch_embeddings, patch_tokens, split_patches

    rows, cols = grid
    if rows * cols < 1:
        raise InputError("--patches needs at least one patch")
    pixels = load_image(Path(image), (cols * PATCH_PIXELS, rows * PATCH_PIXELS))  # (H, W, 3)
    w = make_weights(seed, d_model, d_k, n_heads, weights)
    patch_rng = np.random.default_rng([seed, 1])  # the patch embedding's own stream
    memory = patch_embeddings(split_patches(pixels, rows, cols), patch_rng, w.d_model)  # (N, d_model)
    return cross_attention_trace(decoder_tokens(target, tokenizer), patch_tokens(rows, cols), w, seed=seed,
                                 memory=memory, text=str(image), patch_grid=(rows, cols), image_path=str(image))


def model_attention(model: str | Path, text: str, layer: int = 0, *, causal: bool | None = None,
                    pad_to: int | None = None) -> Trace:
    """One layer (from 0) of a real checkpoint, every head, as a Trace (see attnviz.models)."""
    from .models import load_model, model_trace

    return model_trace(load_model(model), text, layer, causal=causal, pad_to=pad_to)


def model_layers(model: str | Path, text: str, *, causal: bool | None = None,
                 pad_to: int | None = None) -> list[Trace]:
    """Every layer of a real checkpoint in one forward pass."""
    from .models import load_model, model_traces

    return model_traces(load_model(model), text, causal=causal, pad_to=pad_to)


def vision_attention(model: str | Path, image: str | Path, layer: int = 0) -> Trace:
    """One layer (from 0) of a real vision checkpoint's encoder (a ViT, or a captioner's ViT) over the image's
    [CLS] + patches, every head (see attnviz.models.vision)."""
    from .models import load_model
    from .models.vision import image_trace

    return image_trace(load_model(model), image, layer)


def caption_attention(model: str | Path, image: str | Path, target: str | None, layer: int = 0, *,
                      steps: int | None = None) -> Trace:
    """Layer `layer`'s decoder cross-attention of an image-to-text checkpoint: the start token and TARGET's tokens
    (or `steps` greedily generated ones) over the image's [CLS] + patches (see attnviz.models.vision)."""
    from .models import load_model
    from .models.vision import caption_trace

    return caption_trace(load_model(model), image, target, layer, steps=steps)


def seq2seq_attention(model, text: str, layer: int | None, *, decoder: str | None = None,
                      cross: str | None = None) -> list[Trace]:
    """An encoder–decoder checkpoint's (a loaded Model's) heads at `layer` (None: every layer), for `heads`:
    the encoder's self-attention on `text` (the source); with `decoder` (a target text) the decoder's masked
    self-attention; with `cross` (a target text) the decoder's cross-attention, target rows × source columns."""
    from .models.encdec import cross_traces, decoder_tokens, decoder_trace, encoder_trace, source_tokens
    from .trace import check_length

    if decoder is not None and cross is not None:
        raise InputError("give --decoder TARGET (the decoder's self-attention) or --cross TARGET (its "
                         "cross-attention), not both")
    if cross is not None:
        if not cross.strip():
            raise InputError("--cross needs a target text: the decoder side whose tokens are the queries")
        return cross_traces(model, text, cross, None if layer is None else [layer])
    n = model.n_layers if decoder is None else model.arch.n_decoder_layers
    layers = range(n) if layer is None else [layer]
    tokens = source_tokens(model, text) if decoder is None else decoder_tokens(model, decoder)
    check_length(tokens, model.n_heads, n_layers=len(layers))  # every kept layer's T × T stages fit
    if decoder is None:
        return [encoder_trace(model, text, i) for i in layers]
    return [decoder_trace(model, text, decoder, i) for i in layers]
