"""The shipped tokenizer, the word/character splitters, user tokenizer.json files, and the build."""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import json
import os
import string
import subprocess
import sys
import unicodedata
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tokenizers import Regex, decoders, models, normalizers, pre_tokenizers, processors, trainers
from tokenizers import Tokenizer as HFTokenizer

from attnviz import morphemes
from attnviz.errors import InputError, TokenizerError
from attnviz.tokens import (
    BUILTIN,
    CONTINUATION,
    DEFAULT_TOKENIZER,
    HASHED_IDS,
    Token,
    Tokenizer,
    _hf_tokens,
    _may_be_filled,
    _Shipped,
    clean_text,
    hashed_id,
    load_tokenizer,
    tokenize,
)
from attnviz.weights import embed, init_weights

ROOT = Path(__file__).resolve().parent.parent
needs_mecab = pytest.mark.skipif(importlib.util.find_spec("mecab_ko") is None,
                                 reason="mecab-ko has no wheel for this platform")
SHIPPED = ROOT / "attnviz" / "data" / "tokenizer.json"
CORE = ROOT / "attnviz" / "data" / "tokenizer-core.json"
BUILD_SCRIPT = ROOT / "scripts" / "build_tokenizer.py"
CORPUS = ROOT / "samples" / "corpus.txt"

HANGUL = "".join(chr(c) for c in range(0xAC00, 0xD7A4))
ASCII = string.ascii_letters + string.digits + string.punctuation
ENGLISH = "The fluffy blue creature roamed the verdant forest"
MARKERS = ("##", "Ġ", "▁", "<0x")

#: Text the vocabulary does not cover: it must come back as characters or bytes, never an error.
STRANGE = [
    "😀고양이",
    "고양이 😀😀 🐈‍⬛",
    "👨‍👩‍👧 family",
    "東京에 갔다",
    "Привет, мир",
    "مرحبا بالعالم",
    "שָׁלוֹם עולם",
    "नमस्ते दुनिया",
    "สวัสดีครับ",
    "e\u0301te\u0301 and ñ",
    "\u0301고양이",
    "고양이\u200d는\u200b침대",
    "a\u200fb\u202ec\u2066d\u2069",
    "ctrl\x00\x01\x07\x1b[31mred\x7f\x1c\x1d\x85",
    "tab\there\r\nnewline",
    "\ufeffBOM",
    "ㅋㅋㅋ ㅠㅠ",
    "①②③ ½ ™ ©",
    "₩5,000 €3 ¥100",
]

ORDINARY = [
    "고양이는 침대에서 잔다",
    "철수가 사과를 맛있게 먹었다",
    ENGLISH,
    "안녕하세요, 오늘 날씨는?",
    "  앞에 공백이 있는 문장  ",
    "줄바꿈\n과\t탭",
    "I woke up at 6:30, and it's 2024-03-15!",
    "영희와 Tom은 school에서 만났다",
    "Hello,world... (really?) [yes] {no} \"quoted\" 'single'",
]


def _labels(text: str, tokenizer: str = DEFAULT_TOKENIZER) -> list[str]:
    return [t.label for t in tokenize(text, tokenizer)]


@pytest.fixture(scope="module")
def default():
    return load_tokenizer(DEFAULT_TOKENIZER)


@pytest.fixture(scope="module")
def unk_id() -> int:
    return json.loads(SHIPPED.read_text(encoding="utf-8"))["model"]["unk_id"]


# --- the seed diagrams --------------------------------------------------------------------------


def test_cat_sentence_splits_stems_from_particles():
    assert _labels("고양이는 침대에서 잔다") == ["고양이", "는", "침대", "에서", "잔다"]


def test_chulsoo_sentence_splits_nouns_from_particles():
    assert _labels("철수가 사과를 맛있게 먹었다") == ["철수", "가", "사과", "를", "맛있게", "먹었다"]


def test_greeting_sentence():
    assert _labels("안녕하세요, 오늘 날씨는?") == ["안녕하세요", ",", "오늘", "날씨", "는", "?"]


