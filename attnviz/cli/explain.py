"""`attnviz explain`: one sentence through self-attention, stage by stage."""

from typing import Annotated

import typer

from ..output import Output, _finish, _json
from . import app
from .common import _check_stage, _fetch, _focus, _head, _self_trace
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
    Seed,
    Stage,
    Text,
    TokenizerOpt,
    WeightsFile,
    output_options,
)


@app.command()
@output_options()
def explain(
    text: Text = None,
    query: Query = None,
    stage: Annotated[Stage, typer.Option(help="Show one stage, or all of them. rope, gqa, softcap and mask are "
                                              "stages of the traces that have them (a Llama-family --model, or "
                                              "--rope, --kv-heads, --window, --causal).")] = Stage.all,
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
    decoder: Annotated[str | None, typer.Option(
        help="An encoder–decoder --model (T5, BART, Marian): show the decoder's masked self-attention on this "
             "target text (after the start token) instead of the encoder's.")] = None,
) -> None:
    """Walk a sentence through self-attention, stage by stage.

    tokens → X = E + P → Q, K, V → Q·Kᵀ → ÷√d_k → (mask) → softmax → weighted sum → W_O → the next layer.
    Texts of up to 4,096 tokens (h·T² ≤ 4,096² with h heads from --weights: 2,048 for 4).
    Past 12 tokens the tables are cut and a summary line per query is added (--full shows everything).

    Example: attnviz explain "고양이는 침대에서 잔다" --query 잔다 --png pipeline.png
    Real model: attnviz explain "The cat sat on the mat" --model minilm --layer 2 --head 3
    Encoder–decoder: attnviz explain "고양이는 침대에서 잔다" --model DIR --decoder "The cat sleeps." (T5 shows its
    relative position bias where the √d_k scaling would be: T5 does not scale.)
    """
    _fetch(model, download)
    trace = _self_trace(SEED_SENTENCE if text is None else text, model=model, layer=layer, no_special=no_special,
                        causal=causal, decoder=decoder, seed=seed, d_model=d_model, d_k=d_k, weights=weights,
                        tokenizer=tokenizer)
    h, focus = _head(head, trace), _focus(query, [t.label for t in trace.query_tokens])
    _check_stage(stage.value, trace, h)

    def terminal(view):
        from ..render.terminal import explain_view, relative_view

        if trace.attention is not None and trace.attention.relative is not None and stage.value == "all":
            return relative_view(trace, focus=focus, head=h, view=view)
        return explain_view(trace, stage=stage.value, focus=focus, head=h, view=view)

    _finish(out, name="pipeline", doc=lambda: _json("trace_to_json", trace), terminal=terminal, trace=trace, head=h,
            figure=lambda fig, style: fig.pipeline_figure(trace, head=h, **style))
