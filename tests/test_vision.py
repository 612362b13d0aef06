"""Images through real checkpoints: the processor's pixel values, ViT's patch embedding and self-attention, the
decoder's cross-attention of a ViT → GPT-2 captioner, against transformers' own numbers.

Golden values: tests/golden/vision_golden.npz, made by tests/golden/make_vision_golden.py (transformers 5.24,
its Pillow image-processing backend) with the fixtures tests/fixtures/tiny-vit, tiny-vit-gpt2 and images/.
"""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from attnviz.errors import InputError, ModelError
from attnviz.models import load_model
from attnviz.models.vision import image_hidden_states, image_input, image_trace, image_traces
from attnviz.preprocess import pixel_values, read_processor

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
GOLDEN = ROOT / "tests" / "golden" / "vision_golden.npz"
VIT, CAPTIONER = FIXTURES / "tiny-vit", FIXTURES / "tiny-vit-gpt2"
IMAGES = {"cat_on_bed": ROOT / "samples" / "cat_on_bed.png", "palette": FIXTURES / "images" / "palette.png",
          "rgba": FIXTURES / "images" / "rgba.png", "gray16": FIXTURES / "images" / "gray16.png",
          "cmyk": FIXTURES / "images" / "cmyk.jpg", "gray": FIXTURES / "images" / "gray.jpg",
          "exif_rotated": FIXTURES / "images" / "exif_rotated.jpg"}
PIXEL_TOL = 1e-6  # the bar for pixel values (measured: 0)
ATT_TOL = 1e-5  # attention probabilities, every layer and head (measured ≤ 2.3e-6)
HIDDEN_TOL = 5e-5  # hidden states (measured ≤ 1.1e-5 on values up to ~30)


