"""A checkpoint on a long text, in O(T) memory: layers 0 … L−1 with each head's attention computed tile by tile
(output only, `attention.tiled_attention_with_stats`), then layer L's heads summarized (`summary.summarize_head`)
— never a T × T array, nor a T × T mask (`attention.TileMask` describes the causal mask and the layer's sliding
window; tiles that it hides entirely are skipped).

    summary_forward(arch, tensors, ids, layer, causal, *, top_k, progress) -> (h_L, LayerSummary)

Everything but the heads is base.run_layer's, shared with the full trace: the norms, the projections (q/k norm,
RoPE, biases: base.project), W_O, Gemma's post norms, the FFN and the residuals (all O(T·d); the layers before
L run them ROWS rows at a time, so the FFN's (T, d_ff) stages are never whole). The heads honour
what the family's full path does: query head j reads K/V head j // (h/g) (GQA), the layer's own scale (Gemma's
query_pre_attn_scalar^-½), soft-capping (Gemma 2: cap · tanh(s / cap) on each tile) and sliding window, each
tile's logits computed as the full trace computes them (float32 q kᵀ for a float32 checkpoint; the softmax and
the output in float64, as there).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .. import attention
from ..attention import TileMask
from ..summary import TOP_K, HeadSummary, summarize_head
from ..trace import TILE_KEYS, TILE_QUERIES, RopeInfo
from .base import Architecture, AttentionWeights, linear, project, run_layer
from .guard import check_finite, quiet, stack_label

ROWS = 1024  # rows of a layer's norms, residuals and FFN at a time (its heads need every row)
HEAD_THREADS = min(2, os.cpu_count() or 1)  # heads computed at once, each on its own thread


@dataclass(frozen=True)
class TiledAttention:
    """A layer's attention computed tile by tile, its output only (a layer before the summarized one)."""

    concat: np.ndarray  # (T, h·d_v) float64
    output: np.ndarray  # (T, d_model) concat W_O + b_O, before the residual and any norm


@dataclass(frozen=True)
class LayerSummary:
    """The summarized layer: each head's HeadSummary, then concat and W_O as in the full trace."""

    heads: tuple[HeadSummary, ...]
    concat: np.ndarray  # (T, h·d_v) float64
    output: np.ndarray  # (T, d_model) concat W_O + b_O, before the residual and any norm
    mask: TileMask | None  # causal and/or the sliding window, described
    rope: RopeInfo | None  # the layer's rotary positions (None: positions added to the embeddings)


def tile_mask(arch: Architecture, i: int, causal: bool) -> TileMask | None:
    """Layer i's mask, described: causal (the model's own, or a what-if) and the layer's sliding window, which
    is causal as well (as base.run_layer's attention.sliding_window_mask); None when nothing is hidden."""
    window = arch.window(i)
    return TileMask(True, window) if causal or window is not None else None


def _heads(arch: Architecture, w: AttentionWeights, i: int, x: np.ndarray, positions: np.ndarray, causal: bool,
           summarize: bool, top_k: int, tick: Callable[[int], None] | None) -> TiledAttention | LayerSummary:
    """Layer i's heads on x (T, d_model), tile by tile: each head's output (the kernel) or its summary."""
    h, g = arch.n_heads, arch.n_kv_heads
    pr = project(arch, w, i, x, positions)  # q (h, T, d_k), k and v (g, S, d)
    mask, scale, cap = tile_mask(arch, i, causal), arch.attention_scale(i), arch.softcap(i)
    group = h // g

    def head(j: int):
        kv = j // group  # the K/V head query head j reads
        if summarize:
            hs = summarize_head(pr.q[j], pr.k[kv], pr.v[kv], mask, scale=scale, softcap=cap, top_k=top_k,
                                progress=tick)
            return hs if g == h else replace(hs, kv_head=kv)
        return attention.tiled_attention_with_stats(
            pr.q[j], pr.k[kv], pr.v[kv], TILE_KEYS, mask, query_block=TILE_QUERIES, scale=scale, softcap=cap,
            dtype=np.float64, progress=tick)[0]  # (T, d_v)

    with ThreadPoolExecutor(HEAD_THREADS) as pool:  # numpy releases the GIL in the tiles' products and exps
        done = list(pool.map(head, range(h)))
    heads = done if summarize else []
    outputs = [hs.output for hs in done] if summarize else done  # (T, d_v) each
    concat = attention.merge_heads(np.stack(outputs))  # (T, h·d_v) float64
    output = linear(concat, w.w_o, w.b_o)  # (T, d_model) in float64, as concat is (as base.self_attention)
    if not summarize:
        return TiledAttention(concat, output)
    return LayerSummary(tuple(heads), concat, output, mask, pr.rope)


