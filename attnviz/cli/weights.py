"""`attnviz weights init` and `attnviz weights show`: make and inspect weight files."""

from pathlib import Path
from typing import Annotated

import typer

from ..output import _console
from . import _Group, app
from .options import DK, DModel, NHeads, Seed

weights_app = typer.Typer(cls=_Group, help="Make and inspect weight files (safetensors or .npz).",
                          no_args_is_help=True)
app.add_typer(weights_app, name="weights")


@weights_app.command("init")
def weights_init(
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write (.safetensors or .npz).")],
    seed: Seed = 0,
    d_model: DModel = 8,
    d_k: DK = 4,
    heads: NHeads = 1,
) -> None:
    """Write seeded W_Q, W_K, W_V (d_model × heads·d_k) and W_O (heads·d_k × d_model) to a file.

    \b
    Example: attnviz weights init -o w.safetensors --d-model 16 --d-k 4 --heads 4
    """
    import numpy as np

    from ..weights import init_weights, save_weights

    w = init_weights(np.random.default_rng(seed), d_model, d_k, heads, seed=seed)
    save_weights(w, output)
    typer.echo(f"wrote {output}: d_model={w.d_model}, d_k={w.d_k}, heads={w.n_heads}")


@weights_app.command("show")
def weights_show(
    file: Annotated[Path, typer.Argument(help="A .safetensors or .npz weight file.")],
) -> None:
    """List the tensors of a weight file with their shapes and dtypes (after validating it).

    \b
    Example: attnviz weights show w.safetensors
    """
    from rich.table import Table

    from ..weights import describe, load_weights

    rows = describe(file)
    w = load_weights(file)
    table = Table(title=f"{file}  (d_model={w.d_model}, d_k={w.d_k}, d_v={w.d_v}, heads={w.n_heads})",
                  title_justify="left")
    for col in ("tensor", "shape", "dtype"):
        table.add_column(col)
    for name, shape, dtype in rows:
        table.add_row(name, " × ".join(str(s) for s in shape), dtype)
    _console().print(table)
