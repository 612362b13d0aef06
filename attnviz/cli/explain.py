"""`attnviz explain`: one sentence through self-attention, stage by stage."""

from typing import Annotated

import typer

from ..errors import InputError
from ..output import Output, _finish, _json
from . import app
from .common import _check_stage, _fetch, _focus, _head, _modern, _Progress, _self_trace, _summary_finish
from .options import (
    DK,
    SEED_SENTENCE,
    Causal,
    DModel,
    Download,
    Head,
    Layer,
    ModelOpt,
    NoSpecial,
    Query,
    Rope,
    RopeTheta,
    Seed,
    Stage,
    Text,
    TokenizerOpt,
    WeightsFile,
    Window,
    output_options,
    text_input,
)
from .vision import ImageOpt, _image_notes, _image_trace


@app.command()
@output_options()
@text_input()
def explain(
    text: Text = None,
    query: Query = None,
    stage: Annotated[Stage, typer.Option(help="Show one stage, or all of them. rope, gqa, softcap and mask are "
                                              "stages only some traces have (a Llama-family --model; or --rope, "
                                              "--window, --causal).")] = Stage.all,
    causal: Causal = False,
    head: Head = 1,
    *,
    out: Output,
    seed: Seed = 0,
    d_model: DModel = 8,
    d_k: DK = 4,
    weights: WeightsFile = None,
    tokenizer: TokenizerOpt = "default",
    model: ModelOpt = None,
    download: Download = False,
    layer: Layer = 0,
    no_special: NoSpecial = False,
    image: ImageOpt = None,
    rope: Rope = False,
    rope_theta: RopeTheta = 10000.0,
    window: Window = None,
    decoder: Annotated[str | None, typer.Option(
        help="An encoder–decoder --model (T5, BART, Marian): show the decoder's masked self-attention on this "
             "target text (after the start token) instead of the encoder's.")] = None,
) -> None:
    """Walk a sentence through self-attention, stage by stage.

    tokens → X = E + P → Q, K, V → Q·Kᵀ → ÷√d_k → (mask) → softmax → weighted sum → W_O → the next layer.

    Today's decoders add RoPE, GQA, their own scale, soft-capping and a sliding window, each its own stage;
    --stage rope or gqa with --png saves that stage's figure (--out-dir adds 09-rope.png and 10-gqa.png).

    Texts of up to 4,096 tokens get a full trace (h·T² ≤ 4,096² with h heads: 2,048 for 4); longer ones get
    a summary trace computed tile by tile: per query its top keys, entropy, max, normalizer and output
    (--json: attnviz.summary/1; --png: block-pooled matrices). Seeded or --weights: any length; --model: up
    to the model's position limit (the layers before --layer also run tile by tile). Not summarized (one
    error line): --image, --decoder, --no-special, or a --stage other than all, softmax and output.

    Long texts: TEXT as - reads standard input (attnviz explain - < essay.txt), --file reads a UTF-8 file.
    Past 12 tokens the tables are cut and a summary line per query is added (--full shows everything).

    --rope turns q and k by their positions (RoPE, as Llama does) and --window hides keys more than a window
    back (Mistral), on the seeded numbers: check them by hand with d_k = 4.

    \b
    Example: attnviz explain "고양이는 침대에서 잔다" --query 잔다 --png pipeline.png
    RoPE by hand: attnviz explain "고양이는 침대에서 잔다" --rope --stage rope
    Real model: attnviz explain "The cat sat on the mat" --model minilm --layer 2 --head 3
    Today's decoder: attnviz explain "The cat sat" --model ./Llama-3.2-1B --stage rope
    Image: attnviz explain --image cat.png --model ./vit-base-patch16-224 --layer 11 --query "[CLS]" --png cls.png
    Encoder–decoder: attnviz explain "고양이는 침대에서 잔다" --model DIR --decoder "The cat sleeps."

    T5 shows its relative position bias where the √d_k scaling would be: T5 does not scale.
    """
    _fetch(model, download)
    if image is not None:
        trace = _image_trace(image, model, layer, text)
    else:
        parts = _modern(model, rope, rope_theta, window=window)
        progress = _Progress("attention, tile by tile", out)
        try:
            trace = _self_trace(SEED_SENTENCE if text is None else text, model=model, layer=layer,
                                no_special=no_special, causal=causal, seed=seed, d_model=d_model, d_k=d_k,
                                weights=weights, tokenizer=tokenizer, decoder=decoder, progress=progress, **parts)
        finally:
            progress.close()
        if getattr(trace, "limit", None) is not None:  # past the full trace's limit: a summary trace
            if stage not in (Stage.all, Stage.softmax, Stage.output):
                raise InputError(f"--stage {stage.value} needs a full trace: give at most {trace.limit} tokens "
                                 "(longer texts get a summary: --stage all, softmax or output)")
            return _summary_finish(out, trace, focus=_focus(query, [t.label for t in trace.query_tokens]),
                                   head=head - 1)
    h, focus = _head(head, trace), _focus(query, [t.label for t in trace.query_tokens])
    _check_stage(stage.value, trace, h)

    def terminal(view):
        from ..render.terminal import explain_view, image_view, relative_view

        if image is not None:
            return image_view(trace, stage=stage.value, focus=focus, head=h, view=view, **_image_notes(trace))
        if trace.attention is not None and trace.attention.relative is not None and stage.value == "all":
            return relative_view(trace, focus=focus, head=h, view=view)
        return explain_view(trace, stage=stage.value, focus=focus, head=h, view=view)

    def figure(fig, style):
        if image is not None:  # the focus query's row laid over the image, beside the softmax
            return fig.cross_figure(trace, head=h, focus=focus, **style)
        if stage is Stage.rope:
            return fig.rope_figure(trace, head=h, focus=focus, **style)
        if stage is Stage.gqa:
            return fig.gqa_figure(trace, focus=focus, **style)
        return fig.pipeline_figure(trace, head=h, **style)

    _finish(out, name="image" if image is not None else "pipeline", doc=lambda: _json("trace_to_json", trace),
            terminal=terminal, trace=trace, head=h, figure=figure)
