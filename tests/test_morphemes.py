"""The default tokenizer's cuts: Korean morphemes from mecab-ko, whole words, numbers, emoji clusters."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attnviz import morphemes
from attnviz.tokens import _Shipped, tokenize

mecab_ko = pytest.importorskip("mecab_ko", reason="mecab-ko has no wheel for this platform")


def labels(text: str) -> list[str]:
    return [t.label for t in tokenize(text)]


# --- Korean: particles, predicates, loanwords ------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    # the seed sentences, exactly as drawn
    ("고양이는 침대에서 잔다", ["고양이", "는", "침대", "에서", "잔다"]),
    ("철수가 사과를 맛있게 먹었다", ["철수", "가", "사과", "를", "맛있게", "먹었다"]),
    ("안녕하세요, 오늘 날씨는?", ["안녕하세요", ",", "오늘", "날씨", "는", "?"]),
    # nouns and their particles come apart
    ("나는 학교에 간다", ["나", "는", "학교", "에", "간다"]),
    ("강아지가 공원에서 뛰어논다", ["강아지", "가", "공원", "에서", "뛰어논다"]),
    ("서울에서 부산까지 기차로", ["서울", "에서", "부산", "까지", "기차", "로"]),
    ("제가 어제 영화를 봤어요", ["제", "가", "어제", "영화", "를", "봤어요"]),
    ("비가 와서 우산을 썼다", ["비", "가", "와서", "우산", "을", "썼다"]),
    # loanwords stay whole, 하다-verbs are one predicate
    ("트랜스포머는 어텐션으로 문맥을 파악합니다", ["트랜스포머", "는", "어텐션", "으로", "문맥", "을", "파악합니다"]),
    ("모델이 다음 단어를 예측했다", ["모델", "이", "다음", "단어", "를", "예측했다"]),
    # a predicate keeps its endings and honorifics; the copula comes off its noun like a particle
    ("선생님께서 책을 읽으셨다", ["선생님", "께서", "책", "을", "읽으셨다"]),
    ("아름다운 꽃이 피었다", ["아름다운", "꽃", "이", "피었다"]),
    ("학생입니다", ["학생", "입니다"]),
    ("아버지가방에들어가신다", ["아버지", "가", "방", "에", "들어가신다"]),
])
def test_korean_sentences_split_into_morphemes(text, expected):
    assert labels(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("영희와 Tom은 school에서 만났다", ["영희", "와", "Tom", "은", "school", "에서", "만났다"]),
    ("GPT-4는 똑똑하다", ["GPT", "-", "4", "는", "똑똑하다"]),
    ("가격은 3,500원입니다", ["가격", "은", "3,500", "원", "입니다"]),
    ("2024년 3월에 만났다", ["2024", "년", "3", "월", "에", "만났다"]),
    ("東京에 갔다", ["東京", "에", "갔다"]),
    ("ㅋㅋㅋ 재밌다 ㅠㅠ", ["ㅋㅋㅋ", "재밌다", "ㅠㅠ"]),
])
def test_mixed_korean_english_numbers(text, expected):
    assert labels(text) == expected


# --- everything else --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Eiffel Tower 🗼", ["Eiffel", "Tower", "🗼"]),
    ("The fluffy blue creature roamed the verdant forest",
     ["The", "fluffy", "blue", "creature", "roamed", "the", "verdant", "forest"]),
    ("I woke up at 6:30, and it's 2024-03-15!",
     ["I", "woke", "up", "at", "6", ":", "30", ",", "and", "it's", "2024", "-", "03", "-", "15", "!"]),
    ("π ≈ 3.14159, e=2.718", ["π", "≈", "3.14159", ",", "e", "=", "2.718"]),
    ("1,2,3 and 1,000,000.5", ["1", ",", "2", ",", "3", "and", "1,000,000.5"]),
    ("Привет, мир", ["Привет", ",", "мир"]),
    ("नमस्ते दुनिया", ["नमस्ते", "दुनिया"]),  # vowel signs are combining marks inside the word
    ("Hello,world...", ["Hello", ",", "world", ".", ".", "."]),
])
def test_words_numbers_and_punctuation(text, expected):
    assert labels(text) == expected


@pytest.mark.parametrize("emoji", [
    "🗼", "😀", "❤️", "👍🏽", "👨‍👩‍👧", "🧑🏻‍💻", "🏳️‍🌈", "🇰🇷", "🇯🇵", "1️⃣", "#️⃣", "🏴󠁧󠁢󠁳󠁣󠁴󠁿",
])
def test_an_emoji_is_one_token_labelled_as_itself(emoji):
    tokens = tokenize(f"고양이{emoji}는 {emoji}{emoji}")
    assert [t.label for t in tokens] == ["고양이", emoji, "는", emoji, emoji]
    assert all(not t.label.startswith("…") and not t.label.endswith("…") for t in tokens)
    ids = {t.id for t in tokens if t.label == emoji}
    assert len(ids) == 1  # the same text, the same id


def test_two_flags_in_a_row_are_two_tokens():
    assert labels("🇰🇷🇯🇵🇺🇸") == ["🇰🇷", "🇯🇵", "🇺🇸"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list("고양이는침대에서잔다학교간뷁ㅋ Tom's 3,5.0-!?😀👍🏽\u200d\u0301東京é\x00\x1c\n")
                                + ["🇰🇷", "👨‍👩‍👧", "1️⃣"]), max_size=30).map("".join))
def test_spans_cover_every_character_once_and_cut_no_whitespace(text):
    def white(c: str) -> bool:  # as Unicode has it: Python's isspace() also has \x1c-\x1f
        return c.isspace() and not "\x1c" <= c <= "\x1f"

    tokens = _Shipped().encode(text)
    covered = [i for t in tokens for i in range(t.start, t.end)]
    assert covered == sorted(set(covered))  # in order, no overlap
    assert set(covered) == {i for i, c in enumerate(text) if not white(c)}
    for t in tokens:
        assert t.piece == text[t.start:t.end] and t.label


# --- the analyzer and the joining rules -------------------------------------------------------------

@pytest.mark.parametrize("before, tag, joins", [
    ("VV", "EP", True),  # 먹 + 었
    ("EP", "EC", True),  # 었 + 다
    ("VV+EP", "EF", True),  # 했 + 습니다
    ("NNG", "XSV+EC", True),  # 파악 + 합니다
    ("NNG", "XSN", True),  # 선생 + 님
    ("EC", "VV+EC", True),  # 뛰어 + 논다
    ("NNG", "JKS", False),  # 강아지 | 가
    ("NNG", "VCP+EC", False),  # 학생 | 입니다
    ("NNG", "EC", False),  # an ending after a noun is not a predicate's
    ("JX", "VV", False),
    ("ETM", "NNB", False),
    ("EF", "VV", False),  # a new verb after a final ending
])
def test_joining_rules(before, tag, joins):
    assert morphemes._joins(before, tag) is joins


class _Canned:
    """A tagger that answers one parse, to test the reading of mecab's output by itself."""

    def __init__(self, output: str):
        self.output = output
        self.seen: list[str] = []

    def parse(self, text: str) -> str:
        self.seen.append(text)
        return self.output


