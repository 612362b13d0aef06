"""The explorer's widgets (Textual): the token strip and the stage bar (both clickable), and the key help.

Each strip is one line of rich Text drawn by a Static; it remembers which cells each item took, so a click
at column x picks the item drawn there. Long strips are windowed around the current item.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from ..render.terminal.common import short
from .words import KEYS, word

TOKEN_MAX = 12  # widest token label in the strip (terminal cells)


class Strip(Static):
    """One line of items, the current one highlighted; a click on an item posts Strip.Picked(index)."""

    class Picked(Message):
        def __init__(self, strip: Strip, index: int) -> None:
            super().__init__()
            self.strip, self.index = strip, index

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._spans: list[tuple[int, int, int]] = []  # (first cell, end cell, item index)

    def show(self, prefix: Text, items: list[str], current: int, sep: str, width: int) -> None:
        """Draw `prefix`, then as many `items` as fit in `width` cells around the current one (… for the rest)."""
        line = prefix.copy()
        room = max(1, width - cell_len(prefix.plain) - 2)  # two cells for the … marks
        first, last = _window([cell_len(t) + cell_len(sep) for t in items], current, room)
        self._spans = []
        if first > 0:
            line.append("…", style="dim")
        for i in range(first, last):
            start = cell_len(line.plain)
            line.append(items[i], style="bold reverse" if i == current else "")
            self._spans.append((start, cell_len(line.plain), i))
            if i < last - 1:
                line.append(sep, style="dim")
        if last < len(items):
            line.append("…", style="dim")
        self.update(line)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        for start, end, index in self._spans:
            if start <= offset.x < end:
                self.post_message(self.Picked(self, index))
                return


def _window(widths: list[int], current: int, room: int) -> tuple[int, int]:
    """The widest run of items [first, last) around `current` whose widths add up to at most `room`."""
    first, last, used = current, current + 1, widths[current]
    while True:
        grew = False
        if last < len(widths) and used + widths[last] <= room:
            used, last, grew = used + widths[last], last + 1, True
        if first > 0 and used + widths[first - 1] <= room:
            used, first, grew = used + widths[first - 1], first - 1, True
        if not grew:
            return first, last


def token_items(labels: list[str]) -> list[str]:
    """Token labels for the strip, cut to TOKEN_MAX cells, blanks shown as ␣."""
    return [f" {short(' '.join(label.split()) or '␣', TOKEN_MAX)} " for label in labels]


class HelpScreen(ModalScreen[None]):
    """The keys (`?`); any key or click closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Static { width: auto; max-width: 100%; height: auto; max-height: 100%;
                          border: round $accent; padding: 0 1; background: $surface; }
    """

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def compose(self) -> ComposeResult:
        width = max(cell_len(keys) for keys, _, _ in KEYS) + 2
        text = Text(word("keys_title", self.lang) + "\n", style="bold")
        for keys, en, ko in KEYS:
            text.append(keys + " " * (width - cell_len(keys)), style="bold")
            text.append((ko if self.lang == "ko" else en) + "\n")
        text.append(word("keys_close", self.lang), style="dim italic")
        yield Static(text)

    def on_key(self, event: events.Key) -> None:
        event.stop()
        self.dismiss()

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.dismiss()
