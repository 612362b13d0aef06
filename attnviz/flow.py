"""The encoder–decoder walk-through: a tiny seeded encoder–decoder run end to end, one token at a time.

    ids → embeddings + positions → N encoder blocks → <BOS> → N decoder blocks → logits → softmax → sampling

Its parameters are random, never trained: the tokens it picks are nonsense; the point is the flow of shapes
and numbers. Every stage is kept in frozen dataclasses.

Where the seeded numbers come from (each stream a `np.random.Generator` made from --seed):
    default_rng(seed)         every parameter, layer by layer, then W_out
    default_rng([seed, 6])    the sampler (unless a generator is passed in)

Shapes: T decoder (query) tokens, S source (key) tokens, d_model, d_ff, V output vocabulary.
No printing, no files, no rich/matplotlib here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from .block import (
    FFN_RATIO,
    DecoderBlockTrace,
    EncoderBlockTrace,
    check_ffn,
    decoder_block,
    encoder_block,
    init_block_params,
)
from .errors import InputError
from .layers import BlockParams
from .sampling import Sampling, check_sampling, sample
from .tokens import DEFAULT_TOKENIZER, Token, bos_token, load_tokenizer, tokenize, visible
from .trace import check_length, embed_with_positions
from .weights import DECIMALS, Weights, check_sizes, init_weights

FLOW_VOCAB = 512  # the flow's output vocabulary: the tokenizer's first 512 ordinary pieces
TOP = 5  # candidates kept per step for display
SAMPLE_STREAM = 6
MAX_LAYERS = 12
MAX_STEPS = 64
MAX_FLOW_WEIGHTS = 2**26  # every parameter of the flow's model together: 512 MiB in float64


@dataclass(frozen=True)
class Shape:
    """One arrow of the flow: a stage's name and the shape of what it hands on."""

    stage: str  # ids, embeddings, x, encoder, memory, bos, decoder, last, logits, probs, token
    shape: tuple[int, ...]
    layer: int | None = None  # 1-based, for encoder/decoder blocks


SHAPE_NAMES = {"ids": "ids", "embeddings": "embeddings", "x": "+ positions", "encoder": "encoder {n}",
               "memory": "memory (K/V)", "bos": "decoder ids", "decoder": "decoder {n}", "last": "last token",
               "logits": "logits", "probs": "softmax", "token": "next id"}


def shape_text(shapes: tuple[Shape, ...], names: dict[str, str] | None = None) -> str:
    """"(5,) ids → (5, 8) embeddings → …": each shape followed by its stage's name."""
    names = SHAPE_NAMES if names is None else names
    return " → ".join(f"{s.shape} {names[s.stage].format(n=s.layer)}" for s in shapes)


@dataclass(frozen=True)
class TopToken:
    """One of a step's most probable next tokens."""

    index: int  # into the output vocabulary
    id: int  # the tokenizer's id
    label: str
    logit: float
    prob: float  # softmax(logits / temperature)


@dataclass(frozen=True)
class FlowStep:
    """One generation step: the decoder reruns on <BOS> + the tokens picked so far."""

    number: int  # 1-based
    tokens: tuple[Token, ...]  # the decoder's input (T,)
    decoder: tuple[DecoderBlockTrace, ...]  # N blocks
    hidden: np.ndarray  # (d_model,) the last token's row of the last block's output
    sampling: Sampling
    top: tuple[TopToken, ...]  # the TOP most probable, best first
    token: Token  # the pick
    shapes: tuple[Shape, ...]  # this step's decoder path, bos → token

    @property
    def prob(self) -> float:
        """The pick's probability softmax(logits / T)."""
        return float(self.sampling.probs[self.sampling.choice])


@dataclass(frozen=True)
class FlowModel:
    """A tiny seeded encoder–decoder. Untrained: every number is random."""

    encoder: tuple[tuple[Weights, BlockParams], ...]  # per layer: self-attention, FFN + 2 LayerNorms
    decoder: tuple[tuple[Weights, Weights, BlockParams], ...]  # per layer: masked self, cross, FFN + 3 LayerNorms
    w_out: np.ndarray  # (d_model, V) the output projection to the vocabulary


