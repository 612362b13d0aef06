"""Argument checks the figures share: head, focus row, theme, language, precision, drawable numbers."""

from __future__ import annotations

from ...errors import InputError
from ...trace import Trace
from ..text import LANGS
from .style import THEMES

#: Most decimals a figure writes (as the terminal tables: --precision 0 to 8).
MAX_PRECISION = 8


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
    if not 0 <= precision <= MAX_PRECISION:
        raise InputError(f"precision {precision} is out of range: give 0 to {MAX_PRECISION} decimals")


#: The largest magnitude a figure draws: matplotlib's colour scales and tick placement multiply and
#: subtract the values, which overflows for numbers near float64's 1.8e308.
MAX_DRAWN = 1e300


def _check_drawable(top: float, what: str) -> None:
    """Raise InputError when `what`, reaching `top` in magnitude, is too large to draw."""
    if not top <= MAX_DRAWN:
        raise InputError(f"{what} reach {top:.3g}; a figure draws numbers up to ±{MAX_DRAWN:.0e}: show them in the "
                         "terminal or with --json, or scale the weights (or scores) down")
