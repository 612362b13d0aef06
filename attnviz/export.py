"""Trace ⇄ JSON in the `attnviz.trace/1` format (plain floats at full precision, stable bytes).

Every document is built as a tree of dicts, lists and numpy arrays, then written by `jsontree.json_chunks` a few
rows at a time: a 4,096-token trace (a gigabyte of JSON) never exists as one string or as Python lists
of floats, so memory stays the trace's own. The bytes are json.dumps's (separators "," and ":", UTF-8);
a lone surrogate (invalid UTF-8 from the command line) is written as U+FFFD; NaN and ±∞ are never
written (the core refuses them; a stray one is a bug and raises ValueError).
"""

from __future__ import annotations

import json

import numpy as np

from . import __version__
from .errors import InputError
from .jsontree import CHUNK_NUMBERS, json_chunks, plain_tree  # noqa: F401  (CHUNK_NUMBERS: tests read it here)
from .jsontree import json_text as _text
from .tokens import Token
from .trace import AttentionInfo, HeadTrace, ModelInfo, RelativeBias, RopeInfo, Trace

FORMAT = "attnviz.trace/1"


def _model_dict(info: ModelInfo | None) -> dict | None:
    """{"name", "architecture", "layer", "n_layers"} of a checkpoint's trace; None for seeded weights."""
    return None if info is None else {"name": info.name, "architecture": info.architecture, "layer": info.layer,
                                      "n_layers": info.n_layers}


def _matrix(a: np.ndarray | None):
    """An array for the document tree (written row block by row block), or None."""
    return None if a is None else np.asarray(a)


def _token(t: Token) -> dict:
    return {"label": t.label, "piece": t.piece, "id": t.id, "start": t.start, "end": t.end,
            "special": t.special}


def trace_to_dict(trace: Trace) -> dict:
    """The JSON document as Python objects (lists of floats, booleans, strings)."""
    return plain_tree(_trace_tree(trace))


def _trace_tree(trace: Trace) -> dict:
    return {
        "format": FORMAT,
        "version": __version__,
        "kind": trace.kind,
        "text": trace.text,
        "query_tokens": [_token(t) for t in trace.query_tokens],
        "key_tokens": [_token(t) for t in trace.key_tokens],
        "d_model": trace.d_model,
        "d_k": trace.d_k,
        "d_v": trace.d_v,
        "n_heads": trace.n_heads,
        "seed": trace.seed,
        "causal": trace.causal,
        "weights_source": trace.weights_source,
        "model": _model_dict(trace.model),
        "patch_grid": None if trace.patch_grid is None else list(trace.patch_grid),
        "image": trace.image_path,
        "embeddings": _matrix(trace.embeddings),
        "positions": _matrix(trace.positions),
        "x": _matrix(trace.x),
        "memory": _matrix(trace.memory),
        "heads": [
            {"q": _matrix(h.q), "k": _matrix(h.k), "v": _matrix(h.v), "scores": _matrix(h.scores),
             "scaled": _matrix(h.scaled), "mask": _matrix(h.mask), "weights": _matrix(h.weights),
             "output": _matrix(h.output), **_head_extras(h)}
            for h in trace.heads
        ],
        "concat": _matrix(trace.concat),
        "output": _matrix(trace.output),
        **({} if trace.attention is None else {"attention": _attention_dict(trace.attention)}),
    }


#: HeadTrace fields of today's decoders, written only when a trace has them (plain traces keep their bytes)
HEAD_EXTRAS = ("q_unrotated", "k_unrotated", "capped", "bias")


def _head_extras(h: HeadTrace) -> dict:
    """kv_head (GQA), q/k before RoPE, the soft-capped scores, a position bias: only those the head has."""
    out = {} if h.kv_head is None else {"kv_head": h.kv_head}
    out.update({name: _matrix(getattr(h, name)) for name in HEAD_EXTRAS if getattr(h, name) is not None})
    return out


