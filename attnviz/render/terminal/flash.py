"""The flash view: tiled attention walked block by block (online softmax), its result, and the memory it saves."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from rich import box
from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.text import Text

from ..text import word
from .common import (
    ARROW,
    MAX_ROWS,
    PANEL_CHROME,
    PANEL_WIDTH,
    View,
    _fmt_diff,
    _lines,
    _note,
    _panel,
    _shown,
    short,
)
from .matrix import matrix_table

if TYPE_CHECKING:  # annotations only
    from ...flash import BlockStep, FlashWalk

FLASH_MAX_BLOCKS = 6  # key blocks walked through before the list is cut (unless --full); the last one always shows


def _flash_bytes(n: float) -> str:
    """1536 → "1.5 KiB", 4194304 → "4 MiB" (powers of 1024)."""
    unit = "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            break
        n /= 1024
    return f"{n:.0f} {unit}" if unit == "B" or n >= 100 or n == int(n) else f"{n:.1f} {unit}"


def _flash_vector(values: np.ndarray, view: View, room: int) -> str:
    """"[0.12, −0.30, …, 0.01]": the numbers at the view's precision, cut with … to `room` cells."""
    texts = [view.num(x) for x in values]
    limit = len(texts)
    while True:
        idx = list(range(len(texts))) if view.full or limit >= len(texts) else _shown(len(texts), limit)
        out = "[" + ", ".join("…" if i is None else texts[i] for i in idx) + "]"
        if view.full or cell_len(out) <= room or limit <= 3:
            return out
        limit -= 1


def _flash_keys(start: int, stop: int) -> str:
    return f"K{start + 1}" if stop - start == 1 else f"K{start + 1}–K{stop}"


def _flash_block_head(walk: FlashWalk, st: BlockStep, view: View, room: int) -> Text:
    """Block 2 · K3–K4: 침대, 에서"""
    head = f"{word('flash_block', view.lang).format(n=st.index + 1)} · {_flash_keys(st.start, st.stop)}: "
    labels = ", ".join(walk.key_labels[st.start:st.stop])
    return Text(head + short(labels, max(4, room - cell_len(head))), style="bold")


def _flash_block_lines(walk: FlashWalk, st: BlockStep, view: View, room: int) -> list[Text]:
    """One key block for the focus query: its scores, block max, m, rescale, ℓ and the output so far."""
    lines = [_flash_block_head(walk, st, view, room)]
    if st.skipped:
        return [*lines, Text("  " + word("flash_skipped", view.lang), style="dim")]
    num = view.num
    scores = "  s = q·k/√d_k = "
    lines.append(Text(scores + _flash_vector(st.scaled, view, room - cell_len(scores))))
    lines.append(Text(f"  {word('flash_block_max', view.lang)} {num(st.block_max)} · m {num(st.m_before)} → "
                      f"{num(st.m_after)} · {word('flash_rescale', view.lang)} exp({num(st.m_before)} − "
                      f"{num(st.m_after)}) = {num(st.rescale)}"))
    lines.append(Text(f"  ℓ = {num(st.rescale)} × {num(st.l_before)} + {num(st.block_sum)} = {num(st.l_after)}"))
    partial = f"  {word('flash_partial', view.lang)} = "
    lines.append(Text(partial + _flash_vector(st.partial, view, room - cell_len(partial)), style="bold"))
    return lines


