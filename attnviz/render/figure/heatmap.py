"""A heatmap and its colour bar: the cells (a quad each, an image, or pooled blocks), tick labels,
hatching over hidden cells, and the values written in the cells."""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import PatchCollection, QuadMesh
from matplotlib.colors import Colormap, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.markers import TICKDOWN, TICKLEFT, TICKRIGHT
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import Affine2D

from .checks import _check_drawable
from .glyphs import Labels
from .glyphs import width as _width
from .layout import LABEL_PAD, MAX_TICKS_STAGE, TICK, Ticks, _col_labels_height, _row_labels_width
from .panels import Panel
from .style import Theme, _num, _short

#: Values are written inside cells only when the matrix has at most this many rows and columns
#: (and the cells are big enough for the numbers at 6 pt or more).
CELL_TEXT_MAX = 16
HEATMAP_CELLS = 1024  # a longer side is pooled to at most this many cells before colouring
MESH_CELLS = 64  # up to this many rows and columns a heatmap is one quad a cell, not a resampled image


def _heatmap(ax: Axes, panel: Panel, th: Theme, precision: int, ticks: Ticks, label: float,
             cell_size: float | None, *, colours: tuple[Colormap, Normalize] | None = None,
             blank_rows: tuple[int, ...] = ()) -> ScalarMappable:
    """One heatmap of panel.matrix with labelled axes, and the values in the cells at `cell_size`
    points (None: no values). `colours` overrides the panel's (cmap, norm), e.g. one scale shared
    by several panels; the cells of `blank_rows` get no value written in them.

    Returns the coloured cells, labelled "cells": a QuadMesh (one quad a cell) up to MESH_CELLS rows
    and columns, else an AxesImage."""
    matrix = np.asarray(panel.matrix)  # (rows, cols)
    n_rows, n_cols = matrix.shape
    hidden = panel.hidden
    cmap, norm = _colours(panel, th) if colours is None else colours
    if max(n_rows, n_cols) > HEATMAP_CELLS:  # long input: pool blocks of cells before colouring
        small, small_hidden = _pool(matrix, hidden, panel.sequential)
        shown = small if small_hidden is None else np.ma.masked_array(small, mask=small_hidden)
        image = ax.imshow(shown, cmap=cmap, norm=norm, aspect="auto", interpolation="nearest",
                          extent=(-0.5, n_cols - 0.5, n_rows - 0.5, -0.5), label="cells")  # axes count tokens
    elif max(n_rows, n_cols) <= MESH_CELLS:  # one quad a cell: vector in SVG/PDF, cheap to draw
        matrix = np.asarray(matrix, dtype=float)
        shown = matrix if hidden is None else np.ma.masked_array(matrix, mask=hidden)
        image = ax.pcolormesh(np.arange(n_cols + 1) - 0.5, np.arange(n_rows + 1) - 0.5, shown, cmap=cmap,
                              norm=norm, shading="flat", label="cells")
        image.set_rasterized(max(n_rows, n_cols) > 40)  # no separators to hide seams in SVG/PDF: an image there
        ax.set_xlim(-0.5, n_cols - 0.5)
        ax.set_ylim(n_rows - 0.5, -0.5)  # row 0 at the top, as in a table
    else:
        matrix = np.asarray(matrix, dtype=float)
        shown = matrix if hidden is None else np.ma.masked_array(matrix, mask=hidden)
        # sharp cells while they are several pixels wide; smoothed (not aliased) when they are not
        smooth = "auto" if min(n_rows, n_cols) > 2 * MAX_TICKS_STAGE else "nearest"
        image = ax.imshow(shown, cmap=cmap, norm=norm, aspect="auto", interpolation=smooth, label="cells")
    ax.set_label(f"heatmap {panel.stage}")
    _tick_labels(ax, panel, th, ticks, label)

    if n_rows <= 40 and n_cols <= 40:  # thin separators between cells while cells are visible
        line = 1.0 if max(n_rows, n_cols) <= CELL_TEXT_MAX else 0.4
        ax.hlines(np.arange(1, n_rows) - 0.5, -0.5, n_cols - 0.5, color=th.bg, linewidth=line)
        ax.vlines(np.arange(1, n_cols) - 0.5, -0.5, n_rows - 0.5, color=th.bg, linewidth=line)
    if hidden is not None and hidden.any() and max(n_rows, n_cols) <= 2 * MAX_TICKS_STAGE:
        cells = [Rectangle((start - 0.5, i - 0.5), stop - start, 1) for i, start, stop in _runs(hidden)]
        ax.add_collection(PatchCollection(cells, facecolor="none", edgecolor="none", linewidth=0,
                                          hatch="///", hatchcolor=th.muted), autolim=False)
    if cell_size:
        _cell_values(ax, matrix, hidden, panel.hidden_text, cmap, norm, precision, cell_size, blank_rows)
    return image


