"""Encoder–decoder checkpoints as Traces: the encoder's and the decoder's self-attention, the cross-attention,
and greedy (or sampled) generation with every step's logits.

    source_tokens(model, source) -> tokens                     the encoder's input (… </s>)
    decoder_tokens(model, target) -> tokens                     the start token, then the target's (teacher forcing)
    cross_traces(model, source, target, layers=None) -> [Trace]   the decoder layers' cross-attention (T × S)
    encoder_trace(model, source, layer) -> Trace                the encoder's self-attention at `layer`
    decoder_trace(model, source, target, layer) -> Trace        the decoder's masked self-attention at `layer`
    generate(model, source, steps, …) -> Generation             greedy / top-k / top-p, one token a step

Without a target, cross_traces generates greedily first (`steps` tokens) and the generated tokens are the
queries. Rows are queries (decoder tokens), columns keys (encoder tokens for cross-attention).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..errors import InputError, ModelError
from ..sampling import Sampling, sample
from ..tokens import Token, clean_text
from ..trace import ModelInfo, RelativeBias, Trace, check_length
from .base import LayerAttention, Model

SAMPLE_STREAM = 6  # default_rng([seed, 6]): the sampler, as in flow.py
TOP = 5


def _check(model: Model) -> None:
    if not getattr(model.arch, "encoder_decoder", False):
        raise InputError(f"{model.name} is a {model.architecture} model, not an encoder–decoder: cross-attention "
                         "needs one (t5, mt5, bart, mbart, marian)")


def _ids(model: Model, tokens: tuple[Token, ...], what: str) -> np.ndarray:
    ids = np.array([t.id for t in tokens], dtype=np.int64)  # (T,)
    if int(ids.max()) >= model.arch.vocab:
        raise ModelError(f"the tokenizer gave token id {int(ids.max())} but the embedding table has "
                         f"{model.arch.vocab} rows: the tokenizer does not belong to this model")
    check_length(tokens, model.n_heads)
    if len(tokens) > model.arch.position_limit:
        raise InputError(f"the {what} has {len(tokens)} tokens; {model.name} reads at most "
                         f"{model.arch.position_limit}: give a shorter text")
    return ids


def source_tokens(model: Model, source: str) -> tuple[Token, ...]:
    """The encoder's tokens for `source`, special tokens included."""
    _check(model)
    tokens = model.tokenizer.encode(clean_text(source))
    if not tokens:
        raise InputError(f"{model.name}'s tokenizer found no tokens in the source: give words to translate")
    return tokens


def start_token(model: Model) -> Token:
    return model.target.token(model.arch.decoder_start_id, special=True)


def decoder_tokens(model: Model, target: str) -> tuple[Token, ...]:
    """decoder_start_token, then the target's tokens with their special tokens (transformers' teacher forcing:
    decoder_input_ids = [start] + the target's ids, nothing dropped)."""
    _check(model)
    return (start_token(model), *model.target.encode(clean_text(target)))


def _run(model: Model, src: tuple[Token, ...], dec: tuple[Token, ...], last: int | None = None,
         keep: set[int] | None = None):
    arch, tensors = model.arch, model.tensors
    enc = arch.encode(tensors, _ids(model, src, "source"))
    out = arch.decode(tensors, _ids(model, dec, "target"), enc.hidden[-1], last=last, keep=keep)
    return enc, out


def _relative(model: Model, stack, t: int, s: int) -> RelativeBias | None:
    if not hasattr(stack, "buckets"):
        return None
    return RelativeBias(stack.buckets(t, s), np.asarray(model.tensors.read(stack.bias_table_name)),
                        not stack.causal, stack.max_distance)


def _trace(model: Model, kind: str, queries, keys, la: LayerAttention, layer: int, n_layers: int, text: str,
           causal: bool, stack=None) -> Trace:
    info = la.info
    if info is not None and info.position_bias == "relative" and stack is not None:
        info = replace(info, relative=_relative(model, stack, len(queries), len(keys)))
    hd = la.heads[0]
    return Trace(kind, tuple(queries), tuple(keys), la.embeddings, la.positions, la.x, la.memory, la.heads,
                 la.concat, la.output, model.d_model, hd.q.shape[-1], hd.v.shape[-1], None, causal,
                 str(model.path), text, ModelInfo(model.name, model.architecture, layer, n_layers), attention=info)


def _layer(layer: int, n: int, what: str, model: Model) -> int:
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 0 <= layer < n:
        raise InputError(f"layer {layer} does not exist: {model.name}'s {what} has layers 0–{n - 1}")
    return int(layer)


def encoder_trace(model: Model, source: str, layer: int) -> Trace:
    """The encoder's self-attention at `layer` for `source`, every head and stage (T5: with its position bias)."""
    _check(model)
    layer = _layer(layer, model.n_layers, "encoder", model)
    src = source_tokens(model, source)
    run = model.arch.encoder.forward(model.tensors, _ids(model, src, "source"), None, layer, finish=False,
                                     keep={layer})
    return _trace(model, "self", src, src, run.layers[layer], layer, model.n_layers, clean_text(source), False,
                  model.arch.encoder)