def test_english_sentence_splits_into_words_or_pieces(unk_id):
    tokens = tokenize(ENGLISH)
    assert all(t.id != unk_id for t in tokens)
    assert "".join(t.label for t in tokens) == ENGLISH.replace(" ", "")
    assert all(" " not in t.label for t in tokens)  # no piece spans two words
    assert [t.label for t in tokens] == ENGLISH.split()  # every word of it is in the corpus


# --- coverage: no <unk> for Hangul, ASCII; bytes for everything else ----------------------------


def test_every_hangul_syllable_is_its_own_known_piece(default, unk_id):
    for syllable in HANGUL:
        (token,) = default.encode(syllable)
        assert token.id != unk_id and token.label == syllable and token.piece == syllable


def test_all_hangul_syllables_in_one_string(default, unk_id):
    tokens = default.encode(HANGUL)
    assert all(t.id != unk_id for t in tokens)
    assert "".join(t.label for t in tokens) == HANGUL


def test_ascii_letters_digits_punctuation_are_known(default, unk_id):
    for ch in ASCII:
        (token,) = default.encode(ch)
        assert token.id != unk_id and token.label == ch
    tokens = default.encode(ASCII)
    assert all(t.id != unk_id for t in tokens)
    assert "".join(t.label for t in tokens) == ASCII


@pytest.mark.parametrize("tokenizer", BUILTIN)
@pytest.mark.parametrize("text", STRANGE)
def test_other_scripts_fall_back_without_failing(text, tokenizer):
    tokens = tokenize(text, tokenizer)
    assert tokens
    for t in tokens:
        assert t.label and not any(m in t.label for m in MARKERS), t
        assert 0 <= t.start < t.end <= len(clean_text(text))


@pytest.mark.parametrize("text", STRANGE)
def test_default_never_gives_unk_and_covers_every_character(default, unk_id, text):
    text = clean_text(text)
    tokens = default.encode(text)
    assert all(t.id != unk_id for t in tokens)
    covered = set()
    for t in tokens:
        covered.update(range(t.start, t.end))
    assert covered >= {i for i, c in enumerate(text) if not c.isspace()}


def test_an_emoji_is_one_token_labelled_as_itself(default):
    tokens = default.encode("😀고양이")
    assert [t.label for t in tokens] == ["😀", "고양이"]
    assert tokens[0].piece == "😀" and tokens[0].id in HASHED_IDS


def test_byte_fallback_labels_the_character_once_and_marks_its_parts():
    # the Unigram file itself (--tokenizer PATH) has no emoji piece: 😀 falls back to its 4 UTF-8 bytes
    tokens = tokenize("😀고양이", str(SHIPPED))
    assert [t.label for t in tokens] == ["😀…", "…", "…", "…", "고양이"]
    assert [t.piece for t in tokens[:4]] == ["<0xF0>", "<0x9F>", "<0x98>", "<0x80>"]
    assert {(t.start, t.end) for t in tokens[:4]} == {(0, 1)}
    assert (tokens[4].start, tokens[4].end) == (1, 4)


def test_a_run_of_unknown_characters_is_split_per_character():
    tokens = tokenize("東京에", str(SHIPPED))
    assert [t.label for t in tokens] == ["東…", "…", "…", "京…", "…", "…", "에"]
    assert [(t.start, t.end) for t in tokens] == [(0, 1)] * 3 + [(1, 2)] * 3 + [(2, 3)]


# --- byte-level BPE labels (GPT-2, Llama 3, Qwen) -------------------------------------------------

GPT2 = str(ROOT / "tests" / "fixtures" / "tiny-gpt2" / "tokenizer.json")
# the pre-tokenizer patterns of Llama 3 and Qwen2 (their tokenizer.json files, abridged to what differs)
LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN_SPLIT = LLAMA3_SPLIT.replace(r"\p{N}{1,3}", r"\p{N}")


