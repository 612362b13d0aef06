"""Figures as PNG/SVG/PDF: the pipeline, one per stage, and the mask, heads, cross, √d_k and softmax views.

The only module in attnviz that imports matplotlib. It uses the object API alone (`Figure()`,
`fig.savefig`), never pyplot and never a global rcParams change; the bundled NanumGothic font is
registered once, lazily, and named explicitly on every text, with DejaVu Sans as the per-glyph
fallback (√ × → ᵀ − ∞ and Hangul all render). Rows are queries, columns are keys, and the axis
labels say so. The same call writes byte-identical files.

Layout is computed here, in inches, from estimated label widths (no layout engine): constrained
layout would measure every text twice per save and cost a third of the time a figure takes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import matplotlib as mpl
import numpy as np
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import PatchCollection, QuadMesh
from matplotlib.colors import Colormap, ListedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.markers import TICKDOWN, TICKLEFT, TICKRIGHT
from matplotlib.patches import FancyArrowPatch, Rectangle
from matplotlib.ticker import MaxNLocator, NullLocator
from matplotlib.transforms import Affine2D

from ..errors import InputError, OutputError
from ..files import atomic_write
from ..lessons import ScaleLesson, SoftmaxSteps
from ..trace import HeadTrace, Trace
from . import png
from .labels import FONT_FILE, Labels
from .labels import width as _width
from .text import LANGS, caption, title, word

#: File formats save_figure writes, chosen by the path's extension.
FORMATS = ("png", "svg", "pdf")
#: Stages stage_figure draws ("pipeline" too, through pipeline_figure).
STAGES = ("embeddings", "positions", "x", "q", "k", "v", "scores", "scaled", "softmax", "output")
#: (file name without extension, stage) written by save_stage_figures, in order.
STAGE_FILES = (
    ("00-pipeline", "pipeline"),
    ("01-embeddings", "embeddings"),
    ("02-q", "q"),
    ("03-k", "k"),
    ("04-v", "v"),
    ("05-scores", "scores"),
    ("06-scaled", "scaled"),
    ("07-softmax", "softmax"),
    ("08-output", "output"),
)
#: Values are written inside cells only when the matrix has at most this many rows and columns
#: (and the cells are big enough for the numbers at 6 pt or more).
CELL_TEXT_MAX = 16
#: At most this many tick labels per axis; longer axes label every k-th token.
MAX_TICKS_STAGE = 40
MAX_TICKS_PIPELINE = 24
HEATMAP_CELLS = 1024  # a longer side is pooled to at most this many cells before colouring
MESH_CELLS = 64  # up to this many rows and columns a heatmap is one quad a cell, not a resampled image
TICK = 2 + 3.5  # points from a heatmap's edge to its tick labels: the tick mark, then the gap
LABEL_PAD = 6  # points from the tick labels to the axis label
#: Heads drawn smaller than this (inches) in heads_figure get no token labels.
COMPACT = 1.3
#: Longest token label drawn on an axis (longer ones are cut with "…").
LABEL_CHARS = 12

# DejaVu Sans (matplotlib's own) first: its √ → are full-size (NanumGothic's are small) and it has
# − and ᵀ, which NanumGothic lacks; Hangul, which DejaVu lacks, falls back to NanumGothic glyph by glyph
FONT_FAMILY = ["DejaVu Sans", "NanumGothic"]
NUMBER_FAMILY = ["DejaVu Sans"]  # digits . − ∞ only: no fallback list to search, drawn a little faster

# metadata that would put dates or version strings into the file, dropped for identical bytes
_METADATA = {
    "png": {"Software": None},
    "pdf": {"CreationDate": None, "Producer": None, "Creator": None},
    "svg": {"Date": None, "Creator": None},
}
# scoped to one savefig by rc_context, so neither a user's matplotlibrc nor the run changes the file
_SAVE_RC = {
    "svg.hashsalt": "attnviz",
    "svg.fonttype": "path",
    # Type 3: Type 42 would have fontTools subset NanumGothic, slower, logging "TSI0 NOT subset" to stderr
    "pdf.fonttype": 3,
    "savefig.bbox": "standard",
    "savefig.transparent": False,
}


@dataclass(frozen=True)
class Theme:
    """Colours of one theme: background, text, and the colormaps."""

    bg: str
    fg: str
    muted: str
    hidden: str  # cells hidden by the mask
    diverging: str  # centred at 0: E, P, X, Q, K, V, scores, scaled, output
    sequential: str  # 0..1: softmax weights
    allowed: str  # mask grid: cells a query may attend to (○)
    allowed_fg: str  # the ○ drawn on them
    bar: str  # bars, and the "with ÷ √d_k" lines
    accent: str  # the largest bar, the focus row, the "without scaling" lines


THEMES = {
    "light": Theme(bg="#ffffff", fg="#1b1b1b", muted="#5f6368", hidden="#b4b4b4",
                   diverging="RdBu_r", sequential="Blues", allowed="#d0e2f3", allowed_fg="#0b4f96",
                   bar="#4a86c5", accent="#e8590c"),
    "dark": Theme(bg="#121417", fg="#ececec", muted="#a9adb3", hidden="#4a4e55",
                  diverging="berlin", sequential="magma", allowed="#2c4666", allowed_fg="#dbe9ff",
                  bar="#6f9fd8", accent="#ffa94d"),
}


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


@dataclass(frozen=True)
class Ticks:
    """Which rows and columns get a tick label, their size, and whether column labels slant."""

    rows: list[int]
    cols: list[int]
    step: int  # 1, or k when only every k-th label is shown
    row_size: float  # points
    col_size: float
    slant: int  # column labels at 0°, 45° or 90°


# --- public -----------------------------------------------------------------------------------

def pipeline_figure(trace: Trace, *, head: int = 0, theme: str = "light", lang: str = "en",
                    precision: int = 2) -> Figure:
    """The four steps of one head side by side on a 16:9 figure, with arrows between them.

    scores = Q·Kᵀ (T×S) → scaled = scores ÷ √d_k (T×S, the value of √d_k shown) →
    weights = softmax of each row (T×S) → output = weights·V (T×d_v). Rows are queries, columns
    keys; a colour bar and a caption under each panel; the sentence in the title. With a mask,
    hidden cells are grey (hatched, "−∞" / "0" when small) in the scaled and softmax panels.
    """
    _check(trace, head, theme, lang, precision)
    th = THEMES[theme]
    width, height = 16.0, 9.0
    fig = _new_figure((width, height), th)
    hd = trace.heads[head]
    panels = [_panel(trace, stage, head, lang, precision) for stage in ("scores", "scaled", "softmax", "output")]
    op_size, cap_size, title_size, label, margin = 11.0, 12.0, 15.0, 11.0, 0.35
    ops = [
        f"{word('op_scale', lang)}\n= {_num(math.sqrt(trace.d_k), precision)}",
        _wrap(word("op_softmax" if hd.mask is None else "op_mask_softmax", lang), op_size, 0.7),
        word("op_v", lang),
    ]

    # geometry in inches: four squares of side `side`, each with `left` room for its row labels
    nominal = 2.4  # about the side of a panel, for the tick label sizes
    left = max(_left_margin(p, MAX_TICKS_PIPELINE, label, nominal) for p in panels)
    gap = max(0.8, _width(ops[0], op_size) + 0.25, _width(ops[1], op_size) + 0.25)  # arrow + its label
    side = (width - 2 * margin - 4 * left - 3 * gap) / 4
    ticks = [_plan(p, MAX_TICKS_PIPELINE, label, nominal, side) for p in panels]
    bottom = max(_bottom_margin(p, t, label) for p, t in zip(panels, ticks))
    captions = [_wrap(caption(p.stage, lang), cap_size, side + 0.3) for p in panels]
    heading_lines = max(p.heading.count("\n") + 1 for p in panels)
    above = 0.35 + 2 * title_size * 1.3 / 72 + heading_lines * 11 * 1.25 / 72  # title, formula, note
    cap_lines = max(c.count("\n") + 1 for c in captions)
    bar_top = bottom + 0.1  # colour bar below the column labels
    below = bar_top + 0.14 + 0.35 + cap_lines * cap_size * 1.45 / 72  # bar, its ticks, caption
    top_band, foot_band = 0.9, 0.5  # suptitle, footer
    room = height - top_band - foot_band
    side = max(1.0, min(side, room - above - below))  # (very long labels: crowded rather than gone)
    x0 = (width - (4 * (left + side) + 3 * gap)) / 2 + left
    y0 = foot_band + (room - (above + side + below)) / 2 + below  # panels' bottom edge

    fits = side + 0.2  # a title may reach a little into the gaps beside its panel
    heading_size = min(_fit(p.heading, 11, fits) for p in panels)  # one size for all four panels
    mains = [title(p.stage, lang).replace(" · ", "\n", 1) for p in panels]  # "Step 1" above "Scores Q·Kᵀ"
    main_size = min(_fit(m, title_size, fits) for m in mains)
    for i, panel in enumerate(panels):
        x = x0 + i * (left + side + gap)
        ax = _axes(fig, (x, y0, side, side))
        # values as large as each panel allows (a common size would be set by the most crowded one)
        image = _heatmap(ax, panel, th, precision, ticks[i], label, _cell_size(panel.matrix, precision, side, side))
        bar_box = (x + 0.05 * side, y0 - bar_top - 0.14, 0.9 * side, 0.14)
        _colorbar(fig, image, bar_box, panel, th, "horizontal", label - 1)
        _text(fig, x + side / 2, y0 + side + 0.1, panel.heading, th.muted, heading_size, linespacing=1.25)
        _text(fig, x + side / 2, y0 + side + 0.2 + heading_lines * 11 * 1.25 / 72, mains[i], th.fg, main_size,
              linespacing=1.3)
        _text(fig, x + side / 2, y0 - bar_top - 0.14 - 0.35, captions[i], th.muted, cap_size, va="top",
              linespacing=1.45)
        if i < 3:  # an arrow to the next panel, its operation written above it
            a, b, y = x + side + 0.1, x + side + gap - 0.06, y0 + side / 2
            fig.add_artist(FancyArrowPatch((a, y), (b, y), transform=fig.dpi_scale_trans, arrowstyle="-|>",
                                           mutation_scale=22, color=th.muted, linewidth=2))
            _text(fig, (a + b) / 2, y + 0.12, ops[i], th.fg, op_size, linespacing=1.35)
    _headline(fig, lambda n: f"{title('pipeline', lang)}: “{_sentence(trace, n)}”", th)
    step = max(t.step for t in ticks)
    _text(fig, width / 2, 0.3, _details(trace, head, lang, step), th.muted, 10.5)
    return fig


def stage_figure(trace: Trace, stage: str, *, head: int = 0, theme: str = "light", lang: str = "en",
                 precision: int = 2) -> Figure:
    """One stage as a single 16:9 heatmap with its colour bar, title, formula and caption.

    Stages: embeddings E (T×d_model), positions P (T×d_model), x = E + P (T×d_model),
    q (T×d_k), k (S×d_k), v (S×d_v) — rows tokens, columns dimensions 1…d —, scores, scaled,
    softmax (T×S, rows queries, columns keys) and output (T×d_v) of head `head`;
    "pipeline" gives pipeline_figure.
    """
    if stage == "pipeline":
        return pipeline_figure(trace, head=head, theme=theme, lang=lang, precision=precision)
    if stage not in STAGES:
        raise InputError(f"unknown stage {stage!r}: choose one of pipeline, {', '.join(STAGES)}")
    _check(trace, head, theme, lang, precision)
    th = THEMES[theme]
    width, height = 12.8, 7.2
    fig = _new_figure((width, height), th)
    panel = _panel(trace, stage, head, lang, precision)
    n_rows, n_cols = panel.matrix.shape
    cap_size = 13.0
    cap = _wrap(caption(stage, lang), cap_size, width - 1.5)
    # geometry in inches: heatmap w × h, row labels on its left, colour bar on its right
    label, title_size, margin = 12.0, 20.0, 0.35
    nominal = 4.6  # about the size of the heatmap, for the tick label sizes
    left = _left_margin(panel, MAX_TICKS_STAGE, label, nominal)
    bar = 0.2 + 0.2 + _width("−0.00", label - 1) + 0.1  # gap, bar, its tick labels
    heading_lines = panel.heading.count("\n") + 1
    above = 0.65 + heading_lines * 14 * 1.25 / 72  # title, formula line and note
    foot = 0.3 + 10.5 * 1.2 / 72 + 0.12 + (cap.count("\n") + 1) * cap_size * 1.4 / 72 + 0.15  # details, caption
    aspect = float(np.clip(n_rows / n_cols, 0.4, 2.5))  # height / width: square cells when it can
    room_w = width - 2 * margin - left - bar
    ticks = _plan(panel, MAX_TICKS_STAGE, label, nominal, min(room_w, nominal / aspect))
    for _ in range(2):  # the slant of the column labels depends on the width, which depends on it
        bottom = _bottom_margin(panel, ticks, label)
        room_h = height - margin - above - bottom - foot
        w = max(1.0, min(room_w, room_h / aspect))
        ticks = _plan(panel, MAX_TICKS_STAGE, label, nominal, w)
    h = w * aspect
    x = (width - (left + w + bar)) / 2 + left
    y = foot + bottom + (room_h - h) / 2
    ax = _axes(fig, (x, y, w, h))
    image = _heatmap(ax, panel, th, precision, ticks, label, _cell_size(panel.matrix, precision, w, h))
    _colorbar(fig, image, (x + w + 0.2, y, 0.2, h), panel, th, "vertical", label - 1)
    fits = width - 1.0
    _text(fig, x + w / 2, y + h + 0.14, panel.heading, th.muted, _fit(panel.heading, 14, fits), linespacing=1.25)
    _text(fig, x + w / 2, y + h + 0.26 + heading_lines * 14 * 1.25 / 72, title(stage, lang), th.fg,
          _fit(title(stage, lang), title_size, fits))
    _text(fig, width / 2, 0.3 + 10.5 * 1.2 / 72 + 0.12, cap, th.fg, cap_size, linespacing=1.4)
    _text(fig, width / 2, 0.3, _details(trace, head, lang, ticks.step), th.muted, 10.5)
    return fig


def save_figure(trace: Trace, path: str | Path, *, dpi: int = 150, theme: str = "light", lang: str = "en",
                head: int = 0, precision: int = 2, stage: str = "pipeline") -> Path:
    """Write the pipeline figure (or one `stage`) to `path`; PNG, SVG or PDF by its extension.

    Written atomically (temp file + rename); the same call gives byte-identical files.
    """
    path = Path(path)
    _format_of(path)  # a bad name fails before any drawing
    _check_folder(path)
    return save_view(stage_figure(trace, stage, head=head, theme=theme, lang=lang, precision=precision), path,
                     dpi=dpi)


def save_view(fig: Figure, path: str | Path, *, dpi: float = 150) -> Path:
    """Write any figure of this module to `path`: PNG, SVG or PDF by its extension (anything else is
    an OutputError and writes nothing). Written atomically (temp file + rename); the same figure
    gives byte-identical files (no dates or versions in them)."""
    path = Path(path)
    fmt = _format_of(path)
    _check_folder(path)
    _save(fig, path, fmt, dpi)
    return path


def save_stage_figures(trace: Trace, out_dir: str | Path, *, fmt: str = "png", dpi: int = 150,
                       theme: str = "light", lang: str = "en", head: int = 0, precision: int = 2
                       ) -> list[Path]:
    """Write 00-pipeline, 01-embeddings, 02-q, 03-k, 04-v, 05-scores, 06-scaled, 07-softmax and
    08-output (`.fmt`) into `out_dir`, creating it if its parent folder exists. Returns the paths."""
    fmt = fmt.lower().lstrip(".")
    if fmt not in FORMATS:
        raise OutputError(f"cannot write {fmt!r} figures: choose one of {', '.join(FORMATS)}")
    _check(trace, head, theme, lang, precision)
    _check_dpi(dpi)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"cannot write figures into {out_dir}: it is a file; give a folder name")
    if not out_dir.is_dir():
        parent = out_dir.parent
        if not parent.is_dir():
            raise OutputError(f"cannot create {out_dir}: the folder {parent} does not exist (create it first)")
        try:
            out_dir.mkdir(exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create {out_dir}: {exc.strerror} (choose a writable folder)") from None
    paths = [out_dir / f"{name}.{fmt}" for name, _ in STAGE_FILES]
    # PNG: each figure is encoded and written on a second thread while the next one is drawn (zlib
    # releases the GIL); an error there is raised here, by result()
    with ThreadPoolExecutor(max_workers=1) as writer:
        jobs = []
        for path, (_, stage) in zip(paths, STAGE_FILES):
            fig = stage_figure(trace, stage, head=head, theme=theme, lang=lang, precision=precision)
            if fmt == "png":
                jobs.append(writer.submit(_write_png, path, _pixels(fig, dpi), dpi))
            else:
                _save(fig, path, fmt, dpi)
        for job in jobs:
            job.result()
    return paths


def texts(container: Figure | Axes) -> list[str]:
    """Every string drawn directly on `container` (a Figure or an Axes): its Text objects' and then
    its Labels artists' (titles, captions, cell values, tick labels), for checking what a figure says."""
    return [t.get_text() for t in container.texts] + [
        s for a in container.artists if isinstance(a, Labels) for s in a.texts]


