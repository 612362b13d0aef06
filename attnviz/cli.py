"""The `attnviz` command: parse options, call the core, hand the trace to a renderer, print.

Exit codes: 0 success, 1 error in the input or environment (one `Error: …` line on stderr),
2 usage error (a bad option value).
"""

import gc
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, NamedTuple

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


class Split(str, Enum):
    merged = "merged"
    separate = "separate"


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
Query = Annotated[str | None, typer.Option(
    "--query", "-q", help="Focus query: a token or its 1-based index (default: the first token).")]
Head = Annotated[int, typer.Option(min=1, help="Which head to show (1-based) when there are several.")]
LangOpt = Annotated[Lang | None, typer.Option(
    help="Caption language (default: ko when LANG/LC_ALL starts with ko, else en).")]
Precision = Annotated[int, typer.Option(min=0, max=8, help="Decimals shown in tables.")]
Full = Annotated[bool, typer.Option("--full", help="Show every row and column, however wide.")]
Png = Annotated[Path | None, typer.Option(
    "--png", "--figure", help="Save the figure of this view (format from the extension: png, svg, pdf).")]
OutDir = Annotated[Path | None, typer.Option(
    "--out-dir", help="Save this view's figure and one figure per stage (01-embeddings.png …) here.")]
ThemeOpt = Annotated[Theme, typer.Option(help="Figure colours.")]
Dpi = Annotated[int, typer.Option(min=50, max=600, help="Figure resolution.")]
JsonOut = Annotated[str | None, typer.Option(
    "--json", help="Write the result as JSON to FILE (- for stdout, and nothing else is printed).",
    metavar="FILE")]
Causal = Annotated[bool, typer.Option("--causal", help="Apply the look-ahead mask: each token sees itself "
                                                      "and the tokens before it.")]
PadTo = Annotated[int | None, typer.Option("--pad-to", min=1, max=4096,
                                           help="Add [PAD] tokens up to this length and hide them.")]
ModelOpt = Annotated[str | None, typer.Option(
    "--model", help="A real checkpoint: a folder with config.json, model.safetensors and tokenizer.json, a "
                    "Hugging Face repo id (from the local cache, or fetched with --download), or minilm. Replaces the "
                    "seeded weights.")]
Download = Annotated[bool, typer.Option(
    "--download", help="Let --model fetch a Hugging Face repo missing from the local cache: only config.json, "
                       "model.safetensors and tokenizer.json, into that cache. Without it attnviz never uses "
                       "the network.")]
Layer = Annotated[int, typer.Option(min=0, max=1023, help="Layer of --model, counting from 0.")]
NoSpecial = Annotated[bool, typer.Option("--no-special", help="Hide [CLS], [SEP], [PAD], <BOS> rows and columns "
                                                              "from the display (the numbers keep them).")]


class Output(NamedTuple):
    """What the user asked to see and to save (a NamedTuple: a tenth of a frozen dataclass's import cost)."""

    lang: str
    precision: int
    full: bool
    png: Path | None
    out_dir: Path | None
    theme: str
    dpi: int
    json_out: str | None


def _output(lang, precision, full=False, png=None, out_dir=None, theme=Theme.light, dpi=150, json_out=None
            ) -> Output:
    from .render.text import default_lang

    return Output(lang.value if lang else default_lang(), precision, full, png, out_dir, theme.value, dpi,
                  json_out)


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


def _head(head: int, trace) -> int:
    if head > trace.n_heads:
        raise InputError(f"--head {head} is out of range: there are {trace.n_heads} head(s)")
    return head - 1


def _console(width: int | None = None):
    from rich.console import Console

    return Console(width=width, highlight=False, soft_wrap=False)