def decoder_trace(model: Model, source: str, target: str, layer: int) -> Trace:
    """The decoder's masked self-attention at `layer`: the start token and the target's tokens, each seeing
    itself and the ones before it."""
    _check(model)
    n = model.arch.n_decoder_layers
    layer = _layer(layer, n, "decoder", model)
    src, dec = source_tokens(model, source), decoder_tokens(model, target)
    _, out = _run(model, src, dec, last=layer, keep={layer})
    return _trace(model, "self", dec, dec, out.self_layers[layer], layer, n, clean_text(target), True,
                  model.arch.decoder)


def cross_traces(model: Model, source: str, target: str | None, layers: list[int] | None = None, *,
                 steps: int = 8) -> list[Trace]:
    """The cross-attention of decoder `layers` (default: all): queries the decoder's tokens (the start token
    and TARGET's, or `steps` greedily generated ones without a target), keys the source's tokens."""
    _check(model)
    n = model.arch.n_decoder_layers
    wanted = sorted({_layer(i, n, "decoder", model) for i in (range(n) if layers is None else layers)})
    if not wanted:
        raise InputError("no layers asked for: give at least one")
    src = source_tokens(model, source)
    if target is None or not target.strip():
        gen = generate(model, source, steps)
        dec = (start_token(model), *(s.token for s in gen.steps))
        text = gen.text
    else:
        dec, text = decoder_tokens(model, target), clean_text(target)
    check_length(dec, model.n_heads, n_layers=len(wanted))
    _, out = _run(model, src, dec, last=wanted[-1], keep=set(wanted))
    return [_trace(model, "cross", dec, src, out.cross_layers[i], i, n, text, False) for i in wanted]


def cross_trace(model: Model, source: str, target: str | None, layer: int, *, steps: int = 8) -> Trace:
    """One decoder layer's cross-attention (see cross_traces)."""
    return cross_traces(model, source, target, [layer], steps=steps)[0]


@dataclass(frozen=True)
class TopToken:
    id: int
    label: str
    logit: float
    prob: float


@dataclass(frozen=True)
class GenStep:
    """One generation step: the decoder reruns on the start token and the picks so far."""

    number: int  # 1-based
    inputs: tuple[Token, ...]  # (T,) the decoder's input
    sampling: Sampling  # logits (V,), softmax, candidates, the pick
    top: tuple[TopToken, ...]  # the most probable tokens, best first
    token: Token  # the pick
    text: str  # every pick so far, detokenized


@dataclass(frozen=True)
class Generation:
    """A real encoder–decoder writing its output one token at a time."""

    model: ModelInfo
    source: str
    source_tokens: tuple[Token, ...]
    steps: tuple[GenStep, ...]
    ids: tuple[int, ...]  # the picked ids (ending with eos when the model stopped)
    text: str  # the output, detokenized without special tokens
    method: str
    seed: int
    temperature: float
    vocab: int

    @property
    def stopped(self) -> bool:
        """Whether the last pick was the end-of-sequence token."""
        return bool(self.steps) and self.steps[-1].token.special


def generate(model: Model, source: str, steps: int, *, method: str = "greedy", k: int = 5, p: float = 0.9,
             temperature: float = 1.0, seed: int = 0, top: int = TOP) -> Generation:
    """Write up to `steps` tokens for `source`: the encoder once, then for each step the decoder on
    [start] + picks → the last position's logits (V,) → softmax(logits / temperature) → greedy / top-k /
    top-p → the next token; stops after the end-of-sequence token. Greedy picks the argmax, as transformers'
    generate(do_sample=False); sampling draws from default_rng([seed, 6])."""
    _check(model)
    if not 1 <= steps <= 256:
        raise InputError(f"--steps must be between 1 and 256 (got {steps})")
    arch, tensors = model.arch, model.tensors
    src = source_tokens(model, source)
    memory = arch.encode(tensors, _ids(model, src, "source")).hidden[-1]  # (S, d_model)
    rng = np.random.default_rng([seed, SAMPLE_STREAM])
    ids, out = [arch.decoder_start_id], []
    tokens = [start_token(model)]
    for number in range(1, steps + 1):
        if len(ids) > arch.position_limit:
            break
        dec = arch.decode(tensors, np.asarray(ids, dtype=np.int64), memory, keep=set())
        logits = arch.checked_logits(tensors, dec.hidden[-1][-1:])[0]  # (V,) the last position's
        pick = sample(logits, rng, method, k=k, p=p, temperature=temperature)
        tid = int(pick.choice)
        best = np.argsort(-logits, kind="stable")[:top]
        tops = tuple(TopToken(int(j), model.target.token(int(j)).label, float(logits[j]), float(pick.probs[j]))
                     for j in best)
        token = model.target.token(tid, special=tid == arch.eos_id)
        ids.append(tid)
        out.append(GenStep(number, tuple(tokens), pick, tops, token, model.target.decode(ids[1:])))
        tokens.append(token)
        if tid == arch.eos_id:
            break
    info = ModelInfo(model.name, model.architecture, arch.n_decoder_layers - 1, arch.n_decoder_layers)
    return Generation(info, clean_text(source), src, tuple(out), tuple(ids[1:]), model.target.decode(ids[1:]),
                      method, seed, float(temperature), arch.vocab)