def labels(container: Figure | Axes, name: str) -> list[str]:
    """The strings of `container`'s Labels artists named `name`: "cells" (values in a heatmap's cells),
    "xticks", "yticks" (its column and row labels), "text" (a figure's titles and captions) or
    "colorbar ticks"."""
    return [s for a in container.artists if isinstance(a, Labels) and a.get_label() == name for s in a.texts]


# --- the views' figures: mask, heads, cross, scale, softmax --------------------------------------

def mask_figure(trace: Trace, *, head: int = 0, compare: Trace | None = None, theme: str = "light",
                lang: str = "en", precision: int = 2) -> Figure:
    """The mask as a ○/× grid beside the masked softmax of head `head` (rows queries, columns keys).

    ○: query i may attend to key j; ×: hidden, its score becomes −∞ and its weight exactly 0 (grey,
    hatched). A query that may attend to nothing (a [PAD] row) is outlined: all its weights are 0.
    With `compare`, a trace of the same tokens without the mask (an encoder), its pair is drawn
    first, so the no-mask and the masked attention stand side by side.
    """
    _check(trace, head, theme, lang, precision)
    traces = [trace]
    if compare is not None:
        _check(compare, head, theme, lang, precision)
        if [tk.label for tk in compare.query_tokens] != [tk.label for tk in trace.query_tokens] or \
                [tk.label for tk in compare.key_tokens] != [tk.label for tk in trace.key_tokens]:
            raise InputError("compare must be a trace of the same tokens as the masked one "
                             "(the same text, tokenizer and --pad-to, without the mask)")
        traces = [compare, trace]
    th = THEMES[theme]
    width, height = 16.0, 9.0
    fig = _new_figure((width, height), th)
    pairs = [_mask_panels(tr, head, lang, precision) for tr in traces]  # (grid, softmax, heading, caption) each
    panels = [p for pair in pairs for p in pair[:2]]
    n_pairs, n = len(pairs), 2 * len(pairs)
    label, margin, main_size, head_size, group_size, cap_size = 11.0, 0.35, 14.0, 10.5, 15.0, 11.5
    nominal = 4.4 if n_pairs == 1 else 2.6
    left = max(_left_margin(p, MAX_TICKS_PIPELINE, label, nominal) for p in panels)
    gap_in, gap_out = 0.5, 1.0
    side_w = (width - 2 * margin - n * left - n_pairs * gap_in - (n_pairs - 1) * gap_out) / n
    heading_lines = max(p.heading.count("\n") + 1 for p in panels)
    above = 0.1 + heading_lines * head_size * 1.25 / 72 + 0.1 + main_size * 1.3 / 72 + 0.2 + group_size * 1.3 / 72
    top_band, foot_band = 0.95, 0.6
    room = height - top_band - foot_band
    side = side_w
    for _ in range(2):  # column labels may slant at a smaller size, captions wrap on a narrower pair
        ticks = [_plan(p, MAX_TICKS_PIPELINE, label, nominal, side) for p in panels]
        bottom = max(_bottom_margin(p, t, label) for p, t in zip(panels, ticks))
        pair_w = 2 * (left + side) + gap_in - left
        captions = [_wrap(pair[3], cap_size, pair_w) for pair in pairs]
        cap_lines = max(c.count("\n") + 1 for c in captions)
        bar_top = bottom + 0.1
        below = bar_top + 0.14 + 0.4 + cap_lines * cap_size * 1.4 * 1.17 / 72
        side = max(1.0, min(side_w, room - above - below))
    x0 = (width - (n * (left + side) + n_pairs * gap_in + (n_pairs - 1) * gap_out)) / 2 + left
    y0 = foot_band + (room - (above + side + below)) / 2 + below  # heatmaps' bottom edge
    mains = [word("fig_mask", lang) if i % 2 == 0 else
             title("mask_softmax", lang) if traces[i // 2].heads[head].mask is not None else
             word("fig_softmax", lang) for i in range(n)]
    main_fit = min(_fit(m, main_size, side + 0.3) for m in mains)
    head_fit = min(_fit(p.heading, head_size, side + 0.3) for p in panels)
    for k, (grid, soft, heading, _) in enumerate(pairs):
        xg = x0 + k * (2 * (left + side) + gap_in + gap_out)
        xs = xg + side + gap_in + left
        ax = _axes(fig, (xg, y0, side, side))
        _mask_grid(ax, grid, th, ticks[2 * k], label, side, side)
        ax = _axes(fig, (xs, y0, side, side))
        empty = tuple(int(i) for i in np.flatnonzero(soft.hidden.all(axis=1))) if soft.hidden is not None else ()
        image = _heatmap(ax, soft, th, precision, ticks[2 * k + 1], label,
                         _cell_size(soft.matrix, precision, side, side), blank_rows=empty)
        for i in empty:
            _empty_row(ax, i, soft, th, side, side, lang)
        _colorbar(fig, image, (xs + 0.05 * side, y0 - bar_top - 0.14, 0.9 * side, 0.14), soft, th,
                  "horizontal", label - 1)
        for x, panel, main in ((xg, grid, mains[2 * k]), (xs, soft, mains[2 * k + 1])):
            _titles(fig, x + side / 2, y0 + side, main, panel.heading, th, main_fit, head_fit, heading_lines)
        centre = (xg + xs + side) / 2
        group_y = y0 + side + above - group_size * 1.3 / 72
        _text(fig, centre, group_y, heading, th.fg, _fit(heading, group_size, xs + side - xg + left))
        fig.add_artist(Line2D([xg - left * 0.5, xs + side], [group_y - 0.06] * 2, transform=fig.dpi_scale_trans,
                              color=th.muted, linewidth=0.8))
        _text(fig, centre, y0 - bar_top - 0.14 - 0.4, captions[k], th.muted, cap_size, va="top", linespacing=1.4)
    _headline(fig, lambda n: f"{word('fig_masking', lang)}: “{_sentence(trace, n)}”", th)
    _text(fig, width / 2, 0.3, _details(trace, head, lang, max(t.step for t in ticks)), th.muted, 10.5)
    return fig


def heads_figure(trace: Trace, *, focus: int = 0, theme: str = "light", lang: str = "en",
                 precision: int = 2) -> Figure:
    """Every head's softmax weights in a grid ("Head 1" … "Head h", rows queries, columns keys, one
    colour scale), and the layer's output concat·W_O (T×d_model; the concat T×h·d_v without W_O).

    Each head i computes softmax(Q_i·K_iᵀ / √d_k) with its own W_Q_i, W_K_i, W_V_i; the query row
    `focus` is outlined in every head and in the output.
    """
    _check(trace, 0, theme, lang, precision)
    _check_focus(trace, focus)
    th = THEMES[theme]
    width, height = 16.0, 9.0
    fig = _new_figure((width, height), th)
    h = trace.n_heads
    panels = [replace(_panel(trace, "softmax", i, lang, precision), stage=f"head {i + 1}") for i in range(h)]
    out = _output_panel(trace, lang)
    t, s = panels[0].matrix.shape
    top = 1.0 if s <= CELL_TEXT_MAX else max(float(np.nanmax(p.matrix)) for p in panels) or 1.0
    shared = (mpl.colormaps[th.sequential].with_extremes(bad=th.hidden), Normalize(0.0, top))
    label, margin, main_size, head_size, cap_size = 11.0, 0.35, 14.0, 10.5, 12.0
    projected = trace.output is not None
    cap = _wrap(f"{caption('heads', lang)} {caption('projected' if projected else 'concat', lang)}", cap_size,
                width - 1.5)
    top_band = 1.35  # title and subtitle
    foot = 0.3 + 10.5 * 1.2 / 72 + 0.15 + (cap.count("\n") + 1) * cap_size * 1.4 * 1.17 / 72 + 0.25
    room = height - top_band - foot
    bar = 0.2 + 0.16 + _width("0.00", label - 1) + 0.15  # a vertical colour bar and its tick labels

    # right: the output heatmap; left: the heads' grid, as large as the rest allows
    arrow = 1.3
    out_aspect = float(np.clip(out.matrix.shape[0] / out.matrix.shape[1], 0.3, 2.0))
    out_left = _left_margin(out, MAX_TICKS_PIPELINE, label, 3.0)
    out_w = min(4.6 if h <= 4 else 3.4, (room - 1.6) / out_aspect)  # many heads: more room for them
    grid_w = width - 2 * margin - bar - arrow - out_left - out_w - bar
    left = _left_margin(panels[0], MAX_TICKS_PIPELINE, label, 2.5)
    hgap, title_h, vgap = 0.25, 0.12 + 13 * 1.3 / 72, 0.12
    layouts = []
    for cols in range(1, h + 1):
        rows = math.ceil(h / cols)
        side = (grid_w - left - (cols - 1) * hgap) / cols
        for _ in range(2):  # column labels may slant at a smaller size
            ticks = _plan(panels[0], MAX_TICKS_PIPELINE, label, side, side)
            # many small heads: no token labels, one axis note under the grid
            bottom = 0.35 if side < COMPACT else _bottom_margin(panels[0], ticks, label)
            side = min((grid_w - left - (cols - 1) * hgap) / cols, (room - bottom - rows * (title_h + vgap)) / rows)
        layouts.append((side, cols, rows, ticks, bottom))
    largest = max(lay[0] for lay in layouts)  # of the nearly largest, the one with the fewest empty places
    side, cols, rows, ticks, bottom = min((lay for lay in layouts if lay[0] >= 0.9 * largest),
                                          key=lambda lay: (lay[1] * lay[2] - h, -lay[0]))
    side = max(side, 0.4)
    compact = side < COMPACT
    if compact:
        left = 0.1
        ticks = replace(ticks, rows=[], cols=[])
    block_w = left + cols * side + (cols - 1) * hgap
    block_h = rows * (title_h + vgap + side) - vgap
    total_w = block_w + bar + arrow + out_left + out_w + bar
    gx = (width - total_w) / 2 + left
    gy = foot + bottom + (room - bottom - block_h) / 2  # bottom edge of the lowest row of heatmaps
    cell = _cell_size(panels[0].matrix, precision, side, side)
    name_size = min(13.0, 13.0 * (side + 0.8 * hgap) / _width(f"Head {h}", 13.0))
    for i, panel in enumerate(panels):
        r, c = divmod(i, cols)
        x = gx + c * (side + hgap)
        y = gy + (rows - 1 - r) * (side + title_h + vgap)
        ax = _axes(fig, (x, y, side, side))
        # row labels on the first column only, column labels under the last heatmap of each column
        own = replace(ticks, rows=[] if c else ticks.rows, cols=[] if i + cols < h else ticks.cols)
        named = replace(panel, row_label="" if c or compact else panel.row_label,
                        col_label="" if i + cols < h or compact else panel.col_label)
        image = _heatmap(ax, named, th, precision, own, label, cell, colours=shared)
        _outline_row(ax, focus, s, th.accent)
        _text(fig, x + side / 2, y + side + 0.1, f"Head {i + 1}" if name_size >= 7 else str(i + 1), th.fg,
              max(name_size, 7.0))
    if compact:
        note = f"{word('queries', lang)} × {word('keys', lang)}"
        _text(fig, gx - left + block_w / 2, gy - 0.12, note, th.fg, label, va="top")
    bar_h = min(block_h - title_h, 3.2)
    bar_box = (gx - left + block_w + 0.2, gy + (block_h - title_h - bar_h) / 2, 0.16, bar_h)
    _colorbar(fig, image, bar_box, panels[0], th, "vertical", label - 1,
              ticks=[0, 0.25, 0.5, 0.75, 1] if shared[1].vmax == 1.0 else None)

    # concat · W_O → output
    ox = gx - left + block_w + bar + arrow + out_left
    oh = out_w * out_aspect
    oticks = _plan(out, MAX_TICKS_PIPELINE, label, 3.0, out_w)
    oy = gy + (block_h - title_h - oh) / 2
    ax = _axes(fig, (ox, oy, out_w, oh))
    image = _heatmap(ax, out, th, precision, oticks, label, _cell_size(out.matrix, precision, out_w, oh))
    _outline_row(ax, focus, out.matrix.shape[1], th.accent)
    _colorbar(fig, image, (ox + out_w + 0.2, oy, 0.16, oh), out, th, "vertical", label - 1)
    main = title("projected" if projected else "concat", lang)
    _titles(fig, ox + out_w / 2, oy + oh, main, out.heading, th, _fit(main, main_size, out_w + 1),
            _fit(out.heading, head_size, out_w + 1))
    a, b, y = gx - left + block_w + bar + 0.1, ox - out_left - 0.1, oy + oh / 2
    fig.add_artist(FancyArrowPatch((a, y), (b, y), transform=fig.dpi_scale_trans, arrowstyle="-|>",
                                   mutation_scale=22, color=th.muted, linewidth=2))
    _text(fig, (a + b) / 2, y + 0.12, "concat\n· W_O" if projected else "concat", th.fg, 12, linespacing=1.35)

    _headline(fig, lambda n: f"{title('heads', lang).format(h=h)}: “{_sentence(trace, n)}”", th)
    sub = (f"softmax(Q_i·K_iᵀ / √d_k),  d_k = {trace.d_k}  ·  "
           + word("fig_focus_row", lang).format(token=_short(trace.query_tokens[focus].label)))
    _text(fig, width / 2, height - 0.35 - 22 * 1.5 / 72, sub, th.muted, _fit(sub, 13, width - 1), va="top")
    _text(fig, width / 2, 0.3 + 10.5 * 1.2 / 72 + 0.15, cap, th.fg, cap_size, linespacing=1.4)
    _text(fig, width / 2, 0.3, _details(trace, None, lang, ticks.step), th.muted, 10.5)
    return fig


def cross_figure(trace: Trace, *, head: int = 0, focus: int = 0, theme: str = "light", lang: str = "en",
                 precision: int = 2) -> Figure:
    """Cross-attention weights of head `head`: softmax(Q·Kᵀ / √d_k), T×S, rows the decoder's (target)
    tokens, columns the encoder's source tokens or image patches; the query row `focus` outlined.

    When the keys are image patches (trace.patch_grid = (rows, cols)), the image is drawn too, with
    the focus query's rows × cols patch weights laid over it (patch_1 top-left, row by row).
    """
    _check(trace, head, theme, lang, precision)
    if trace.kind != "cross":
        raise InputError("cross_figure draws cross-attention traces (decoder queries, encoder keys); "
                         "use pipeline_figure or heads_figure for self-attention")
    _check_focus(trace, focus)
    th = THEMES[theme]
    width, height = 16.0, 9.0
    fig = _new_figure((width, height), th)
    grid = trace.patch_grid if trace.image_path else None
    cols_word = "fig_patch_keys" if trace.patch_grid else "fig_enc_keys"
    panel = replace(_panel(trace, "softmax", head, lang, precision), row_label=word("fig_dec_queries", lang),
                    col_label=word(cols_word, lang), note=word("fig_qkv_from", lang))
    t, s = panel.matrix.shape
    label, margin, main_size, head_size, cap_size = 12.0, 0.35, 15.0, 11.0, 12.0
    top_band = 0.95
    if grid is not None:
        rows, cols = grid
        cap = f"{caption('vision', lang).format(rows=rows, cols=cols)} " \
              f"{caption('patch_grid', lang).format(q=focus + 1)}"
    else:
        cap = f"{caption('decoder_input', lang)} {caption('kv', lang)}"
    cap = _wrap(cap, cap_size, width - 1.5)
    foot = 0.3 + 10.5 * 1.2 / 72 + 0.15 + (cap.count("\n") + 1) * cap_size * 1.4 * 1.17 / 72 + 0.2
    room = height - top_band - foot
    heading_lines = panel.heading.count("\n") + 1
    above = 0.1 + heading_lines * head_size * 1.25 / 72 + 0.12 + main_size * 1.3 / 72
    box_w = (width - 2 * margin) * (0.55 if grid is not None else 1.0)
    left = _left_margin(panel, MAX_TICKS_STAGE, label, 4.0)
    bar = 0.2 + 0.2 + _width("0.00", label - 1) + 0.15
    aspect = float(np.clip(t / s, 0.12, 2.5))  # square cells when they fit, else taller or wider ones
    w = min(box_w - left - bar, 1.1 * s, 1.1 * t / aspect)
    ticks = _plan(panel, MAX_TICKS_STAGE, label, 4.0, w)
    for _ in range(2):
        bottom = _bottom_margin(panel, ticks, label)
        w = max(1.0, min(box_w - left - bar, 1.1 * s, 1.1 * t / aspect, (room - above - bottom) / aspect))
        ticks = _plan(panel, MAX_TICKS_STAGE, label, 4.0, w)
    hgt = w * aspect
    if grid is not None:
        pixels = _read_image(Path(trace.image_path))
        ratio = pixels.shape[0] / pixels.shape[1]
        img_above = 0.1 + 2 * head_size * 1.25 / 72 + 0.12 + main_size * 1.3 / 72
        img_below = 0.2 + 0.14 + 0.4
        img_box = width - 2 * margin - box_w - 0.4
        iw = min(img_box, (room - img_above - img_below) / ratio)
        ih = iw * ratio
    x = margin + (box_w - (left + w + bar)) / 2 + left
    y = foot + bottom + (room - above - bottom - hgt) / 2
    ax = _axes(fig, (x, y, w, hgt))
    image = _heatmap(ax, panel, th, precision, ticks, label, _cell_size(panel.matrix, precision, w, hgt))
    _outline_row(ax, focus, s, th.accent)
    bar_box = (x + w + 0.2, y, 0.2, hgt)
    _colorbar(fig, image, bar_box, panel, th, "vertical", label - 1,
              ticks=[0, 0.5, 1] if hgt < 2 and image.norm.vmax == 1.0 else None)
    main = f"{word('fig_softmax', lang)}(Q·Kᵀ / √d_k)"
    _titles(fig, x + w / 2, y + hgt, main, panel.heading, th, _fit(main, main_size, box_w),
            _fit(panel.heading, head_size, box_w))
    if grid is not None:
        ix = margin + box_w + 0.4 + (img_box - iw) / 2
        iy = foot + img_below + (room - img_above - img_below - ih) / 2
        focus_row = trace.heads[head].weights[focus]  # (S,) = (rows·cols,)
        top = _overlay(fig, (ix, iy, iw, ih), pixels, focus_row.reshape(grid), th, precision)
        token = _short(trace.query_tokens[focus].label)
        digits = max(precision, 1 - math.floor(math.log10(top))) if top > 0 else precision  # 0.0077, not 0.01
        note = word("fig_overlay", lang).format(top=_num(top, digits))
        _titles(fig, ix + iw / 2, iy + ih, word("fig_looks", lang).format(token=token), note, th,
                _fit(word("fig_looks", lang).format(token=token), main_size, img_box), _fit(note, head_size, img_box))
    queries = " ".join(_short(tk.label) for tk in trace.query_tokens[:8]) + (" …" if t > 8 else "")
    if grid is not None:
        patches = word("n_patches", lang).format(rows=grid[0], cols=grid[1], n=s)
        _headline(fig, lambda n: f"{word('fig_cross', lang)}: {queries}  →  {_cut(Path(trace.image_path).name, n)}, "
                                 f"{patches}", th)
    else:
        _headline(fig, lambda n: f"{word('fig_cross', lang)}: {queries}  →  “{_sentence(trace, n)}”", th)
    _text(fig, width / 2, 0.3 + 10.5 * 1.2 / 72 + 0.15, cap, th.fg, cap_size, linespacing=1.4)
    _text(fig, width / 2, 0.3, _details(trace, head, lang, ticks.step), th.muted, 10.5)
    return fig


def scale_figure(lesson: ScaleLesson, *, theme: str = "light", lang: str = "en", precision: int = 2) -> Figure:
    """Why divide by √d_k, measured: left, the spread (standard deviation) of q·k against d_k (log₂
    axis) with the curve √d_k, and the spread of q·k / √d_k ≈ 1; right, the mean largest softmax
    weight and the mean entropy of a row, without and with the scaling (unscaled rows saturate)."""
    _check_style(theme, lang, precision)
    th = THEMES[theme]
    width, height = 16.0, 9.0
    fig = _new_figure((width, height), th)
    d_k = np.array([r.d_k for r in lesson.rows], dtype=float)
    label = 12.0
    cap = _wrap(caption("scale", lang), 12.0, width - 1.5)
    cap_h = (cap.count("\n") + 1) * 12 * 1.4 * 1.17 / 72
    y0 = 0.3 + 10.5 * 1.2 / 72 + 0.2 + cap_h + 0.3 + 0.75  # above the footer, the caption, the x labels
    top = height - 1.0 - 0.75  # below the title and the panel titles
    spread = _plot_axes(fig, (1.3, y0, 6.2, top - y0), th, label, "plot spread")
    gap = 0.25
    half = (top - y0 - gap - 0.45) / 2
    peak = _plot_axes(fig, (9.4, y0 + half + gap + 0.45, 6.2, half), th, label, "plot max weight")
    ent = _plot_axes(fig, (9.4, y0, 6.2, half), th, label, "plot entropy")

    std_dot = [r.std_dot for r in lesson.rows]
    std_scaled = [r.std_scaled for r in lesson.rows]
    fine = np.geomspace(d_k.min(), d_k.max(), 64)
    spread.plot(fine, np.sqrt(fine), color=th.muted, linestyle="--", linewidth=1.6, label="√d_k")
    spread.plot(d_k, std_dot, color=th.accent, marker="o", linewidth=2.2, label=word("fig_dot_std", lang))
    spread.plot(d_k, std_scaled, color=th.bar, marker="s", linewidth=2.2, label=word("fig_scaled_std", lang))
    for x, a, b in zip(d_k, std_dot, std_scaled):
        spread.annotate(_num(a, precision), (x, a), xytext=(-6, 7), textcoords="offset points", ha="right",
                        fontsize=10, color=th.accent, fontfamily=NUMBER_FAMILY)
        spread.annotate(_num(b, precision), (x, b), xytext=(0, -7), textcoords="offset points", ha="center",
                        va="top", fontsize=10, color=th.bar, fontfamily=NUMBER_FAMILY)
    high = max(max(std_dot), math.sqrt(d_k.max())) * 1.12
    spread.set_ylim(-0.07 * high, high)  # room under the scaled line for its values
    spread.set_ylabel(word("fig_std", lang), color=th.fg, fontsize=label, fontfamily=FONT_FAMILY)

    n = lesson.n_keys
    peak.plot(d_k, [r.max_weight_raw for r in lesson.rows], color=th.accent, marker="o", linewidth=2.2,
              label=word("fig_raw", lang))
    peak.plot(d_k, [r.max_weight_scaled for r in lesson.rows], color=th.bar, marker="s", linewidth=2.2,
              label=word("fig_scaled", lang))
    peak.axhline(1 / n, color=th.muted, linestyle=":", linewidth=1.4, label=word("fig_uniform_w", lang))
    peak.set_ylim(0, 1.08)
    peak.set_ylabel(word("fig_max_weight", lang), color=th.fg, fontsize=label - 1, fontfamily=FONT_FAMILY)
    peak.tick_params(axis="x", labelbottom=False)
    ent.plot(d_k, [r.entropy_raw for r in lesson.rows], color=th.accent, marker="o", linewidth=2.2,
             label=word("fig_raw", lang))
    ent.plot(d_k, [r.entropy_scaled for r in lesson.rows], color=th.bar, marker="s", linewidth=2.2,
             label=word("fig_scaled", lang))
    ent.axhline(math.log(n), color=th.muted, linestyle=":", linewidth=1.4, label=word("fig_uniform_h", lang))
    ent.set_ylim(0, math.log(n) * 1.15)
    ent.set_ylabel(word("fig_entropy", lang), color=th.fg, fontsize=label - 1, fontfamily=FONT_FAMILY)

    for ax in (spread, peak, ent):
        ax.set_xscale("log", base=2)
        ax.set_xlim(d_k.min() / 1.5, d_k.max() * 1.5)
        ax.set_xticks(d_k, [str(int(v)) for v in d_k])
        ax.xaxis.set_minor_locator(NullLocator())
        _legend(ax, th, 10.5, "upper left" if ax is spread else "center right")
    for ax in (spread, ent):
        ax.set_xlabel(word("fig_dk_log", lang), color=th.fg, fontsize=label, fontfamily=FONT_FAMILY)
    _text(fig, 1.3 + 3.1, top + 0.15, word("fig_spread", lang), th.fg, 15)
    _text(fig, 9.4 + 3.1, top + 0.15, word("fig_saturates", lang), th.fg, 15)
    heading = title("scale", lang)
    _text(fig, width / 2, height - 0.35, heading, th.fg, 22, va="top")
    _text(fig, width / 2, 0.3 + 10.5 * 1.2 / 72 + 0.2, cap, th.fg, 12, linespacing=1.4)
    setup = word("scale_setup", lang).format(rows=lesson.n_rows, keys=n, seed=lesson.seed)
    _text(fig, width / 2, 0.3, setup, th.muted, 10.5)
    return fig


def softmax_figure(steps: SoftmaxSteps, *, labels: Sequence[str] | None = None, theme: str = "light",
                   lang: str = "en", precision: int = 2) -> Figure:
    """One row of scores and the probabilities softmax makes of them, as bars labelled with their
    values, the largest highlighted; p_j = exp(x_j − max x) / Σ_i exp(x_i − max x), where
    x = scores ÷ (scale · temperature) (noted when that divisor is not 1). `labels` name the bars."""
    _check_style(theme, lang, precision)
    n = len(steps.scores)
    if n == 0:
        raise InputError("softmax_figure needs at least one score")
    names = [str(i + 1) for i in range(n)] if labels is None else [_short(str(x)) for x in labels]
    if len(names) != n:
        raise InputError(f"{len(names)} labels for {n} scores: give one label per score")
    th = THEMES[theme]
    width, height = 16.0, 9.0
    fig = _new_figure((width, height), th)
    label = 12.0
    divisor = steps.scale * steps.temperature
    cap = caption("softmax_steps", lang)
    if divisor != 1:
        cap = word("divisor", lang).format(scale=_num(steps.scale, precision), temp=_num(steps.temperature, precision),
                                           div=_num(divisor, precision)) + "\n" + cap
    cap = "\n".join(_wrap(line, 12.0, width - 1.5) for line in cap.split("\n"))
    cap_h = (cap.count("\n") + 1) * 12 * 1.4 * 1.17 / 72
    shown = _ticks_at(n, MAX_TICKS_PIPELINE)[0] if labels is not None else _round_ticks(n, 12)
    tick_size = _tick_size(len(shown), 6.0, label)
    tick_room = max(_width(names[i], tick_size) for i in shown)
    slant = tick_room > 6.0 / len(shown) * 0.9
    y0 = 0.3 + 10.5 * 1.2 / 72 + 0.2 + cap_h + 0.35 + (tick_room * 0.72 if slant else 0.25) + 0.45
    top = height - 1.0 - 0.75
    box_h = top - y0
    scores_ax = _plot_axes(fig, (1.3, y0, 6.0, box_h), th, label, "bars scores")
    probs_ax = _plot_axes(fig, (9.6, y0, 6.0, box_h), th, label, "bars probs")
    best = int(np.argmax(steps.probs))
    finite = np.isfinite(steps.scores)
    heights = np.where(finite, steps.scores, 0.0)
    values = [_num(v, precision) if ok else "−∞" for v, ok in zip(steps.scores, finite)]
    _bars(scores_ax, heights, values, best, th, 6.0, names, shown, tick_size, slant)
    _bars(probs_ax, steps.probs, [_num(v, precision) for v in steps.probs], best, th, 6.0, names, shown, tick_size,
          slant)
    probs_ax.set_ylim(0, min(1.05, float(steps.probs.max()) * 1.2))  # (small weights stay visible)
    for ax, y_word in ((scores_ax, "fig_score"), (probs_ax, "fig_prob")):
        ax.set_xlabel(word("fig_entry", lang), color=th.fg, fontsize=label, fontfamily=FONT_FAMILY)
        ax.set_ylabel(word(y_word, lang), color=th.fg, fontsize=label, fontfamily=FONT_FAMILY)
    _text(fig, 1.3 + 3.0, top + 0.15, word("fig_scores", lang), th.fg, 15)
    _text(fig, 9.6 + 3.0, top + 0.15, word("fig_probs", lang), th.fg, 15)
    a, b, y = 7.45, 8.75, y0 + box_h / 2
    fig.add_artist(FancyArrowPatch((a, y), (b, y), transform=fig.dpi_scale_trans, arrowstyle="-|>",
                                   mutation_scale=22, color=th.muted, linewidth=2))
    op = "softmax" if divisor == 1 else f"÷ {_num(divisor, precision)}\nsoftmax"
    _text(fig, (a + b) / 2, y + 0.12, op, th.fg, 12, linespacing=1.35)
    total = word("sum_exp", lang).split(":")[0].format(total=_num(steps.total, precision))
    _text(fig, (a + b) / 2, y - 0.12, total, th.muted, 10.5, va="top")
    heading = title("softmax_steps", lang)
    _text(fig, width / 2, height - 0.35, heading, th.fg, 22, va="top")
    _text(fig, width / 2, 0.3 + 10.5 * 1.2 / 72 + 0.2, cap, th.fg, 12, linespacing=1.4)
    most = f"{word('largest', lang)}: {names[best]} → {_num(steps.probs[best], precision)}"
    _text(fig, width / 2, 0.3, most, th.accent, 10.5)
    return fig


def layers_figure(traces: Sequence[Trace], *, focus: int = 0, theme: str = "light", lang: str = "en",
                  precision: int = 2) -> Figure:
    """A real model's layers × heads grid of small softmax heatmaps (bertviz's model view as a still
    figure): one row per layer, one column per head, rows = queries and columns = keys in every cell,
    the focus query's row outlined."""
    first = traces[0]
    _check(first, 0, theme, lang, precision)
    _check_focus(first, focus)
    th = THEMES[theme]
    width, height = 16.0, 9.0
    fig = _new_figure((width, height), th)
    n_layers, n_heads = len(traces), max(t.n_heads for t in traces)
    top_band, foot, left_band, gap = 1.0, 0.9, 0.9, 0.06
    side = min((width - left_band - 1.6 - (n_heads - 1) * gap) / n_heads,
               (height - top_band - foot - (n_layers - 1) * gap) / n_layers)
    grid_w = n_heads * side + (n_heads - 1) * gap
    x0 = left_band + (width - left_band - 1.2 - grid_w) / 2
    y_top = height - top_band
    cmap, norm = mpl.colormaps[th.sequential], Normalize(0.0, 1.0)
    image = None
    for li, tr in enumerate(traces):
        y = y_top - (li + 1) * side - li * gap
        layer = tr.model["layer"] if tr.model else li
        _text(fig, x0 - 0.45, y + side / 2, f"L{layer}", th.fg, 10.0, va="center")
        for hi, hd in enumerate(tr.heads):
            ax = _axes(fig, (x0 + hi * (side + gap), y, side, side))
            image = ax.imshow(hd.weights, cmap=cmap, norm=norm, interpolation="nearest", aspect="auto")
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_color(th.muted)
            _outline_row(ax, focus, hd.weights.shape[1], th.accent, linewidth=1.0)
            if li == 0:
                _text(fig, x0 + hi * (side + gap) + side / 2, y_top + 0.08, f"H{hi + 1}", th.fg, 10.0)
    name = (first.model or {}).get("name", first.weights_source)
    _text(fig, width / 2, height - 0.55, f"{name}: {title('layers', lang)}", th.fg, 15.0)
    q = first.query_tokens[focus].label
    _text(fig, width / 2, 0.35, f"{word('queries', lang)} × {word('keys', lang)} · "
          f"{word('focus', lang)} Q{focus + 1} = {_short(q)}", th.muted, 10.5)
    if image is not None:
        cax = _axes(fig, (width - 0.9, height / 2 - 2.0, 0.18, 4.0))
        bar = fig.colorbar(image, cax=cax)
        bar.ax.tick_params(colors=th.fg, labelsize=9)
        bar.outline.set_edgecolor(th.muted)
    return fig


def block_figure(block, *, theme: str = "light", lang: str = "en", precision: int = 2) -> Figure:
    """A transformer block as a strip of heatmaps joined by arrows, rows = tokens, columns = dimensions:
    x → Attn(x) → x + Attn(x) → LayerNorm → FFN → + → LayerNorm (a decoder block adds its
    cross-attention step). A pre-LN block (norm_first: GPT-2's layers from attnviz.models.block_trace)
    reads x → LayerNorm → Attn(LN(x)) → x + Attn(LN(x)) → LayerNorm → FFN → + (→ the model's final
    LayerNorm after its last block). Each panel is titled with its stage and shape; a checkpoint's block
    names the model and the layer."""
    _check_style(theme, lang, precision)
    th = THEMES[theme]
    decoder = hasattr(block, "self_attention")
    attn = block.self_attention if decoder else block.attention
    pre = not decoder and getattr(block, "norm_first", False)
    if pre:
        stages = [("x", block.x), ("LayerNorm", block.norm1.output), ("Attn(LN(x))", attn.output),
                  ("x + Attn(LN(x))", block.residual1), ("LayerNorm", block.norm2.output),
                  (f"FFN ({block.ffn.activation})", block.ffn.output), ("x + FFN(LN(x))", block.residual2)]
        if block.final_norm is not None:
            stages.append(("final LayerNorm", block.final_norm.output))
    else:
        stages = [("x", attn.x), ("Attn(x)", attn.output), ("x + Attn(x)", block.norm1.input),
                  ("LayerNorm", block.norm1.output)]
        if decoder:
            stages += [("Cross(·)", block.cross_attention.output), ("+ → LayerNorm", block.norm2.output)]
        last = block.norm3 if decoder else block.norm2
        stages += [(f"FFN ({block.ffn.activation})", block.ffn.output), ("+ → LayerNorm", last.output)]
    width, height = 16.0, 9.0
    fig = _new_figure((width, height), th)
    n = len(stages)
    arrow, margin = 0.35, 1.0
    side = (width - 2 * margin - (n - 1) * arrow) / n
    t, d = attn.x.shape
    panel_h = float(np.clip(max(side * t / d * 3.0, 0.2 * t), 2.0, height - 3.6))  # tall enough to read a row
    y = (height - panel_h) / 2
    limit = max(float(np.max(np.abs(m))) for _, m in stages) or 1.0
    typical = float(np.percentile(np.concatenate([np.abs(m).ravel() for _, m in stages]), 99))
    clipped = typical > 0 and limit > 3 * typical  # a few outlier dimensions (real BERTs have them) would wash
    if clipped:  # every other cell out: clip the colour scale at the 99th percentile and say so
        limit = typical
    cmap, norm = mpl.colormaps[th.diverging], Normalize(-limit, limit)
    image = None
    labels = [_short(tok.label) for tok in attn.query_tokens]
    for i, (name, matrix) in enumerate(stages):
        x0 = margin + i * (side + arrow)
        ax = _axes(fig, (x0, y, side, panel_h))
        image = ax.imshow(matrix, cmap=cmap, norm=norm, interpolation="nearest", aspect="auto")
        ax.set_xticks([])
        ax.set_yticks(range(t) if i == 0 and t <= 24 else [])
        if i == 0 and t <= 24:
            ax.set_yticklabels(labels, fontsize=9, color=th.fg, fontfamily=FONT_FAMILY)
        for spine in ax.spines.values():
            spine.set_color(th.muted)
        _text(fig, x0 + side / 2, y + panel_h + 0.15, name, th.fg, 11.0)
        _text(fig, x0 + side / 2, y - 0.3, f"{matrix.shape[0]}×{matrix.shape[1]}", th.muted, 9.5)
        if i:
            _text(fig, x0 - arrow / 2, y + panel_h / 2, "→", th.fg, 14.0, va="center")
    heading = word("decoder_block", lang) if decoder else word("encoder_block", lang)
    info = None if decoder else attn.model
    if info:  # a checkpoint's layer: "Decoder-only block · tiny-gpt2 · layer 1"
        if attn.causal:
            heading = "디코더 전용 블록" if lang == "ko" else "Decoder-only block"
        layer = f"{info['layer']}층" if lang == "ko" else f"layer {info['layer']}"
        heading = f"{heading} · {_cut(info['name'], 40)} · {layer}"
    _text(fig, width / 2, height - 0.9, f"{heading}: “{_sentence(attn, 40 if info else 60)}”", th.fg, 15.0)
    _text(fig, width / 2, 0.6, f"{word('token_rows', lang)} × {word('dim_cols', lang)} · d_ff = "
          f"{block.ffn.hidden.shape[1]}" + (" · pre-LN" if pre else "")
          + (f" · |values| > {limit:.{precision}f} {'색 범위 밖' if lang == 'ko' else 'off the colour scale'}"
             if clipped else ""), th.muted, 10.5)
    if image is not None:
        cax = _axes(fig, (width / 2 - 2.5, 1.2, 5.0, 0.16))
        bar = fig.colorbar(image, cax=cax, orientation="horizontal", extend="both" if clipped else "neither")
        bar.ax.tick_params(colors=th.fg, labelsize=9)
        bar.outline.set_edgecolor(th.muted)
    return fig


def _mask_panels(trace: Trace, head: int, lang: str, precision: int) -> tuple[Panel, Panel, str, str]:
    """(○/× grid, masked softmax, the pair's heading, its caption) of one trace."""
    hd = trace.heads[head]
    queries = tuple(tk.label for tk in trace.query_tokens)
    keys = tuple(tk.label for tk in trace.key_tokens)
    t, s = len(queries), len(keys)
    allowed = np.ones((t, s), dtype=bool) if hd.mask is None else hd.mask  # (T, S) True = may attend
    grid = Panel("mask", allowed.astype(float), queries, keys, word("queries", lang), word("keys", lang), True,
                 word("may_attend", lang))
    soft = _panel(trace, "softmax", head, lang, precision)
    if soft.hidden is not None and soft.hidden.all(axis=1).any():
        soft = replace(soft, formula=f"{word('fig_rows_sum_empty', lang)}  → {t}×{s}")
    if hd.mask is None:
        kind = "mask_none"
    elif not trace.causal:
        kind = "mask_padding"
    elif np.array_equal(hd.mask, np.tril(np.ones((t, s), dtype=bool), k=s - t)):
        kind = "mask_causal"
    else:
        kind = "mask_both"
    cap = caption("mask_causal" if kind == "mask_both" else kind, lang)
    if kind == "mask_both":
        cap = f"{cap} {caption('mask_padding', lang)}"
    return grid, soft, title(kind, lang), cap


def _mask_grid(ax: Axes, panel: Panel, th: Theme, ticks: Ticks, label: float, w: float, h: float) -> None:
    """The mask as one imshow (allowed / hidden colours) with ○ or × written in each cell."""
    allowed = panel.matrix > 0.5  # (T, S)
    _heatmap(ax, panel, th, 0, ticks, label, None, colours=(ListedColormap([th.hidden, th.allowed]), Normalize(0, 1)))
    ax.set_label("mask grid")
    n_rows, n_cols = allowed.shape
    size = min(22.0, 0.55 * w * 72 / n_cols, 0.55 * h * 72 / n_rows)
    if size < 5 or n_rows > 2 * MAX_TICKS_STAGE or n_cols > 2 * MAX_TICKS_STAGE:
        return
    for i in range(n_rows):
        for j in range(n_cols):
            ok = bool(allowed[i, j])
            ax.text(j, i, "○" if ok else "×", ha="center", va="center_baseline", fontsize=size,
                    color=th.allowed_fg if ok else th.fg, fontfamily=NUMBER_FAMILY)


def _empty_row(ax: Axes, row: int, panel: Panel, th: Theme, w: float, h: float, lang: str) -> None:
    """Outline a row whose every key is hidden and say so inside it (when there is room)."""
    n_rows, n_cols = panel.matrix.shape
    _outline_row(ax, row, n_cols, th.fg, linestyle=(0, (4, 2)), linewidth=1.4)
    text = word("fig_no_keys", lang).format(token=_short(panel.rows[row]))
    size = min(11.0, 0.5 * h * 72 / n_rows, 11.0 * 0.9 * w / _width(text, 11.0))
    if size >= 6:
        ax.text((n_cols - 1) / 2, row, text, ha="center", va="center", fontsize=size, color=th.fg,
                fontfamily=FONT_FAMILY, parse_math=False,
                bbox={"boxstyle": "round,pad=0.25", "facecolor": th.bg, "edgecolor": "none", "alpha": 0.9})


def _outline_row(ax: Axes, row: int, n_cols: int, color: str, *, linestyle="-", linewidth: float = 2.2) -> None:
    ax.add_patch(Rectangle((-0.5, row - 0.5), n_cols, 1, fill=False, edgecolor=color, linewidth=linewidth,
                           linestyle=linestyle, clip_on=False, zorder=4))


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


def _check_focus(trace: Trace, focus: int) -> None:
    t = len(trace.query_tokens)
    if not 0 <= focus < t:
        raise InputError(f"query row {focus} does not exist: this trace has query rows 0 to {t - 1}")


def _titles(fig: Figure, x: float, top: float, main: str, heading: str, th: Theme, main_size: float,
            heading_size: float, lines: int = 0) -> None:
    """`heading` (muted) just above `top` inches and `main` above it, centred on x; `main` sits above
    `lines` heading lines (at least the heading's own), so titles of a row line up."""
    lines = max(lines, heading.count("\n") + 1 if heading else 0)
    _text(fig, x, top + 0.1, heading, th.muted, heading_size, linespacing=1.25)
    y = top + 0.1 + (lines * heading_size * 1.25 / 72 + 0.12 if lines else 0)
    _text(fig, x, y, main, th.fg, main_size, linespacing=1.3)


def _read_image(path: Path, longest: int = 640) -> np.ndarray:
    """The image at `path` as RGB in [0, 1], at most `longest` pixels a side: (h, w, 3)."""
    from PIL import Image

    from ..images import load_image

    try:
        with Image.open(path) as img:  # the header only: the size
            w, h = img.size
    except Exception:  # noqa: BLE001 - load_image below reports what is wrong with the file
        w, h = longest, longest
    shrink = min(1.0, longest / max(w, h, 1))
    return load_image(path, (max(1, round(w * shrink)), max(1, round(h * shrink))))


def _overlay(fig: Figure, box: tuple[float, float, float, float], pixels: np.ndarray, weights: np.ndarray,
             th: Theme, precision: int) -> float:
    """The image with `weights` (rows, cols) laid over it, one translucent cell per patch, grid lines
    at the patch borders and each weight written in its patch when it is readable. Returns the
    largest weight (the top of the overlay's colour scale)."""
    rows, cols = weights.shape
    x, y, w, h = box
    ax = _axes(fig, box)
    ax.set_label("image")
    ax.imshow(pixels, extent=(0, cols, rows, 0), aspect="auto", interpolation="antialiased")
    top = float(weights.max()) or 1.0
    cmap = mpl.colormaps[th.sequential]
    overlay = ax.imshow(weights, extent=(0, cols, rows, 0), aspect="auto", interpolation="nearest", cmap=cmap,
                        norm=Normalize(0.0, top), alpha=0.55)
    overlay.set_label("overlay")
    ax.set_xlim(0, cols)
    ax.set_ylim(rows, 0)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color(th.muted)
    line, alpha = (1.0, 0.8) if max(rows, cols) <= CELL_TEXT_MAX else (0.4, 0.5)
    ax.hlines(np.arange(1, rows), 0, cols, color="#ffffff", linewidth=line, alpha=alpha)
    ax.vlines(np.arange(1, cols), 0, rows, color="#ffffff", linewidth=line, alpha=alpha)
    size = _cell_size(weights, precision, w, h)
    if size:
        for i in range(rows):
            for j in range(cols):
                ax.text(j + 0.5, i + 0.5, _num(weights[i, j], precision), ha="center", va="center",
                        fontsize=min(size, 12.0), color=th.fg, fontfamily=NUMBER_FAMILY,
                        bbox={"boxstyle": "round,pad=0.2", "facecolor": th.bg, "edgecolor": "none", "alpha": 0.75})
    cax = _axes(fig, (x + 0.15 * w, y - 0.2 - 0.14, 0.7 * w, 0.14))
    bar = fig.colorbar(overlay, cax=cax, orientation="horizontal")
    cax.set_label("colorbar")
    bar.outline.set_edgecolor(th.muted)
    cax.tick_params(colors=th.muted, labelcolor=th.fg, labelsize=10, labelfontfamily=NUMBER_FAMILY)
    return top


def _round_ticks(n: int, max_ticks: int) -> list[int]:
    """Indices (0-based) of entries 1, step, 2·step, … (1-based) with a round step (1, 2, 5, 10, 20 …)
    so that at most about `max_ticks` show."""
    if n <= max_ticks:
        return list(range(n))
    step = next(m * 10 ** e for e in range(10) for m in (1, 2, 5) if m * 10 ** e * max_ticks >= n)
    return [0, *range(step - 1, n, step)]


def _plot_axes(fig: Figure, box: tuple[float, float, float, float], th: Theme, size: float, name: str) -> Axes:
    """Axes for a line or bar chart in the theme's colours, light grid lines behind the data."""
    ax = _axes(fig, box)
    ax.set_label(name)
    ax.set_facecolor(th.bg)
    for spine in ax.spines.values():
        spine.set_color(th.muted)
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.tick_params(colors=th.muted, labelcolor=th.fg, labelsize=size - 1, labelfontfamily=NUMBER_FAMILY)
    ax.grid(True, color=th.muted, alpha=0.25, linewidth=0.8)
    ax.set_axisbelow(True)
    return ax


def _legend(ax: Axes, th: Theme, size: float, loc: str) -> None:
    legend = ax.legend(loc=loc, prop={"family": FONT_FAMILY, "size": size}, labelcolor=th.fg, facecolor=th.bg,
                       edgecolor=th.muted, framealpha=0.9)
    legend.get_frame().set_linewidth(0.6)


def _bars(ax: Axes, heights: np.ndarray, values: list[str], best: int, th: Theme, width: float,
          names: list[str], shown: list[int], tick_size: float, slant: bool) -> None:
    """One bar per entry (the `best` one in the accent colour), its value written at its end when
    there is room; tick labels at `shown`."""
    n = len(heights)
    colours = [th.bar] * n
    colours[best] = th.accent
    if n <= 512:
        ax.bar(np.arange(n), heights, width=0.7, color=colours)
    else:  # thousands of bars, each under a pixel wide: one line each, in one collection
        ax.vlines(np.arange(n), 0, heights, color=th.bar, linewidth=0.6)
        ax.vlines([best], 0, [heights[best]], color=th.accent, linewidth=2.5)
        ax.plot([best], [heights[best]], marker="v", color=th.accent, markersize=8, linestyle="none")
    ax.axhline(0, color=th.muted, linewidth=0.8)
    low, high = min(0.0, float(heights.min())), max(0.0, float(heights.max()))
    pad = (high - low) * 0.14 or 1.0
    ax.set_ylim(low - (pad if low < 0 else 0), high + pad)
    ax.set_xlim(-0.6, n - 0.4)
    size = min(12.0, 0.9 * width * 72 / n / max(_width(v, 1) * 72 for v in values))
    if size >= 6:
        for i, (v, text) in enumerate(zip(heights, values)):
            ax.annotate(text, (i, v), xytext=(0, 4 if v >= 0 else -4), textcoords="offset points", ha="center",
                        va="bottom" if v >= 0 else "top", fontsize=size, fontfamily=NUMBER_FAMILY,
                        color=th.accent if i == best else th.fg)
    slanted = {"rotation": 45, "ha": "right", "rotation_mode": "anchor"} if slant else {}
    ax.set_xticks(shown, [names[i] for i in shown], parse_math=False, **slanted)
    ax.tick_params(axis="x", labelsize=tick_size, labelfontfamily=FONT_FAMILY)
    for tick, i in zip(ax.get_xticklabels(), shown):
        if i == best:
            tick.set_color(th.accent)


# --- checks and files ------------------------------------------------------------------------

def _check(trace: Trace, head: int, theme: str, lang: str, precision: int) -> None:
    if not 0 <= head < trace.n_heads:
        raise InputError(f"head {head} does not exist: this trace has heads 0 to {trace.n_heads - 1}")
    _check_style(theme, lang, precision)


def _check_style(theme: str, lang: str, precision: int) -> None:
    if theme not in THEMES:
        raise InputError(f"unknown theme {theme!r}: choose one of {', '.join(THEMES)}")
    if lang not in LANGS:
        raise InputError(f"unknown language {lang!r}: choose one of {', '.join(LANGS)}")
    if not 0 <= precision <= 6:
        raise InputError(f"precision {precision} is out of range: give 0 to 6 decimals")


def _check_dpi(dpi: float) -> None:
    if not dpi > 0:
        raise InputError(f"dpi must be a positive number (got {dpi})")


def _format_of(path: Path) -> str:
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        given = f"the extension {path.suffix!r}" if path.suffix else "no extension"
        raise OutputError(f"cannot write {path}: it has {given}; end the name with "
                          f"{', '.join('.' + f for f in FORMATS)}")
    return fmt


def _check_folder(path: Path) -> None:
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"cannot write {path}: the folder {parent} does not exist (create it first)")


