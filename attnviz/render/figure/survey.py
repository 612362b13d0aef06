"""Figures of a checkpoint's head survey (one layers × heads grid per score), its attention rollout (R as a
heatmap, the focus query's row as bars, value-norm beside attention) and its logit lens (the final prediction's
probability and rank by layer and position)."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure

from ...analysis import SCORES
from ..text import caption, title, word
from .canvas import _axes, _new_figure, _outline_row, _text
from .style import THEMES, _short

LABEL = 10.0


def _style(ax, th) -> None:
    ax.tick_params(colors=th.fg, labelsize=LABEL - 1)
    for spine in ax.spines.values():
        spine.set_color(th.muted)


def _bar(fig, image, box, th) -> None:
    bar = fig.colorbar(image, cax=_axes(fig, box))
    bar.ax.tick_params(colors=th.fg, labelsize=LABEL - 2)
    bar.outline.set_edgecolor(th.muted)


def survey_figure(result, *, theme: str = "light", lang: str = "en", precision: int = 2) -> Figure:
    """Six small layers × heads grids (entropy, sink, previous, self, distance, induction), each on its own
    colour scale (rows layers from 0, columns heads from 1)."""
    th = THEMES[theme]
    width, height = 16.0, 9.0
    fig = _new_figure((width, height), th)
    cmap = mpl.colormaps[th.sequential]
    n_layers, n_heads = result.scores["entropy"].shape
    cols, rows = 3, 2
    cell_w, cell_h = (width - 1.0) / cols, (height - 2.2) / rows
    side_w, side_h = cell_w - 1.6, cell_h - 0.9
    for k, name in enumerate(SCORES):
        r, c = divmod(k, cols)
        grid = result.scores[name]
        top = float(np.log(max(len(result.tokens), 2))) if name == "entropy" else (
            float(grid.max()) or 1.0 if name == "distance" else 1.0)
        x, y = 0.8 + c * cell_w, height - 1.4 - (r + 1) * cell_h + 0.5
        ax = _axes(fig, (x, y, side_w, side_h))
        image = ax.imshow(grid, cmap=cmap, norm=Normalize(0.0, top), interpolation="nearest", aspect="auto")
        ax.set_xticks(range(n_heads), [str(h + 1) for h in range(n_heads)] if n_heads <= 16 else [""] * n_heads)
        step = max(1, n_layers // 12)
        ax.set_yticks(range(0, n_layers, step), [f"L{i}" for i in range(0, n_layers, step)])
        _style(ax, th)
        _text(fig, x + side_w / 2, y + side_h + 0.1, name, th.fg, 13.0)
        _bar(fig, image, (x + side_w + 0.12, y, 0.14, side_h), th)
    _text(fig, width / 2, height - 0.8, f"{result.model}: {title('survey', lang)}", th.fg, 18.0)
    _text(fig, width / 2, 0.25, f"{word('layer', lang)} ↓ × {word('head', lang)} →  ·  "
          f"{word('n_tokens', lang).format(n=len(result.tokens))}  ·  induction: n = {result.induction_n}, "
          f"seed {result.induction_seed}", th.muted, 10.5)
    return fig


def _matrix(fig, ax, m, tokens, th, focus, norm=None):
    image = ax.imshow(m, cmap=mpl.colormaps[th.sequential], norm=norm or Normalize(0.0, 1.0),
                      interpolation="nearest", aspect="auto")
    t = len(tokens)
    step = max(1, t // 24)
    labels = [_short(tk.label) for tk in tokens]
    ax.set_xticks(range(0, t, step), labels[::step], rotation=90)
    ax.set_yticks(range(0, t, step), labels[::step])
    ax.set_xlabel(word("keys", "en"), color=th.fg)
    ax.set_ylabel(word("queries", "en"), color=th.fg)
    _style(ax, th)
    if focus is not None:
        _outline_row(ax, focus, t, th.accent, linewidth=1.5)
    return image


def rollout_figure(result, *, layer: int, focus: int = 0, theme: str = "light", lang: str = "en",
                   precision: int = 2) -> Figure:
    """R through `layer` as a heatmap (rows queries, columns keys) and the focus query's row as bars; with
    value-norm weighing, that layer's attention mixing and value-norm mixing beside it."""
    th = THEMES[theme]
    width, height = 16.0, 9.0
    fig = _new_figure((width, height), th)
    panels = [(result.rollout[layer], title("rollout", lang).format(layer=layer))]
    if result.attention_mix is not None:
        panels = [(result.attention_mix[layer], f"L{layer} · {word('mix_attention', lang)}"),
                  (result.mix[layer], f"L{layer} · {word('mix_value_norm', lang)}"), *panels]
    n = len(panels) + 1
    slot = (width - 0.6) / n
    side = min(slot - 1.7, height - 3.6)
    y0 = (height - side) / 2 - 0.3
    image = None
    for k, (m, name) in enumerate(panels):
        x = 0.3 + k * slot + 1.2
        ax = _axes(fig, (x, y0, side, side))
        image = _matrix(fig, ax, m, result.tokens, th, focus)
        _text(fig, x + side / 2, y0 + 0.1 + side, name, th.fg, 12.0)
    _bar(fig, image, (0.3 + len(panels) * slot + 0.2, y0, 0.14, side), th)
    ax = _axes(fig, (0.3 + len(panels) * slot + 1.6, y0, slot - 1.9, side))
    row = result.rollout[layer][focus]
    t = len(row)
    ax.barh(range(t), row, color=th.accent)
    ax.set_yticks(range(t), [_short(tk.label) for tk in result.tokens])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    _style(ax, th)
    _text(fig, 0.3 + len(panels) * slot + 1.6 + (slot - 1.9) / 2, y0 + 0.1 + side,
          f"Q{focus + 1} {_short(result.tokens[focus].label)}", th.fg, 12.0)
    _text(fig, width / 2, height - 0.8, f"{result.model} · weigh = {result.weigh}", th.fg, 18.0)
    _text(fig, width / 2, 0.3, caption("rollout", lang), th.muted, 10.5)
    return fig


