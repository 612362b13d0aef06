"""Many short labels on a figure (cell values, tick labels) drawn as glyph outlines, one path a colour.

Part of the figure renderer (render/figure/). A matplotlib `Text` lays itself out and
renders through FreeType one object at a time, about 1 ms each, and a stage figure holds a hundred of
them. `Labels` keeps each glyph's outline once per process and draws all of its strings with one
`draw_path` call a colour: the same shapes in PNG, SVG (where attnviz draws text as outlines anyway)
and PDF. Text metrics (`advance`, `width`) live here too, so layout and drawing agree.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
from matplotlib import font_manager
from matplotlib.artist import Artist
from matplotlib.colors import to_rgba
from matplotlib.font_manager import FontProperties
from matplotlib.ft2font import FT2Font, Kerning, LoadFlags
from matplotlib.path import Path as MplPath
from matplotlib.textpath import TextPath
from matplotlib.transforms import IdentityTransform, Transform

FONT_FILE = Path(__file__).resolve().parent.parent.parent / "fonts" / "NanumGothic.ttf"

# DejaVu Sans's typographic ascender and descender (em): a line of text is `linespacing` × their sum
# tall, as matplotlib's Text lays it out
ASCENT, DESCENT = 0.760, 0.240


@cache
def _fonts() -> tuple[tuple[str, FT2Font], ...]:
    """(file, font at 1 em = 72 px) for DejaVu Sans, then NanumGothic: the first with a glyph draws it.

    DejaVu first: its √ → are full-size and it has − and ᵀ; Hangul falls back to NanumGothic."""
    fonts = []
    for path in (font_manager.findfont("DejaVu Sans"), str(FONT_FILE)):
        font = FT2Font(path)
        font.set_size(72, 72)
        fonts.append((path, font))
    return tuple(fonts)


def _font_of(char: str) -> tuple[str, FT2Font] | None:
    return next(((path, font) for path, font in _fonts() if font.get_char_index(ord(char))), None)


@cache
def advance(char: str) -> float:
    """Advance width of `char` in em, in the font that draws it (1 em for a glyph no font has)."""
    found = _font_of(char)
    if found is None:
        return 1.0
    return found[1].load_char(ord(char), flags=LoadFlags.NO_HINTING).linearHoriAdvance / 65536 / 72


@cache
def kerning(left: str, right: str) -> float:
    """Kerning in em between two characters drawn by the same font (0 across fonts), as matplotlib
    applies it."""
    a, b = _font_of(left), _font_of(right)
    if a is None or b is None or a[0] != b[0]:
        return 0.0
    font = a[1]
    return font.get_kerning(font.get_char_index(ord(left)), font.get_char_index(ord(right)),
                            Kerning.UNFITTED) / 64 / 72


def _line_width(line: str) -> float:
    """Width of one line in em: advances plus kerning."""
    return sum(advance(c) for c in line) + sum(kerning(a, b) for a, b in zip(line, line[1:]))


def width(text: str, size: float) -> float:
    """Width in inches of the widest line of `text` at `size` points, from the fonts' advance widths
    and kerning, so a layout is computed without drawing anything."""
    return max(_line_width(line) for line in text.split("\n")) * size / 72


@lru_cache(maxsize=1024)
def _glyph(char: str) -> tuple[np.ndarray, np.ndarray]:
    """Outline of `char` at 1 em: (vertices (n, 2), path codes (n,)); empty for a space, a format
    character or a glyph that no font has."""
    found = _font_of(char)
    # a format character (the ZWJ inside 👨‍👩‍👧) has an empty glyph, which TextPath cannot build
    if found is None or char.isspace() or unicodedata.category(char) == "Cf":
        return np.zeros((0, 2)), np.zeros(0, dtype=MplPath.code_type)
    path = TextPath((0, 0), char, size=1, prop=FontProperties(fname=found[0]))
    return np.asarray(path.vertices, dtype=float), np.asarray(path.codes, dtype=MplPath.code_type)


@lru_cache(maxsize=4096)
def _outline(text: str) -> tuple[np.ndarray, np.ndarray, float, float, float]:
    """One line of text at 1 em, baseline at y = 0 from x = 0: (vertices, codes, width, ascent,
    descent), all in em; ascent and descent are the outline's extent above and below the baseline
    (0 for an empty line), as FreeType measures a line for matplotlib's layout."""
    verts, codes, x = [], [], 0.0
    for k, char in enumerate(text):
        if k:
            x += kerning(text[k - 1], char)
        v, c = _glyph(char)
        if len(v):
            verts.append(v + (x, 0.0))
            codes.append(c)
        x += advance(char)
    if not verts:
        return np.zeros((0, 2)), np.zeros(0, dtype=MplPath.code_type), x, 0.0, 0.0
    v = np.concatenate(verts)
    return v, np.concatenate(codes), x, max(0.0, float(v[:, 1].max())), max(0.0, -float(v[:, 1].min()))


