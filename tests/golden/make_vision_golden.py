"""Make tests/fixtures/tiny-vit, tiny-vit-gpt2, tests/fixtures/images/ and tests/golden/vision_golden.npz.

A tiny ViT image classifier and a tiny ViT → GPT-2 captioner (VisionEncoderDecoderModel), random (seed SEED), with
their preprocessor_config.json, run by transformers in float32 with eager attention on samples/cat_on_bed.png and
on small test images of awkward kinds written here with Pillow. Run by hand in a separate virtual environment
(torch, transformers, pillow); the outputs are committed. From the repository root:

    /path/to/torch-venv/bin/pip install torch==2.13.0 transformers==5.24.0 pillow numpy
    /path/to/torch-venv/bin/python tests/golden/make_vision_golden.py

It writes
    tests/fixtures/images/*.png, *.jpg   IMAGES below (drawn from numpy arrays, no randomness)
    tests/fixtures/tiny-vit/        config.json, model.safetensors, preprocessor_config.json
    tests/fixtures/tiny-vit-gpt2/   config.json, model.safetensors, preprocessor_config.json, tokenizer.json
    tests/golden/vision_golden.npz
        vit/<image>/pixel_values       (3, 32, 32) float32  transformers.image_utils.load_image(path) (EXIF
                                       rotation applied, then PIL convert("RGB")), then the fixture's image processor
        vit/<image>/pixel_values_convert_rgb  (3, 32, 32) float32  only where it differs: the processor with
                                       do_convert_rgb=True on the file as opened (alpha composited on white,
                                       no EXIF rotation)
        vit/<image>/attentions         (L, h, 17, 17) float32  token 0 is [CLS], then the 16 patches row by row
        vit/<image>/hidden_states      (L + 1, 17, d) float32  [embeddings (patches + [CLS] + positions), after
                                       layer 1, …, after layer L] — *before* the final LayerNorm (ViT does not
                                       replace the last entry, unlike the language models)
        vit/<image>/last_hidden_state  (17, d) float32  after the final LayerNorm
        vit/<image>/logits             (3,) float32     the classifier on [CLS] of last_hidden_state
        vit-gpt2/<image>/pixel_values, encoder_attentions, encoder_last_hidden_state   as above (its own
                                       processor: mean = std = 0.5)
        vit-gpt2/<image>/decoder_input_ids   (T,) int64   [decoder_start_token_id] + CAPTION's GPT-2 ids
        vit-gpt2/<image>/decoder_attentions  (Ld, h, T, T) float32 (teacher-forced on decoder_input_ids)
        vit-gpt2/<image>/cross_attentions    (Ld, h, T, 17) float32 rows: caption positions, columns: image tokens
        vit-gpt2/<image>/last_logits         (V,) float32;  vit-gpt2/cat_on_bed/logits (T, V) float32
        vit-gpt2/<image>/generated           (4,) int64   generate(pixel_values, do_sample=False,
                                       max_new_tokens=4): the new ids after decoder_start
        plus meta/* (versions, seed).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import tiny_models as tm  # tests/golden/: this script runs from its own folder
import tiny_tokenizers as tt
import tokenizers
import torch
import transformers
from npz import save_npz
from PIL import Image, ImageDraw
from transformers.image_utils import load_image

SEED = 20240611
ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
IMAGES = FIXTURES / "images"
OUT = Path(__file__).resolve().parent / "vision_golden.npz"
CAT = ROOT / "samples" / "cat_on_bed.png"
CAPTION = "The cat sleeps on the bed."
CAPTIONED = ("cat_on_bed", "exif_rotated")  # images the captioner is run on
NEW_TOKENS = 4
VIT = {"image_size": 32, "patch_size": 8, "num_channels": 3, "hidden_size": 32, "num_hidden_layers": 2,
       "num_attention_heads": 4, "intermediate_size": 64, "hidden_act": "gelu", "layer_norm_eps": 1e-12,
       "qkv_bias": True, "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}


def _scene(width: int, height: int) -> Image.Image:
    """An RGB test picture: colour gradients under a dark disc and a light bar (no randomness)."""
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([255 * x / (width - 1), 255 * y / (height - 1), 128 + 100 * np.sin(x / 3.0 + y / 5.0)], -1)
    img = Image.fromarray(np.clip(rgb, 0, 255).round().astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    draw.ellipse((width // 5, height // 4, width // 2, 3 * height // 4), fill=(30, 20, 60))
    draw.rectangle((3 * width // 5, height // 6, 4 * width // 5, 5 * height // 6), fill=(240, 230, 200))
    return img


def write_images() -> dict[str, Path]:
    """The awkward test images; each is small and not square, so resizing changes its aspect."""
    tm.fresh(IMAGES)
    scene = _scene(40, 30)
    paths = {"cat_on_bed": CAT}

    palette = scene.quantize(colors=16, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    palette.info["transparency"] = 0  # palette index 0 is transparent
    paths["palette"] = IMAGES / "palette.png"
    palette.save(paths["palette"], transparency=0)

    alpha = np.tile(np.linspace(0, 255, 40).round().astype(np.uint8), (30, 1))  # transparent left → opaque right
    rgba = scene.copy()
    rgba.putalpha(Image.fromarray(alpha, "L"))
    paths["rgba"] = IMAGES / "rgba.png"
    rgba.save(paths["rgba"])

    y, x = np.mgrid[0:40, 0:30]
    gray16 = Image.fromarray((x * 2000 + y * 40).astype(np.uint16))  # 0 … 59560: mostly above 255
    paths["gray16"] = IMAGES / "gray16.png"
    gray16.save(paths["gray16"])

    paths["cmyk"] = IMAGES / "cmyk.jpg"
    scene.convert("CMYK").save(paths["cmyk"], quality=95)

    paths["gray"] = IMAGES / "gray.jpg"
    scene.transpose(Image.Transpose.ROTATE_90).convert("L").save(paths["gray"], quality=95)

    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the stored pixels must be turned 90° clockwise to be upright
    paths["exif_rotated"] = IMAGES / "exif_rotated.jpg"
    scene.save(paths["exif_rotated"], quality=95, exif=exif)

    for path in paths.values():
        if path != CAT:
            with Image.open(path) as im:
                print(f"  {path.relative_to(ROOT)}: {im.mode} {im.size}, {path.stat().st_size} bytes")
            if path.stat().st_size > 4_000:
                sys.exit(f"{path}: test images should stay tiny")
    return paths


def processor(folder: Path):
    """The fixture's image processor on transformers' PIL backend (resizing with Pillow, as attnviz does). With
    torchvision installed, transformers 5 would pick its torchvision backend, whose resize differs slightly."""
    return transformers.AutoImageProcessor.from_pretrained(folder, backend="pil")


def pixels(folder: Path, path: Path) -> dict[str, np.ndarray]:
    proc = processor(folder)
    main = proc(load_image(str(path)), return_tensors="np")["pixel_values"][0]
    out = {"pixel_values": main}
    with Image.open(path) as im:
        alt = proc(im, do_convert_rgb=True, return_tensors="np")["pixel_values"][0]
    if not np.array_equal(alt, main):
        out["pixel_values_convert_rgb"] = alt
    if main.dtype != np.float32 or main.shape != (3, VIT["image_size"], VIT["image_size"]):
        sys.exit(f"{path}: unexpected pixel_values {main.dtype} {main.shape}")
    return out


def make_vit() -> Path:
    folder = tm.fresh(FIXTURES / "tiny-vit")
    config = transformers.ViTConfig(**VIT, id2label={0: "cat", 1: "bed", 2: "window"},
                                    label2id={"cat": 0, "bed": 1, "window": 2})
    torch.manual_seed(SEED)
    model = transformers.ViTForImageClassification(config)
    tm.randomize(model, SEED)
    model.save_pretrained(folder)
    tm.keep_only(folder, tm.is_weight_or_config)
    # ImageNet's per-channel statistics (DeiT, BEiT, …): a swapped channel order would show
    transformers.ViTImageProcessor(size={"height": 32, "width": 32}, image_mean=[0.485, 0.456, 0.406],
                                   image_std=[0.229, 0.224, 0.225]).save_pretrained(folder)
    return folder


def make_captioner(tok: tokenizers.Tokenizer) -> Path:
    folder = tm.fresh(FIXTURES / "tiny-vit-gpt2")
    eot = tok.token_to_id("<|endoftext|>")
    decoder = transformers.GPT2Config(vocab_size=tok.get_vocab_size(), n_embd=32, n_layer=2, n_head=4, n_inner=64,
                                      n_positions=64, activation_function="gelu_new", add_cross_attention=True,
                                      is_decoder=True, bos_token_id=eot, eos_token_id=eot, resid_pdrop=0.0,
                                      embd_pdrop=0.0, attn_pdrop=0.0)
    config = transformers.VisionEncoderDecoderConfig.from_encoder_decoder_configs(transformers.ViTConfig(**VIT),
                                                                                  decoder)
    config.decoder_start_token_id = config.pad_token_id = config.eos_token_id = eot
    torch.manual_seed(SEED)
    model = transformers.VisionEncoderDecoderModel(config=config)
    tm.randomize(model, SEED)
    model.to(torch.bfloat16).save_pretrained(folder)
    tm.keep_only(folder, tm.is_weight_or_config)
    transformers.ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)  # mean = std = 0.5
    tt.save(tok, folder / "tokenizer.json")
    return folder


def vit_golden(folder: Path, paths: dict[str, Path]) -> dict[str, np.ndarray]:
    model = transformers.ViTForImageClassification.from_pretrained(folder, attn_implementation="eager",
                                                                   dtype=torch.float32).eval()
    out: dict[str, np.ndarray] = {}
    for name, path in paths.items():
        got = pixels(folder, path)
        with torch.no_grad():
            res = model.vit(pixel_values=torch.from_numpy(got["pixel_values"][None]), output_attentions=True,
                            output_hidden_states=True)
            logits = model.classifier(res.last_hidden_state[:, 0])[0]
            whole = model(pixel_values=torch.from_numpy(got["pixel_values"][None])).logits[0]
        if not torch.allclose(logits, whole, atol=1e-6):
            sys.exit("the classifier is not applied to [CLS] of the final-normed states")
        got |= {"attentions": tm.stack(res.attentions), "hidden_states": tm.stack(res.hidden_states),
                "last_hidden_state": res.last_hidden_state[0].numpy(), "logits": whole.numpy()}
        with torch.no_grad():
            normed = model.vit.layernorm(torch.from_numpy(got["hidden_states"][-1])).numpy()
        if np.abs(normed - got["last_hidden_state"]).max() > 1e-5:
            sys.exit("ViT's last hidden state is not the final LayerNorm of the last layer's output")
        tm.check_not_uniform(f"vit/{name}", got["attentions"])
        out |= {f"vit/{name}/{key}": val for key, val in got.items()}
    return out


def captioner_golden(folder: Path, paths: dict[str, Path]) -> dict[str, np.ndarray]:
    model = transformers.VisionEncoderDecoderModel.from_pretrained(folder, attn_implementation="eager",
                                                                   dtype=torch.float32).eval()
    tok = tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
    dec = [model.config.decoder_start_token_id] + tok.encode(CAPTION).ids
    out: dict[str, np.ndarray] = {}
    for name in CAPTIONED:
        pix = pixels(folder, paths[name])["pixel_values"]
        src = torch.from_numpy(pix[None])
        with torch.no_grad():
            res = model(pixel_values=src, decoder_input_ids=torch.tensor([dec]), output_attentions=True,
                        output_hidden_states=True, use_cache=False)
            gen = model.generate(src, do_sample=False, max_new_tokens=NEW_TOKENS)
            for k in range(1, gen.shape[1]):
                step = model(pixel_values=src, decoder_input_ids=gen[:, :k], use_cache=False).logits[0, -1]
                if int(step.argmax()) != int(gen[0, k]):
                    sys.exit(f"vit-gpt2/{name}: generate() step {k} differs from a full forward pass")
        if int(gen[0, 0]) != model.config.decoder_start_token_id:
            sys.exit(f"vit-gpt2/{name}: generate() did not start from decoder_start_token_id")
        got = {"pixel_values": pix, "decoder_input_ids": np.asarray(dec, dtype=np.int64),
               "encoder_attentions": tm.stack(res.encoder_attentions),
               "encoder_last_hidden_state": res.encoder_last_hidden_state[0].numpy(),
               "decoder_attentions": tm.stack(res.decoder_attentions),
               "cross_attentions": tm.stack(res.cross_attentions),
               "last_logits": res.logits[0, -1].numpy(), "generated": gen[0, 1:].numpy().astype(np.int64)}
        if name == CAPTIONED[0]:
            got["logits"] = res.logits[0].numpy()
        for key in ("encoder_attentions", "decoder_attentions", "cross_attentions"):
            tm.check_not_uniform(f"vit-gpt2/{name}/{key}", got[key])
        out |= {f"vit-gpt2/{name}/{key}": val for key, val in got.items()}
        print(f"  vit-gpt2/{name}: generated {got['generated'].tolist()}, cross-attention entropy "
              f"{tm.attention_stats(got['cross_attentions'])[0]:.2f}")
    return out


def main() -> None:
    torch.set_num_threads(1)
    transformers.utils.logging.disable_progress_bar()
    paths = write_images()
    vit, captioner = make_vit(), make_captioner(tt.gpt2())
    for folder in (vit, captioner):
        print(f"{folder.relative_to(ROOT)}: {tm.check_size(folder)} bytes")
    arrays = vit_golden(vit, paths) | captioner_golden(captioner, paths)
    print(f"  vit: attention entropy {tm.attention_stats(arrays['vit/cat_on_bed/attentions'])[0]:.2f}, "
          f"pixel_values_convert_rgb for {sorted(k.split('/')[1] for k in arrays if k.endswith('_convert_rgb'))}")
    arrays |= tm.versions()
    arrays["meta/pillow_version"] = np.asarray(Image.__version__)
    arrays["meta/image_processor"] = np.asarray(type(processor(vit)).__name__)
    arrays["meta/seed"] = np.asarray(SEED, dtype=np.int64)
    save_npz(arrays, OUT, cast={"i": np.int64})
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size} bytes, {len(arrays)} arrays) with torch "
          f"{torch.__version__}, transformers {transformers.__version__}")


if __name__ == "__main__":
    main()
