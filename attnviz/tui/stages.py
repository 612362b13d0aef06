"""What each stage shows: its panel (the explain view's, rich renderables) and its heatmap blocks.

    stage      panel (attnviz/render/terminal)                      heatmap
    input      [Input] [Tokens] [X = E + P]                          X (T × d_model)
    qkv        [Step 0 · Query, Key, Value]                          Q, K, V
    scores     [Step 1 · Scores Q·Kᵀ]     Q1 · K3 → …                Q·Kᵀ (T × S)
    scaled     [Step 2 · Scaled Q·Kᵀ / √d_k]                         ÷ √d_k
    mask       the ○/× grid and the masked scores, or "no mask"      masked scores, hidden cells ×
    softmax    [Step 3 · Softmax]         고양이 → 잔다: (0.48)       weights (0..1)
    weighted   [Step 4 · Weighted sum]    0.32 × V1 + …              Z = weights · V (T × d_v)
    output     [Output = concat·W_O] [Passed to the next layer]      concat·W_O (T × d_model)
"""

from __future__ import annotations

import io
from dataclasses import replace

from rich.console import Console, Group, RenderableType
from rich.text import Text

from ..render.terminal.common import ARROW, View, _indexed, _note, _panel
from ..render.terminal.explain import (
    input_panels,
    next_panels,
    output_panel,
    qkv_panel,
    scaled_panel,
    scores_panel,
    softmax_panel,
)
from ..render.terminal.mask import _mask_focus_lines, _mask_kind, mask_grid
from ..render.terminal.matrix import matrix_table
from ..render.text import word as panel_word
from ..trace import Trace
from .heatmap import Block
from .words import word


def stage_panel(trace: Trace, stage: str, *, focus: int, head: int, view: View) -> RenderableType:
    """The explain view's panel(s) of `stage` for head `head` and the focus query (its detail lines)."""
    hd = trace.heads[head]
    if stage == "input":
        return Group(*input_panels(trace, view))
    if stage == "qkv":
        return qkv_panel(trace, hd, view)
    if stage == "scores":
        return scores_panel(trace, hd, focus, view)
    if stage == "scaled":  # before the mask: its own stage comes next (explain shows both in one panel)
        return scaled_panel(trace, replace(hd, masked=None), focus, view)
    if stage == "mask":
        return mask_panel(trace, head, focus, view)
    if stage == "softmax":
        return softmax_panel(trace, hd, focus, view)
    if stage == "weighted":
        return output_panel(trace, hd, focus, view)
    if stage == "output":
        return Group(*[p for p in next_panels(trace, focus, view) if p is not ARROW])
    raise ValueError(f"unknown stage {stage!r}")


def mask_panel(trace: Trace, head: int, focus: int, view: View) -> RenderableType:
    """The mask view's grid (○ may attend, × hidden) and masked scores with the focus query's lines; without a
    mask, the all-○ grid and how to turn the causal mask on."""
    grid, cut = mask_grid(trace, head=head, view=view, focus=focus)
    kind = _mask_kind(trace, head)
    if kind == "mask_none":
        body = [_note("mask_none", view), grid, *([cut] if cut else []),
                Text(word("no_mask_hint", view.lang), style="italic")]
        return _panel(kind, Group(*body), view)
    hd = trace.heads[head]
    table, cut2 = matrix_table(hd.masked, _indexed("Q", trace.query_tokens), _indexed("K", trace.key_tokens), view,
                               corner="÷ √d_k", focus=focus)
    body = [_note("mask_grid", view), grid, *([cut] if cut else []), _note("masked", view), table,
            *([cut2] if cut2 else []), *_mask_focus_lines(trace, head, focus, view)]
    return _panel(kind, Group(*body), view)


def stage_blocks(trace: Trace, stage: str, head: int) -> list[Block]:
    """The matrices the heatmap draws for `stage` (rows line up with the query tokens)."""
    hd = trace.heads[head]
    hidden = None if hd.mask is None else ~hd.mask  # (T, S) True = hidden
    if stage == "input":
        return [Block("X = E + P", trace.x)]
    if stage == "qkv":
        return [Block("Q", hd.q), Block("K", hd.k), Block("V", hd.v)]
    if stage == "scores":
        return [Block("Q·Kᵀ", hd.scores, keys=True)]
    if stage == "scaled":
        return [Block("÷ √d_k", hd.scaled, keys=True)]
    if stage == "mask":
        return [Block("mask → −∞", hd.scaled, hidden=hidden, keys=True)]
    if stage == "softmax":
        return [Block("softmax", hd.weights, sequential=True, hidden=hidden, keys=True)]
    if stage == "weighted":
        return [Block("softmax·V", hd.output)]
    if stage == "output":
        return [Block("concat·W_O", trace.output) if trace.output is not None else Block("concat", trace.concat)]
    raise ValueError(f"unknown stage {stage!r}")


def detail_marker(trace: Trace, stage: str, focus: int, lang: str) -> str | None:
    """Text that starts the focus query's detail in `stage`'s panel (None: the stage has none)."""
    q = focus + 1
    if stage in ("scores", "scaled"):
        return f"Q{q} · K1"
    if stage == "mask":
        if trace.heads[0].mask is None and all(h.mask is None for h in trace.heads):
            return None
        return panel_word("focus_scaled", lang).format(q=q, label=trace.query_tokens[focus].label)
    if stage == "softmax":
        return f"{panel_word('focus', lang)} Q{q} ="
    if stage == "weighted":
        return f"{panel_word('context', lang)} Q{q} ("
    return None


def detail_line(panel: RenderableType, width: int, marker: str | None) -> int | None:
    """The line of `panel`, drawn `width` cells wide, on which `marker` first appears (None: nowhere)."""
    if marker is None:
        return None
    console = Console(width=width, file=io.StringIO(), color_system=None, legacy_windows=False)
    console.print(panel)
    for number, line in enumerate(console.file.getvalue().splitlines()):
        if marker in line:
            return number
    return None
