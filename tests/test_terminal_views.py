"""The mask, heads, split, cross, scale and softmax views rendered at 80 (and 40) columns without colour:
every number they print is checked against the trace or lesson it came from."""

import math
import re

import numpy as np
import pytest
from console import render
from rich.cells import cell_len

from attnviz.lessons import scale_lesson, softmax_steps
from attnviz.pipeline import cross_attention, image_attention, self_attention
from attnviz.render.terminal import (
    View,
    cross_view,
    heads_view,
    mask_grid,
    mask_view,
    scale_view,
    softmax_view,
    split_view,
)
from attnviz.render.text import title, word

KO = "고양이는 침대에서 잔다"
EN = "The cat sat on the mat"
LANGS = ("en", "ko")
IMAGE = "samples/cat_on_bed.png"


def panel(out: str, stage: str, lang: str) -> list[str]:
    """The lines of the panel titled [title(stage)], from its top border to just above its bottom one."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if f"[{title(stage, lang)}]" in line)
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("└"))
    return lines[start + 1:end]


def cells(line: str) -> list[str]:
    """The words of a table row inside a panel, without the panel's │ borders."""
    return line.strip("│ ").split()


def row_of(lines: list[str], label: str) -> list[str]:
    """The cells after `label` on the first table row that starts with it."""
    line = next(x for x in lines if x.strip("│ ").startswith(label + " "))
    return line.strip("│ ")[len(label):].split()


def view(lang="en", width=80, **kw):
    return View(lang=lang, width=width, **kw)


@pytest.fixture(scope="module")
def causal():
    return {s: self_attention(s, causal=True) for s in (KO, EN)}


@pytest.fixture(scope="module")
def padded():
    return self_attention(KO, causal=True, pad_to=7)


# --- every view fits, in both languages, without ANSI codes ------------------------------------

def all_views(lang, width, sentence):
    v = view(lang, width)
    return {
        "mask": mask_view(self_attention(sentence, causal=True), focus=3, view=v,
                          compare=self_attention(sentence)),
        "pad": mask_view(self_attention(sentence, causal=True, pad_to=10), focus=2, view=v),
        "heads": heads_view(self_attention(sentence, n_heads=2), focus=1, view=v),
        "split": split_view(self_attention(sentence, n_heads=2, split="merged"),
                            self_attention(sentence, n_heads=2, split="separate"), view=v),
        "cross": cross_view(cross_attention(sentence, "고양이는"), view=v),
        "image": cross_view(image_attention(IMAGE, sentence, grid=(4, 4)), focus=1, view=v),
        "scale": scale_view(scale_lesson(np.random.default_rng(0)), view=v),
        "softmax": softmax_view(softmax_steps([10.5, 2.3, 6.1, 4.4, 9.7], scale=2.0), view=v),
    }


@pytest.mark.parametrize("width", [80, 40])
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("sentence", [KO, EN])
def test_every_view_fits_the_width(sentence, lang, width):
    for name, renderable in all_views(lang, width, sentence).items():
        out = render(renderable, width)
        assert "\x1b[" not in out, name
        assert "nan" not in out.lower(), name
        for line in out.splitlines():
            assert cell_len(line) <= width, (name, line)
        assert out.count("┌") >= 1, name


@pytest.mark.parametrize("lang", LANGS)
def test_narrow_console_cuts_whole_cells(lang, causal):
    """At 40 columns tables lose whole columns behind …, never half a number."""
    out = render(mask_view(causal[KO], view=view(lang, 40)), 40)
    rows = panel(out, "mask_softmax", lang)
    sums = [cells(x)[-1] for x in rows if re.match(r"│ Q\d", x)]
    assert sums == ["1.00"] * 5
    assert "…" in out


# --- mask view ---------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("sentence", [KO, EN])
def test_causal_grid_counts(causal, sentence, lang):
    tr = causal[sentence]
    t = len(tr.query_tokens)
    grid = render(mask_grid(tr, view=view(lang))[0])
    assert grid.count("○") == t * (t + 1) // 2
    assert grid.count("×") == t * (t - 1) // 2
    box = "\n".join(panel(render(mask_view(tr, view=view(lang))), "mask_causal", lang))
    assert box.count("○") == t * (t + 1) // 2
    assert box.count("×") == t * (t - 1) // 2


