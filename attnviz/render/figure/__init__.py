"""Figures as PNG/SVG/PDF: the pipeline, one per stage, and the mask, heads, cross, √d_k, softmax, RoPE and GQA
views.

The only package in attnviz that imports matplotlib. It
uses the object API alone (`Figure()`, `fig.savefig`), never pyplot and never a global rcParams change;
the bundled NanumGothic font is registered once, lazily, and named explicitly on every text, with
DejaVu Sans as the per-glyph fallback (√ × → ᵀ − ∞ and Hangul all render). Rows are queries, columns
are keys, and the axis labels say so. The same call writes byte-identical files.

Layout is computed here, in inches, from estimated label widths (no layout engine): constrained
layout would measure every text twice per save and cost a third of the time a figure takes.

Modules, each importing only those above it:
  glyphs    text as glyph outlines (the Labels artist) and text metrics
  png       PNG files from a drawn figure's pixels (numpy and zlib)
  style     themes, fonts, how labels and numbers are written
  panels    Panel: what one heatmap shows, for each stage of a trace
  layout    Ticks, margins, fitting and wrapping text, in inches
  heatmap   a heatmap, its tick labels, cell values and colour bar
  canvas    a themed Figure, axes and text placed in inches, titles, headline, footer
  checks    argument checks (head, focus row, theme, language, precision)
  pipeline, mask, heads, cross, lessons, block, rope, gqa   the figures
  save      PNG/SVG/PDF files, atomically and byte-reproducibly
  read      the strings a figure draws, for tests
"""

from __future__ import annotations

from .alignment import alignment_figure
from .block import block_figure
from .cross import cross_figure
from .gqa import gqa_figure
from .heads import heads_figure, layers_figure
from .heatmap import CELL_TEXT_MAX
from .layout import MAX_TICKS_PIPELINE, MAX_TICKS_STAGE
from .lessons import scale_figure, softmax_figure
from .mask import mask_figure
from .panels import STAGES
from .pipeline import pipeline_figure, stage_figure
from .read import labels, texts
from .rope import rope_figure
from .save import FORMATS, STAGE_FILES, save_figure, save_stage_figures, save_view
from .style import FONT_FAMILY, NUMBER_FAMILY, THEMES, Theme

__all__ = [
    # figures: each returns a matplotlib Figure
    "pipeline_figure", "stage_figure", "mask_figure", "heads_figure", "layers_figure", "cross_figure",
    "scale_figure", "softmax_figure", "block_figure", "rope_figure", "gqa_figure", "alignment_figure",
    # files
    "save_view", "save_figure", "save_stage_figures", "FORMATS", "STAGES", "STAGE_FILES",
    # reading a figure back
    "texts", "labels",
    # style and limits
    "THEMES", "Theme", "FONT_FAMILY", "NUMBER_FAMILY", "CELL_TEXT_MAX", "MAX_TICKS_STAGE", "MAX_TICKS_PIPELINE",
]