@functools.cache
def byte_level(kind: str) -> Tokenizer:
    """GPT-2's fixture, or a Llama 3 / Qwen2-style byte-level BPE trained here on the corpus with a
    vocabulary small enough that many syllables are cut between pieces."""
    if kind == "gpt2":
        return load_tokenizer(GPT2)
    hf = HFTokenizer(models.BPE())
    if kind == "qwen":
        hf.normalizer = normalizers.NFC()
    split = pre_tokenizers.Split(Regex(LLAMA3_SPLIT if kind == "llama3" else QWEN_SPLIT), behavior="isolated")
    hf.pre_tokenizer = pre_tokenizers.Sequence(
        [split, pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    hf.decoder = decoders.ByteLevel()
    hf.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=400, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    hf.train_from_iterator(CORPUS.read_text(encoding="utf-8").splitlines(), trainer)
    return Tokenizer(kind, hf)


def test_byte_level_bpe_pieces_of_one_character_show_it_once():
    # GPT-2's byte-level BPE cuts 침 (3 UTF-8 bytes) after its 2nd byte: "Ġì¹" spans " 침" (4, 6) and
    # "¨" spans "침" (5, 6) again; 침 is shown once, and both pieces say they hold part of it
    tokens = byte_level("gpt2").encode("고양이는 침대에서 잔다")
    assert [t.piece for t in tokens[2:4]] == ["Ġì¹", "¨"]
    assert [t.label for t in tokens] == ["고양이", "는", "침…", "…", "대", "에서", "잔다"]


def test_a_piece_with_the_end_of_one_syllable_and_the_next_shows_the_next_only():
    # "ëĭ" holds 2 bytes of 니 (20, 21); "Īëĭ¤" the last byte of 니 and all of 다 (20, 22): labelled
    # 니… and …다, never 니다, which would show 니 twice
    tokens = byte_level("gpt2").encode("트랜스포머는 어텐션으로 문맥을 파악합니다")
    assert [t.piece for t in tokens[-2:]] == ["ëĭ", "Īëĭ¤"]
    assert [t.label for t in tokens[-2:]] == ["니…", "…다"]
    assert [t.label for t in tokens[:3]] == ["트…", "…", "…"]  # 트's 3 bytes, one piece each


@pytest.mark.parametrize("kind", ["llama3", "qwen"])
def test_llama3_and_qwen_style_pieces_show_each_syllable_once(kind):
    tokens = byte_level(kind).encode("고양이는 침대에서 잔다")
    assert [t.label for t in tokens] == ["고양이", "는", "침…", "…", "대", "에서", "잔…", "…다"]
    assert [t.piece for t in tokens[-2:]] == ["Ġìŀ", "Ķëĭ¤"]  # " 잔" less a byte, then that byte and 다


def test_a_llama2_style_space_marker_is_a_space_and_byte_fallback_shows_the_character():
    # Llama 2's normaliser prepends ▁, whose piece then has the span of the first character (0, 1)
    vocab = {"<unk>": 0, **{f"<0x{b:02X}>": b + 1 for b in range(256)}}
    for piece in ["▁", "고", "양", "이", "▁고", "▁고양"]:
        vocab[piece] = len(vocab)
    bpe = models.BPE(vocab=vocab, merges=[("▁", "고"), ("▁고", "양")], byte_fallback=True, unk_token="<unk>")
    hf = HFTokenizer(bpe)
    hf.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tokens = Tokenizer("llama2", hf).encode("😀 고양이")
    assert [t.piece for t in tokens[:2]] == ["▁", "<0xF0>"] and (tokens[0].start, tokens[0].end) == (0, 1)
    assert [t.label for t in tokens] == ["␣", "😀…", "…", "…", "…", "고양", "이"]


def _core(label: str) -> str:
    """A label without its part marks: the characters it shows."""
    return label.removeprefix(CONTINUATION).removesuffix(CONTINUATION)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=HANGUL[:300] + "고양이는침대에서잔다😀🐈東京 abc!", min_size=1, max_size=12).filter(str.strip),
       st.sampled_from(["gpt2", "llama3", "qwen"]))