def _tick_labels(ax: Axes, panel: Panel, th: Theme, ticks: Ticks, label: float) -> None:
    """The heatmap's frame; row labels left of it and column labels under it (slanted when
    `ticks.slant`), each with a short tick mark; and the two axis labels beyond them.

    The Axes itself is drawn without its axis machinery (`set_axis_off`): no ticks, spines or axis
    texts, which were most of what drawing a heatmap cost. Its labels are still set (get_xlabel
    gives them); what is drawn is a frame, one Line2D of tick marks an axis, and `Labels` artists
    named "yticks", "xticks" and "axis labels"."""
    ax.set_axis_off()
    n_rows = panel.matrix.shape[0]
    rows, cols = Labels(ax.transData, "yticks"), Labels(ax.transData, "xticks")
    for i in ticks.rows:
        rows.add(-0.5, i, _short(panel.rows[i]), th.fg, ticks.row_size, ha="right", va="center", dx=-TICK)
    how = {0: dict(ha="center", va="top"), 45: dict(ha="right", va="top"), 90: dict(ha="right", va="center")}
    for j in ticks.cols:
        cols.add(j, n_rows - 0.5, _short(panel.cols[j]), th.fg, ticks.col_size, rotation=ticks.slant, dy=-TICK,
                 **how[ticks.slant])
    ax.set_ylabel(panel.row_label)
    ax.set_xlabel(panel.col_label)
    fig_w, fig_h = ax.get_figure().get_size_inches()
    box = ax.get_position()  # figure fraction
    names = Labels(ax.transAxes, "axis labels")
    left = ((TICK + LABEL_PAD) / 72 + _row_labels_width(panel, ticks)) / (box.width * fig_w)
    below = ((TICK + LABEL_PAD) / 72 + _col_labels_height(panel, ticks)) / (box.height * fig_h)
    names.add(-left, 0.5, panel.row_label, th.fg, label, rotation=90, va="bottom")
    names.add(0.5, -below, panel.col_label, th.fg, label, va="top")
    mark = dict(linestyle="none", color=th.muted, markersize=2, markeredgewidth=0.8, clip_on=False)
    frame = Rectangle((0, 0), 1, 1, transform=ax.transAxes, fill=False, edgecolor=th.muted, linewidth=0.8,
                      zorder=2.5, clip_on=False)
    marks = (Line2D(np.full(len(ticks.rows), -0.5), ticks.rows, marker=TICKLEFT, **mark),
             Line2D(ticks.cols, np.full(len(ticks.cols), n_rows - 0.5), marker=TICKDOWN, **mark))
    for artist in (frame, rows, cols, names, *marks):
        ax.add_artist(artist)