def _save(fig: Figure, path: Path, fmt: str, dpi: float) -> None:
    """Write `fig` into a temp file beside `path`, renamed over it; no dates or versions in the file.

    PNG: drawn by Agg (`_pixels`) and encoded by render/png.py; SVG and PDF: savefig."""
    _check_dpi(dpi)
    if fmt == "png":
        _write_png(path, _pixels(fig, dpi), dpi)
        return

    def write(tmp: Path) -> None:
        with mpl.rc_context(_SAVE_RC):
            fig.savefig(tmp, format=fmt, dpi=dpi, metadata=_METADATA[fmt], facecolor=fig.get_facecolor(),
                        edgecolor="none")

    atomic_write(path, write)


def _pixels(fig: Figure, dpi: float) -> np.ndarray:
    """`fig` drawn by Agg at `dpi`, as savefig draws a PNG: (height, width, 4) uint8, a copy."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas, saved = FigureCanvasAgg(fig), fig.dpi
    with mpl.rc_context(_SAVE_RC):
        fig.dpi = dpi
        try:
            canvas.draw()
            return np.array(canvas.buffer_rgba())
        finally:
            fig.dpi = saved


def _write_png(path: Path, pixels: np.ndarray, dpi: float) -> None:
    """Encode `pixels` as a PNG (render/png.py) into `path`, atomically."""
    data = png.encode(pixels, dpi)
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


# --- building blocks ---------------------------------------------------------------------------

@cache
def _register_font() -> None:
    """Add the bundled NanumGothic to matplotlib's font list, once per process."""
    known = {Path(f.fname).resolve() for f in font_manager.fontManager.ttflist}
    if FONT_FILE.resolve() not in known:
        font_manager.fontManager.addfont(str(FONT_FILE))


