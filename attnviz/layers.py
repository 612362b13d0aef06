"""The layers around attention, in numpy alone: norms, activations, feed-forward networks, the residual sublayer.

One vocabulary for the seeded teaching model (float64) and for real checkpoints (float32): every function
computes its statistics in float64 and returns the dtype it was given, so a checkpoint's numbers stay float32
like the model's and the seeded ones stay exact.

    LayerNorm(x) = (x − mean) / √(var + ε) · γ + β               (BERT, GPT-2, the original Transformer)
    RMSNorm(x)   = x / √(mean(x²) + ε) · (offset + w)             (Llama, Qwen, Mistral, Phi-3: offset 0;
                                                                   Gemma: offset 1, i.e. (1 + w))
    FFN(x)       = act(x W₁ + b₁) W₂ + b₂                         (plain: d_model → d_ff → d_model)
    GatedFFN(x)  = (act(x W_gate) ⊙ x W_up) W_down                (SwiGLU with SiLU, GeGLU with GELU)
    Sublayer     = x + f(norm(x))  (pre-norm)  or  norm(x + f(x))  (post-norm)

Shapes: T tokens (rows), d_model, d_ff. No printing, no files, no global state.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .half import HalfMatrix

EPS = 1e-5  # LayerNorm's ε (torch's default)

#: Multiply-adds below which a product skips BLAS: OpenBLAS starts its threads for a (T, d) × (d, 4d) product,
#: and when another process holds a core their wake-ups cost ~10 ms per call (0.2 s for MiniLM's layer 2 instead
#: of 8 ms); einsum's single-threaded loop takes under a millisecond at these sizes. When BLAS runs on one
#: thread (OPENBLAS_NUM_THREADS=1, which the attnviz command sets before numpy loads) there are no threads to
#: wake and BLAS is 4–6× faster than einsum at every size, so every product goes to BLAS.
SMALL_PRODUCT = 0 if os.environ.get("OPENBLAS_NUM_THREADS") == "1" else 1 << 25


def matmul(x: np.ndarray, w) -> np.ndarray:
    """x w for x (T, d_in), w (d_in, d_out): einsum for small float32 products, BLAS (x @ w) otherwise; a
    16-bit checkpoint weight (half.HalfMatrix) block by block, never converted whole."""
    if isinstance(w, HalfMatrix):
        return w.product(x)  # (T, d_out)
    if x.dtype == np.float32 and x.shape[0] * w.size < SMALL_PRODUCT:
        return np.einsum("ti,io->to", x, w)  # (T, d_out)
    return x @ w  # (T, d_out)


# --- activations ---------------------------------------------------------------------------------

def erf(x) -> np.ndarray:
    """The error function erf(x) = 2/√π ∫₀ˣ e^(−t²) dt, to float64 precision (|error| < 1e-15).

    Uses the series with positive terms only (no cancellation):
        erf(z) = 2/√π · e^(−z²) · Σₙ 2ⁿ z^(2n+1) / (1·3·5·…·(2n+1))
    for |z| ≤ 6, and erf(±z) = ±1 beyond (1 − erf(6) ≈ 2e-17 is below float64's resolution).
    """
    x = np.asarray(x, dtype=np.float64)
    z = np.minimum(np.abs(x), 6.0)
    z2 = z * z
    term = z.copy()  # n = 0
    total = z.copy()
    for n in range(1, 400):
        term = term * (2.0 * z2 / (2 * n + 1))  # 2ⁿ z^(2n+1) / (2n+1)!!
        total = total + term
        if not np.any(term > 1e-17 * total):
            break
    out = np.minimum(2.0 / math.sqrt(math.pi) * np.exp(-z2) * total, 1.0)
    return np.where(np.isnan(x), np.nan, np.copysign(out, x))


def erfc(x) -> np.ndarray:
    """Complementary error function, relative error < 1.2e-7 everywhere (Numerical Recipes' erfcc, a
    Chebyshev fit): erfc(z) ≈ t·exp(−z² + P(t)), t = 1 / (1 + z/2), and erfc(−z) = 2 − erfc(z).
    Precise enough for float32 and one pass over the array (the float32 GELU of large FFNs uses it)."""
    z = np.abs(np.asarray(x, dtype=np.float64))
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))))
    r = t * np.exp(-z * z + poly)
    return np.where(np.asarray(x) >= 0, r, 2.0 - r)


def _float64(x) -> tuple[np.ndarray, np.dtype]:
    """(x as float64, the dtype to give back: float32 stays float32, anything else is float64)."""
    x = np.asarray(x)
    return x.astype(np.float64), np.dtype(np.float32 if x.dtype == np.float32 else np.float64)


def gelu(x) -> np.ndarray:
    """GELU(x) = x · Φ(x) = ½ x (1 + erf(x / √2)), the exact (erf) form.

    float64 input: the float64-exact series; float32 input: x · ½ erfc(−x/√2) with the one-pass erfc
    (no cancellation for negative x), rounded to float32."""
    x64, out = _float64(x)
    if out == np.float32:
        return (x64 * (0.5 * erfc(-x64 / math.sqrt(2.0)))).astype(np.float32)
    return 0.5 * x64 * (1.0 + erf(x64 / math.sqrt(2.0)))


def gelu_tanh(x) -> np.ndarray:
    """GELU, tanh form (`gelu_new`, `gelu_pytorch_tanh`, `gelu_fast`): ½x(1 + tanh(√(2/π)(x + 0.044715x³)))."""
    x64, out = _float64(x)
    return (0.5 * x64 * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x64 + 0.044715 * x64**3)))).astype(out)


def relu(x) -> np.ndarray:
    """ReLU(x) = max(x, 0)."""
    x64, out = _float64(x)
    return np.maximum(x64, 0.0).astype(out)


def _sigmoid_times(x64: np.ndarray, a: float) -> np.ndarray:
    """x · sigmoid(a·x), with sigmoid(z) = ½ (1 + tanh(z/2)): no overflow for any z, one pass."""
    return x64 * (0.5 + 0.5 * np.tanh((0.5 * a) * x64))


def silu(x) -> np.ndarray:
    """SiLU(x) = x · sigmoid(x) (Swish; the gate of SwiGLU)."""
    x64, out = _float64(x)
    return _sigmoid_times(x64, 1.0).astype(out)


def quick_gelu(x) -> np.ndarray:
    """x · sigmoid(1.702 x)."""
    x64, out = _float64(x)
    return _sigmoid_times(x64, 1.702).astype(out)


#: The config names of the activations attnviz knows (`hidden_act`, `hidden_activation`, `activation`).
ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "gelu": gelu, "gelu_new": gelu_tanh, "gelu_pytorch_tanh": gelu_tanh, "gelu_fast": gelu_tanh,
    "quick_gelu": quick_gelu, "relu": relu, "silu": silu, "swish": silu,
}


def activation(name: str) -> Callable[[np.ndarray], np.ndarray]:
    """The activation called `name`; ValueError naming the known ones otherwise."""
    if name not in ACTIVATIONS:
        raise ValueError(f"activation {name!r} is not supported; attnviz knows {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]


# --- norms ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NormTrace:
    """One LayerNorm or RMSNorm, every step kept. T tokens (rows), d_model numbers each."""

    input: np.ndarray  # (T, d_model) what it normalises
    mean: np.ndarray | None  # (T,) each row's mean, before (LayerNorm); None for RMSNorm, which does not centre
    var: np.ndarray  # (T,) each row's variance (1/d_model) | RMSNorm: each row's mean square mean(x²)
    normed: np.ndarray  # (T, d_model) (input − mean) / √(var + ε)  |  input / √(mean(x²) + ε)
    output: np.ndarray  # (T, d_model) normed · γ + β  |  normed · (offset + w)
    gamma: np.ndarray  # (d_model,) the learned scale as stored (RMSNorm: w)
    beta: np.ndarray | None  # (d_model,) LayerNorm's shift; None for RMSNorm
    eps: float
    kind: str = "layer"  # "layer" (LayerNorm) or "rms" (RMSNorm)
    offset: float = 0.0  # RMSNorm's scale is offset + w: 0 for Llama, 1 for Gemma's (1 + w)

    @property
    def rms(self) -> np.ndarray:
        """(T,) each input row's root mean square √(mean(x²)) (RMSNorm's statistic)."""
        return np.sqrt(self.var) if self.mean is None else np.sqrt(self.var + self.mean**2)

    @property
    def scale(self) -> np.ndarray:
        """(d_model,) what `normed` is multiplied by: γ, or offset + w."""
        return self.gamma + self.offset if self.kind == "rms" else self.gamma

    @property
    def mean_after(self) -> np.ndarray:
        """(T,) each output row's mean: ≈ 0 when β = 0."""
        return self.output.mean(axis=-1)

    @property
    def var_after(self) -> np.ndarray:
        """(T,) each output row's variance: ≈ 1 (var / (var + ε)) when γ = 1."""
        return self.output.var(axis=-1)