@pytest.mark.parametrize("lang", LANGS)
def test_masked_scores_softmax_zeros_and_sums(causal, lang):
    tr = causal[KO]
    hd = tr.heads[0]
    out = render(mask_view(tr, view=view(lang)))
    assert "−∞" in "\n".join(panel(out, "masked", lang))
    rows = panel(out, "mask_softmax", lang)
    for i, tok in enumerate(tr.query_tokens):
        *values, total = row_of(rows, f"Q{i + 1} {tok.label}")
        assert total == "1.00"
        for j, cell in enumerate(values):
            if j > i:
                assert cell == "0"  # hidden: an exact, plain zero
            else:
                assert cell == f"{hd.weights[i, j]:.2f}"


@pytest.mark.parametrize("lang", LANGS)
def test_focus_lines_like_the_seed(causal, lang):
    tr = causal[KO]
    hd = tr.heads[0]
    out = render(mask_view(tr, focus=3, view=view(lang)))
    labels = [t.label for t in tr.key_tokens]
    for j in range(4):
        assert f"Q4 · K{j + 1} → {hd.scaled[3, j]:>5.2f} ← {labels[3]} · {labels[j]}" in out
    assert "Q4 · K5 →" not in out
    assert word("masked_out", lang).format(keys="K5, V5") in out
    best = int(np.argmax(hd.weights[3]))
    assert f"{labels[3]} → {labels[best]}: ({hd.weights[3, best]:.2f}) ← {word('most', lang)}" in out


@pytest.mark.parametrize("lang", LANGS)
def test_purpose_tables(causal, lang):
    out = render(mask_view(causal[KO], view=view(lang), compare=self_attention(KO)))
    why = "\n".join(panel(out, "mask_why", lang))
    assert "BERT" in why and "GPT" in why
    assert ("Encoder" if lang == "en" else "인코더") in why
    encoder = "\n".join(panel(out, "mask_none", lang))
    assert encoder.count("○") == 25 and "×" not in encoder
    assert out.index(f"[{title('mask_none', lang)}]") < out.index(f"[{title('mask_causal', lang)}]")
    no_compare = render(mask_view(causal[KO], view=view(lang)))
    assert title("mask_none", lang) not in no_compare


@pytest.mark.parametrize("lang", LANGS)
def test_padding_rows_every_key_hidden(padded, lang):
    out = render(mask_view(padded, focus=5, view=view(lang)))
    assert "[PAD]" in out
    assert "nan" not in out.lower()
    message = word("all_hidden", lang)
    assert f"Q6 [PAD] {message}" in out and f"Q7 [PAD] {message}" in out
    assert title("mask_both", lang) in out
    rows = panel(out, "mask_softmax", lang)
    *values, total = row_of(rows, "Q6 [PAD]")
    assert total == "—" and set(values) <= {"0", "…"}
    assert row_of(rows, "Q5 잔다")[-1] == "1.00"
    pad_only = render(mask_view(self_attention(KO, pad_to=7), view=view(lang)))
    assert title("mask_padding", lang) in pad_only
    assert "[PAD]" in "\n".join(panel(pad_only, "mask_why", lang))


