"""The cross-attention figure: decoder queries × encoder keys, and for image patches the image with the
focus query's weights laid over it."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import matplotlib as mpl
import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from ...errors import InputError
from ...patches import patch_weights
from ...trace import Trace
from ..text import caption, word
from .canvas import _axes, _cut, _details, _headline, _new_figure, _outline_row, _sentence, _text, _titles
from .checks import _check, _check_focus
from .glyphs import width as _width
from .heatmap import CELL_TEXT_MAX, _cell_size, _colorbar, _heatmap
from .layout import MAX_TICKS_STAGE, _bottom_margin, _fit, _left_margin, _plan, _wrap
from .panels import _panel
from .style import NUMBER_FAMILY, THEMES, Theme, _num, _short


@dataclass(frozen=True)
class CrossWords:
    """What a view drawn as cross_figure says instead of the plain cross-attention's words (the alignment
    figure): the title over the matrix, a line above its formula, the caption, the footer and the headline."""

    main: str
    above: str
    caption: str
    details: str
    headline: str


def cross_figure(trace: Trace, *, head: int = 0, focus: int = 0, theme: str = "light", lang: str = "en",
                 precision: int = 2, words: CrossWords | None = None) -> Figure:
    """Cross-attention weights of head `head`: softmax(Q·Kᵀ / √d_k), T×S, rows the decoder's (target)
    tokens, columns the encoder's source tokens or image patches; the query row `focus` outlined.

    When the keys are image patches (trace.patch_grid = (rows, cols)), the image is drawn too, with
    the focus query's rows × cols patch weights laid over it (patch_1 top-left, row by row). A real model's keys
    begin with [CLS], which is not in the image: the overlay shows the last rows × cols keys. A ViT's
    self-attention over its [CLS] + patches (a self trace with an image) is drawn the same way.
    `words` replaces the titles, caption and footer (alignment.py's alignment figure).
    """
    _check(trace, head, theme, lang, precision)
    vit = trace.kind == "self" and trace.patch_grid is not None and trace.image_path is not None
    if trace.kind != "cross" and not vit:
        raise InputError("cross_figure draws cross-attention traces (decoder queries, encoder keys) and a ViT's "
                         "self-attention over an image; use pipeline_figure or heads_figure for self-attention")
    _check_focus(trace, focus)
    th = THEMES[theme]
    width, height = 16.0, 9.0
    fig = _new_figure((width, height), th)
    grid = trace.patch_grid if trace.image_path else None
    cols_word = "fig_patch_keys" if trace.patch_grid else "fig_enc_keys"
    rows_word, note_word = ("fig_image_queries", "fig_qkv_image") if vit else ("fig_dec_queries", "fig_qkv_from")
    cols_word = "fig_image_keys" if vit or (grid and trace.model is not None) else cols_word
    panel = replace(_panel(trace, "softmax", head, lang, precision), row_label=word(rows_word, lang),
                    col_label=word(cols_word, lang), note=word(note_word, lang))
    if words is not None and words.above:
        panel = replace(panel, formula=f"{words.above}\n{panel.formula}")
    t, s = panel.matrix.shape
    label, margin, main_size, head_size, cap_size = 12.0, 0.35, 15.0, 11.0, 12.0
    top_band = 0.95
    if grid is not None and trace.model is not None:  # a real checkpoint's [CLS] + patches
        cap = ("" if vit else caption("vision_captioner", lang) + " ") + caption("patch_grid", lang).format(q=focus + 1)
    elif grid is not None:
        rows, cols = grid
        cap = f"{caption('vision', lang).format(rows=rows, cols=cols)} " \
              f"{caption('patch_grid', lang).format(q=focus + 1)}"
    else:
        cap = f"{caption('decoder_input', lang)} {caption('kv', lang)}"
    cap = cap if words is None else words.caption
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
    main = f"{word('fig_softmax', lang)}(Q·Kᵀ / √d_k)" if words is None else words.main
    _titles(fig, x + w / 2, y + hgt, main, panel.heading, th, _fit(main, main_size, box_w),
            _fit(panel.heading, head_size, box_w))
    if grid is not None:
        ix = margin + box_w + 0.4 + (img_box - iw) / 2
        iy = foot + img_below + (room - img_above - img_below - ih) / 2
        focus_row = patch_weights(trace.heads[head].weights[focus], grid)  # (rows, cols), without [CLS]
        top = _overlay(fig, (ix, iy, iw, ih), pixels, focus_row, th, precision)
        token = _short(trace.query_tokens[focus].label)
        digits = max(precision, 1 - math.floor(math.log10(top))) if top > 0 else precision  # 0.0077, not 0.01
        note = word("fig_overlay", lang).format(top=_num(top, digits))
        _titles(fig, ix + iw / 2, iy + ih, word("fig_looks", lang).format(token=token), note, th,
                _fit(word("fig_looks", lang).format(token=token), main_size, img_box), _fit(note, head_size, img_box))
    queries = " ".join(_short(tk.label) for tk in trace.query_tokens[:8]) + (" …" if t > 8 else "")
    if grid is not None:
        patches = word("n_patches", lang).format(rows=grid[0], cols=grid[1], n=grid[0] * grid[1])
        kind = word("fig_vit", lang) if vit else word("fig_cross", lang)
        if vit:
            queries = f"{trace.model.name} L{trace.model.layer}"
        _headline(fig, lambda n: f"{kind}: {queries}  →  {_cut(Path(trace.image_path).name, n)}, {patches}", th)
    elif words is not None:
        _headline(fig, lambda n: f"{words.headline}: “{_sentence(trace, n)}”", th)
    else:
        _headline(fig, lambda n: f"{word('fig_cross', lang)}: {queries}  →  “{_sentence(trace, n)}”", th)
    _text(fig, width / 2, 0.3 + 10.5 * 1.2 / 72 + 0.15, cap, th.fg, cap_size, linespacing=1.4)
    if words is None:
        _text(fig, width / 2, 0.3, _details(trace, head, lang, ticks.step), th.muted, 10.5)
    else:
        _text(fig, width / 2, 0.3, words.details, th.muted, _fit(words.details, 10.5, width - 1))
    return fig


def _read_image(path: Path, longest: int = 640) -> np.ndarray:
    """The image at `path` as RGB in [0, 1], at most `longest` pixels a side: (h, w, 3)."""
    from ...images import image_size, load_image

    w, h = image_size(path) or (longest, longest)  # load_image below reports what is wrong with the file
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
