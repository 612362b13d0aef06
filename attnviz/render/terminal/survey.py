"""The engineer's views of a checkpoint: the head survey (layers × heads grids), attention rollout and the
logit lens, in the terminal (rows are queries, columns keys; layers count from 0, heads from 1)."""

from __future__ import annotations

import numpy as np
from rich import box
from rich.console import Group, RenderableType
from rich.text import Text

from ...analysis import SCORES
from ..text import word
from .common import ARROW, View, _indexed, _note, _panel, _tint, short
from .matrix import matrix_table

SHADES = " ░▒▓█"  # a cell's value, readable without colour
STRONGEST = 3  # heads named per score under the grids


def _scale(name: str, grid: np.ndarray, n_tokens: int) -> float:
    """The value a score's grid shades as full: ln T for entropy, the largest value for distance, else 1."""
    if name == "entropy":
        return float(np.log(max(n_tokens, 2)))
    if name == "distance":
        return float(grid.max()) or 1.0
    return 1.0


def _cell(value: float, top: float) -> Text:
    w = float(np.clip(value / top, 0.0, 1.0)) if top > 0 else 0.0
    shade = SHADES[min(int(round(w * (len(SHADES) - 1))), len(SHADES) - 1)]
    return Text(shade * 2, style=_tint(w, False))


def _grid(name: str, grid: np.ndarray, n_tokens: int, view: View) -> Group:
    """One score as a layers × heads block of shaded cells, titled with its name and full-shade value."""
    top = _scale(name, grid, n_tokens)
    n_layers, n_heads = grid.shape
    lw = len(f"L{n_layers - 1}")
    lines = [Text(f"{name} (█ = {view.num(top)})", style="bold"),
             Text(" " * (lw + 1) + "".join(f"{h + 1:<2}"[:2] if h % 2 == 0 else "  " for h in range(n_heads)),
                  style="dim")]
    for layer in range(n_layers):
        line = Text(f"L{layer}".rjust(lw) + " ", style="dim")
        for h in range(n_heads):
            line.append_text(_cell(grid[layer, h], top))
        lines.append(line)
    return Group(*lines)


def head_name(layer: int, head: int) -> str:
    """L3.H5: layer from 0 and head from 1, as --layer and --head count them."""
    return f"L{layer}.H{head + 1}"


def survey_view(result, *, view: View, sort: str | None = None, top: int = 10) -> Group:
    """Every score as a layers × heads grid, the strongest heads of each kind named, and (sort) the `top`
    heads of one score with all their scores."""
    from rich.columns import Columns

    from ...probes import ranked

    n_tokens = len(result.tokens)
    n_layers, n_heads = result.scores["entropy"].shape
    head = Text(f"{result.model}: {n_layers} × {n_heads} {word('survey_heads', view.lang)}, "
                f"{word('n_tokens', view.lang).format(n=n_tokens)}", style="bold")
    grids = [_grid(name, result.scores[name], n_tokens, view) for name in SCORES]
    best = []
    for name in SCORES:
        line = Text(f"{name:<9} ", style="bold")
        line.append(" · ".join(f"{head_name(la, h)} {view.num(v)}" for la, h, v in ranked(result, name, STRONGEST)))
        best.append(line)
    body = [head, _note("survey", view), Text(""), Columns(grids, padding=(1, 3)), Text(""),
            Text(word("survey_best", view.lang), style="bold"), *best]
    parts: list[RenderableType] = [_panel("survey", Group(*body), view)]
    if sort is not None:
        parts += [ARROW, _panel("survey_sorted", _sorted_table(result, sort, top, view), view, score=sort, n=top)]
    return Group(*parts)


def _sorted_table(result, sort: str, top: int, view: View):
    from rich.table import Table

    from ...probes import ranked

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column(word("head", view.lang), no_wrap=True, style="bold")
    for name in SCORES:
        table.add_column(name[:8], justify="right", no_wrap=True, style="bold" if name == sort else "")
    for layer, h, _ in ranked(result, sort, top):
        table.add_row(head_name(layer, h), *(view.num(result.scores[name][layer, h]) for name in SCORES))
    return table


# --- rollout -------------------------------------------------------------------------------------------

