"""What each heatmap shows: `Panel`, and the panel (matrix, labels, formula) of each stage of a trace."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...errors import InputError
from ...trace import HeadTrace, Trace
from ..text import word
from .style import _num

#: Stages stage_figure draws ("pipeline" too, through pipeline_figure).
STAGES = ("embeddings", "positions", "x", "q", "k", "v", "scores", "scaled", "softmax", "output")


@dataclass(frozen=True)
class Panel:
    """One heatmap: the matrix, its labels and how to colour it."""

    stage: str
    matrix: np.ndarray  # (rows, cols)
    rows: tuple[str, ...]
    cols: tuple[str, ...]
    row_label: str
    col_label: str
    sequential: bool  # True: 0..1 colormap (softmax); False: diverging, centred at 0
    formula: str  # one line under the title: shapes and the operation
    hidden: np.ndarray | None = None  # (rows, cols) bool, True = hidden by the mask
    hidden_text: str = "−∞"
    cols_are_tokens: bool = True
    note: str = ""  # a second line under the title, e.g. what the grey cells mean

    @property
    def heading(self) -> str:
        """The formula line, and the note under it when there is one."""
        return f"{self.formula}\n{self.note}" if self.note else self.formula


def _output_panel(trace: Trace, lang: str) -> Panel:
    """The layer's output concat·W_O (T×d_model), or the concat (T×h·d_v) when there is no W_O."""
    queries = tuple(tk.label for tk in trace.query_tokens)
    t, hv = trace.concat.shape
    if trace.output is not None:
        matrix, stage = trace.output, "projected"
        formula = f"concat ({t}×{hv}) · W_O ({hv}×{trace.d_model}) → {t}×{trace.d_model}"
    else:
        matrix, stage = trace.concat, "concat"
        formula = f"{trace.n_heads} × ({t}×{trace.d_v}) → {t}×{hv}"
    dims = tuple(str(j + 1) for j in range(matrix.shape[1]))
    return Panel(stage, matrix, queries, dims, word("queries", lang), word("dim_cols", lang), False, formula,
                 cols_are_tokens=False)


def _panel(trace: Trace, stage: str, head: int, lang: str, precision: int) -> Panel:
    """The matrix, labels and formula line of `stage` (head `head` for the per-head stages)."""
    hd: HeadTrace = trace.heads[head]
    queries = tuple(tk.label for tk in trace.query_tokens)
    keys = tuple(tk.label for tk in trace.key_tokens)
    t, s = len(queries), len(keys)
    hidden = None if hd.mask is None else ~hd.mask  # (T, S) True = hidden

    def sh(a: int, b: int) -> str:
        return f"{a}×{b}"

    def table(matrix: np.ndarray, rows: tuple[str, ...], row_label: str, formula: str) -> Panel:
        dims = tuple(str(j + 1) for j in range(matrix.shape[1]))  # dimension 1 … d
        return Panel(stage, matrix, rows, dims, row_label, word("dim_cols", lang), False, formula,
                     cols_are_tokens=False)

    def square(matrix: np.ndarray, formula: str, **kw) -> Panel:
        return Panel(stage, matrix, queries, keys, word("queries", lang), word("keys", lang),
                     formula=formula, **kw)

    dm, dk, dv = trace.d_model, trace.d_k, trace.d_v
    tokens = word("token_rows", lang)
    if stage == "embeddings":
        return table(trace.embeddings, queries, tokens, f"E: T×d_model = {sh(t, dm)}")
    if stage == "positions":
        return table(trace.positions, queries, tokens, f"P: T×d_model = {sh(t, dm)}")
    if stage == "x":
        return table(trace.x, queries, tokens, f"E ({sh(t, dm)}) + P ({sh(t, dm)}) → {sh(t, dm)}")
    if stage == "q":
        return table(hd.q, queries, word("queries", lang), f"X ({sh(t, dm)}) · W_Q ({sh(dm, dk)}) → {sh(t, dk)}")
    if stage == "k":
        return table(hd.k, keys, word("key_rows", lang), f"X ({sh(s, dm)}) · W_K ({sh(dm, dk)}) → {sh(s, dk)}")
    if stage == "v":
        return table(hd.v, keys, word("key_rows", lang), f"X ({sh(s, dm)}) · W_V ({sh(dm, dv)}) → {sh(s, dv)}")
    if stage == "scores":
        return square(hd.scores, f"Q ({sh(t, dk)}) · Kᵀ ({sh(dk, s)}) → {sh(t, s)}", sequential=False)
    if stage == "scaled":
        formula = f"÷ √d_k = √{dk} = {_num(math.sqrt(dk), precision)}  → {sh(t, s)}"
        info = trace.attention
        if info is not None and not math.isclose(info.scale, dk ** -0.5, rel_tol=1e-6):  # Gemma's own scale
            formula = f"× scale = {info.scale:.4g}  → {sh(t, s)}"
        note = "" if hidden is None else f"{word('hidden', lang)} (−∞)"
        return square(hd.scaled, formula, sequential=False, hidden=hidden, hidden_text="−∞", note=note)
    if stage == "softmax":
        formula = f"{word('rows_sum', lang)}  → {sh(t, s)}"
        note = "" if hidden is None else f"{word('hidden', lang)} (0)"
        return square(hd.weights, formula, sequential=True, hidden=hidden, hidden_text="0", note=note)
    if stage == "output":
        return table(hd.output, queries, word("queries", lang),
                     f"{word('weight', lang)} ({sh(t, s)}) · V ({sh(s, dv)}) → {sh(t, dv)}")
    raise InputError(f"unknown stage {stage!r}: choose one of {', '.join(STAGES)}")


def weights_formula(trace: Trace, i: str = "") -> tuple[str, bool]:
    """What the attention weights are, as the trace computed them, and whether the scores went unscaled (× 1):
    softmax(Q·Kᵀ / √d_k); softmax(Q·Kᵀ) for T5, which does not scale; × scale for another scale (Gemma);
    "+ bias" when a position bias was added (T5's self-attention). `i` subscripts Q and K (Q_i·K_iᵀ)."""
    info = trace.attention
    scale = trace.d_k ** -0.5 if info is None else info.scale
    qk = f"Q{i}·K{i}ᵀ"
    if math.isclose(scale, trace.d_k ** -0.5, rel_tol=1e-6):
        core, unscaled = f"{qk} / √d_k", False
    elif scale == 1.0:
        core, unscaled = qk, True
    else:
        core, unscaled = f"{qk} × {scale:.4g}", False
    if any(h.bias is not None for h in trace.heads):
        core += " + bias"
    return f"softmax({core})", unscaled
