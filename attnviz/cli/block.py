"""`attnviz block` and `attnviz flow`: one transformer block, and the encoder–decoder walk-through."""

from pathlib import Path
from typing import Annotated

import typer

from ..errors import InputError
from ..output import Output, _finish, _json
from . import app
from .common import _fetch, _focus
from .options import (
    DFF,
    DK,
    SEED_SENTENCE,
    Activation,
    ActivationOpt,
    DModel,
    Download,
    FFNKind,
    Layer,
    ModelOpt,
    NHeads,
    NormKind,
    Query,
    Sample,
    Seed,
    Text,
    TokenizerOpt,
    WeightsFile,
    output_options,
    text_input,
)


@app.command()
@output_options()
@text_input()
def block(
    text: Text = None,
    decoder: Annotated[bool, typer.Option("--decoder", help="A decoder block: masked self-attention, then "
                                                            "cross-attention over --source.")] = False,
    source: Annotated[str | None, typer.Option(help="The encoder's sentence for --decoder.")] = None,
    d_ff: DFF = None,
    activation: ActivationOpt = Activation.gelu,
    n_heads: NHeads = 1,
    query: Query = None,
    norm: Annotated[NormKind, typer.Option(help="The seeded block's norms: LayerNorm, or RMSNorm (Llama).")
                    ] = NormKind.layer,
    ffn: Annotated[FFNKind, typer.Option(help="The seeded block's FFN: plain act(x·W₁ + b₁)·W₂ + b₂, or gated "
                                              "(act(x·W_gate) ⊙ x·W_up)·W_down with a SiLU (swiglu, Llama) or "
                                              "GELU (geglu, Gemma) gate; gated ignores --activation.")
                   ] = FFNKind.plain,
    pre_norm: Annotated[bool, typer.Option("--pre-norm", help="The seeded encoder block in pre-norm order (GPT-2, "
                                                              "Llama): x + Attn(N(x)), then + FFN(N(·)).")] = False,
    *,
    out: Output,
    seed: Seed = 0,
    d_model: DModel = 8,
    d_k: DK = 4,
    weights: WeightsFile = None,
    tokenizer: TokenizerOpt = "default",
    model: ModelOpt = None,
    download: Download = False,
    layer: Layer = 0,
) -> None:
    """One transformer block: attention → residual → LayerNorm → feed-forward → residual → LayerNorm.

    \b
    Example: attnviz block "고양이는 침대에서 잔다"
    Llama-style, by hand: attnviz block "고양이는 침대에서 잔다" --norm rms --ffn swiglu --pre-norm
    Decoder: attnviz block "고양이는" --decoder --source "고양이는 침대에서 잔다"
    Real model: attnviz block "The cat sat on the mat" --model minilm --layer 2
    """
    _fetch(model, download)
    from ..block import block_from_text
    from ..pipeline import make_weights

    sentence = SEED_SENTENCE if text is None else text
    if model is not None:
        if decoder:
            raise InputError("--decoder shows the seeded decoder block; --model shows a checkpoint's own layer: "
                             "use one or the other")
        if norm is not NormKind.layer or ffn is not FFNKind.plain or pre_norm:
            raise InputError("--norm, --ffn and --pre-norm build the seeded block; a --model checkpoint has its own "
                             "norms and FFN: drop one or the other")
        from ..models import block_trace, load_model

        bt = block_trace(load_model(model), sentence, layer)
    else:
        w = make_weights(seed, d_model, d_k, n_heads, weights)
        bt = block_from_text(sentence, w, seed=seed, d_ff=d_ff, activation=activation.value, decoder=decoder,
                             source=source, tokenizer=tokenizer, norm=norm.value, ffn=ffn.value, norm_first=pre_norm)
    attn = bt.self_attention if decoder else bt.attention
    focus = _focus(query, [t.label for t in attn.query_tokens])

    def terminal(view):
        from ..render.terminal import block_view

        return block_view(bt, focus=focus, view=view)

    def figure(fig, style):
        return fig.block_figure(bt, **style)

    _finish(out, name="block", doc=lambda: _json("block_to_json", bt), terminal=terminal, figure=figure, trace=attn)