def _attention_dict(info: AttentionInfo) -> dict:
    """What a layer's attention does beyond plain MHA: K/V heads, the scale used, soft-cap, window, RoPE."""
    rope, rel = info.rope, info.relative
    return {"n_kv_heads": info.n_kv_heads, "scale": info.scale, "softcap": info.softcap, "window": info.window,
            "qk_norm": info.qk_norm, "position_bias": info.position_bias,
            "rope": None if rope is None else {
                "rotary_dim": rope.rotary_dim, "base": rope.base, "scaling": rope.scaling,
                "attention_factor": rope.attention_factor, "inv_freq": _matrix(rope.inv_freq),
                "positions": _matrix(rope.positions), "angles": _matrix(rope.angles),
                "key_angles": _matrix(rope.key_angles)},
            **({} if rel is None else {"relative": {  # T5: only when present, so other traces keep their bytes
                "buckets": _matrix(rel.buckets), "table": _matrix(rel.table), "bidirectional": rel.bidirectional,
                "max_distance": rel.max_distance}})}


def _attention_from(doc: dict | None) -> AttentionInfo | None:
    if doc is None:
        return None
    rope = doc.get("rope")
    if rope is not None:
        positions = rope.get("positions")
        rope = RopeInfo(_array(rope["angles"]), _array(rope["key_angles"]), rope["rotary_dim"], rope["base"],
                        rope["scaling"], rope.get("attention_factor", 1.0), _array(rope.get("inv_freq")),
                        None if positions is None else np.asarray(positions, dtype=np.int64))
    rel = doc.get("relative")
    if rel is not None:
        rel = RelativeBias(np.asarray(rel["buckets"], dtype=np.int64), _array(rel["table"]),
                           bool(rel["bidirectional"]), int(rel["max_distance"]))
    return AttentionInfo(doc["n_kv_heads"], doc["scale"], doc.get("softcap"), doc.get("window"), rope,
                         doc.get("qk_norm", False), doc.get("position_bias"), rel)


def trace_to_json(trace: Trace) -> str:
    """`attnviz.trace/1` JSON text; the same trace always gives the same bytes."""
    return _text(_trace_tree(trace))


def traces_to_json(traces) -> str:
    """A JSON list of `attnviz.trace/1` documents (e.g. every layer of a model), stable bytes."""
    return _text(_traces_tree(traces))


def _traces_tree(traces) -> list:
    return [_trace_tree(t) for t in traces]


def _array(value, dtype=np.float64) -> np.ndarray | None:
    return None if value is None else np.asarray(value, dtype=dtype)


def trace_from_json(text: str) -> Trace:
    """Read an `attnviz.trace/1` document back into a Trace (masked scores are recomputed)."""
    doc = json.loads(text)
    if doc.get("format") != FORMAT:
        raise InputError(f"not an {FORMAT} document (format = {doc.get('format')!r})")
    heads = []
    for h in doc["heads"]:
        mask = _array(h["mask"], bool)
        scaled = _array(h["scaled"])
        extras = {name: _array(h.get(name)) for name in HEAD_EXTRAS}
        last = scaled if extras["bias"] is None else scaled + extras["bias"]  # what the mask is applied to
        last = last if extras["capped"] is None else extras["capped"]
        masked = None if mask is None else np.where(mask, last, -np.inf)
        heads.append(HeadTrace(_array(h["q"]), _array(h["k"]), _array(h["v"]), _array(h["scores"]),
                               scaled, mask, masked, _array(h["weights"]), _array(h["output"]),
                               kv_head=h.get("kv_head"), **extras))
    return Trace(
        kind=doc["kind"],
        query_tokens=tuple(Token(**t) for t in doc["query_tokens"]),
        key_tokens=tuple(Token(**t) for t in doc["key_tokens"]),
        embeddings=_array(doc["embeddings"]),
        positions=_array(doc["positions"]),
        x=_array(doc["x"]),
        memory=_array(doc["memory"]),
        heads=tuple(heads),
        concat=_array(doc["concat"]),
        output=_array(doc["output"]),
        d_model=doc["d_model"],
        d_k=doc["d_k"],
        d_v=doc["d_v"],
        seed=doc["seed"],
        causal=doc["causal"],
        weights_source=doc["weights_source"],
        text=doc.get("text", ""),
        model=None if doc.get("model") is None else ModelInfo(**doc["model"]),
        patch_grid=None if doc.get("patch_grid") is None else tuple(doc["patch_grid"]),
        image_path=doc.get("image"),
        attention=_attention_from(doc.get("attention")),
    )


