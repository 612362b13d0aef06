"""Tiny tokenizers shaped like the real families' (shared by the make_*_golden.py scripts; never by attnviz).

Two trainings on samples/corpus.txt, both deterministic (same corpus and versions, same vocabulary):

* `byte_level()`: one byte-level BPE (500 pieces: the 256 bytes and 244 merges) trained with the `tokenizers`
  library under Llama 3's pre-tokenizer; every byte-level family reuses its vocabulary and merges, with that
  family's own pre-tokenizer, special tokens and post-processor (Llama 3, Qwen2/Qwen3, BART, GPT-2).
* `sentencepiece(...)`: SentencePiece BPE models with byte fallback (`<0x00>` … `<0xFF>`), trained with the
  `sentencepiece` package, as Llama 2, Mistral, Phi-3 and Gemma were; their tokenizer.json is built here the way
  those checkpoints' tokenizer.json files are laid out (normalizer, BPE with byte_fallback, template), and checked
  to encode every corpus line exactly as SentencePiece itself does.

Real layouts mirrored (ids shrunk to this vocabulary):

| family | pieces | specials | added to a text |
| --- | --- | --- | --- |
| Llama 3 | byte-level BPE, Llama 3 split regex | `<|begin_of_text|>` … after the pieces | `<|begin_of_text|>` first |
| Qwen2, Qwen3 | byte-level BPE, Qwen split regex, NFC | `<|endoftext|>`, `<|im_start|>`, `<|im_end|>` | nothing |
| Mistral (= Llama 2) | SentencePiece BPE, `▁` prefix, byte fallback | `<unk>` 0, `<s>` 1, `</s>` 2 | `<s>` first |
| Phi-3 | Mistral's, plus `<|endoftext|>`, `<|end|>`, … after the pieces | as Mistral | nothing (add_bos_token false) |
| Gemma 2, Gemma 3 | SentencePiece BPE, no `▁` prefix | `<pad>` 0, `<eos>` 1, `<bos>` 2, `<unk>` 3 | `<bos>` first |
"""

from __future__ import annotations

import functools
import io
import json
import os
import sys
import tempfile
from pathlib import Path

import sentencepiece as spm
import tokenizers
from tokenizers import AddedToken, Regex, decoders, models, normalizers, pre_tokenizers, processors, trainers

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # one thread: no run-to-run variation to worry about

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "samples" / "corpus.txt"
BYTE_LEVEL_SIZE = 500
SP_SIZE = 640  # SentencePiece needs room for 259 meta pieces and the ~350 characters of 98 % coverage

# The split regexes of the real tokenizer.json files (Llama 3 groups up to three digits, Qwen one).
LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
                r"\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
              r"\s*[\r\n]+|\s+(?!\S)|\s+")

LLAMA3_SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
                   "<|reserved_special_token_1|>", "<|finetune_right_pad_id|>", "<|reserved_special_token_2|>",
                   "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>", "<|eot_id|>", "<|python_tag|>",
                   "<|reserved_special_token_3|>"]
QWEN_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
QWEN3_ADDED = ["<think>", "</think>"]  # added, but not special: Qwen3 keeps them when decoding
PHI3_ADDED = ["<|endoftext|>", "<|assistant|>", "<|system|>", "<|end|>", "<|user|>"]
GEMMA_TURNS = ["<start_of_turn>", "<end_of_turn>"]


def corpus_lines() -> list[str]:
    return [line for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


# ---------------------------------------------------------------------------------------------------------------
# byte-level BPE


def _split(pattern: str) -> pre_tokenizers.Split:
    return pre_tokenizers.Split(Regex(pattern), behavior="isolated", invert=False)


@functools.cache
def byte_level() -> tuple[dict[str, int], list[tuple[str, str]]]:
    """(vocab, merges) of the one byte-level BPE, trained under Llama 3's pre-tokenizer without special tokens."""
    tok = tokenizers.Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [_split(LLAMA3_SPLIT), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    trainer = trainers.BpeTrainer(vocab_size=BYTE_LEVEL_SIZE, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus_lines(), trainer)
    model = json.loads(tok.to_str())["model"]
    merges = [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    if len(model["vocab"]) != BYTE_LEVEL_SIZE:
        sys.exit(f"byte-level BPE: {len(model['vocab'])} pieces, expected {BYTE_LEVEL_SIZE}")
    return model["vocab"], merges


def _bpe(vocab: dict[str, int], merges: list[tuple[str, str]], **kwargs) -> tokenizers.Tokenizer:
    return tokenizers.Tokenizer(models.BPE(vocab=dict(vocab), merges=list(merges), **kwargs))


def _template(tok: tokenizers.Tokenizer, first: str | None, last: str | None = None,
              pair_first: bool = True) -> processors.TemplateProcessing:
    """`first $A last` (either may be None); a pair repeats `first` before $B when `pair_first`."""
    single = " ".join(p for p in (first, "$A:0", last) if p)
    pair = " ".join(p for p in (first, "$A:0", last, first if pair_first else None, "$B:1", last and f"{last}:1")
                    if p)
    specials = [(t, tok.token_to_id(t)) for t in (first, last) if t]
    return processors.TemplateProcessing(single=single, pair=pair, special_tokens=specials)


def llama3() -> tokenizers.Tokenizer:
    """Llama 3: `<|begin_of_text|>` prepended by a TemplateProcessing after the ByteLevel post-processor."""
    vocab, merges = byte_level()
    tok = _bpe(vocab, merges, ignore_merges=True)
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [_split(LLAMA3_SPLIT), pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in LLAMA3_SPECIALS])
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(add_prefix_space=True, trim_offsets=False, use_regex=True),
        _template(tok, "<|begin_of_text|>")])
    return tok