@functools.cache
def golden() -> dict[str, np.ndarray]:
    with np.load(GOLDEN, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


@functools.cache
def model(path: Path):
    return load_model(path)


def stacked(traces) -> np.ndarray:
    return np.stack([np.stack([hd.weights for hd in tr.heads]) for tr in traces])  # (L, h, T, S)


# --- preprocessing ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(IMAGES))
def test_pixel_values_equal_the_image_processor(name):
    got = pixel_values(read_processor(VIT), IMAGES[name])
    want = golden()[f"vit/{name}/pixel_values"]
    assert got.dtype == np.float32 and got.shape == want.shape == (3, 32, 32)
    assert np.abs(got - want).max() <= PIXEL_TOL


@pytest.mark.parametrize("name", ["cat_on_bed", "exif_rotated"])
def test_captioner_pixel_values_use_its_own_mean_and_std(name):
    got = pixel_values(read_processor(CAPTIONER), IMAGES[name])
    assert np.abs(got - golden()[f"vit-gpt2/{name}/pixel_values"]).max() <= PIXEL_TOL
    assert np.abs(got - golden()[f"vit/{name}/pixel_values"]).max() > 0.1  # ImageNet's statistics differ


def test_exif_rotation_is_applied():
    """The stored 40 × 30 JPEG is turned upright (30 × 40) before resizing, as transformers' load_image does;
    without the rotation it would match the processor's own do_convert_rgb path instead."""
    got = pixel_values(read_processor(VIT), IMAGES["exif_rotated"])
    assert np.abs(got - golden()["vit/exif_rotated/pixel_values_convert_rgb"]).max() > 1.0


def test_processor_steps_and_channel_order():
    proc = read_processor(VIT)
    assert (proc.height, proc.width, proc.resample) == (32, 32, 2)
    assert proc.mean == (0.485, 0.456, 0.406) and proc.std == (0.229, 0.224, 0.225)
    assert proc.steps == "resize 32×32 (bilinear) → × 1/255 → (x − mean) / std"


@pytest.mark.parametrize(("change", "message"), [
    ({"size": {"shortest_edge": 224}}, "resize to a fixed height × width"),
    ({"do_center_crop": True}, "do_center_crop"),
    ({"resample": 9}, "not a Pillow filter"),
    ({"image_std": [0.5, 0, 0.5]}, "image_std"),
    ({"image_mean": [0.5, 0.5]}, "three numbers"),
])
def test_unsupported_processor_configs_are_refused(tmp_path, change, message):
    folder = tmp_path / "vit"
    shutil.copytree(VIT, folder)
    path = folder / "preprocessor_config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **change}))
    with pytest.raises(ModelError, match=message):
        read_processor(folder)


def test_missing_processor_config(tmp_path):
    folder = tmp_path / "vit"
    shutil.copytree(VIT, folder)
    (folder / "preprocessor_config.json").unlink()
    with pytest.raises(ModelError, match="has no preprocessor_config.json"):
        load_model(folder)


# --- ViT ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(IMAGES))
def test_vit_attention_every_layer_and_head(name):
    got = stacked(image_traces(model(VIT), IMAGES[name]))
    want = golden()[f"vit/{name}/attentions"]
    assert got.shape == want.shape == (2, 4, 17, 17)
    assert np.abs(got - want).max() <= ATT_TOL


@pytest.mark.parametrize("name", ["cat_on_bed", "cmyk"])
def test_vit_hidden_states_before_and_after_the_final_norm(name):
    hidden, last = image_hidden_states(model(VIT), IMAGES[name])
    want = golden()[f"vit/{name}/hidden_states"]
    assert np.abs(np.stack(hidden) - want).max() <= HIDDEN_TOL
    assert np.abs(last - golden()[f"vit/{name}/last_hidden_state"]).max() <= HIDDEN_TOL
    assert np.abs(hidden[-1] - last).max() > 0.1  # the last hidden state is before the LayerNorm


def test_patch_embedding_is_a_strided_convolution():
    """patch k's embedding = Σ over channels and its p × p pixels of kernel · pixel + bias, computed here as a
    plain loop over the kernel, against the matrix product attnviz uses."""
    m = model(VIT)
    inp = image_input(m, IMAGES["cat_on_bed"])
    got = m.arch.patch_embeddings(m.tensors, inp.pixel_values)  # (16, 32)
    kernel = m.tensors.read("vit.embeddings.patch_embeddings.projection.weight").astype(np.float64)  # (32, 3, 8, 8)
    bias = m.tensors.read("vit.embeddings.patch_embeddings.projection.bias")
    for k, (r, c) in enumerate([(0, 0), (0, 3), (2, 1), (3, 3)]):
        patch = inp.pixel_values[:, 8 * r:8 * r + 8, 8 * c:8 * c + 8].astype(np.float64)  # (3, 8, 8)
        want = np.einsum("dchw,chw->d", kernel, patch) + bias
        assert np.abs(got[r * 4 + c] - want).max() < 1e-4, k
    e0 = golden()["vit/cat_on_bed/hidden_states"][0]  # E + P: [CLS] then the patches
    pos = m.tensors.read("vit.embeddings.position_embeddings")[0]
    assert np.abs(got - (e0[1:] - pos[1:])).max() < 1e-5


def test_tokens_are_cls_then_patches_with_their_grid_position():
    tr = image_trace(model(VIT), IMAGES["cat_on_bed"], 1)
    labels = [t.label for t in tr.query_tokens]
    assert labels[:3] == ["[CLS]", "patch_1", "patch_2"] and labels[-1] == "patch_16" and len(labels) == 17
    assert [t.piece for t in tr.query_tokens[1:6]] == ["(1,1)", "(1,2)", "(1,3)", "(1,4)", "(2,1)"]
    assert tr.query_tokens[0].special and not tr.query_tokens[1].special
    assert tr.patch_grid == (4, 4) and tr.image_path == str(IMAGES["cat_on_bed"])
    assert tr.model.layer == 1 and tr.model.architecture == "vit" and tr.kind == "self" and not tr.causal
    assert tr.heads[0].mask is None


def test_image_errors():
    with pytest.raises(InputError, match="layer 2 does not exist: .* layers 0–1"):
        image_trace(model(VIT), IMAGES["cat_on_bed"], 2)
    with pytest.raises(InputError, match="reads images, not text"):
        from attnviz.models import model_trace

        model_trace(model(VIT), "a cat", 0)
    with pytest.raises(InputError, match="is a text model .*reads text, not images"):
        image_trace(model(FIXTURES / "tiny-bert"), IMAGES["cat_on_bed"], 0)
    with pytest.raises(InputError, match="does not exist"):
        image_trace(model(VIT), ROOT / "no-such.png", 0)


# --- the ViT → GPT-2 captioner ----------------------------------------------------------------------------

CAPTION = "The cat sleeps on the bed."
CAPTIONED = ("cat_on_bed", "exif_rotated")


@pytest.mark.parametrize("name", CAPTIONED)
def test_captioner_cross_attention_every_layer_and_head(name):
    from attnviz.models.vision import caption_trace

    m = model(CAPTIONER)
    traces = [caption_trace(m, IMAGES[name], CAPTION, layer) for layer in range(2)]
    assert [tk.id for tk in traces[0].query_tokens] == golden()[f"vit-gpt2/{name}/decoder_input_ids"].tolist()
    got, want = stacked(traces), golden()[f"vit-gpt2/{name}/cross_attentions"]
    assert got.shape == want.shape == (2, 4, 14, 17)
    assert np.abs(got - want).max() <= ATT_TOL
    assert traces[1].kind == "cross" and traces[1].patch_grid == (4, 4) and traces[1].key_tokens[0].label == "[CLS]"
    assert np.abs(traces[1].memory - golden()[f"vit-gpt2/{name}/encoder_last_hidden_state"]).max() <= HIDDEN_TOL


@pytest.mark.parametrize("name", CAPTIONED)
def test_captioner_encoder_decoder_self_attention_and_logits(name):
    from attnviz.models.vision import encoder_output

    m = model(CAPTIONER)
    inp = image_input(m, IMAGES[name])
    assert np.abs(stacked(image_traces(m, IMAGES[name])) - golden()[f"vit-gpt2/{name}/encoder_attentions"]
                  ).max() <= ATT_TOL
    run = m.arch.decode(m.tensors, golden()[f"vit-gpt2/{name}/decoder_input_ids"],
                        m.arch.memory(m.tensors, encoder_output(m, inp)))
    self_att = np.stack([np.stack([hd.weights for hd in run.self_layers[i].heads]) for i in range(2)])
    assert np.abs(self_att - golden()[f"vit-gpt2/{name}/decoder_attentions"]).max() <= ATT_TOL
    assert np.abs(run.logits[-1] - golden()[f"vit-gpt2/{name}/last_logits"]).max() <= HIDDEN_TOL
    if name == "cat_on_bed":
        assert np.abs(run.logits - golden()["vit-gpt2/cat_on_bed/logits"]).max() <= HIDDEN_TOL


@pytest.mark.parametrize("name", CAPTIONED)
def test_greedy_steps_equal_generate(name):
    from attnviz.models.vision import caption_trace

    tr = caption_trace(model(CAPTIONER), IMAGES[name], None, 1, steps=4)
    assert [tk.id for tk in tr.query_tokens[1:]] == golden()[f"vit-gpt2/{name}/generated"].tolist()
    assert tr.query_tokens[0].id == 500 and tr.query_tokens[0].special


def test_captioner_errors():
    from attnviz.models.vision import caption_trace

    with pytest.raises(InputError, match="has no text decoder reading the image"):
        caption_trace(model(VIT), IMAGES["cat_on_bed"], "a cat", 0)
    with pytest.raises(InputError, match="layer 2 does not exist: .*decoder has layers 0–1"):
        caption_trace(model(CAPTIONER), IMAGES["cat_on_bed"], "a cat", 2)
    with pytest.raises(InputError, match="reads at most 64"):
        caption_trace(model(CAPTIONER), IMAGES["cat_on_bed"], "cat " * 80, 0)


# --- the commands -------------------------------------------------------------------------------------

def run(*args):
    from typer.testing import CliRunner

    from attnviz.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])