def _finish(out: Output, *, name: str, doc: Callable[[], str], terminal: Callable, figure: Callable | None,
            trace=None, head: int = 0) -> None:
    """Write JSON and figures (each atomically; matplotlib is imported only when a figure is asked
    for), then print the terminal view unless the JSON went to stdout.

    terminal(view) returns rich renderables; figure(module, style) returns a matplotlib Figure.
    """
    if out.json_out is not None:
        text = doc()
        if out.json_out == "-":
            sys.stdout.write(text)
        else:
            from .files import atomic_write

            atomic_write(Path(out.json_out), lambda tmp: tmp.write_text(text, encoding="utf-8"))
    saved = []
    if out.png is not None or out.out_dir is not None:
        gc.enable()  # a drawn figure is a web of cycles (figure ↔ canvas ↔ renderer): collect them
        from .render import figure as fig_module

        style = dict(theme=out.theme, lang=out.lang, precision=out.precision)
        if out.png is not None:
            saved.append(fig_module.save_view(figure(fig_module, style), out.png, dpi=out.dpi))
        if out.out_dir is not None:
            from .files import ensure_dir

            ensure_dir(out.out_dir)
            if trace is not None:
                saved += fig_module.save_stage_figures(trace, out.out_dir, dpi=out.dpi, head=head, **style)
            if name != "pipeline":
                saved.append(fig_module.save_view(figure(fig_module, style), Path(out.out_dir) / f"{name}.png",
                                                  dpi=out.dpi))
    if out.json_out == "-":
        return
    from .render.terminal import View

    console = _console()
    if out.full:  # every row and column: lines as wide as they need, up to 400 cells (for a pager or a file)
        console.width = max(console.width, 400)
    view = View(lang=out.lang, precision=out.precision, width=console.width, full=out.full)
    console.print(terminal(view), crop=not out.full)
    for path in [out.png, out.out_dir]:
        if path is not None:
            console.print(f"saved {path}", style="dim")


def _json(name: str, *args) -> str:
    """attnviz.export's `name`(*args): the export module (json and friends) is imported only for --json."""
    from . import export

    return getattr(export, name)(*args)


def _fetch(model: str | None, download: bool) -> None:
    """--download: put a Hugging Face repo named by --model into the local cache first (network)."""
    if download and model is not None:
        from .models import fetch

        fetch(model)


def _self_trace(text: str, *, model: str | None, layer: int, causal: bool, pad_to: int | None = None,
                no_special: bool = False, **seeded):
    """Self-attention from a real checkpoint's layer (--model) or from seeded/loaded weights."""
    from .pipeline import model_attention, self_attention
    from .trace import without_special

    if model is not None:
        trace = model_attention(model, text, layer, causal=True if causal else None, pad_to=pad_to)
    else:
        trace = self_attention(text, causal=causal, pad_to=pad_to, **seeded)
    return without_special(trace) if no_special else trace


def _model_heads(text: str, model: str, layer: str, *, head, causal, query, no_special, out: Output) -> None:
    """`heads --model`: one layer's heads, or (--layer all) a summary of every layer and head."""
    from .pipeline import model_attention, model_layers
    from .trace import without_special

    if layer != "all" and not layer.isdigit():
        raise typer.BadParameter(f"{layer!r} is not a layer: give a number from 0, or all", param_hint="--layer")
    causal_opt = True if causal else None
    traces = (model_layers(model, text, causal=causal_opt) if layer == "all"
              else [model_attention(model, text, int(layer), causal=causal_opt)])
    if no_special:
        traces = [without_special(t) for t in traces]
    focus = _focus(query, [t.label for t in traces[0].query_tokens])
    h = None if head is None else _head(head, traces[0])

    def terminal(view):
        from .render import terminal as term

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
        from .export import trace_to_json, traces_to_json

        return trace_to_json(traces[0]) if len(traces) == 1 else traces_to_json(traces)

    _finish(out, name="heads", doc=doc, terminal=terminal, figure=figure,
            trace=traces[0] if len(traces) == 1 else None, head=h or 0)


# --- commands ----------------------------------------------------------------------------------

