"""The cross view: decoder queries attending over the encoder's tokens or an image's patches (the patch grid)."""

from __future__ import annotations

import numpy as np
from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.text import Text

from ...patches import patch_weights
from ...trace import Trace
from ..text import table_rows, word
from .common import ARROW, View, _lines, _note, _panel, _printable, _small_table, _tint
from .explain import next_panels, output_panel, scaled_panel, scores_panel, softmax_panel
from .matrix import Matrix, matrix_table

CROSS_ARROWS = Text("                ↑\n        [Cross-Attention]\n                ↓", style="bold")


def _token_map(tokens, names: str, view: View) -> list[Text]:
    """"고양이" → K1, V1 (names "KV") or "<BOS>" → Q1 (names "Q"), one line per token, cut to fit."""
    width = max(cell_len(f'"{t.label}"') for t in tokens)
    return _lines([Text(f'"{t.label}"' + " " * (width - cell_len(f'"{t.label}"')) + " → "
                        + ", ".join(f"{n}{i + 1}" for n in names)) for i, t in enumerate(tokens)], view)


def patch_grid_table(trace: Trace, *, focus: int = 0, head: int = 0, view: View) -> tuple[Matrix, Text | None]:
    """The focus query's weight on each image patch, laid out as the image's rows × cols grid."""
    rows, cols = trace.patch_grid
    grid = patch_weights(trace.heads[head].weights[focus], (rows, cols))  # (rows, cols), patch_1 top-left
    best = divmod(int(np.argmax(grid)), cols)

    def cell(i: int, j: int | None, value: float) -> Text:
        if j is None:
            return Text(view.num(value))
        return Text(view.num(value), style=_tint(value, (i, j) == best))

    return matrix_table(grid, [word("row_n", view.lang).format(n=r + 1) for r in range(rows)],
                        [word("col_n", view.lang).format(n=c + 1) for c in range(cols)], view,
                        corner=f"Q{focus + 1}", cell=cell)


def _scaling(trace: Trace, head: int, focus: int, view: View):
    """÷√d_k, or a checkpoint's own scale (T5: none at all, said so)."""
    info = trace.attention
    if info is None:
        return scaled_panel(trace, trace.heads[head], focus, view)
    if info.scale == 1.0:
        from .seq2seq import no_scale_panel

        return no_scale_panel(view)
    from .decoder import scale_is_root, scaled_by_panel

    if scale_is_root(trace):
        return scaled_panel(trace, trace.heads[head], focus, view)
    return scaled_by_panel(trace, head, focus, view)


def cross_view(trace: Trace, *, focus: int = 0, head: int = 0, view: View) -> Group:
    """Cross-attention as in the seed: [Encoder output] → [Key / Value] ↑ [Cross-Attention] ↓
    [Decoder input] → Q·K → softmax (rows decoder tokens, columns source tokens) → weighted sum,
    the patch grid when the keys are image patches, and the self- vs cross-attention table."""
    hd = trace.heads[head]
    parts: list[RenderableType] = []
    if trace.n_heads > 1:
        parts.append(Text(word("head_of", view.lang).format(head=head + 1, heads=trace.n_heads), style="bold"))
    if trace.patch_grid is not None:
        rows, cols = trace.patch_grid
        path = trace.image_path or trace.text
        parts += [_panel("image_input", Text(_printable(path, view)), view), ARROW,
                  _panel("vision", Text(word("vision_steps", view.lang).format(rows=rows, cols=cols, n=rows * cols,
                                                                                 d=trace.d_model)), view), ARROW,
                  _panel("image_kv", Group(*_token_map(trace.key_tokens, "KV", view)), view,
                         subtitle=f"S = {len(trace.key_tokens)}")]
    else:
        source = Text(" ".join(f'"{t.label}"' for t in trace.key_tokens))
        parts += [_panel("encoder_output", Group(_note("encoder_output", view), source), view), ARROW,
                  _panel("kv", Group(_note("kv", view), *_token_map(trace.key_tokens, "KV", view)), view)]
    parts += [CROSS_ARROWS,
              _panel("decoder_input", Group(_note("decoder_input", view),
                                            *_token_map(trace.query_tokens, "Q", view)), view),
              ARROW, scores_panel(trace, hd, focus, view), ARROW, _scaling(trace, head, focus, view), ARROW,
              softmax_panel(trace, hd, focus, view)]
    if trace.patch_grid is not None:
        rows, cols = trace.patch_grid
        table, cut = patch_grid_table(trace, focus=focus, head=head, view=view)
        vision = _note("vision_captioner", view) if trace.model is not None else _note("vision", view, rows=rows,
                                                                                       cols=cols)
        parts += [Text(""), _panel("patch_grid", Group(vision,
                                                _note("patch_grid", view, q=focus + 1), table,
                                                *([cut] if cut else [])), view,
                            subtitle=word("n_patches", view.lang).format(rows=rows, cols=cols, n=rows * cols))]
    parts += [ARROW, output_panel(trace, hd, focus, view), *next_panels(trace, focus, view)]
    compare: list[RenderableType] = [_small_table(table_rows("cross_vs_self", view.lang), view)]
    if trace.patch_grid is not None:
        compare.append(_note("multimodal", view))
    parts += [Text(""), _panel("cross_vs_self", Group(*compare), view)]
    return Group(*parts)
