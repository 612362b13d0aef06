"""What every terminal view shares: the View, layout constants, boxed panels, labels, tints and cut lists."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from rich import box
from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.style import Style
from rich.text import Text

from ...tokens import visible
from ..text import caption, title

STAGES = ("input", "qkv", "scores", "scaled", "softmax", "output", "all")
ARROW = Text("                ↓")
LABEL_MAX = 8  # widest token label (terminal cells) before it is cut with …
HEADER_MAX = 6  # widest column header (terminal cells): three Hangul syllables, six letters
MAX_ROWS = 12  # rows shown before a matrix is cut (unless --full)
MAX_LINES = 12  # focus-detail lines shown before they are cut (unless --full)
PANEL_CHROME = 4  # the panel's borders and padding
PANEL_WIDTH = 80  # panels are this wide (or the terminal's width, if narrower)
SUMMARY_LINES = 20  # per-query summary lines (long inputs) shown before they are cut (unless --full)
TOKEN_LINES = 4  # lines of token pieces (and of ids) shown before they are cut (unless --full)


@dataclass(frozen=True)
class View:
    """How to draw: language, number precision, console width, and whether to cut."""

    lang: str = "en"
    precision: int = 2
    width: int = 80
    full: bool = False

    def num(self, value: float) -> str:
        """A number at the view's precision; −∞ for hidden cells, no "-0.00"."""
        if value == -np.inf:
            return "−∞"
        text = f"{value:.{self.precision}f}"
        return text[1:] if text.startswith("-") and float(text) == 0 else text


def short(label: str, limit: int = LABEL_MAX) -> str:
    """Cut a label to `limit` terminal cells, marking the cut with …"""
    if cell_len(label) <= limit:
        return label
    out = ""
    for ch in label:
        if cell_len(out + ch) > limit - 1:
            break
        out += ch
    return out + "…"


def _panel(stage: str, body: RenderableType, view: View, subtitle: str | None = None, **fmt) -> Panel:
    """A ┌─┐ box titled like the seed diagrams ([Softmax]); one width for every panel.

    `fmt` fills placeholders in the title ("Self-Attention × {h} heads"). Title and subtitle are Text, drawn
    as written: a token in them is not read as console markup or :emoji: (nor is rich's emoji table loaded)."""
    name = title(stage, view.lang).format(**fmt) if fmt else title(stage, view.lang)
    return Panel(body, title=Text(f"[{name}]"), title_align="left", box=box.SQUARE,
                 expand=not view.full, width=None if view.full else min(view.width, PANEL_WIDTH),
                 subtitle=None if subtitle is None else Text(subtitle), subtitle_align="left")


def _shown(n: int, limit: int, keep: int | None = None) -> list[int | None]:
    """Indices to show out of n (None = a "…" gap), keeping index `keep` visible."""
    if n <= limit:
        return list(range(n))
    head = list(range(limit - 2))
    tail = n - 1 if keep is None or keep < limit - 2 else keep
    return [*head, None, tail]


def _tint(weight: float, is_max: bool) -> Style:
    """Background shade for a softmax cell: stronger blue for a larger weight, readable on light
    and dark terminals (white text on a blue that darkens as the weight grows)."""
    if not np.isfinite(weight) or weight < 0.005:
        return Style(dim=True)
    w = float(min(max(weight, 0.0), 1.0)) ** 0.6
    lo, hi = (150, 180, 225), (20, 60, 170)
    r, g, b = (round(a + (c - a) * w) for a, c in zip(lo, hi))
    return Style(bgcolor=f"rgb({r},{g},{b})", color="#ffffff" if w > 0.45 else "#000000", bold=is_max)



def _indexed(prefix: str, tokens) -> list[str]:
    return [f"{prefix}{i + 1} {t.label}" for i, t in enumerate(tokens)]


def _line_rows(n: int, view: View, keep: int | None = None) -> list[int | None]:
    """Which of n detail lines `_lines` keeps (None = the ⋮ line): build only those on long inputs."""
    if view.full or n <= MAX_LINES:
        return list(range(n))
    if keep is None or keep < MAX_LINES - 2:
        return [*range(MAX_LINES - 1), None]
    return [*range(MAX_LINES - 2), None, keep]


def _some_lines(make: Callable[[int], Text], n: int, view: View, keep: int | None = None) -> list[Text]:
    """`_lines([make(j) for j in range(n)], view, keep)` without making the lines that are cut."""
    return [Text("⋮") if j is None else make(j) for j in _line_rows(n, view, keep)]


def _lines(items: list[Text], view: View, keep: int | None = None) -> list[Text]:
    """Cut a list of detail lines to MAX_LINES (unless --full) with a ⋮ line, keeping line `keep`."""
    if view.full or len(items) <= MAX_LINES:
        return items
    if keep is None or keep < MAX_LINES - 2:
        return [*items[: MAX_LINES - 1], Text("⋮")]
    return [*items[: MAX_LINES - 2], Text("⋮"), items[keep]]


def _printable(text: str, view: View, limit: int = 400) -> str:
    """The input text safe for a terminal (control characters shown, not obeyed), cut unless --full."""
    if not view.full and len(text) > limit:
        text = text[:limit] + "…"
    return "".join(ch if ch == " " or ch.isprintable() else visible(ch) for ch in text)


def _note(key: str, view: View, **fmt) -> Text:
    """A caption line (italic), filled in with `fmt`."""
    text = caption(key, view.lang)
    return Text(text.format(**fmt) if fmt else text, style="italic")


def _small_table(rows: tuple[tuple[str, ...], ...], view: View) -> RenderableType:
    """A small comparison table (the seed's markdown tables): header row, then text rows that wrap.

    On a narrow console each row becomes a bold name followed by "header: text" lines instead."""
    from rich.table import Table

    if view.full or min(view.width, PANEL_WIDTH) >= 70:
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), show_edge=False)
        for k, head in enumerate(rows[0]):
            table.add_column(head, style="bold" if k == 0 else "")
        for row in rows[1:]:
            table.add_row(*row)
        return table
    lines: list[Text] = []
    for row in rows[1:]:
        lines.append(Text(row[0], style="bold"))
        lines += [Text(f"  {head}: {text}") for head, text in zip(rows[0][1:], row[1:])]
    return Group(*lines)


def _fmt_diff(value: float) -> str:
    return f"{value:.1e}"
