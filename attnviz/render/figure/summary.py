"""The summary figure of a long text: block-pooled matrices of a summary trace (attnviz.summary) — the max of
the softmax weights and the mean of the scores over each block of cells, accumulated tile by tile."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import ListedColormap, Normalize, PowerNorm, TwoSlopeNorm
from matplotlib.figure import Figure

from ...errors import InputError
from .style import FONT_FAMILY, THEMES, _register_font


def summary_figure(summary, *, head: int = 0, theme: str = "light", lang: str = "en", precision: int = 2) -> Figure:
    """Two heatmaps of head `head`, rows queries and columns keys, each cell a block of ⌈T / R⌉ × ⌈S / C⌉
    tokens: left the largest softmax weight in the block, right the mean score q·kᵀ over its visible cells;
    blocks the mask hides entirely are grey."""
    if theme not in THEMES:
        raise InputError(f"unknown theme {theme!r}: pick one of {', '.join(THEMES)}")
    if not 0 <= head < summary.n_heads:
        raise InputError(f"head {head + 1} does not exist: the summary has {summary.n_heads} head(s)")
    _register_font()
    th = THEMES[theme]
    hd = summary.heads[head]
    t, s = len(summary.query_tokens), len(summary.key_tokens)
    ko = lang == "ko"
    fig = Figure(figsize=(12, 6.2), facecolor=th.bg)
    info = summary.model
    where = "" if info is None else (f"{info.name[:40]} · 레이어 {info.layer} · " if ko else
                                     f"{info.name[:40]} · layer {info.layer} · ")
    fig.suptitle((f"요약 트레이스 · {where}토큰 {t:,}개 · 헤드 {head + 1}: 블록으로 묶은 행렬 "
                  "(T × S를 들지 않고 타일마다 계산)"
                  if ko else f"Summary trace · {where}{t:,} tokens · head {head + 1}: block-pooled matrices "
                             "(computed tile by tile, never holding T × S)"),
                 color=th.fg, family=FONT_FAMILY, fontsize=12)
    hidden = hd.pooled_hidden
    rows_per, cols_per = (summary.row_starts[1] if len(summary.row_starts) > 1 else t,
                          summary.col_starts[1] if len(summary.col_starts) > 1 else s)
    panels = (
        (hd.pooled_weights, th.sequential, PowerNorm(0.4, 0.0, max(float(hd.pooled_weights.max()), 1e-12)),
         "블록 안 softmax 가중치의 최댓값" if ko else "max of the softmax weights in each block"),
        (hd.pooled_scores, th.diverging, _centred(hd.pooled_scores),
         "블록 안 스코어 q·kᵀ의 평균" if ko else "mean of the scores q·kᵀ in each block"),
    )
    for n, (matrix, cmap, norm, name) in enumerate(panels):
        ax = fig.add_subplot(1, 2, n + 1)
        ax.set_facecolor(th.bg)
        extent = (0, s, t, 0)  # token indices on both axes: rows queries (top to bottom), columns keys
        image = ax.imshow(np.ma.masked_array(matrix, hidden) if hidden is not None else matrix, cmap=cmap,
                          norm=norm, extent=extent, interpolation="nearest", aspect="auto")
        if hidden is not None:
            ax.imshow(np.where(hidden, 1.0, np.nan), cmap=ListedColormap([th.hidden]), extent=extent,
                      interpolation="nearest", aspect="auto")
        ax.set_title(name, color=th.fg, family=FONT_FAMILY, fontsize=10)
        ax.set_xlabel(f"키 (열) · 블록 {cols_per}개씩" if ko else f"keys (columns) · blocks of {cols_per}",
                      color=th.fg, family=FONT_FAMILY)
        ax.set_ylabel(f"쿼리 (행) · 블록 {rows_per}개씩" if ko else f"queries (rows) · blocks of {rows_per}",
                      color=th.fg, family=FONT_FAMILY)
        ax.tick_params(colors=th.muted)
        bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
        bar.ax.tick_params(colors=th.muted)
    fig.subplots_adjust(wspace=0.45)
    return fig


def _centred(matrix: np.ndarray) -> Normalize:
    """A colour scale centred at 0 (scores are signed)."""
    low, high = float(matrix.min()), float(matrix.max())
    if low < 0 < high:
        return TwoSlopeNorm(0.0, low, high)
    return Normalize(low, high if high > low else low + 1e-12)
