"""Encoder–decoder checkpoints in the terminal: T5's relative position bias as its own stage (in place of the
√d_k scaling T5 does not do), and a real model's generation, step by step."""

from __future__ import annotations

import numpy as np
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ...trace import Trace
from ..text import word
from .common import ARROW, View, _note, _panel, short
from .explain import input_panels, output_panel, qkv_panel, scores_panel, softmax_panel
from .matrix import matrix_table


def _labels(prefix: str, tokens) -> list[str]:
    return [f"{prefix}{i + 1} {short(t.label)}" for i, t in enumerate(tokens)]


def no_scale_panel(view: View):
    """[No scaling (T5)] where the ÷√d_k stage would be."""
    return _panel("no_scale", _note("no_scale", view), view)


def relative_bias_panel(trace: Trace, head: int, focus: int, view: View):
    """[Relative position bias (T5)] the focus row's offsets, buckets and biases, the bias table (buckets ×
    heads) and scores + bias for this head."""
    rel, hd = trace.attention.relative, trace.heads[head]
    side = word("rel_bidir" if rel.bidirectional else "rel_causal", view.lang)
    rows = Table(*word("rel_cols", view.lang).format(h=head + 1).split("|"), box=None, pad_edge=False)
    for j, tok in enumerate(trace.key_tokens):
        rows.add_row(f"K{j + 1} {short(tok.label)}: {j - focus:+d}", str(int(rel.buckets[focus, j])),
                     view.num(float(hd.bias[focus, j])))
    table = rel.table  # (num_buckets, h)
    bias_table, cut1 = matrix_table(table, [str(b) for b in range(table.shape[0])],
                                    [f"h{i + 1}" for i in range(table.shape[1])], view, corner="bucket")
    biased = hd.scores + hd.bias  # (T, S)
    summed, cut2 = matrix_table(biased, _labels("Q", trace.query_tokens), _labels("K", trace.key_tokens), view,
                                corner="+ bias", focus=focus)
    parts: list[RenderableType] = [_note("rel_bias", view),
                                   _note("rel_buckets", view, m=rel.max_distance, side=side),
                                   Text(f"Q{focus + 1} {short(trace.query_tokens[focus].label)}", style="bold"), rows,
                                   Text(word("rel_table", view.lang), style="bold"), bias_table,
                                   *([cut1] if cut1 else []),
                                   Text(word("rel_sum", view.lang), style="bold"), summed, *([cut2] if cut2 else [])]
    return _panel("rel_bias", Group(*parts), view)


def relative_view(trace: Trace, *, focus: int = 0, head: int = 0, view: View | None = None) -> Group:
    """explain for a T5 trace: input → Q/K/V → scores → (no scaling) → + relative bias → [mask] → softmax →
    output; the bias stage stands where the √d_k division would be."""
    view = view or View()
    hd = trace.heads[head]
    parts: list[RenderableType] = []
    if trace.n_heads > 1:
        parts.append(Text(word("head_of", view.lang).format(head=head + 1, heads=trace.n_heads), style="bold"))
    parts += [*input_panels(trace, view), ARROW, qkv_panel(trace, hd, view, focus), ARROW,
              scores_panel(trace, hd, focus, view), ARROW, no_scale_panel(view), ARROW,
              relative_bias_panel(trace, head, focus, view)]
    if hd.mask is not None:
        from .decoder import mask_panel

        parts += [ARROW, mask_panel(trace, head, focus, view)]
    parts += [ARROW, softmax_panel(trace, hd, focus, view), ARROW, output_panel(trace, hd, focus, view)]
    return Group(*parts)


def generation_view(gen, *, view: View | None = None) -> Group:
    """`flow --model`: each step's input, the top tokens with their softmax probabilities, the pick, and the
    text so far; then the output."""
    view = view or View()
    table = Table(*word("gen_cols", view.lang).split("|"), box=None, pad_edge=False)
    for s in gen.steps:
        tops = ", ".join(f"{short(t.label)} {t.prob:.{max(view.precision, 2)}f}" for t in s.top)
        table.add_row(str(s.number), " ".join(short(t.label) for t in s.inputs[-4:]), tops, short(s.token.label),
                      s.text)
    source = Text(" ".join(f'"{t.label}"' for t in gen.source_tokens))
    end = [Text(word("gen_stop", view.lang), style="dim")] if gen.stopped else []
    logits = Text(f"logits ({gen.vocab},) → softmax → {gen.method}" + (
        f", T = {gen.temperature:g}" if gen.temperature != 1 else ""), style="dim")
    return Group(_panel("encoder_output", source, view, subtitle=f"{gen.model.name} · S = {len(gen.source_tokens)}"),
                 ARROW, _panel("generation", Group(_note("generation", view, method=gen.method), logits, table,
                                                   *end), view),
                 Text(word("gen_out", view.lang).format(text=gen.text), style="bold"))


def mean_weights(trace: Trace) -> np.ndarray:
    """(T, S) the heads' attention weights averaged."""
    return np.mean([h.weights for h in trace.heads], axis=0)
