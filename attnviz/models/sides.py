"""The two sides of a translation model: the tokenizer that reads the source and the one that writes the target.

T5 and BART use one tokenizer.json for both. Marian checkpoints (opus-mt) ship SentencePiece models instead,
`source.spm` and `target.spm`, and one `vocab.json` mapping every piece of either side to the model's ids;
a text is cut by its side's model, each piece looked up in vocab.json (unknown pieces → `<unk>`), and `</s>`
appended — what transformers' MarianTokenizer does. The SentencePiece models are read by the `sentencepiece`
package (an optional extra: `pip install "attnviz[marian]"`), never by a hand-written parser.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import ModelError
from ..tokens import Token, Tokenizer, visible

SPM_FILES = ("source.spm", "target.spm", "vocab.json")
SPM_INSTALL = 'pip install sentencepiece  (or pip install "attnviz[marian]")'


class TextSide(Tokenizer):
    """A tokenizer.json side: encode with its post-processor's special tokens, decode without them."""

    def decode(self, ids) -> str:
        return self._hf.decode([int(i) for i in ids], skip_special_tokens=True)

    def piece(self, i: int) -> str:
        return self._hf.id_to_token(int(i)) or f"<{int(i)}>"

    def token(self, i: int, special: bool = False) -> Token:
        piece = self.piece(i)
        label = piece if special else visible(self.decode([i]).strip() or piece)
        return Token(label, piece, int(i), 0, 0, special=special)


class SpmSide(Tokenizer):
    """One side of a Marian checkpoint: its SentencePiece model and the shared vocab.json."""

    def __init__(self, path: Path, vocab: dict[str, int], processor: Any):
        self.name = str(path)
        self._hf = None
        self._sp = processor
        self._vocab = vocab
        self._pieces = {i: p for p, i in vocab.items()}
        self.unk_id = vocab.get("<unk>", 1)
        self.eos_id = vocab.get("</s>", 0)
        self._special = {i for p, i in vocab.items() if p in ("</s>", "<unk>", "<pad>")}

    @property
    def vocab_size(self) -> int:
        return len(self._vocab)

    def encode(self, text: str) -> tuple[Token, ...]:
        """The pieces of `text` (each labelled by the span of text it covers), then `</s>`."""
        pieces = self._sp.encode(text, out_type=str)
        out, pos = [], 0
        for piece in pieces:
            surface = piece.replace("\u2581", " ").strip()
            k = text.find(surface, pos) if surface else -1
            if k >= 0 and not text[pos:k].strip():
                start, end = k, k + len(surface)
                pos = end
            else:
                start = end = pos
            out.append(Token(visible(surface) or "␣", piece, self._vocab.get(piece, self.unk_id), start, end))
        return (*out, Token("</s>", "</s>", self.eos_id, len(text), len(text), special=True))

    def decode(self, ids) -> str:
        pieces = [self._pieces[int(i)] for i in ids if int(i) not in self._special and int(i) in self._pieces]
        return self._sp.decode_pieces(pieces)

    def piece(self, i: int) -> str:
        return self._pieces.get(int(i), f"<{int(i)}>")

    def token(self, i: int, special: bool = False) -> Token:
        piece = self.piece(i)
        special = special or int(i) in self._special
        label = piece if special else visible(self.decode([i]).strip() or piece.replace("\u2581", "")) or "␣"
        return Token(label, piece, int(i), 0, 0, special=special)


def has_spm(folder: Path) -> bool:
    return (folder / "source.spm").is_file()


def load_spm_sides(folder: Path) -> tuple[SpmSide, SpmSide]:
    """(source side, target side) from source.spm, target.spm and vocab.json."""
    missing = [f for f in SPM_FILES if not (folder / f).is_file()]
    if missing:
        raise ModelError(f"{folder} has source.spm but no {' and no '.join(missing)}: a Marian checkpoint holds "
                         f"{', '.join(SPM_FILES)}")
    try:
        import sentencepiece
    except ImportError:
        raise ModelError(f"{folder.name} is a Marian checkpoint whose tokenizers are SentencePiece models "
                         f"(source.spm, target.spm): install the optional extra with `{SPM_INSTALL}`") from None
    try:
        vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
        if not isinstance(vocab, dict) or not all(isinstance(v, int) for v in vocab.values()):
            raise ValueError("not a piece → id object")
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        why = "nested too deeply" if isinstance(exc, RecursionError) else " ".join(str(exc).split())[:120]
        raise ModelError(f"{folder / 'vocab.json'} is not readable ({why}): save the tokenizer again") from None
    sides = []
    for name in ("source.spm", "target.spm"):
        try:
            sp = sentencepiece.SentencePieceProcessor(model_file=str(folder / name))
        except (OSError, RuntimeError) as exc:
            raise ModelError(f"{folder / name} is not a SentencePiece model ({str(exc)[:100]}): "
                             "save the tokenizer again") from None
        sides.append(SpmSide(folder / name, vocab, sp))
    return sides[0], sides[1]
