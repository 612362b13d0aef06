"""Rebuild the shipped tokenizer, attnviz/data/tokenizer.json, from samples/corpus.txt.

Run it from anywhere (it finds the repository from its own path):

    python scripts/build_tokenizer.py
    python scripts/build_tokenizer.py --corpus my_corpus.txt --out /tmp/tokenizer.json

What it is for: the default tokenizer cuts Korean with the mecab-ko analyzer (attnviz/morphemes.py)
and takes the ids of the tokens that are pieces of this vocabulary from it (attnviz/tokens.py); where
mecab-ko cannot be imported, this Unigram model splits the Korean itself. Rebuilding it with another
corpus changes those ids (not the hashed ids of other tokens, 16,384 and up, while it stays smaller).

The build is deterministic: the same corpus gives byte-identical files (tests/test_tokens.py checks
the shipped files against a fresh build), so edit the corpus, rerun, and commit them together. Beside
tokenizer.json it writes tokenizer-core.json: the specials and learned pieces alone (see `build`).

What it builds: a Hugging Face `tokenizers` Unigram model with byte fallback.

* normalizer: NFC; pre-tokenizer: split on whitespace, then punctuation and digit runs apart
  (no `▁`/`Ġ` markers: labels come from character offsets anyway);
* pieces: a unigram language model trained on the corpus (below), so frequent stems (고양이, 침대,
  철수 ...), particles and endings (는, 에서, 를, 잔다 ...) and English words or word pieces become
  tokens of their own;
* every Hangul syllable (U+AC00-U+D7A3), Hangul compatibility jamo, ASCII letter, digit and
  punctuation mark, and some common non-ASCII punctuation is a piece, so none of them is ever `<unk>`;
* anything else (emoji, other scripts, combining marks, control characters) falls back to its UTF-8
  bytes, `<0x00>` ... `<0xFF>`;
* special tokens `<unk>` (id 0), `<pad>`, `<bos>`, `<eos>`.

Why the training loop lives here instead of `tokenizers.trainers.UnigramTrainer`: that trainer only
seeds substrings that are branching nodes of a suffix tree over the word list, and a word-final
substring (a particle such as 에서, an ending such as 잔다) is always followed by the word separator,
so it is never a seed and can never become a piece: on this corpus it learns 침대에 | 서 and 잔 | 다.
The loop below is the same algorithm (SentencePiece's unigram EM with the Bayesian M-step and
likelihood-loss pruning) with every substring that occurs at least twice as a seed; in pure Python
it trains in a few seconds.
"""

from __future__ import annotations

import argparse
import math
import string
import sys
import unicodedata
from collections import Counter
from pathlib import Path

from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "samples" / "corpus.txt"
OUT = ROOT / "attnviz" / "data" / "tokenizer.json"

SPECIAL_TOKENS = ("<unk>", "<pad>", "<bos>", "<eos>")
LEARNED_PIECES = 400  # multi-character pieces kept after pruning
MAX_PIECE_LENGTH = 10  # characters
MIN_SEED_FREQUENCY = 2  # a substring must occur this often to be a candidate piece
SHRINKING_FACTOR = 0.75  # each pruning round keeps this share of the pieces
EM_SUB_ITERATIONS = 2
SCORE_DECIMALS = 6  # scores are rounded so the file does not depend on the last bits of libm

#: Characters that must never be <unk>: they get a piece even if the corpus lacks them.
HANGUL_SYLLABLES = "".join(chr(c) for c in range(0xAC00, 0xD7A4))
HANGUL_JAMO = "".join(chr(c) for c in range(0x3131, 0x318F))  # ㄱ ... ㆎ (ㅋㅋ, ㅠㅠ)
ASCII = string.ascii_letters + string.digits + string.punctuation
COMMON_PUNCTUATION = "“”‘’…·–—―「」『』《》〈〉【】、。・～※°₩€£¥«»¿¡"
ALPHABET = HANGUL_SYLLABLES + HANGUL_JAMO + ASCII + COMMON_PUNCTUATION
BYTE_PIECES = tuple(f"<0x{b:02X}>" for b in range(256))


def new_tokenizer(model: models.Model) -> Tokenizer:
    """A tokenizer with attnviz's normalizer, pre-tokenizer and decoder around `model`."""
    tok = Tokenizer(model)
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation(), pre_tokenizers.Digits()]
    )
    tok.decoder = decoders.ByteFallback()
    return tok