def layer_norm_stages(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = EPS) -> NormTrace:
    """LayerNorm of each row of x (T, d_model), every step kept; statistics and `normed` in float64, the output
    in x's dtype (float32 for a checkpoint, like the model's).

        mean = Σ x / d_model;  var = Σ (x − mean)² / d_model (biased, like torch)
        output = (x − mean) / √(var + ε) · γ + β
    """
    x64, out = _float64(x)
    mean = x64.mean(axis=-1)  # (T,)
    var = np.square(x64 - mean[..., None]).mean(axis=-1)  # (T,)
    normed = (x64 - mean[..., None]) / np.sqrt(var[..., None] + eps)  # (T, d_model)
    output = (normed * gamma + beta).astype(out)  # (T, d_model)
    keep = np.float32 if out == np.float32 else np.float64
    return NormTrace(x if out == np.float32 else x64, mean, var, normed, output, np.asarray(gamma, dtype=keep),
                     np.asarray(beta, dtype=keep), float(eps))


def layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = EPS) -> np.ndarray:
    """LayerNorm(x) = (x − mean) / √(var + ε) · γ + β, each token (row) on its own."""
    return layer_norm_stages(x, gamma, beta, eps).output


def rms_norm_stages(x: np.ndarray, weight: np.ndarray, eps: float, offset: float = 0.0) -> NormTrace:
    """RMSNorm of each row of x (T, d_model) (also each head's row of q or k: (…, d_k)), every step kept.

        ms = Σ x² / d;  normed = x / √(ms + ε);  output = normed · (offset + w)
    offset 0: Llama, Mistral, Qwen, Phi-3 (w starts at 1); offset 1: Gemma, whose w starts at 0.
    Statistics in float64; the output in x's dtype.
    """
    x64, out = _float64(x)
    ms = np.square(x64).mean(axis=-1)  # (T,)
    normed = x64 / np.sqrt(ms[..., None] + eps)  # (T, d_model)
    w = np.asarray(weight, dtype=np.float64)
    output = (normed * (offset + w)).astype(out)  # (T, d_model)
    keep = np.float32 if out == np.float32 else np.float64
    return NormTrace(x if out == np.float32 else x64, None, ms, normed, output, np.asarray(weight, dtype=keep),
                     None, float(eps), "rms", float(offset))


