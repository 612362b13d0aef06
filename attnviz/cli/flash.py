"""`attnviz flash`: flash-style tiled attention with an online softmax."""

from typing import Annotated

import typer

from ..output import Output, _finish, _json
from . import app
from .common import _focus, _Progress
from .options import (
    DK,
    SEED_SENTENCE,
    Causal,
    DModel,
    Query,
    Seed,
    Text,
    TokenizerOpt,
    WeightsFile,
    output_options,
    text_input,
)


@app.command()
@output_options(figures=False)
@text_input()
def flash(
    text: Text = None,
    block_size: Annotated[int, typer.Option("--block", min=1, max=4096, help="Keys per tile.")] = 2,
    causal: Causal = False,
    query: Query = None,
    *,
    out: Output,
    seed: Seed = 0,
    d_model: DModel = 8,
    d_k: DK = 4,
    weights: WeightsFile = None,
    tokenizer: TokenizerOpt = "default",
) -> None:
    """Flash-style tiled attention: keys in blocks, an online softmax, never the T×S matrix.

    The keys in blocks, an online softmax (running max m, running sum ℓ, rescaling) and the same output as
    standard attention without ever holding the T×S matrix. Texts of any length: past 4,096 tokens the standard
    way is never built either — every query goes through the tiled kernel in float32 (tiles of 512 × 1,024) and
    64 queries' rows are recomputed exactly for the check (no peak-memory comparison). Long texts: TEXT as -
    reads standard input, --file reads a file.

    \b
    Example: attnviz flash "고양이는 침대에서 잔다" --block 2 --query 잔다
    Long: attnviz flash - --tokenizer chars --block 1024 < essay.txt
    """
    from ..pipeline import make_weights
    from ..summary import needs_summary
    from ..tokens import tokenize

    sentence = SEED_SENTENCE if text is None else text
    tokens = tokenize(sentence, tokenizer)
    w = make_weights(seed, d_model, d_k, 1, weights)
    focus = _focus(query, [t.label for t in tokens])
    if needs_summary(len(tokens)):
        from ..flash import long_flash_walk

        progress = _Progress("tiled attention, then the check", out)
        try:
            walk = long_flash_walk(tokens, w, seed=seed, causal=causal, text=sentence, block=block_size, focus=focus,
                                   progress=progress)
        finally:
            progress.close()
    else:
        from ..flash import flash_walk
        from ..trace import self_attention_trace

        trace = self_attention_trace(tokens, w, seed=seed, causal=causal, text=sentence)
        walk = flash_walk(trace, block=block_size, focus=focus)

    def terminal(view):
        from ..render.terminal import flash_view

        return flash_view(walk, view=view)

    _finish(out, name="flash", doc=lambda: _json("flash_to_json", walk), terminal=terminal, figure=None)
