"""The message catalogue: every phrase the web shows in Chinese has an English translation."""

from __future__ import annotations

import re
import string
from pathlib import Path

from yinli.web import i18n

WEB = Path(i18n.__file__).parent
PHRASE = re.compile(r"""\bt\(\s*"((?:[^"\\]|\\.)*)"|\bt\(\s*'((?:[^'\\]|\\.)*)'""")


def _phrases() -> set[str]:
    found = set()
    for f in list(WEB.rglob("*.html")) + list(WEB.rglob("*.py")):
        for m in PHRASE.finditer(f.read_text(encoding="utf-8")):
            found.add(m.group(1) or m.group(2))
    for table in (i18n.FLASH, i18n.PROBLEMS, *i18n.LABELS.values()):
        found |= set(table.values())
    return found


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_phrase_has_an_english_translation():
    phrases = _phrases()
    assert len(phrases) > 300
    missing = sorted(p for p in phrases if p not in i18n.EN)
    assert missing == []


def test_translations_keep_their_placeholders():
    wrong = {zh: en for zh, en in i18n.EN.items() if _fields(zh) != _fields(en) or not en.strip()}
    assert wrong == {}


def test_language_switch_is_remembered(anon, shop):
    r = anon.get("/?lang=en")
    assert '<html lang="en">' in r.text and "Mall" in r.text and "For you" in r.text
    assert "yinli_lang=en" in r.headers["set-cookie"]
    r = anon.get("/mall")
    assert '<html lang="en">' in r.text and "Best sellers" in r.text
    r = anon.get("/signin?lang=zh")
    assert '<html lang="zh-CN">' in r.text and "登录引力" in r.text


def test_english_form_errors(anon):
    r = anon.post("/signup?lang=en", {"email": "bad", "password": "x", "display_name": "y"}, page="/signup?lang=en")
    assert r.status_code == 422 and "String should have at least 8 characters" in r.text