def test_byte_level_labels_show_every_character_once(text, kind):
    tokens = byte_level(kind).encode(text)
    shown = "".join(_core(t.label) for t in tokens if t.label != "␣")
    assert shown == "".join(text.split())  # every character once, in order: none repeated, none lost
    for t, nxt in zip(tokens, tokens[1:]):  # a piece that holds part of a character says so, on that side
        if text[max(t.start, nxt.start):min(t.end, nxt.end)].strip():  # they share a character
            assert t.label.endswith(CONTINUATION) and nxt.label.startswith(CONTINUATION), (t, nxt)
        else:
            assert not nxt.label.startswith(CONTINUATION), (t, nxt)
            assert t.label == CONTINUATION or not t.label.endswith(CONTINUATION), (t, nxt)


def test_invisible_characters_get_visible_labels(default):
    assert [t.label for t in default.encode("a\x00b")] == ["a", "␀", "b"]
    assert [t.label for t in default.encode("a\x1cb")] == ["a", "␜", "b"]  # str.strip() eats \x1c
    assert [t.label for t in default.encode("a\u200fb")][:2] == ["a", "U+200F"]
    assert default.encode("\u0301")[0].label == "◌\u0301"


def test_lone_surrogate_does_not_crash(default):
    tokens = default.encode("\udcff고양이")
    assert tokens[0].label == "\ufffd" and tokens[-1].label == "고양이"


def test_decomposed_text_keeps_its_accent_in_the_label(default):
    (word,) = default.encode("e\u0301t")  # a word keeps its combining marks
    assert word.label == "e\u0301t" and (word.start, word.end) == (0, 3)
    # the Unigram file: NFC composes é, which falls back to its 2 UTF-8 bytes, each given the span of e
    tokens = load_tokenizer(str(SHIPPED)).encode("e\u0301t")
    assert [t.label for t in tokens] == ["e\u0301…", "…", "t"]
    assert [(t.start, t.end) for t in tokens] == [(0, 2), (0, 2), (2, 3)]


# --- labels come from the text ------------------------------------------------------------------


@pytest.mark.parametrize("tokenizer", BUILTIN)
@pytest.mark.parametrize("text", ORDINARY)
def test_labels_are_cut_from_the_text(text, tokenizer):
    tokens = tokenize(text, tokenizer)
    assert tokens
    for t in tokens:
        assert isinstance(t, Token) and not t.special
        assert t.label == text[t.start:t.end].strip(), t
        assert t.label and not any(m in t.label for m in MARKERS)
    starts = [t.start for t in tokens]
    assert starts == sorted(starts)


def test_offsets_are_character_offsets():
    text = " 고양이는 침대에서"
    assert [(t.label, t.start, t.end) for t in tokenize(text)] == [
        ("고양이", 1, 4), ("는", 4, 5), ("침대", 6, 8), ("에서", 8, 10)
    ]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_any_text_tokenizes_or_is_rejected_as_empty(text):
    try:
        tokens = tokenize(text)
    except InputError:
        assert not unicodedata.normalize("NFC", text).strip()
        return
    cleaned = clean_text(text)
    for t in tokens:
        assert t.label and "<0x" not in t.label
        assert 0 <= t.start < t.end <= len(cleaned)
        assert 0 < t.id < 12053 or t.id in HASHED_IDS  # never <unk> (0)


# --- the other built-in tokenizers --------------------------------------------------------------


def test_words_tokenizer():
    assert _labels("고양이는 침대에서 잔다", "words") == ["고양이는", "침대에서", "잔다"]
    assert _labels("안녕하세요, 오늘 날씨는?", "words") == ["안녕하세요", ",", "오늘", "날씨는", "?"]
    assert load_tokenizer("words").vocab_size is None
    assert all(t.id is None for t in tokenize("a b", "words"))


def test_chars_tokenizer():
    assert _labels("고양이 는", "chars") == ["고", "양", "이", "는"]
    assert [(t.start, t.end) for t in tokenize("고양이 는", "chars")] == [(0, 1), (1, 2), (2, 3), (4, 5)]
    assert load_tokenizer("chars").vocab_size is None


