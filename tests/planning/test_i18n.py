import re

import pytest

from planning.i18n import CATALOGUE, t


def test_every_key_has_both_languages_with_the_same_placeholders():
    for key, (ko, en) in CATALOGUE.items():
        assert ko.strip() and en.strip(), key
        assert re.search(r"[가-힣]", ko), f"{key}: Korean text has no Hangul"
        assert set(re.findall(r"{(\w+)}", ko)) == set(re.findall(r"{(\w+)}", en)), key


def test_korean_is_the_default_and_placeholders_fill():
    assert t("form.submitted", id=7) == "제안 #7을(를) 제출했습니다."
    assert t("form.submitted", "en", id=7) == "Proposal #7 was submitted."


def test_unknown_key_is_an_error():
    with pytest.raises(KeyError):
        t("no.such.key")
