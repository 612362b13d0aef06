"""Emoji tokens in views: a ZWJ sequence is one label, and the figures draw it without failing."""

from __future__ import annotations

from typer.testing import CliRunner

from attnviz.cli import app
from attnviz.render.figure import glyphs
from attnviz.tokens import tokenize

FAMILY = "👨\u200d👩\u200d👧"


def test_a_zwj_sequence_is_one_label_with_its_joiners():
    labels = [t.label for t in tokenize(f"가족 {FAMILY} 🏳️‍🌈")]
    assert labels == ["가족", FAMILY, "🏳️‍🌈"]


def test_a_format_character_has_an_empty_outline():
    verts, codes = glyphs._glyph("\u200d")  # the joiner: DejaVu has an empty glyph for it
    assert verts.shape == (0, 2) and codes.shape == (0,)
    verts, _, w, _, _ = glyphs._outline(f"가{FAMILY}나")
    assert len(verts) and w > 2  # 가 and 나 drawn around the emoji's space


def test_explain_saves_a_figure_of_a_sentence_with_a_zwj_emoji(tmp_path):
    out = tmp_path / "family.png"
    result = CliRunner().invoke(app, ["explain", f"우리 {FAMILY} 가족", "--png", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:4] == b"\x89PNG"
