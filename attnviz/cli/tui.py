"""`attnviz tui`: the interactive explorer (attnviz/tui). Bad input fails here, as one `Error: …` line, before the
terminal is taken over; Textual is imported only when this command runs."""

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import InputError
from . import app
from .common import _fetch, _focus, _head
from .options import (
    SEED_SENTENCE,
    Causal,
    DModel,
    Download,
    Dpi,
    Head,
    Lang,
    Layer,
    ModelOpt,
    NHeads,
    NoSpecial,
    Precision,
    Query,
    Seed,
    Text,
    Theme,
    TokenizerOpt,
    WeightsFile,
    text_input,
)


class TuiStage(str, Enum):
    """The explorer's stages (attnviz.tui.stages.ALL_STAGES; rope, gqa and softcap only some models have)."""

    input = "input"
    qkv = "qkv"
    rope = "rope"
    gqa = "gqa"
    scores = "scores"
    scaled = "scaled"
    softcap = "softcap"
    mask = "mask"
    softmax = "softmax"
    weighted = "weighted"
    output = "output"


@app.command()
@text_input()
def tui(
    text: Text = None,
    query: Query = None,
    stage: Annotated[TuiStage, typer.Option(help="The stage of the first screen.")] = TuiStage.input,
    causal: Causal = False,
    head: Head = 1,
    n_heads: NHeads = 1,
    lang: Annotated[Lang | None, typer.Option(
        help="Language (default: ko when LANG/LC_ALL starts with ko, else en; t switches it).")] = None,
    precision: Precision = 2,
    theme: Annotated[Theme, typer.Option(help="Colours of the explorer and of the figures e saves (d switches).")
                     ] = Theme.dark,
    out_dir: Annotated[Path, typer.Option("--out-dir", help="Where e saves figures.")] = Path("."),
    dpi: Dpi = 150,
    seed: Seed = 0,
    d_model: DModel = 8,
    d_k: Annotated[int | None, typer.Option(
        "--d-k", min=1, max=4096, help="Width of a query/key (and value) vector \\[default: 4, or d_model / heads "
                                       "with --heads].", show_default=False)] = None,
    weights: WeightsFile = None,
    tokenizer: TokenizerOpt = "default",
    model: ModelOpt = None,
    download: Download = False,
    layer: Layer = 0,
    no_special: NoSpecial = False,
) -> None:
    """Explore attention interactively in the terminal: move the focus query, step through the stages.

    \b
    ←/→ or a click on a token: the focus query.
    ↑/↓ or a click: the stage (input → Q/K/V → Q·Kᵀ → ÷√d_k → mask → softmax →
    weighted sum → output), with its explain panel and its heatmap.
    h/H: head.  l/L: layer (--model).  m: causal mask.  t: English/한국어.
    d: dark/light.  e: save the stage as a figure in --out-dir (as --png).
    ?: the keys.  q: quit.

    \b
    Example: attnviz tui "고양이는 침대에서 잔다" --heads 2
    Real model: attnviz tui "The cat sat on the mat" --model minilm --layer 2
    """
    from ..tui.launch import explorer, require_app, run

    app_class = require_app()  # Textual installed? (one line saying how to install it, if not)
    _fetch(model, download)
    ex = explorer(SEED_SENTENCE if text is None else text, stage=stage.value, causal=causal, n_heads=n_heads,
                  lang=lang.value if lang else None, precision=precision, theme=theme.value, seed=seed,
                  d_model=d_model, d_k=d_k, weights=weights, tokenizer=tokenizer, model=model, layer=layer,
                  no_special=no_special)
    ex.head = _head(head, ex.trace)
    ex.focus = _focus(query, [t.label for t in ex.trace.query_tokens])
    if not out_dir.is_dir():
        raise InputError(f"--out-dir {out_dir} is not a folder: create it first, or give another")
    run(app_class, ex, out_dir=out_dir, dpi=dpi)