def rms_norm(x: np.ndarray, weight: np.ndarray, eps: float, offset: float = 0.0) -> np.ndarray:
    """RMSNorm(x) = x / √(mean(x²) + ε) · (offset + w)."""
    return rms_norm_stages(x, weight, eps, offset).output


@dataclass(frozen=True)
class Norm:
    """A norm's parameters: LayerNorm (gamma, beta) or RMSNorm (gamma = w, beta None, offset)."""

    gamma: np.ndarray  # (d,)
    beta: np.ndarray | None = None  # (d,) LayerNorm only
    eps: float = EPS
    kind: str = "layer"  # "layer" or "rms"
    offset: float = 0.0  # RMSNorm: scale = offset + w

    def __call__(self, x: np.ndarray) -> NormTrace:
        if self.kind == "rms":
            return rms_norm_stages(x, self.gamma, self.eps, self.offset)
        beta = np.zeros_like(self.gamma) if self.beta is None else self.beta
        return layer_norm_stages(x, self.gamma, beta, self.eps)


# --- feed-forward networks -----------------------------------------------------------------------

@dataclass(frozen=True)
class BlockParams:
    """A block's parameters besides attention: the FFN and the norms (float64 when seeded; a checkpoint's are
    float32, and `activation` is its config's name, e.g. gelu_new or silu).

    Plain FFN: act(x W₁ + b₁) W₂ + b₂.  Gated FFN (w_up given): (act(x W₁) ⊙ x W_up) W₂, with W₁ the gate and
    W₂ the down projection (biases None when the model has none). Norms: `gammas`/`betas` one per norm (betas
    None for RMSNorm), `norm` "layer" or "rms", `norm_offset` Gemma's 1 in (1 + w)."""

    w1: np.ndarray  # (d_model, d_ff)  W₁, or W_gate
    b1: np.ndarray | None  # (d_ff,)
    w2: np.ndarray  # (d_ff, d_model)  W₂, or W_down
    b2: np.ndarray | None  # (d_model,)
    gammas: tuple[np.ndarray, ...]  # one γ (d_model,) per norm: 2 in an encoder block, 3 in a decoder one
    betas: tuple[np.ndarray | None, ...]  # one β (d_model,) per norm (None for RMSNorm)
    activation: str = "gelu"
    eps: float = EPS
    w_up: np.ndarray | None = None  # (d_model, d_ff) the gated FFN's up projection; None for a plain FFN
    norm: str = "layer"  # "layer" or "rms"
    norm_offset: float = 0.0

    @property
    def d_model(self) -> int:
        return self.w1.shape[0]

    @property
    def d_ff(self) -> int:
        return self.w1.shape[1]

    @property
    def gated(self) -> bool:
        return self.w_up is not None

    def norms(self) -> tuple[Norm, ...]:
        """The block's norms, in order, as callables."""
        return tuple(Norm(g, b, self.eps, self.norm, self.norm_offset) for g, b in zip(self.gammas, self.betas))


