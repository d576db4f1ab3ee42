"""Words of residents' texts: a small Korean and English tokenizer, no model to download.

Used to say in a few words what a group of proposals is about (the top words
of its titles, descriptions and comments). The rules are deliberately simple
and predictable:

1. Split on everything that is not a letter or digit (``_`` splits too).
2. Lower-case Latin letters.
3. Strip one common Korean particle or polite ending from the end of a
   token (``공원이`` → ``공원``, ``도로를`` → ``도로``, ``설치해주세요`` →
   ``설치``), the longest that fits, at most twice (``주민들이`` → ``주민``).
   A strip is made only when at least two characters remain, and never from
   a word of :data:`PROTECTED_ENDINGS` (nouns that merely end like a
   particle: ``도로``, ``자전거도로``, ``횡단보도``, ``어린이``), so ``나무``
   stays ``나무`` and ``통학로`` stays ``통학로``.
4. Drop stop words (:data:`STOPWORDS`: Korean and English function words and
   the words every proposal shares, such as ``제안``), numbers and
   one-character tokens.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

_SPLIT = re.compile(r"[\W_]+", re.UNICODE)
_HANGUL = re.compile(r"[\uac00-\ud7a3]")

#: Particles and endings stripped from the end of Korean tokens (longest first when matching).
PARTICLES: tuple[str, ...] = (
    # polite endings and verb tails
    "해주시기바랍니다", "해주셨으면", "해주십시오", "해주세요", "해주면", "해줬으면", "했으면", "하였으면",
    "되었으면", "됐으면", "되면", "되어", "입니다", "합니다", "습니다", "됩니다", "있습니다", "없습니다",
    "주세요", "했어요", "해요", "에요", "예요", "이에요", "이다", "하다", "하고", "하는", "하면", "해서", "하여",
    "으면", "요",
    # particles
    "에서부터", "으로부터", "로부터", "에서는", "에서도", "에게는", "에게서", "한테서", "으로는", "으로도",
    "에서", "에게", "한테", "께서", "으로", "까지", "부터", "처럼", "보다", "이랑", "이나", "에는", "에도",
    "와는", "과는", "하고", "마다", "조차", "밖에", "이며", "이고", "이라서", "이라",
    "은", "는", "이", "가", "을", "를", "에", "로", "와", "과", "의", "도", "만", "나", "랑", "들",
)
_PARTICLES_LONGEST_FIRST = tuple(sorted(set(PARTICLES), key=lambda p: (-len(p), p)))

#: Nouns that end like a particle; a token ending with one of them is never stripped.
PROTECTED_ENDINGS: tuple[str, ...] = (
    # roads and ways (로, 도)
    "도로", "보도", "인도", "차도", "지하도", "횡단보도", "통학로", "보행로", "산책로", "교차로", "진입로", "경로", "수로",
    "속도", "온도", "정도", "제도", "용도", "밀도", "한도",
    # 이, 가, 과, 의, 요, 을
    "어린이", "놀이", "아이", "나무", "상가", "고가", "평가", "휴가", "단가", "전문가", "효과", "결과",
    "회의", "협의", "건의", "논의", "문의", "주의", "필요", "수요", "중요", "주요", "마을", "하나",
)

#: Tokens left out of the counts.
STOPWORDS: frozenset[str] = frozenset(
    {
        # Korean function words and fillers
        "그리고", "그러나", "하지만", "또는", "또한", "그래서", "그런데", "그냥", "정말", "너무", "아주", "매우", "조금",
        "많이", "많은", "모든", "여러", "이것", "그것", "저것", "여기", "거기", "저기", "이런", "그런", "저런", "우리",
        "저희", "때문", "때문에", "위해", "위한", "위해서", "대한", "대해", "통해", "함께", "같은", "같아요", "있는",
        "없는", "있다", "없다", "있으면", "좋겠", "좋겠습니다", "좋겠어요", "좋습니다", "좋아요", "좋은", "생각", "생각합니다",
        "것입니다", "것이", "것을", "수도", "등의", "이번", "다른", "해당", "일대", "관련",
        # words every proposal shares
        "제안", "제안합니다", "제안입니다", "데모", "시연용", "생성된", "데이터",
        # English
        "a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could", "do", "for", "from", "has",
        "have", "here", "i", "if", "in", "into", "is", "it", "its", "more", "much", "my", "no", "not", "of", "on",
        "or", "our", "please", "should", "so", "some", "than", "that", "the", "their", "there", "these", "this",
        "to", "too", "us", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "will",
        "with", "would", "you", "your", "proposal", "demo",
    }
)

_MIN_STEM = 2  # characters that must remain after stripping a particle
_MAX_STRIPS = 2


def _strip_particles(token: str) -> str:
    for _ in range(_MAX_STRIPS):
        if not _HANGUL.search(token[-1:]) or token.endswith(PROTECTED_ENDINGS):
            return token
        for particle in _PARTICLES_LONGEST_FIRST:
            if token.endswith(particle) and len(token) - len(particle) >= _MIN_STEM:
                token = token[: -len(particle)]
                break
        else:
            return token
    return token


def tokenize(text: Any) -> list[str]:
    """The words of ``text`` after the module's rules, in order of appearance.

    Parameters
    ----------
    text : str or None
        Any text; ``None`` gives no words.

    Returns
    -------
    list of str

    Examples
    --------
    >>> tokenize("공원에 벤치를 설치해주세요! Bench in the PARK")
    ['공원', '벤치', '설치', 'bench', 'park']
    >>> tokenize("나무가 있는 공원의 나무")
    ['나무', '공원', '나무']
    """
    if text is None:
        return []
    words = []
    for raw in _SPLIT.split(str(text)):
        if not raw:
            continue
        token = _strip_particles(raw.lower())
        if len(token) < 2 or token.isdigit() or token in STOPWORDS:
            continue
        words.append(token)
    return words


def top_words(texts: Iterable[Any], n: int = 10) -> list[tuple[str, int]]:
    """The ``n`` most frequent words of ``texts`` with their counts.

    Parameters
    ----------
    texts : iterable of str
        Titles, descriptions, comments (``None`` entries are skipped).
    n : int
        How many words at most (``0`` gives none).

    Returns
    -------
    list of (str, int)
        Most frequent first; ties in alphabetical (code point) order, so the
        answer is the same for the same texts in any order.

    Examples
    --------
    >>> top_words(["공원에 벤치를", "공원의 나무", "park bench"], n=3)
    [('공원', 2), ('bench', 1), ('park', 1)]
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a whole number >= 0, got {n!r}")
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(tokenize(text))
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:n]