@dataclass(frozen=True)
class Label:
    """One string (lines split at "\n"): anchored at (x, y) in the artist's coordinates, moved by
    (dx, dy) points, aligned by ha/va like matplotlib's Text (each line aligned by ha), and turned
    `rotation` degrees about the anchor."""

    x: float
    y: float
    text: str
    color: str
    size: float  # points
    ha: str = "center"  # left | center | right
    va: str = "center"  # top | center | bottom | baseline
    rotation: float = 0.0
    dx: float = 0.0
    dy: float = 0.0
    linespacing: float = 1.2  # em from one baseline to the next


_HA = {"left": 0.0, "center": -0.5, "right": -1.0}  # × the line's width


@lru_cache(maxsize=4096)
def _block(text: str, ha: str, va: str, linespacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Every line of `text` at 1 em, aligned around the anchor at (0, 0): (vertices, codes).

    Laid out as matplotlib's Text does with a numeric line spacing: each line is `linespacing` em
    (× the font's ascender + descender, 1 em) tall, its leading split evenly above its ink and below
    it; va aligns the whole block, ha each line."""
    tall = linespacing * (ASCENT + DESCENT)  # one line's height
    lines = [_outline(line) for line in text.split("\n")]
    above = [(tall + a - d) / 2 for _, _, _, a, d in lines]  # each line's top down to its baseline
    top = {"top": 0.0, "center": tall * len(lines) / 2, "bottom": tall * len(lines), "baseline": above[0]}[va]
    verts, codes, y = [], [], top  # y: the current line's top, relative to the anchor
    for (v, c, em_width, _, _), a in zip(lines, above):
        if len(v):
            verts.append(v + (_HA[ha] * em_width, y - a))
            codes.append(c)
        y -= tall
    if not verts:
        return np.zeros((0, 2)), np.zeros(0, dtype=MplPath.code_type)
    return np.concatenate(verts), np.concatenate(codes)


class Labels(Artist):
    """Short one-line strings drawn as filled glyph outlines: one path a colour, in one draw call.

    `texts` lists the strings, in the order they were added (what a Text's get_text gave)."""

    zorder = 3  # above images, meshes and lines, as matplotlib's Text

    def __init__(self, transform: Transform, label: str = "") -> None:
        super().__init__()
        self.set_transform(transform)
        self.set_clip_on(False)
        self.set_label(label)
        self.labels: list[Label] = []

    def add(self, x: float, y: float, text: str, color: str, size: float, **how) -> None:
        self.labels.append(Label(x, y, text, color, size, **how))

    @property
    def texts(self) -> list[str]:
        return [label.text for label in self.labels]

    def draw(self, renderer) -> None:
        if not self.get_visible() or not self.labels:
            return
        px = renderer.points_to_pixels(1.0)  # pixels a point
        anchors = self.get_transform().transform([(lb.x, lb.y) for lb in self.labels])  # (n, 2) pixels
        paths: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {}
        for lb, (ax, ay) in zip(self.labels, anchors):
            verts, codes = _block(lb.text, lb.ha, lb.va, lb.linespacing)
            if not len(verts):
                continue
            xy = verts * (lb.size * px)  # (n, 2) pixels around the anchor
            if lb.rotation:
                a = math.radians(lb.rotation)
                xy = xy @ np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])
            xy += (ax + lb.dx * px, ay + lb.dy * px)
            bucket = paths.setdefault(lb.color, ([], []))
            bucket[0].append(xy)
            bucket[1].append(codes)
        gc = renderer.new_gc()
        gc.set_linewidth(0)
        gc.set_antialiased(True)
        gc.set_snap(False)
        for color, (verts, codes) in paths.items():
            path = MplPath(np.concatenate(verts), np.concatenate(codes))
            renderer.draw_path(gc, path, IdentityTransform(), to_rgba(color))
        gc.restore()
        self.stale = False
