"""What the commands do with --image and --model together: a real vision checkpoint's traces of an image."""

from pathlib import Path
from typing import Annotated

import typer

from ..errors import InputError

ImageOpt = Annotated[Path | None, typer.Option(
    help="An image (PNG or JPEG) for an image --model (a ViT, or a ViT → GPT-2 captioner): its [CLS] + patches, "
         "preprocessed as the checkpoint's preprocessor_config.json says.")]


def _image_trace(image: Path, model: str | None, layer: int, text: str | None):
    """explain --image: layer `layer` of the checkpoint's vision encoder over [CLS] + patches."""
    if model is None:
        raise InputError("--image needs --model (a ViT checkpoint, or a ViT → GPT-2 captioner); for seeded patches "
                         "use `attnviz cross --image`")
    if text is not None:
        raise InputError("give a TEXT or --image, not both: an image model reads the image alone")
    from ..pipeline import vision_attention

    return vision_attention(model, image, layer)


def _image_notes(trace) -> dict:
    """What the image view says about the preprocessing: the processor's steps and the patch size in pixels."""
    from ..preprocess import read_processor

    proc = read_processor(Path(trace.weights_source))
    rows, cols = trace.patch_grid
    return {"steps": proc.steps, "patch": (proc.height // rows, proc.width // cols)}
