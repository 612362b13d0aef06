"""The flow view: the encoder–decoder walk from input text through generation to output text, with its shapes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from rich import box
from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.text import Text

from ..text import caption, word
from .block import PREVIEW_DIMS
from .common import ARROW, LABEL_MAX, PANEL_CHROME, PANEL_WIDTH, View, _lines, _note, _panel, _printable, short
from .grids import _compact_grid

if TYPE_CHECKING:  # annotations only: rich's Table is imported where it is used
    from rich.table import Table

    from ...flow import FlowStep, FlowTrace

FLOW_STEPS_SHOWN = 6  # generation steps drawn in full before they are cut (unless --full)


def _inner(view: View) -> View:
    """The view for panels nested inside a panel: 4 cells narrower."""
    return View(view.lang, view.precision, min(view.width, PANEL_WIDTH) - PANEL_CHROME, view.full)


def _vector(vec: np.ndarray, view: View) -> str:
    """[0.12, −0.50, 0.33, 1.02, …]: the first numbers of a vector."""
    shown = ", ".join(view.num(v) for v in vec[:PREVIEW_DIMS])
    return f"[{shown}{', …' if len(vec) > PREVIEW_DIMS else ''}]"


def _token_vectors(tokens, mat: np.ndarray, view: View) -> list[Text]:
    """"고양이" → [0.12, −0.50, …], one line per token, cut to fit."""
    width = max(cell_len(f'"{short(t.label)}"') for t in tokens)
    return _lines([Text(f'"{short(t.label)}"' + " " * (width - cell_len(f'"{short(t.label)}"')) + " → "
                        + _vector(row, view)) for t, row in zip(tokens, mat)], view)


def _shape(shape: tuple[int, ...]) -> str:
    return str(tuple(shape))


def _arrow_lines(shapes, names: dict[str, str], lead: str, room: int, view: View, style: str = "") -> list[Text]:
    """"(5,) ids → (5, 8) embeddings → …" packed into lines of at most `room` cells, broken only at
    arrows (a continuation line starts with →), so no shape is split."""
    from ...flow import shape_text

    parts = [shape_text((s,), names) for s in shapes]
    lines, line = [], lead + parts[0]
    for part in parts[1:]:
        if view.full or cell_len(line + " → " + part) <= room:
            line += " → " + part
        else:
            lines.append(line)
            line = "  → " + part
    lines.append(line)
    return [Text(t, style=style) for t in lines]


def _pct(p: float, view: View) -> str:
    """A probability as a percentage: 4.6%."""
    return f"{100 * p:.{max(1, view.precision - 1)}f}%"


def _shape_names(lang: str) -> dict[str, str]:
    en = {"ids": "ids", "embeddings": "embeddings", "x": "+ positions", "encoder": "encoder {n}",
          "memory": "memory (K/V)", "bos": "decoder ids", "decoder": "decoder {n}", "last": "last token",
          "logits": "logits", "probs": "softmax", "token": "next id"}
    ko = {"ids": "ids", "embeddings": "임베딩", "x": "+ 위치", "encoder": "인코더 {n}", "memory": "memory (K/V)",
          "bos": "디코더 ids", "decoder": "디코더 {n}", "last": "마지막 토큰", "logits": "로짓", "probs": "softmax",
          "token": "다음 id"}
    return ko if lang == "ko" else en


def _top_table(step: FlowStep, view: View) -> Table:
    """The step's most probable tokens: rank, token, id, logit, p, and which one was picked."""
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), show_edge=False)
    for k, name in enumerate(word("rank_cols", view.lang).split("|")):
        table.add_column(name, justify="left" if k in (0, 1) else "right", no_wrap=True)
    table.add_column("", no_wrap=True)
    picked = step.sampling.choice
    for rank, top in enumerate(step.top):
        mark = word("picked", view.lang) if top.index == picked else ""
        table.add_row(str(rank + 1), short(top.label, LABEL_MAX + 4), str(top.id), view.num(top.logit),
                      _pct(top.prob, view), mark, style="bold" if mark else "")
    return table