def test_builtin_names():
    assert DEFAULT_TOKENIZER == "default" and set(BUILTIN) == {"default", "words", "chars"}
    size = load_tokenizer().vocab_size
    assert size is not None and size > len(HANGUL) + 256


# --- tokenizer.json files -----------------------------------------------------------------------


def test_a_tokenizer_json_path_works(tmp_path):
    path = tmp_path / "copy.json"
    path.write_bytes(SHIPPED.read_bytes())
    sentence = "고양이는 침대에서 잔다"
    assert _labels(sentence, str(path)) == _labels(sentence)
    assert load_tokenizer(str(path)).vocab_size == load_tokenizer().vocab_size
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "tokenizer.json").write_bytes(SHIPPED.read_bytes())
    assert _labels(sentence, str(folder)) == _labels(sentence)


def test_metaspace_tokenizer_labels_have_no_markers(tmp_path):
    vocab = [("<unk>", 0.0), ("▁고양이", -1.0), ("는", -2.0), ("▁침대", -1.0), ("에서", -2.0),
             ("▁잔다", -1.0)]
    hf = HFTokenizer(models.Unigram(vocab, 0, False))
    hf.pre_tokenizer = pre_tokenizers.Metaspace()
    path = tmp_path / "metaspace.json"
    hf.save(str(path))
    text = " 고양이는 침대에서 잔다"
    tokens = tokenize(text, str(path))
    assert [t.label for t in tokens] == ["고양이", "는", "침대", "에서", "잔다"]
    assert [t.piece for t in tokens][:2] == ["▁고양이", "는"]
    assert all(t.label == text[t.start:t.end].strip() for t in tokens)


def test_missing_path_is_a_tokenizer_error(tmp_path):
    with pytest.raises(TokenizerError, match="not found"):
        load_tokenizer(str(tmp_path / "nope.json"))


@pytest.mark.parametrize("content", ["hello, not json", '{"version": "1.0", "model": 42}', ""])
def test_a_file_that_is_not_a_tokenizer_is_a_tokenizer_error(tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TokenizerError, match="not a Hugging Face tokenizer.json"):
        load_tokenizer(str(path))


# --- empty input --------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", " ", "\n\t  ", "\u3000"])
@pytest.mark.parametrize("tokenizer", BUILTIN)
def test_empty_text_is_an_input_error(text, tokenizer):
    with pytest.raises(InputError):
        tokenize(text, tokenizer)


def test_clean_text_normalises_to_nfc():
    assert clean_text("e\u0301") == "é"
    assert clean_text("\u1100\u1161\u11a8") == "각"  # conjoining jamo → one syllable


# --- the build ----------------------------------------------------------------------------------


def _build_module():
    spec = importlib.util.spec_from_file_location("build_tokenizer", BUILD_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_is_deterministic_and_matches_the_shipped_file(tmp_path):
    build = _build_module().build
    out = tmp_path / "tokenizer.json"
    build(CORPUS, out)
    assert out.read_bytes() == SHIPPED.read_bytes(), (
        "attnviz/data/tokenizer.json is stale: run python scripts/build_tokenizer.py"
    )
    assert (tmp_path / "tokenizer-core.json").read_bytes() == CORE.read_bytes(), (
        "attnviz/data/tokenizer-core.json is stale: run python scripts/build_tokenizer.py"
    )


def test_the_core_file_is_the_full_files_learned_pieces_with_their_ids():
    full = json.loads(SHIPPED.read_text(encoding="utf-8"))
    core = json.loads(CORE.read_text(encoding="utf-8"))
    n = len(core["model"]["vocab"])
    assert core["model"]["vocab"] == full["model"]["vocab"][:n]  # a prefix: the same ids
    assert all(score < -1000 for _, score in full["model"]["vocab"][n:])  # the rest: alphabet fill and bytes
    assert {k: v for k, v in core.items() if k != "model"} == {k: v for k, v in full.items() if k != "model"}


SHIPPED_CHARS = sorted({c for p, _ in json.loads(SHIPPED.read_text(encoding="utf-8"))["model"]["vocab"][4:900]
                        for c in p})


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(SHIPPED_CHARS + list(HANGUL[::97]) + list(" ,.!?😀é\u0301")),
               min_size=1, max_size=30).filter(str.strip))
