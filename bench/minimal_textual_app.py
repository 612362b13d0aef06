"""Baseline for `bench/tui.py`: the smallest Textual app with a line of text, a key line and a quit key (its
first screen is the yardstick)."""

from textual.app import App, ComposeResult
from textual.widgets import Static


class Hello(App[None]):
    BINDINGS = [("q", "quit", "quit")]

    def compose(self) -> ComposeResult:
        yield Static("hello")
        yield Static("q quit")


if __name__ == "__main__":
    Hello().run()