def _step_lines(step: FlowStep, flow_trace: FlowTrace, view: View) -> list[RenderableType]:
    """Step s · decoder input: <BOS> 고양이 …, the top tokens, the pick and its pool."""
    toks = " ".join(short(t.label) for t in step.tokens)
    out: list[RenderableType] = [Text(word("step_input", view.lang).format(s=step.number, tokens=toks),
                                      style="bold"), _top_table(step, view)]
    s = step.sampling
    pick = Text(word("picked_line", view.lang).format(label=step.token.label, id=step.token.id,
                                                       p=_pct(step.prob, view)), style="bold")
    if s.method != "greedy":
        mass = float(s.probs[s.candidates].sum())
        pick.append("  · " + word("pool", view.lang).format(n=len(s.candidates), mass=_pct(mass, view)),
                    style="dim")
    out += [pick, Text("")]
    return out


def flow_view(flow_trace: FlowTrace, *, view: View) -> Group:
    """Seed 001's encoder–decoder diagram as panels: input → tokenizer → [Transformer: embeddings →
    positions → encoder blocks × N → encoder output (K/V) → decoder input <BOS> → decoder blocks × N →
    logits → softmax] → sampling (each step's top tokens and pick) → detokenizing, then the shapes at every
    arrow. It says plainly that the model is untrained, so the text is nonsense."""
    ft = flow_trace
    inner = _inner(view)
    lang = view.lang
    first = ft.steps[0]
    warn = Text(caption("untrained", lang), style="bold yellow")
    parts: list[RenderableType] = [warn, Text("")]
    parts += [_panel("flow_input", Text(f'"{_printable(ft.source, view)}"'), view), ARROW]
    pieces = Text(", ".join(f'"{t.label}"' for t in ft.source_tokens))
    ids = Text("→ [" + ", ".join(str(t.id) for t in ft.source_tokens) + "]")
    parts += [_panel("flow_tokenizer", Group(pieces, ids), view, subtitle=f"{_shape((len(ft.source_tokens),))} ids"),
              ARROW]

    s_len, d = ft.x.shape
    enc_layers = [Text(word("layer_shape", lang).format(i=i + 1, a=_shape(b.x.shape), b=_shape(b.output.shape)),
                       style="dim") for i, b in enumerate(ft.encoder)]
    last_dec = first.decoder
    dec_layers = [Text(word("layer_shape", lang).format(i=i + 1, a=_shape(b.x.shape), b=_shape(b.output.shape)),
                       style="dim") for i, b in enumerate(last_dec)]
    final = ft.steps[-1]
    cross = final.decoder[-1].cross_attention
    grid, grid_cut = _compact_grid(cross, 0, len(cross.query_tokens) - 1, inner)
    quoted = [f'"{short(t.label)}"' for t in first.top]
    lw = max(cell_len(q) for q in quoted)
    logit_lines = [Text(q + " " * (lw - cell_len(q)) + f" → {view.num(t.logit)}") for q, t in zip(quoted, first.top)]
    uniform = word("uniform", lang).format(p=_pct(1 / ft.vocab, view))
    prob_lines = [Text(q + " " * (lw - cell_len(q)) + f" → {_pct(t.prob, view)}") for q, t in zip(quoted, first.top)]
    vocab = word("vocab", lang).format(v=ft.vocab, total=f"{ft.tokenizer_vocab:,}")
    body: list[RenderableType] = [
        _panel("flow_embeddings", Group(_note("flow_embeddings", inner),
                                        *_token_vectors(ft.source_tokens, ft.embeddings, inner)), inner,
               subtitle=f"{_shape(ft.embeddings.shape)} E"), ARROW,
        _panel("flow_positions", Group(_note("flow_positions", inner),
                                       *_token_vectors(ft.source_tokens, ft.x, inner)), inner,
               subtitle=f"{_shape(ft.x.shape)} E + P"), ARROW,
        _panel("flow_encoders", Group(_note("flow_encoders", inner), Text(""),
                                      Text(word("block_steps_encoder", lang)), Text(""), *enc_layers), inner,
               n=ft.n_layers), ARROW,
        Text("      " + caption("flow_memory", lang).format(shape=_shape(ft.memory.shape)), style="bold"), ARROW,
        _panel("flow_decoder_input", Group(_note("flow_decoder_input", inner),
                                           *_token_vectors(first.tokens, first.decoder[0].x, inner)), inner,
               subtitle=f"{_shape((len(first.tokens),))} ids → {_shape(first.decoder[0].x.shape)} E + P"), ARROW,
        _panel("flow_decoders", Group(_note("flow_decoders", inner), Text(""),
                                      Text(word("block_steps_decoder", lang)), Text(""), *dec_layers, Text(""),
                                      Text(word("cross_last", lang).format(s=final.number, n=len(final.decoder)),
                                           style="bold"), grid, *([grid_cut] if grid_cut else [])), inner,
               n=ft.n_layers), ARROW,
        _panel("flow_logits", Group(_note("flow_logits", inner), Text(vocab, style="dim"), *logit_lines), inner,
               subtitle=f"{_shape(first.hidden.shape)} · {_shape(ft.w_out.shape)} → {_shape((ft.vocab,))}"), ARROW,
        _panel("flow_softmax", Group(_note("flow_softmax", inner), *prob_lines, Text(uniform, style="dim")), inner,
               subtitle=f"{_shape((ft.vocab,))}, Σ = 1"),
    ]
    parts += [_panel("flow_transformer", Group(*body), view), ARROW]

    method = word(f"sampler_{ft.sample}", lang).format(k=ft.k, p=ft.p)
    sampling: list[RenderableType] = [Text(method, style="bold"),
                                      Text(word("temperature", lang).format(t=f"{ft.temperature:g}", seed=ft.seed),
                                           style="dim"), Text("")]
    steps = list(ft.steps)
    if not view.full and len(steps) > FLOW_STEPS_SHOWN:
        hidden = (steps[FLOW_STEPS_SHOWN - 1].number, steps[-2].number)
        for step in steps[: FLOW_STEPS_SHOWN - 1]:
            sampling += _step_lines(step, ft, view)
        sampling += [Text("⋮"), Text(word("steps_cut", lang).format(a=hidden[0], b=hidden[1]), style="italic yellow"),
                     Text("")]
        sampling += _step_lines(steps[-1], ft, view)
    else:
        for step in steps:
            sampling += _step_lines(step, ft, view)
    parts += [_panel("flow_sampling", Group(*sampling[:-1]), view), ARROW]

    picked = ", ".join(f'"{s.token.label}"' for s in ft.steps)
    detok = [_note("flow_detokenize", view), Text(f'{picked} → "{_printable(ft.output_text, view)}"', style="bold"),
             warn]
    parts += [_panel("flow_detokenize", Group(*detok), view), Text("")]

    names = _shape_names(lang)
    room = min(view.width, PANEL_WIDTH) - PANEL_CHROME
    shape_lines: list[Text] = _arrow_lines(ft.shapes, names, "", room, view)
    later = ft.steps[1:] if view.full else ft.steps[-1:] if len(ft.steps) > 1 else ()
    if not view.full and len(ft.steps) > 2:
        shape_lines.append(Text(word("shapes_same", lang).format(a=2, b=ft.steps[-2].number), style="dim"))
    for step in later:
        shape_lines += _arrow_lines(step.shapes, names, f"{word('step_n', lang).format(s=step.number)}: ", room,
                                    view)
    parts.append(_panel("flow_shapes", Group(*shape_lines), view))
    return Group(*parts)
