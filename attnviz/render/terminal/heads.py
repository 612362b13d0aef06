"""The multi-head views: heads side by side then concat·W_O, the merged vs separate split, every layer × head."""

from __future__ import annotations

import numpy as np
from rich import box
from rich.console import Group, RenderableType
from rich.text import Text

from ...attention import entropy
from ...trace import Trace
from ..text import caption, table_rows, word
from ..text.seq2seq import stack_label
from .common import ARROW, View, _fmt_diff, _indexed, _lines, _note, _panel, _small_table, _tint, short
from .explain import next_panels
from .grids import _compact_grid, _visible
from .matrix import matrix_table


def _best_line(trace: Trace, head: int, focus: int, view: View) -> Text:
    """Head 2: 고양이 → 잔다 (0.61)"""
    row = trace.heads[head].weights[focus]
    mask = _visible(trace, head)[focus]
    label = trace.query_tokens[focus].label
    if not mask.any():
        return Text(f"Head {head + 1}: {label} {word('all_hidden', view.lang)}")
    best = int(np.argmax(np.where(mask, row, -1.0)))
    return Text(f"Head {head + 1}: {label} → {trace.key_tokens[best].label} ({view.num(row[best])})")


def heads_view(trace: Trace, *, focus: int = 0, view: View) -> Group:
    """Multi-head attention as in the seed: [Self-Attention × h] each head's softmax side by side,
    the focus query's most attended key per head, ↓ [Concat] (T × h·d_v), ↓ [Linear] W_O (T × d_model)."""
    from rich.columns import Columns

    h = trace.n_heads
    grids = [_compact_grid(trace, i, focus, view) for i in range(h)]
    cut = grids[0][1]
    best = [_best_line(trace, i, focus, view) for i in range(h)]
    label = trace.query_tokens[focus].label
    body = Group(_note("heads", view), Columns([g for g, _ in grids], padding=(1, 3)), *([cut] if cut else []),
                 Text(""),
                 Text(word("most_per_head", view.lang).format(q=focus + 1, label=label), style="bold"),
                 *_lines(best, view))
    parts: list[RenderableType] = [_panel("heads_cross" if trace.kind == "cross" else "heads", body, view, h=h), ARROW]
    info = trace.attention
    if info is not None and info.n_kv_heads != h:  # grouped-query attention: which heads share K and V
        from .decoder import gqa_panel

        parts += [gqa_panel(trace, None, view), ARROW]
    d_v = trace.heads[0].output.shape[1]
    cols = [f"H{i + 1}\nd{j + 1}" for i in range(h) for j in range(d_v)]
    table, cut = matrix_table(trace.concat, _indexed("", trace.query_tokens), cols, view, corner="concat",
                              focus=focus)
    span = "concat_cols" if d_v > 1 else "concat_col"
    origin = Text(" · ".join(word(span, view.lang).format(a=i * d_v + 1, b=(i + 1) * d_v, h=i + 1)
                             for i in range(h)), style="dim")
    shape = f"T × h·d_v = {trace.concat.shape[0]} × {h}·{d_v} = {trace.concat.shape[0]} × {trace.concat.shape[1]}"
    parts.append(_panel("concat", Group(_note("concat", view), origin, table, *([cut] if cut else [])), view,
                        subtitle=shape))
    parts += next_panels(trace, focus, view)
    return Group(*parts)


def split_view(merged: Trace, separate: Trace, *, view: View) -> Group:
    """Seed 000's two ways to build per-head Q/K/V, with their shapes, and the largest difference
    between the two traces' weights and outputs, head by head (equal up to float rounding)."""
    from rich.table import Table

    h, t, d_k, d_model = merged.n_heads, len(merged.query_tokens), merged.d_k, merged.d_model
    fmt = dict(d_model=d_model, hd=h * d_k, t=t, h=h, d_k=d_k)
    ways = tuple(tuple(c.format(**fmt) for c in row) for row in table_rows("split_ways", view.lang))
    parts: list[RenderableType] = [_panel("split", Group(
        _note("split_merged", view), _note("split_separate", view), Text(""), _small_table(ways, view), Text(""),
        _note("split_same", view)), view), ARROW]
    diff = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), show_edge=False)
    diff.add_column("", style="bold", no_wrap=True)
    diff.add_column(f"{word('max_diff', view.lang)}\n{word('weights_diff', view.lang)}", justify="right",
                    no_wrap=True)
    diff.add_column(f"{word('max_diff', view.lang)}\n{word('output_diff', view.lang)}", justify="right",
                    no_wrap=True)
    worst = 0.0
    for i, (a, b) in enumerate(zip(merged.heads, separate.heads)):
        dw, do = float(np.max(np.abs(a.weights - b.weights))), float(np.max(np.abs(a.output - b.output)))
        worst = max(worst, dw, do)
        diff.add_row(f"Head {i + 1}", _fmt_diff(dw), _fmt_diff(do))
    dc = float(np.max(np.abs(merged.concat - separate.concat)))
    diff.add_row(word("concat_row", view.lang), "", _fmt_diff(dc))
    worst = max(worst, dc)
    if merged.output is not None and separate.output is not None:
        dout = float(np.max(np.abs(merged.output - separate.output)))
        diff.add_row(word("final_row", view.lang), "", _fmt_diff(dout))
        worst = max(worst, dout)
    verdict = Text(f"{caption('split_equal', view.lang)} {word('max_diff', view.lang)} = {_fmt_diff(worst)}",
                   style="bold")
    parts.append(_panel("split_diff", Group(diff, Text(""), verdict), view))
    return Group(*parts)


def layers_view(traces, *, focus: int = 0, view: View) -> Group:
    """Every layer × head of a real model, one line per head for the focus query: the most attended key,
    its weight, and the row's entropy (a terminal stand-in for bertviz's model view)."""
    from rich.table import Table

    first = traces[0]
    q_label = first.query_tokens[focus].label
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name, justify in (("layer", "right"), ("head", "right"), (word("most", view.lang), "left"),
                          (word("weight", view.lang), "right"), (word("entropy", view.lang), "right")):
        table.add_column(name, justify=justify, no_wrap=True)
    for tr in traces:
        layer = tr.model.layer if tr.model else 0
        for h, hd in enumerate(tr.heads):
            row = hd.weights[focus]
            best = int(np.argmax(row))
            table.add_row(str(layer), str(h + 1), short(tr.key_tokens[best].label, 16),
                          Text(view.num(row[best]), style=_tint(row[best], True)), view.num(entropy(row)))
    name = first.model.name if first.model else first.weights_source
    stack = stack_label(first, view.lang)
    head_line = Text(f"{name}{f' · {stack}' if stack else ''}: {word('focus', view.lang)} Q{focus + 1} = {q_label}",
                     style="bold")
    return Group(_panel("layers", Group(head_line, table), view))