def word_counts(lines: list[str]) -> dict[str, int]:
    """Pre-tokenized words of the corpus and how often each occurs, in a fixed order."""
    pre = new_tokenizer(models.Unigram()).pre_tokenizer
    counts: Counter[str] = Counter()
    for line in lines:
        counts.update(w for w, _ in pre.pre_tokenize_str(unicodedata.normalize("NFC", line)))
    return dict(sorted(counts.items()))


# --- unigram language model training ------------------------------------------------------------


def _digamma(x: float) -> float:
    result = 0.0
    while x < 7.0:
        result -= 1.0 / x
        x += 1.0
    x -= 0.5
    xx = 1.0 / x
    xx2 = xx * xx
    xx4 = xx2 * xx2
    return (result + math.log(x) + xx2 / 24.0 - 7.0 / 960.0 * xx4 + 31.0 / 8064.0 * xx4 * xx2
            - 127.0 / 30720.0 * xx4 * xx4)


def _logaddexp(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    hi, lo = (a, b) if a > b else (b, a)
    return hi + math.log1p(math.exp(lo - hi))


def _nodes(word: str, scores: dict[str, float]) -> list[list[tuple[int, str]]]:
    """nodes[i]: (end, piece) for every piece of `scores` that starts at character i of `word`."""
    n = len(word)
    return [
        [(j, word[i:j]) for j in range(i + 1, min(n, i + MAX_PIECE_LENGTH) + 1) if word[i:j] in scores]
        for i in range(n)
    ]


def _viterbi(word: str, scores: dict[str, float], exclude: str | None = None) -> list[str]:
    """The most likely segmentation of `word` (optionally without the piece `exclude`)."""
    n = len(word)
    best = [-math.inf] * (n + 1)
    back: list[tuple[int, str]] = [(0, "")] * (n + 1)
    best[0] = 0.0
    for i, starts in enumerate(_nodes(word, scores)):
        if best[i] == -math.inf:
            continue
        for j, piece in starts:
            if piece == exclude:
                continue
            s = best[i] + scores[piece]
            if s > best[j]:
                best[j], back[j] = s, (i, piece)
    out = []
    j = n
    while j > 0:
        j, piece = back[j]
        out.append(piece)
    return out[::-1]


def _em_step(scores: dict[str, float], words: dict[str, int]) -> dict[str, float]:
    """One E step (expected piece counts by forward-backward) and M step (Bayesian re-estimate)."""
    expected: dict[str, float] = dict.fromkeys(scores, 0.0)
    for word, count in words.items():
        nodes = _nodes(word, scores)
        n = len(word)
        alpha = [-math.inf] * (n + 1)
        alpha[0] = 0.0
        for i in range(n):
            for j, piece in nodes[i]:
                alpha[j] = _logaddexp(alpha[j], alpha[i] + scores[piece])
        beta = [-math.inf] * (n + 1)
        beta[n] = 0.0
        for i in range(n - 1, -1, -1):
            for j, piece in nodes[i]:
                beta[i] = _logaddexp(beta[i], scores[piece] + beta[j])
        z = alpha[n]
        for i in range(n):
            for j, piece in nodes[i]:
                expected[piece] += count * math.exp(alpha[i] + scores[piece] + beta[j] - z)
    # single characters always stay, so that every word keeps a segmentation
    kept = {p: f for p, f in expected.items() if f >= 0.5 or len(p) == 1}
    total = _digamma(sum(kept.values()))
    return {p: _digamma(max(f, 1e-3)) - total for p, f in kept.items()}


def _prune(scores: dict[str, float], words: dict[str, int], size: int) -> dict[str, float]:
    """Keep the `size` multi-character pieces whose removal would cost the most likelihood."""
    freq: dict[str, float] = dict.fromkeys(scores, 0.0)
    used_in: dict[str, float] = dict.fromkeys(scores, 0.0)  # total count of the words using a piece
    for word, count in words.items():
        best = _viterbi(word, scores)
        for piece in best:
            freq[piece] += count
        for piece in set(best):
            used_in[piece] += count
    total = sum(freq.values())
    log_total = math.log(total)
    n_words = sum(words.values())
    losses: list[tuple[float, str]] = []
    for piece in scores:
        if len(piece) == 1 or freq[piece] == 0.0:
            continue  # characters are always kept; unused pieces always go
        alternative = _viterbi(piece, scores, exclude=piece)
        logprob_piece = math.log(freq[piece]) - log_total
        log_total_alt = math.log(total + freq[piece] * (len(alternative) - 1))
        logprob_alt = sum(math.log(freq[a] + freq[piece]) - log_total_alt for a in alternative)
        losses.append((used_in[piece] / n_words * (logprob_piece - logprob_alt), piece))
    losses.sort(key=lambda lp: (-lp[0], lp[1]))
    keep = {p for _, p in losses[:size]}
    return {p: s for p, s in scores.items() if len(p) == 1 or p in keep}


def train_unigram(words: dict[str, int], size: int = LEARNED_PIECES) -> dict[str, float]:
    """Piece → log probability: every character of the corpus and `size` longer pieces."""
    seeds: Counter[str] = Counter()
    for word, count in words.items():
        for i in range(len(word)):
            for j in range(i + 1, min(len(word), i + MAX_PIECE_LENGTH) + 1):
                seeds[word[i:j]] += count
    # SentencePiece's seed score: frequency × length for substrings, frequency for characters
    seed = {p: float(f * len(p)) for p, f in sorted(seeds.items())
            if len(p) == 1 or f >= MIN_SEED_FREQUENCY}
    log_total = math.log(sum(seed.values()))
    scores = {p: math.log(f) - log_total for p, f in seed.items()}
    while True:
        for _ in range(EM_SUB_ITERATIONS):
            scores = _em_step(scores, words)
        multi = sum(len(p) > 1 for p in scores)
        if multi <= size:
            return scores
        scores = _prune(scores, words, max(size, int(multi * SHRINKING_FACTOR)))


# --- the tokenizer file -------------------------------------------------------------------------


def vocabulary(scores: dict[str, float]) -> list[tuple[str, float]]:
    """Specials, learned pieces (best first), the rest of the alphabet, then the 256 byte pieces."""
    def rounded(x: float) -> float:
        return round(x, SCORE_DECIMALS)

    learned = sorted(scores.items(), key=lambda ps: (-rounded(ps[1]), ps[0]))
    vocab = [(t, 0.0) for t in SPECIAL_TOKENS] + [(p, rounded(s)) for p, s in learned]
    floor = rounded(min(scores.values()) - 1.0)
    seen = set(scores)
    vocab += [(c, floor) for c in ALPHABET if c not in seen]
    vocab += [(b, rounded(floor - 1.0)) for b in BYTE_PIECES]
    return vocab


def core_path(out: Path) -> Path:
    """Where the core file goes beside `out`: tokenizer.json → tokenizer-core.json."""
    return Path(out).with_name(Path(out).stem + "-core.json")


def build(corpus: Path = CORPUS, out: Path = OUT) -> Tokenizer:
    """Train on `corpus` (one sentence a line); write the tokenizer.json to `out` and its core beside it.

    The core file holds the same tokenizer with the specials and learned pieces alone (the same ids, no
    alphabet fill and no byte pieces): attnviz.tokens uses it, because it loads in a tenth of the time,
    for any text whose every character is a learned single-character piece, where it gives the same
    tokens as the full file."""
    lines = [ln for ln in Path(corpus).read_text(encoding="utf-8").splitlines() if ln.strip()]
    scores = train_unigram(word_counts(lines))
    vocab = vocabulary(scores)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    learned = vocab[:len(SPECIAL_TOKENS) + len(scores)]  # specials and learned pieces: ids 0 … n−1 in both files
    tokenizers = []
    for path, pieces, fallback in ((out, vocab, True), (core_path(out), learned, False)):
        tok = new_tokenizer(models.Unigram(pieces, unk_id=0, byte_fallback=fallback))
        tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS])
        path.write_text(tok.to_str(pretty=False) + "\n", encoding="utf-8")
        tokenizers.append(tok)
    return tokenizers[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS, help=f"default: {CORPUS}")
    parser.add_argument("--out", type=Path, default=OUT, help=f"default: {OUT}")
    args = parser.parse_args(argv)
    tok = build(args.corpus, args.out)
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({tok.get_vocab_size()} ids, {size / 1024:.0f} KiB)")
    for text in ("고양이는 침대에서 잔다", "철수가 사과를 맛있게 먹었다", "안녕하세요, 오늘 날씨는?",
                 "The fluffy blue creature roamed the verdant forest"):
        enc = tok.encode(text)
        print("  " + " | ".join(text[s:e] for s, e in enc.offsets))
    return 0


if __name__ == "__main__":
    sys.exit(main())
