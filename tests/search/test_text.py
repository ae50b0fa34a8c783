"""The analyzer both backends share: normalising, Chinese words with the product dictionary, Latin and
model-number forms, synonyms, stop words, and the typo helpers."""

from __future__ import annotations

import pytest

from yinli.search.text import Analyzer, damerau, edits1, latin_forms, normalize, typo_distance


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(["手机保护套"])


def test_normalize():
    assert normalize("  ＩＰｈｏｎｅ\u3000１５\x00Pro\u200b ") == "iphone 15 pro"
    assert normalize("\x07\n\t") == ""


def test_latin_forms():
    assert latin_forms("zt-40604") == ("zt40604", ["zt", "40604"])
    assert latin_forms("iphone15") == ("iphone15", ["iphone", "15"])
    assert latin_forms("3.5mm") == ("3.5mm", ["3.5", "mm"])


def test_index_terms_meet_query_words(analyzer):
    terms = set(analyzer.index_terms("适用苹果iPhone 15 Pro手机保护套 ZT-40604"))
    assert {"iphone15", "iphone", "15", "手机保护套", "保护套", "手机", "zt40604", "zt", "40604"} <= terms
    for query in ("iPhone15", "IPHONE-15", "zt40604", "ZT-40604", "手机保护套"):
        assert analyzer.concepts(query)[0].text in terms


def test_concepts_carry_synonyms(analyzer):
    [case] = analyzer.concepts("手机壳")
    assert case.terms[0] == "手机壳" and "手机保护套" in case.terms
    assert [a.weight for a in case.alternatives][:2] == [1.0, 0.9]


def test_stop_words_and_symbols_are_not_words(analyzer):
    assert analyzer.concepts('" : ( ) * ~ AND OR 😀') == []
    assert [c.text for c in analyzer.concepts("钢化膜 and 手机壳")] == ["钢化膜", "手机壳"]


def test_dictionary_learns_catalog_words():
    a = Analyzer()
    assert "花西子" not in a.index_terms("花西子散粉")
    assert a.add_words(["花西子", "花西子"]) == ["花西子"]  # a brand the catalog registered
    assert "花西子" in a.index_terms("花西子散粉")
    assert [c.text for c in a.concepts("花西子散粉")] == ["花西子", "散粉"]


def test_typo_helpers():
    assert typo_distance("tv") == 0 and typo_distance("iphone") == 1 and typo_distance("playstation") == 2
    assert "iphone" in edits1("iphnoe")
    assert damerau("iphnoe", "iphone") == 1
    assert damerau("camra", "camera") == 1
    assert damerau("playstatoin", "playstation") == 1
    assert damerau("abc", "xyz") == 3
