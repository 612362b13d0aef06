"""Images through a checkpoint's vision encoder (a ViT, or the ViT inside an image-to-text model), as Traces.

    image_input(model, image) -> ImageInput               the processor's pixel values, [CLS] + patch tokens
    image_trace(model, image, layer) -> Trace              one layer's self-attention over [CLS] + patches
    image_traces(model, image, *, layers=None) -> list[Trace]   many layers, one pass
    image_hidden_states(model, image) -> (hidden, last)    like transformers: hidden[L] is before the final
                                                           LayerNorm, `last` (last_hidden_state) after it
    encoder_output(model, image) -> np.ndarray             (T, d_model) last_hidden_state: what a captioner's
                                                           cross-attention reads

Tokens: [CLS] (token 0), then patch_1 … patch_N row by row from the top-left; a Trace of an image has
patch_grid = (rows, cols) and image_path set, so the figures lay a query's row over the picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError, ModelError
from ..patches import grid_tokens
from ..preprocess import Processor, pixel_values, read_processor
from ..tokens import Token
from ..trace import ModelInfo, Trace, check_length
from .base import LayerAttention, Model
from .vit import ViT


def vision_encoder(model: Model) -> ViT:
    """The model's ViT: the model itself, or the encoder of an image-to-text model."""
    arch = model.arch
    encoder = arch if isinstance(arch, ViT) else getattr(arch, "encoder", None)
    if not isinstance(encoder, ViT):
        raise InputError(f"{model.name} is a text model ({model.architecture}): it reads text, not images; give "
                         "--image with a ViT checkpoint (or a ViT → GPT-2 captioner), or drop --image")
    return encoder


@dataclass(frozen=True)
class ImageInput:
    """An image as the checkpoint sees it."""

    path: Path
    pixel_values: np.ndarray  # (C, H, W) float32, the processor's output
    tokens: tuple[Token, ...]  # [CLS], patch_1 … patch_N
    grid: tuple[int, int]  # (rows, cols) of patches
    processor: Processor


def image_input(model: Model, image: str | Path) -> ImageInput:
    """The image at `image` through the checkpoint's preprocessor_config.json (attnviz.preprocess)."""
    encoder = vision_encoder(model)
    processor = read_processor(model.path)
    if (processor.height, processor.width) != encoder.image_size:
        raise ModelError(f"{processor.path} resizes to {processor.height} × {processor.width} but the model's "
                         f"image_size is {encoder.image_size[0]} × {encoder.image_size[1]}: use the files saved "
                         "together")
    rows, cols = encoder.grid
    tokens = grid_tokens(rows, cols)
    check_length(tokens, encoder.n_heads)
    return ImageInput(Path(image), pixel_values(processor, Path(image)), tokens, (rows, cols), processor)


def _check_layer(model: Model, encoder: ViT, layer: int) -> int:
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 0 <= layer < encoder.n_layers:
        raise InputError(f"layer {layer} does not exist: {model.name}'s vision encoder has layers "
                         f"0–{encoder.n_layers - 1}")
    return int(layer)


def _trace(model: Model, encoder: ViT, inp: ImageInput, i: int, la: LayerAttention) -> Trace:
    hd = la.heads[0]
    info = ModelInfo(model.name, encoder.model_type, i, encoder.n_layers)
    return Trace("self", inp.tokens, inp.tokens, la.embeddings, la.positions, la.x, None, la.heads, la.concat,
                 la.output, encoder.d_model, hd.q.shape[-1], hd.v.shape[-1], None, False, str(model.path),
                 str(inp.path), info, patch_grid=inp.grid, image_path=str(inp.path), attention=la.info)


def image_trace(model: Model, image: str | Path, layer: int) -> Trace:
    """Layer `layer`'s self-attention over [CLS] + patches, every head and stage (layers before it run too)."""
    encoder = vision_encoder(model)
    layer = _check_layer(model, encoder, layer)
    inp = image_input(model, image)
    run = encoder.forward(model.tensors, inp.pixel_values, None, layer, finish=False, keep={layer})
    return _trace(model, encoder, inp, layer, run.layers[layer])


def image_traces(model: Model, image: str | Path, *, layers: list[int] | None = None) -> list[Trace]:
    """The traces of `layers` (default: every layer of the vision encoder), from one forward pass."""
    encoder = vision_encoder(model)
    wanted = sorted({_check_layer(model, encoder, i) for i in (range(encoder.n_layers) if layers is None
                                                               else layers)})
    if not wanted:
        raise InputError("no layers asked for: give at least one")
    inp = image_input(model, image)
    check_length(inp.tokens, encoder.n_heads, n_layers=len(wanted))
    run = encoder.forward(model.tensors, inp.pixel_values, None, wanted[-1], finish=False, keep=set(wanted))
    return [_trace(model, encoder, inp, i, run.layers[i]) for i in wanted]


