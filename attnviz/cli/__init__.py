"""The `attnviz` command: the typer app, its one error catcher and the console-script entry point `main`.

Each command lives in its own module (explain.py, mask.py, …) and registers itself on `app` when imported:
parse options, call the core, hand the result to a renderer and to attnviz.output.

Exit codes: 0 success, 1 error in the input or environment (one `Error: …` line on stderr),
2 usage error (a bad option value).
"""

import gc
import inspect
import os
import sys
from typing import Annotated

# Before anything imports numpy: numpy's BLAS on one thread. attnviz's products are small (a few dozen tokens
# × a layer's weights); on two threads OpenBLAS wakes a sleeping thread for each one, which costs up to a
# scheduler slice (10–40 ms) whenever another process holds the other core — seconds over a 30-layer model.
# A user's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import typer
from typer.core import TyperGroup

from .. import __version__
from ..errors import AttnvizError

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


# Each module registers its command(s) on `app` as it is imported: this order is the order in --help.
from . import explain, mask, heads, cross, lessons, flash, block, tui, weights, survey  # noqa: E402, F401, I001


def _unwrap(doc: str) -> str:
    """A command's docstring as its --help text: inside a paragraph the source's line breaks become spaces, so
    the text wraps to the terminal's width; a paragraph that starts with a \\b line (click's convention) keeps its
    lines: examples, key lists."""
    paragraphs = inspect.cleandoc(doc).split("\n\n")
    return "\n\n".join(p[1:].strip("\n") if p.startswith("\b") else " ".join(p.split("\n")) for p in paragraphs)


for _typer in (app, *(group.typer_instance for group in app.registered_groups)):
    for _command in _typer.registered_commands:
        if _command.callback.__doc__:
            _command.callback.__doc__ = _unwrap(_command.callback.__doc__)


def main() -> None:
    """Entry point of the `attnviz` console script.

    When the first argument names a command, typer builds only that command (building every
    command's options costs ~5 ms a run); it parses, helps and fails exactly as in the whole app."""
    # A command lives a fraction of a second and makes almost no cyclic garbage (figures do: _finish
    # turns collection back on for them). Collecting cycles would only slow the imports, and the final
    # collection at exit has nothing to reclaim: ~20 ms of a 0.2 s run.
    gc.disable()
    from ..output import _safe_streams

    _safe_streams()  # an encoding without ᵀ or Hangul (ascii, cp949) degrades the glyphs instead of failing
    every = app.registered_commands
    first = sys.argv[1] if len(sys.argv) > 1 else None
    named = [c for c in every if (c.name or typer.main.get_command_name(c.callback.__name__)) == first]
    app.registered_commands = named or every
    try:
        app()
    finally:
        app.registered_commands = every
        gc.freeze()
