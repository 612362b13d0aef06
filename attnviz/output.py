"""Where a command's result goes: JSON (stdout or a file), figure files and the terminal, shared by every command.

Files are written atomically; matplotlib and the JSON export are imported only when they are asked for.
"""

import gc
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple


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


def _output(lang, precision, full, png, out_dir, theme, dpi, json_out) -> Output:
    """The shared output options (lang and theme as the CLI's enums, lang None for the locale's) → an Output."""
    from .render.text import default_lang

    return Output(lang.value if lang else default_lang(), precision, full, png, out_dir, theme.value, dpi,
                  json_out)


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