@app.command()
def explain(
    text: Annotated[str | None, typer.Argument(
        help=f"The sentence \\[default: {SEED_SENTENCE}]", show_default=False)] = None,
    query: Query = None,
    stage: Annotated[Stage, typer.Option(help="Show one stage, or all of them.")] = Stage.all,
    causal: Causal = False,
    head: Head = 1,
    lang: LangOpt = None,
    precision: Precision = 2,
    full: Full = False,
    png: Png = None,
    out_dir: OutDir = None,
    theme: ThemeOpt = Theme.light,
    dpi: Dpi = 150,
    json_out: JsonOut = None,
    seed: Seed = 0,
    d_model: DModel = 8,
    d_k: DK = 4,
    weights: WeightsFile = None,
    tokenizer: TokenizerOpt = "default",
    model: ModelOpt = None,
    download: Download = False,
    layer: Layer = 0,
    no_special: NoSpecial = False,
) -> None:
    """Walk a sentence through self-attention, stage by stage.

    tokens → X = E + P → Q, K, V → Q·Kᵀ → ÷√d_k → (mask) → softmax → weighted sum → W_O → the next layer.
    Texts of up to 4,096 tokens (h·T² ≤ 4,096² with h heads from --weights: 2,048 for 4).
    Past 12 tokens the tables are cut and a summary line per query is added (--full shows everything).

    Example: attnviz explain "고양이는 침대에서 잔다" --query 잔다 --png pipeline.png
    Real model: attnviz explain "The cat sat on the mat" --model minilm --layer 2 --head 3
    """
    _fetch(model, download)
    trace = _self_trace(SEED_SENTENCE if text is None else text, model=model, layer=layer, no_special=no_special,
                        causal=causal, seed=seed, d_model=d_model, d_k=d_k, weights=weights, tokenizer=tokenizer)
    h, focus = _head(head, trace), _focus(query, [t.label for t in trace.query_tokens])
    out = _output(lang, precision, full, png, out_dir, theme, dpi, json_out)

    def terminal(view):
        from .render.terminal import explain_view

        return explain_view(trace, stage=stage.value, focus=focus, head=h, view=view)

    _finish(out, name="pipeline", doc=lambda: _json("trace_to_json", trace), terminal=terminal, trace=trace, head=h,
            figure=lambda fig, style: fig.pipeline_figure(trace, head=h, **style))


@app.command()
def mask(
    text: Annotated[str | None, typer.Argument(
        help=f"The sentence \\[default: {SEED_SENTENCE}]", show_default=False)] = None,
    causal: Causal = False,
    pad_to: PadTo = None,
    query: Query = None,
    lang: LangOpt = None,
    precision: Precision = 2,
    full: Full = False,
    png: Png = None,
    out_dir: OutDir = None,
    theme: ThemeOpt = Theme.light,
    dpi: Dpi = 150,
    json_out: JsonOut = None,
    seed: Seed = 0,
    d_model: DModel = 8,
    d_k: DK = 4,
    weights: WeightsFile = None,
    tokenizer: TokenizerOpt = "default",
    model: ModelOpt = None,
    download: Download = False,
    layer: Layer = 0,
) -> None:
    """Show how a mask hides keys: the ○/× grid, −∞ scores, and softmax rows with exact zeros.

    --causal: the look-ahead mask of decoders (GPT). --pad-to N: [PAD] keys hidden (alone or with
    --causal). With neither, the encoder (no mask) is shown beside the decoder (causal mask).
    Texts (and --pad-to) of up to 4,096 tokens.

    Example: attnviz mask "고양이는 침대에서 잔다" --causal --pad-to 7
    """
    _fetch(model, download)

    common = dict(seed=seed, d_model=d_model, d_k=d_k, weights=weights, tokenizer=tokenizer, pad_to=pad_to,
                  model=model, layer=layer)
    sentence = SEED_SENTENCE if text is None else text
    compare_mode = not causal and pad_to is None
    trace = _self_trace(sentence, causal=causal or compare_mode, **common)
    plain = _self_trace(sentence, causal=False, **common) if compare_mode else None
    focus = _focus(query, [t.label for t in trace.query_tokens])
    out = _output(lang, precision, full, png, out_dir, theme, dpi, json_out)

    def terminal(view):
        from .render.terminal import mask_view

        return mask_view(trace, focus=focus, view=view, compare=plain)

    _finish(out, name="mask", doc=lambda: _json("trace_to_json", trace), terminal=terminal, trace=trace,
            figure=lambda fig, style: fig.mask_figure(trace, compare=plain, **style))