def qwen(qwen3: bool = False) -> tokenizers.Tokenizer:
    """Qwen2 / Qwen3: NFC, Qwen's split regex, nothing added to a text; Qwen3 adds `<think>`, `</think>`."""
    vocab, merges = byte_level()
    tok = _bpe(vocab, merges)
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [_split(QWEN_SPLIT), pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    tok.post_processor = processors.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in QWEN_SPECIALS])
    if qwen3:
        tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in QWEN3_ADDED])
    return tok


def gpt2() -> tokenizers.Tokenizer:
    """GPT-2: ByteLevel with its own regex, `<|endoftext|>` after the pieces, nothing added to a text."""
    vocab, merges = byte_level()
    tok = _bpe(vocab, merges)
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.add_special_tokens([AddedToken("<|endoftext|>", special=True, normalized=False)])
    return tok


def bart() -> tokenizers.Tokenizer:
    """BART (RoBERTa's layout): `<s>` 0, `<pad>` 1, `</s>` 2, `<unk>` 3 before the pieces, `<mask>` last;
    `<s> $A </s>` around a text (RobertaProcessing)."""
    vocab, merges = byte_level()
    heads = ["<s>", "<pad>", "</s>", "<unk>"]
    shifted = {t: i for i, t in enumerate(heads)} | {p: i + len(heads) for p, i in vocab.items()}
    tok = _bpe(shifted, merges)
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in heads])
    tok.add_special_tokens([AddedToken("<mask>", special=True, lstrip=True, normalized=False)])
    tok.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), trim_offsets=True,
                                                      add_prefix_space=False)
    return tok


# ---------------------------------------------------------------------------------------------------------------
# SentencePiece BPE with byte fallback (Llama 2 / Mistral / Phi-3 and Gemma layouts)


@functools.cache
def sentencepiece(style: str) -> bytes:
    """A serialized SentencePiece BPE model: style "llama" (`<unk>` 0 `<s>` 1 `</s>` 2, `▁` prefix) or "gemma"
    (`<pad>` 0 `<eos>` 1 `<bos>` 2 `<unk>` 3, the turn markers, no prefix). Byte fallback, digits split, no
    normalization, whitespace kept: the trainer settings of the real models."""
    ids = ({"unk_id": 0, "bos_id": 1, "eos_id": 2, "pad_id": -1} if style == "llama" else
           {"pad_id": 0, "eos_id": 1, "bos_id": 2, "unk_id": 3, "pad_piece": "<pad>", "eos_piece": "<eos>",
            "bos_piece": "<bos>", "user_defined_symbols": GEMMA_TURNS})
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus_lines()), model_writer=buf, model_type="bpe", vocab_size=SP_SIZE,
        character_coverage=0.98, byte_fallback=True, split_digits=True, normalization_rule_name="identity",
        remove_extra_whitespaces=False, add_dummy_prefix=style == "llama", allow_whitespace_only_pieces=True,
        max_sentencepiece_length=16, num_threads=1, minloglevel=2, **ids)
    return buf.getvalue()


def _sp_vocab_merges(proto: bytes, user_defined: list[str]) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Vocabulary in SentencePiece's id order; merges ranked by the merged piece's score (then id), as
    transformers' SpmConverter does: only normal pieces (not control, unknown, byte or user-defined) merge."""
    sp = spm.SentencePieceProcessor(model_proto=proto)
    vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
    normal = {sp.id_to_piece(i): (sp.get_score(i), i) for i in range(sp.get_piece_size())
              if not (sp.is_control(i) or sp.is_unknown(i) or sp.is_byte(i) or sp.is_unused(i))
              and sp.id_to_piece(i) not in user_defined}
    ranked = []
    for piece, (score, i) in normal.items():
        for cut in range(1, len(piece)):
            left, right = piece[:cut], piece[cut:]
            if left in normal and right in normal:
                ranked.append((-score, i, left, right))
    return vocab, [(left, right) for _, _, left, right in sorted(ranked)]


