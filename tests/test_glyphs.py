"""render/figure/glyphs.py: strings drawn as glyph outlines land where matplotlib's own Text draws them."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from attnviz.render.figure import style as fig_module  # registers NanumGothic with matplotlib
from attnviz.render.figure.glyphs import Labels, advance, width

DPI = 100


def ink(draw) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) pixel box of everything darker than the white background."""
    fig = Figure(figsize=(4, 3), dpi=DPI, facecolor="white")
    draw(fig)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    dark = np.asarray(canvas.buffer_rgba())[..., :3].min(axis=2) < 160  # (height, width)
    rows, cols = np.nonzero(dark)
    assert len(rows), "nothing was drawn"
    return int(cols.min()), int(rows.min()), int(cols.max()), int(rows.max())


CASES = [  # text, ha, va, rotation, line spacing
    ("−1.68", "center", "center", 0, 1.2),
    ("0.07", "right", "center", 0, 1.2),
    ("고양이", "center", "top", 0, 1.2),
    ("queries (rows)", "center", "bottom", 90, 1.2),
    ("침대에서", "right", "top", 45, 1.2),
    ("잔다", "left", "bottom", 0, 1.2),
    ("Each row becomes a\nprobability distribution", "center", "top", 0, 1.45),
]


@pytest.mark.parametrize(("text", "ha", "va", "rotation", "spacing"), CASES)
def test_labels_land_where_matplotlib_text_does(text, ha, va, rotation, spacing):
    fig_module._register_font()

    def with_text(fig):
        fig.text(2, 1.5, text, transform=fig.dpi_scale_trans, ha=ha, va=va, rotation=rotation,
                 rotation_mode="anchor", fontsize=14, fontfamily=fig_module.FONT_FAMILY, color="black",
                 linespacing=spacing)

    def with_labels(fig):
        labels = Labels(fig.dpi_scale_trans)
        labels.add(2, 1.5, text, "black", 14, ha=ha, va=va, rotation=rotation, linespacing=spacing)
        fig.add_artist(labels)

    with mpl.rc_context({"text.hinting": "none"}):  # outlines are not grid-fitted: compare with Text unhinted
        expected = ink(with_text)
    got = ink(with_labels)
    assert np.max(np.abs(np.subtract(expected, got))) <= 2, (expected, got)  # pixels, at 100 dpi


def test_each_line_is_one_line_spacing_below_the_last():
    def lines(n):
        def draw(fig):
            labels = Labels(fig.dpi_scale_trans)
            labels.add(2, 2.5, "\n".join(["0.25"] * n), "black", 20, va="top", linespacing=1.5)
            fig.add_artist(labels)
        return draw

    (_, top1, _, bottom1), (_, top3, _, bottom3) = ink(lines(1)), ink(lines(3))
    assert top1 == top3
    assert bottom3 - bottom1 == pytest.approx(2 * 1.5 * 20 * DPI / 72, abs=1)  # two baseline steps


def test_width_is_the_sum_of_advances():
    assert width("고양이", 10) == pytest.approx(sum(advance(c) for c in "고양이") * 10 / 72)
    assert width("ab\nabc", 12) == pytest.approx(width("abc", 12))
    assert advance("\U000f0000") == 1.0  # a private-use character no font has: 1 em, drawn as nothing


def test_texts_lists_what_was_added_and_a_missing_glyph_draws_nothing():
    labels = Labels(Figure().dpi_scale_trans, "cells")
    labels.add(0, 0, "0.5", "black", 10)
    labels.add(0, 0, "\U000f0000", "black", 10)
    assert labels.texts == ["0.5", "\U000f0000"]
    assert labels.get_label() == "cells"
