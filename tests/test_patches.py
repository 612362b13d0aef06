"""Image patches: count, order, embedding, and the image loader's refusals."""

import numpy as np
import pytest
from PIL import Image

from attnviz.errors import InputError
from attnviz.images import MAX_PIXELS, load_image
from attnviz.patches import PATCH_PIXELS, parse_grid, patch_embeddings, patch_tokens, split_patches
from attnviz.pipeline import image_attention

SAMPLE = "samples/cat_on_bed.png"


def test_split_patches_row_major_order():
    # a 2 × 3 grid of 2 × 2 patches, each filled with its own number
    pixels = np.zeros((4, 6, 1))
    for r in range(2):
        for c in range(3):
            pixels[2 * r:2 * r + 2, 2 * c:2 * c + 2] = r * 3 + c
    patches = split_patches(pixels, 2, 3)
    assert patches.shape == (6, 4)
    assert patches[:, 0].tolist() == [0, 1, 2, 3, 4, 5]
    assert np.all(patches == patches[:, :1])  # each patch holds one value


def test_patch_embedding_is_linear_plus_position():
    rng = np.random.default_rng(3)
    patches = np.random.default_rng(0).random((4, 12))
    e = patch_embeddings(patches, rng, 8)
    w = np.random.default_rng(3).standard_normal((12, 8)) / np.sqrt(12)
    from attnviz.positions import sinusoidal as positional_encoding

    np.testing.assert_allclose(e, (patches - 0.5) @ w + positional_encoding(4, 8), atol=1e-14)


def test_grid_parsing():
    assert parse_grid("4x4") == (4, 4) and parse_grid("2X3") == (2, 3) and parse_grid("3×5") == (3, 5)
    for bad in ("4", "0x4", "axb", "4x40", "4x4x4", "²x2", "2x²", "٣x٣", "４x４", "1½x2"):
        with pytest.raises(ValueError):
            parse_grid(bad)


@pytest.mark.parametrize("grid", [(4, 4), (2, 3), (1, 1)])
def test_image_attention_over_patches(grid):
    tr = image_attention(SAMPLE, "고양이", grid=grid)
    rows, cols = grid
    assert tr.kind == "cross" and tr.patch_grid == grid
    assert [t.label for t in tr.key_tokens] == [f"patch_{i + 1}" for i in range(rows * cols)]
    assert tr.key_tokens == patch_tokens(rows, cols)
    assert tr.memory.shape == (rows * cols, 8)
    assert tr.heads[0].weights.shape == (2, rows * cols)  # <BOS>, 고양이
    np.testing.assert_allclose(tr.heads[0].weights.sum(axis=1), 1.0, atol=1e-15)


def test_load_image_resizes_to_rgb(tmp_path):
    path = tmp_path / "g.png"
    Image.new("L", (10, 7), 128).save(path)
    pixels = load_image(path, (4 * PATCH_PIXELS, 2 * PATCH_PIXELS))
    assert pixels.shape == (16, 32, 3)
    np.testing.assert_allclose(pixels, 128 / 255)


def test_tiny_image_still_works(tmp_path):
    path = tmp_path / "one.png"
    Image.new("RGB", (1, 1), (255, 0, 0)).save(path)
    assert image_attention(path, grid=(4, 4)).memory.shape == (16, 8)


def test_bad_images_are_refused(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_image(tmp_path / "none.png", (8, 8))
    text = tmp_path / "not.png"
    text.write_text("hello")
    with pytest.raises(InputError, match="not an image"):
        load_image(text, (8, 8))
    good = tmp_path / "good.png"
    Image.new("RGB", (64, 64), (10, 20, 30)).save(good)
    cut = tmp_path / "cut.png"
    cut.write_bytes(good.read_bytes()[:60])
    with pytest.raises(InputError):
        load_image(cut, (8, 8))


def test_huge_image_refused_from_its_header(tmp_path):
    # a 20,000 × 20,000 PNG header, without the pixel data behind it: refused before decoding
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    path = tmp_path / "huge.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))
    assert 20000 * 20000 > MAX_PIXELS
    with pytest.raises(InputError, match="megapixels"):
        load_image(path, (8, 8))


EPS = b"""%!PS-Adobe-3.0 EPSF-3.0
%%BoundingBox: 0 0 8 8
%%EndComments
newpath 0 0 moveto 8 8 lineto stroke
showpage
%%EOF
"""


def test_images_that_shell_out_are_never_opened(tmp_path):
    # an EPS file, and a `gs` on PATH that leaves a mark when run: Pillow's EPS plugin would call it
    import os
    import subprocess
    import sys

    eps = tmp_path / "x.eps"
    eps.write_bytes(EPS)
    mark = tmp_path / "gs-ran"
    fake = tmp_path / "bin" / "gs"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\ntouch {mark}\nexit 1\n")
    fake.chmod(0o755)
    script = (
        "import sys\n"
        "from attnviz.errors import InputError\n"
        "from attnviz.images import load_image, image_size\n"
        f"assert image_size({str(eps)!r}) is None\n"
        "try:\n"
        f"    load_image({str(eps)!r}, (8, 8))\n"
        "except InputError as exc:\n"
        "    print(exc)\n"
        "print('PIL.EpsImagePlugin' in sys.modules)\n"
    )
    env = {**os.environ, "PATH": f"{fake.parent}:{os.environ['PATH']}"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    message, eps_loaded = out.stdout.strip().splitlines()
    assert "not an image attnviz reads" in message and "PNG and JPEG" in message
    assert eps_loaded == "False" and not mark.exists()


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "PPM"])
def test_formats_beyond_png_and_jpeg_are_refused(tmp_path, fmt):
    path = tmp_path / f"x.{fmt.lower()}"
    Image.new("RGB", (4, 4), (1, 2, 3)).save(path, format=fmt)
    with pytest.raises(InputError, match="PNG and JPEG images only"):
        load_image(path, (8, 8))


def test_jpeg_is_read(tmp_path):
    path = tmp_path / "x.jpg"
    Image.new("RGB", (16, 16), (200, 100, 50)).save(path, format="JPEG", quality=95)
    pixels = load_image(path, (8, 8))
    np.testing.assert_allclose(pixels.mean(axis=(0, 1)), np.array([200, 100, 50]) / 255, atol=0.02)
