"""Text analysis shared by every backend: normalising, Chinese tokenising (rjieba + a product dictionary),
Latin/model-number forms, synonyms, stop words and typo helpers.

Both backends index *our* terms (pre-tokenised, joined by spaces into whitespace-tokenised fields), so
tantivy and PostgreSQL see exactly the same vocabulary and a query means the same thing to both.

Index side (`Analyzer.index_terms`): rjieba's search mode (whole words plus the dictionary sub-words,
"手机保护套" → 手机, 保护, 护套, 保护套, 手机保护套), and for Latin/digit tokens a canonical form with
separators removed ("ZT-40604" → zt40604) plus its letter and digit parts (zt, 40604), plus joins of
adjacent letter/digit words ("iPhone 15" → iphone15), so "iPhone15", "iphone 15" and "IPHONE-15" meet.

Query side (`Analyzer.concepts`): rjieba's precise mode; each word becomes a *concept* that a document
must match through one of its alternatives: the word itself (weight 1.0) or a synonym (0.9).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import rjieba

MAX_QUERY_CHARS = 256
MAX_CONCEPTS = 8  # words past this add cost, not precision
MAX_TERM_CHARS = 40
EXACT, SYNONYM, FUZZY = 1.0, 0.9, 0.75  # alternative weights (documented in ranking.py)

_SEPARATORS = re.compile(r"[-_/+]")
_LATIN_TOKEN = re.compile(r"^[a-z0-9][a-z0-9.\-_/+]*$")
_LATIN_PARTS = re.compile(r"[a-z]+|[0-9]+(?:\.[0-9]+)?")
_SPACES = re.compile(r"\s+")

_STOP = "的 了 和 与 及 或 是 在 款 个 件 只 a an and or not of for the with to in on by at from is are"
STOP_WORDS = frozenset(_STOP.split(" "))


def normalize(text: str) -> str:
    """NFKC (full-width → half-width), lower case, control and format characters → spaces, one space."""
    text = unicodedata.normalize("NFKC", text).lower()
    cleaned = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    return _SPACES.sub(" ", cleaned).strip()


def _is_word(token: str) -> bool:
    return any(ch.isalnum() for ch in token) and len(token) <= MAX_TERM_CHARS


def _is_latin(token: str) -> bool:
    return bool(_LATIN_TOKEN.match(token))


def latin_forms(token: str) -> tuple[str, list[str]]:
    """`zt-40604` → ("zt40604", ["zt", "40604"]); `3.5mm` → ("3.5mm", ["3.5", "mm"])."""
    canonical = _SEPARATORS.sub("", token).strip(".")
    parts = [p for p in _LATIN_PARTS.findall(token) if p != canonical]
    return canonical, parts


def _kind(token: str) -> str:
    if token.isdigit():
        return "digits"
    if token.isascii() and token.isalpha():
        return "letters"
    return ""


@dataclass(frozen=True)
class Alternative:
    term: str
    weight: float  # EXACT, SYNONYM or FUZZY


@dataclass(frozen=True)
class Concept:
    """One query word: a document matches it through any alternative (in any text field)."""

    text: str
    alternatives: tuple[Alternative, ...]
    latin: bool  # a typo pass may widen it with fuzzy matches

    @property
    def terms(self) -> list[str]:
        return [a.term for a in self.alternatives]


def _read_lines(name: str) -> list[str]:
    text = resources.files("yinli.search.data").joinpath(name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@lru_cache
def shipped_synonyms() -> tuple[tuple[str, ...], ...]:
    groups = []
    for line in _read_lines("synonyms_zh.txt"):
        members = tuple(dict.fromkeys(normalize(m) for m in line.split(",") if normalize(m)))
        if len(members) > 1:
            groups.append(members)
    return tuple(groups)


@lru_cache
def shipped_lexicon() -> tuple[str, ...]:
    return tuple(normalize(w) for w in _read_lines("lexicon_zh.txt"))


class Analyzer:
    """rjieba with the product dictionary (shipped words, synonyms, and the catalog's brands and category
    names). The dictionary is a pure function of the catalog, so an incrementally kept index and one
    rebuilt from the database tokenise alike; when it grows, the indexer re-indexes the products whose
    text holds a new word (see `SearchEngine`)."""

    def __init__(self, extra_words: Iterable[str] = ()) -> None:
        self._jieba = rjieba.Jieba()
        self._lock = threading.Lock()  # add_word mutates the tokeniser; keep cuts consistent
        self.words: set[str] = set()
        self.synonyms: dict[str, tuple[str, ...]] = {}
        for group in shipped_synonyms():
            for member in group:
                self.synonyms[member] = group
        self.add_words([*shipped_lexicon(), *(m for g in shipped_synonyms() for m in g)])
        self.add_words(extra_words)

    def add_words(self, words: Iterable[str]) -> list[str]:
        """Teach the tokeniser new dictionary words; returns those that were new."""
        added = []
        with self._lock:
            for raw in words:
                word = normalize(raw)
                if not word or word in self.words or len(word) > MAX_TERM_CHARS:
                    continue
                self.words.add(word)
                # only multi-character words with a non-Latin character change how text is cut
                if len(word) > 1 and not _is_latin(word) and " " not in word:
                    self._jieba.add_word(word, None, None)
                    added.append(word)
        return added

    def _cut(self, text: str, search_mode: bool) -> list[str]:
        with self._lock:
            return self._jieba.cut_for_search(text) if search_mode else self._jieba.cut(text)

    # --- index side -------------------------------------------------------------------------------

    def index_terms(self, text: str) -> list[str]:
        """Distinct terms of `text` for the index, in first-seen order."""
        text = normalize(text)
        if not text:
            return []
        terms: dict[str, None] = {}
        for token in self._cut(text, True):
            self._add_token(terms, token)
        previous = ""
        for token in self._cut(text, False):  # joins need the precise cut's adjacency
            if token.isspace():
                continue
            kinds = {_kind(previous), _kind(token)}
            if kinds == {"letters", "digits"}:
                terms.setdefault(previous + token, None)
            previous = token
        return list(terms)

    def _add_token(self, terms: dict[str, None], token: str) -> None:
        if not _is_word(token) or token in STOP_WORDS:
            return
        if _is_latin(token):
            canonical, parts = latin_forms(token)
            if canonical:
                terms.setdefault(canonical, None)
            for part in parts:
                terms.setdefault(part, None)
        else:
            terms.setdefault(token, None)

    def whole_terms(self, values: Iterable[str]) -> list[str]:
        """Terms of short values (brand, attribute values, category names): each value whole, plus its
        terms, so "玫瑰金" matches as one word even when the tokeniser would cut it."""
        terms: dict[str, None] = {}
        for value in values:
            norm = normalize(value)
            if not norm:
                continue
            whole = _SEPARATORS.sub("", norm.replace(" ", ""))
            if _is_word(whole) and whole not in STOP_WORDS:
                terms.setdefault(whole, None)
            for term in self.index_terms(norm):
                terms.setdefault(term, None)
        return list(terms)

    # --- query side -------------------------------------------------------------------------------

    def concepts(self, query: str) -> list[Concept]:
        text = normalize(query)[:MAX_QUERY_CHARS]
        concepts: dict[str, Concept] = {}
        for token in self._cut(text, False):
            if not _is_word(token) or token in STOP_WORDS:
                continue
            latin = _is_latin(token)
            term = latin_forms(token)[0] if latin else token
            if not term or term in concepts:
                continue
            alternatives = [Alternative(term, EXACT)]
            for synonym in self.synonyms.get(term, ()):
                if synonym != term:
                    alternatives.append(Alternative(synonym, SYNONYM))
            concepts[term] = Concept(term, tuple(alternatives), latin and len(term) >= 4 and not term.isdigit())
            if len(concepts) == MAX_CONCEPTS:
                break
        return list(concepts.values())


# --- typo helpers (the PostgreSQL backend; tantivy has its own Levenshtein automata) ----------------

_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def typo_distance(term: str) -> int:
    """Edits tolerated in a Latin word: none below 4 characters, 1 up to 7, 2 from 8."""
    return 0 if len(term) < 4 else 1 if len(term) < 8 else 2


def edits1(word: str) -> set[str]:
    """Every string one deletion, transposition, substitution or insertion away (Norvig's)."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    transposes = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in _ALPHABET}
    inserts = {a + c + b for a, b in splits for c in _ALPHABET}
    return (deletes | transposes | replaces | inserts) - {word}


def damerau(a: str, b: str) -> int:
    """Optimal string alignment distance (transpositions cost one), as tantivy's fuzzy queries count."""
    if a == b:
        return 0
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]