def lesson_to_json(lesson) -> str:
    """`attnviz.scale/1` (a ScaleLesson) or `attnviz.softmax/1` (SoftmaxSteps) JSON text."""
    return _text(_lesson_tree(lesson))


def _lesson_tree(lesson) -> dict:
    from .lessons import ScaleLesson

    if isinstance(lesson, ScaleLesson):
        doc = {"format": "attnviz.scale/1", "version": __version__, "seed": lesson.seed,
               "n_keys": lesson.n_keys, "n_rows": lesson.n_rows,
               "rows": [vars(row) for row in lesson.rows]}
    else:
        doc = {"format": "attnviz.softmax/1", "version": __version__, "scale": lesson.scale,
               "temperature": lesson.temperature, "total": lesson.total,
               **{name: _matrix(getattr(lesson, name)) for name in ("scores", "logits", "shifted", "exp", "probs")}}
    return doc


def _plain(value) -> float | None:
    """A float for JSON: −∞ (a hidden key, or m before any visible key) becomes null."""
    value = float(value)
    return value if np.isfinite(value) else None


def _plain_list(a: np.ndarray) -> list:
    return [_plain(x) for x in np.asarray(a).ravel()]


def flash_to_json(walk) -> str:
    """`attnviz.flash/1` JSON text of a FlashWalk: plain floats, null for −∞ (hidden keys; m before
    the first visible key); `steps` is the focus query's key blocks in order, `queries` every query's
    final m, ℓ and max |tiled − standard|; bytes are integers."""
    return _text(_flash_tree(walk))


def _flash_tree(walk) -> dict:
    return {
        "format": "attnviz.flash/1",
        "version": __version__,
        "text": walk.text,
        "query_tokens": list(walk.query_labels),
        "key_tokens": list(walk.key_labels),
        "head": walk.head,
        "focus": walk.focus,
        "block": walk.block,
        "d_k": walk.d_k,
        "d_v": walk.d_v,
        "masked": walk.masked,
        "steps": [
            {"index": st.index, "keys": [st.start, st.stop], "scaled": _plain_list(st.scaled),
             "block_max": _plain(st.block_max), "m_before": _plain(st.m_before), "m_after": _plain(st.m_after),
             "rescale": float(st.rescale), "block_sum": float(st.block_sum), "l_before": float(st.l_before),
             "l_after": float(st.l_after), "partial": _plain_list(st.partial), "skipped": st.skipped}
            for st in walk.steps
        ],
        "output": _plain_list(walk.output),
        "standard": _plain_list(walk.standard),
        "max_diff": walk.max_diff,
        "queries": [{"m": _plain(m), "l": float(ell), "max_diff": _plain(d)}  # null: not recomputed (long)
                    for m, ell, d in zip(walk.m, walk.ell, walk.row_diff)],
        "all_max_diff": walk.all_max_diff,
        **({} if walk.checked is None else {"checked": walk.checked}),
        "memory": [{"n": r.n, "full_bytes": r.full_bytes, "tiled_bytes": r.tiled_bytes} for r in walk.memory],
        "peak": None if walk.peak is None else {"tiled_bytes": walk.peak.tiled_bytes,
                                                "full_bytes": walk.peak.full_bytes,
                                                "scores_bytes": walk.peak.scores_bytes},
    }


# --- block and flow (issue 7) --------------------------------------------------------------------

def _norm_dict(norm) -> dict:
    return {"input": _matrix(norm.input), "mean": _matrix(norm.mean), "var": _matrix(norm.var),
            "normed": _matrix(norm.normed), "output": _matrix(norm.output), "mean_after": _matrix(norm.mean_after),
            "var_after": _matrix(norm.var_after), "gamma": _matrix(norm.gamma), "beta": _matrix(norm.beta),
            "eps": norm.eps, **({"kind": "rms", "offset": norm.offset} if norm.kind == "rms" else {})}


