"""Helpers the terminal tests share: render a rich renderable as plain text, check it fits a width."""

from __future__ import annotations

import io

from rich.cells import cell_len
from rich.console import Console


def render(renderable, width: int = 80) -> str:
    """`renderable` printed to a plain-text console `width` cells wide."""
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(renderable)
    return console.file.getvalue()


def fits(out: str, width: int = 80) -> None:
    """Every line of `out` is at most `width` terminal cells."""
    for line in out.splitlines():
        assert cell_len(line) <= width, line
