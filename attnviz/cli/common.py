"""What several commands do with their options: the focus row (--query), the head (--head), --download,
and a self-attention trace from a checkpoint's layer or from seeded weights."""

from ..errors import InputError


def _focus(query: str | None, labels: list[str]) -> int:
    """A 1-based index or a token label → a 0-based query row. An index in range wins; a number out of
    range that is a token of the text ("20" in a list of years) is that token. ASCII digits only: "²" and
    "٣" pass str.isdigit() but are tokens, not numbers."""
    if query is None:
        return 0
    number = query[1:] if query.startswith("-") else query
    if number.isascii() and number.isdigit():
        index = int(query)
        if 1 <= index <= len(labels):
            return index - 1
        if query not in labels:
            raise InputError(f"--query {index} is out of range: pick 1 to {len(labels)} (or a token)")
    if query in labels:
        return labels.index(query)
    shown = ", ".join(labels[:12]) + (", …" if len(labels) > 12 else "")
    raise InputError(f"--query {query!r} is not a token of this text; pick one of: {shown} (or 1 to {len(labels)})")


def _head(head: int, trace) -> int:
    if head > trace.n_heads:
        raise InputError(f"--head {head} is out of range: there are {trace.n_heads} head(s)")
    return head - 1


#: stage → (what the trace must have, how to get a trace that has it)
_STAGE_NEEDS = {
    "rope": ("rotary positions (RoPE)", "use a Llama-family --model or --rope"),
    "gqa": ("grouped-query attention (fewer K/V heads than query heads)",
            "use a Llama-family --model, or attnviz heads --heads 4 --kv-heads 2 --head 1"),
    "softcap": ("soft-capped scores", "use a Gemma 2 --model"),
    "mask": ("a mask", "add --causal or --window, or use a decoder --model"),
}


def _check_stage(stage: str, trace, head: int) -> None:
    """--stage rope/gqa/softcap/mask on a trace without that stage: an InputError saying how to get one."""
    if stage not in _STAGE_NEEDS:
        return
    info, hd = trace.attention, trace.heads[head]
    has = {"rope": info is not None and info.rope is not None,
           "gqa": info is not None and info.n_kv_heads != trace.n_heads,
           "softcap": hd.capped is not None, "mask": hd.mask is not None}[stage]
    if not has:
        what, fix = _STAGE_NEEDS[stage]
        raise InputError(f"--stage {stage}: this trace has no {what}; {fix}")


def _modern(model: str | None, rope: bool = False, rope_theta: float = 10000.0, kv_heads: int | None = None,
            window: int | None = None) -> dict:
    """--rope/--rope-theta, --kv-heads and --window as self_attention's keyword arguments (None: not asked for).
    They build the seeded model's parts; a --model checkpoint has its own, so asking for both is an error."""
    given = [name for name, on in (("--rope", rope), ("--kv-heads", kv_heads is not None),
                                   ("--window", window is not None)) if on]
    if model is not None and given:
        raise InputError(f"{', '.join(given)} change the seeded model; a --model checkpoint has its own positions, "
                         "K/V heads and mask: drop one or the other")
    return {"rope_theta": rope_theta if rope else None, "kv_heads": kv_heads, "window": window}


def _fetch(model: str | None, download: bool) -> None:
    """--download: put a Hugging Face repo named by --model into the local cache first (network)."""
    if download and model is not None:
        from ..models import fetch

        fetch(model)


def _self_trace(text: str, *, model: str | None, layer: int, causal: bool, pad_to: int | None = None,
                no_special: bool = False, decoder: str | None = None, progress=None, **seeded):
    """Self-attention from a real checkpoint's layer (--model) or from seeded/loaded weights. An encoder–decoder
    --model gives its encoder's layer, or with `decoder` (a target text) its decoder's masked self-attention."""
    from ..pipeline import self_attention_or_summary
    from ..trace import Trace, without_special

    if model is not None:
        from ..models import load_model, model_trace_or_summary

        m = load_model(model)
        if getattr(m.arch, "encoder_decoder", False):
            from ..models.encdec import decoder_trace, encoder_trace

            trace = encoder_trace(m, text, layer) if decoder is None else decoder_trace(m, text, decoder, layer)
        elif decoder is not None:
            raise InputError(f"--decoder needs an encoder–decoder --model (t5, bart, marian); {m.name} is a "
                             f"{m.architecture}")
        else:
            trace = model_trace_or_summary(m, text, layer, causal=True if causal else None, pad_to=pad_to,
                                           progress=progress)
    else:
        trace = self_attention_or_summary(text, causal=causal, pad_to=pad_to, progress=progress, **seeded)
    if no_special and not isinstance(trace, Trace):
        raise InputError(f"--no-special needs a full trace: give at most {trace.limit} tokens")
    return without_special(trace) if no_special else trace