def _ffn_dict(ffn) -> dict:
    return {"activation": ffn.activation, "input": _matrix(ffn.input), "hidden": _matrix(ffn.hidden),
            "activated": _matrix(ffn.activated), "output": _matrix(ffn.output),
            **({"up": _matrix(ffn.up), "product": _matrix(ffn.product)} if ffn.gated else {})}


def _params_dict(p) -> dict:
    return {"w1": _matrix(p.w1), "b1": _matrix(p.b1), "w2": _matrix(p.w2), "b2": _matrix(p.b2),
            "gammas": [_matrix(g) for g in p.gammas], "betas": [_matrix(b) for b in p.betas],
            **({"w_up": _matrix(p.w_up)} if p.gated else {}),
            **({"norm": p.norm, "norm_offset": p.norm_offset} if p.norm != "layer" else {})}


def block_to_dict(block_trace, params: bool = True) -> dict:
    """An EncoderBlockTrace or DecoderBlockTrace as plain Python objects: every stage, the FFN and
    LayerNorm parameters (unless `params` is False), and the attention layers as embedded
    `attnviz.trace/1` documents."""
    return plain_tree(_block_body(block_trace, params))


def _block_body(block_trace, params: bool = True) -> dict:
    bt = block_trace
    p = bt.params
    doc = {"kind": bt.kind, "d_model": p.d_model, "d_ff": p.d_ff, "activation": p.activation, "eps": p.eps,
           **({"params": _params_dict(p)} if params else {}), "x": _matrix(bt.x)}
    if bt.kind == "encoder":
        doc.update({"attention": _trace_tree(bt.attention), "residual1": _matrix(bt.residual1),
                    "norm1": _norm_dict(bt.norm1), "ffn": _ffn_dict(bt.ffn), "residual2": _matrix(bt.residual2),
                    "norm2": _norm_dict(bt.norm2)})
    else:
        doc.update({"self_attention": _trace_tree(bt.self_attention), "residual1": _matrix(bt.residual1),
                    "norm1": _norm_dict(bt.norm1), "cross_attention": _trace_tree(bt.cross_attention),
                    "residual2": _matrix(bt.residual2), "norm2": _norm_dict(bt.norm2), "ffn": _ffn_dict(bt.ffn),
                    "residual3": _matrix(bt.residual3), "norm3": _norm_dict(bt.norm3)})
    if getattr(bt, "norm_first", False):
        doc["norm_first"] = True  # pre-LN (GPT-2): LayerNorm before each sublayer, residual after
    for name in ("post_attn", "post_ffn"):  # Gemma 2/3: the norms of each sublayer's output, only when present
        post = getattr(bt, name, None)
        if post is not None:
            doc[name] = _norm_dict(post)
    final = getattr(bt, "final_norm", None)
    doc["final_norm"] = None if final is None else _norm_dict(final)
    doc["model"] = _model_dict((bt.attention if bt.kind == "encoder" else bt.self_attention).model)
    doc["output"] = _matrix(bt.output)
    return doc


def block_to_json(block_trace) -> str:
    """`attnviz.block/1` JSON text: one encoder or decoder block, every intermediate as plain floats
    (a real checkpoint's parameters are left out: they are in its own file)."""
    return _text(_block_tree(block_trace))


def _block_tree(block_trace) -> dict:
    is_model = block_trace.kind == "encoder" and block_trace.attention.model is not None
    return {"format": "attnviz.block/1", "version": __version__, **_block_body(block_trace, params=not is_model)}


def _shapes(shapes) -> list:
    return [{"stage": s.stage, "shape": list(s.shape), "layer": s.layer} for s in shapes]


def flow_to_json(flow_trace) -> str:
    """`attnviz.flow/1` JSON text: the whole encoder–decoder run (an untrained model: the text is
    nonsense) — source tokens, E, P, X, each encoder block, the memory, and per generation step the
    decoder blocks, the last hidden row, logits, softmax, the sampler's candidates and pick."""
    return _text(_flow_tree(flow_trace))