def flat(output: str) -> str:
    """The terminal output as one line: panel borders dropped, wrapped lines joined."""
    return " ".join(" ".join(line.strip().strip("│┌┐└┘─").split()) for line in output.splitlines())


def test_cli_explain_image_terminal_and_figure(tmp_path):
    png = tmp_path / "vit.png"
    result = run("explain", "--image", IMAGES["cat_on_bed"], "--model", VIT, "--layer", 1, "--head", 2, "--png", png)
    assert result.exit_code == 0, result.output
    out = flat(result.output)
    assert "Image → patches (ViT)" in out and "resize 32×32 (bilinear)" in out
    assert "8 × 8 pixels" in out and "Attention on the image" in out
    assert "Q1's weight on [CLS] itself" in out
    want = golden()["vit/cat_on_bed/attentions"][1, 1, 0, 1:].reshape(4, 4)  # [CLS]'s row, head 2, the patches
    assert f"{want.max():.2f}" in result.output
    from attnviz.render.figure import texts
    from attnviz.render.figure.cross import cross_figure

    assert png.stat().st_size > 10_000
    fig = cross_figure(image_trace(model(VIT), IMAGES["cat_on_bed"], 1), head=1, focus=0)
    drawn = " ".join(texts(fig))
    assert "ViT self-attention" in drawn and "4 × 4 = 16 patches" in drawn and "Where “[CLS]” looks" in drawn