def _read_text(text: str | None, file=None) -> str | None:
    """The command's text: TEXT as given, `-` → standard input, --file PATH → that file; UTF-8 (a byte-order
    mark is dropped) without its final line break. A missing, unreadable, non-UTF-8 or empty source is an
    InputError saying how to fix it."""
    import sys

    if file is not None and text is not None:
        raise InputError("give the text as TEXT or with --file, not both")
    if file is None and text != "-":
        return text
    if file is not None:
        where = f"--file {file}"
        try:
            data = file.read_bytes()
        except FileNotFoundError:
            raise InputError(f"{where}: no such file; check the path") from None
        except IsADirectoryError:
            raise InputError(f"{where} is a folder: give a text file") from None
        except OSError as exc:
            raise InputError(f"{where} cannot be read ({exc.strerror or exc}): check its permissions") from None
    else:
        where = "standard input"
        if sys.stdin is None or sys.stdin.isatty():
            raise InputError("TEXT is -, which reads standard input, but nothing is piped in: "
                             "attnviz explain - < essay.txt")
        stream = getattr(sys.stdin, "buffer", None)
        data = stream.read() if stream is not None else sys.stdin.read().encode("utf-8", "surrogateescape")
    try:
        decoded = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{where} is not UTF-8 text (byte {exc.start} is 0x{data[exc.start]:02x}): "
                         "save it as UTF-8") from None
    decoded = decoded.rstrip("\r\n")
    if not decoded.strip():
        fix = "give a file with text in it" if file is not None else "pipe a text in (attnviz explain - < essay.txt)"
        raise InputError(f"{where} is empty: {fix}")
    return decoded


def _stderr_is_terminal() -> bool:
    import sys

    return sys.stderr is not None and sys.stderr.isatty()


class _Progress:
    """A rich progress bar on stderr for work that passes ~1 s: `progress(rows, total)` after each tile of query
    rows. Only when stderr is a terminal and no JSON is written; nothing is drawn for quick runs."""

    DELAY = 1.0  # seconds before the bar appears

    def __init__(self, what: str, out) -> None:
        import threading
        import time

        self.total, self.what, self.done, self.bar, self.task = 0, what, 0, None, None
        self.start = time.monotonic()
        self.enabled = out.json_out is None and _stderr_is_terminal()
        self.lock = threading.Lock()  # a model's heads report from two threads (models/long.py)

    def __call__(self, rows: int, total: int) -> None:
        import time

        with self.lock:
            self.done, self.total = self.done + rows, total
            if not self.enabled:
                return
            if self.bar is None and time.monotonic() - self.start > self.DELAY:
                from rich.console import Console
                from rich.progress import Progress

                console = Console(stderr=True, force_terminal=True)  # stderr is a terminal (checked above)
                self.bar = Progress(console=console, transient=True)
                self.bar.start()
                self.task = self.bar.add_task(self.what, total=self.total)
            if self.bar is not None:
                self.bar.update(self.task, completed=self.done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _summary_finish(out, summary, *, focus: int, head: int) -> None:
    """Hand a SummaryTrace (a text past the full trace's limit) to the terminal, JSON (attnviz.summary/1) and
    its block-pooled figure."""
    from ..output import _finish, _json

    if not 0 <= head < summary.n_heads:
        raise InputError(f"--head {head + 1} is out of range: there are {summary.n_heads} head(s)")

    def terminal(view):
        from ..render.terminal import summary_view

        return summary_view(summary, focus=focus, head=head, view=view)

    def figure(fig, style):
        from ..render.figure.summary import summary_figure

        return summary_figure(summary, head=head, **style)

    _finish(out, name="summary", doc=lambda: _json("summary_to_json", summary), terminal=terminal, figure=figure)
