"""The image views of a real checkpoint: a ViT's self-attention over [CLS] + patches, with the focus query's
weights laid out as the image's patch grid."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from ...trace import Trace
from ..text import word
from .common import ARROW, View, _note, _panel, _printable
from .cross import patch_grid_table
from .explain import explain_view


def vit_input_panel(trace: Trace, view: View, steps: str = "", patch: tuple[int, int] = (0, 0)) -> RenderableType:
    """[Image → patches (ViT)]: the file, the processor's steps, the grid and its patch size (pixels)."""
    rows, cols = trace.patch_grid
    lines = [Text(_printable(trace.image_path or trace.text, view)),
             _note("vision_model", view, steps=steps or "…", rows=rows, cols=cols, ph=patch[0], pw=patch[1])]
    return _panel("vit_input", Group(*lines), view,
                  subtitle=f"T = 1 + {rows} × {cols} = {len(trace.query_tokens)} · d_model = {trace.d_model}")


def image_grid_panel(trace: Trace, *, focus: int, head: int, view: View) -> RenderableType:
    """[Attention on the image]: the focus query's weights on the patches as the rows × cols grid, and its weight
    on [CLS] (not in the image) below."""
    rows, cols = trace.patch_grid
    row = trace.heads[head].weights[focus]  # (S,)
    table, cut = patch_grid_table(trace, focus=focus, head=head, view=view)
    extra = len(row) - rows * cols  # 1: [CLS]
    lines: list[RenderableType] = [_note("patch_grid", view, q=focus + 1), table, *([cut] if cut else [])]
    if extra:
        lines.append(Text(word("cls_weight", view.lang).format(q=focus + 1, w=view.num(float(row[0])))))
    return _panel("patch_grid", Group(*lines), view,
                  subtitle=word("n_patches", view.lang).format(rows=rows, cols=cols, n=rows * cols))


def image_view(trace: Trace, *, stage: str = "all", focus: int = 0, head: int = 0, view: View | None = None,
               steps: str = "", patch: tuple[int, int] = (0, 0)) -> Group:
    """explain --image: where the tokens come from, the pipeline (or one stage), then the focus query's row on
    the image's patch grid."""
    view = view or View()
    parts: list[RenderableType] = []
    if stage in ("all", "input"):
        parts += [vit_input_panel(trace, view, steps, patch), ARROW]
    parts.append(explain_view(trace, stage=stage, focus=focus, head=head, view=view))
    if stage in ("all", "softmax"):
        parts += [Text(""), image_grid_panel(trace, focus=focus, head=head, view=view)]
    return Group(*parts)