def _new_figure(size: tuple[float, float], th: Theme) -> Figure:
    _register_font()
    return Figure(figsize=size, facecolor=th.bg, layout="none")


def _axes(fig: Figure, box: tuple[float, float, float, float]) -> Axes:
    """An Axes at (x, y, width, height) in inches from the figure's bottom-left corner."""
    fw, fh = fig.get_size_inches()
    x, y, w, h = box
    return fig.add_axes((x / fw, y / fh, w / fw, h / fh))


def _text(fig: Figure, x: float, y: float, s: str, color: str, size: float, *, va: str = "bottom",
          linespacing: float = 1.2) -> None:
    """Centred text at (x, y) inches, each line centred: a `Labels` artist named "text" (`$` is
    plain text, never mathtext)."""
    label = Labels(fig.dpi_scale_trans, "text")
    label.add(x, y, s, color, size, va=va, linespacing=linespacing)
    fig.add_artist(label)


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


# --- layout: tick plans and margins, estimated without drawing ----------------------------------

def _fit(text: str, size: float, width: float) -> float:
    """`size`, made smaller (down to 3/4 of it) when `text` would be wider than `width` inches."""
    return max(0.75 * size, min(size, size * width / max(_width(text, size), 1e-9)))


def _wrap(text: str, size: float, width: float) -> str:
    """`text` broken at spaces into lines at most about `width` inches wide at `size` points; a lone
    symbol stays with both its neighbours ("Qi · Kj" is never split)."""
    pieces: list[str] = []
    words = text.split()
    while words:
        piece = words.pop(0)
        if pieces and len(piece) == 1 and not piece.isalnum():
            pieces[-1] += f" {piece}" + (f" {words.pop(0)}" if words else "")
        else:
            pieces.append(piece)
    lines: list[str] = []
    for piece in pieces:
        if lines and _width(f"{lines[-1]} {piece}", size) <= width:
            lines[-1] += f" {piece}"
        else:
            lines.append(piece)
    return "\n".join(lines)


