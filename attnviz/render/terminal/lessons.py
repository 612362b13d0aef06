"""The lessons: why the scores are divided by √d_k (scale), and softmax worked out step by step."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from rich import box
from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.text import Text

from ..text import word
from .common import MAX_ROWS, PANEL_WIDTH, View, _note, _panel, _shown, _tint
from .matrix import matrix_table

if TYPE_CHECKING:  # annotations only
    from ...lessons import ScaleLesson, SoftmaxSteps

SEED_SCORES = (10.5, 2.3, 6.1, 4.4, 9.7)  # the seed's Q1 · K1 … Q1 · K5 for 고양이
SEED_WEIGHTS = (0.32, 0.02, 0.12, 0.06, 0.48)  # the seed's illustrative attention scores for them


def scale_view(lesson: ScaleLesson, *, view: View) -> Group:
    """Why √d_k (seeds 000/002): per d_k, the spread of q·k with and without scaling, the mean
    largest softmax weight and the mean entropy, against the most possible entropy log n."""
    cols = ["√d_k", "std\nq·k", "std\n÷√d_k", "max w\nraw", "max w\n÷√d_k", "H\nraw", "H\n÷√d_k"]
    matrix = np.array([[np.sqrt(r.d_k), r.std_dot, r.std_scaled, r.max_weight_raw, r.max_weight_scaled,
                        r.entropy_raw, r.entropy_scaled] for r in lesson.rows])  # (rows, 7)

    def cell(i: int, j: int | None, value: float) -> Text:
        style = _tint(value, False) if j in (3, 4) else "bold" if j == 2 else ""
        return Text(view.num(value), style=style)

    table, cut = matrix_table(matrix, [str(r.d_k) for r in lesson.rows], cols, view, corner="d_k", cell=cell)
    log_n = float(np.log(lesson.n_keys))
    body = [_note("scale", view), Text(""), table, *([cut] if cut else []),
            Text(word("scale_setup", view.lang).format(rows=lesson.n_rows, keys=lesson.n_keys, seed=lesson.seed),
                 style="dim"),
            Text(word("scale_legend", view.lang).format(n=lesson.n_keys, log_n=view.num(log_n)), style="dim")]
    return Group(_panel("scale", Group(*body), view))


def _fmt_step(value: float, view: View) -> str:
    """A softmax intermediate: the view's precision, or 1.2e-04 when that would print 0.00 for a
    non-zero number, or 1.2e+07 when it is very large."""
    if not np.isfinite(value):
        return view.num(value) if value == -np.inf else str(value)
    if value != 0 and (abs(value) < 0.5 * 10.0 ** -view.precision or abs(value) >= 1e6):
        return f"{value:.1e}"
    return view.num(value)


def softmax_view(steps: SoftmaxSteps, *, view: View) -> Group:
    """A row of scores turned into probabilities, every step in a table:
    score → ÷ (scale · temperature) → − max → exp → ÷ Σ exp."""
    from rich.table import Table

    n = len(steps.scores)
    div = steps.scale * steps.temperature
    best = int(np.argmax(steps.probs))
    rows = list(range(n)) if view.full else _shown(n, MAX_ROWS, keep=best)
    heads = ["#", "score", *([f"÷ {div:g}"] if div != 1 else []), "− max", "exp", "÷ Σ"]
    cells = [[str(i + 1), _fmt_step(steps.scores[i], view),
              *([_fmt_step(steps.logits[i], view)] if div != 1 else []),
              _fmt_step(steps.shifted[i], view), _fmt_step(steps.exp[i], view), _fmt_step(steps.probs[i], view)]
             for i in rows if i is not None]
    widths = [max(cell_len(c) for c in col) for col in zip(heads, *cells)]
    mark = f"← {word('largest', view.lang)}"
    wide = view.full or sum(widths) + 3 * len(widths) + cell_len(mark) <= min(view.width, PANEL_WIDTH) - 4
    pad = 1 if wide else 0  # a narrow console: columns one space apart, the mark a bare ←
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, pad), show_edge=False)
    for k, head in enumerate(heads):
        table.add_column(head, justify="left" if k == 0 else "right", no_wrap=True, style="bold" if k == 0 else "")
    table.add_column("", no_wrap=True)
    shown = iter(cells)
    for i in rows:
        if i is None:
            table.add_row("⋮", *["⋮"] * (len(heads) - 1), "")
            continue
        row = next(shown)
        prob = Text(row[-1], style=_tint(steps.probs[i], i == best))
        table.add_row(*row[:-1], prob, Text(mark if wide else "←", style="bold") if i == best else "",
                      style="bold" if i == best else "")
    table.add_section()
    table.add_row("Σ", *[""] * (len(heads) - 3), _fmt_step(steps.total, view), view.num(float(steps.probs.sum())),
                  "")
    body: list[RenderableType] = [_note("softmax_steps", view), Text(""), table,
                                  Text(word("sum_exp", view.lang).format(total=_fmt_step(steps.total, view)),
                                       style="bold")]
    if not wide:
        body.append(Text(f"← = {word('largest', view.lang)}", style="dim"))
    if steps.scale != 1 or steps.temperature != 1:
        body.append(Text(word("divisor", view.lang).format(scale=f"{steps.scale:g}", temp=f"{steps.temperature:g}",
                                                           div=f"{div:g}"), style="italic"))
    if n == len(SEED_SCORES) and np.allclose(steps.scores, SEED_SCORES):
        seed = " / ".join(f"{w:.2f}" for w in SEED_WEIGHTS)
        real = " / ".join(view.num(p) for p in steps.probs)
        body.append(Text(word("seed_compare", view.lang).format(seed=seed, real=real), style="italic"))
    return Group(_panel("softmax_steps", Group(*body), view))
