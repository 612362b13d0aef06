"""Heatmap figures of a Trace: the four-step pipeline and one figure per stage, as PNG/SVG/PDF.

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
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import matplotlib as mpl
import numpy as np
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.collections import PatchCollection
from matplotlib.colors import Colormap, Normalize
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font, LoadFlags
from matplotlib.image import AxesImage
from matplotlib.patches import FancyArrowPatch, Rectangle

from ..errors import InputError, OutputError
from ..files import atomic_write
from ..trace import HeadTrace, Trace
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
#: Longest token label drawn on an axis (longer ones are cut with "…").
LABEL_CHARS = 12

FONT_FILE = Path(__file__).resolve().parent.parent / "fonts" / "NanumGothic.ttf"
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


THEMES = {
    "light": Theme(bg="#ffffff", fg="#1b1b1b", muted="#5f6368", hidden="#b4b4b4",
                   diverging="RdBu_r", sequential="Blues"),
    "dark": Theme(bg="#121417", fg="#ececec", muted="#a9adb3", hidden="#4a4e55",
                  diverging="berlin", sequential="magma"),
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
        cax = _axes(fig, (x + 0.05 * side, y0 - bar_top - 0.14, 0.9 * side, 0.14))
        _colorbar(fig, image, cax, panel, th, "horizontal", label - 1)
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
    sentence = f"{title('pipeline', lang)}: “{_sentence(trace)}”"
    _text(fig, width / 2, height - 0.35, sentence, th.fg, _fit(sentence, 22, width - 1), va="top")
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
    _colorbar(fig, image, _axes(fig, (x + w + 0.2, y, 0.2, h)), panel, th, "vertical", label - 1)
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
    fmt = _format_of(path)
    _check_folder(path)
    fig = stage_figure(trace, stage, head=head, theme=theme, lang=lang, precision=precision)
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
    paths = []
    for name, stage in STAGE_FILES:
        path = out_dir / f"{name}.{fmt}"
        _save(stage_figure(trace, stage, head=head, theme=theme, lang=lang, precision=precision),
              path, fmt, dpi)
        paths.append(path)
    return paths


# --- checks and files ------------------------------------------------------------------------

def _check(trace: Trace, head: int, theme: str, lang: str, precision: int) -> None:
    if not 0 <= head < trace.n_heads:
        raise InputError(f"head {head} does not exist: this trace has heads 0 to {trace.n_heads - 1}")
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
    """savefig into a temp file beside `path`, renamed over it; no dates or versions in the file."""
    _check_dpi(dpi)
    png = {"pil_kwargs": {"compress_level": 3}} if fmt == "png" else {}  # ~30 % faster to encode, ~25 % larger

    def write(tmp: Path) -> None:
        with mpl.rc_context(_SAVE_RC):
            fig.savefig(tmp, format=fmt, dpi=dpi, metadata=_METADATA[fmt], facecolor=fig.get_facecolor(),
                        edgecolor="none", **png)

    atomic_write(path, write)


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
    """Centred text at (x, y) inches; `$` is plain text, never mathtext."""
    fig.text(x, y, s, transform=fig.dpi_scale_trans, ha="center", va=va, color=color, fontsize=size,
             fontfamily=FONT_FAMILY, linespacing=linespacing, parse_math=False)


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

def _width(text: str, size: float) -> float:
    """Width in inches of the widest line of `text` at `size` points, from the fonts' advance widths
    (kerning ignored), so the layout is computed without drawing anything."""
    return max(sum(_advance(c) for c in line) for line in text.split("\n")) * size / 72


@cache
def _advance(char: str) -> float:
    """Advance width of `char` in em, in the first font of FONT_FAMILY that has it (as drawn)."""
    for font in _metric_fonts():
        if font.get_char_index(ord(char)):
            return font.load_char(ord(char), flags=LoadFlags.NO_HINTING).linearHoriAdvance / 65536 / 72
    return 1.0


@cache
def _metric_fonts() -> tuple[FT2Font, ...]:
    fonts = []
    for path in (font_manager.findfont("DejaVu Sans"), str(FONT_FILE)):
        font = FT2Font(path)
        font.set_size(72, 72)  # 72 pt at 72 dpi: 1 em = 72 pixels
        fonts.append(font)
    return tuple(fonts)


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
    return (2 + 3.5 + 6) / 72 + widest + base * 1.3 / 72  # tick, pad, labelpad, the rotated label


def _bottom_margin(panel: Panel, ticks: Ticks, label: float) -> float:
    """Inches below the heatmap for the column labels and the axis label."""
    line = ticks.col_size * 1.25 / 72
    widest = max((_width(_short(panel.cols[j]), ticks.col_size) for j in ticks.cols), default=0.0)
    if ticks.slant == 45:  # the box of a slanted label is (width + height)·sin 45° tall
        tall = (widest + line) * 0.7072
    elif ticks.slant == 90:
        tall = widest
    else:
        tall = line
    return (2 + 3.5 + 6) / 72 + tall + label * 1.3 / 72


# --- drawing -----------------------------------------------------------------------------------

def _heatmap(ax: Axes, panel: Panel, th: Theme, precision: int, ticks: Ticks, label: float,
             cell_size: float | None) -> AxesImage:
    """One imshow of panel.matrix with labelled axes, and the values in the cells at `cell_size`
    points (None: no values)."""
    matrix = np.asarray(panel.matrix, dtype=float)  # (rows, cols)
    n_rows, n_cols = matrix.shape
    hidden = panel.hidden
    shown = matrix if hidden is None else np.ma.masked_array(matrix, mask=hidden)
    cmap, norm = _colours(panel, th)
    # sharp cells while they are several pixels wide; smoothed (not aliased) when they are not
    smooth = "auto" if min(n_rows, n_cols) > 2 * MAX_TICKS_STAGE else "nearest"
    image = ax.imshow(shown, cmap=cmap, norm=norm, aspect="auto", interpolation=smooth)
    ax.set_label(f"heatmap {panel.stage}")
    ax.set_facecolor(th.bg)
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_color(th.muted)

    ax.tick_params(colors=th.muted, labelcolor=th.fg, labelfontfamily=FONT_FAMILY, length=2, top=False,
                   right=False)
    ax.tick_params(axis="y", labelsize=ticks.row_size)
    ax.tick_params(axis="x", labelsize=ticks.col_size)
    if not panel.cols_are_tokens:
        ax.tick_params(axis="x", labelfontfamily=NUMBER_FAMILY)  # dimension numbers
    ax.set_yticks(ticks.rows, [_short(panel.rows[i]) for i in ticks.rows], parse_math=False)
    slant = {"rotation": ticks.slant, "ha": "right", "va": "top" if ticks.slant == 45 else "center",
             "rotation_mode": "anchor"} if ticks.slant else {}
    ax.set_xticks(ticks.cols, [_short(panel.cols[j]) for j in ticks.cols], parse_math=False, **slant)
    ax.set_ylabel(panel.row_label, color=th.fg, fontsize=label, fontfamily=FONT_FAMILY, labelpad=6,
                  parse_math=False)
    ax.set_xlabel(panel.col_label, color=th.fg, fontsize=label, fontfamily=FONT_FAMILY, labelpad=6,
                  parse_math=False)

    if n_rows <= 40 and n_cols <= 40:  # thin separators between cells while cells are visible
        line = 1.0 if max(n_rows, n_cols) <= CELL_TEXT_MAX else 0.4
        ax.hlines(np.arange(1, n_rows) - 0.5, -0.5, n_cols - 0.5, color=th.bg, linewidth=line)
        ax.vlines(np.arange(1, n_cols) - 0.5, -0.5, n_rows - 0.5, color=th.bg, linewidth=line)
    if hidden is not None and hidden.any() and max(n_rows, n_cols) <= 2 * MAX_TICKS_STAGE:
        cells = [Rectangle((j - 0.5, i - 0.5), 1, 1) for i, j in zip(*np.nonzero(hidden))]
        ax.add_collection(PatchCollection(cells, facecolor="none", edgecolor="none", linewidth=0,
                                          hatch="///", hatchcolor=th.muted), autolim=False)
    if cell_size:
        _cell_values(ax, matrix, hidden, panel.hidden_text, cmap, norm, precision, cell_size)
    return image


def _colours(panel: Panel, th: Theme) -> tuple[Colormap, Normalize]:
    """Sequential 0..1 for softmax weights; diverging, centred at 0, for everything else."""
    if panel.sequential:  # 0..1; for long rows, where every weight is small, 0..the largest weight
        top = 1.0 if panel.matrix.shape[1] <= CELL_TEXT_MAX else float(np.nanmax(panel.matrix)) or 1.0
        cmap, norm = mpl.colormaps[th.sequential], Normalize(0.0, top)
    else:
        shown = np.isfinite(panel.matrix) if panel.hidden is None else ~panel.hidden & np.isfinite(panel.matrix)
        top = float(np.abs(panel.matrix[shown]).max()) if shown.any() else 0.0
        top = top if top > 0 else 1.0
        cmap, norm = mpl.colormaps[th.diverging], Normalize(-top, top)
    return cmap.with_extremes(bad=th.hidden), norm


def _colorbar(fig: Figure, image: AxesImage, cax: Axes, panel: Panel, th: Theme, orientation: str,
              size: float) -> None:
    bar = fig.colorbar(image, cax=cax, orientation=orientation)
    cax.set_label("colorbar")
    bar.outline.set_edgecolor(th.muted)
    cax.tick_params(colors=th.muted, labelcolor=th.fg, labelsize=size, labelfontfamily=NUMBER_FAMILY)
    if panel.sequential and image.norm.vmax == 1.0:
        bar.set_ticks([0, 0.25, 0.5, 0.75, 1])


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
                 norm: Normalize, precision: int, size: float) -> None:
    """Write each value in its cell, black or white against the cell colour."""
    n_rows, n_cols = matrix.shape
    rgba = cmap(norm(np.ma.masked_invalid(matrix) if hidden is None else np.ma.masked_array(matrix, hidden)))
    luminance = rgba[..., :3] @ np.array([0.2126, 0.7152, 0.0722])  # (rows, cols)
    for i in range(n_rows):
        for j in range(n_cols):
            is_hidden = hidden is not None and hidden[i, j]
            ax.text(j, i, hidden_text if is_hidden else _num(matrix[i, j], precision), ha="center",
                    va="center", fontsize=size, color="#ffffff" if luminance[i, j] < 0.5 else "#111111",
                    fontfamily=NUMBER_FAMILY)


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
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _details(trace: Trace, head: int, lang: str, step: int = 1) -> str:
    """Footer: token count, widths, head, mask, label thinning and where the weights came from."""
    parts = [
        word("n_tokens", lang).format(n=len(trace.query_tokens)),
        f"d_model = {trace.d_model}",
        f"d_k = {trace.d_k}",
        f"d_v = {trace.d_v}",
        word("head_of", lang).format(head=head + 1, heads=trace.n_heads),
    ]
    if trace.causal:
        parts.append(word("causal_mask", lang))
    if step > 1:
        parts.append(word("every_nth", lang).format(n=step))
    parts.append(word("weights_from", lang).format(source=trace.weights_source))
    return "  ·  ".join(parts)
