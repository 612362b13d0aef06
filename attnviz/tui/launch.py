"""Start the explorer: its first Explorer (the first screen's trace computed, so bad input fails before the
terminal is taken over), the Textual app class (or one line saying how to install Textual), and the run.

Imports nothing heavy at module level; `attnviz tui` (attnviz/cli/tui.py) calls these in that order.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import InputError
from .state import ALL_STAGES, Explorer, model_source, seeded_source

INSTALL = 'pip install "attnviz[tui]"'

__all__ = ["ALL_STAGES", "INSTALL", "explorer", "require_app", "run"]


def require_app():
    """The explorer's App class, importing Textual; an InputError saying how to install it when it is missing."""
    try:
        from .app import AttnvizApp
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] != "textual":
            raise
        raise InputError(f"attnviz tui needs Textual, which is not installed: {INSTALL}") from None
    return AttnvizApp


def explorer(text: str, *, stage: str = "input", causal: bool = False, n_heads: int = 1, lang: str | None = None,
             precision: int = 2, theme: str = "dark", seed: int = 0, d_model: int = 8, d_k: int | None = None,
             weights: str | Path | None = None, tokenizer: str = "default", model: str | None = None,
             layer: int = 0, no_special: bool = False) -> Explorer:
    """The Explorer of the first screen, its trace computed (an AttnvizError for bad input).

    Seeded: d_k defaults to 4 with one head, d_model / heads with several. A model: causal=False keeps the
    model's own mask (GPT-2 causal), True forces the causal one."""
    from ..render.text import default_lang

    if model is not None:
        source = model_source(model, text, causal=True if causal else None, no_special=no_special)
        if layer >= source.n_layers:
            raise InputError(f"--layer {layer} does not exist: {source.model} has layers 0–{source.n_layers - 1}")
    else:
        if weights is None and d_k is None and d_model % n_heads:
            raise InputError(f"--d-model {d_model} does not split into {n_heads} heads: pick a d_model divisible "
                             f"by --heads, or give --d-k")
        width = d_k if d_k is not None else (4 if n_heads == 1 else max(d_model // n_heads, 1))
        source = seeded_source(text, seed=seed, d_model=d_model, d_k=width, n_heads=n_heads, weights=weights,
                               tokenizer=tokenizer, causal=causal)
    ex = Explorer(source, stage=stage, layer=layer, lang=lang or default_lang(), theme=theme, precision=precision)
    if stage not in ex.stages:
        raise InputError(f"--stage {stage}: this layer has no such stage; its stages are {', '.join(ex.stages)}")
    return ex


def run(app_class, explorer: Explorer, *, out_dir: str | Path = ".", dpi: int = 150) -> None:
    """Run the explorer in this terminal until q (an InputError when there is no terminal to run in)."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise InputError("attnviz tui needs an interactive terminal: run it in one (attnviz explain prints the "
                         "same panels to a file or a pipe)")
    import gc

    gc.enable()  # the CLI turns cycle collection off for its short runs; an interactive app lives long
    app_class(explorer, out_dir=out_dir, dpi=dpi).run()
