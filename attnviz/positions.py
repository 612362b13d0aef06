"""Where a token is: sinusoidal positions, rotary positions (RoPE and its scalings), T5's relative bias.

Shape legend (as in attention.py):
    T        query tokens (positions m)
    S        key tokens (positions n)
    h        heads
    d_model  width of a token vector
    d_k      width of one head's query/key vectors (head_dim)
    r        rotary_dim: the first r of the d_k dims are rotated (r = d_k unless partial_rotary_factor < 1)

RoPE (Su et al. 2021) rotates each pair of query/key dims (i, i + r/2) by the angle θ_{m,i} = m · inv_freq_i,
inv_freq_i = 1 / base^(2i / r); then q_m · k_n depends on m − n only. The scalings (linear, dynamic NTK,
Llama 3, YaRN, LongRoPE) change inv_freq, and YaRN/LongRoPE also multiply cos and sin by an attention factor.

Precision, so that real checkpoints match transformers (eager, float32): transformers computes inv_freq in
float32 (torch.arange(...).float(), base ** …), the angles m · inv_freq as a float32 product, and cos/sin in
float32. This module repeats every float32 rounding step of transformers' formulas, in the same order. The
one step it cannot copy bit for bit is torch's vectorised float32 pow (SLEEF, error ≤ 1 ulp): here pow is
computed in float64 and rounded to float32 (correctly rounded), so inv_freq agrees with transformers to
within 2 ulp (about 2.4e-7 relative) and exactly in most entries. Arrays are returned as float64 holding
those float32 values. The angle product is rounded to float32 too (rope_angles' `dtype`); pass
dtype=np.float64 for the exact rotation (the relative-position property to 1e-12).

Everything here is a pure function of its arguments: numpy only, no printing, no files, no global state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

F32 = np.float32
SCALINGS = ("default", "linear", "dynamic", "llama3", "yarn", "longrope")


def sinusoidal(n_positions: int, d_model: int) -> np.ndarray:
    """Sinusoidal positions (Vaswani et al. 2017), shape (n_positions, d_model), float64.

    P[pos, 2i]   = sin(pos / 10000^(2i / d_model))
    P[pos, 2i+1] = cos(pos / 10000^(2i / d_model)),   pos = 0, 1, …
    """
    pos = np.arange(n_positions, dtype=np.float64)[:, None]  # (T, 1)
    two_i = np.arange(0, d_model, 2, dtype=np.float64)[None, :]  # (1, ceil(d_model/2))
    angle = pos / np.power(10000.0, two_i / d_model)  # (T, ceil(d_model/2))
    p = np.zeros((n_positions, d_model), dtype=np.float64)
    p[:, 0::2] = np.sin(angle)
    p[:, 1::2] = np.cos(angle[:, : d_model // 2])
    return p


# ---------------------------------------------------------------- RoPE


@dataclass(frozen=True, eq=False)
class Rope:
    """One rotary embedding: its frequencies and what scaling made them (from `rope_from_config`).

    inv_freq (r/2,) float64 holds float32 values, the ones transformers uses for a sequence no longer than
    the model's original length. `dynamic` and `longrope` change them with the sequence length: ask
    `rope_inv_freq(rope, seq_len)`. attention_factor multiplies cos and sin (1.0 except yarn/longrope).
    """

    head_dim: int
    rotary_dim: int
    base: float
    inv_freq: np.ndarray
    attention_factor: float = 1.0
    scaling: str = "default"
    factor: float = 1.0
    max_position_embeddings: int | None = None  # dynamic: frequencies change for sequences longer than this
    original_max_position_embeddings: int | None = None  # longrope: long factors past this length
    long_inv_freq: np.ndarray | None = None  # longrope: inv_freq with the long factors


def _pow32(base, exponent: np.ndarray) -> np.ndarray:
    """base^exponent as transformers' float32 pow: both rounded to float32, the power correctly rounded."""
    return (np.float64(F32(base)) ** np.asarray(exponent, dtype=F32).astype(np.float64)).astype(F32)