def test_cli_rollout_image(tmp_path):
    from attnviz import analysis

    png = tmp_path / "rollout.png"
    result = run("rollout", "--image", IMAGES["cat_on_bed"], "--model", VIT, "--png", png)
    assert result.exit_code == 0, result.output
    r = analysis.rollout(golden()["vit/cat_on_bed/attentions"])[-1]  # (17, 17) from transformers' attentions
    assert "K10 patch_9" in result.output and f"{r[0, 10]:.2f}" in result.output
    assert png.stat().st_size > 10_000


def test_cli_cross_captioner_strip(tmp_path):
    png = tmp_path / "strip.png"
    result = run("cross", "--image", IMAGES["cat_on_bed"], "--model", CAPTIONER, "--steps", 4, "--layer", 1, "--png",
                 png)
    assert result.exit_code == 0, result.output
    assert "Image tokens → Key/Value" in result.output and "[CLS]" in result.output
    from attnviz.models.vision import caption_trace
    from attnviz.render.figure import texts
    from attnviz.render.figure.vision import caption_strip_figure

    tr = caption_trace(model(CAPTIONER), IMAGES["cat_on_bed"], CAPTION, 1)
    drawn = texts(caption_strip_figure(tr, head=0))
    assert "2. The" in drawn and "14. ." in drawn and png.stat().st_size > 10_000


@pytest.mark.parametrize(("args", "message"), [
    (("explain", "--image", IMAGES["cat_on_bed"]), "--image needs --model"),
    (("explain", "a cat", "--image", IMAGES["cat_on_bed"], "--model", VIT), "not both"),
    (("explain", "a cat", "--model", VIT), "reads images, not text"),
    (("explain", "--image", IMAGES["cat_on_bed"], "--model", FIXTURES / "tiny-bert"), "is a text model"),
    (("explain", "--image", ROOT / "README.md", "--model", VIT), "is not an image attnviz"),
    (("cross", "a cat", "--model", CAPTIONER), "give --image FILE"),
    (("cross", "a cat", "--image", IMAGES["cat_on_bed"], "--model", CAPTIONER, "--steps", 2), "TARGET or --steps"),
    (("cross", "--image", IMAGES["cat_on_bed"], "--steps", 2), "--steps generates with a real model"),
    (("cross", "a", "--image", IMAGES["cat_on_bed"], "--model", VIT), "has no text decoder"),
])
def test_cli_image_errors(args, message):
    result = run(*args)
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith("Error:") and message in result.output