def lens_figure(result, *, theme: str = "light", lang: str = "en", precision: int = 2) -> Figure:
    """Two layers × positions heatmaps (layer 0 at the bottom): the final prediction's probability, and its
    rank (1 = top, log scale) in each layer's lens distribution."""
    th = THEMES[theme]
    width, height = 16.0, 9.0
    fig = _new_figure((width, height), th)
    p = np.stack([lay.final_p for lay in result.layers])  # (L + 1, T)
    rank = np.stack([lay.final_rank for lay in result.layers]) + 1  # (L + 1, T)
    t = p.shape[1]
    labels = [_short(tk.label) for tk in result.tokens]
    step = max(1, t // 24)
    for k, (m, name, norm) in enumerate(((p, word("lens_prob", lang), Normalize(0.0, 1.0)),
                                         (rank, word("lens_rank", lang), LogNorm(1, max(2, int(rank.max())))))):
        x = 1.2 + k * 7.6
        ax = _axes(fig, (x, 1.6, 6.0, 5.8))
        cmap = mpl.colormaps[th.sequential]
        image = ax.imshow(m, cmap=cmap if k == 0 else cmap.reversed(), norm=norm, origin="lower",
                          interpolation="nearest", aspect="auto")
        ax.set_xticks(range(0, t, step), labels[::step], rotation=90)
        ax.set_ylabel(word("layer", lang), color=th.fg)
        ystep = max(1, m.shape[0] // 16)
        ax.set_yticks(range(0, m.shape[0], ystep))
        _style(ax, th)
        _text(fig, x + 3.0, 7.5, name, th.fg, 12.0)
        _bar(fig, image, (x + 6.15, 1.6, 0.14, 5.8), th)
    _text(fig, width / 2, height - 0.8, f"{result.model}: {title('lens', lang)}", th.fg, 18.0)
    return fig