def _pos_freqs(base, dim: int) -> np.ndarray:
    """base^(2i / dim), i = 0 … dim/2 − 1, in float32: `base ** (torch.arange(0, dim, 2).float() / dim)`."""
    return _pow32(base, np.arange(0, dim, 2, dtype=F32) / F32(dim))  # (r/2,)


def _default(base, dim: int) -> np.ndarray:
    """inv_freq_i = 1 / base^(2i / dim), float32."""
    return F32(1.0) / _pos_freqs(base, dim)  # (r/2,)


def _dynamic(base: float, dim: int, factor: float, max_pos: int, seq_len: int | None) -> np.ndarray:
    """Dynamic NTK: base' = base · (factor · L / max_pos − (factor − 1))^(dim / (dim − 2)), L = max(seq_len, max_pos).

    For L ≤ max_pos transformers keeps the frequencies it made at load time (Python float arithmetic, base' =
    base); past it, it recomputes them from the sequence length as a float32 tensor, repeated here.
    """
    if seq_len is None or seq_len <= max_pos:
        new_base = base * ((factor * max_pos / max_pos) - (factor - 1)) ** (dim / (dim - 2))
        return _default(new_base, dim)
    ratio = F32(factor) * F32(seq_len) / F32(max_pos) - F32(factor - 1)  # float32 tensor arithmetic
    new_base = F32(base) * _pow32(ratio, F32(dim / (dim - 2)))
    return _default(new_base, dim)


def _llama3(base: float, dim: int, factor: float, low: float, high: float, old_len: float) -> np.ndarray:
    """Llama 3.1: wavelengths 2π / inv_freq longer than old_len / low are divided by factor, those shorter than
    old_len / high kept, and the ones between blended: s = (old_len / λ − low) / (high − low),
    inv = (1 − s) · inv / factor + s · inv. float32, in transformers' order of operations."""
    inv_freq = _default(base, dim)  # (r/2,)
    wavelen = (F32(1.0) / inv_freq) * F32(2 * math.pi)  # `2π / t` is t.reciprocal() · 2π in torch
    low_wavelen, high_wavelen = F32(old_len / low), F32(old_len / high)
    scaled = np.where(wavelen > low_wavelen, inv_freq / F32(factor), inv_freq)  # (r/2,)
    smooth = ((F32(1.0) / wavelen) * F32(old_len) - F32(low)) / F32(high - low)  # (r/2,)
    smoothed = (F32(1.0) - smooth) * scaled / F32(factor) + smooth * scaled  # (r/2,)
    medium = ~(wavelen < high_wavelen) & ~(wavelen > low_wavelen)
    return np.where(medium, smoothed, scaled).astype(F32)


