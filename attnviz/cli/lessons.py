"""`attnviz scale` and `attnviz softmax`: the two lessons, why √d_k and how softmax turns scores into weights."""

from typing import Annotated

import typer

from ..output import Output, _finish, _json
from . import app
from .options import Seed, output_options


@app.command()
@output_options(full=False)
def scale(
    n_keys: Annotated[int, typer.Option("--keys", min=2, max=4096, help="Keys in each softmax row.")] = 10,
    *,
    out: Output,
    seed: Seed = 0,
) -> None:
    """Why divide by √d_k: the spread of q·k grows like √d_k and saturates softmax; scaling fixes it.

    For d_k = 4, 16, 64, 256, 1024, with seeded unit-variance q and k.

    \b
    Example: attnviz scale --keys 10 --png scale.png
    """
    import numpy as np

    from ..lessons import scale_lesson

    lesson = scale_lesson(np.random.default_rng(seed), n_keys=n_keys, seed=seed)

    def terminal(view):
        from ..render.terminal import scale_view

        return scale_view(lesson, view=view)

    _finish(out, name="scale", doc=lambda: _json("lesson_to_json", lesson), terminal=terminal,
            figure=lambda fig, style: fig.scale_figure(lesson, **style))


@app.command(context_settings={"ignore_unknown_options": True})
@output_options(full=False)
def softmax(
    scores: Annotated[list[float] | None, typer.Argument(
        help="A row of scores \\[default: 10.5 2.3 6.1 4.4 9.7, the seed's example]", show_default=False)] = None,
    scale_by: Annotated[float, typer.Option("--scale", min=1e-6, help="Divide the scores by this first (√d_k).")
                        ] = 1.0,
    temperature: Annotated[float, typer.Option(min=1e-6, help="Divide by this too: >1 flattens, <1 sharpens.")
                           ] = 1.0,
    *,
    out: Output,
) -> None:
    """Turn a row of scores into probabilities, showing every step (− max, exp, Σ, ÷).

    \b
    Example: attnviz softmax 10.5 2.3 6.1 4.4 9.7 --scale 2
    """
    from ..lessons import softmax_steps

    # softmax_steps refuses what has no softmax to show, naming the reason (nan, inf, overflow, …)
    steps = softmax_steps(scores or [10.5, 2.3, 6.1, 4.4, 9.7], scale=scale_by, temperature=temperature)

    def terminal(view):
        from ..render.terminal import softmax_view

        return softmax_view(steps, view=view)

    _finish(out, name="softmax", doc=lambda: _json("lesson_to_json", steps), terminal=terminal,
            figure=lambda fig, style: fig.softmax_figure(steps, **style))
