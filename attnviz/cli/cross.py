"""`attnviz cross`: cross-attention from a decoder's queries to an encoder's tokens or an image's patches."""

from pathlib import Path
from typing import Annotated

import typer

from ..errors import InputError
from ..output import Output, _finish, _json
from . import app
from .common import _fetch, _focus, _head
from .options import (
    DK,
    SEED_SENTENCE,
    DModel,
    Download,
    Head,
    Layer,
    NHeads,
    Query,
    Seed,
    TokenizerOpt,
    WeightsFile,
    output_options,
)


@app.command()
@output_options()
def cross(
    source: Annotated[str | None, typer.Argument(
        help=f"The encoder side: gives K and V \\[default: {SEED_SENTENCE}]", show_default=False)] = None,
    target: Annotated[str | None, typer.Argument(
        help="The decoder side after <BOS>: gives Q \\[default: <BOS> alone]", show_default=False)] = None,
    image: Annotated[Path | None, typer.Option(
        help="Attend over the patches of this image instead of SOURCE's tokens (PNG or JPEG).")] = None,
    patches: Annotated[str, typer.Option(help="Patch grid for --image, ROWSxCOLS (seeded patches).")] = "4x4",
    query: Query = None,
    head: Head = 1,
    n_heads: NHeads = 1,
    *,
    out: Output,
    seed: Seed = 0,
    d_model: DModel = 8,
    d_k: DK = 4,
    weights: WeightsFile = None,
    tokenizer: TokenizerOpt = "default",
    model: Annotated[str | None, typer.Option(
        "--model", help="With --image: an image-to-text checkpoint (a ViT encoder and a GPT-2 decoder with "
                        "cross-attention, e.g. a ViT-GPT2 captioner): its decoder's queries over the image's "
                        "[CLS] + patches.")] = None,
    layer: Layer = 0,
    steps: Annotated[int | None, typer.Option(
        min=1, max=64, help="With --model: generate this many tokens greedily and use them as the queries "
                            "(instead of TARGET).")] = None,
    download: Download = False,
) -> None:
    """Cross-attention: the decoder's queries (<BOS> …) attend to the encoder's keys and values.

    Rows are decoder (target) tokens, columns source tokens, or image patches with --image.
    Each side up to √(4,096² / heads) tokens (4,096 for one head).
    With --image and --model (an image-to-text checkpoint) the figure is a strip: one small overlay per word.

    Example: attnviz cross "고양이는 침대에서 잔다" --image samples/cat_on_bed.png --patches 4x4
    Captioner: attnviz cross "a cat on a bed" --image cat.png --model ./vit-gpt2-image-captioning --layer 11
    """
    from ..patches import parse_grid
    from ..pipeline import cross_attention, image_attention

    common = dict(seed=seed, d_model=d_model, d_k=d_k, n_heads=n_heads, weights=weights, tokenizer=tokenizer)
    if model is not None:
        return _captioner(source if target is None else target, image, model, layer, steps, download, query, head,
                          out)
    if steps is not None:
        raise InputError("--steps generates with a real captioner: give --image and --model too")
    if image is not None:
        try:
            grid = parse_grid(patches)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--patches") from None
        trace = image_attention(image, target if target is not None else source, grid=grid, **common)
    else:
        trace = cross_attention(SEED_SENTENCE if source is None else source, target, **common)
    h, focus = _head(head, trace), _focus(query, [t.label for t in trace.query_tokens])

    def terminal(view):
        from ..render.terminal import cross_view

        return cross_view(trace, focus=focus, head=h, view=view)

    _finish(out, name="cross", doc=lambda: _json("trace_to_json", trace), terminal=terminal, trace=trace, head=h,
            figure=lambda fig, style: fig.cross_figure(trace, head=h, focus=focus, **style))


def _captioner(target: str | None, image: Path | None, model: str, layer: int, steps: int | None, download: bool,
               query: str | None, head: int, out: Output) -> None:
    """cross --image --model: an image-to-text checkpoint's cross-attention, the strip of overlays as its figure."""
    if image is None:
        raise InputError("--model in cross reads an image: give --image FILE (an image-to-text checkpoint)")
    if steps is not None and target is not None:
        raise InputError("give TARGET or --steps, not both: --steps generates the queries")
    _fetch(model, download)
    from ..pipeline import caption_attention

    trace = caption_attention(model, image, target, layer, steps=steps)
    h, focus = _head(head, trace), _focus(query, [t.label for t in trace.query_tokens])

    def terminal(view):
        from ..render.terminal import cross_view

        return cross_view(trace, focus=focus, head=h, view=view)

    def figure(fig, style):
        from ..render.figure import vision

        return vision.caption_strip_figure(trace, head=h, **style)

    _finish(out, name="cross", doc=lambda: _json("trace_to_json", trace), terminal=terminal, trace=trace, head=h,
            figure=figure)
