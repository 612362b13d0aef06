"""What several commands do with their options: the focus row (--query), the head (--head), --download,
and a self-attention trace from a checkpoint's layer or from seeded weights."""

from ..errors import InputError


def _focus(query: str | None, labels: list[str]) -> int:
    """A 1-based index or a token label → a 0-based query row."""
    if query is None:
        return 0
    if query.lstrip("-").isdigit():
        index = int(query)
        if not 1 <= index <= len(labels):
            raise InputError(f"--query {index} is out of range: pick 1 to {len(labels)} (or a token)")
        return index - 1
    if query in labels:
        return labels.index(query)
    shown = ", ".join(labels[:12]) + (", …" if len(labels) > 12 else "")
    raise InputError(f"--query {query!r} is not a token of this text; pick one of: {shown} (or 1 to {len(labels)})")


def _head(head: int, trace) -> int:
    if head > trace.n_heads:
        raise InputError(f"--head {head} is out of range: there are {trace.n_heads} head(s)")
    return head - 1


def _fetch(model: str | None, download: bool) -> None:
    """--download: put a Hugging Face repo named by --model into the local cache first (network)."""
    if download and model is not None:
        from ..models import fetch

        fetch(model)


def _self_trace(text: str, *, model: str | None, layer: int, causal: bool, pad_to: int | None = None,
                no_special: bool = False, **seeded):
    """Self-attention from a real checkpoint's layer (--model) or from seeded/loaded weights."""
    from ..pipeline import model_attention, self_attention
    from ..trace import without_special

    if model is not None:
        trace = model_attention(model, text, layer, causal=True if causal else None, pad_to=pad_to)
    else:
        trace = self_attention(text, causal=causal, pad_to=pad_to, **seeded)
    return without_special(trace) if no_special else trace