def _bar(row: np.ndarray, tokens, view: View, width: int = 30) -> list[Text]:
    """One line per key: its label, a bar as long as its share, the share."""
    top = float(row.max()) or 1.0
    lines = []
    for j, (tk, value) in enumerate(zip(tokens, row)):
        n = int(round(width * float(value) / top))
        lines.append(Text(f"K{j + 1:<3}{short(tk.label):<9}") + Text("█" * n, style="blue")
                     + Text(f" {view.num(value)}"))
    return lines


def rollout_view(result, *, layer: int, focus: int, view: View) -> Group:
    """R at `layer` as a tinted matrix and the focus query's row as bars; with value-norm weighing, that layer's
    plain attention mixing M beside the value-norm one first (the difference is the point)."""
    rows = _indexed("Q", result.tokens)
    cols = _indexed("K", result.tokens)
    parts: list[RenderableType] = []
    if result.attention_mix is not None:
        from rich.columns import Columns

        a, _ = matrix_table(result.attention_mix[layer], rows, cols, view, tint=True, focus=focus, pad=0)
        b, cut = matrix_table(result.mix[layer], rows, cols, view, tint=True, focus=focus, pad=0)
        pair = Columns([Group(Text(word("mix_attention", view.lang), style="bold"), a),
                        Group(Text(word("mix_value_norm", view.lang), style="bold"), b)], padding=(1, 3))
        parts += [_panel("rollout_mix", Group(_note("rollout_mix", view), pair, *([cut] if cut else [])), view,
                         layer=layer), ARROW]
    table, cut = matrix_table(result.rollout[layer], rows, cols, view, tint=True, focus=focus)
    label = result.tokens[focus].label
    body = Group(_note("rollout", view), Text(f"{result.model} · weigh = {result.weigh}", style="dim"), table,
                 *([cut] if cut else []), Text(""),
                 Text(word("rollout_row", view.lang).format(q=focus + 1, label=label), style="bold"),
                 *_bar(result.rollout[layer][focus], result.tokens, view))
    parts.append(_panel("rollout", body, view, layer=layer))
    return Group(*parts)


# --- the logit lens ------------------------------------------------------------------------------------

def lens_view(result, *, focus: int, view: View) -> Group:
    """Top-1 token per layer (rows, going up) and position (columns), the final prediction's probability
    shading each cell; then the focus position's top-k with probabilities, layer by layer."""
    from rich.table import Table

    n = len(result.layers)
    t = len(result.tokens)
    room = max(1, (min(view.width, 80) - 10) // 9) if not view.full else t
    shown = list(range(t)) if t <= room else [*range(room - 1), t - 1]
    grid = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    grid.add_column(word("layer", view.lang), justify="right", no_wrap=True)
    for j in shown:
        if j == t - 1 and len(shown) < t:
            grid.add_column("…", no_wrap=True)
        grid.add_column(f"{j + 1}\n{short(result.tokens[j].label, 7)}", no_wrap=True)
    final = result.final_ids
    for k in reversed(range(n)):
        lay = result.layers[k]
        cells = [Text(short(result.pieces[int(lay.top_ids[j, 0])], 7),
                      style=_tint(float(lay.final_p[j]), int(lay.top_ids[j, 0]) == int(final[j])))
                 for j in shown]
        if len(shown) < t:
            cells.insert(len(shown) - 1, Text("…"))
        grid.add_row(str(k), *cells)
    parts: list[RenderableType] = [_panel("lens", Group(_note("lens", view), grid), view)]
    focus_table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    focus_table.add_column(word("layer", view.lang), justify="right", no_wrap=True)
    k_top = result.layers[0].top_ids.shape[1]
    for r in range(k_top):
        focus_table.add_column(f"#{r + 1}", no_wrap=True)
    focus_table.add_column(word("final_rank", view.lang), justify="right", no_wrap=True)
    for k in reversed(range(n)):
        lay = result.layers[k]
        focus_table.add_row(str(k), *(f"{short(result.pieces[int(i)], 8)} {view.num(p)}"
                                      for i, p in zip(lay.top_ids[focus], lay.top_p[focus])),
                            str(int(lay.final_rank[focus]) + 1))
    label = result.tokens[focus].label
    parts += [ARROW, _panel("lens_focus", focus_table, view, q=focus + 1, label=label)]
    return Group(*parts)