def _pool(matrix: np.ndarray, hidden: np.ndarray | None, peak: bool
          ) -> tuple[np.ndarray, np.ndarray | None]:
    """`matrix` cut into f × f blocks (f = ⌈longest side / HEATMAP_CELLS⌉), one value a block: the
    largest visible value when `peak` (softmax weights: where attention goes stays visible), else
    the mean of the visible values. A block with no visible cell is hidden. No more pixels than the
    image has, so colouring a 4,096² matrix costs what a 1,024² one does."""
    n_rows, n_cols = matrix.shape
    f = math.ceil(max(n_rows, n_cols) / HEATMAP_CELLS)
    r, c = math.ceil(n_rows / f), math.ceil(n_cols / f)
    if hidden is None and n_rows == r * f and n_cols == c * f and np.isfinite(matrix.min() + matrix.max()):
        # the common case (no mask, whole blocks, nothing infinite): f² strided passes, no copies
        pooled = np.array(matrix[::f, ::f], dtype=np.float32 if peak else np.float64)  # (r, c)
        for da in range(f):
            for db in range(f):
                if da or db:
                    part = matrix[da::f, db::f]  # (r, c)  one cell of every block
                    np.maximum(pooled, part, out=pooled) if peak else np.add(pooled, part, out=pooled)
        return (pooled if peak else pooled / (f * f)), None
    seen = np.isfinite(matrix) if hidden is None else np.isfinite(matrix) & ~hidden  # (rows, cols)
    fill = -np.inf if peak else 0.0
    padded = np.full((r * f, c * f), fill, dtype=np.float32)  # (r·f, c·f)
    np.copyto(padded[:n_rows, :n_cols], matrix, where=seen)
    seen_pad = np.zeros((r * f, c * f), dtype=bool)
    seen_pad[:n_rows, :n_cols] = seen
    pooled = np.full((r, c), fill, dtype=np.float64 if not peak else np.float32)  # (r, c)
    count = np.zeros((r, c), dtype=np.int32)  # (r, c) visible cells a block
    for da in range(f):  # f² strided passes over (r, c) views: far faster than reducing tiny axes
        for db in range(f):
            part = padded[da::f, db::f]  # (r, c)  one cell of every block
            if peak:
                np.maximum(pooled, part, out=pooled)
            else:
                pooled += part
            count += seen_pad[da::f, db::f]
    if not peak:
        pooled /= np.maximum(count, 1)
    empty = count == 0
    return np.where(empty, 0.0, pooled), (empty if empty.any() else None)


def _runs(hidden: np.ndarray) -> list[tuple[int, int, int]]:
    """(row, first column, end column) of each run of True cells in each row: one hatched rectangle a
    run draws much faster than one a cell (a causal mask has T runs, not T²/2 cells)."""
    padded = np.pad(hidden.astype(np.int8), ((0, 0), (1, 1)))  # (rows, cols + 2)
    rows, cols = np.nonzero(np.diff(padded, axis=1))  # run edges: starts and ends alternate in each row
    return [(int(r), int(a), int(b)) for r, a, b in zip(rows[::2], cols[::2], cols[1::2])]


def _colours(panel: Panel, th: Theme) -> tuple[Colormap, Normalize]:
    """Sequential 0..1 for softmax weights; diverging, centred at 0, for everything else."""
    if panel.sequential:  # 0..1; for long rows, where every weight is small, 0..the largest weight
        top = 1.0 if panel.matrix.shape[1] <= CELL_TEXT_MAX else float(np.nanmax(panel.matrix)) or 1.0
        cmap, norm = mpl.colormaps[th.sequential], Normalize(0.0, top)
    else:
        lo, hi = float(np.min(panel.matrix, initial=0.0)), float(np.max(panel.matrix, initial=0.0))
        if panel.hidden is None and np.isfinite(lo) and np.isfinite(hi):  # two passes over a long matrix
            top = max(-lo, hi)
        else:
            shown = np.isfinite(panel.matrix) if panel.hidden is None else ~panel.hidden & np.isfinite(panel.matrix)
            top = float(np.max(np.abs(panel.matrix), where=shown, initial=0.0))  # 0.0 when nothing shows
        top = top if top > 0 else 1.0
        _check_drawable(top, f"the {panel.stage} values")
        cmap, norm = mpl.colormaps[th.diverging], Normalize(-top, top)
    return cmap.with_extremes(bad=th.hidden), norm


