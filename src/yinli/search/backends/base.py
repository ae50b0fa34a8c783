"""The `SearchBackend` protocol: what a lexical engine must do for yinli's search, and the shapes it
answers in. Ranking, synonyms, category intent, logging and the outbox consumer sit above it and are
shared, so the two backends differ only in how they store terms and evaluate a match.

Text score (the same definition in both backends, and free of corpus statistics so an incrementally kept
index and a rebuilt one score alike): a document matches a concept when any alternative term of it is in
any text field; the concept scores the best `alternative weight × field weight` among its matches, and the
text score is the sum over concepts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

import numpy as np
from sqlalchemy.orm import Session

from yinli.core.clock import Clock
from yinli.search.documents import SearchDoc
from yinli.search.text import Concept

# text fields and their weights in the text score
FIELDS = ("title", "brand", "category", "detail")
FIELD_WEIGHTS = {"title": 1.0, "brand": 0.9, "category": 0.7, "detail": 0.5}
CANDIDATES = 1000  # lexical candidates re-ranked per query


class Sort(StrEnum):
    RELEVANCE = "relevance"
    SALES = "sales"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    NEWEST = "newest"


class Match(StrEnum):
    ALL = "all"  # every concept must match (the normal pass)
    TYPO = "typo"  # every concept; Latin words no document holds exactly also within their edit distance
    PARTIAL = "partial"  # the last resort when nothing matches every concept: see `LexicalQuery.minimum`


@dataclass(frozen=True)
class Filters:
    category_id: int | None = None
    category_level: int | None = None  # resolved by the engine from the tree
    store_id: int | None = None
    brand_id: int | None = None
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool | None = None
    pay_later: bool | None = None
    price_protection: bool | None = None


@dataclass(frozen=True)
class LexicalQuery:
    """What to match. For `Match.PARTIAL` the engine has already relaxed the query (service.relax): either
    two words with `minimum=1` (either word), or the words left after dropping the commonest one, all
    required (`minimum=None`)."""

    concepts: tuple[Concept, ...]
    match: Match = Match.ALL
    minimum: int | None = None  # PARTIAL: concepts a document must match; None: all of them

    @property
    def required(self) -> int:
        """How many of the concepts a document must match."""
        if self.minimum is None:
            return len(self.concepts)
        return max(1, min(self.minimum, len(self.concepts)))

    @property
    def conjunctive(self) -> bool:
        return self.required >= len(self.concepts)

    @property
    def browse(self) -> bool:
        """No words: every document matches (category pages, filters only)."""
        return not self.concepts


@dataclass
class Retrieval:
    product_ids: np.ndarray  # int64, best first (relevance) or in the sort's order
    text_scores: np.ndarray  # float64, the text score of each (NaN when a sort did not compute it)
    total: int  # all matching documents, not only those returned (or an estimate of it: `estimated`)
    estimated: bool = False  # `total` is an estimate (a head word answered from its best tier, tantivy)


PRICE_BUCKETS = (0, 5000, 10000, 20000, 50000, 100000)  # fen: facet ranges start here


@dataclass
class Facets:
    categories: list[tuple[int, int]] = field(default_factory=list)  # (leaf id, count), most first
    stores: list[tuple[int, int]] = field(default_factory=list)
    prices: list[tuple[int, int | None, int]] = field(default_factory=list)  # (from, to, count)
    flags: dict[str, int] = field(default_factory=dict)  # in_stock, pay_later, price_protection


class SearchBackend(Protocol):
    name: str
    in_database: bool  # its index is written in the caller's database transaction

    def retrieve(
        self, session: Session | None, query: LexicalQuery, filters: Filters, sort: Sort, limit: int
    ) -> Retrieval:
        """Matches of `query` under `filters`: the best `limit` by text score × prior (relevance), or the
        first `limit` in `sort` order (ties by product id)."""
        ...

    def facets(self, session: Session | None, query: LexicalQuery, filters: Filters) -> Facets: ...

    def concept_counts(self, session: Session | None, concepts: tuple[Concept, ...]) -> list[int]:
        """How many documents match each concept, or an estimate (tantivy: the largest per-field document
        frequency of its terms): the relaxed fallback drops the commonest word."""
        ...

    def apply(self, session: Session | None, docs: list[SearchDoc], deleted: list[int]) -> None:
        """Upsert `docs` and remove `deleted` product ids (visible to searches after `commit`)."""
        ...

    def commit(self, session: Session | None, clock: Clock, position: int) -> None:
        """Make applied changes visible and remember the outbox position they reflect."""
        ...

    def position(self, session: Session | None) -> int: ...

    def rebuild(self, session: Session | None) -> RebuildWriter: ...

    def count(self, session: Session | None) -> int: ...

    def size_estimate(self, session: Session | None) -> int:
        """Documents in the index, roughly, and cheaply (query planning)."""
        ...

    def close(self) -> None:
        """Release what the backend holds open in this process (it reopens on next use)."""
        ...

    def reload(self) -> None:
        """See what another process has committed to the index since this one last looked."""
        ...


class RebuildWriter(Protocol):
    def add(self, docs: list[SearchDoc]) -> None: ...

    def finish(self, clock: Clock, position: int) -> None:
        """Switch searches to the rebuilt index at once."""
        ...