def _flow_tree(flow_trace) -> dict:
    ft = flow_trace
    steps = []
    for st in ft.steps:
        s = st.sampling
        steps.append({
            "number": st.number,
            "tokens": [_token(t) for t in st.tokens],
            "decoder": [_block_body(b, params=False) for b in st.decoder],  # parameters: decoder_params
            "hidden": _matrix(st.hidden),
            "sampling": {"method": s.method, "temperature": s.temperature, "k": s.k, "p": s.p,
                         "logits": _matrix(s.logits), "scaled": _matrix(s.scaled), "probs": _matrix(s.probs),
                         "candidates": _matrix(s.candidates), "renormalized": _matrix(s.renormalized),
                         "choice": s.choice},
            "top": [{"index": t.index, "id": t.id, "label": t.label, "logit": t.logit, "prob": t.prob}
                    for t in st.top],
            "token": _token(st.token),
            "prob": st.prob,
            "shapes": _shapes(st.shapes),
        })
    doc = {
        "format": "attnviz.flow/1",
        "version": __version__,
        "untrained": True,
        "source": ft.source,
        "source_tokens": [_token(t) for t in ft.source_tokens],
        "settings": {"sample": ft.sample, "k": ft.k, "p": ft.p, "temperature": ft.temperature, "seed": ft.seed,
                     "layers": ft.n_layers, "d_model": ft.d_model, "d_k": ft.d_k, "n_heads": ft.n_heads,
                     "d_ff": ft.d_ff, "activation": ft.activation, "tokenizer": ft.tokenizer},
        "vocab": {"ids": _matrix(ft.vocab_ids), "labels": list(ft.vocab_labels),
                  "tokenizer_vocab": ft.tokenizer_vocab},
        "embeddings": _matrix(ft.embeddings),
        "positions": _matrix(ft.positions),
        "x": _matrix(ft.x),
        "encoder": [_block_body(b) for b in ft.encoder],
        "memory": _matrix(ft.memory),
        "decoder_params": [_params_dict(b.params) for b in ft.steps[0].decoder],
        "w_out": _matrix(ft.w_out),
        "steps": steps,
        "output_ids": list(ft.output_ids),
        "output_text": ft.output_text,
        "shapes": _shapes(ft.shapes),
    }
    return doc


def generation_to_json(generation) -> str:
    """`attnviz.generation/1` JSON text of a real encoder–decoder's Generation (`flow --model`)."""
    return _text(_generation_tree(generation))


def _generation_tree(generation) -> dict:
    """{"format", "version", "model", "architecture", "source", "source_ids", "method", "seed", "temperature",
    "vocab", "ids", "text", "stopped", "steps": [{"step", "input_ids", "pick", "label", "prob", "top": [{"id",
    "label", "logit", "prob"}, …], "text"}, …]}: each step's decoder input, its pick and the text so far."""
    gen = generation
    return {"format": "attnviz.generation/1", "version": __version__, "model": gen.model.name,
            "architecture": gen.model.architecture, "source": gen.source,
            "source_ids": [t.id for t in gen.source_tokens], "method": gen.method, "seed": gen.seed,
            "temperature": gen.temperature, "vocab": gen.vocab, "ids": list(gen.ids), "text": gen.text,
            "stopped": gen.stopped,
            "steps": [{"step": s.number, "input_ids": [t.id for t in s.inputs], "pick": s.token.id,
                       "label": s.token.label, "prob": float(s.sampling.probs[s.sampling.choice]),
                       "top": [{"id": t.id, "label": t.label, "logit": t.logit, "prob": t.prob} for t in s.top],
                       "text": s.text} for s in gen.steps]}


def survey_to_json(result) -> str:
    """attnviz.survey/1: {"format", "version", "model", "architecture", "text", "tokens", "scores": {name:
    [[value per head] per layer]}, "induction": {"n", "seed", "ids"}}; layers and heads counted from 0."""
    return _text({"format": "attnviz.survey/1", "version": __version__, "model": result.model,
                  "architecture": result.architecture, "text": result.text,
                  "tokens": [_token(t) for t in result.tokens],
                  "scores": {name: _matrix(grid) for name, grid in result.scores.items()},
                  "induction": {"n": result.induction_n, "seed": result.induction_seed,
                                "ids": list(result.induction_ids)}})