def _ticks_at(n: int, max_ticks: int) -> tuple[list[int], int]:
    """Tick positions 0, k, 2k, … with k chosen so at most `max_ticks` labels show."""
    step = max(1, math.ceil(n / max_ticks))
    return list(range(0, n, step)), step


def _tick_size(n: int, inches: float, base: float) -> float:
    """Points for `n` tick labels along `inches`: `base`, smaller when crowded, never below 6."""
    return float(np.clip(inches * 72 / max(n, 1) * 0.7, 6, base))


def _plan(panel: Panel, max_ticks: int, base: float, nominal: float, width: float) -> Ticks:
    """Tick labels for `panel` drawn `width` inches wide: slanted when they would not fit flat."""
    n_rows, n_cols = panel.matrix.shape
    rows, row_step = _ticks_at(n_rows, max_ticks)
    cols, col_step = _ticks_at(n_cols, max_ticks)
    col_size = _tick_size(len(cols), nominal, base)
    widest = max((_width(_short(panel.cols[j]), col_size) for j in cols), default=0.0)
    space = width / max(len(cols), 1)  # inches from one column label to the next
    if not panel.cols_are_tokens or widest <= 0.95 * space:
        slant = 0
    else:  # 45° while slanted neighbours stay a line apart, else upright
        slant = 45 if space * 0.7071 >= col_size * 1.3 / 72 else 90
    return Ticks(rows, cols, max(row_step, col_step), _tick_size(len(rows), nominal, base), col_size, slant)


