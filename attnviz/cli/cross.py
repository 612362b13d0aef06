"""`attnviz cross`: cross-attention from a decoder's queries to an encoder's tokens or an image's patches —
seeded, a real encoder–decoder checkpoint's (T5, BART, Marian) decoder layer, or an image captioner's."""

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
    ModelOpt,
    NHeads,
    Query,
    Seed,
    TokenizerOpt,
    WeightsFile,
    output_options,
    text_input,
)


@app.command()
@output_options()
@text_input("source")
def cross(
    source: Annotated[str | None, typer.Argument(
        help=f"The encoder side: gives K and V \\[default: {SEED_SENTENCE}]", show_default=False)] = None,
    target: Annotated[str | None, typer.Argument(
        help="The decoder side after <BOS> (the start token): gives Q \\[default: <BOS> alone; with --model, "
             "--steps greedily generated tokens]", show_default=False)] = None,
    image: Annotated[Path | None, typer.Option(
        help="Attend over the patches of this image instead of SOURCE's tokens (PNG or JPEG).")] = None,
    patches: Annotated[str, typer.Option(help="Patch grid for --image, ROWSxCOLS.")] = "4x4",
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
    model: ModelOpt = None,
    download: Download = False,
    layer: Annotated[str, typer.Option(help="Decoder layer of --model, counting from 0, or all (every layer's "
                                            "heads; not with --image).")] = "0",
    steps: Annotated[int | None, typer.Option(min=1, max=256, help="--model without TARGET: tokens to generate "
                                                                   "greedily as the queries \\[default: 8].",
                                              show_default=False)] = None,
    mean: Annotated[bool, typer.Option("--mean", help="The figure shows the mean over the heads (alignment).")
                    ] = False,
) -> None:
    """Cross-attention: the decoder's queries (<BOS> …) attend to the encoder's keys and values.

    Rows are decoder (target) tokens, columns source tokens, or image patches with --image.
    Each side up to √(4,096² / heads) tokens (4,096 for one head).
    With --model (T5, BART, Marian), the encoder reads SOURCE, the decoder is teacher-forced on its start token
    and TARGET's tokens, and the trace is decoder layer --layer's real cross-attention; the figure (--png) is
    the alignment of target tokens (rows) to source tokens (columns), one --head or the --mean.
    With --image and --model (an image-to-text checkpoint: a ViT encoder and a GPT-2 decoder with
    cross-attention) the queries are the words (TARGET, or --steps generated ones) over the image's [CLS] +
    patches, and the figure is a strip: one small overlay per word.

    \b
    Example: attnviz cross "고양이는 침대에서 잔다" --image samples/cat_on_bed.png --patches 4x4
    Real model: attnviz cross "고양이는 침대에서 잔다" "The cat sleeps on the bed." --model DIR --layer 1 --png a.png
    Captioner: attnviz cross "a cat on a bed" --image cat.png --model ./vit-gpt2-image-captioning --layer 11
    """
    if model is not None and image is not None:
        return _captioner(source if target is None else target, image, model, _layer(layer, captioner=True), steps,
                          download, query, head, out)
    if model is not None:
        _fetch(model, download)
        return _model_cross(source or SEED_SENTENCE, target, model, layer, head=head, query=query,
                            steps=8 if steps is None else steps, mean=mean, out=out)
    if steps is not None:
        raise InputError("--steps generates with a real model (an encoder–decoder, or a captioner with --image): "
                         "give --model too")
    from ..patches import parse_grid
    from ..pipeline import cross_attention, image_attention

    common = dict(seed=seed, d_model=d_model, d_k=d_k, n_heads=n_heads, weights=weights, tokenizer=tokenizer)
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


def _model_cross(source: str, target: str | None, model: str, layer: str, *, head: int, query, steps: int,
                 mean: bool, out: Output) -> None:
    """`cross --model`: one decoder layer's cross-attention (or, with --layer all, every layer's heads)."""
    from ..models import load_model
    from ..models.encdec import cross_traces

    number = _layer(layer)
    m = load_model(model)
    if m.arch.reads_images:
        raise InputError(f"{m.name} is an image-to-text checkpoint: its decoder reads an image, give --image FILE")
    traces = cross_traces(m, source, target, None if number is None else [number], steps=steps)
    trace = traces[0]
    h, focus = _head(head, trace), _focus(query, [t.label for t in trace.query_tokens])

    def terminal(view):
        from ..render import terminal as term

        if len(traces) > 1:
            return term.layers_view(traces, focus=focus, view=view)
        return term.cross_view(trace, focus=focus, head=h, view=view)

    def figure(fig, style):
        if len(traces) > 1:
            return fig.layers_figure(traces, focus=focus, **style)
        return fig.alignment_figure(trace, head=None if mean else h, focus=focus, **style)

    def doc():  # streamed a few rows at a time, as every other trace
        return _json("trace_to_json", trace) if len(traces) == 1 else _json("traces_to_json", traces)

    _finish(out, name="cross", doc=doc, terminal=terminal, figure=figure, trace=trace if len(traces) == 1 else None,
            head=h)


def _layer(layer: str, captioner: bool = False) -> int | None:
    """--layer as a number from 0, or None for all (ASCII digits only: "²".isdigit(), but int("²") fails)."""
    if layer == "all" and not captioner:
        return None
    if not (layer.isascii() and layer.isdigit()):
        raise typer.BadParameter(f"{layer!r} is not a layer: give a number from 0" + ("" if captioner else ", or all"),
                                 param_hint="--layer")
    return int(layer)


def _captioner(target: str | None, image: Path, model: str, layer: int, steps: int | None, download: bool,
               query: str | None, head: int, out: Output) -> None:
    """cross --image --model: an image-to-text checkpoint's cross-attention, the strip of overlays as its figure."""
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