def rollout_to_json(result, layer: int) -> str:
    """attnviz.rollout/1: {"format", "version", "model", "text", "tokens", "weigh", "layer", "rollout": T×T
    (R at `layer`), "mix": T×T (that layer's M), "attention_mix": T×T with value-norm weighing (else null)}."""
    plain = result.attention_mix
    return _text({"format": "attnviz.rollout/1", "version": __version__, "model": result.model,
                  "text": result.text, "tokens": [_token(t) for t in result.tokens], "weigh": result.weigh,
                  "layer": layer, "rollout": _matrix(result.rollout[layer]), "mix": _matrix(result.mix[layer]),
                  "attention_mix": None if plain is None else _matrix(plain[layer])})


def lens_to_json(result) -> str:
    """attnviz.lens/1: {"format", "version", "model", "text", "tokens": [{"label", "id", …}], "layers": [{"layer":
    l, "positions": [{"top": [{"id", "token", "p"}, …], "final_p", "final_rank"}, …]}, …]}; layer l reads the
    residual stream after l layers (0: the embeddings, the last: the model's own output)."""
    layers = []
    for k, lay in enumerate(result.layers):
        positions = [{"top": [{"id": int(i), "token": result.pieces[int(i)], "p": float(p)}
                              for i, p in zip(lay.top_ids[t], lay.top_p[t])],
                      "final_p": float(lay.final_p[t]), "final_rank": int(lay.final_rank[t])}
                     for t in range(len(lay.top_ids))]
        layers.append({"layer": k, "positions": positions})
    return _text({"format": "attnviz.lens/1", "version": __version__, "model": result.model, "text": result.text,
                  "tokens": [_token(t) for t in result.tokens], "layers": layers})


def summary_to_json(summary) -> str:
    """`attnviz.summary/1` JSON text of a SummaryTrace (a long text's tile-by-tile summary, not a full trace):
    per head and query the top-k keys (−1 past the visible keys) and weights, entropy, m (null: nothing
    visible), ℓ and output; the pooled matrices with the first query/key of each pooled row/column; "model"
    ({"name", "architecture", "layer", "n_layers"}, null for seeded weights), "scale" (null: 1/√d_k) and
    "softcap" (null: none) say which checkpoint's layer it is and how its scores were scaled."""
    return _text(_summary_tree(summary))


def _summary_tree(summary) -> dict:
    return {
        "format": "attnviz.summary/1",
        "version": __version__,
        "summary": True,
        "why": f"{len(summary.query_tokens)} tokens: a full trace is made for at most {summary.limit}",
        "text": summary.text,
        "tokens": [_token(t) for t in summary.query_tokens],
        "d_model": summary.d_model, "d_k": summary.d_k, "d_v": summary.d_v, "seed": summary.seed,
        "causal": summary.causal, "window": summary.window, "rope_theta": summary.rope_theta,
        "kv_heads": summary.kv_heads, "weights_source": summary.weights_source, "top_k": summary.top_k,
        "model": _model_dict(summary.model), "scale": summary.scale, "softcap": summary.softcap,
        "pooled_rows": summary.row_starts, "pooled_cols": summary.col_starts,
        "heads": [{"kv_head": h.kv_head, "top_keys": h.top_keys, "top_weights": h.top_weights,
                   "entropy": h.entropy, "m": [_plain(x) for x in h.m], "l": h.ell, "output": h.output,
                   "pooled_weights": h.pooled_weights, "pooled_scores": h.pooled_scores,
                   "pooled_hidden": _matrix(h.pooled_hidden)} for h in summary.heads],
        "concat": summary.concat,
        "output": _matrix(summary.output),
    }


#: Document kinds `write_json` writes: kind → the tree of the object.
DOCUMENTS = {"trace": _trace_tree, "traces": _traces_tree, "lesson": _lesson_tree, "flash": _flash_tree,
             "block": _block_tree, "flow": _flow_tree, "generation": _generation_tree, "summary": _summary_tree}


def write_json(kind: str, obj, stream) -> None:
    """Write the `kind` document (a key of DOCUMENTS) of `obj` to the text stream, a few rows at a time,
    ending with a newline: the same bytes as the matching *_to_json(obj)."""
    for chunk in json_chunks(DOCUMENTS[kind](obj)):
        stream.write(chunk)
    stream.write("\n")
