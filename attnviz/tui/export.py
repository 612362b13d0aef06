"""`e` in the explorer: the current stage as a figure file, drawn by the same code as `--png` and `--out-dir`
(attnviz/render/figure), so matplotlib is imported only when a figure is asked for."""

from __future__ import annotations

from pathlib import Path

from ..trace import Trace

#: stage → the figures that show it: stage_figure's stages ("pipeline" too), or "mask" (mask_figure), "heads"
#: (heads_figure).
FIGURES = {
    "input": ("x",),
    "qkv": ("q", "k", "v"),
    "rope": ("q", "k"),  # Q and K after the rotation
    "gqa": ("k", "v"),  # the shared K and V of this head's group
    "scores": ("scores",),
    "scaled": ("scaled",),
    "softcap": ("pipeline",),  # no figure of its own: the head's pipeline
    "mask": ("mask",),
    "softmax": ("softmax",),
    "weighted": ("output",),
    "output": ("heads",),  # every head's softmax, then concat·W_O
}


def file_names(trace: Trace, stage: str, head: int, layer: int | None = None, fmt: str = "png") -> list[str]:
    """attnviz-softmax.png, attnviz-layer2-head3-softmax.png …: the layer when the trace is a real model's,
    the head when there are several (not for the heads figure, which has them all)."""
    names = []
    for figure in FIGURES[stage]:
        parts = ["attnviz"]
        if layer is not None:
            parts.append(f"layer{layer}")
        if trace.n_heads > 1 and figure != "heads":
            parts.append(f"head{head + 1}")
        names.append("-".join([*parts, figure]) + f".{fmt}")
    return names


def export_stage(trace: Trace, stage: str, out_dir: str | Path = ".", *, head: int = 0, focus: int = 0,
                 layer: int | None = None, theme: str = "light", lang: str = "en", precision: int = 2,
                 dpi: int = 150, fmt: str = "png") -> list[Path]:
    """Write the figure(s) of `stage` into `out_dir` as one transaction, as --out-dir does: every file renamed into
    place only when all are drawn and written, none of them if one fails. Returns the paths."""
    from ..files import transaction
    from ..render import figure as fig

    style = dict(theme=theme, lang=lang, precision=precision)
    paths = []
    with transaction():
        for figure, name in zip(FIGURES[stage], file_names(trace, stage, head, layer, fmt)):
            if figure == "mask":
                drawn = fig.mask_figure(trace, head=head, **style)
            elif figure == "heads":
                drawn = fig.heads_figure(trace, focus=focus, **style)
            else:
                drawn = fig.stage_figure(trace, figure, head=head, **style)
            paths.append(fig.save_view(drawn, Path(out_dir) / name, dpi=dpi))
    return paths