def _yarn(base: float, dim: int, factor: float, original: int, beta_fast: float, beta_slow: float,
          truncate: bool) -> np.ndarray:
    """YaRN (Peng et al. 2023): interpolate (÷ factor) the low frequencies, keep (extrapolate) the high ones,
    with a linear ramp between the dims that turn beta_fast and beta_slow times over `original` positions."""

    def correction_dim(rotations: float) -> float:
        return (dim * math.log(original / (rotations * 2 * math.pi))) / (2 * math.log(base))

    low, high = correction_dim(beta_fast), correction_dim(beta_slow)
    if truncate:
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, dim - 1)
    if low == high:
        high += 0.001  # transformers: prevent a division by zero
    pos_freqs = _pos_freqs(base, dim)  # (r/2,)
    extrapolation = F32(1.0) / pos_freqs  # (r/2,)
    interpolation = F32(1.0) / (F32(factor) * pos_freqs)  # (r/2,)
    ramp = np.clip((np.arange(dim // 2, dtype=F32) - F32(low)) / F32(high - low), 0, 1)  # (r/2,)
    keep = F32(1.0) - ramp  # (r/2,)  1 = extrapolate (high frequency), 0 = interpolate
    return (interpolation * (F32(1.0) - keep) + extrapolation * keep).astype(F32)


def _longrope(base: float, dim: int, ext_factors) -> np.ndarray:
    """LongRoPE (Phi-3): inv_freq_i = 1 / (ext_i · base^(2i / dim)), one rescale factor per frequency."""
    return F32(1.0) / (np.asarray(ext_factors, dtype=F32) * _pos_freqs(base, dim))  # (r/2,)


def _number(params: dict, key: str, where: str, default=None, *, positive: bool = True) -> float:
    """params[key] as a float (or `default` when absent or null); ValueError naming the key when it is bad."""
    value = params.get(key)
    if value is None:
        if default is None:
            raise ValueError(f"{where}.{key} is missing; this RoPE scaling needs it")
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or (
            positive and value <= 0):
        raise ValueError(f"{where}.{key} must be a {'positive ' if positive else ''}number, got {value!r}")
    return float(value)


def _rope_params(config: dict, local: bool) -> tuple[dict, str, bool]:
    """The RoPE settings of one layer kind, as transformers standardizes them: (params, where, nested)."""
    rope_parameters, rope_scaling = config.get("rope_parameters"), config.get("rope_scaling")
    for key, value in (("rope_parameters", rope_parameters), ("rope_scaling", rope_scaling)):
        if value is not None and not isinstance(value, dict):
            raise ValueError(f"{key} must be an object (a dict), got {value!r}")
    kinds = set(config.get("layer_types") or ()) | {"full_attention", "sliding_attention"}
    if rope_parameters and any(key in kinds for key in rope_parameters):  # nested by layer type (Gemma 3)
        kind = "sliding_attention" if local else "full_attention"
        params = dict(rope_parameters.get(kind) or {})
        if rope_scaling and not local:
            params.update(rope_scaling)  # Gemma 3: rope_scaling is for the global layers only
        return params, f"rope_parameters.{kind}", True
    if local:  # Gemma 3's sliding layers: plain RoPE on their own base
        return {}, "rope_parameters.sliding_attention", False
    return dict(rope_scaling or rope_parameters or {}), "rope_scaling" if rope_scaling else "rope_parameters", False


def rope_from_config(config: dict, head_dim: int, *, base_key: str = "rope_theta", local: bool = False,
                     default_base: float = 10000.0) -> Rope:
    """The Rope of a Hugging Face config.json (a dict), read as transformers reads it.

    Keys: rope_theta (default `default_base`, 10000), partial_rotary_factor (default 1), rope_scaling or the
    newer rope_parameters (rope_type, or the legacy "type"; its own rope_theta/partial_rotary_factor win over
    the top-level ones), max_position_embeddings and original_max_position_embeddings (a top-level one wins,
    as for Phi-3). Types: default, linear (factor), dynamic (factor; frequencies depend on the sequence
    length), llama3 (factor, low_freq_factor, high_freq_factor), yarn (factor, beta_fast=32, beta_slow=1,
    mscale, mscale_all_dim, attention_factor, truncate=True), longrope (short_factor, long_factor,
    factor, attention_factor); "su", and a "yarn" that carries short/long factors, are Phi-3's old names
    for longrope.

    `local=True` is a Gemma 3 sliding-window layer: its base is rope_local_base_freq (or `base_key` if
    given; default 10000) and it has no scaling, or it is the "sliding_attention" entry of a rope_parameters
    nested by layer type (without local, the "full_attention" entry). The Llama-family "default" RoPE of
    transformers ignores partial_rotary_factor; their configs never set it, so it is read for every family.
    Raises ValueError naming the key for an unknown type or a bad value.
    """
    params, where, nested = _rope_params(config, local)
    if local and base_key == "rope_theta":
        base_key = "rope_local_base_freq"
    base = _number(params, "rope_theta", where, _number(config, base_key, "config", float(default_base)))
    partial = _number(params, "partial_rotary_factor", where, _number(config, "partial_rotary_factor", "config", 1.0))
    kind = params.get("rope_type", params.get("type", "default"))
    if kind == "su" or (kind == "yarn" and "long_factor" in params and "short_factor" in params):
        kind = "longrope"  # Phi-3's legacy names (transformers' Phi3Config renames them)
    if kind not in SCALINGS:
        raise ValueError(f"{where}.rope_type {kind!r} is not supported (supported: {', '.join(SCALINGS)})")
    if isinstance(head_dim, bool) or not isinstance(head_dim, (int, np.integer)) or head_dim < 2:
        raise ValueError(f"head_dim must be an integer ≥ 2, got {head_dim!r}")
    if partial > 1:
        raise ValueError(f"partial_rotary_factor must be in (0, 1], got {partial!r}")
    dim = int(head_dim * partial)
    if dim < 2 or dim % 2:
        raise ValueError(f"the rotary width int(head_dim · partial_rotary_factor) = int({head_dim} · {partial}) = "
                         f"{dim} must be even and ≥ 2")
    params["rope_type"] = kind
    max_pos = config.get("max_position_embeddings")
    if kind in ("llama3", "yarn", "longrope"):
        top = config.get("original_max_position_embeddings")
        if top is not None and not nested:
            params["original_max_position_embeddings"] = top  # transformers: the top-level value wins (Phi-3)
        params.setdefault("original_max_position_embeddings", max_pos)
    rope = dict(head_dim=int(head_dim), rotary_dim=dim, base=base, scaling=kind)
    if kind == "default":
        return Rope(inv_freq=_f64(_default(base, dim)), **rope)
    if kind == "linear":
        factor = _number(params, "factor", where)
        return Rope(inv_freq=_f64(_default(base, dim) / F32(factor)), factor=factor, **rope)
    if kind == "dynamic":
        factor = _number(params, "factor", where)
        max_pos = int(_number(config, "max_position_embeddings", "config"))
        if dim <= 2:
            raise ValueError(f"{where}: dynamic RoPE needs a rotary width above 2 (its exponent is dim / (dim − 2))")
        return Rope(inv_freq=_f64(_dynamic(base, dim, factor, max_pos, None)), factor=factor,
                    max_position_embeddings=max_pos, **rope)
    original = _number(params, "original_max_position_embeddings", where)
    if kind == "llama3":
        factor = _number(params, "factor", where)
        low = _number(params, "low_freq_factor", where)
        high = _number(params, "high_freq_factor", where)
        if high <= low:
            raise ValueError(f"{where}.high_freq_factor ({high:g}) must be above low_freq_factor ({low:g})")
        return Rope(inv_freq=_f64(_llama3(base, dim, factor, low, high, original)), factor=factor, **rope)
    factor = params.get("factor")
    factor = _number(params, "factor", where) if factor is not None else (
        _number(config, "max_position_embeddings", "config") / original)
    attention_factor = params.get("attention_factor")
    if attention_factor is not None:
        attention_factor = _number(params, "attention_factor", where)
    if kind == "yarn":
        if attention_factor is None:
            mscale, mscale_all_dim = params.get("mscale"), params.get("mscale_all_dim")
            attention_factor = (_yarn_mscale(factor, mscale) / _yarn_mscale(factor, mscale_all_dim)
                                if mscale and mscale_all_dim else _yarn_mscale(factor))
        inv_freq = _yarn(base, dim, factor, int(original), params.get("beta_fast") or 32,
                         params.get("beta_slow") or 1, bool(params.get("truncate", True)))
        return Rope(inv_freq=_f64(inv_freq), attention_factor=float(attention_factor), factor=factor, **rope)
    factors = {}
    for key in ("short_factor", "long_factor"):
        value = params.get(key)
        if not isinstance(value, (list, tuple)) or len(value) != dim // 2 or not all(
                isinstance(x, (int, float)) and not isinstance(x, bool) and x > 0 for x in value):
            raise ValueError(f"{where}.{key} must be a list of {dim // 2} positive numbers (rotary width / 2)")
        factors[key] = value
    if attention_factor is None:
        attention_factor = 1.0 if factor <= 1.0 else math.sqrt(1 + math.log(factor) / math.log(original))
    return Rope(inv_freq=_f64(_longrope(base, dim, factors["short_factor"])), attention_factor=float(attention_factor),
                factor=factor, original_max_position_embeddings=int(original),
                long_inv_freq=_f64(_longrope(base, dim, factors["long_factor"])), **rope)


def _yarn_mscale(scale: float, mscale: float = 1) -> float:
    """YaRN's attention temperature: 0.1 · mscale · ln(scale) + 1 (1 when scale ≤ 1)."""
    return 1.0 if scale <= 1 else 0.1 * mscale * math.log(scale) + 1.0


def _f64(a: np.ndarray) -> np.ndarray:
    """A read-only float64 copy (the frozen Rope shares it)."""
    out = np.asarray(a, dtype=np.float64).copy()
    out.setflags(write=False)
    return out


def rope_inv_freq(rope: Rope, seq_len: int | None = None) -> np.ndarray:
    """inv_freq (r/2,) float64 for one forward pass over `seq_len` tokens (transformers' dynamic_rope_update).

    dynamic: recomputed from seq_len when seq_len > max_position_embeddings, else the load-time ones.
    longrope: the long factors when seq_len > original_max_position_embeddings, else the short ones.
    """
    if seq_len is not None and rope.scaling == "dynamic" and seq_len > rope.max_position_embeddings:
        return _f64(_dynamic(rope.base, rope.rotary_dim, rope.factor, rope.max_position_embeddings, int(seq_len)))
    if seq_len is not None and rope.scaling == "longrope" and seq_len > rope.original_max_position_embeddings:
        return rope.long_inv_freq
    return rope.inv_freq


def rope_angles(positions: np.ndarray, rope: Rope, seq_len: int | None = None, *, dtype: type = np.float32
                ) -> np.ndarray:
    """θ_{m,i} = m · inv_freq_i, shape (T, r/2), float64.

    positions (T,) int: the tokens' positions m. seq_len (default max(positions) + 1, as transformers
    takes it) picks the dynamic/longrope frequencies. dtype=np.float32 rounds m and the product to float32
    as transformers does; np.float64 keeps the exact product.
    """
    m = np.asarray(positions).reshape(-1)  # (T,)
    if seq_len is None:
        seq_len = int(m.max()) + 1 if m.size else 0
    inv_freq = rope_inv_freq(rope, seq_len)  # (r/2,)
    if np.dtype(dtype) == np.float32:
        return (m.astype(F32)[:, None] * inv_freq.astype(F32)[None, :]).astype(np.float64)  # (T, r/2)
    return m.astype(np.float64)[:, None] * inv_freq[None, :]  # (T, r/2)


def apply_rope(x: np.ndarray, angles: np.ndarray, attention_factor: float = 1.0, *, interleaved: bool = False
               ) -> np.ndarray:
    """Rotate the first r dims of x by the angles; x (…, T, d_k), angles (T, r/2) → (…, T, d_k).

    Half-split (transformers, every Llama-style family): dims i and i + r/2 form a pair,
        cos = concat(cos θ, cos θ) · attention_factor,  sin likewise                   (T, r)
        rotated = x · cos + rotate_half(x) · sin,  rotate_half(x) = concat(−x₂, x₁)  (x₁, x₂ the two halves)
    so the pair (a, b) becomes (a cos θ − b sin θ, b cos θ + a sin θ). interleaved=True pairs (2i, 2i + 1)
    instead (GPT-J). The dims past r pass through unchanged (partial rotary). float32 x is computed in
    float32 with cos/sin rounded to float32 first, exactly as transformers; anything else in float64.
    """
    x = np.asarray(x)
    dt = np.dtype(F32) if x.dtype == np.float32 else np.dtype(np.float64)
    x = x.astype(dt, copy=False)  # (…, T, d_k)
    half = angles.shape[-1]
    r = 2 * half
    if r > x.shape[-1] or angles.shape[0] != x.shape[-2]:
        raise ValueError(f"angles {angles.shape} do not fit x {x.shape}: need (T, r/2) with r ≤ d_k")
    cos = np.cos(angles).astype(dt) * dt.type(attention_factor)  # (T, r/2)
    sin = np.sin(angles).astype(dt) * dt.type(attention_factor)  # (T, r/2)
    x_rot, x_pass = x[..., :r], x[..., r:]  # (…, T, r), (…, T, d_k − r)
    if interleaved:
        cos, sin = np.repeat(cos, 2, axis=-1), np.repeat(sin, 2, axis=-1)  # (T, r)  c0 c0 c1 c1 …
        turned = np.stack((-x_rot[..., 1::2], x_rot[..., 0::2]), axis=-1).reshape(x_rot.shape)  # (…, T, r)
    else:
        cos, sin = np.concatenate((cos, cos), axis=-1), np.concatenate((sin, sin), axis=-1)  # (T, r)
        turned = np.concatenate((-x_rot[..., half:], x_rot[..., :half]), axis=-1)  # (…, T, r)  rotate_half
    rotated = x_rot * cos + turned * sin  # (…, T, r)
    return np.concatenate((rotated, x_pass), axis=-1)  # (…, T, d_k)


def rope_pairs(rope: Rope, *, interleaved: bool = False) -> list[tuple[int, int]]:
    """The dimension pairs rotated together, pair i turning at frequency inv_freq_i: (i, i + r/2), or (2i, 2i + 1)."""
    half = rope.rotary_dim // 2
    return [(2 * i, 2 * i + 1) if interleaved else (i, i + half) for i in range(half)]


# ---------------------------------------------------------------- T5 relative position bias


def relative_positions(t: int, s: int | None = None, offset: int = 0) -> np.ndarray:
    """n − m for query position m = i + offset and key position n = j, shape (T, S) int64 (T5's compute_bias)."""
    s = t if s is None else s
    return np.arange(s, dtype=np.int64)[None, :] - (np.arange(t, dtype=np.int64)[:, None] + offset)  # (T, S)


def relative_position_bucket(relative_position: np.ndarray, bidirectional: bool, num_buckets: int = 32,
                             max_distance: int = 128) -> np.ndarray:
    """T5's bucket of each key − query offset, same shape, int64 in [0, num_buckets); bit for bit transformers'.

    bidirectional (encoder): half the buckets for keys after the query (offset > 0), half for the rest,
    on |offset|; unidirectional (decoder): only offsets ≤ 0 count, on −offset (later keys fall in bucket 0).
    Within a half of n buckets, with e = n // 2:
        d < e   → bucket d                                     (exact, one bucket per distance)
        d ≥ e   → min(e + ⌊ln(d / e) / ln(max_distance / e) · (n − e)⌋, n − 1)   (logarithmic)
    The log part is computed in float32 and truncated, as transformers does.
    """
    rel = np.asarray(relative_position, dtype=np.int64)
    buckets = np.zeros(rel.shape, dtype=np.int64)
    if bidirectional:
        num_buckets //= 2
        buckets += (rel > 0).astype(np.int64) * num_buckets  # keys after the query: the upper half
        distance = np.abs(rel)
    else:
        distance = -np.minimum(rel, 0)
    max_exact = num_buckets // 2
    is_small = distance < max_exact
    safe = np.where(is_small, max_exact, distance).astype(F32)  # log(0) is never taken (those are small)
    log_ratio = np.log(safe / F32(max_exact)) / F32(math.log(max_distance / max_exact))  # float32, like torch
    large = max_exact + (log_ratio * F32(num_buckets - max_exact)).astype(np.int64)  # truncation toward 0
    large = np.minimum(large, num_buckets - 1)
    return buckets + np.where(is_small, distance, large)


def t5_position_bias(buckets: np.ndarray, table: np.ndarray) -> np.ndarray:
    """bias[head, i, j] = table[buckets[i, j], head]; buckets (T, S), table (num_buckets, h) → (h, T, S)."""
    return np.asarray(table)[np.asarray(buckets)].transpose(2, 0, 1)  # (T, S, h) → (h, T, S)
