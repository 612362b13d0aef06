"""`attnviz mask`: how a mask (look-ahead, padding) hides keys."""

from ..output import Output, _finish, _json
from . import app
from .common import _fetch, _focus, _modern, _Progress, _self_trace, _summary_finish
from .options import (
    DK,
    SEED_SENTENCE,
    Causal,
    DModel,
    Download,
    Layer,
    ModelOpt,
    PadTo,
    Query,
    Seed,
    Text,
    TokenizerOpt,
    WeightsFile,
    Window,
    output_options,
    text_input,
)


@app.command()
@output_options()
@text_input()
def mask(
    text: Text = None,
    causal: Causal = False,
    pad_to: PadTo = None,
    query: Query = None,
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
    window: Window = None,
) -> None:
    """Show how a mask hides keys: the ○/× grid, −∞ scores, and softmax rows with exact zeros.

    --causal: the look-ahead mask of decoders (GPT). --pad-to N: [PAD] keys hidden (alone or with
    --causal). With neither, the encoder (no mask) is shown beside the decoder (causal mask).
    Texts (and --pad-to) of up to 4,096 tokens get the full view (√(4,096² / h) with h heads); longer texts
    get the masked layer's summary trace, computed tile by tile (see explain): seeded, any length; --model,
    up to its position limit. --pad-to past the limit is one error line (a summary has no padding).

    --window W: a sliding window (Mistral, Gemma): also hidden where i − j ≥ W.

    \b
    Example: attnviz mask "고양이는 침대에서 잔다" --causal --pad-to 7
    Sliding window: attnviz mask "고양이는 침대에서 잔다" --window 2
    """
    _fetch(model, download)

    common = dict(seed=seed, d_model=d_model, d_k=d_k, weights=weights, tokenizer=tokenizer, pad_to=pad_to,
                  model=model, layer=layer, **_modern(model, window=window))
    sentence = SEED_SENTENCE if text is None else text
    compare_mode = not causal and pad_to is None and window is None
    progress = _Progress("attention, tile by tile", out)
    try:
        trace = _self_trace(sentence, causal=causal or compare_mode, progress=progress, **common)
    finally:
        progress.close()
    if getattr(trace, "limit", None) is not None:  # past the full trace's limit: the masked summary alone
        return _summary_finish(out, trace, focus=_focus(query, [t.label for t in trace.query_tokens]), head=0)
    plain = _self_trace(sentence, causal=False, **common) if compare_mode else None
    if plain is not None and plain.heads[0].mask is not None:  # a decoder checkpoint masks on its own: no
        plain = None  # unmasked trace to set beside it
    focus = _focus(query, [t.label for t in trace.query_tokens])

    def terminal(view):
        from ..render.terminal import mask_view

        return mask_view(trace, focus=focus, view=view, compare=plain)

    _finish(out, name="mask", doc=lambda: _json("trace_to_json", trace), terminal=terminal, trace=trace,
            figure=lambda fig, style: fig.mask_figure(trace, compare=plain, **style))