def image_hidden_states(model: Model, image: str | Path) -> tuple[list[np.ndarray], np.ndarray]:
    """(hidden, last): L + 1 arrays (T, d_model) float32 as transformers' hidden_states (hidden[0] the
    embeddings E + P; hidden[L] the last layer's output, *before* the final LayerNorm), and last_hidden_state
    = layernorm(hidden[L])."""
    encoder = vision_encoder(model)
    inp = image_input(model, image)
    run = encoder.forward(model.tensors, inp.pixel_values, None, encoder.n_layers - 1, finish=True, keep=set())
    return [*run.hidden[:-1], run.final.input], run.final.output


def encoder_output(model: Model, inp: ImageInput) -> np.ndarray:
    """(T, d_model) float32: the vision encoder's last_hidden_state for an ImageInput."""
    encoder = vision_encoder(model)
    run = encoder.forward(model.tensors, inp.pixel_values, None, encoder.n_layers - 1, finish=True, keep=set())
    return run.final.output


# --- image-to-text: the decoder's cross-attention over the image ----------------------------------------

def _captioner(model: Model):
    from .captioner import Captioner

    if not isinstance(model.arch, Captioner):
        raise InputError(f"{model.name} ({model.architecture}) has no text decoder reading the image: cross "
                         "--image --model needs an image-to-text checkpoint (a ViT encoder with a GPT-2 decoder)")
    return model.arch


def _piece_token(model: Model, i: int, at: int) -> Token:
    """Token id i as a label (its text decoded alone, or its vocabulary piece), at character `at`."""
    from ..tokens import visible

    hf = model.tokenizer._hf
    piece = hf.id_to_token(i) or f"#{i}"
    text = hf.decode([i], skip_special_tokens=False)
    label = visible(text.strip()) if text.strip() and "\ufffd" not in text else piece
    return Token(label, piece, i, at, at + len(text), special=i in (model.arch.start_id, model.arch.eos_id))


def greedy(model: Model, memory: np.ndarray, steps: int) -> list[int]:
    """Greedy decoding from decoder_start_token_id, up to `steps` new ids (stopping after the end token), each
    the argmax of a full forward pass on the ids so far (no cache): transformers' generate(do_sample=False)."""
    arch = _captioner(model)
    ids = [arch.start_id]
    for _ in range(steps):
        if len(ids) >= arch.max_positions:
            break
        logits = arch.decode(model.tensors, np.asarray(ids), memory, keep=set()).logits  # (T, vocab)
        ids.append(int(np.argmax(logits[-1])))
        if ids[-1] == arch.eos_id:
            break
    return ids[1:]


def caption_trace(model: Model, image: str | Path, target: str | None, layer: int, *,
                  steps: int | None = None) -> Trace:
    """Layer `layer`'s cross-attention of an image-to-text model: queries are the decoder's start token and
    TARGET's tokens (teacher forcing), or the start token and `steps` greedily generated tokens; keys and values
    the image's [CLS] + patches after the vision encoder (its last_hidden_state)."""
    arch = _captioner(model)
    if isinstance(layer, bool) or not 0 <= layer < arch.n_layers:
        raise InputError(f"layer {layer} does not exist: {model.name}'s decoder has layers 0–{arch.n_layers - 1}")
    inp = image_input(model, image)
    memory = arch.memory(model.tensors, encoder_output(model, inp))  # (S, d_model)
    start = _piece_token(model, arch.start_id, 0)
    if steps is not None:
        generated = greedy(model, memory, steps)
        tokens, at = [start], 0
        for i in generated:
            tokens.append(_piece_token(model, i, at))
            at = tokens[-1].end
        text = model.tokenizer._hf.decode(generated, skip_special_tokens=True)
    else:
        text = target or ""
        tokens = [start, *model.tokenizer.encode(text)]
    tokens = tuple(tokens)
    if len(tokens) > arch.max_positions:
        raise InputError(f"the caption has {len(tokens)} tokens with the start token; {model.name}'s decoder reads "
                         f"at most {arch.max_positions}: give a shorter TARGET")
    check_length(tokens, arch.n_heads)
    ids = np.array([tk.id for tk in tokens], dtype=np.int64)
    la = arch.decode(model.tensors, ids, memory, keep={layer}, logits=False).cross_layers[layer]
    hd = la.heads[0]
    info = ModelInfo(model.name, model.architecture, layer, arch.n_layers)
    return Trace("cross", tokens, inp.tokens, la.embeddings, la.positions, la.x, memory, la.heads, la.concat,
                 la.output, arch.d_model, hd.q.shape[-1], hd.v.shape[-1], None, False, str(model.path), text, info,
                 patch_grid=inp.grid, image_path=str(inp.path))
