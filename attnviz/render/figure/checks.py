"""Argument checks the figures share: head, focus row, theme, language and precision."""

from __future__ import annotations

from ...errors import InputError
from ...trace import Trace
from ..text import LANGS
from .style import THEMES


def _check_focus(trace: Trace, focus: int) -> None:
    t = len(trace.query_tokens)
    if not 0 <= focus < t:
        raise InputError(f"query row {focus} does not exist: this trace has query rows 0 to {t - 1}")


def _check(trace: Trace, head: int, theme: str, lang: str, precision: int) -> None:
    if not 0 <= head < trace.n_heads:
        raise InputError(f"head {head} does not exist: this trace has heads 0 to {trace.n_heads - 1}")
    _check_style(theme, lang, precision)


def _check_style(theme: str, lang: str, precision: int) -> None:
    if theme not in THEMES:
        raise InputError(f"unknown theme {theme!r}: choose one of {', '.join(THEMES)}")
    if lang not in LANGS:
        raise InputError(f"unknown language {lang!r}: choose one of {', '.join(LANGS)}")
    if not 0 <= precision <= 6:
        raise InputError(f"precision {precision} is out of range: give 0 to 6 decimals")
