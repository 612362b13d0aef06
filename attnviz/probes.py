"""A checkpoint's heads surveyed, its attention rolled out and its residual stream read by the logit lens.

Runs attnviz.models (one forward pass per input) and hands the arrays to attnviz.analysis; returns typed
records for the renderers and the JSON export:

    survey(model, text, *, n=20, seed=0) -> Survey     every layer × head scored (SCORES), induction on a
                                                       seeded repeated sequence (a second forward pass)
    rollout(model, text, *, weigh="attention", image=None) -> Rollout     R_l for every layer, and each
                                                       layer's mixing (image: a vision model's [CLS] + patches)
    lens(model, text, *, top=5) -> Lens                       every layer's top-k next tokens (decoders)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import analysis, attention
from .errors import InputError, ModelError
from .models import Model, encode, hidden_states, model_traces
from .tokens import Token, visible
from .trace import check_length


def _weights(traces) -> np.ndarray:
    """(L, h, T, T) float64: every layer's and head's attention probabilities."""
    return np.stack([np.stack([hd.weights for hd in tr.heads]) for tr in traces]).astype(np.float64)


# --- survey -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Survey:
    """Every head's scores: scores[name] is (L, h) (layers from 0, heads from 0 here; shown from 1)."""

    model: str
    architecture: str
    text: str
    tokens: tuple[Token, ...]
    scores: dict[str, np.ndarray]
    induction_ids: tuple[int, ...]  # the whole induction input: [specials] s s [specials]
    induction_n: int
    induction_seed: int


def induction_ids(model: Model, n: int, seed: int) -> tuple[np.ndarray, int]:
    """(ids, start): the model's special tokens around n distinct random token ids repeated twice, the first
    copy beginning at `start`. The ids are drawn with np.random.default_rng(seed) from the embedding rows that
    are not special tokens; the special tokens are the ones the tokenizer adds to a one-word text."""
    probe = encode(model, "a")
    words = [k for k, tk in enumerate(probe) if not tk.special]
    before = [tk.id for tk in probe[:words[0]]] if words else []
    after = [tk.id for tk in probe[words[-1] + 1:]] if words else []
    banned = {tk.id for tk in probe if tk.special} | {model.arch.pad_id}
    pool = np.array([i for i in range(model.arch.vocab) if i not in banned])
    if n > len(pool):
        raise InputError(f"--repeat {n} is more than the {len(pool)} ordinary tokens of {model.name}: give fewer")
    seq = np.random.default_rng(seed).choice(pool, size=n, replace=False)  # (n,) distinct
    ids = np.concatenate([before, seq, seq, after]).astype(np.int64)  # (T,)
    if len(ids) > model.arch.position_limit:
        raise InputError(f"two copies of {n} tokens do not fit in {model.name}'s {model.arch.position_limit} "
                         "positions: give a smaller --repeat")
    return ids, len(before)


def survey(model: Model, text: str, *, n: int = 20, seed: int = 0) -> Survey:
    """Every layer × head of `model` scored on `text` (entropy, sink, previous, self, distance) and on the
    induction input (induction), both in one forward pass.

    The two inputs are packed into one sequence, text first, with a block-diagonal mask (no query sees the other
    input's keys; causal within each for decoders), so their attention probabilities are those of two separate
    runs: masked keys weigh exactly 0. The induction input sits at positions T_text … onward: the same attention
    for rotary models (RoPE sees only i − j), a shifted absolute position for GPT-2 and BERT. When the pair does
    not fit the model's positions, they run as two passes."""
    tokens = encode(model, text)
    if any(tk.id >= model.arch.vocab for tk in tokens):
        model_traces(model, text, layers=[0])  # raises the tokenizer-mismatch error
    check_length(tokens, model.n_heads, n_layers=model.n_layers,
                 fix="give a shorter text (the survey scores every layer's heads, so it keeps them all)")
    first = np.array([tk.id for tk in tokens], dtype=np.int64)  # (T₁,)
    rep, start = induction_ids(model, n, seed)  # (T₂,)
    t1, t2 = len(first), len(rep)
    if t1 + t2 <= model.arch.position_limit:
        weights = _packed(model, [first, rep])  # (L, h, T₁ + T₂, T₁ + T₂)
        text_w, rep_w = weights[..., :t1, :t1], weights[..., t1:, t1:]
    else:
        text_w, rep_w = _packed(model, [first]), _packed(model, [rep])
    scores = analysis.head_scores(text_w)
    scores["induction"] = analysis.induction_scores(rep_w, start, n)
    return Survey(model.name, model.architecture, text, tokens, scores, tuple(int(i) for i in rep), n, seed)


def _packed(model: Model, parts: list[np.ndarray]) -> np.ndarray:
    """(L, h, T, T) float64 attention probabilities of every layer for the inputs `parts` side by side in one
    sequence of T tokens, each input attending within itself only (causally for decoders)."""
    ids = np.concatenate(parts)  # (T,)
    mask = np.zeros((len(ids), len(ids)), dtype=bool)  # (T, T) True = may attend
    at = 0
    for part in parts:
        t = len(part)
        mask[at:at + t, at:at + t] = attention.causal_mask(t) if model.causal else True
        at += t
    run = model.arch.forward(model.tensors, ids, mask, model.n_layers - 1, finish=False, keep=None)
    return np.stack([np.stack([hd.weights for hd in run.layers[i].heads]) for i in range(model.n_layers)]
                    ).astype(np.float64)