def init_flow_model(rng: np.random.Generator, n_layers: int, vocab: int, d_model: int = 8, d_k: int = 4,
                    n_heads: int = 1, d_ff: int | None = None, activation: str = "gelu",
                    seed: int | None = None) -> FlowModel:
    """Draw every parameter from `rng`: encoder layers, decoder layers, then W_out ~ N(0, 1/d_model)."""
    enc = tuple((init_weights(rng, d_model, d_k, n_heads, seed), init_block_params(rng, d_model, d_ff, activation))
                for _ in range(n_layers))
    dec = tuple((init_weights(rng, d_model, d_k, n_heads, seed), init_weights(rng, d_model, d_k, n_heads, seed),
                 init_block_params(rng, d_model, d_ff, activation, n_norms=3)) for _ in range(n_layers))
    w_out = np.round(rng.standard_normal((d_model, vocab)) / math.sqrt(d_model), DECIMALS)
    return FlowModel(enc, dec, w_out)


@dataclass(frozen=True)
class FlowTrace:
    """The seed's encoder–decoder walk-through, every stage kept. The model is untrained: its output is
    nonsense; what it shows is how shapes and numbers flow."""

    source: str
    source_tokens: tuple[Token, ...]  # (S,)
    embeddings: np.ndarray  # (S, d_model) E
    positions: np.ndarray  # (S, d_model) P
    x: np.ndarray  # (S, d_model) E + P
    encoder: tuple[EncoderBlockTrace, ...]  # N blocks
    memory: np.ndarray  # (S, d_model) the last encoder block's output: K and V of every cross-attention
    steps: tuple[FlowStep, ...]
    vocab_ids: np.ndarray  # (V,) the tokenizer id of each output index
    vocab_labels: tuple[str, ...]  # (V,)
    tokenizer_vocab: int  # the tokenizer's whole vocabulary
    w_out: np.ndarray  # (d_model, V)
    output_ids: tuple[int, ...]
    output_text: str  # the picked ids decoded by the tokenizer
    shapes: tuple[Shape, ...]  # ids → … → token, for the first step
    sample: str
    k: int | None
    p: float | None
    temperature: float
    seed: int
    n_layers: int
    d_model: int
    d_k: int
    n_heads: int
    d_ff: int
    activation: str
    tokenizer: str

    @property
    def vocab(self) -> int:
        return len(self.vocab_ids)


_BYTE_PIECE = re.compile(r"<0x[0-9A-Fa-f]{2}>")


def output_vocabulary(tokenizer: str = DEFAULT_TOKENIZER, size: int | None = FLOW_VOCAB
                      ) -> tuple[np.ndarray, tuple[str, ...], int]:
    """(ids, labels, tokenizer's vocabulary size): the first `size` ordinary ids of the tokenizer (all of
    them when None). Special tokens (<unk> <pad> <bos> <eos>) and byte pieces (<0x..>) are left out, so
    every pick decodes to text and generation never stops early."""
    tok = load_tokenizer(tokenizer)
    hf = tok._hf
    if hf is None:
        raise InputError(f"the flow picks tokens from a vocabulary, and the {tokenizer} tokenizer has none: "
                         "use the default tokenizer or a tokenizer.json")
    special = {i for i, added in hf.get_added_tokens_decoder().items() if added.special}
    total = tok.vocab_size
    ids, labels = [], []
    for i in range(total):
        piece = hf.id_to_token(i)
        if i in special or piece is None or _BYTE_PIECE.fullmatch(piece):
            continue
        ids.append(i)
        labels.append(visible(hf.decode([i]).strip() or piece))
        if size is not None and len(ids) == size:
            break
    if len(ids) < 2:
        raise InputError(f"the {tokenizer} tokenizer has fewer than 2 ordinary tokens to pick from")
    return np.asarray(ids), tuple(labels), total