def _sp_specials(tok: tokenizers.Tokenizer, proto: bytes, user_defined: list[str]) -> None:
    sp = spm.SentencePieceProcessor(model_proto=proto)
    controls = [sp.id_to_piece(i) for i in range(sp.get_piece_size()) if sp.is_control(i) or sp.is_unknown(i)]
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in controls + user_defined])


def _check_against_sentencepiece(tok: tokenizers.Tokenizer, proto: bytes, texts: list[str], first: str | None):
    """Every text must encode as SentencePiece encodes it (plus the template's first token, if any)."""
    sp = spm.SentencePieceProcessor(model_proto=proto)
    head = [tok.token_to_id(first)] if first else []
    for text in corpus_lines() + texts:
        want, got = head + sp.encode(text), tok.encode(text).ids
        if got != want:
            sys.exit(f"tokenizer.json and SentencePiece disagree on {text!r}: {got} != {want}")


def mistral(texts: list[str], bos: bool = True, added: list[str] | None = None) -> tokenizers.Tokenizer:
    """Llama 2 / Mistral v0.1 (the "legacy" tokenizer.json): normalizer Prepend("▁") + Replace(" ", "▁"), no
    pre-tokenizer, BPE with byte fallback, `<s> $A` when `bos`. Phi-3: bos=False and `added` after the pieces."""
    proto = sentencepiece("llama")
    vocab, merges = _sp_vocab_merges(proto, [])
    tok = _bpe(vocab, merges, unk_token="<unk>", fuse_unk=True, byte_fallback=True)
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    _sp_specials(tok, proto, [])
    tok.post_processor = (_template(tok, "<s>") if bos else
                          processors.TemplateProcessing(single="$A:0", pair="$A:0 $B:1", special_tokens=[]))
    _check_against_sentencepiece(tok, proto, texts, "<s>" if bos else None)
    if added:
        tok.add_special_tokens([AddedToken(t, special=True, normalized=False, rstrip=t != "<|endoftext|>")
                                for t in added])
    return tok


def gemma(texts: list[str]) -> tokenizers.Tokenizer:
    """Gemma 2 / 3: normalizer Replace(" ", "▁") (no prefix), Split(" ") pre-tokenizer (as transformers' converter
    writes it; a no-op after the normalizer), BPE with byte fallback, `<bos> $A`."""
    proto = sentencepiece("gemma")
    vocab, merges = _sp_vocab_merges(proto, GEMMA_TURNS)
    tok = _bpe(vocab, merges, unk_token="<unk>", fuse_unk=True, byte_fallback=True)
    tok.normalizer = normalizers.Replace(" ", "▁")
    tok.pre_tokenizer = pre_tokenizers.Split(" ", behavior="merged_with_previous")
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()])
    _sp_specials(tok, proto, GEMMA_TURNS)
    tok.post_processor = _template(tok, "<bos>")
    _check_against_sentencepiece(tok, proto, texts, "<bos>")
    return tok


def save(tok: tokenizers.Tokenizer, path: Path) -> None:
    """tokenizer.json with padding and truncation off (attnviz encodes one text at a time)."""
    tok.no_padding()
    tok.no_truncation()
    tok.save(str(path), pretty=True)