def _left_margin(panel: Panel, max_ticks: int, base: float, nominal: float) -> float:
    """Inches left of the heatmap for the row labels and the axis label (`base` points)."""
    rows, _ = _ticks_at(panel.matrix.shape[0], max_ticks)
    size = _tick_size(len(rows), nominal, base)
    widest = max((_width(_short(panel.rows[i]), size) for i in rows), default=0.0)
    return (TICK + LABEL_PAD) / 72 + widest + base * 1.3 / 72  # tick, gap, labelpad, the rotated label


def _bottom_margin(panel: Panel, ticks: Ticks, label: float) -> float:
    """Inches below the heatmap for the column labels and the axis label."""
    return (TICK + LABEL_PAD) / 72 + _col_labels_height(panel, ticks) + label * 1.3 / 72


# --- drawing -----------------------------------------------------------------------------------

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


def _row_labels_width(panel: Panel, ticks: Ticks) -> float:
    """Inches taken by the widest row label drawn."""
    return max((_width(_short(panel.rows[i]), ticks.row_size) for i in ticks.rows), default=0.0)


def _col_labels_height(panel: Panel, ticks: Ticks) -> float:
    """Inches taken below the heatmap by the column labels (flat, or slanted 45° or 90°)."""
    line = ticks.col_size * 1.25 / 72
    widest = max((_width(_short(panel.cols[j]), ticks.col_size) for j in ticks.cols), default=0.0)
    if ticks.slant == 45:  # the box of a slanted label is (width + height)·sin 45° tall
        return (widest + line) * 0.7072
    return widest if ticks.slant == 90 else line


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