def _colorbar(fig: Figure, image: ScalarMappable, box: tuple[float, float, float, float], panel: Panel, th: Theme,
              orientation: str, size: float, ticks: Sequence[float] | None = None) -> None:
    """A colour bar for `image` in `box` (x, y, width, height inches): its colormap from norm.vmin to
    norm.vmax as 256 bands, outlined, with tick values `ticks` (default: round numbers about two label
    heights apart; 0, 0.25, …, 1 for softmax weights) on the right (vertical) or below (horizontal).

    Drawn straight on the figure, in (across, value) coordinates, not in an Axes of its own."""
    cmap, norm = image.get_cmap(), image.norm
    lo, hi = float(norm.vmin), float(norm.vmax)
    x, y, w, h = box
    vertical = orientation == "vertical"
    span = (hi - lo) or 1.0
    # (across 0..1, value lo..hi) → inches on the figure; a horizontal bar swaps the two
    to_inches = (Affine2D().scale(w, h / span).translate(x, y - lo * h / span) if vertical else
                 Affine2D(np.array([[0, w / span, x - lo * w / span], [h, 0, y], [0, 0, 1]])))
    where = to_inches + fig.dpi_scale_trans
    edges, middles = np.linspace(lo, hi, 257), np.linspace(lo, hi, 513)[1::2]  # (257,), (256,)
    corners = np.stack(np.meshgrid([0.0, 1.0], edges), axis=-1)  # (257, 2, 2): (across, value) points
    bands = QuadMesh(corners, array=middles[:, None], cmap=cmap, norm=norm, transform=where,
                     antialiased=False, label="colorbar")
    bands.set_rasterized(True)  # an image in SVG and PDF, as matplotlib's own colour bar: no seams between bands
    outline = Rectangle((0, lo), 1, hi - lo, transform=where, fill=False, edgecolor=th.muted, linewidth=0.8)
    if ticks is None and panel.sequential and hi == 1.0 and lo == 0.0:
        ticks = [0, 0.25, 0.5, 0.75, 1]
    if ticks is None:
        length = (h if vertical else w) * 72  # points
        bins = int(np.clip(length / (size * (2 if vertical else 3)), 1, 9))  # as matplotlib's colour bar
        ticks = MaxNLocator(bins, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
    ticks = [float(v) for v in ticks if lo - span * 1e-9 <= v <= hi + span * 1e-9]
    labels = Labels(where, "colorbar ticks")
    for v, text in zip(ticks, _tick_texts(ticks)):
        if vertical:
            labels.add(1.0, v, text, th.fg, size, ha="left", va="center", dx=3.5 + 3.5)
        else:
            labels.add(0.0, v, text, th.fg, size, ha="center", va="top", dy=-(3.5 + 3.5))
    marks = Line2D(np.ones(len(ticks)) if vertical else np.zeros(len(ticks)), ticks, transform=where,
                   marker=TICKRIGHT if vertical else TICKDOWN, linestyle="none", color=th.muted, markersize=3.5,
                   markeredgewidth=0.8)
    for artist in (bands, outline, marks, labels):
        fig.add_artist(artist)


def _tick_texts(values: Sequence[float]) -> list[str]:
    """Tick values with the fewest decimals that show them all exactly ("−10", "0.25"), "−" as the
    minus sign; very large or very small ones in e-notation."""
    top = max((abs(v) for v in values), default=0.0)
    if top >= 1e6 or 0 < top < 1e-4:
        return [f"{v:.3g}".replace("-", "−") for v in values]
    places = next((d for d in range(7) if all(abs(round(v, d) - v) <= 1e-9 * max(top, 1e-300) for v in values)), 6)
    return [_num(v, places) for v in values]


def _cell_size(matrix: np.ndarray, precision: int, w: float, h: float) -> float | None:
    """Points for the values in the cells of `matrix` drawn w × h inches, or None when the matrix is
    too big (more than CELL_TEXT_MAX rows or columns) or the numbers would be under 6 pt."""
    n_rows, n_cols = matrix.shape
    if n_rows > CELL_TEXT_MAX or n_cols > CELL_TEXT_MAX:
        return None
    widest = max(_width(_num(v, precision), 1) for v in np.ravel(matrix)) * 72  # points at 1 pt
    cell_w, cell_h = w * 72 / n_cols, h * 72 / n_rows  # points
    size = min(13.0, 0.8 * cell_w / widest, 0.45 * cell_h)
    return size if size >= 6 else None


def _cell_values(ax: Axes, matrix: np.ndarray, hidden: np.ndarray | None, hidden_text: str, cmap: Colormap,
                 norm: Normalize, precision: int, size: float, blank_rows: tuple[int, ...] = ()) -> None:
    """Write each value in its cell, black or white against the cell colour (not in `blank_rows`),
    as one `Labels` artist named "cells"."""
    n_rows, n_cols = matrix.shape
    rgba = cmap(norm(np.ma.masked_invalid(matrix) if hidden is None else np.ma.masked_array(matrix, hidden)))
    luminance = rgba[..., :3] @ np.array([0.2126, 0.7152, 0.0722])  # (rows, cols)
    cells = Labels(ax.transData, "cells")
    for i in (i for i in range(n_rows) if i not in blank_rows):
        for j in range(n_cols):
            is_hidden = hidden is not None and hidden[i, j]
            cells.add(j, i, hidden_text if is_hidden else _num(matrix[i, j], precision),
                      "#ffffff" if luminance[i, j] < 0.5 else "#111111", size)
    ax.add_artist(cells)
