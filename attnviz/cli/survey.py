"""`attnviz survey`, `rollout` and `lens`: a checkpoint's heads scored, its attention rolled out, its
residual stream read through the logit lens (for engineers; every command needs --model)."""

from enum import Enum
from typing import Annotated

import typer

from ..errors import InputError
from ..output import Output, _finish, _json
from . import app
from .common import _fetch, _focus
from .options import SEED_SENTENCE, Download, Text, output_options, text_input
from .vision import ImageOpt


class Score(str, Enum):
    entropy = "entropy"
    sink = "sink"
    previous = "previous"
    self = "self"
    distance = "distance"
    induction = "induction"


class Weigh(str, Enum):
    attention = "attention"
    value_norm = "value-norm"


ModelReq = Annotated[str, typer.Option(
    "--model", help="A real checkpoint: a folder with config.json, model.safetensors and tokenizer.json, a Hugging "
                    "Face repo id (from the local cache, or fetched with --download), or minilm.")]


def _load(model: str, download: bool):
    _fetch(model, download)
    from ..models import load_model

    return load_model(model)


@app.command()
@output_options(full=False, figures=True)
@text_input()
def survey(
    text: Text = None,
    model: ModelReq = ...,
    sort: Annotated[Score | None, typer.Option(help="List the heads with the highest value of this score.")] = None,
    top: Annotated[int, typer.Option(min=1, max=10000, help="How many heads --sort lists.")] = 10,
    repeat: Annotated[int, typer.Option(min=1, max=2048, help="Length n of the random sequence that the induction "
                                                               "input repeats twice.")] = 20,
    seed: Annotated[int, typer.Option(min=0, max=2**32 - 1, help="Seed of the induction input's tokens.")] = 0,
    *,
    out: Output,
    download: Download = False,
) -> None:
    """Score every layer × head: entropy, sink, previous, self, distance, induction.

    One forward pass on TEXT and the induction input (n random tokens repeated twice) side by side, shown as
    a layers × heads grid per score. Layers count from 0, heads from 1 (L3.H5 = --layer 3 --head 5).

    \b
    Example: attnviz survey "The cat sat on the mat" --model ./SmolLM2-135M --sort induction --top 10
    """
    from ..probes import survey as run

    result = run(_load(model, download), SEED_SENTENCE if text is None else text, n=repeat, seed=seed)
    name = None if sort is None else sort.value

    def terminal(view):
        from ..render.terminal import survey_view

        return survey_view(result, view=view, sort=name, top=top)

    _finish(out, name="survey", doc=lambda: _json("survey_to_json", result), terminal=terminal,
            figure=lambda fig, style: _figures().survey_figure(result, **style))


@app.command()
@output_options(full=True, figures=True)
@text_input()
def rollout(
    text: Text = None,
    model: ModelReq = ...,
    layer: Annotated[int | None, typer.Option(min=0, max=1023, help="Show R through this layer, counting from 0 "
                                                                   "\\[default: the last].", show_default=False)
                     ] = None,
    weigh: Annotated[Weigh, typer.Option(help="attention: A_ij; value-norm: ‖A_ij · v_j W_O‖ (Kobayashi et al. "
                                              "2020), shown beside A for --layer.")] = Weigh.attention,
    query: Annotated[str | None, typer.Option(
        "--query", "-q", help="Query row shown as bars: a token or its 1-based index (default: the last; [CLS] "
                              "with --image).")] = None,
    image: ImageOpt = None,
    *,
    out: Output,
    download: Download = False,
) -> None:
    """Attention rollout: R_l = M_l · R_(l−1), M_l = ½ · mean over heads of A_l + ½ · I (rows renormalized).

    Shows R through --layer as a matrix and the focus query's row as bars; with --image (a ViT --model), the
    focus row laid over the image: the standard picture of what a ViT looks at.

    \b
    Example: attnviz rollout "The cat sat on the mat" --model minilm --weigh value-norm --query cat
    Image: attnviz rollout --image cat.png --model ./vit-base-patch16-224 --png rollout.png
    """
    from ..probes import rollout as run

    m = _load(model, download)
    if image is not None and text is not None:
        raise InputError("give a TEXT or --image, not both: an image model reads the image alone")
    if image is not None:
        from ..models.vision import vision_encoder

        n_layers = vision_encoder(m).n_layers
    else:
        n_layers = m.n_layers
    if layer is not None and layer >= n_layers:
        raise InputError(f"layer {layer} does not exist: {m.name} has layers 0–{n_layers - 1}")
    result = run(m, SEED_SENTENCE if text is None else text, weigh=weigh.value, image=image)
    at = n_layers - 1 if layer is None else layer
    labels = [t.label for t in result.tokens]
    focus = (0 if image is not None else len(labels) - 1) if query is None else _focus(query, labels)

    def terminal(view):
        from ..render.terminal import rollout_view

        return rollout_view(result, layer=at, focus=focus, view=view)

    def figure(fig, style):
        if image is not None:
            from ..render.figure import vision

            return vision.rollout_image_figure(result, layer=at, focus=focus, **style)
        return _figures().rollout_figure(result, layer=at, focus=focus, **style)

    _finish(out, name="rollout", doc=lambda: _json("rollout_to_json", result, at), terminal=terminal,
            figure=figure)


@app.command()
@output_options(full=False, figures=True)
@text_input()
def lens(
    text: Text = None,
    model: ModelReq = ...,
    top: Annotated[int, typer.Option(min=1, max=50, help="How many tokens to show per position and layer.")] = 5,
    query: Annotated[str | None, typer.Option(
        "--query", "-q", help="Position shown in detail: a token or its 1-based index (default: the last).")] = None,
    *,
    out: Output,
    download: Download = False,
) -> None:
    """The logit lens (decoders): every layer's residual stream through the final norm and the unembedding.

    Per layer and position, the top tokens and their probabilities; the last layer is the model's own output.

    \b
    Example: attnviz lens "The capital of France is" --model ./SmolLM2-135M --top 5
    """
    from ..probes import lens as run

    result = run(_load(model, download), SEED_SENTENCE if text is None else text, top=top)
    labels = [t.label for t in result.tokens]
    focus = len(labels) - 1 if query is None else _focus(query, labels)

    def terminal(view):
        from ..render.terminal import lens_view

        return lens_view(result, focus=focus, view=view)

    _finish(out, name="lens", doc=lambda: _json("lens_to_json", result), terminal=terminal,
            figure=lambda fig, style: _figures().lens_figure(result, **style))


def _figures():
    from ..render.figure import survey as figures

    return figures