def test_analyze_reads_surfaces_into_offsets_and_joins_predicates():
    tagger = _Canned("나\tNP,*\n는\tJX,*\n간다\tVV+EC,*\n먹\tVV,*\n었\tEP,*\n다\tEC,*\nEOS\n")
    assert morphemes.analyze(tagger, "나는\t간다\n먹었다") == [(0, 1), (1, 2), (3, 5), (6, 9)]
    assert tagger.seen == ["나는 간다 먹었다"]  # each whitespace character becomes one space


def test_analyze_keeps_words_whole_when_the_output_does_not_match_the_text():
    assert morphemes.analyze(_Canned("고양\tNNG,*\nEOS\n"), "고양이는 잔다") == [(0, 4), (5, 7)]  # 이는 lost
    assert morphemes.analyze(_Canned("개\tNNG,*\nEOS\n"), "고양이 잔다") == [(0, 3), (4, 6)]  # not in it


def test_the_real_analyzer_loads_and_tags_the_seed_sentence():
    tagger = morphemes.load_analyzer()
    lines = tagger.parse("고양이는 침대에서 잔다").splitlines()
    assert [ln.split("\t")[0] for ln in lines[:-1]] == ["고양이", "는", "침대", "에서", "잔다"]
    assert lines[-1] == "EOS"
