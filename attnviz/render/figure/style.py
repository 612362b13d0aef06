"""Themes, fonts, and how labels and numbers are written on every figure (`_short`, `_num`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from matplotlib import font_manager

from .glyphs import FONT_FILE

#: Longest token label drawn on an axis (longer ones are cut with "…").
LABEL_CHARS = 12

# DejaVu Sans (matplotlib's own) first: its √ → are full-size (NanumGothic's are small) and it has
# − and ᵀ, which NanumGothic lacks; Hangul, which DejaVu lacks, falls back to NanumGothic glyph by glyph
FONT_FAMILY = ["DejaVu Sans", "NanumGothic"]
NUMBER_FAMILY = ["DejaVu Sans"]  # digits . − ∞ only: no fallback list to search, drawn a little faster


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


@cache
def _register_font() -> None:
    """Add the bundled NanumGothic to matplotlib's font list, once per process."""
    known = {Path(f.fname).resolve() for f in font_manager.fontManager.ttflist}
    if FONT_FILE.resolve() not in known:
        font_manager.fontManager.addfont(str(FONT_FILE))


def _short(label: str) -> str:
    label = " ".join(label.split()) or "␣"
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _num(value: float, precision: int) -> str:
    text = f"{value:.{precision}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]  # no "−0.00"
    return text.replace("-", "−")