# --- heads view --------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("sentence", [KO, EN])
@pytest.mark.parametrize("n_heads", [2, 4])
def test_heads_one_grid_per_head_and_argmax_lines(sentence, lang, n_heads):
    tr = self_attention(sentence, n_heads=n_heads, d_k=8 // n_heads)
    focus = 1
    out = render(heads_view(tr, focus=focus, view=view(lang)))
    label = tr.query_tokens[focus].label
    for i, hd in enumerate(tr.heads):
        assert re.search(rf"^│ .*Head {i + 1}\b", out, re.M)
        best = int(np.argmax(hd.weights[focus]))
        assert f"Head {i + 1}: {label} → {tr.key_tokens[best].label} ({hd.weights[focus, best]:.2f})" in out
    assert f"Head {n_heads + 1}" not in out
    assert f"[{title('concat', lang)}]" in out and "concat·W_O" in out
    assert out.index(f"[{title('concat', lang)}]") < out.index("concat·W_O      d1")


# --- split view --------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_split_ways_agree(lang):
    merged = self_attention(KO, n_heads=2, split="merged")
    separate = self_attention(KO, n_heads=2, split="separate")
    out = render(split_view(merged, separate, view=view(lang)))
    numbers = [float(x) for x in re.findall(r"\d\.\de[+-]\d\d", out)]
    assert len(numbers) >= 2 * 2 + 2
    assert max(numbers) < 1e-12
    assert ("병합" in out and "분리" in out) if lang == "ko" else ("Merged" in out and "Separate" in out)
    assert "(5, 2, 4)" in out  # T × (h, d_k) after the reshape


# --- cross view --------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_cross_like_the_seed(lang):
    tr = cross_attention(KO)
    hd = tr.heads[0]
    out = render(cross_view(tr, view=view(lang)))
    assert f"Q1 · K5 → {hd.scores[0, 4]:>5.2f} ← <BOS> · 잔다" in out
    assert '"<BOS>" → Q1' in out and '"고양이" → K1, V1' in out
    assert "[Cross-Attention]" in out and "↑" in out
    softmax = panel(out, "softmax", lang)
    assert row_of(softmax, "Q1 <BOS>") == [f"{w:.2f}" for w in hd.weights[0]] + ["1.00"]
    assert f"{hd.weights[0, 0]:.2f} × V1 +" in out
    compare = "\n".join(panel(out, "cross_vs_self", lang))
    assert "Self-Attention" in compare and "Cross-Attention" in compare
    assert ("인코더의 출력에서 생성" if lang == "ko" else "the encoder's output") in compare


def test_cross_rows_are_decoder_tokens():
    tr = cross_attention(KO, "고양이는")
    out = render(cross_view(tr, focus=1, view=view()))
    scores = panel(out, "scores", "en")
    assert row_of(scores, "Q2 고양이") == [f"{s:.2f}" for s in tr.heads[0].scores[1]]
    assert "Q3 는" in "\n".join(scores)
    assert "Q6" not in out  # T = 3 decoder tokens, S = 5 source tokens


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("grid", [(4, 4), (2, 3)])
def test_image_patch_grid(lang, grid):
    rows, cols = grid
    tr = image_attention(IMAGE, grid=grid)
    weights = tr.heads[0].weights[0].reshape(rows, cols)
    out = render(cross_view(tr, view=view(lang)))
    box = panel(out, "patch_grid", lang)
    header = next(x for x in box if word("col_n", lang).format(n=1) in x)
    assert len(re.findall(word("col_n", lang).format(n=r"\d+"), header)) == cols
    for r in range(rows):
        assert row_of(box, word("row_n", lang).format(n=r + 1)) == [f"{w:.2f}" for w in weights[r]]
    assert word("row_n", lang).format(n=rows + 1) not in "\n".join(box)
    assert f"{rows} × {cols}" in "\n".join(box)
    assert "ViT" in "\n".join(box)
    assert "patch_1" in out
    assert title("patch_grid", lang) not in render(cross_view(cross_attention(KO), view=view(lang)))


# --- scale and softmax lessons -----------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_scale_rows_match_the_lesson(lang):
    lesson = scale_lesson(np.random.default_rng(0))
    out = render(scale_view(lesson, view=view(lang)))
    box = panel(out, "scale", lang)
    for r in lesson.rows:
        expected = [math.sqrt(r.d_k), r.std_dot, r.std_scaled, r.max_weight_raw, r.max_weight_scaled,
                    r.entropy_raw, r.entropy_scaled]
        assert row_of(box, str(r.d_k)) == [f"{v:.2f}" for v in expected]
    table_rows = [x for x in box if re.match(r"│ \d+ +\d+\.\d\d ", x)]
    assert len(table_rows) == len(lesson.rows)
    assert f"{math.log(lesson.n_keys):.2f}" in out


@pytest.mark.parametrize("lang", LANGS)
def test_softmax_of_the_seed_scores(lang):
    scores = [10.5, 2.3, 6.1, 4.4, 9.7]
    exps = [math.exp(s - max(scores)) for s in scores]
    probs = [e / sum(exps) for e in exps]
    out = render(softmax_view(softmax_steps(scores), view=view(lang)))
    box = panel(out, "softmax_steps", lang)
    assert row_of(box, "1") == ["10.50", "0.00", "1.00", f"{probs[0]:.2f}", "←", word("largest", lang)]
    assert row_of(box, "5") == ["9.70", "-0.80", f"{exps[4]:.2f}", f"{probs[4]:.2f}"]
    assert row_of(box, "2")[-1] == f"{probs[1]:.1e}"  # too small for 0.00: shown in e-notation
    assert f"Σ exp = {sum(exps):.2f}" in out
    assert "0.32 / 0.02 / 0.12 / 0.06 / 0.48" in out
    assert " / ".join(f"{p:.2f}" for p in probs) in out
    assert "÷ 1 " not in out  # no divisor column when scale · temperature = 1


def test_softmax_divisor_note():
    out = render(softmax_view(softmax_steps([10.5, 2.3, 6.1, 4.4, 9.7], scale=2.0, temperature=1.5),
                              view=view()))
    assert "÷ 3" in out and "2 × 1.5 = 3" in out
    logits = [s / 3 for s in (10.5, 2.3, 6.1, 4.4, 9.7)]
    exps = [math.exp(x - max(logits)) for x in logits]
    assert f"{exps[4] / sum(exps):.2f}" in out
