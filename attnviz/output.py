"""Where a command's result goes: JSON (stdout or a file), figure files and the terminal, shared by every command.

Every target is checked before anything is written, and the files are written together or not at all
(attnviz.files); JSON is streamed; matplotlib and the JSON export are imported only when they are asked for.
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


#: ASCII stand-ins for the glyphs attnviz prints, used when the terminal's encoding lacks them
#: (PYTHONIOENCODING=ascii; a Korean Windows code page, cp949, has Hangul and √ but not ᵀ).
_ASCII = {"ᵀ": "^T", "√": "sqrt", "−": "-", "×": "x", "·": "*", "÷": "/", "→": "->", "←": "<-", "↑": "^", "↓": "v",
          "≈": "~", "≠": "!=", "≤": "<=", "≥": ">=", "∞": "inf", "…": "...", "Σ": "sum", "∑": "sum", "ℓ": "l",
          "⊙": "*", "ε": "eps", "γ": "gamma", "β": "beta", "α": "alpha", "θ": "theta", "ω": "w", "π": "pi",
          "“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "•": "*", "●": "*", "○": "o", "◌": "",
          "✓": "v", "✗": "x", "░": ".", "▒": ":", "▓": "#", "█": "#", "▏": "|", "│": "|", "─": "-", "␣": "_",
          "₀": "0", "₁": "1", "₂": "2", "₃": "3", "ᵢ": "i", "ⱼ": "j", "²": "2", "³": "3", "√̅": "sqrt"}


def _degrade(error: UnicodeError):
    """Codec error handler "attnviz": each character the stream's encoding cannot write becomes its ASCII
    stand-in, U+FFFD or "?" (a lone surrogate, i.e. invalid UTF-8 from argv, becomes U+FFFD where it can)."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    out = []
    for ch in error.object[error.start:error.end]:
        stand_in = _ASCII.get(ch, "\ufffd" if "\ud800" <= ch <= "\udfff" else "?")
        try:
            stand_in.encode(error.encoding)
        except (UnicodeError, LookupError):
            stand_in = "?"
        out.append(stand_in)
    return "".join(out), error.end


def _safe_streams() -> None:
    """stdout and stderr write what their encoding lacks as ASCII stand-ins (`_degrade`) instead of
    raising UnicodeEncodeError: PYTHONIOENCODING=ascii or cp949 degrades the glyphs, never crashes."""
    import codecs

    codecs.register_error("attnviz", _degrade)
    for stream in (sys.stdout, sys.stderr):
        if getattr(stream, "errors", None) == "strict" and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="attnviz")


#: The narrowest terminal laid out; COLUMNS below it (or not a number) would print empty boxes.
MIN_WIDTH = 20


def _console(width: int | None = None):
    import os

    from rich.console import Console

    columns = os.environ.get("COLUMNS")
    if width is None and columns is not None and not (columns.isascii() and columns.isdigit() and int(columns) > 0):
        import shutil

        width = shutil.get_terminal_size((80, 24)).columns  # COLUMNS=0 or junk: the terminal's, or 80
    console = Console(width=width, highlight=False, soft_wrap=False)
    if console.width < MIN_WIDTH:
        console.width = MIN_WIDTH
    return console


def _finish(out: Output, *, name: str, doc: Callable[[], object], terminal: Callable, figure: Callable | None,
            trace=None, head: int = 0, extra: Callable | None = None) -> None:
    """Check every output target first; then write the JSON and the figures together, all or none (a
    transaction: each file atomically, renamed into place only when every one is ready; a folder made for
    them is removed again if one fails); then print the terminal view, or the JSON to stdout (--json -).

    doc() gives the JSON: a writer(stream) (`_json`, streamed a few rows at a time) or its text.
    terminal(view) returns rich renderables; figure(module, style) returns a matplotlib Figure (matplotlib is
    imported only when a figure is asked for); extra(module, style, out_dir) saves a command's own figures
    into --out-dir.
    """
    _check_targets(out)
    writer = None
    if out.json_out is not None:
        made = doc()
        writer = made if callable(made) else (lambda stream, text=made: stream.write(text))
    if out.json_out not in (None, "-") or out.png is not None or out.out_dir is not None:
        from .files import atomic_write, ensure_dir, transaction

        with transaction():
            if out.json_out not in (None, "-"):
                atomic_write(Path(out.json_out), lambda tmp: _write_text(tmp, writer))
            if out.png is not None or out.out_dir is not None:
                gc.enable()  # a drawn figure is a web of cycles (figure ↔ canvas ↔ renderer): collect them
                from .render import figure as fig_module

                style = dict(theme=out.theme, lang=out.lang, precision=out.precision)
                if out.png is not None:
                    fig_module.save_view(figure(fig_module, style), out.png, dpi=out.dpi)
                if out.out_dir is not None:
                    ensure_dir(out.out_dir)
                    if trace is not None:
                        fig_module.save_stage_figures(trace, out.out_dir, dpi=out.dpi, head=head, **style)
                    if figure is not None and name != "pipeline":
                        fig_module.save_view(figure(fig_module, style), Path(out.out_dir) / f"{name}.png",
                                             dpi=out.dpi)
                    if extra is not None:
                        extra(fig_module, style, Path(out.out_dir))
    if out.json_out == "-":
        writer(sys.stdout)
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


def _check_targets(out: Output) -> None:
    """Every file and folder the run will write, checked before anything is: a figure's extension, missing
    folders, a folder or socket where a file goes, --json and --png naming one file."""
    if out.json_out in (None, "-") and out.png is None and out.out_dir is None:
        return
    from .errors import OutputError
    from .files import check_folder, check_suffix, check_target

    reached = {}
    if out.json_out not in (None, "-"):
        reached["--json"] = check_target(Path(out.json_out))
    if out.png is not None:
        check_suffix(out.png)
        reached["--png"] = check_target(out.png)
    if out.out_dir is not None:
        check_folder(out.out_dir)
    if len(reached) == 2 and _same(*reached.values()):
        raise OutputError(f"--json and --png both name {out.png}: give each its own file")


def _same(a: Path, b: Path) -> bool:
    import os

    try:
        return os.path.samefile(a, b)
    except OSError:  # one is not there yet
        return os.path.abspath(a) == os.path.abspath(b)


def _write_text(path: Path, writer: Callable) -> None:
    with open(path, "w", encoding="utf-8") as stream:
        writer(stream)


#: export's *_to_json functions whose documents can be large: written by export.write_json, streamed
_STREAMED = {"trace_to_json": "trace", "traces_to_json": "traces", "lesson_to_json": "lesson",
             "flash_to_json": "flash", "block_to_json": "block", "flow_to_json": "flow",
             "generation_to_json": "generation", "summary_to_json": "summary"}


def _json(name: str, *args) -> Callable:
    """A writer(stream) of attnviz.export's `name`(*args) document: streamed a few rows at a time (a
    4,096-token trace is a gigabyte of JSON) when export can, else its text. The export module (json and
    friends) is imported only for --json."""
    from . import export

    if name in _STREAMED:
        (obj,) = args
        return lambda stream: export.write_json(_STREAMED[name], obj, stream)
    text = getattr(export, name)(*args)
    return lambda stream: stream.write(text)
