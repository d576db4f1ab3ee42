"""The Korean and English tokenizer of residents' texts."""
import random

import pytest

from geo.words import STOPWORDS, tokenize, top_words


@pytest.mark.parametrize(
    "text, words",
    [
        ("공원이", ["공원"]),
        ("도로를", ["도로"]),
        ("나무", ["나무"]),
        ("나무가", ["나무"]),
        ("공원에 벤치를", ["공원", "벤치"]),
        ("공원의 나무", ["공원", "나무"]),
        ("공원에서는 아이들이 놀아요", ["공원", "아이", "놀아"]),
        ("주민들이 모여요", ["주민", "모여"]),
        ("가로등을 설치해주세요", ["가로등", "설치"]),
        ("횡단보도가 필요합니다", ["횡단보도", "필요"]),
        ("자전거도로로 연결", ["자전거도로", "연결"]),
        ("통학로에 어린이 보호구역", ["통학로", "어린이", "보호구역"]),
        ("CCTV를 설치", ["cctv", "설치"]),
        ("아이들 등하굣길이라 찬성합니다", ["아이", "등하굣길", "찬성"]),
        ("Bench in the PARK, please!", ["bench", "park"]),
        ("쌈지공원_조성 (2026년)", ["쌈지공원", "조성", "2026년"]),
    ],
)
def test_tokens(text, words):
    assert tokenize(text) == words


def test_short_stems_are_kept_whole_and_one_character_tokens_dropped():
    # Stripping 을/이 would leave a single syllable: the token stays as it is.
    assert tokenize("길을") == ["길을"]
    assert tokenize("높이") == ["높이"]
    # One-character tokens, numbers and stop words are dropped.
    assert tokenize("a 꽃 1 2026 그리고 the 제안입니다") == []
    assert "제안" in STOPWORDS and "the" in STOPWORDS


def test_nothing_in_nothing_out():
    assert tokenize(None) == []
    assert tokenize("") == []
    assert tokenize("!!! ...") == []


def test_top_words_counts_and_breaks_ties_by_word():
    texts = ["공원에 벤치를", "공원의 나무", "나무 그늘 벤치", "park bench", None]
    assert top_words(texts, n=3) == [("공원", 2), ("나무", 2), ("벤치", 2)]
    assert top_words(texts) == [("공원", 2), ("나무", 2), ("벤치", 2), ("bench", 1), ("park", 1), ("그늘", 1)]
    assert top_words(texts, n=0) == []
    shuffled = texts[:]
    random.Random(3).shuffle(shuffled)
    assert top_words(shuffled) == top_words(texts)


@pytest.mark.parametrize("n", [-1, 1.5, True, "3"])
def test_top_words_refuses_a_bad_n(n):
    with pytest.raises(ValueError):
        top_words(["공원"], n=n)
