"""Terminal panels (rich): the views' public names, each imported from its module on first use.

Every view returns rich renderables, boxed steps joined by ↓ like the seed diagrams; printing is the CLI's job.
Rows are queries, columns keys. The modules, one job each (views import from common and matrix, never the
reverse):

    common   View, the layout constants, panels, labels, tints, cut lists     explain  the pipeline panels
    matrix   the Matrix renderable and matrix_table                           mask     the ○/× mask view
    grids    one head's compact softmax grid (heads, mask, block, flow)       heads    heads, split, layers
    cross    cross-attention and the image patch grid                         lessons  the scale and softmax lessons
    flash    tiled attention block by block                                   block    one transformer block
    flow     the encoder–decoder walk                                         survey   head survey, rollout, lens
    vision   a real image model's patches and patch grid (explain --image)
    decoder  RoPE, GQA, the scale used, soft-cap and the sliding window of today's decoders (explain, heads)
    seq2seq  T5's relative bias stage, a real model's generation

A name is looked up here (PEP 562 `__getattr__`), so `from attnviz.render.terminal import explain_view`
imports common, matrix and explain alone: the explain view does not pay for the other views, nor for rich's
Table and Columns (imported only by the views that use them).
"""

from __future__ import annotations

_MODULES = {  # module → the public names it owns
    "common": ("ARROW", "HEADER_MAX", "LABEL_MAX", "MAX_LINES", "MAX_ROWS", "PANEL_CHROME", "PANEL_WIDTH", "STAGES",
               "SUMMARY_LINES", "TOKEN_LINES", "View", "short"),
    "summary": ("summary_view",),
    "matrix": ("Line", "Matrix", "MatrixColumn", "matrix_table"),
    "grids": ("COMPACT_LABEL",),
    "explain": ("explain_view", "input_panels", "next_panels", "output_panel", "qkv_panel", "scaled_panel",
                "scores_panel", "softmax_panel", "summary_lines"),
    "mask": ("mask_grid", "mask_view"),
    "heads": ("heads_view", "layers_view", "split_view"),
    "cross": ("CROSS_ARROWS", "cross_view", "patch_grid_table"),
    "lessons": ("SEED_SCORES", "SEED_WEIGHTS", "scale_view", "softmax_view"),
    "flash": ("FLASH_MAX_BLOCKS", "flash_view"),
    "block": ("ACT_NAMES", "PREVIEW_DIMS", "block_view"),
    "flow": ("FLOW_STEPS_SHOWN", "flow_view"),
    "survey": ("lens_view", "rollout_view", "survey_view"),
    "vision": ("image_grid_panel", "image_view", "vit_input_panel"),
    "decoder": ("gqa_panel", "mask_panel", "qk_norm_line", "rope_panel", "scaled_by_panel", "softcap_panel"),
    "seq2seq": ("generation_view", "relative_view"),
}
_MODULE_OF = {name: module for module, names in _MODULES.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    """A public name, imported from its module the first time it is asked for (then kept here)."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # `from .module import name`, as the import statement calls it (-X importtime lists it; import_module not)
    value = getattr(__import__(module, globals(), None, [name], 1), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