# ---------------------------------------------------------------------------------------------------------------
# SentencePiece Unigram (T5, Marian)


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def _field(buf: bytes, number: int) -> bytes:
    """The first length-delimited field `number` of a serialized protobuf message (b"" when absent)."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        kind = key & 7
        if kind == 0:
            _, pos = _varint(buf, pos)
        elif kind == 1:
            pos += 8
        elif kind == 5:
            pos += 4
        elif kind == 2:
            size, pos = _varint(buf, pos)
            if key >> 3 == number:
                return buf[pos:pos + size]
            pos += size
        else:
            sys.exit(f"unexpected protobuf wire type {kind}")
    return b""


def precompiled_charsmap(proto: bytes) -> bytes:
    """ModelProto.normalizer_spec (field 3).precompiled_charsmap (field 2): the nmt_nfkc normalization table."""
    return _field(_field(proto, 3), 2)


def train_unigram(lines: list[str], size: int, **ids) -> bytes:
    """A serialized SentencePiece Unigram model (`▁` prefix, spaces collapsed): T5's and Marian's kind.

    The real models normalize with nmt_nfkc, whose precompiled table alone is ~250 KB of tokenizer.json; this one
    keeps the mechanism (a Precompiled normalizer) with a table of NFKC's full-width rules only: U+FF01…U+FF5E to
    ASCII and the ideographic space U+3000 to a space."""
    rules = [f"{c:X}\t{c - 0xFEE0:X}" for c in range(0xFF01, 0xFF5F)] + ["3000\t20"]
    here = Path.cwd()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "fullwidth.tsv").write_text("\n".join(rules) + "\n", encoding="utf-8")
        buf = io.BytesIO()
        os.chdir(tmp)  # the model records the rule file's path as given: a relative one keeps the bytes the same
        try:
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter(lines), model_writer=buf, model_type="unigram", vocab_size=size,
                character_coverage=0.98, num_threads=1, minloglevel=2, bos_id=-1,
                normalization_rule_tsv="fullwidth.tsv", **ids)
        finally:
            os.chdir(here)
    return buf.getvalue()


def unigram_tokenizer(proto: bytes, n_pieces: int | None = None) -> tokenizers.Tokenizer:
    """T5's tokenizer.json layout: Precompiled + collapse spaces, Metaspace, Unigram, `$A </s>`; the first
    `n_pieces` pieces of the model (all by default)."""
    sp = spm.SentencePieceProcessor(model_proto=proto)
    n = n_pieces or sp.get_piece_size()
    vocab = [(sp.id_to_piece(i), sp.get_score(i)) for i in range(n)]
    tok = tokenizers.Tokenizer(models.Unigram(vocab, unk_id=sp.unk_id(), byte_fallback=False))
    tok.normalizer = normalizers.Sequence([normalizers.Precompiled(precompiled_charsmap(proto)),
                                           normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    controls = [sp.id_to_piece(i) for i in range(n) if sp.is_control(i) or sp.is_unknown(i)]
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in controls])
    tok.post_processor = _template(tok, None, "</s>", pair_first=False)
    return tok


def t5(texts: list[str], extra_ids: int = 4) -> tokenizers.Tokenizer:
    """T5: Unigram, `<pad>` 0 `</s>` 1 `<unk>` 2, `<extra_id_k>` after the pieces (the last one is extra_id_0),
    `$A </s>`; checked against SentencePiece on every corpus line and `texts`."""
    proto = train_unigram(corpus_lines(), 400, pad_id=0, eos_id=1, unk_id=2)
    tok = unigram_tokenizer(proto)
    sp = spm.SentencePieceProcessor(model_proto=proto)
    for text in corpus_lines() + texts:
        if tok.encode(text).ids != sp.encode(text) + [1]:
            sys.exit(f"T5 tokenizer.json and SentencePiece disagree on {text!r}")
    tok.add_special_tokens([AddedToken(f"<extra_id_{k}>", special=True, normalized=False)
                            for k in reversed(range(extra_ids))])
    return tok


def marian(folder: Path, texts: list[str], source_size: int = 450, target_size: int = 200) -> tokenizers.Tokenizer:
    """Marian (opus-mt-ko-en's layout): source.spm (Korean lines), target.spm (English lines), one vocab.json
    (`</s>` 0, `<unk>` 1, the source pieces in source.spm's order, the target-only pieces, `<pad>` last) and the
    MarianTokenizer files, written into `folder`. Returns a tokenizer.json for the *source* side (ids 0 … S - 1 of
    vocab.json), checked against MarianTokenizer on every Korean corpus line and `texts`."""
    from transformers import MarianTokenizer

    hangul = [line for line in corpus_lines() if any("가" <= c <= "힣" for c in line)]
    latin = [line for line in corpus_lines() if line not in hangul]
    source = train_unigram(hangul, source_size, eos_id=0, unk_id=1, pad_id=-1)
    target = train_unigram(latin, target_size, eos_id=0, unk_id=1, pad_id=-1)
    src, tgt = (spm.SentencePieceProcessor(model_proto=p) for p in (source, target))
    vocab = {src.id_to_piece(i): i for i in range(src.get_piece_size())}
    for i in range(tgt.get_piece_size()):
        vocab.setdefault(tgt.id_to_piece(i), len(vocab))
    vocab["<pad>"] = len(vocab)
    (folder / "source.spm").write_bytes(source)
    (folder / "target.spm").write_bytes(target)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    slow = MarianTokenizer(str(folder / "source.spm"), str(folder / "target.spm"), str(folder / "vocab.json"),
                           source_lang="ko", target_lang="en")
    slow.save_pretrained(str(folder))
    tok = unigram_tokenizer(source)
    for text in hangul + texts:
        if tok.encode(text).ids != slow(text).input_ids:
            sys.exit(f"Marian tokenizer.json and MarianTokenizer disagree on {text!r}")
    return tok