def _short(label: str) -> str:
    label = " ".join(label.split()) or "␣"
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _num(value: float, precision: int) -> str:
    text = f"{value:.{precision}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]  # no "−0.00"
    return text.replace("-", "−")


def _sentence(trace: Trace, limit: int = 60) -> str:
    text = " ".join((trace.text or " ".join(tk.label for tk in trace.query_tokens)).split())
    return _cut(text, limit)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _headline(fig: Figure, make: Callable[[int], str], th: Theme, size: float = 22.0) -> None:
    """The figure's title at its top: make(n) with n characters of the sentence in it, the largest n
    (60 at most) that fits the width at 3/4 of `size` or more."""
    width, height = fig.get_size_inches()
    for limit in range(60, 4, -5):
        text = make(limit)
        if _width(text, 0.75 * size) <= width - 1:
            break
    _text(fig, width / 2, height - 0.35, text, th.fg, _fit(text, size, width - 1), va="top")


def _details(trace: Trace, head: int | None, lang: str, step: int = 1) -> str:
    """Footer: token count, widths, head (None: all heads shown), mask, label thinning and where the
    weights came from."""
    parts = [
        word("n_tokens", lang).format(n=len(trace.query_tokens)),
        f"d_model = {trace.d_model}",
        f"d_k = {trace.d_k}",
        f"d_v = {trace.d_v}",
        f"h = {trace.n_heads}" if head is None else word("head_of", lang).format(head=head + 1, heads=trace.n_heads),
    ]
    if trace.causal:
        parts.append(word("causal_mask", lang))
    if step > 1:
        parts.append(word("every_nth", lang).format(n=step))
    parts.append(word("weights_from", lang).format(source=trace.weights_source))
    return "  ·  ".join(parts)
