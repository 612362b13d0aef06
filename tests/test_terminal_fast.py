"""The Matrix renderable (render/terminal/matrix.py) against hand-drawn expectations: layout, styles, widths,
the fallback to rich's Table when the console is too narrow, no rich.table on the explain path, and the
package's lazy names (the explain path imports its own modules alone)."""

import inspect
import io
import subprocess
import sys

import numpy as np
import pytest
from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from rich.text import Text

from attnviz.pipeline import self_attention
from attnviz.render.terminal import Matrix, View, explain_view, matrix_table

SCORES = np.array([[1.5, -0.25, 10.0], [0.0, 2.0, -3.5]])  # (T, S) = (2, 3)
ROWS = ["Q1 고양이", "Q2 잔다"]
COLS = ["K1 고양이", "K2 침대", "K3 잔다"]


def render(renderable, width=80, color_system=None) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=color_system,
                      force_terminal=color_system is not None)
    console.print(renderable)
    return console.file.getvalue()


def segments(renderable, width=80) -> list[Segment]:
    console = Console(file=io.StringIO(), width=width, color_system="truecolor", force_terminal=True)
    return list(console.render(renderable, console.options))


def test_two_by_three_matrix_with_two_line_headers():
    """Label column 9 wide + 1 padding, value columns 6 wide (the widest header, 고양이) + 1 padding
    either side, Σ 5 wide + 1 on its left; one space between columns; the rule spans all 44 cells."""
    table, cut = matrix_table(SCORES, ROWS, COLS, View(), corner="Q·Kᵀ", focus=0, row_sums=True)
    assert cut is None
    expected = [
        "                K1       K2       K3        ",
        "Q·Kᵀ        고양이     침대     잔다       Σ",
        "────────────────────────────────────────────",
        "Q1 고양이     1.50    -0.25    10.00   11.25",
        "Q2 잔다       0.00     2.00    -3.50   -1.50",
    ]
    assert render(table).splitlines() == expected
    assert table.width == 44
    assert Console(width=80).measure(table).maximum == 44


def test_grid_boxes_every_cell_and_centres_marks():
    mask = np.array([[1.0, 0.0], [1.0, 1.0]])

    def cell(i, j, value):
        return Text("○", justify="center") if value else Text("×", style="dim", justify="center")

    table, _ = matrix_table(mask, ["Q1 a", "Q2 bb"], ["K1 a", "K2 bb"], View(), corner="Q ╲ K", cell=cell,
                            grid=True)
    assert render(table).splitlines() == [
        "┌───────┬────┬────┐",
        "│       │ K1 │ K2 │",
        "│ Q ╲ K │  a │ bb │",
        "├───────┼────┼────┤",
        "│ Q1 a  │ ○  │ ×  │",
        "├───────┼────┼────┤",
        "│ Q2 bb │ ○  │ ○  │",
        "└───────┴────┴────┘",
    ]


def test_cell_styles():
    """Headers bold, the label column bold (reversed on the focus row), Σ dim, softmax cells tinted."""
    weights = np.array([[0.7, 0.2, 0.1], [0.05, 0.05, 0.9]])
    table, _ = matrix_table(weights, ROWS, COLS, View(), corner="softmax", focus=1, tint=True, row_sums=True)
    by_text = {s.text.strip(): s.style for s in segments(table) if s.text.strip()}
    assert by_text["K1"].bold and by_text["Σ"].bold
    assert by_text["Q1 고양이"].bold and not by_text["Q1 고양이"].reverse
    assert by_text["Q2 잔다"].bold and by_text["Q2 잔다"].reverse
    assert by_text["1.00"].dim
    assert by_text["0.70"].bgcolor is not None and by_text["0.70"].bold  # the row's largest weight
    assert by_text["0.20"].bgcolor is not None and not by_text["0.20"].bold


def test_every_line_is_the_matrix_width():
    """Cut matrices too (a … column, a ⋮ row), cut for a narrow view, and compact (pad 0) ones."""
    rng = np.random.default_rng(0)
    big = rng.normal(size=(30, 30))  # (T, S)
    labels = [f"Q{i + 1} 토큰{i}" for i in range(30)]
    keys = [f"K{j + 1} 토큰{j}" for j in range(30)]
    for width, pad in ((80, 1), (40, 1), (80, 0)):
        table, cut = matrix_table(big, labels, keys, View(width=width), corner="Q·Kᵀ", focus=20, tint=True,
                                  row_sums=True, pad=pad)
        assert cut is not None
        lines = render(table).splitlines()
        assert any("…" in line for line in lines) and any(line.startswith("⋮") for line in lines)
        assert {cell_len(line) for line in lines} == {table.width}, (width, pad)


def test_too_narrow_a_console_falls_back_to_rich_table():
    """Wider than the console (--full): drawn by rich's Table, as before; the console crops what does not fit."""
    table, _ = matrix_table(SCORES, ROWS, COLS, View(full=True), corner="Q·Kᵀ", row_sums=True)
    assert isinstance(table, Matrix) and table.width == 44
    lines = render(table, width=30).splitlines()
    assert lines == render(table._table(), width=30).splitlines()
    assert all(cell_len(line) <= 30 for line in lines)
    assert lines[3].startswith("Q1 고양이     1.50    -0.25")
    assert Console(width=30).measure(table).maximum == 30


def test_colour_output_matches_plain_text():
    trace = self_attention("고양이는 침대에서 잔다", tokenizer="words")
    view = View()
    coloured = render(explain_view(trace, view=view), color_system="truecolor")
    assert "\x1b[" in coloured
    plain = Text.from_ansi(coloured).plain
    assert plain.splitlines() == render(explain_view(trace, view=view)).splitlines()


def test_explain_path_imports_only_its_modules():
    """Printing the explain view loads three terminal modules, and not rich's Table or Columns."""
    code = ("import io, sys; from rich.console import Console; from attnviz.pipeline import self_attention; "
            "from attnviz.render import terminal as term; "
            "Console(file=io.StringIO(), width=80).print(term.explain_view(self_attention('고양이는 침대에서 잔다'), "
            "view=term.View())); "
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('attnviz.render.terminal.') "
            "or m in ('rich.table', 'rich.columns'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [f"attnviz.render.terminal.{m}" for m in ("common", "explain", "matrix")]


def test_every_public_name_resolves_from_its_module():
    import attnviz.render.terminal as term

    for name in term.__all__:
        value = getattr(term, name)
        assert name in dir(term)
        if inspect.isfunction(value) or inspect.isclass(value):
            assert value.__module__.startswith("attnviz.render.terminal."), name
    with pytest.raises(AttributeError, match="no_such_view"):
        term.no_such_view  # noqa: B018
