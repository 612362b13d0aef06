"""Figures: files, formats, fonts, layout facts and reproducible bytes (all written to tmp_path)."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
import warnings

import pytest

from attnviz.errors import InputError, OutputError
from attnviz.pipeline import self_attention
from attnviz.render import figure
from attnviz.render.text import title

KO = "고양이는 침대에서 잔다"
EN = "The cat sleeps on the bed"
MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-", "svg": b"<?xml"}


@pytest.fixture(scope="module")
def trace():
    return self_attention(KO, tokenizer="words")


def heatmaps(fig):
    return [ax for ax in fig.axes if ax.get_label().startswith("heatmap")]


def draw(fig) -> None:
    fig.savefig(io.BytesIO(), format="png", dpi=50)


@pytest.mark.parametrize("fmt", figure.FORMATS)
def test_writes_each_format_with_its_magic_bytes(trace, tmp_path, fmt):
    path = figure.save_figure(trace, tmp_path / f"attention.{fmt}", dpi=60)
    data = path.read_bytes()
    assert path == tmp_path / f"attention.{fmt}"
    assert data.startswith(MAGIC[fmt])
    if fmt == "svg":
        assert b"<svg" in data[:1000]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"attention.{fmt}"]  # no temp file left


def test_unknown_extension_is_refused_and_leaves_nothing(trace, tmp_path):
    with pytest.raises(OutputError, match=r"\.png, \.svg, \.pdf"):
        figure.save_figure(trace, tmp_path / "attention.jpg")
    with pytest.raises(OutputError, match="no extension"):
        figure.save_figure(trace, tmp_path / "attention")
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_is_an_output_error(trace, tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        figure.save_figure(trace, tmp_path / "nowhere" / "attention.png")
    with pytest.raises(OutputError, match="does not exist"):
        figure.save_stage_figures(trace, tmp_path / "nowhere" / "figs")
    assert list(tmp_path.iterdir()) == []


def test_bad_options_are_input_errors(trace):
    with pytest.raises(InputError, match="head 3"):
        figure.pipeline_figure(trace, head=3)
    with pytest.raises(InputError, match="unknown stage"):
        figure.stage_figure(trace, "attention")
    with pytest.raises(InputError, match="theme"):
        figure.pipeline_figure(trace, theme="blue")
    with pytest.raises(InputError, match="language"):
        figure.pipeline_figure(trace, lang="fr")


@pytest.mark.parametrize("text", [KO, EN])
@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_no_missing_glyphs(text, lang, theme, caplog):
    """√ × → ᵀ − ∞ and Hangul all have a glyph: no warning, no font-not-found log line."""
    masked = self_attention(text, tokenizer="words", causal=True)  # −∞ and hatched cells too
    with warnings.catch_warnings(), caplog.at_level(logging.WARNING):
        warnings.simplefilter("error")
        draw(figure.pipeline_figure(masked, lang=lang, theme=theme))
        draw(figure.stage_figure(masked, "scaled", lang=lang, theme=theme))
    assert not [r for r in caplog.records if r.name.startswith("matplotlib")]


@pytest.mark.parametrize("stage", figure.STAGES)
def test_every_stage_draws_without_warnings(trace, stage):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for lang in ("en", "ko"):
            fig = figure.stage_figure(trace, stage, lang=lang)
            draw(fig)
    assert len(heatmaps(fig)) == 1
    assert title(stage, "ko") in figure.texts(fig)


def test_pipeline_has_four_heatmaps_labelled_queries_and_keys(trace):
    fig = figure.pipeline_figure(trace)
    axes = heatmaps(fig)
    assert [ax.get_label() for ax in axes] == [
        "heatmap scores", "heatmap scaled", "heatmap softmax", "heatmap output"
    ]
    assert all("queries (rows)" in ax.get_ylabel() for ax in axes)
    assert all("keys (columns)" in ax.get_xlabel() for ax in axes[:3])
    assert "dimensions (columns)" in axes[3].get_xlabel()
    labels = figure.labels(axes[0], "yticks")
    assert labels == ["고양이는", "침대에서", "잔다"]
    assert any(KO in t for t in figure.texts(fig))  # the sentence is in the title
    assert any("√4 = 2.00" in t for t in figure.texts(fig))  # √d_k shown with its value


def test_pipeline_in_korean_uses_korean_titles(trace):
    fig = figure.pipeline_figure(trace, lang="ko")
    texts = set(figure.texts(fig))
    for stage in ("scores", "scaled", "softmax", "output"):  # "1단계" above "쿼리–키 내적 Q·Kᵀ"
        assert title(stage, "ko").replace(" · ", "\n", 1) in texts
    assert heatmaps(fig)[0].get_ylabel() == "쿼리 (행)"


def test_small_matrices_show_values_and_masked_cells(trace):
    masked = self_attention(KO, tokenizer="words", causal=True)
    axes = heatmaps(figure.pipeline_figure(masked, precision=3))
    t = len(masked.query_tokens)
    assert [len(figure.labels(ax, "cells")) for ax in axes] == [t * t, t * t, t * t, t * masked.d_v]
    hidden = int((~masked.heads[0].mask).sum())
    assert figure.labels(axes[1], "cells").count("−∞") == hidden
    assert any(len(x.split(".")[-1]) == 3 for x in figure.labels(axes[0], "cells"))  # precision 3


def test_long_input_thins_labels_and_writes_no_cell_text(tmp_path):
    text = "고양이는 침대에서 잔다. 강아지는 마당에서 뛰어논다. 새들은 나무 위에서 노래한다. " * 6
    long = self_attention(text, tokenizer="chars")
    assert len(long.query_tokens) >= 200
    for fig in (figure.pipeline_figure(long), figure.stage_figure(long, "softmax")):
        for ax in heatmaps(fig):
            assert figure.labels(ax, "cells") == [] and len(ax.texts) == 0  # no values in the cells
            assert len(figure.labels(ax, "yticks")) <= figure.MAX_TICKS_STAGE
    assert figure.save_figure(long, tmp_path / "long.png", dpi=50).stat().st_size > 0


def test_save_stage_figures_names(trace, tmp_path):
    out = tmp_path / "figs"  # created, its parent exists
    paths = figure.save_stage_figures(trace, out, fmt="png", dpi=40, lang="ko", theme="dark")
    assert [p.name for p in paths] == [
        "00-pipeline.png", "01-embeddings.png", "02-q.png", "03-k.png", "04-v.png",
        "05-scores.png", "06-scaled.png", "07-softmax.png", "08-output.png",
    ]
    assert sorted(p.name for p in out.iterdir()) == [p.name for p in paths]
    assert all(p.read_bytes().startswith(MAGIC["png"]) for p in paths)
    with pytest.raises(OutputError, match="choose one of png, svg, pdf"):
        figure.save_stage_figures(trace, out, fmt="gif")
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="is a file"):
        figure.save_stage_figures(trace, tmp_path / "file")


@pytest.mark.parametrize("fmt", figure.FORMATS)
def test_same_call_gives_identical_bytes(trace, tmp_path, fmt):
    a = figure.save_figure(trace, tmp_path / f"a.{fmt}", dpi=60, lang="ko")
    b = figure.save_figure(trace, tmp_path / f"b.{fmt}", dpi=60, lang="ko")
    assert a.read_bytes() == b.read_bytes()
    assert b"Matplotlib" not in a.read_bytes() or fmt == "svg"  # no software version in png/pdf
    if fmt == "svg":
        assert b"<dc:date>" not in a.read_bytes()


def test_importing_the_core_does_not_import_matplotlib():
    code = "import sys, attnviz.pipeline, attnviz.trace; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
