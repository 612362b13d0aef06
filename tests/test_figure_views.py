"""Figures of the views: mask, heads, cross (text and image), scale, softmax; save_view (all to tmp_path)."""

from __future__ import annotations

import io
import logging
import warnings
from pathlib import Path

import numpy as np
import pytest
from matplotlib.patches import Rectangle

from attnviz.errors import InputError, OutputError
from attnviz.lessons import scale_lesson, softmax_steps
from attnviz.pipeline import SEED_SENTENCE, cross_attention, image_attention, self_attention
from attnviz.render import figure

IMAGE = Path(__file__).resolve().parent.parent / "samples" / "cat_on_bed.png"
MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-", "svg": b"<?xml"}
TOKENS = ["고양이", "는", "침대", "에서", "잔다"]


@pytest.fixture(scope="module")
def traces():
    return {
        "causal": self_attention(SEED_SENTENCE, causal=True),
        "plain": self_attention(SEED_SENTENCE),
        "padded": self_attention(SEED_SENTENCE, causal=True, pad_to=7),
        "heads": self_attention(SEED_SENTENCE, n_heads=4, d_model=16),
        "cross": cross_attention(SEED_SENTENCE, "The cat"),
        "image": image_attention(IMAGE, SEED_SENTENCE, grid=(4, 4)),
        "image23": image_attention(IMAGE, grid=(2, 3)),
    }


@pytest.fixture(scope="module")
def lesson():
    return scale_lesson(np.random.default_rng(0), n_keys=10, n_rows=50)


STEPS = softmax_steps([10.5, 2.3, 6.1, 4.4, 9.7])


def build(view: str, traces, lesson, **style):
    """One figure of each view (the seed sentence)."""
    if view == "mask":
        return figure.mask_figure(traces["causal"], compare=traces["plain"], **style)
    if view == "mask_pad":
        return figure.mask_figure(traces["padded"], **style)
    if view == "heads":
        return figure.heads_figure(traces["heads"], focus=1, **style)
    if view == "cross":
        return figure.cross_figure(traces["cross"], focus=1, **style)
    if view == "image":
        return figure.cross_figure(traces["image"], focus=2, **style)
    if view == "scale":
        return figure.scale_figure(lesson, **style)
    if view == "softmax":
        return figure.softmax_figure(STEPS, labels=TOKENS, **style)
    raise AssertionError(view)


VIEWS = ("mask", "mask_pad", "heads", "cross", "image", "scale", "softmax")


def axes_named(fig, prefix: str):
    return [ax for ax in fig.axes if ax.get_label().startswith(prefix)]


def texts(ax) -> list[str]:
    """What is written in the cells of a heatmap or a mask grid."""
    return [t.get_text() for t in ax.texts] + figure.labels(ax, "cells")


def cells(ax):
    """The coloured cells of a heatmap: a QuadMesh, or an AxesImage for a large matrix."""
    (mappable,) = [a for a in (*ax.images, *ax.collections) if a.get_label() == "cells"]
    return mappable


def draw(fig) -> None:
    fig.savefig(io.BytesIO(), format="png", dpi=30)


def test_the_seed_sentence_has_five_tokens(traces):
    assert [tk.label for tk in traces["causal"].query_tokens] == TOKENS


@pytest.mark.parametrize("fmt", figure.FORMATS)
@pytest.mark.parametrize("view", VIEWS)
def test_each_view_saves_each_format_with_its_magic_bytes(traces, lesson, tmp_path, view, fmt):
    path = figure.save_view(build(view, traces, lesson), tmp_path / f"{view}.{fmt}", dpi=40)
    assert path == tmp_path / f"{view}.{fmt}"
    assert path.read_bytes().startswith(MAGIC[fmt])
    assert [p.name for p in tmp_path.iterdir()] == [f"{view}.{fmt}"]  # no temp file left


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_no_missing_glyphs(traces, lesson, view, lang, theme, caplog):
    """○ × −∞ √ → ᵀ ₂ Σ and Hangul all have a glyph: no warning, no font log line."""
    with warnings.catch_warnings(), caplog.at_level(logging.WARNING):
        warnings.simplefilter("error")
        draw(build(view, traces, lesson, lang=lang, theme=theme))
    assert not [r for r in caplog.records if r.name.startswith("matplotlib")]


@pytest.mark.parametrize("fmt", figure.FORMATS)
def test_two_saves_give_identical_bytes(traces, lesson, tmp_path, fmt):
    for view in ("mask_pad", "image", "scale"):
        a = figure.save_view(build(view, traces, lesson, lang="ko"), tmp_path / f"a.{fmt}", dpi=40)
        b = figure.save_view(build(view, traces, lesson, lang="ko"), tmp_path / f"b.{fmt}", dpi=40)
        assert a.read_bytes() == b.read_bytes(), view


