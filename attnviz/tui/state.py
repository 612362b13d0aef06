"""Where the explorer is: the text's traces (one per layer and mask, computed once) and the user's place in
them — focus query, stage, head, layer, mask, language, theme. No Textual here: the app calls these moves
and draws what they leave; the tests drive them directly too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..trace import Trace, without_special
from .stages import ALL_STAGES, stage_names

#: The stages ↑/↓ step through for a seeded layer, in the order the textbooks teach them (the explain panels,
#: with the mask between ÷√d_k and softmax and the weighted sum apart from the layer's output). A real model's
#: trace may add rope, gqa and softcap (stages.stage_names).
STAGES = ("input", "qkv", "scores", "scaled", "mask", "softmax", "weighted", "output")

__all__ = ["ALL_STAGES", "STAGES", "Explorer", "Source", "model_source", "seeded_source"]


@dataclass(frozen=True)
class Source:
    """What the traces come from: `trace_for(layer, causal)` computes one layer with or without the causal
    mask. `n_layers` is 1 for the seeded layer; `model` names a real checkpoint (None when seeded)."""

    trace_for: Callable[[int, bool], Trace]
    n_layers: int = 1
    model: str | None = None
    causal: bool = False  # the mask of the first screen: the model's own (GPT-2 causal) or --causal
    details: str = ""  # the seeded settings ("seed 0 · d_model 8 · d_k 4") shown in the status line


def seeded_source(text: str, *, seed: int = 0, d_model: int = 8, d_k: int = 4, n_heads: int = 1,
                  weights: str | None = None, tokenizer: str = "default", causal: bool = False) -> Source:
    """The seeded (or --weights) layer of `text`: one layer, `n_heads` heads."""
    from ..pipeline import self_attention

    def trace_for(layer: int, masked: bool) -> Trace:
        return self_attention(text, seed=seed, d_model=d_model, d_k=d_k, n_heads=n_heads, weights=weights,
                              tokenizer=tokenizer, causal=masked)

    details = f"weights {weights}" if weights is not None else f"seed {seed} · d_model {d_model} · d_k {d_k}"
    return Source(trace_for, 1, None, causal, details)


def model_source(model: str, text: str, *, causal: bool | None = None, no_special: bool = False) -> Source:
    """A real checkpoint's layers of `text`: the model is opened once; each layer is run when first shown.
    causal=None keeps the model's own mask (GPT-2 causal, encoders none)."""
    from ..models import load_model, model_trace

    opened = load_model(model)

    def trace_for(layer: int, masked: bool) -> Trace:
        trace = model_trace(opened, text, layer, causal=masked)
        return without_special(trace) if no_special else trace

    own = bool(opened.causal) if causal is None else causal
    return Source(trace_for, opened.n_layers, opened.name, own, "")


@dataclass
class Explorer:
    """The explorer's state. Every move keeps it valid (focus within the tokens, head within the heads…)
    and says whether anything changed, so the app redraws only then."""

    source: Source
    focus: int = 0
    stage: str = "input"  # one of self.stages
    head: int = 0
    layer: int = 0
    lang: str = "en"
    theme: str = "light"
    precision: int = 2
    causal: bool = field(default=False)
    _traces: dict[tuple[int, bool], Trace] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.causal = self.source.causal
        self.layer = min(max(self.layer, 0), self.source.n_layers - 1)
        trace = self.trace  # computes the first screen's trace (raising AttnvizError on bad input)
        self.focus = min(max(self.focus, 0), len(trace.query_tokens) - 1)
        self.head = min(max(self.head, 0), trace.n_heads - 1)
        if self.stage not in ALL_STAGES:
            raise ValueError(f"unknown stage {self.stage!r}")

    @property
    def trace(self) -> Trace:
        """The trace of the current layer and mask (computed the first time it is asked for)."""
        key = (self.layer, self.causal)
        if key not in self._traces:
            self._traces[key] = self.source.trace_for(*key)
        return self._traces[key]

    @property
    def stages(self) -> tuple[str, ...]:
        """The current trace's stages (a real model's may add rope, gqa, softcap)."""
        return stage_names(self.trace, self.head)

    @property
    def stage_name(self) -> str:
        """The current stage (the nearest earlier one of this trace when it lacks the one asked for)."""
        return self.stages[self.stage_index]

    @property
    def stage_index(self) -> int:
        names, order = self.stages, ALL_STAGES.index(self.stage)
        return max(i for i, name in enumerate(names) if ALL_STAGES.index(name) <= order)

    @property
    def n_tokens(self) -> int:
        return len(self.trace.query_tokens)

    def move_focus(self, step: int) -> bool:
        """Move the focus query by `step` tokens (stops at either end)."""
        return self.set_focus(self.focus + step)

    def set_focus(self, index: int) -> bool:
        new = min(max(index, 0), self.n_tokens - 1)
        changed, self.focus = new != self.focus, new
        return changed

    def move_stage(self, step: int) -> bool:
        """Step through the stages (stops at input and at output)."""
        return self.set_stage(self.stage_index + step)

    def set_stage(self, index: int) -> bool:
        """Go to stage `index` of self.stages."""
        names = self.stages
        new = names[min(max(index, 0), len(names) - 1)]
        changed, self.stage = new != self.stage_name, new
        return changed

    def move_head(self, step: int) -> bool:
        """Next or previous head, wrapping around; False with one head."""
        n = self.trace.n_heads
        new = (self.head + step) % n
        changed, self.head = new != self.head, new
        return changed

    def move_layer(self, step: int) -> bool:
        """Next or previous layer of a real model, wrapping around; False for the one seeded layer."""
        n = self.source.n_layers
        new = (self.layer + step) % n
        changed, self.layer = new != self.layer, new
        self.head = min(self.head, self.trace.n_heads - 1)
        return changed

    def toggle_mask(self) -> None:
        """The causal (look-ahead) mask on or off: another trace of the same text."""
        self.causal = not self.causal
        self.focus = min(self.focus, self.n_tokens - 1)

    def toggle_lang(self) -> None:
        self.lang = "ko" if self.lang == "en" else "en"

    def toggle_theme(self) -> None:
        self.theme = "dark" if self.theme == "light" else "light"
