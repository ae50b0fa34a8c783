"""The fallbacks when no product has every word: typos tolerated for the Latin words the index does not
know, then relaxed (of two words either one, of three or more every word but the commonest). Plus the
tantivy backend's integer prior and its schema upgrade. The API tests run on every backend (see conftest)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tantivy
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.search.conftest import ids, product
from yinli.core.clock import SimulatedClock
from yinli.core.settings import Settings
from yinli.search import service
from yinli.search.backends.base import Filters, Match, Retrieval, Sort
from yinli.search.backends.tantivy_backend import PRIOR_EXPONENT, TantivyBackend, prior_key
from yinli.search.service import SearchEngine
from yinli.search.text import EXACT, Alternative, Concept


def test_typo_pass_widens_only_unknown_words(world, sync, search):
    m = world.merchant()
    lens = product(world, m, "canon ef lens")
    lent = product(world, m, "canon ef lent")  # one edit from "lens", but "lens" is a known word
    assert sync() > 0
    r = search("canno lens")
    assert r["match"] == "typo"
    assert ids(r) == [lens] and lent not in ids(r)


def test_relaxed_drops_the_commonest_word(world, sync, search):
    m = world.merchant()
    both = product(world, m, "alpha bravo widget")  # every word but the commonest
    with_alpha = product(world, m, "gadget alpha")  # two of three, but lacks a rarer word
    with_bravo = product(world, m, "gadget bravo")
    product(world, m, "gadget one")
    product(world, m, "gadget two")
    assert sync() > 0
    r = search("gadget alpha bravo")  # gadget: 4 products; alpha, bravo: 2 each
    assert r["match"] == "partial"
    assert ids(r) == [both] and r["total"] == 1
    assert with_alpha not in ids(r) and with_bravo not in ids(r)
    # when the rarer words match nothing together, the answer is empty rather than a flood
    r = search("gadget alpha one")
    assert r["match"] == "partial" and r["total"] == 0 and r["items"] == []


def test_two_words_relax_to_either(world, sync, search):
    m = world.merchant()
    first = product(world, m, "kayak paddle")
    second = product(world, m, "tent stove")
    assert sync() > 0
    r = search("kayak stove")
    assert r["match"] == "partial" and set(ids(r)) == {first, second} and r["total"] == 2


class CountingBackend:
    """Stands in for a backend: only document counts per concept are asked for."""

    name = "fake"

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts

    def concept_counts(self, session: object, concepts: tuple[Concept, ...]) -> list[int]:
        return [self.counts[c.text] for c in concepts]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=2, max_size=7))
def test_relax_keeps_every_word_but_one_commonest(counts):
    words = [f"w{i}" for i in range(len(counts))]
    concepts = tuple(Concept(w, (Alternative(w, EXACT),), latin=True) for w in words)
    engine = SearchEngine(
        CountingBackend(dict(zip(words, counts, strict=True))),  # type: ignore[arg-type]
        Settings(_env_file=None),  # type: ignore[call-arg]
        SimulatedClock(datetime(2026, 11, 24, tzinfo=UTC)),
    )
    relaxed = engine.relax(None, concepts)
    assert relaxed.match is Match.PARTIAL
    kept = [c.text for c in relaxed.concepts]
    if len(words) == 2:  # either word
        assert kept == words and relaxed.required == 1
        return
    assert relaxed.conjunctive and len(kept) == len(words) - 1
    assert kept == [w for w in words if w in kept]  # order kept
    (dropped,) = set(words) - set(kept)
    assert counts[words.index(dropped)] == max(counts)
    # of equally common words, the later one goes
    assert words.index(dropped) == max(i for i, n in enumerate(counts) if n == max(counts))


@settings(max_examples=300, deadline=None)
@given(st.floats(0, 0.16, exclude_max=True), st.floats(0, 0.16, exclude_max=True))
def test_integer_prior_keeps_the_prior_and_its_order(a, b):
    for w in (a, b):
        assert math.isclose(
            math.log2(2 + prior_key(w)) / PRIOR_EXPONENT, math.log2(2 + w), rel_tol=1e-9
        )  # scores are f32 (1e-7)
    if a < b:
        assert prior_key(a) <= prior_key(b)


def test_an_index_with_an_older_schema_is_replaced(tmp_path: Path):
    root = tmp_path / "tantivy"
    (root / "g-000001").mkdir(parents=True)
    (root / "CURRENT").write_text("g-000001")
    builder = tantivy.SchemaBuilder()
    builder.add_float_field("weight", fast=True)
    old = tantivy.Index(builder.build(), path=str(root / "g-000001"))
    writer = old.writer(15_000_000, 1)
    doc = tantivy.Document()
    doc.add_float("weight", 0.1)
    writer.add_document(doc)
    writer.commit()
    writer.wait_merging_threads()
    backend = TantivyBackend(root)
    assert (root / "CURRENT").read_text() == "g-000002"
    assert backend.count(None) == 0 and backend.position(None) == 0  # the consumer refills it from the start
    backend.close()


class SetBackend:
    """Documents as sets of words; matching by set membership (the semantics both real backends share)."""

    name = "sets"

    def __init__(self, docs: list[frozenset[str]]) -> None:
        self.docs = docs

    def concept_counts(self, session: object, concepts: tuple[Concept, ...]) -> list[int]:
        return [sum(c.text in d for d in self.docs) for c in concepts]

    def size_estimate(self, session: object) -> int:
        return len(self.docs)

    def retrieve(self, session: object, query: Any, filters: Any, sort: Any, limit: int) -> Retrieval:
        hits = [i for i, d in enumerate(self.docs) if sum(c.text in d for c in query.concepts) >= query.required]
        return Retrieval(np.asarray(hits, np.int64), np.ones(len(hits)), len(hits))


WORDS = ["a", "b", "c", "d", "e"]


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.frozensets(st.sampled_from(WORDS)), max_size=12),
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=5, unique=True),
    st.sampled_from([0, 10**9]),
)
def test_trying_relaxed_first_never_changes_the_answer(monkeypatch_module, docs, words, relax_first_below):
    """The plan (relaxed first when few products are expected) only changes the order of the passes."""
    monkeypatch_module.setattr(service, "RELAX_FIRST_BELOW", relax_first_below)
    backend = SetBackend(docs)
    engine = SearchEngine(backend, Settings(_env_file=None), SimulatedClock(datetime(2026, 11, 24, tzinfo=UTC)))  # type: ignore[arg-type,call-arg]
    concepts = tuple(Concept(w, (Alternative(w, EXACT),), latin=False) for w in words)
    lexical, got = engine._match(None, concepts, Filters(), Sort.RELEVANCE, 1000)
    # the reference: every word, else (two words or more) relaxed
    every = [i for i, d in enumerate(docs) if set(words) <= d]
    if every or len(words) < 2:
        expected_match, expected = Match.ALL, every
    else:
        expected_match, expected = Match.PARTIAL, backend.retrieve(None, engine.relax(None, concepts), None, None, 0)
        expected = list(expected.product_ids)
    assert lexical.match is expected_match
    assert list(got.product_ids) == expected and got.total == len(expected)