def summary_forward(arch: Architecture, tensors: Any, ids: np.ndarray, layer: int, causal: bool, *,
                    top_k: int = TOP_K, progress: Callable[[int, int], None] | None = None
                    ) -> tuple[np.ndarray, LayerSummary]:
    """(h_L (T, d_model), layer L's LayerSummary) for ids (T,): layers 0 … L−1 whole, their heads tile by tile,
    then layer L up to its attention output, its heads summarized. causal: every layer's causal mask (the
    model's own, or True for a what-if on an encoder). progress(rows, total) is called as query rows are done,
    total = (L + 1) · h · T. A non-finite stage is a ModelError naming the layer, as in the full forward."""
    t = len(ids)
    total = (layer + 1) * arch.n_heads * t
    tick = None if progress is None else (lambda rows: progress(rows, total))
    label = stack_label(arch)
    with quiet():
        e, p, hidden = arch.embed(tensors, ids)  # (T, d_model) each
        for name, a in (("the token embeddings E", e), ("the positions P", p), ("h₀", hidden)):
            check_finite(f"the {label.replace('layer', 'embeddings')}", a, name)
        del e, p
        positions = np.arange(t)  # (T,) RoPE's positions

        for i in range(layer):  # whole layers, their heads tile by tile
            hidden = _tiled_layer(arch, tensors, i, hidden, positions, causal, tick, f"{label} {i}")  # (T, d_model)
        run = run_layer(arch, tensors, layer, hidden, None, hidden, hidden, positions, attention_only=True,
                        attend=lambda w, i, x: _heads(arch, w, i, x, positions, causal, True, top_k, tick))
        check_finite(f"{label} {layer}", run)
    return hidden, run.attention


def _tiled_layer(arch: Architecture, tensors: Any, i: int, hidden: np.ndarray, positions: np.ndarray, causal: bool,
                 tick: Callable[[int], None] | None, where: str) -> np.ndarray:
    """Layer i's output (T, d_model) for its input hidden (T, d_model): the heads tile by tile over every row,
    then the rest of the layer — base.run_layer itself, its attention handed in — ROWS rows at a time, so the
    FFN's (T, d_ff) stages are never whole. Every stage is row-wise there, so the rows come out as one run's."""
    x = arch.layer_norms(tensors, i)[0](hidden).output if arch.norm_first else hidden  # (T, d_model) → q, k, v
    attn = _heads(arch, arch.attention_weights(tensors, i), i, x, positions, causal, False, 0, tick)
    del x
    out = np.empty_like(hidden)  # (T, d_model)
    for r0 in range(0, len(hidden), ROWS):
        rows = slice(r0, r0 + ROWS)
        part = TiledAttention(attn.concat[rows], attn.output[rows])  # (R, h·d_v), (R, d_model)
        run = run_layer(arch, tensors, i, hidden[rows], None, hidden[rows], hidden[rows], positions[rows],
                        attend=lambda w, i, x, part=part: part)
        check_finite(where, run)
        out[rows] = run.output
    return out
