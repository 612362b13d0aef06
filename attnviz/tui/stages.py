"""What each stage shows: its panel (the explain view's, rich renderables) and its heatmap blocks.

The stages are the explain view's for the trace (render/terminal/explain.py `pipeline_stages`), with the mask
always there (m turns it on) and the output split in two:

    stage      panel (attnviz/render/terminal)                      heatmap
    input      [Input] [Tokens] [X = E + P]                          X (T × d_model)
    qkv        [Step 0 · Query, Key, Value]                          Q, K, V
    rope       [RoPE] (decoders with rotary positions)               Q, K after the rotation
    gqa        [Grouped K/V heads] (fewer K/V heads than heads)      K, V
    scores     [Step 1 · Scores Q·Kᵀ]     Q1 · K3 → …                Q·Kᵀ (T × S)
    scaled     [Step 2 · Scaled Q·Kᵀ / √d_k] (× the model's scale)   ÷ √d_k
    softcap    [Soft-capping] (Gemma 2)                              cap · tanh(scaled / cap)
    mask       the ○/× grid and the masked scores, or "no mask"      masked scores, hidden cells ×
    softmax    [Step 3 · Softmax]         고양이 → 잔다: (0.48)       weights (0..1)
    weighted   [Step 4 · Weighted sum]    0.32 × V1 + …              Z = weights · V (T × d_v)
    output     [Output = concat·W_O] [Passed to the next layer]      concat·W_O (T × d_model)
"""

from __future__ import annotations

import io
import string
from dataclasses import replace

from rich.console import Console, Group, RenderableType
from rich.text import Text

from ..render.terminal.common import ARROW, View, _note, _panel
from ..render.terminal.decoder import scale_is_root
from ..render.terminal.explain import (
    explain_view,
    next_panels,
    output_panel,
    pipeline_stages,
    scaled_panel,
)
from ..render.terminal.mask import mask_grid
from ..render.text import word as panel_word
from ..trace import Trace
from .heatmap import Block
from .words import word

#: Every stage the explorer may show, in order (a trace has the ones stage_names gives).
ALL_STAGES = ("input", "qkv", "rope", "gqa", "scores", "scaled", "softcap", "mask", "softmax", "weighted", "output")


def stage_names(trace: Trace, head: int = 0) -> tuple[str, ...]:
    """This trace's stages: explain's, with "mask" before softmax even when nothing is hidden, and "output" as
    "weighted" (the weighted sum) then "output" (concat · W_O)."""
    names = list(pipeline_stages(trace, head))
    if "mask" not in names:
        names.insert(names.index("softmax"), "mask")
    at = names.index("output")
    names[at:at + 1] = ["weighted", "output"]
    return tuple(names)


def stage_label(trace: Trace, stage: str, lang: str) -> str:
    """The stage's name in the stage bar ("× scale" for a model that does not divide by √d_k)."""
    if stage == "scaled" and not scale_is_root(trace):
        return word("stage_scaled_by", lang)
    return word(f"stage_{stage}", lang)


def stage_panel(trace: Trace, stage: str, *, focus: int, head: int, view: View) -> RenderableType:
    """The explain view's panel(s) of `stage` for head `head` and the focus query (its detail lines)."""
    hd = trace.heads[head]
    if stage == "scaled" and scale_is_root(trace):  # before the mask: −∞ is the mask stage's (explain has both)
        return scaled_panel(trace, replace(hd, masked=None), focus, view)
    if stage == "mask" and hd.mask is None:
        return no_mask_panel(trace, head, focus, view)
    if stage == "weighted":
        return output_panel(trace, hd, focus, view)
    if stage == "output":
        return Group(*[p for p in next_panels(trace, focus, view) if p is not ARROW])
    if stage not in ALL_STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    shown = explain_view(trace, stage=stage, focus=focus, head=head, view=view)
    # without explain's "head 2 of 12" line: the status line says which head
    return Group(*shown.renderables[1:]) if trace.n_heads > 1 else shown


