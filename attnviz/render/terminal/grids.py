"""One head's softmax as a small tinted grid, hidden keys a dim 0: shared by the mask, heads, block and flow views."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from rich.console import Group
from rich.text import Text

from ...trace import Trace
from .common import View, _tint, short
from .matrix import matrix_table

COMPACT_LABEL = 5  # widest label (terminal cells) in the heads view's small grids


def _visible(trace: Trace, head: int) -> np.ndarray:
    """(T, S) bool, True = may attend (all True without a mask)."""
    hd = trace.heads[head]
    return np.ones(hd.weights.shape, dtype=bool) if hd.mask is None else hd.mask


def _masked_weight_cell(weights: np.ndarray, mask: np.ndarray, view: View) -> Callable:
    """Draw a softmax cell: hidden → a dim 0, visible → the tinted weight; Σ → "—" for a row with
    no visible key."""
    best = np.argmax(np.where(mask, weights, -1.0), axis=1)  # (T,) most attended visible key

    def cell(i: int, j: int | None, value: float) -> Text:
        if j is None:
            return Text(view.num(value) if mask[i].any() else "—", style="dim")
        if not mask[i, j]:
            return Text("0", style="dim")
        return Text(view.num(value), style=_tint(value, j == best[i]))

    return cell


def _compact_grid(trace: Trace, head: int, focus: int, view: View) -> tuple[Group, Text | None]:
    """One head's softmax as a small tinted grid titled "Head i" (labels cut short, no padding)."""
    hd = trace.heads[head]
    rows = [short(t.label, COMPACT_LABEL) for t in trace.query_tokens]
    cols = [f"{j + 1}\n{short(t.label, COMPACT_LABEL - 1)}" for j, t in enumerate(trace.key_tokens)]
    cell = _masked_weight_cell(hd.weights, _visible(trace, head), view)
    table, cut = matrix_table(hd.weights, rows, cols, view, focus=focus, cell=cell, pad=0)
    return Group(Text(f"Head {head + 1}", style="bold"), table), cut