def flash_view(walk: FlashWalk, *, view: View) -> Group:
    """Flash (tiled) attention as the textbook has it: [Tiles] the keys cut into blocks of B ↓
    [Online softmax] block by block for the focus query: scores, block max, m, rescale exp(m_old − m_new),
    ℓ and the output so far ↓ [Result] tiled vs standard softmax·V, max |difference|, every query's final
    m and ℓ ↓ [Memory] the T × S score matrix vs a tile's working set for n = 1k … 64k, and this run's peak."""
    from rich.table import Table

    room = min(view.width, PANEL_WIDTH) - PANEL_CHROME
    s = len(walk.key_labels)
    tiles = []
    for st in walk.steps:
        head = f"{word('flash_block', view.lang).format(n=st.index + 1)}: {_flash_keys(st.start, st.stop)}  "
        labels = short(" · ".join(walk.key_labels[st.start:st.stop]), max(4, room - cell_len(head)))
        tiles.append(Text(head + labels, style="dim" if st.skipped else ""))
    parts: list[RenderableType] = [_panel(
        "flash_tiles", Group(_note("flash_tiles", view), Text(""), *_lines(tiles, view, keep=len(tiles) - 1)), view,
        subtitle=word("flash_n_blocks", view.lang).format(s=s, b=walk.block, n=walk.n_blocks), b=walk.block),
        ARROW]

    shown = list(range(walk.n_blocks)) if view.full else _shown(walk.n_blocks, FLASH_MAX_BLOCKS)
    steps: list[RenderableType] = [_note("flash_steps", view)]
    for i in shown:
        steps.append(Text(""))
        if i is None:
            steps.append(Text("⋮"))
            continue
        steps += _flash_block_lines(walk, walk.steps[i], view, room)
    focus_label = walk.query_labels[walk.focus]
    parts += [_panel("flash_steps", Group(*steps), view, q=walk.focus + 1, label=short(focus_label, 16)), ARROW]

    tiled_head, standard_head = word("flash_tiled", view.lang), word("flash_standard", view.lang)
    w = max(cell_len(tiled_head), cell_len(standard_head))
    pad = {tiled_head: " " * (w - cell_len(tiled_head)), standard_head: " " * (w - cell_len(standard_head))}
    tiled_line = f"{tiled_head}{pad[tiled_head]}  O = "
    standard_line = f"{standard_head}{pad[standard_head]}  softmax·V = "
    result: list[RenderableType] = [
        _note("flash_result", view), Text(""),
        Text(tiled_line + _flash_vector(walk.output, view, room - cell_len(tiled_line))),
        Text(standard_line + _flash_vector(walk.standard, view, room - cell_len(standard_line))),
        Text(word("flash_focus_diff", view.lang).format(q=walk.focus + 1, d=_fmt_diff(walk.max_diff)),
             style="bold"), Text("")]
    summary = np.column_stack([walk.m, walk.ell, walk.row_diff])  # (T, 3)

    def cell(i: int, j: int | None, value: float) -> Text:
        if j == 2:
            return Text("—" if np.isnan(value) else _fmt_diff(value), style="dim" if np.isnan(value) else "")
        return Text(view.num(value))

    table, cut = matrix_table(summary, [f"Q{i + 1} {label}" for i, label in enumerate(walk.query_labels)],
                              ["m", "ℓ", "max |Δ|"], view, corner="Q", focus=walk.focus, cell=cell)
    if cut:
        shown_rows = sum(i is not None for i in _shown(len(walk.query_labels), MAX_ROWS, keep=walk.focus))
        cut = Text(word("flash_cut", view.lang).format(rows=shown_rows, n=len(walk.query_labels)),
                   style="italic yellow")
    result += [table, *([cut] if cut else []),
               Text(word("flash_all_diff", view.lang).format(t=len(walk.query_labels), d=_fmt_diff(walk.all_max_diff))
                    if walk.checked is None else word("flash_some_diff", view.lang).format(
                        n=walk.checked, t=len(walk.query_labels), d=_fmt_diff(walk.all_max_diff)), style="bold"),
               Text(word("flash_no_matrix", view.lang), style="italic")]
    parts += [_panel("flash_result", Group(*result), view), ARROW]

    mem = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), show_edge=False)
    mem.add_column("n = T = S", justify="right", no_wrap=True, style="bold")
    mem.add_column(word("flash_full", view.lang), justify="right", no_wrap=True)
    mem.add_column(word("flash_tile", view.lang).format(b=walk.block), justify="right", no_wrap=True)
    mem.add_column(word("flash_ratio", view.lang), justify="right", no_wrap=True)
    for row in walk.memory:
        mem.add_row(f"{row.n:,}", _flash_bytes(row.full_bytes), _flash_bytes(row.tiled_bytes), f"{row.ratio:,.0f}×")
    memory: list[RenderableType] = [_note("flash_memory", view), Text(""), mem]
    if walk.peak is not None:
        peak = walk.peak
        memory += [Text(""), Text(word("flash_run", view.lang).format(
            t=len(walk.query_labels), s=s, scores=_flash_bytes(peak.scores_bytes),
            full=_flash_bytes(peak.full_bytes), tiled=_flash_bytes(peak.tiled_bytes)))]
        if len(walk.query_labels) * s < 64 * 64:
            memory.append(Text(word("flash_run_small", view.lang), style="dim"))
    parts.append(_panel("flash_memory", Group(*memory), view,
                        subtitle=word("flash_d", view.lang).format(d_k=walk.d_k, d_v=walk.d_v)))
    return Group(*parts)