def test_save_view_refuses_unknown_extensions_and_leaves_nothing(traces, lesson, tmp_path):
    fig = build("softmax", traces, lesson)
    with pytest.raises(OutputError, match=r"\.png, \.svg, \.pdf"):
        figure.save_view(fig, tmp_path / "softmax.jpg")
    with pytest.raises(OutputError, match="no extension"):
        figure.save_view(fig, tmp_path / "softmax")
    with pytest.raises(OutputError, match="does not exist"):
        figure.save_view(fig, tmp_path / "nowhere" / "softmax.png")
    assert list(tmp_path.iterdir()) == []


# --- mask ------------------------------------------------------------------------------------------

def test_causal_mask_grid_has_a_circle_on_and_below_the_diagonal(traces):
    fig = figure.mask_figure(traces["causal"])
    (grid,) = axes_named(fig, "mask grid")
    t = 5
    assert texts(grid).count("○") == t * (t + 1) // 2
    assert texts(grid).count("×") == t * (t - 1) // 2
    assert figure.labels(grid, "yticks") == TOKENS  # rows are queries
    assert figure.labels(grid, "xticks") == TOKENS  # columns are keys
    (soft,) = axes_named(fig, "heatmap softmax")
    assert cells(soft).get_array().shape == (t, t)
    assert texts(soft).count("0") == t * (t - 1) // 2  # hidden cells are exactly 0


def test_compare_puts_the_encoder_beside_the_decoder(traces):
    fig = figure.mask_figure(traces["causal"], compare=traces["plain"], lang="ko")
    encoder, decoder = axes_named(fig, "mask grid")
    assert texts(encoder).count("○") == 25 and "×" not in texts(encoder)
    assert texts(decoder).count("×") == 10
    assert len(axes_named(fig, "heatmap softmax")) == 2
    shown = set(figure.texts(fig))
    assert {"인코더 · 마스크 없음", "디코더 · Look-Ahead 마스크"} <= shown


def test_a_pad_query_row_is_marked_and_all_zero(traces):
    padded = traces["padded"]
    assert [tk.label for tk in padded.query_tokens][5:] == ["[PAD]", "[PAD]"]
    fig = figure.mask_figure(padded)
    (grid,) = axes_named(fig, "mask grid")
    assert texts(grid).count("○") == 15 and texts(grid).count("×") == 49 - 15
    (soft,) = axes_named(fig, "heatmap softmax")
    marks = [t for t in texts(soft) if "[PAD]" in t]
    assert len(marks) == 2  # one note in each [PAD] row, instead of its seven zeros
    assert len(texts(soft)) == 5 * 7 + 2
    assert np.all(cells(soft).get_array().data[5:] == 0)
    outlined = [p for p in soft.patches if isinstance(p, Rectangle) and p.get_linestyle() == (0, (4, 2))]
    assert len(outlined) == 2


def test_compare_must_have_the_same_tokens(traces):
    with pytest.raises(InputError, match="same tokens"):
        figure.mask_figure(traces["padded"], compare=traces["plain"])


# --- heads -----------------------------------------------------------------------------------------

def test_heads_figure_has_one_heatmap_per_head_and_the_output(traces):
    trace = traces["heads"]
    fig = figure.heads_figure(trace, focus=1)
    labels = [ax.get_label() for ax in axes_named(fig, "heatmap")]
    assert labels == ["heatmap head 1", "heatmap head 2", "heatmap head 3", "heatmap head 4", "heatmap projected"]
    assert {f"Head {i}" for i in range(1, 5)} <= set(figure.texts(fig))
    heads = axes_named(fig, "heatmap head")
    for i, ax in enumerate(heads):
        assert np.allclose(cells(ax).get_array(), trace.heads[i].weights)
        assert cells(ax).norm.vmax == 1.0  # one colour scale for every head
        assert len(texts(ax)) == 25  # small: values in the cells
    out = axes_named(fig, "heatmap projected")[0]
    assert cells(out).get_array().shape == (5, 16)
    assert any("“는”" in t for t in figure.texts(fig))  # the outlined query is named


def test_many_heads_still_draw(traces):
    trace = self_attention(SEED_SENTENCE, n_heads=16, d_model=32)
    fig = figure.heads_figure(trace)
    assert len(axes_named(fig, "heatmap head")) == 16
    draw(fig)


def test_focus_out_of_range_is_an_input_error(traces):
    with pytest.raises(InputError, match="query row 5"):
        figure.heads_figure(traces["heads"], focus=5)
    with pytest.raises(InputError, match="query row"):
        figure.cross_figure(traces["cross"], focus=-1)


# --- cross -----------------------------------------------------------------------------------------

def test_cross_heatmap_is_decoder_tokens_by_source_tokens(traces):
    trace = traces["cross"]
    t, s = len(trace.query_tokens), len(trace.key_tokens)
    assert t != s
    fig = figure.cross_figure(trace, focus=1)
    (ax,) = axes_named(fig, "heatmap")
    assert cells(ax).get_array().shape == (t, s)
    assert figure.labels(ax, "yticks")[0] == "<BOS>"
    assert figure.labels(ax, "xticks") == TOKENS
    assert "decoder" in ax.get_ylabel() and "encoder" in ax.get_xlabel()
    assert not axes_named(fig, "image")