@app.command()
@output_options(png=False)
@text_input("source")
def flow(
    source: Annotated[str | None, typer.Argument(
        help=f"The encoder's input \\[default: {SEED_SENTENCE}]", show_default=False)] = None,
    layers: Annotated[int, typer.Option(min=1, max=12, help="Encoder and decoder blocks.")] = 2,
    steps: Annotated[int, typer.Option(min=1, max=64, help="Tokens to generate.")] = 4,
    sample: Annotated[Sample, typer.Option(help="How the next token is picked.")] = Sample.greedy,
    k: Annotated[int, typer.Option(min=1, help="top-k: sample among the k most probable tokens.")] = 5,
    p: Annotated[float, typer.Option(min=1e-6, max=1.0, help="top-p: sample within this probability mass.")
                 ] = 0.9,
    temperature: Annotated[float, typer.Option(min=1e-6, help="Divide the logits by this: >1 flattens.")] = 1.0,
    d_ff: DFF = None,
    activation: ActivationOpt = Activation.gelu,
    n_heads: NHeads = 1,
    *,
    out: Output,
    seed: Seed = 0,
    d_model: DModel = 8,
    d_k: DK = 4,
    tokenizer: TokenizerOpt = "default",
    model: ModelOpt = None,
    download: Download = False,
) -> None:
    """The encoder–decoder walk-through, step by step: a seeded toy model, or a real one with --model.

    On a tiny untrained seeded model: ids → embeddings → encoder blocks → <BOS> → decoder blocks → logits →
    softmax → sampling, repeated for --steps tokens. The model is untrained, so the text it makes is nonsense:
    the point is the flow of shapes and numbers. --out-dir saves each step's decoder self-attention and cross-
    attention figures.

    With --model (an encoder–decoder: T5, BART, Marian) the real model writes: each step's logits, softmax,
    top tokens, the pick (greedy: transformers' generate(do_sample=False)) and the text so far.

    \b
    Example: attnviz flow "안녕하세요, 오늘 날씨는?" --steps 3 --sample top-k --k 5
    Real model: attnviz flow "고양이는 침대에서 잔다" --model DIR --steps 8
    """
    if model is not None:
        _fetch(model, download)
        return _model_flow(SEED_SENTENCE if source is None else source, model, steps=steps, method=sample.value,
                           k=k, p=p, temperature=temperature, seed=seed, out=out)
    from ..flow import flow as run_flow

    ft = run_flow(SEED_SENTENCE if source is None else source, seed=seed, n_layers=layers, steps=steps,
                  sample_method=sample.value, k=k, p=p, temperature=temperature, d_model=d_model, d_k=d_k,
                  n_heads=n_heads, d_ff=d_ff, activation=activation.value, tokenizer=tokenizer)
    def step_figures(fig, style, out_dir: Path) -> None:  # --out-dir: each step's two figures
        for step in ft.steps:
            last = step.decoder[-1]
            fig.save_view(fig.mask_figure(last.self_attention, **style), out_dir / f"step{step.number}-self.png",
                          dpi=out.dpi)
            fig.save_view(fig.cross_figure(last.cross_attention, focus=len(step.tokens) - 1, **style),
                          out_dir / f"step{step.number}-cross.png", dpi=out.dpi)

    def terminal(view):
        from ..render.terminal import flow_view

        return flow_view(ft, view=view)

    _finish(out, name="flow", doc=lambda: _json("flow_to_json", ft), terminal=terminal, figure=None,
            extra=step_figures)


def _model_flow(source: str, model: str, *, steps: int, method: str, k: int, p: float, temperature: float,
                seed: int, out: Output) -> None:
    """`flow --model`: a real encoder–decoder generating, step by step."""
    from ..models import load_model
    from ..models.encdec import generate

    gen = generate(load_model(model), source, steps, method=method, k=k, p=p, temperature=temperature, seed=seed)

    def terminal(view):
        from ..render.terminal import generation_view

        return generation_view(gen, view=view)

    _finish(out._replace(out_dir=None, png=None), name="flow", doc=lambda: _json("generation_to_json", gen),
            terminal=terminal, figure=None)