def no_mask_panel(trace: Trace, head: int, focus: int, view: View) -> RenderableType:
    """The all-○ grid of a trace with no mask, and how to turn the causal mask on."""
    grid, cut = mask_grid(trace, head=head, view=view, focus=focus)
    body = [_note("mask_none", view), grid, *([cut] if cut else []),
            Text(word("no_mask_hint", view.lang), style="italic")]
    return _panel("mask_none", Group(*body), view)


def stage_blocks(trace: Trace, stage: str, head: int) -> list[Block]:
    """The matrices the heatmap draws for `stage` (rows line up with the query tokens)."""
    hd = trace.heads[head]
    hidden = None if hd.mask is None else ~hd.mask  # (T, S) True = hidden
    if stage == "input":
        return [Block("X = E + P", trace.x)]
    if stage == "qkv":
        return [Block("Q", hd.q if hd.q_unrotated is None else hd.q_unrotated),
                Block("K", hd.k if hd.k_unrotated is None else hd.k_unrotated), Block("V", hd.v)]
    if stage == "rope":
        return [Block("RoPE(Q)", hd.q), Block("RoPE(K)", hd.k)]
    if stage == "gqa":
        return [Block("K", hd.k), Block("V", hd.v)]
    if stage == "scores":
        return [Block("Q·Kᵀ", hd.scores, keys=True)]
    if stage == "scaled":
        name = "÷ √d_k" if scale_is_root(trace) else f"× {trace.attention.scale:.3g}"
        return [Block(name, hd.scaled, keys=True)]
    if stage == "softcap":
        return [Block("cap·tanh", hd.capped, keys=True)]
    if stage == "mask":
        last = hd.scaled if hd.capped is None else hd.capped  # what the mask sets to −∞
        return [Block("mask → −∞", last, hidden=hidden, keys=True)]
    if stage == "softmax":
        return [Block("softmax", hd.weights, sequential=True, hidden=hidden, keys=True)]
    if stage == "weighted":
        return [Block("softmax·V", hd.output)]
    if stage == "output":
        return [Block("concat·W_O", trace.output) if trace.output is not None else Block("concat", trace.concat)]
    raise ValueError(f"unknown stage {stage!r}")


def detail_marker(trace: Trace, stage: str, focus: int, head: int, lang: str) -> str | None:
    """Text that starts the focus query's detail in `stage`'s panel (None: the stage has none)."""
    q, label = focus + 1, trace.query_tokens[focus].label
    if stage in ("scores", "scaled", "softcap"):
        return f"Q{q} · K1"
    if stage == "rope":
        return _prefix(panel_word("rope_focus", lang), q=q, label=label, head=head + 1)
    if stage == "mask":
        if trace.heads[head].mask is None:
            return None
        return _prefix(panel_word("mask_sees", lang), q=q, label=label)
    if stage == "softmax":
        return f"{panel_word('focus', lang)} Q{q} ="
    if stage == "weighted":
        return f"{panel_word('context', lang)} Q{q} ("
    return None


def _prefix(template: str, **known) -> str:
    """`template` filled in up to its first field not in `known` ("Q{q} {label} sees {n}…" → "Q3 침대 sees ")."""
    out = ""
    for literal, field, _, _ in string.Formatter().parse(template):
        out += literal
        if field is None or field not in known:
            break
        out += str(known[field])
    return out


def detail_line(panel: RenderableType, width: int, marker: str | None) -> int | None:
    """The line of `panel`, drawn `width` cells wide, on which `marker` first appears (None: nowhere)."""
    if not marker:
        return None
    console = Console(width=width, file=io.StringIO(), color_system=None, legacy_windows=False)
    console.print(panel)
    for number, line in enumerate(console.file.getvalue().splitlines()):
        if marker in line:
            return number
    return None
