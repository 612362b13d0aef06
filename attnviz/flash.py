"""Flash attention walked through: online softmax over key blocks for one focus query, checked against the
standard softmax·V, and the memory it saves (numpy only).

Shapes as in `attention.py`: T query tokens, S key tokens, d_k, d_v; B keys a block.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import attention
from .errors import InputError
from .trace import Trace

DEFAULT_BLOCK = 2  # keys a block in the walkthrough: a five-token sentence gives three blocks
MEMORY_SIZES = (1024, 4096, 16384, 65536)  # n = T = S for the memory table
FLOAT32 = 4  # bytes
CHECKED_ROWS = 64  # long texts: queries whose exact softmax·V row is recomputed for the check
QUERY_TILE = 256  # queries the kernel takes at once for the all-queries summary (m, ℓ do not depend on it)


@dataclass(frozen=True)
class BlockStep:
    """One key block of the walkthrough, for the focus query (the textbook's inner loop, one row)."""

    index: int  # block number, 0-based
    start: int  # first key of the block, 0-based
    stop: int  # one past the last key
    scaled: np.ndarray  # (B,) q·kⱼ / √d_k for the block's keys; −∞ where hidden
    block_max: float  # max of scaled (−∞: every key of the block hidden)
    m_before: float  # running max before the block (−∞ before the first visible key)
    m_after: float  # m = max(m_before, block_max)
    rescale: float  # exp(m_before − m_after): what the old ℓ and output are multiplied by
    block_sum: float  # Σ exp(scaled − m_after) over the block
    l_before: float  # running sum ℓ before the block
    l_after: float  # ℓ = rescale · l_before + block_sum
    partial: np.ndarray  # (d_v,) the output over the keys seen so far, already ÷ ℓ
    skipped: bool  # every key of the block is hidden: the kernel never visits it


@dataclass(frozen=True)
class MemoryRow:
    """Bytes for n = T = S tokens: the full score matrix vs what the tiled kernel holds at once."""

    n: int
    full_bytes: int  # n × n float32 scores
    tiled_bytes: int  # the working set of `working_set_bytes` (does not grow with n)

    @property
    def ratio(self) -> float:
        return self.full_bytes / self.tiled_bytes


@dataclass(frozen=True)
class PeakMemory:
    """This run's peak of newly allocated bytes (tracemalloc), the tiled and the standard way."""

    tiled_bytes: int  # around tiled_attention(q, k, v)
    full_bytes: int  # around attention_stages(q, k, v): every (T, S) stage kept
    scores_bytes: int  # T × S × 4: the float32 score matrix the tiled way never builds


@dataclass(frozen=True)
class FlashWalk:
    """The whole walkthrough: one focus query block by block, then every query in summary."""

    text: str
    query_labels: tuple[str, ...]  # (T,)
    key_labels: tuple[str, ...]  # (S,)
    head: int
    focus: int
    block: int  # B keys a block
    d_k: int
    d_v: int
    masked: bool  # the trace had a mask (causal and/or padding)
    steps: tuple[BlockStep, ...]  # one per key block
    output: np.ndarray  # (d_v,) the focus query's tiled output (the last step's partial)
    standard: np.ndarray  # (d_v,) the trace's softmax·V row for the focus query
    max_diff: float  # max |output − standard|
    m: np.ndarray  # (T,) every query's final running max, from the tiled kernel
    ell: np.ndarray  # (T,) every query's final running sum ℓ
    row_diff: np.ndarray  # (T,) max |tiled − standard| per query
    all_max_diff: float  # max |tiled − standard| over the whole (T, d_v) output
    memory: tuple[MemoryRow, ...]
    peak: PeakMemory | None  # None when not measured
    checked: int | None = None  # long texts: how many queries' rows were recomputed the standard way (the
    # others' row_diff is NaN); None: every query was checked against the trace's full output

    @property
    def n_blocks(self) -> int:
        return len(self.steps)


def working_set_bytes(block: int, d_k: int, d_v: int, itemsize: int = FLOAT32) -> int:
    """What one tile of the kernel holds at once, in bytes:

        B × B scores  +  Q, K tiles (B × d_k each)  +  V, O tiles (B × d_v each)  +  m, ℓ (B each)
    """
    return itemsize * (block * block + 2 * block * d_k + 2 * block * d_v + 2 * block)


def memory_table(block: int, d_k: int, d_v: int | None = None, sizes=MEMORY_SIZES) -> tuple[MemoryRow, ...]:
    """For each n: the full n × n float32 score matrix (n² × 4 bytes) vs the tiled working set."""
    d_v = d_k if d_v is None else d_v
    tiled = working_set_bytes(block, d_k, d_v)
    return tuple(MemoryRow(n, n * n * FLOAT32, tiled) for n in sizes)


def measure_peak(fn: Callable, *args, **kwargs) -> int:
    """Peak bytes allocated (tracemalloc tracks numpy's arrays) while `fn(*args, **kwargs)` runs, above
    what was allocated before it, its result included."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    try:
        fn(*args, **kwargs)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return max(0, peak - before)


def _walk_query(q: np.ndarray, k: np.ndarray, v: np.ndarray, visible: np.ndarray, block: int
                ) -> tuple[BlockStep, ...]:
    """The online softmax for one query q (d_k,) over k (S, d_k), v (S, d_v) in blocks of `block` keys.

    Per block: s = q·kⱼ / √d_k (B,); m_new = max(m, max s); rescale = exp(m − m_new);
    ℓ = rescale · ℓ + Σ exp(s − m_new); acc = rescale · acc + exp(s − m_new) · vⱼ; partial = acc / ℓ.
    """
    d_k = q.shape[0]
    m, ell = -np.inf, 0.0
    acc = np.zeros(v.shape[1])  # (d_v,) running output, not yet ÷ ℓ
    steps = []
    for index, j0 in enumerate(range(0, k.shape[0], block)):
        j1 = min(j0 + block, k.shape[0])
        scores = k[j0:j1] @ q  # (B,)  q·kⱼ
        scaled = np.where(visible[j0:j1], scores / np.sqrt(d_k), -np.inf)  # (B,)
        partial = np.divide(acc, ell, out=np.zeros_like(acc), where=ell > 0)  # (d_v,)
        if not visible[j0:j1].any():
            steps.append(BlockStep(index, j0, j1, scaled, -np.inf, m, m, 1.0, 0.0, ell, ell, partial, True))
            continue
        block_max = float(scaled.max())
        m_new = max(m, block_max)
        rescale = float(np.exp(m - m_new))  # exp(−∞) = 0 on the first visible block
        p = np.exp(scaled - m_new)  # (B,)  0 where hidden
        l_new = rescale * ell + float(p.sum())
        acc = rescale * acc + p @ v[j0:j1]  # (d_v,)
        steps.append(BlockStep(index, j0, j1, scaled, block_max, m, m_new, rescale, float(p.sum()), ell, l_new,
                               acc / l_new, False))
        m, ell = m_new, l_new
    return tuple(steps)


def flash_walk(trace: Trace, *, block: int = DEFAULT_BLOCK, focus: int = 0, head: int = 0,
               measure: bool = True) -> FlashWalk:
    """Tiled attention for `trace`'s head `head`: the focus query block by block, every query in summary
    (`attention.tiled_attention_with_stats`), both against the trace's standard softmax·V, the memory
    table at the trace's d_k and, with `measure`, this run's peak memory both ways.
    """
    if block < 1:
        raise InputError(f"the block size must be at least 1 (got {block})")
    if not 0 <= head < trace.n_heads:
        raise InputError(f"head {head + 1} does not exist: the trace has {trace.n_heads} head(s)")
    if not 0 <= focus < len(trace.query_tokens):
        raise InputError(f"query {focus + 1} does not exist: the text has {len(trace.query_tokens)} query tokens")
    hd = trace.heads[head]
    t, s = hd.weights.shape
    visible = np.ones(s, dtype=bool) if hd.mask is None else hd.mask[focus]  # (S,)
    steps = _walk_query(hd.q[focus], hd.k, hd.v, visible, block)
    output = steps[-1].partial if steps else np.zeros(hd.v.shape[1])  # (d_v,)
    standard = hd.output[focus]  # (d_v,)
    # every query at once: key blocks of B as in the walkthrough; query tiles only batch the work
    tiled, m, ell = attention.tiled_attention_with_stats(hd.q, hd.k, hd.v, block=block, mask=hd.mask,
                                                         query_block=QUERY_TILE)  # (T, d_v), (T,), (T,)
    row_diff = np.max(np.abs(tiled - hd.output), axis=1) if hd.output.size else np.zeros(t)  # (T,)
    peak = None
    if measure:
        peak = PeakMemory(
            measure_peak(attention.tiled_attention, hd.q, hd.k, hd.v, block=block, mask=hd.mask,
                         query_block=QUERY_TILE),
            measure_peak(attention.attention_stages, hd.q, hd.k, hd.v, hd.mask),
            t * s * FLOAT32)
    return FlashWalk(
        text=trace.text,
        query_labels=tuple(tk.label for tk in trace.query_tokens),
        key_labels=tuple(tk.label for tk in trace.key_tokens),
        head=head, focus=focus, block=block, d_k=hd.q.shape[1], d_v=hd.v.shape[1], masked=hd.mask is not None,
        steps=steps, output=output, standard=standard,
        max_diff=float(np.max(np.abs(output - standard), initial=0.0)),
        m=m, ell=ell, row_diff=row_diff, all_max_diff=float(np.max(row_diff, initial=0.0)),
        memory=memory_table(block, hd.q.shape[1], hd.v.shape[1]), peak=peak,
    )


def long_flash_walk(tokens, weights, *, seed: int = 0, causal: bool = False, text: str = "",
                    block: int = DEFAULT_BLOCK, focus: int = 0, checked: int = CHECKED_ROWS,
                    progress: Callable[[int, int], None] | None = None) -> FlashWalk:
    """`flash_walk` for a text too long for a full trace (head 0 of the seeded or loaded weights), never
    holding T × S: the focus query walked block by block as usual; every query's m, ℓ and output from
    `attention.tiled_attention_with_stats` in float32 (key blocks of trace.TILE_KEYS, query tiles of
    TILE_QUERIES: the block size only batches the work); the check against standard attention on `checked`
    queries spread over the text (the focus among them), each row recomputed exactly in float64:
    softmax(q_i kᵀ / √d_k) v, a (1, S) row at a time. No peak is measured (the standard way would need T × S).
    progress(rows, total) is called as rows are done: the kernel's query tiles, then each checked row.
    """
    from .trace import TILE_KEYS, TILE_QUERIES, embed_with_positions

    if block < 1:
        raise InputError(f"the block size must be at least 1 (got {block})")
    t = len(tokens)
    if not 0 <= focus < t:
        raise InputError(f"query {focus + 1} does not exist: the text has {t} query tokens")
    x = embed_with_positions(tokens, weights, seed)[2]  # (T, d_model)
    d_k, d_v = weights.d_k, weights.d_v
    q = x @ weights.w_q[:, :d_k]  # (T, d_k)  head 0's columns of the merged W_Q
    k = x @ weights.w_k[:, :d_k]  # (S, d_k)
    v = x @ weights.w_v[:, :d_v]  # (S, d_v)
    del x
    positions = np.arange(t)  # (S,)
    steps = _walk_query(q[focus], k, v, positions <= focus if causal else np.ones(t, dtype=bool), block)
    output = steps[-1].partial if steps else np.zeros(d_v)  # (d_v,)
    rows = np.unique(np.append(np.linspace(0, t - 1, min(checked, t)).round().astype(int), focus))  # (n,)
    total = t + len(rows)  # rows of the kernel, then the checked rows
    tick = None if progress is None else (lambda n: progress(n, total))
    tiled, m, ell = attention.tiled_attention_with_stats(
        q.astype(np.float32), k.astype(np.float32), v.astype(np.float32), block=TILE_KEYS, causal=causal,
        query_block=TILE_QUERIES, progress=tick)  # (T, d_v), (T,), (T,) float32
    row_diff = np.full(t, np.nan)  # (T,)  NaN: not recomputed
    standard = None
    for i in rows:
        scaled = k @ q[i] / np.sqrt(d_k)  # (S,)  one row of q kᵀ / √d_k
        if causal:
            scaled[positions > i] = -np.inf
        exact = attention.softmax(scaled) @ v  # (d_v,)  the standard way, float64
        row_diff[i] = float(np.max(np.abs(tiled[i] - exact), initial=0.0))
        if tick is not None:
            tick(1)
        if i == focus:
            standard = exact
    return FlashWalk(
        text=text, query_labels=tuple(tk.label for tk in tokens), key_labels=tuple(tk.label for tk in tokens),
        head=0, focus=focus, block=block, d_k=d_k, d_v=d_v, masked=causal, steps=steps, output=output,
        standard=standard, max_diff=float(np.max(np.abs(output - standard), initial=0.0)),
        m=m.astype(np.float64), ell=ell.astype(np.float64), row_diff=row_diff,
        all_max_diff=float(np.nanmax(row_diff)), memory=memory_table(block, d_k, d_v), peak=None,
        checked=len(rows))
