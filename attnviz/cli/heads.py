"""`attnviz heads`: multi-head attention, seeded or a checkpoint's layer (or every layer)."""

from typing import Annotated

import typer

from ..errors import InputError
from ..output import Output, _finish, _json
from . import app
from .common import _fetch, _focus, _head, _modern, _Progress, _summary_finish
from .options import (
    SEED_SENTENCE,
    Causal,
    DModel,
    Download,
    KVHeads,
    ModelOpt,
    NHeads,
    NoSpecial,
    Query,
    Rope,
    RopeTheta,
    Seed,
    Split,
    Text,
    TokenizerOpt,
    WeightsFile,
    output_options,
    text_input,
)


@app.command()
@output_options()
@text_input()
def heads(
    text: Text = None,
    n_heads: NHeads = 2,
    head: Annotated[int | None, typer.Option(
        min=1, help="Open one head in the full explain detail.")] = None,
    split: Annotated[Split | None, typer.Option(
        help="Compare the two ways of building per-head Q/K/V: merged (one matrix, reshaped) "
             "and separate (one small matrix per head).")] = None,
    causal: Causal = False,
    query: Query = None,
    *,
    out: Output,
    seed: Seed = 0,
    d_model: DModel = 8,
    d_k: Annotated[int | None, typer.Option(
        "--d-k", min=1, max=4096, help="Width of one head's query/key vectors \\[default: d_model / heads].",
        show_default=False)] = None,
    weights: WeightsFile = None,
    tokenizer: TokenizerOpt = "default",
    model: ModelOpt = None,
    download: Download = False,
    layer: Annotated[str, typer.Option(help="Layer of --model, counting from 0, or all (every layer's heads: a "
                                            "text of at most √(4096² / (layers × heads)) tokens, 341 for GPT-2).")
                     ] = "0",
    no_special: NoSpecial = False,
    kv_heads: KVHeads = None,
    rope: Rope = False,
    rope_theta: RopeTheta = 10000.0,
    decoder: Annotated[str | None, typer.Option(
        help="An encoder–decoder --model (T5, BART, Marian): the decoder's masked self-attention heads on this "
             "target (TEXT is the source).")] = None,
    cross: Annotated[str | None, typer.Option(
        help="An encoder–decoder --model: the decoder's cross-attention heads, this target's tokens (rows) over "
             "TEXT's, the source (columns).")] = None,
) -> None:
    """Multi-head attention: each head's softmax side by side, then concat and W_O.

    Texts of up to √(4,096² / heads) tokens get the full view: 2,896 for 2 heads, 2,048 for 4, 512 for 64;
    longer texts get a summary trace computed tile by tile (see explain; --head picks the head shown):
    seeded, any length; one --layer of a --model, up to its position limit. Not summarized (one error line):
    --layer all, --split separate, --decoder, --cross, --no-special.

    --kv-heads G: grouped-query attention (Llama, Mistral, Qwen): G K/V heads, each shared by heads / G query
    heads; each group keeps the K and V projection of its first head.

    \b
    Example: attnviz heads "고양이는 침대에서 잔다" --heads 4 --png heads.png
    GQA: attnviz heads "고양이는 침대에서 잔다" --heads 4 --kv-heads 2
    Real model, every layer: attnviz heads "The cat sat on the mat" --model minilm --layer all --png grid.png

    An encoder–decoder --model (T5, BART, Marian) shows its encoder's heads; --decoder TARGET the decoder's
    masked self-attention, --cross TARGET the decoder's cross-attention over TEXT (the source).

    \b
    Cross-attention, every layer:
    attnviz heads "고양이는 침대에서 잔다" --model DIR --cross "The cat sleeps." --layer all --png cross.png
    """
    _fetch(model, download)
    from ..pipeline import self_attention, self_attention_or_summary

    parts = _modern(model, rope, rope_theta, kv_heads=kv_heads)

    sentence = SEED_SENTENCE if text is None else text
    if model is not None:
        return _model_heads(sentence, model, layer, head=head, causal=causal, query=query, no_special=no_special,
                            out=out, decoder=decoder, cross=cross)
    if decoder is not None or cross is not None:
        raise InputError("--decoder and --cross show an encoder–decoder checkpoint's decoder: give --model too")
    if weights is None and d_k is None and d_model % n_heads:
        raise InputError(f"--d-model {d_model} does not split into {n_heads} heads: pick a d_model divisible "
                         f"by --heads, or give --d-k")
    width = d_k if d_k is not None else max(d_model // n_heads, 1)
    common = dict(seed=seed, d_model=d_model, d_k=width, n_heads=n_heads, weights=weights,
                  tokenizer=tokenizer, causal=causal, **parts)
    progress = _Progress("attention, tile by tile", out)
    try:
        trace = self_attention_or_summary(sentence, split=(split or Split.merged).value, progress=progress, **common)
    finally:
        progress.close()
    if getattr(trace, "limit", None) is not None:  # past the full trace's limit: a summary trace
        return _summary_finish(out, trace, focus=_focus(query, [t.label for t in trace.query_tokens]),
                               head=0 if head is None else head - 1)
    focus = _focus(query, [t.label for t in trace.query_tokens])
    h = None if head is None else _head(head, trace)
    other = None
    if split is not None:
        flip = Split.separate if split is Split.merged else Split.merged
        other = self_attention(sentence, split=flip.value, **common)

    def terminal(view):
        from ..render import terminal as term

        if h is not None:
            return term.explain_view(trace, focus=focus, head=h, view=view)
        if other is not None:
            merged, separate = (trace, other) if split is Split.merged else (other, trace)
            return term.split_view(merged, separate, view=view)
        return term.heads_view(trace, focus=focus, view=view)

    def figure(fig, style):
        if h is not None:
            return fig.pipeline_figure(trace, head=h, **style)
        return fig.heads_figure(trace, focus=focus, **style)

    _finish(out, name="heads", doc=lambda: _json("trace_to_json", trace), terminal=terminal, trace=trace,
            head=h or 0, figure=figure)


def _model_heads(text: str, model: str, layer: str, *, head, causal, query, no_special, out: Output,
                 decoder: str | None = None, cross: str | None = None) -> None:
    """`heads --model`: one layer's heads, or (--layer all) a summary of every layer and head; an
    encoder–decoder's encoder, or with --decoder / --cross its decoder's self- or cross-attention."""
    from ..models import load_model, model_trace_or_summary, model_traces
    from ..summary import SummaryTrace
    from ..trace import without_special

    if layer != "all" and not (layer.isascii() and layer.isdigit()):  # "²".isdigit(), but int("²") fails
        raise typer.BadParameter(f"{layer!r} is not a layer: give a number from 0, or all", param_hint="--layer")
    number = None if layer == "all" else int(layer)
    m = load_model(model)
    if getattr(m.arch, "encoder_decoder", False):
        if causal:
            raise InputError(f"--causal changes a single stack's mask; {m.name} is an encoder–decoder whose masks "
                             "are its own (the decoder's is causal): use --decoder TARGET to see it")
        from ..pipeline import seq2seq_attention

        traces = seq2seq_attention(m, text, number, decoder=decoder, cross=cross)
    elif decoder is not None or cross is not None:
        raise InputError(f"--decoder and --cross need an encoder–decoder --model (t5, bart, marian); {m.name} is "
                         f"a {m.architecture}")
    elif number is None:
        traces = model_traces(m, text, causal=True if causal else None)
    else:
        progress = _Progress("attention, tile by tile", out)
        try:
            trace = model_trace_or_summary(m, text, number, causal=True if causal else None, progress=progress)
        finally:
            progress.close()
        if isinstance(trace, SummaryTrace):  # past the full trace's limit: a summary of the layer
            if no_special:
                raise InputError(f"--no-special needs a full trace: give at most {trace.limit} tokens")
            return _summary_finish(out, trace, focus=_focus(query, [t.label for t in trace.query_tokens]),
                                   head=0 if head is None else head - 1)
        traces = [trace]
    if no_special:
        traces = [without_special(t) for t in traces]
    focus = _focus(query, [t.label for t in traces[0].query_tokens])
    h = None if head is None else _head(head, traces[0])

    def terminal(view):
        from ..render import terminal as term

        if h is not None and len(traces) == 1:
            return term.explain_view(traces[0], focus=focus, head=h, view=view)
        if len(traces) == 1:
            return term.heads_view(traces[0], focus=focus, view=view)
        return term.layers_view(traces, focus=focus, view=view)

    def figure(fig, style):
        if len(traces) == 1:
            return fig.heads_figure(traces[0], focus=focus, **style)
        return fig.layers_figure(traces, focus=focus, **style)

    def doc():
        return _json("trace_to_json", traces[0]) if len(traces) == 1 else _json("traces_to_json", traces)

    _finish(out, name="heads", doc=doc, terminal=terminal, figure=figure,
            trace=traces[0] if len(traces) == 1 else None, head=h or 0)