def flow(source: str, *, seed: int = 0, n_layers: int = 2, steps: int = 4, sample_method: str = "greedy",
         k: int = 5, p: float = 0.9, temperature: float = 1.0, d_model: int = 8, d_k: int = 4, n_heads: int = 1,
         d_ff: int | None = None, activation: str = "gelu", tokenizer: str = DEFAULT_TOKENIZER,
         vocab: int | None = FLOW_VOCAB, rng: np.random.Generator | None = None) -> FlowTrace:
    """Seed 001's encoder–decoder, end to end, on a tiny untrained seeded model.

        source → ids (S,) → E + P (S, d_model) → N encoder blocks → memory (S, d_model)
        step s: <BOS> + picks so far (T = s) → E + P (T, d_model) → N decoder blocks (each cross-attends
                to memory) → last row h (d_model,) → logits = h W_out (V,) → softmax(logits / temperature)
                → greedy / top-k / top-p → the next token, appended; the decoder reruns from scratch.

    The output vocabulary is the tokenizer's first `vocab` ordinary pieces (512 of the default tokenizer's
    12,053 unless given; None for all). Model parameters come from default_rng(seed); the sampler from
    `rng`, or default_rng([seed, 6]). The model was never trained, so the text it writes is nonsense.

    >>> [s.token.id is not None for s in flow("고양이는 침대에서 잔다", steps=2).steps]
    [True, True]
    """
    if not 1 <= n_layers <= MAX_LAYERS:
        raise InputError(f"--layers must be between 1 and {MAX_LAYERS} (got {n_layers})")
    if not 1 <= steps <= MAX_STEPS:
        raise InputError(f"--steps must be between 1 and {MAX_STEPS} (got {steps})")
    check_sampling(sample_method, k, p, temperature)
    check_sizes(d_model, d_k, n_heads)
    ffn_width = FFN_RATIO * d_model if d_ff is None else d_ff
    check_ffn(d_model, ffn_width)
    vocab_ids, vocab_labels, total = output_vocabulary(tokenizer, vocab)
    n_weights = n_layers * (12 * d_model * d_k * n_heads + 4 * d_model * ffn_width) + d_model * len(vocab_ids)
    if n_weights > MAX_FLOW_WEIGHTS:  # encoder: 4 attention matrices + 2 FFN; decoder: 8 + 2; then W_out
        raise InputError(f"this flow's model would have {n_weights:,} parameters; attnviz builds at most "
                         f"{MAX_FLOW_WEIGHTS:,} (512 MiB): use fewer --layers or a smaller --d-model, --d-k or --d-ff")
    source_tokens = tokenize(source, tokenizer)
    check_length(source_tokens)
    model = init_flow_model(np.random.default_rng(seed), n_layers, len(vocab_ids), d_model, d_k, n_heads, d_ff,
                            activation, seed)
    d_ff = model.encoder[0][1].d_ff
    sampler = np.random.default_rng([seed, SAMPLE_STREAM]) if rng is None else rng

    e, pos, x = embed_with_positions(source_tokens, model.encoder[0][0], seed)  # (S, d_model) each
    encoder, h = [], x
    for w, params in model.encoder:
        blk = encoder_block(source_tokens, w, params, seed, x=None if not encoder else h, text=source)
        encoder.append(blk)
        h = blk.output  # (S, d_model)
    memory = h  # (S, d_model)
    s_len = len(source_tokens)
    enc_shapes = (Shape("ids", (s_len,)), Shape("embeddings", e.shape), Shape("x", x.shape),
                  *(Shape("encoder", b.output.shape, i + 1) for i, b in enumerate(encoder)),
                  Shape("memory", memory.shape))

    hf = load_tokenizer(tokenizer)._hf
    dec_tokens: tuple[Token, ...] = (bos_token(tokenizer),)
    picked: list[int] = []
    out_steps = []
    for number in range(1, steps + 1):
        blocks, y = [], None
        for w_self, w_cross, params in model.decoder:
            blk = decoder_block(dec_tokens, source_tokens, w_self, w_cross, params, seed, x=y, memory=memory,
                                text=source)
            blocks.append(blk)
            y = blk.output  # (T, d_model)
        hidden = y[-1]  # (d_model,) the last position predicts the next token
        logits = hidden @ model.w_out  # (V,)
        pick = sample(logits, sampler, sample_method, k=k, p=p, temperature=temperature)
        top = tuple(TopToken(int(j), int(vocab_ids[j]), vocab_labels[j], float(logits[j]), float(pick.probs[j]))
                    for j in np.argsort(-logits, kind="stable")[:TOP])
        tid = int(vocab_ids[pick.choice])
        picked.append(tid)
        end = len(hf.decode(picked))
        token = Token(vocab_labels[pick.choice], hf.id_to_token(tid), tid, len(hf.decode(picked[:-1])), end)
        t = len(dec_tokens)
        shapes = (Shape("bos", (t,)), Shape("x", (t, d_model)),
                  *(Shape("decoder", b.output.shape, i + 1) for i, b in enumerate(blocks)),
                  Shape("last", hidden.shape), Shape("logits", logits.shape), Shape("probs", pick.probs.shape),
                  Shape("token", (1,)))
        out_steps.append(FlowStep(number, dec_tokens, tuple(blocks), hidden, pick, top, token, shapes))
        dec_tokens = (*dec_tokens, token)
    return FlowTrace(source, source_tokens, e, pos, x, tuple(encoder), memory, tuple(out_steps), vocab_ids,
                     vocab_labels, total, model.w_out, tuple(picked), hf.decode(picked),
                     enc_shapes + out_steps[0].shapes, sample_method, k if sample_method == "top-k" else None,
                     p if sample_method == "top-p" else None, float(temperature), seed, n_layers, d_model, d_k,
                     n_heads, d_ff, activation, tokenizer)

