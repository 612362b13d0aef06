"""The `attnviz tui` command: parse the options, compute the first screen's trace (bad input fails here, as one
`Error: …` line, before the terminal is taken over), check for a terminal, then run the explorer.

Textual is imported only inside `tui()`, so no other command pays for it (nor needs it installed).
Registered in the CLI by `app.command("tui")(tui)`.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import InputError

# Only typer and the standard library at import time: the CLI imports this module to register the command,
# so everything else (numpy, the core, Textual) is imported inside the functions, when tui runs.
SEED_SENTENCE = "고양이는 침대에서 잔다"  # attnviz.pipeline.SEED_SENTENCE, without importing numpy for it
INSTALL = 'pip install "attnviz[tui]"'


class TuiStage(str, Enum):
    input = "input"
    qkv = "qkv"
    scores = "scores"
    scaled = "scaled"
    mask = "mask"
    softmax = "softmax"
    weighted = "weighted"
    output = "output"


class TuiLang(str, Enum):
    en = "en"
    ko = "ko"


class TuiTheme(str, Enum):
    light = "light"
    dark = "dark"


def tui(
    text: Annotated[str | None, typer.Argument(
        help=f"The sentence \\[default: {SEED_SENTENCE}]", show_default=False)] = None,
    query: Annotated[str | None, typer.Option(
        "--query", "-q", help="First focus query: a token or its 1-based index (default: the first token).")] = None,
    stage: Annotated[TuiStage, typer.Option(help="The stage of the first screen.")] = TuiStage.input,
    causal: Annotated[bool, typer.Option("--causal", help="Start with the look-ahead mask on (m toggles it).")
                      ] = False,
    head: Annotated[int, typer.Option(min=1, help="First head shown (1-based).")] = 1,
    n_heads: Annotated[int, typer.Option("--heads", min=1, max=64, help="Heads of the seeded layer.")] = 1,
    lang: Annotated[TuiLang | None, typer.Option(
        help="Language (default: ko when LANG/LC_ALL starts with ko, else en; t switches it).")] = None,
    precision: Annotated[int, typer.Option(min=0, max=6, help="Decimals shown in tables.")] = 2,
    theme: Annotated[TuiTheme, typer.Option(help="Colours of the explorer and of exported figures (d switches)."
                                            )] = TuiTheme.dark,
    out_dir: Annotated[Path, typer.Option("--out-dir", help="Where e writes figures.")] = Path("."),
    dpi: Annotated[int, typer.Option(min=50, max=600, help="Resolution of exported figures.")] = 150,
    seed: Annotated[int, typer.Option(min=0, max=2**32 - 1, help="Seed for the embeddings and weights.")] = 0,
    d_model: Annotated[int, typer.Option("--d-model", min=1, max=4096, help="Width of a token vector.")] = 8,
    d_k: Annotated[int | None, typer.Option(
        "--d-k", min=1, max=4096, help="Width of a query/key (and value) vector \\[default: 4, or d_model / heads].",
        show_default=False)] = None,
    weights: Annotated[Path | None, typer.Option(
        "--weights", help="Load W_Q, W_K, W_V (, W_O, embedding) from a .safetensors or .npz file.")] = None,
    tokenizer: Annotated[str, typer.Option(
        help="default (shipped), words, chars, or a path to a Hugging Face tokenizer.json.")] = "default",
    model: Annotated[str | None, typer.Option(
        "--model", help="A real checkpoint (a folder, a Hugging Face repo id in the local cache, or minilm): "
                        "l and L step through its layers, h and H through its heads.")] = None,
    download: Annotated[bool, typer.Option(
        "--download", help="Let --model fetch a Hugging Face repo missing from the local cache.")] = False,
    layer: Annotated[int, typer.Option(min=0, max=1023, help="First layer of --model shown, counting from 0.")] = 0,
    no_special: Annotated[bool, typer.Option(
        "--no-special", help="Hide [CLS], [SEP], <BOS> rows and columns (the numbers keep them).")] = False,
) -> None:
    """Explore attention interactively in the terminal: move the focus query, step through the stages.

    ←/→ or a click on a token: the focus query.   ↑/↓ or a click: the stage (input → Q/K/V → Q·Kᵀ →
    ÷√d_k → mask → softmax → weighted sum → output), its explain panel and its heatmap.
    h/H: head.   l/L: layer (--model).   m: causal mask on/off.   t: English/한국어.   d: light/dark.
    e: save the stage as a figure in --out-dir (as --png draws it).   ?: the keys.   q: quit.

    Example: attnviz tui "고양이는 침대에서 잔다" --heads 2
    Real model: attnviz tui "The cat sat on the mat" --model minilm --layer 2
    """
    try:
        from .app import AttnvizApp
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] != "textual":
            raise
        raise InputError(f"attnviz tui needs Textual, which is not installed: {INSTALL}") from None
    explorer = start(SEED_SENTENCE if text is None else text, query=query, stage=stage.value, causal=causal,
                     head=head, n_heads=n_heads, lang=lang.value if lang else None, precision=precision,
                     theme=theme.value, seed=seed, d_model=d_model, d_k=d_k, weights=weights, tokenizer=tokenizer,
                     model=model, download=download, layer=layer, no_special=no_special)
    if not out_dir.is_dir():
        raise InputError(f"--out-dir {out_dir} is not a folder: create it first, or give another")
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise InputError("attnviz tui needs an interactive terminal: run it in one (attnviz explain prints the "
                         "same panels to a file or a pipe)")
    import gc

    gc.enable()  # the CLI turns cycle collection off for its short runs; an interactive app lives long
    AttnvizApp(explorer, out_dir=out_dir, dpi=dpi).run()


def start(text: str, *, query: str | None = None, stage: str = "input", causal: bool = False, head: int = 1,
          n_heads: int = 1, lang: str | None = None, precision: int = 2, theme: str = "dark", seed: int = 0,
          d_model: int = 8, d_k: int | None = None, weights: Path | None = None, tokenizer: str = "default",
          model: str | None = None, download: bool = False, layer: int = 0, no_special: bool = False):
    """The Explorer of the first screen, its trace computed (an AttnvizError for bad input)."""
    from ..render.text import default_lang
    from .state import STAGES, Explorer, model_source, seeded_source

    if model is not None:
        if download:
            from ..models import fetch

            fetch(model)
        source = model_source(model, text, causal=True if causal else None, no_special=no_special)
        layer_count = source.n_layers
        if layer >= layer_count:
            raise InputError(f"--layer {layer} does not exist: {source.model} has layers 0–{layer_count - 1}")
    else:
        if weights is None and d_k is None and d_model % n_heads:
            raise InputError(f"--d-model {d_model} does not split into {n_heads} heads: pick a d_model divisible "
                             f"by --heads, or give --d-k")
        width = d_k if d_k is not None else (4 if n_heads == 1 else max(d_model // n_heads, 1))
        source = seeded_source(text, seed=seed, d_model=d_model, d_k=width, n_heads=n_heads, weights=weights,
                               tokenizer=tokenizer, causal=causal)
    explorer = Explorer(source, stage=STAGES.index(stage), layer=layer, lang=lang or default_lang(),
                        theme=theme, precision=precision)
    trace = explorer.trace
    if head > trace.n_heads:
        raise InputError(f"--head {head} is out of range: there are {trace.n_heads} head(s)")
    explorer.head = head - 1
    explorer.focus = focus_index(query, [t.label for t in trace.query_tokens])
    return explorer


def focus_index(query: str | None, labels: list[str]) -> int:
    """--query: a 1-based index or a token label → a 0-based query row."""
    if query is None:
        return 0
    if query.lstrip("-").isdigit():
        index = int(query)
        if not 1 <= index <= len(labels):
            raise InputError(f"--query {index} is out of range: pick 1 to {len(labels)} (or a token)")
        return index - 1
    if query in labels:
        return labels.index(query)
    shown = ", ".join(labels[:12]) + (", …" if len(labels) > 12 else "")
    raise InputError(f"--query {query!r} is not a token of this text; pick one of: {shown} (or 1 to {len(labels)})")
