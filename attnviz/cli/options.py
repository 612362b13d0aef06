"""The options several commands share, declared once: `Annotated` aliases, their enums, and `output_options`,
which gives a command the shared output options (--lang … --json) and hands it one Output."""

import functools
import inspect
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ..output import _output

SEED_SENTENCE = "고양이는 침대에서 잔다"


class Stage(str, Enum):
    input = "input"
    qkv = "qkv"
    rope = "rope"
    gqa = "gqa"
    scores = "scores"
    scaled = "scaled"
    softcap = "softcap"
    mask = "mask"
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


class Activation(str, Enum):
    gelu = "gelu"
    relu = "relu"


class NormKind(str, Enum):
    layer = "layer"
    rms = "rms"


class FFNKind(str, Enum):
    plain = "plain"
    swiglu = "swiglu"
    geglu = "geglu"


class Sample(str, Enum):
    greedy = "greedy"
    top_k = "top-k"
    top_p = "top-p"


# --- what to compute ---------------------------------------------------------------------------

Text = Annotated[str | None, typer.Argument(help=f"The sentence \\[default: {SEED_SENTENCE}]", show_default=False)]
Seed = Annotated[int, typer.Option(min=0, max=2**32 - 1, help="Seed for the embeddings and weights.")]
DModel = Annotated[int, typer.Option("--d-model", min=1, max=4096, help="Width of a token vector.")]
DK = Annotated[int, typer.Option("--d-k", min=1, max=4096, help="Width of a query/key (and value) vector.")]
NHeads = Annotated[int, typer.Option("--heads", min=1, max=64, help="Number of heads.")]
WeightsFile = Annotated[Path | None, typer.Option(
    "--weights", help="Load W_Q, W_K, W_V (, W_O, embedding) from a .safetensors or .npz file.")]
TokenizerOpt = Annotated[str, typer.Option(
    help="default (shipped), words, chars, or a path to a Hugging Face tokenizer.json.")]
Query = Annotated[str | None, typer.Option(
    "--query", "-q", help="Focus query: a token or its 1-based index (default: the first token).")]
Head = Annotated[int, typer.Option(min=1, help="Which head to show (1-based) when there are several.")]
Causal = Annotated[bool, typer.Option("--causal", help="Apply the look-ahead mask: each token sees itself "
                                                      "and the tokens before it.")]
PadTo = Annotated[int | None, typer.Option("--pad-to", min=1, max=4096,
                                           help="Add [PAD] tokens up to this length and hide them.")]
ModelOpt = Annotated[str | None, typer.Option(
    "--model", help="A real checkpoint: a folder with config.json, model.safetensors and tokenizer.json, a "
                    "Hugging Face repo id (from the local cache, or fetched with --download), or minilm. Replaces the "
                    "seeded weights. Families (config.json model_type): bert, roberta, distilbert, gpt2, llama, "
                    "mistral, qwen2, qwen3, phi3, gemma, gemma2, gemma3.")]
Download = Annotated[bool, typer.Option(
    "--download", help="Let --model fetch a Hugging Face repo missing from the local cache: only the files "
                       "attnviz reads (config.json, the safetensors weights or their shards, and the tokenizer "
                       "or image settings), into that cache. Without it attnviz never uses the network.")]
Layer = Annotated[int, typer.Option(min=0, max=1023, help="Layer of --model, counting from 0.")]
NoSpecial = Annotated[bool, typer.Option("--no-special", help="Hide [CLS], [SEP], [PAD], <BOS> rows and columns "
                                                              "from the display (the numbers keep them).")]
Rope = Annotated[bool, typer.Option("--rope", help="Rotary positions (RoPE, as in Llama) instead of adding "
                                                  "sinusoidal ones: each pair of q/k dims turns by position · ω.")]
RopeTheta = Annotated[float, typer.Option("--rope-theta", min=1.000001, max=1e9,
                                          help="RoPE's base: ω_i = base^(−2i / d_k) (Llama 3: 500000).")]
KVHeads = Annotated[int | None, typer.Option(
    "--kv-heads", min=1, max=64, help="Grouped-query attention: this many K/V heads, each shared by --heads / "
                                      "--kv-heads query heads (1 = multi-query) \\[default: --heads].",
    show_default=False)]
Window = Annotated[int | None, typer.Option(
    "--window", min=1, max=4096, help="Sliding-window mask (Mistral, Gemma): each token sees itself and the "
                                      "WINDOW − 1 tokens before it (implies --causal).")]
DFF = Annotated[int | None, typer.Option("--d-ff", min=1, max=16384,
                                         help="Width of the feed-forward layer \\[default: 4 × d_model].",
                                         show_default=False)]
ActivationOpt = Annotated[Activation, typer.Option(help="The feed-forward network's activation.")]

# --- where the result goes (output_options adds them) ------------------------------------------

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

# name, type, default: in this order in every command's --help
_OUTPUT_OPTIONS = (("lang", LangOpt, None), ("precision", Precision, 2), ("full", Full, False), ("png", Png, None),
                   ("out_dir", OutDir, None), ("theme", ThemeOpt, Theme.light), ("dpi", Dpi, 150),
                   ("json_out", JsonOut, None))
_FIGURES = ("png", "out_dir", "theme", "dpi")


def output_options(*, full: bool = True, png: bool = True, figures: bool = True):
    """Decorate a command that takes `out: Output` (keyword-only, after `*`, so it needs no default): in its
    signature (which typer reads) `out` becomes the shared options --lang --precision --full --png --out-dir
    --theme --dpi --json, at that place, and the command is called with one Output made of their values.

    full=False leaves out --full, png=False --png, figures=False every figure option; left-out options keep
    their defaults in the Output.
    """
    left_out = set() if figures else set(_FIGURES)
    if not full:
        left_out.add("full")
    if not png:
        left_out.add("png")
    shared = [(name, kind, default) for name, kind, default in _OUTPUT_OPTIONS if name not in left_out]

    def decorate(command):
        signature = inspect.signature(command)
        params = list(signature.parameters.values())
        at = [p.name for p in params].index("out")
        added = [inspect.Parameter(name, params[at].kind, default=default, annotation=kind)
                 for name, kind, default in shared]
        params[at:at + 1] = added

        @functools.wraps(command)
        def run(**kwargs):
            values = {name: kwargs.pop(name, default) for name, _, default in _OUTPUT_OPTIONS}
            return command(**kwargs, out=_output(**values))

        run.__signature__ = signature.replace(parameters=params)
        run.__annotations__ = {p.name: p.annotation for p in params}
        return run

    return decorate


TextFile = Annotated[Path | None, typer.Option(
    "--file", help="Read the text from this UTF-8 file (long texts do not fit on a command line; a text "
                   "argument of - reads standard input instead).", show_default=False)]


def text_input(name: str = "text"):
    """Decorate a command whose argument `name` is its text: --file PATH (after it in --help) reads the text
    from a UTF-8 file, and `-` as the text reads standard input (`attnviz explain - < essay.txt`)."""

    def decorate(command):
        signature = inspect.signature(command)
        params = list(signature.parameters.values())
        at = [p.name for p in params].index(name)
        params.insert(at + 1, inspect.Parameter("file", params[at].kind, default=None, annotation=TextFile))

        @functools.wraps(command)
        def run(**kwargs):
            from .common import _read_text

            kwargs[name] = _read_text(kwargs[name], kwargs.pop("file", None))
            return command(**kwargs)

        run.__signature__ = signature.replace(parameters=params)
        run.__annotations__ = {p.name: p.annotation for p in params}
        return run

    return decorate