def ranked(result: Survey, score: str, top: int) -> list[tuple[int, int, float]]:
    """The `top` heads with the highest `score`: (layer, head, value), layer and head from 0; ties by position."""
    grid = result.scores[score]  # (L, h)
    order = np.argsort(-grid, axis=None, kind="stable")[:top]
    return [(int(k // grid.shape[1]), int(k % grid.shape[1]), float(grid.flat[k])) for k in order]


# --- rollout -------------------------------------------------------------------------------------------

WEIGHINGS = ("attention", "value-norm")


@dataclass(frozen=True)
class Rollout:
    """mix[l] (T, T) is layer l's M_l and rollout[l] the product R_l; with value-norm weighting, attention_mix
    holds the plain attention's M_l for comparison (None otherwise)."""

    model: str
    text: str
    tokens: tuple[Token, ...]
    weigh: str
    mix: np.ndarray  # (L, T, T)
    rollout: np.ndarray  # (L, T, T)
    attention_mix: np.ndarray | None = None  # (L, T, T)
    image_path: str | None = None  # a vision model's image: tokens are [CLS] + patches
    patch_grid: tuple[int, int] | None = None  # (rows, cols) of its patches


def rollout(model: Model, text: str | None, *, weigh: str = "attention", image=None) -> Rollout:
    """Attention rollout through every layer; weigh="value-norm" uses ‖A_ij v_j W_O^h‖ instead of A_ij.
    With `image` (a path), the rollout of a vision model's encoder over the image's [CLS] + patches."""
    if weigh not in WEIGHINGS:
        raise InputError(f"unknown weighing {weigh!r}: give {' or '.join(WEIGHINGS)}")
    arch = model.arch
    if image is not None:
        from .models.vision import image_traces, vision_encoder

        traces, arch = image_traces(model, image), vision_encoder(model)
    else:
        check_length(encode(model, text), model.n_heads, n_layers=model.n_layers,
                     fix="give a shorter text (rollout multiplies every layer's attention, so it keeps them all)")
        traces = model_traces(model, text)
    weights = _weights(traces)  # (L, h, T, T)
    plain = None
    if weigh == "value-norm":
        plain = analysis.mixing(weights)
        weights = np.stack([analysis.value_norms(weights[i], np.stack([hd.v for hd in tr.heads]),
                                                 arch.attention_weights(model.tensors, i).w_o)
                            for i, tr in enumerate(traces)])  # (L, h, T, T)
    return Rollout(model.name, traces[0].text or text, traces[0].query_tokens, weigh, analysis.mixing(weights),
                   analysis.rollout(weights), plain, traces[0].image_path, traces[0].patch_grid)


# --- the logit lens ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Lens:
    """layers[l] reads the residual stream after l layers (0: the embeddings; the last: the model's output)."""

    model: str
    text: str
    tokens: tuple[Token, ...]
    layers: tuple[analysis.LensLayer, ...]
    pieces: dict[int, str]  # token id → its piece, for every id shown

    @property
    def final_ids(self) -> np.ndarray:
        return self.layers[-1].top_ids[:, 0]


def lens(model: Model, text: str, *, top: int = 5) -> Lens:
    """The logit lens: for every layer's residual stream h_l, softmax(final_norm(h_l) W_Uᵀ) (the last hidden
    state is already final-normed, so it gives the model's own output distribution)."""
    if not model.causal:
        raise ModelError(f"{model.name} is an encoder ({model.architecture}): the logit lens needs a decoder's "
                         "language-model head; use a decoder (gpt2, llama, qwen2, …)")
    tokens = encode(model, text)
    hidden = hidden_states(model, text)  # L + 1 arrays (T, d_model)
    arch, tensors = model.arch, model.tensors
    normed = [h if k == len(hidden) - 1 else _normed(arch, tensors, h) for k, h in enumerate(hidden)]
    logits = np.split(arch.checked_logits(tensors, np.concatenate(normed)), len(normed))  # one pass over W_U
    last = analysis.lens_layer(logits[-1], top)
    layers = tuple(analysis.lens_layer(z, top, last.top_ids[:, 0]) for z in logits[:-1]) + (last,)
    shown = {int(i) for layer in layers for i in layer.top_ids.ravel()}
    tok = model.tokenizer
    pieces = {i: _piece(tok, i) for i in sorted(shown)}
    return Lens(model.name, text, tokens, layers, pieces)


def _normed(arch, tensors, h: np.ndarray) -> np.ndarray:
    final = arch.final_norm(tensors, h)
    return h if final is None else final.output


def _piece(tokenizer, i: int) -> str:
    """The text of token id i decoded alone, invisible characters made visible (`#i` when it has no text)."""
    hf = getattr(tokenizer, "_hf", None)
    text = hf.decode([i], skip_special_tokens=False) if hf is not None else ""
    if "\ufffd" in text:  # a piece of a multi-byte character: its vocabulary entry says more
        text = hf.id_to_token(i) or text
    return visible(text) if text else f"#{i}"