@pytest.mark.parametrize("grid", [(4, 4), (2, 3)])
@pytest.mark.parametrize("focus", [0, 3])
def test_image_overlay_is_the_focus_row_on_the_patch_grid(grid, focus):
    trace = image_attention(IMAGE, SEED_SENTENCE, grid=grid)
    rows, cols = grid
    fig = figure.cross_figure(trace, focus=focus)
    (heat,) = axes_named(fig, "heatmap")
    assert cells(heat).get_array().shape == (len(trace.query_tokens), rows * cols)
    (image_ax,) = axes_named(fig, "image")
    photo, overlay = image_ax.images
    assert overlay.get_label() == "overlay"
    assert overlay.get_array().shape == (rows, cols)
    assert np.allclose(overlay.get_array(), trace.heads[0].weights[focus].reshape(rows, cols))
    assert photo.get_array().shape[2] == 3  # the picture itself, under the overlay
    assert len(image_ax.texts) == rows * cols  # each patch's weight written in it
    token = trace.query_tokens[focus].label
    assert any(f"“{token}”" in t for t in figure.texts(fig))  # titled with the focus query


def test_cross_figure_refuses_self_attention(traces):
    with pytest.raises(InputError, match="cross-attention"):
        figure.cross_figure(traces["plain"])


# --- scale and softmax -----------------------------------------------------------------------------

def labelled_lines(ax):
    return [line for line in ax.lines if not line.get_label().startswith("_")]


def test_scale_figure_lines(lesson):
    fig = figure.scale_figure(lesson, lang="ko")
    (spread,) = axes_named(fig, "plot spread")
    (peak,) = axes_named(fig, "plot max weight")
    (ent,) = axes_named(fig, "plot entropy")
    assert [line.get_label() for line in labelled_lines(spread)] == ["√d_k", "q·k의 표준편차", "q·k / √d_k의 표준편차"]
    assert len(labelled_lines(peak)) == 3 and len(labelled_lines(ent)) == 3  # without, with, uniform
    dot = labelled_lines(spread)[1]
    assert np.allclose(dot.get_ydata(), [r.std_dot for r in lesson.rows])
    assert spread.get_xscale() == "log"
    assert [x.get_text() for x in spread.get_xticklabels()] == ["4", "16", "64", "256", "1024"]
    assert spread.get_legend() is not None and peak.get_legend() is not None


def test_softmax_figure_bars_values_and_highlight():
    fig = figure.softmax_figure(STEPS, labels=TOKENS)
    (scores,) = axes_named(fig, "bars scores")
    (probs,) = axes_named(fig, "bars probs")
    for ax, values in ((scores, STEPS.scores), (probs, STEPS.probs)):
        bars = [p for p in ax.patches if isinstance(p, Rectangle)]
        assert len(bars) == 5
        assert np.allclose([b.get_height() for b in bars], values)
        colours = {b.get_facecolor() for b in bars}
        assert len(colours) == 2  # the largest one stands out
        assert len(ax.texts) == 5  # each labelled with its value
    assert texts(scores)[0] == "10.50" and texts(probs)[0] == "0.68"
    assert not any("÷" in t for t in figure.texts(fig))


def test_softmax_figure_notes_the_divisor():
    steps = softmax_steps([10.5, 2.3, 6.1], scale=2.0)
    fig = figure.softmax_figure(steps, lang="ko")
    assert any("÷ 2.00" in t for t in figure.texts(fig))
    with pytest.raises(InputError, match="labels"):
        figure.softmax_figure(steps, labels=["a"])


def test_long_softmax_rows_draw_quickly():
    steps = softmax_steps(np.random.default_rng(0).normal(size=4096))
    fig = figure.softmax_figure(steps)
    assert len(axes_named(fig, "bars")) == 2
    draw(fig)


def test_figures_take_every_precision_the_tables_take():
    from attnviz.lessons import softmax_steps
    from attnviz.pipeline import self_attention
    from attnviz.render.figure import pipeline_figure, softmax_figure

    for precision in (0, 7, 8):
        softmax_figure(softmax_steps([1.0, 2.0]), precision=precision)
        pipeline_figure(self_attention("a b"), precision=precision)
    with pytest.raises(InputError, match="give 0 to 8 decimals"):
        softmax_figure(softmax_steps([1.0, 2.0]), precision=9)


def test_numbers_too_large_to_draw_are_refused_in_one_line(tmp_path):
    import warnings

    from attnviz.lessons import softmax_steps
    from attnviz.render.figure import save_view, softmax_figure

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's overflow warnings inside matplotlib's tick placement
        save_view(softmax_figure(softmax_steps([1e300, -1e300, 0.0])), tmp_path / "ok.png", dpi=30)
        for row in ([1e308, 0.0], [8e307, -8e307], [-1.7e308] * 3):  # axis limits used to reach ±inf
            with pytest.raises(InputError, match="a figure draws numbers up to"):
                softmax_figure(softmax_steps(row))
    assert [p.name for p in tmp_path.iterdir()] == ["ok.png"]
