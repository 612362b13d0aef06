"""The `attnviz` command: parse options, call the core, hand the trace to a renderer, print.

Exit codes: 0 success, 1 error in the input or environment (one `Error: …` line on stderr),
2 usage error (a bad option value).
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from . import __version__
from .errors import AttnvizError, InputError

SEED_SENTENCE = "고양이는 침대에서 잔다"
EXIT_CODES = "Exit codes: 0 success, 1 bad input or environment, 2 bad usage."


class _Group(TyperGroup):
    """Catches AttnvizError once, for every command: one line on stderr, exit code 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except AttnvizError as exc:
            message = " ".join(str(exc).split())  # one line, whatever the message held
            typer.echo(f"Error: {message}", err=True)
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=_Group,
    help=f"See what self-attention does to a sentence, one stage at a time.\n\n{EXIT_CODES}",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
weights_app = typer.Typer(cls=_Group, help="Make and inspect weight files (safetensors or .npz).",
                          no_args_is_help=True)
app.add_typer(weights_app, name="weights")


class Stage(str, Enum):
    input = "input"
    qkv = "qkv"
    scores = "scores"
    scaled = "scaled"
    softmax = "softmax"
    output = "output"
    all = "all"


class Lang(str, Enum):
    en = "en"
    ko = "ko"


class Theme(str, Enum):
    light = "light"
    dark = "dark"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"attnviz {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool | None, typer.Option("--version", callback=_version, is_eager=True,
                                                    help="Print the version and exit.")] = None,
) -> None:
    """See what self-attention does to a sentence, one stage at a time."""


# --- shared options ----------------------------------------------------------------------------

Seed = Annotated[int, typer.Option(min=0, max=2**32 - 1, help="Seed for the embeddings and weights.")]
DModel = Annotated[int, typer.Option("--d-model", min=1, max=4096, help="Width of a token vector.")]
DK = Annotated[int, typer.Option("--d-k", min=1, max=4096, help="Width of a query/key (and value) vector.")]
WeightsFile = Annotated[Path | None, typer.Option(
    "--weights", help="Load W_Q, W_K, W_V (, W_O, embedding) from a .safetensors or .npz file.")]
TokenizerOpt = Annotated[str, typer.Option(
    help="default (shipped), words, chars, or a path to a Hugging Face tokenizer.json.")]


def _focus(query: str | None, labels: list[str]) -> int:
    """A 1-based index or a token label → a 0-based query row."""
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


def _console(width: int | None = None):
    from rich.console import Console

    return Console(width=width, highlight=False, soft_wrap=False)