@app.command()
def heads(
    text: Annotated[str | None, typer.Argument(
        help=f"The sentence \\[default: {SEED_SENTENCE}]", show_default=False)] = None,
    n_heads: Annotated[int, typer.Option("--heads", min=1, max=64, help="Number of heads.")] = 2,
    head: Annotated[int | None, typer.Option(
        min=1, help="Open one head in the full explain detail.")] = None,
    split: Annotated[Split | None, typer.Option(
        help="Compare the two ways of building per-head Q/K/V: merged (one matrix, reshaped) "
             "and separate (one small matrix per head).")] = None,
    causal: Causal = False,
    query: Query = None,
    lang: LangOpt = None,
    precision: Precision = 2,
    full: Full = False,
    png: Png = None,
    out_dir: OutDir = None,
    theme: ThemeOpt = Theme.light,
    dpi: Dpi = 150,
    json_out: JsonOut = None,
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
) -> None:
    """Multi-head attention: each head's softmax side by side, then concat and W_O.

    Texts of up to √(4,096² / heads) tokens: 2,896 for 2 heads, 2,048 for 4, 512 for 64.

    Example: attnviz heads "고양이는 침대에서 잔다" --heads 4 --png heads.png
    Real model, every layer: attnviz heads "The cat sat on the mat" --model minilm --layer all --png grid.png
    """
    _fetch(model, download)
    from .pipeline import self_attention

    sentence = SEED_SENTENCE if text is None else text
    if model is not None:
        return _model_heads(sentence, model, layer, head=head, causal=causal, query=query, no_special=no_special,
                            out=_output(lang, precision, full, png, out_dir, theme, dpi, json_out))
    if weights is None and d_k is None and d_model % n_heads:
        raise InputError(f"--d-model {d_model} does not split into {n_heads} heads: pick a d_model divisible "
                         f"by --heads, or give --d-k")
    width = d_k if d_k is not None else max(d_model // n_heads, 1)
    common = dict(seed=seed, d_model=d_model, d_k=width, n_heads=n_heads, weights=weights,
                  tokenizer=tokenizer, causal=causal)
    trace = self_attention(sentence, split=(split or Split.merged).value, **common)
    focus = _focus(query, [t.label for t in trace.query_tokens])
    out = _output(lang, precision, full, png, out_dir, theme, dpi, json_out)
    h = None if head is None else _head(head, trace)
    other = None
    if split is not None:
        flip = Split.separate if split is Split.merged else Split.merged
        other = self_attention(sentence, split=flip.value, **common)

    def terminal(view):
        from .render import terminal as term

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


@app.command()
def cross(
    source: Annotated[str | None, typer.Argument(
        help=f"The encoder side: gives K and V \\[default: {SEED_SENTENCE}]", show_default=False)] = None,
    target: Annotated[str | None, typer.Argument(
        help="The decoder side after <BOS>: gives Q \\[default: <BOS> alone]", show_default=False)] = None,
    image: Annotated[Path | None, typer.Option(
        help="Attend over the patches of this image instead of SOURCE's tokens (PNG or JPEG).")] = None,
    patches: Annotated[str, typer.Option(help="Patch grid for --image, ROWSxCOLS.")] = "4x4",
    query: Query = None,
    head: Head = 1,
    n_heads: Annotated[int, typer.Option("--heads", min=1, max=64, help="Number of heads.")] = 1,
    lang: LangOpt = None,
    precision: Precision = 2,
    full: Full = False,
    png: Png = None,
    out_dir: OutDir = None,
    theme: ThemeOpt = Theme.light,
    dpi: Dpi = 150,
    json_out: JsonOut = None,
    seed: Seed = 0,
    d_model: DModel = 8,
    d_k: DK = 4,
    weights: WeightsFile = None,
    tokenizer: TokenizerOpt = "default",
) -> None:
    """Cross-attention: the decoder's queries (<BOS> …) attend to the encoder's keys and values.

    Rows are decoder (target) tokens, columns source tokens, or image patches with --image.
    Each side up to √(4,096² / heads) tokens (4,096 for one head).

    Example: attnviz cross "고양이는 침대에서 잔다" --image samples/cat_on_bed.png --patches 4x4
    """
    from .patches import parse_grid
    from .pipeline import cross_attention, image_attention

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
    out = _output(lang, precision, full, png, out_dir, theme, dpi, json_out)

    def terminal(view):
        from .render.terminal import cross_view

        return cross_view(trace, focus=focus, head=h, view=view)

    _finish(out, name="cross", doc=lambda: _json("trace_to_json", trace), terminal=terminal, trace=trace, head=h,
            figure=lambda fig, style: fig.cross_figure(trace, head=h, focus=focus, **style))


@app.command()
def scale(
    n_keys: Annotated[int, typer.Option("--keys", min=2, max=4096, help="Keys in each softmax row.")] = 10,
    lang: LangOpt = None,
    precision: Precision = 2,
    png: Png = None,
    out_dir: OutDir = None,
    theme: ThemeOpt = Theme.light,
    dpi: Dpi = 150,
    json_out: JsonOut = None,
    seed: Seed = 0,
) -> None:
    """Why divide by √d_k: the spread of q·k grows like √d_k and saturates softmax; scaling fixes it.

    For d_k = 4, 16, 64, 256, 1024, with seeded unit-variance q and k.

    Example: attnviz scale --keys 10 --png scale.png
    """
    import numpy as np

    from .lessons import scale_lesson

    lesson = scale_lesson(np.random.default_rng(seed), n_keys=n_keys, seed=seed)
    out = _output(lang, precision, False, png, out_dir, theme, dpi, json_out)

    def terminal(view):
        from .render.terminal import scale_view

        return scale_view(lesson, view=view)

    _finish(out, name="scale", doc=lambda: _json("lesson_to_json", lesson), terminal=terminal,
            figure=lambda fig, style: fig.scale_figure(lesson, **style))


@app.command(context_settings={"ignore_unknown_options": True})
def softmax(
    scores: Annotated[list[float] | None, typer.Argument(
        help="A row of scores \\[default: 10.5 2.3 6.1 4.4 9.7, the seed's example]", show_default=False)] = None,
    scale_by: Annotated[float, typer.Option("--scale", min=1e-6, help="Divide the scores by this first (√d_k).")
                        ] = 1.0,
    temperature: Annotated[float, typer.Option(min=1e-6, help="Divide by this too: >1 flattens, <1 sharpens.")
                           ] = 1.0,
    lang: LangOpt = None,
    precision: Precision = 2,
    png: Png = None,
    out_dir: OutDir = None,
    theme: ThemeOpt = Theme.light,
    dpi: Dpi = 150,
    json_out: JsonOut = None,
) -> None:
    """Turn a row of scores into probabilities, showing every step (− max, exp, Σ, ÷).

    Example: attnviz softmax 10.5 2.3 6.1 4.4 9.7 --scale 2
    """
    import math

    from .lessons import softmax_steps

    row = scores or [10.5, 2.3, 6.1, 4.4, 9.7]
    if len(row) > 4096 or not all(math.isfinite(v) for v in row):
        raise InputError("scores must be at most 4,096 finite numbers (no inf or nan)")
    if not all(math.isfinite(v / (scale_by * temperature)) for v in row):
        raise InputError("scores ÷ (scale × temperature) overflow: use smaller scores or a larger --scale")
    steps = softmax_steps(row, scale=scale_by, temperature=temperature)
    out = _output(lang, precision, False, png, out_dir, theme, dpi, json_out)

    def terminal(view):
        from .render.terminal import softmax_view

        return softmax_view(steps, view=view)

    _finish(out, name="softmax", doc=lambda: _json("lesson_to_json", steps), terminal=terminal,
            figure=lambda fig, style: fig.softmax_figure(steps, **style))


@app.command()
def flash(
    text: Annotated[str | None, typer.Argument(
        help=f"The sentence \\[default: {SEED_SENTENCE}]", show_default=False)] = None,
    block_size: Annotated[int, typer.Option("--block", min=1, max=4096, help="Keys per tile.")] = 2,
    causal: Causal = False,
    query: Query = None,
    lang: LangOpt = None,
    precision: Precision = 2,
    full: Full = False,
    json_out: JsonOut = None,
    seed: Seed = 0,
    d_model: DModel = 8,
    d_k: DK = 4,
    weights: WeightsFile = None,
    tokenizer: TokenizerOpt = "default",
) -> None:
    """Flash-style tiled attention: the keys in blocks, an online softmax (running max m, running sum ℓ,
    rescaling) and the same output as standard attention without ever holding the T×S matrix.
    Texts of up to 4,096 tokens.

    Example: attnviz flash "고양이는 침대에서 잔다" --block 2 --query 잔다
    """
    from .flash import flash_walk
    from .pipeline import self_attention

    trace = self_attention(SEED_SENTENCE if text is None else text, seed=seed, d_model=d_model, d_k=d_k,
                           weights=weights, tokenizer=tokenizer, causal=causal)
    focus = _focus(query, [t.label for t in trace.query_tokens])
    walk = flash_walk(trace, block=block_size, focus=focus)
    out = _output(lang, precision, full, None, None, Theme.light, 150, json_out)

    def terminal(view):
        from .render.terminal import flash_view

        return flash_view(walk, view=view)

    _finish(out, name="flash", doc=lambda: _json("flash_to_json", walk), terminal=terminal, figure=None)


class Activation(str, Enum):
    gelu = "gelu"
    relu = "relu"


class Sample(str, Enum):
    greedy = "greedy"
    top_k = "top-k"
    top_p = "top-p"


DFF = Annotated[int | None, typer.Option("--d-ff", min=1, max=16384,
                                         help="Width of the feed-forward layer \\[default: 4 × d_model].",
                                         show_default=False)]
ActivationOpt = Annotated[Activation, typer.Option(help="The feed-forward network's activation.")]


@app.command()
def block(
    text: Annotated[str | None, typer.Argument(
        help=f"The sentence \\[default: {SEED_SENTENCE}]", show_default=False)] = None,
    decoder: Annotated[bool, typer.Option("--decoder", help="A decoder block: masked self-attention, then "
                                                            "cross-attention over --source.")] = False,
    source: Annotated[str | None, typer.Option(help="The encoder's sentence for --decoder.")] = None,
    d_ff: DFF = None,
    activation: ActivationOpt = Activation.gelu,
    n_heads: Annotated[int, typer.Option("--heads", min=1, max=64, help="Number of heads.")] = 1,
    query: Query = None,
    lang: LangOpt = None,
    precision: Precision = 2,
    full: Full = False,
    png: Png = None,
    out_dir: OutDir = None,
    theme: ThemeOpt = Theme.light,
    dpi: Dpi = 150,
    json_out: JsonOut = None,
    seed: Seed = 0,
    d_model: DModel = 8,
    d_k: DK = 4,
    weights: WeightsFile = None,
    tokenizer: TokenizerOpt = "default",
    model: ModelOpt = None,
    download: Download = False,
    layer: Layer = 0,
) -> None:
    """One transformer block: attention → residual → LayerNorm → feed-forward → residual → LayerNorm.

    Example: attnviz block "고양이는 침대에서 잔다"
    Decoder: attnviz block "고양이는" --decoder --source "고양이는 침대에서 잔다"
    Real model: attnviz block "The cat sat on the mat" --model minilm --layer 2
    """
    _fetch(model, download)
    from .block import block_from_text
    from .pipeline import make_weights

    sentence = SEED_SENTENCE if text is None else text
    if model is not None:
        if decoder:
            raise InputError("--decoder shows the seeded decoder block; --model shows a checkpoint's own layer: "
                             "use one or the other")
        from .models import block_trace, load_model

        bt = block_trace(load_model(model), sentence, layer)
    else:
        w = make_weights(seed, d_model, d_k, n_heads, weights)
        bt = block_from_text(sentence, w, seed=seed, d_ff=d_ff, activation=activation.value, decoder=decoder,
                             source=source, tokenizer=tokenizer)
    attn = bt.self_attention if decoder else bt.attention
    focus = _focus(query, [t.label for t in attn.query_tokens])
    out = _output(lang, precision, full, png, out_dir, theme, dpi, json_out)

    def terminal(view):
        from .render.terminal import block_view

        return block_view(bt, focus=focus, view=view)

    def figure(fig, style):
        return fig.block_figure(bt, **style)

    _finish(out, name="block", doc=lambda: _json("block_to_json", bt), terminal=terminal, figure=figure, trace=attn)


@app.command()
def flow(
    source: Annotated[str | None, typer.Argument(
        help=f"The encoder's input \\[default: {SEED_SENTENCE}]", show_default=False)] = None,
    layers: Annotated[int, typer.Option(min=1, max=12, help="Encoder and decoder blocks.")] = 2,
    steps: Annotated[int, typer.Option(min=1, max=64, help="Tokens to generate.")] = 4,
    sample: Annotated[Sample, typer.Option(help="How the next token is picked.")] = Sample.greedy,
    k: Annotated[int, typer.Option(min=1, help="top-k: sample among the k most probable tokens.")] = 5,
    p: Annotated[float, typer.Option(min=1e-6, max=1.0, help="top-p: sample within this probability mass.")
                 ] = 0.9,
    temperature: Annotated[float, typer.Option(min=1e-6, help="Divide the logits by this: >1 flattens.")] = 1.0,
    d_ff: DFF = None,
    activation: ActivationOpt = Activation.gelu,
    n_heads: Annotated[int, typer.Option("--heads", min=1, max=64, help="Number of heads.")] = 1,
    lang: LangOpt = None,
    precision: Precision = 2,
    full: Full = False,
    out_dir: OutDir = None,
    theme: ThemeOpt = Theme.light,
    dpi: Dpi = 150,
    json_out: JsonOut = None,
    seed: Seed = 0,
    d_model: DModel = 8,
    d_k: DK = 4,
    tokenizer: TokenizerOpt = "default",
) -> None:
    """The encoder–decoder walk-through on a tiny untrained seeded model: ids → embeddings → encoder
    blocks → <BOS> → decoder blocks → logits → softmax → sampling, repeated for --steps tokens.
    The model is untrained, so the text it makes is nonsense: the point is the flow of shapes and numbers.
    --out-dir saves each step's decoder self-attention and cross-attention figures.

    Example: attnviz flow "안녕하세요, 오늘 날씨는?" --steps 3 --sample top-k --k 5
    """
    from .flow import flow as run_flow

    ft = run_flow(SEED_SENTENCE if source is None else source, seed=seed, n_layers=layers, steps=steps,
                  sample_method=sample.value, k=k, p=p, temperature=temperature, d_model=d_model, d_k=d_k,
                  n_heads=n_heads, d_ff=d_ff, activation=activation.value, tokenizer=tokenizer)
    out = _output(lang, precision, full, None, None, theme, dpi, json_out)
    if out_dir is not None:
        from .files import ensure_dir
        from .render import figure as fig

        ensure_dir(out_dir)
        style = dict(theme=out.theme, lang=out.lang, precision=out.precision)
        for step in ft.steps:
            last = step.decoder[-1]
            fig.save_view(fig.mask_figure(last.self_attention, **style),
                          Path(out_dir) / f"step{step.number}-self.png", dpi=dpi)
            fig.save_view(fig.cross_figure(last.cross_attention, focus=len(step.tokens) - 1, **style),
                          Path(out_dir) / f"step{step.number}-cross.png", dpi=dpi)

    def terminal(view):
        from .render.terminal import flow_view

        return flow_view(ft, view=view)

    _finish(out, name="flow", doc=lambda: _json("flow_to_json", ft), terminal=terminal, figure=None)
    if out_dir is not None and json_out != "-":
        _console().print(f"saved {out_dir}", style="dim")


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
    """Entry point of the `attnviz` console script.

    When the first argument names a command, typer builds only that command (building every
    command's options costs ~5 ms a run); it parses, helps and fails exactly as in the whole app."""
    # A command lives a fraction of a second and makes almost no cyclic garbage (figures do: _finish
    # turns collection back on for them). Collecting cycles would only slow the imports, and the final
    # collection at exit has nothing to reclaim: ~20 ms of a 0.2 s run.
    gc.disable()
    every = app.registered_commands
    first = sys.argv[1] if len(sys.argv) > 1 else None
    named = [c for c in every if (c.name or typer.main.get_command_name(c.callback.__name__)) == first]
    app.registered_commands = named or every
    try:
        app()
    finally:
        app.registered_commands = every
        gc.freeze()
