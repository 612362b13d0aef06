"""render/figure/png.py: the PNG bytes decode (with Pillow, an independent reader) to exactly the pixels given."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from attnviz.render.figure import png


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_opaque_pixels_round_trip_as_rgb():
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, size=(37, 53, 4), dtype=np.uint8)
    rgba[..., 3] = 255
    image = decode(png.encode(rgba, dpi=150))
    assert image.mode == "RGB" and image.size == (53, 37)
    assert np.array_equal(np.asarray(image), rgba[..., :3])
    assert image.info["dpi"] == pytest.approx((150, 150), abs=0.02)  # stored as whole pixels a metre


def test_transparent_pixels_keep_their_alpha():
    rgba = np.zeros((4, 3, 4), dtype=np.uint8)
    rgba[1, 2] = (10, 20, 30, 128)
    image = decode(png.encode(rgba, dpi=72))
    assert image.mode == "RGBA"
    assert np.array_equal(np.asarray(image), rgba)


def test_same_pixels_same_bytes_and_the_signature():
    rgba = np.full((8, 8, 4), 200, dtype=np.uint8)
    assert png.encode(rgba, 100) == png.encode(rgba.copy(), 100)
    assert png.encode(rgba, 100).startswith(b"\x89PNG\r\n\x1a\n")


def test_not_rgba_uint8_is_refused():
    with pytest.raises(ValueError, match="uint8"):
        png.encode(np.zeros((4, 4, 3), dtype=np.uint8), 100)
    with pytest.raises(ValueError, match="uint8"):
        png.encode(np.zeros((4, 4, 4), dtype=np.float32), 100)