@app.command()
def explain(
    text: Annotated[str | None, typer.Argument(
        help=f"The sentence [default: {SEED_SENTENCE}]", show_default=False)] = None,
    query: Annotated[str | None, typer.Option(
        "--query", "-q", help="Focus query: a token or its 1-based index (default: the first token).")] = None,
    stage: Annotated[Stage, typer.Option(help="Show one stage, or all of them.")] = Stage.all,
    head: Annotated[int, typer.Option(min=1, help="Which head to show (1-based) when the weights have several.")] = 1,
    lang: Annotated[Lang | None, typer.Option(
        help="Caption language (default: ko when LANG/LC_ALL starts with ko, else en).")] = None,
    precision: Annotated[int, typer.Option(min=0, max=8, help="Decimals shown in tables.")] = 2,
    full: Annotated[bool, typer.Option("--full", help="Show every row and column, however wide.")] = False,
    png: Annotated[Path | None, typer.Option(
        "--png", "--figure", help="Save the pipeline figure (format from the extension: png, svg, pdf).")] = None,
    out_dir: Annotated[Path | None, typer.Option(
        "--out-dir", help="Save one figure per stage (01-embeddings.png …) and the pipeline figure here.")] = None,
    theme: Annotated[Theme, typer.Option(help="Figure colours.")] = Theme.light,
    dpi: Annotated[int, typer.Option(min=50, max=600, help="Figure resolution.")] = 150,
    json_out: Annotated[str | None, typer.Option(
        "--json", help="Write the trace as JSON to FILE (- for stdout, and nothing else is printed).",
        metavar="FILE")] = None,
    seed: Seed = 0,
    d_model: DModel = 8,
    d_k: DK = 4,
    weights: WeightsFile = None,
    tokenizer: TokenizerOpt = "default",
) -> None:
    """Walk a sentence through self-attention, stage by stage.

    tokens → X = E + P → Q, K, V → Q·Kᵀ → ÷√d_k → softmax → weighted sum → W_O → the next layer.
    Texts of up to 1,024 tokens.

    Example: attnviz explain "고양이는 침대에서 잔다" --query 잔다 --png pipeline.png
    """
    from .pipeline import self_attention
    from .render.text import default_lang

    trace = self_attention(SEED_SENTENCE if text is None else text, seed=seed, d_model=d_model, d_k=d_k,
                           weights=weights, tokenizer=tokenizer)
    if head > trace.n_heads:
        raise InputError(f"--head {head} is out of range: these weights have {trace.n_heads} head(s)")
    focus = _focus(query, [t.label for t in trace.query_tokens])
    language = (lang.value if lang else default_lang())
    _write_outputs(trace, png=png, out_dir=out_dir, json_out=json_out, theme=theme.value, dpi=dpi,
                   lang=language, head=head - 1, precision=precision)
    if json_out == "-":
        return
    from .render.terminal import View, explain_view

    console = _console()
    width = console.width
    view = View(lang=language, precision=precision, width=width, full=full)
    console.print(explain_view(trace, stage=stage.value, focus=focus, head=head - 1, view=view),
                  width=None if not full else max(width, 400), crop=not full)
    for path in [p for p in (png, out_dir) if p is not None]:
        console.print(f"saved {path}", style="dim")


def _write_outputs(trace, *, png, out_dir, json_out, theme, dpi, lang, head, precision) -> None:
    """Figures and JSON, each written atomically; figures import matplotlib only here."""
    if json_out is not None:
        from .export import trace_to_json

        doc = trace_to_json(trace)
        if json_out == "-":
            sys.stdout.write(doc)
        else:
            from .files import atomic_write

            atomic_write(Path(json_out), lambda tmp: tmp.write_text(doc, encoding="utf-8"))
    if png is None and out_dir is None:
        return
    from .render import figure

    style = dict(dpi=dpi, theme=theme, lang=lang, head=head, precision=precision)
    if png is not None:
        figure.save_figure(trace, png, **style)
    if out_dir is not None:
        figure.save_stage_figures(trace, out_dir, **style)


@weights_app.command("init")
def weights_init(
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write (.safetensors or .npz).")],
    seed: Seed = 0,
    d_model: DModel = 8,
    d_k: DK = 4,
    heads: Annotated[int, typer.Option(min=1, max=64, help="Number of heads.")] = 1,
) -> None:
    """Write seeded W_Q, W_K, W_V (d_model × heads·d_k) and W_O (heads·d_k × d_model) to a file.

    Example: attnviz weights init -o w.safetensors --d-model 16 --d-k 4 --heads 4
    """
    import numpy as np

    from .weights import init_weights, save_weights

    w = init_weights(np.random.default_rng(seed), d_model, d_k, heads, seed=seed)
    save_weights(w, output)
    typer.echo(f"wrote {output}: d_model={w.d_model}, d_k={w.d_k}, heads={w.n_heads}")


@weights_app.command("show")
def weights_show(
    file: Annotated[Path, typer.Argument(help="A .safetensors or .npz weight file.")],
) -> None:
    """List the tensors of a weight file with their shapes and dtypes (after validating it).

    Example: attnviz weights show w.safetensors
    """
    from rich.table import Table

    from .weights import describe, load_weights

    rows = describe(file)
    w = load_weights(file)
    table = Table(title=f"{file}  (d_model={w.d_model}, d_k={w.d_k}, d_v={w.d_v}, heads={w.n_heads})",
                  title_justify="left")
    for col in ("tensor", "shape", "dtype"):
        table.add_column(col)
    for name, shape, dtype in rows:
        table.add_row(name, " × ".join(str(s) for s in shape), dtype)
    _console().print(table)


def main() -> None:
    """Entry point of the `attnviz` console script."""
    app()