@dataclass(frozen=True)
class FFNTrace:
    """The position-wise feed-forward network on each token: d_model → d_ff → d_model.

    Gated (SwiGLU/GeGLU): hidden is the gate x W_gate, activated act(gate), up x W_up, product act(gate) ⊙ up."""

    input: np.ndarray  # (T, d_model)
    hidden: np.ndarray  # (T, d_ff) x W₁ + b₁ (or x W_gate), before the activation
    activated: np.ndarray  # (T, d_ff) act(hidden)
    output: np.ndarray  # (T, d_model) activated W₂ + b₂  |  gated: product W_down
    activation: str
    up: np.ndarray | None = None  # (T, d_ff) gated: x W_up
    product: np.ndarray | None = None  # (T, d_ff) gated: activated ⊙ up

    @property
    def gated(self) -> bool:
        return self.up is not None


def _plus(y: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    return y if b is None else y + b


def ffn_trace(x: np.ndarray, params: BlockParams) -> FFNTrace:
    """FFN(x) = act(x W₁ + b₁) W₂ + b₂, or the gated (act(x W_gate) ⊙ x W_up) W_down, every stage kept, in x's
    dtype. W₁, W_up (d_model, d_ff) and W₂ (d_ff, d_model) as `x @ W` takes them."""
    act = activation(params.activation)
    hidden = _plus(matmul(x, params.w1), params.b1)  # (T, d_ff)
    activated = act(hidden)  # (T, d_ff)
    if params.w_up is None:
        output = _plus(matmul(activated, params.w2), params.b2)  # (T, d_model)
        return FFNTrace(x, hidden, activated, output, params.activation)
    up = matmul(x, params.w_up)  # (T, d_ff)
    product = activated * up  # (T, d_ff)
    output = _plus(matmul(product, params.w2), params.b2)  # (T, d_model)
    return FFNTrace(x, hidden, activated, output, params.activation, up, product)


def ffn(x: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray,
        activation: str = "gelu") -> np.ndarray:
    """FFN(x) = act(x W₁ + b₁) W₂ + b₂: x (T, d_model) → (T, d_ff) → (T, d_model), token by token."""
    return ffn_trace(x, BlockParams(w1, b1, w2, b2, (), (), activation)).output


# --- the residual sublayer -----------------------------------------------------------------------

@dataclass(frozen=True)
class Sublayer:
    """One residual sublayer (annotated-transformer's SublayerConnection), every piece kept.

    pre-norm:  norm = N(x);  residual = x + f(norm.output);  output = residual
    post-norm: residual = x + f(x);  norm = N(residual);  output = norm.output
    Gemma's sandwich adds a norm on f's output before the residual: residual = x + N'(f(N(x))) (`post`)."""

    input: np.ndarray  # (T, d_model) x
    norm: NormTrace  # pre-norm: N(x); post-norm: N(residual)
    inner: object  # what f returned (a Trace, an FFNTrace, …)
    residual: np.ndarray  # (T, d_model)
    post: NormTrace | None = None  # Gemma: the norm of f's output, before the residual
    norm_first: bool = True

    @property
    def output(self) -> np.ndarray:
        return self.residual if self.norm_first else self.norm.output


def sublayer(x: np.ndarray, f: Callable[[np.ndarray], tuple[object, np.ndarray]], norm: Norm, *,
             norm_first: bool, post: Norm | None = None) -> Sublayer:
    """x plus f of x, normed before (pre-norm) or after (post-norm); f returns (its record, its output (T, d))."""
    if norm_first:
        pre = norm(x)
        inner, fx = f(pre.output)
        post_trace = None if post is None else post(fx)
        added = fx if post_trace is None else post_trace.output
        return Sublayer(x, pre, inner, x + added.astype(x.dtype), post_trace, True)
    inner, fx = f(x)
    residual = x + fx.astype(x.dtype)  # (T, d_model)
    return Sublayer(x, norm(residual), inner, residual, None, False)
