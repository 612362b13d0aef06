"""Reading an image file into pixels (Pillow), refusing huge or broken files before decoding them.

Only PNG and JPEG are opened, by Pillow's own decoders: an image is untrusted input, and some of
Pillow's other formats hand the file to another program (EPS to Ghostscript) or to large C libraries.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import InputError

#: Images with more pixels than this are refused from their header, before decoding.
MAX_PIXELS = 40_000_000
#: The only formats Pillow is allowed to open (by its format names).
FORMATS = ("PNG", "JPEG")
_READS = "attnviz reads PNG and JPEG images only"


def _open(fh):
    """Pillow's Image of the open file `fh`, tried as PNG and JPEG only. A file object, not a name: given
    a name, Pillow imports the plugin its extension suggests (x.eps → the EPS plugin)."""
    from PIL import Image, JpegImagePlugin, PngImagePlugin  # noqa: F401 - registered: no other plugin loads

    return Image.open(fh, formats=FORMATS)


def image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from the header of a PNG or JPEG file; None when it is not one."""
    try:
        with open(path, "rb") as fh, _open(fh) as img:  # the header only
            return img.size
    except Exception:  # noqa: BLE001 - load_image reports what is wrong with the file
        return None


def load_image(path: Path, size: tuple[int, int], resample: int = 2) -> np.ndarray:
    """The image at `path` as RGB pixels in [0, 1], resized to size = (width, height) with Pillow's filter
    `resample` (2: bilinear): (h, w, 3).

    RGB as transformers' `load_image` makes it: turned upright by its EXIF orientation, then Pillow's
    convert("RGB") (alpha and palette transparency dropped, 16-bit values clipped at 255, CMYK converted naively)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise InputError(f"image {path} does not exist or is not a file: check the path")
    try:
        with open(path, "rb") as fh, _open(fh) as img:
            w, h = img.size
            if w * h > MAX_PIXELS:
                raise InputError(f"{path} is {w}×{h} pixels; attnviz reads images of at most "
                                 f"{MAX_PIXELS // 1_000_000} megapixels: resize it first")
            rgb = ImageOps.exif_transpose(img).convert("RGB").resize(size, resample)
            return np.asarray(rgb, dtype=np.float64) / 255.0  # (h, w, 3)
    except Image.DecompressionBombError:
        raise InputError(f"{path} has far more pixels than attnviz reads (at most "
                         f"{MAX_PIXELS // 1_000_000} megapixels): resize it first") from None
    except PermissionError:
        raise InputError(f"cannot read {path}: permission denied (check the file's permissions)") from None
    except UnidentifiedImageError as exc:
        raise InputError(f"{path} is not an image attnviz reads ({exc.__class__.__name__}): {_READS}; "
                         "convert it to PNG first") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"{path} could not be decoded ({str(exc)[:80]}): the file may be truncated; "
                         "use a complete PNG or JPEG file") from None
