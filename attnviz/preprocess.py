"""A checkpoint's image preprocessing, read from its preprocessor_config.json: resize, rescale, normalize.

What transformers' ViT image processor does (its Pillow backend), in numpy and Pillow:

    rgb        = load_image(path)                    upright (EXIF), convert("RGB"): (H₀, W₀, 3) uint8
    resized    = Pillow resize to (height, width)    with the config's `resample` filter, still uint8
    rescaled   = float32(resized · rescale_factor)   (1/255: values in [0, 1]), computed in float64
    normalized = (rescaled − mean_c) / std_c         float32, per channel c
    pixel_values = normalized, channels first        (3, height, width)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ModelError

FILE = "preprocessor_config.json"
#: Pillow's resampling filters by their number in the config (PILImageResampling).
RESAMPLE = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming"}


@dataclass(frozen=True)
class Processor:
    """What preprocessor_config.json asks for."""

    height: int
    width: int
    resample: int  # a Pillow filter number (2: bilinear)
    rescale_factor: float | None  # None: do_rescale false
    mean: tuple[float, float, float] | None  # None: do_normalize false
    std: tuple[float, float, float] | None
    path: Path

    @property
    def steps(self) -> str:
        """The steps in words, for a caption: resize 224×224 (bilinear) → × 1/255 → (x − mean) / std."""
        parts = [f"resize {self.width}×{self.height} ({RESAMPLE[self.resample]})"]
        if self.rescale_factor is not None:
            scale = self.rescale_factor
            parts.append("× 1/255" if abs(scale - 1 / 255) < 1e-12 else f"× {scale:g}")
        if self.mean is not None:
            parts.append("(x − mean) / std")
        return " → ".join(parts)


def _numbers(config: dict, name: str, path: Path) -> tuple[float, float, float]:
    value = config.get(name)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [value] * 3
    if (not isinstance(value, list) or len(value) != 3
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for v in value)):
        raise ModelError(f"{path}: {name} = {value!r} is not three numbers (one per RGB channel): save the "
                         "image processor again")
    if name == "image_std" and min(value) <= 0:
        raise ModelError(f"{path}: image_std {value} has a value ≤ 0: save the image processor again")
    return tuple(float(v) for v in value)


def read_processor(folder: Path) -> Processor:
    """The preprocessing a checkpoint folder's preprocessor_config.json describes (a ViT-style processor:
    resize to height × width, rescale, normalize). Other kinds (shortest-edge resizing, center crops) are
    refused with a ModelError that says so."""
    path = Path(folder) / FILE
    if not path.is_file():
        raise ModelError(f"{folder} has no {FILE}: an image model's folder holds the image processor's settings; "
                         "save them with transformers, AutoImageProcessor.from_pretrained(ID).save_pretrained(DIR)")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        why = "nested too deeply" if isinstance(exc, RecursionError) else " ".join(str(exc).split())[:120]
        raise ModelError(f"{path} is not readable JSON ({why}): save the image processor again") from None
    if not isinstance(config, dict):
        raise ModelError(f"{path} is not a JSON object: save the image processor again")
    size = config.get("size")
    if isinstance(size, int) and not isinstance(size, bool):
        size = {"height": size, "width": size}
    if (config.get("do_resize", True) is not True or not isinstance(size, dict)
            or not all(isinstance(size.get(k), int) and size[k] > 0 for k in ("height", "width"))):
        raise ModelError(f"{path}: attnviz runs processors that resize to a fixed height × width (size "
                         f"{{\"height\", \"width\"}}, do_resize true), as ViT's does; this one has size {size!r}")
    if config.get("do_center_crop"):
        raise ModelError(f"{path}: do_center_crop is set; attnviz runs processors without a center crop (ViT's)")
    resample = config.get("resample", 2)
    if resample not in RESAMPLE or isinstance(resample, bool):
        raise ModelError(f"{path}: resample = {resample!r} is not a Pillow filter number (0–5)")
    scale = None
    if config.get("do_rescale", True):
        scale = config.get("rescale_factor", 1 / 255)
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not np.isfinite(scale) or scale <= 0:
            raise ModelError(f"{path}: rescale_factor = {scale!r} is not a positive number")
    mean = std = None
    if config.get("do_normalize", True):
        mean, std = _numbers(config, "image_mean", path), _numbers(config, "image_std", path)
    return Processor(size["height"], size["width"], int(resample), None if scale is None else float(scale),
                     mean, std, path)


def pixel_values(processor: Processor, image: Path) -> np.ndarray:
    """(3, height, width) float32: the image at `image` as the checkpoint's processor prepares it (see the
    module docstring). Raises InputError for a missing, huge or undecodable file."""
    from .images import load_image

    rgb = load_image(Path(image), (processor.width, processor.height), processor.resample)  # (H, W, 3) in [0, 1]
    resized = np.rint(rgb * 255.0)  # (H, W, 3) the uint8 values Pillow resized, exactly
    if processor.rescale_factor is None:
        rescaled = resized.astype(np.float32)
    else:
        rescaled = (resized * processor.rescale_factor).astype(np.float32)  # float64 product, then float32
    if processor.mean is not None:
        mean = np.asarray(processor.mean, dtype=np.float32)  # (3,)
        std = np.asarray(processor.std, dtype=np.float32)
        rescaled = (rescaled - mean) / std  # (H, W, 3) float32
    return np.ascontiguousarray(rescaled.transpose(2, 0, 1))  # (3, H, W) channels first