def test_the_unigram_fallback_gives_the_full_files_tokens_whichever_file_it_uses(text):
    assert load_tokenizer(DEFAULT_TOKENIZER).unigram(text) == _hf_tokens(_full_file(), text)


@functools.cache
def _full_file() -> HFTokenizer:
    return HFTokenizer.from_file(str(SHIPPED))


@needs_mecab
def test_the_analyzers_path_reads_a_tokenizer_file_only_for_a_rare_character():
    shipped = _Shipped()
    assert [t.label for t in shipped.encode("고양이는 침대에서 잔다")] == ["고양이", "는", "침대", "에서", "잔다"]
    assert "_hf" not in vars(shipped) and "_core" not in vars(shipped)  # ids from the learned pieces' JSON
    (token,) = shipped.encode("뷁")  # a syllable the corpus lacks: its id is in the full file
    assert token.label == "뷁" and token.id == _full_file().token_to_id("뷁")
    assert "_hf" in vars(shipped) and shipped.vocab_size == 12053


@needs_mecab
def test_korean_text_is_tokenized_without_importing_tokenizers():
    code = ("import sys; from attnviz.tokens import tokenize; tokenize('고양이는 침대에서 잔다 Eiffel 🗼 3,500'); "
            "print(sorted(m for m in ('tokenizers', 'mecab_ko') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["['mecab_ko']"]


def test_the_unigram_fallback_loads_the_full_file_only_for_a_rare_character():
    shipped = _Shipped()
    assert [t.label for t in shipped.unigram("고양이는 침대에서 잔다")] == ["고양이", "는", "침대", "에서", "잔다"]
    assert "_hf" not in vars(shipped)  # the 12,053-piece file was not needed
    assert [t.label for t in shipped.unigram("뷁")] == ["뷁"]
    assert "_hf" in vars(shipped)


# --- ids of the default tokenizer ---------------------------------------------------------------


def test_ids_come_from_the_vocabulary_or_a_hash_of_the_text():
    tokens = tokenize("트랜스포머는 고양이와 Eiffel 🗼 뷁 F 4 creature")
    full = _full_file()
    kinds = set()
    for t in tokens:
        vocab_id = full.token_to_id(t.piece)
        if vocab_id is not None:
            assert t.id == vocab_id < HASHED_IDS.start
            kinds.add("vocabulary")
        else:  # the documented formula
            expected = HASHED_IDS.start + zlib.crc32(t.piece.encode("utf-8")) % len(HASHED_IDS)
            assert t.id == expected == hashed_id(t.piece)
            kinds.add("hashed")
    assert kinds == {"vocabulary", "hashed"}
    assert load_tokenizer().vocab_size <= HASHED_IDS.start and HASHED_IDS.stop == 32768


def test_a_token_keeps_its_id_and_embedding_in_every_sentence():
    a = tokenize("트랜스포머는 어텐션으로 문맥을 파악합니다 🗼")
    b = tokenize("🗼 어텐션이 트랜스포머의 핵심이다")
    ids_a, ids_b = {t.label: t.id for t in a}, {t.label: t.id for t in b}
    shared = set(ids_a) & set(ids_b)
    assert {"트랜스포머", "어텐션", "🗼"} <= shared
    assert all(ids_a[k] == ids_b[k] for k in shared)
    # a weight file's embedding table with HASHED_IDS.stop rows serves any sentence, row by id
    d_model = 4
    table = np.arange(HASHED_IDS.stop * d_model, dtype=np.float64).reshape(HASHED_IDS.stop, d_model)
    w = dataclasses.replace(init_weights(np.random.default_rng(0), d_model, 2), embedding=table)
    e_a = embed([t.piece for t in a], [t.id for t in a], w, 0)  # (T, d_model)
    e_b = embed([t.piece for t in b], [t.id for t in b], w, 0)
    np.testing.assert_array_equal(e_a[0], e_b[[t.label for t in b].index("트랜스포머")])
    seeded = dataclasses.replace(w, embedding=None)  # seeded vectors go by the token's text
    np.testing.assert_array_equal(embed([t.piece for t in a], [t.id for t in a], seeded, 3)[-1],
                                  embed([t.piece for t in b], [t.id for t in b], seeded, 3)[0])


def test_every_character_of_the_full_file_is_looked_up_there():
    # the default tokenizer reads tokenizer.json (8 ms) only for characters that may be among its pieces
    full = json.loads(SHIPPED.read_text(encoding="utf-8"))["model"]["vocab"]
    singles = [p for p, _ in full if len(p) == 1]
    assert len(singles) > len(HANGUL) and all(_may_be_filled(c) for c in singles)
    assert not any(_may_be_filled(c) for c in "🗼😀❤東京Жπ")


def test_hashed_ids_are_the_same_in_another_process():
    text = "트랜스포머는 Eiffel 🗼"
    code = f"from attnviz.tokens import tokenize; print([t.id for t in tokenize({text!r})])"
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert runs == {f"{[t.id for t in tokenize(text)]}\n"}


# --- without the analyzer -----------------------------------------------------------------------


@pytest.mark.parametrize("error, says", [(ImportError("No module named 'mecab_ko'"), "is not installed"),
                                         (RuntimeError("no dictionary"), "could not load its dictionary")])
def test_without_the_analyzer_korean_falls_back_to_the_unigram_model(monkeypatch, caplog, error, says):
    def fail():
        raise error

    monkeypatch.setattr(morphemes, "load_analyzer", fail)
    shipped = _Shipped()
    assert [t.label for t in shipped.encode("Eiffel Tower 🗼")] == ["Eiffel", "Tower", "🗼"]
    assert not caplog.records  # no Korean: no analyzer needed, nothing said
    tokens = shipped.encode("고양이는 침대에서 잔다 🗼")
    assert [t.label for t in tokens] == ["고양이", "는", "침대", "에서", "잔다", "🗼"]
    assert [t.label for t in shipped.encode("나는 학교에 간다")] == ["나는", "학교에", "간다"]  # the corpus' pieces
    (record,) = caplog.records  # said once
    assert says in record.getMessage() and "pip install" in record.getMessage()
    assert "\n" not in record.getMessage()


def test_without_the_analyzer_the_cli_says_one_line_and_works():
    code = ("import sys; sys.modules['mecab_ko'] = None; sys.argv = ['attnviz', 'explain', '나는 학교에 간다']; "
            "from attnviz.cli import main; main()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "COLUMNS": "100"})
    assert out.returncode == 0, out.stderr
    (line,) = out.stderr.splitlines()
    assert "mecab-ko" in line and "pip install" in line and "Traceback" not in out.stderr
    assert "학교에" in out.stdout


def test_shipped_file_is_small_and_has_byte_fallback():
    assert SHIPPED.stat().st_size < 2_000_000
    model = json.loads(SHIPPED.read_text(encoding="utf-8"))["model"]
    assert model["type"] == "Unigram" and model["byte_fallback"] is True
    pieces = {p for p, _ in model["vocab"]}
    assert {f"<0x{b:02X}>" for b in range(256)} <= pieces
    assert set(HANGUL) <= pieces


def test_corpus_shape():
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    assert 300 <= len(lines) <= 600
    korean = sum(any("가" <= c <= "힣" for c in line) for line in lines)
    assert 0.6 <= korean / len(lines) <= 0.75
    seeds = ("고양이는 침대에서 잔다", "철수가 사과를 맛있게 먹었다", ENGLISH, "안녕하세요, 오늘 날씨는?")
    assert set(seeds) <= set(lines)
