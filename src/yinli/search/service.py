"""Search: the engine that answers queries (analyse → lexical candidates → re-rank → page and facets) and
keeps its backend in step with the catalog (the outbox consumer and the rebuild).

One `SearchEngine` per process and database (`engine_for`): the API and the background jobs share it, so
the index, the tokeniser's dictionary and the ranking features move together.

Matching falls back in steps, so a query finds something whenever it reasonably can:
every word (`all`) → every word with Latin typos tolerated (`typo`) → relaxed (`partial`, see `relax`):
of two words either one; of three or more, every word but the commonest.
"""

from __future__ import annotations

import math
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yinli.catalog.models import Brand, Product, Sku
from yinli.core.clock import Clock
from yinli.core.db import Database
from yinli.core.errors import InvalidInput
from yinli.core.outbox import read_after
from yinli.core.settings import Settings
from yinli.orders.models import OrderLine
from yinli.search import browse, documents
from yinli.search.backends.base import (
    CANDIDATES,
    Facets,
    Filters,
    LexicalQuery,
    Match,
    Retrieval,
    SearchBackend,
    Sort,
)
from yinli.search.documents import CategoryIndex
from yinli.search.ranking import DAY, FeatureStore, Ranked, explain
from yinli.search.text import EXACT, Analyzer, Concept, normalize

PRODUCT_EVENTS = {"ProductCreated", "ProductChanged", "ProductListed", "ProductDelisted", "SkuAdded"}
STORE_EVENTS = {"StoreActive", "StoreSuspended", "StoreClosed", "StoreRejected"}
STOCK_EVENTS = {"StockDepleted", "StockRestored"}
SALES_EVENTS = {"OrderPaid", "AfterSaleRefunded"}
EVENTS = sorted(PRODUCT_EVENTS | STORE_EVENTS | STOCK_EVENTS | SALES_EVENTS | {"PriceChanged"})
EVENT_BATCH = 500
MAX_BATCHES_PER_SYNC = 40  # bound one round's work; the next round continues
MAX_LIMIT = 50
# A query of 3+ words whose relaxed form (all words but the commonest) is expected, by the words' document
# counts taken as independent, to match fewer products than this is tried relaxed first (see `_match`).
RELAX_FIRST_BELOW = 100


@dataclass(frozen=True)
class SearchRequest:
    q: str = ""
    filters: Filters = field(default_factory=Filters)
    sort: Sort = Sort.RELEVANCE
    offset: int = 0
    limit: int = 20
    explain: bool = False
    facets: bool = True


@dataclass
class Hit:
    product_id: int
    score: float
    explain: dict[str, dict[str, float]] | None = None


@dataclass
class EngineResult:
    hits: list[Hit]
    total: int
    normalized: str
    match: Match | None  # how the words matched; None for an empty query (browse) or no words at all
    intent: list[int]  # categories the query names
    facets: Facets | None
    next_offset: int | None
    took_us: int = 0
    backend: str = ""
    total_is_estimate: bool = False  # `total` estimated, not counted (see Retrieval.estimated)


class SearchEngine:
    def __init__(
        self,
        backend: SearchBackend | Callable[[], SearchBackend],
        settings: Settings,
        clock: Clock,
        candidates: int = CANDIDATES,
    ) -> None:
        # Built on first use: most processes (and tests) that create an app never search.
        self._backend = backend if not callable(backend) else None
        self._make_backend = backend if callable(backend) else None
        self._analyzer: Analyzer | None = None
        self.settings, self.clock = settings, clock
        self.categories = CategoryIndex([])
        self.features = FeatureStore()
        # lexical candidates re-ranked per query (K): the backend returns the best K by text score x prior
        if not 1 <= candidates <= 100_000:
            raise ValueError("candidates must be between 1 and 100,000")
        self.candidates = candidates
        self._browse: browse.BrowseSnapshot | None = None
        self._ready = False
        self._sync_lock = threading.Lock()  # one consumer round at a time per process
        self._ready_lock = threading.Lock()

    @property
    def backend(self) -> SearchBackend:
        if self._backend is None:
            assert self._make_backend is not None
            self._backend = self._make_backend()
        return self._backend

    def close(self) -> None:
        """Release the backend's resources (tantivy: the open index and its thread); reopens on next use."""
        with self._sync_lock:
            if self._backend is not None:
                self._backend.close()

    @property
    def analyzer(self) -> Analyzer:
        if self._analyzer is None:
            self._analyzer = Analyzer()
        return self._analyzer

    # --- catalog knowledge ----------------------------------------------------------------------------

    def ensure_ready(self, session: Session) -> None:
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return
            self._load_catalog(session)

    def _load_catalog(self, session: Session) -> None:
        """The category tree, the tokeniser's catalog words and every listed product's ranking features,
        from the database as it is now (a fresh feature store, swapped in whole)."""
        self.categories = CategoryIndex.load(session)
        self.analyzer.add_words(self._catalog_words(session))
        features = FeatureStore()
        features.load(session, self.settings, self.categories)
        self.features = features
        self._ready = True

    def _catalog_words(self, session: Session) -> list[str]:
        return [*self.categories.words(), *session.scalars(select(Brand.name))]

    def _learn_words(self, session: Session) -> list[int]:
        """Teach the tokeniser new brand and category names; products that mention one need re-indexing
        (their text would now be cut differently), so their ids are returned."""
        tree = CategoryIndex.load(session)
        if len(tree.nodes) != len(self.categories.nodes):
            self.categories = tree
        added = self.analyzer.add_words(self._catalog_words(session))
        return documents.products_mentioning(session, added)

    # --- answering ------------------------------------------------------------------------------------

    def resolve_filters(self, filters: Filters) -> Filters:
        if filters.min_price is not None and filters.max_price is not None and filters.min_price > filters.max_price:
            raise InvalidInput("min_price is above max_price", field="min_price")
        if filters.category_id is None:
            return filters
        node = self.categories.nodes.get(filters.category_id)
        if node is None:
            raise InvalidInput(f"no category {filters.category_id}", field="category_id")
        return Filters(**{**filters.__dict__, "category_level": node.level})

    def intent(self, concepts: list[Concept]) -> frozenset[int]:
        found: set[int] = set()
        for concept in concepts:
            for term in concept.terms:
                found.update(self.categories.by_name.get(term, ()))
        return frozenset(found)

    def relax(self, session: Session | None, concepts: tuple[Concept, ...]) -> LexicalQuery:
        """The last resort when no product matches every word. Of two words, products with either (the
        rarer word's products first only by their own merits: both are one concept's score). Of three or
        more, drop the commonest word (most documents; of equals, the later one) and require the rest: the
        rarer words say more about what is wanted (手机壳 over 新款), and one conjunctive pass costs about
        what the all-words pass did, where "any n−1 of n" walked every posting of every word (≈ 8 ms for
        five 80,000-document words at 1M products). Products matching n−1 words other than the commonest
        set are not found; when the rest match nothing either, the answer is empty, not a flood."""
        if len(concepts) == 2:
            return LexicalQuery(concepts, Match.PARTIAL, minimum=1)
        return self._relax(session, concepts)[0]

    def _relax(self, session: Session | None, concepts: tuple[Concept, ...]) -> tuple[LexicalQuery, list[int], int]:
        """Three or more words: (every word but the commonest, each word's document count, the dropped one)."""
        counts = self.backend.concept_counts(session, concepts)
        commonest = max(range(len(concepts)), key=lambda i: (counts[i], i))
        kept = tuple(c for i, c in enumerate(concepts) if i != commonest)
        return LexicalQuery(kept, Match.PARTIAL), counts, commonest

    def _match(
        self, session: Session | None, concepts: tuple[Concept, ...], filters: Filters, sort: Sort, window: int
    ) -> tuple[LexicalQuery, Retrieval]:
        """Every word; if nothing matches, Latin typos tolerated; if still nothing, relaxed (`relax`).

        Every product matching all words also matches the relaxed query, so when the relaxed query finds
        nothing, neither can the stricter passes. A query of three or more (non-Latin) words of which the
        relaxed form is expected to match few products is therefore tried relaxed first: if that finds
        nothing, one pass answered instead of two (five words in 8% of the catalog each: ≈ 2.9 ms saved
        at 1M); otherwise the all-words pass follows, over short lists, and wins when it finds anything.
        The answer is the same either way."""
        every = LexicalQuery(concepts)
        if len(concepts) >= 3 and not any(c.latin for c in concepts):
            relaxed, counts, dropped = self._relax(session, concepts)
            size = max(self.backend.size_estimate(session), 1)
            kept = [n for i, n in enumerate(counts) if i != dropped]
            if size * math.prod(n / size for n in kept) < RELAX_FIRST_BELOW:
                first = self.backend.retrieve(session, relaxed, filters, sort, window)
                if not first.total:
                    return relaxed, first
                full = self.backend.retrieve(session, every, filters, sort, window)
                return (every, full) if full.total else (relaxed, first)
        lexical = every
        retrieval = self.backend.retrieve(session, every, filters, sort, window)
        if retrieval.total:
            return every, retrieval
        if any(c.latin for c in concepts):
            lexical = LexicalQuery(concepts, Match.TYPO)
            retrieval = self.backend.retrieve(session, lexical, filters, sort, window)
            if retrieval.total:
                return lexical, retrieval
        if len(concepts) < 2:
            return lexical, retrieval
        relaxed = self.relax(session, concepts)
        return relaxed, self.backend.retrieve(session, relaxed, filters, sort, window)

    def search(self, session: Session | None, request: SearchRequest) -> EngineResult:
        started = time.perf_counter()
        if session is not None:
            self.ensure_ready(session)
        if not 0 <= request.offset <= self.candidates or not 1 <= request.limit <= MAX_LIMIT:
            raise InvalidInput("offset or limit out of range", field="limit")
        filters = self.resolve_filters(request.filters)
        normalized = normalize(request.q)[:256]
        concepts = self.analyzer.concepts(request.q)
        if normalized and not concepts:  # words we cannot search for (emoji, punctuation): nothing matches
            return EngineResult([], 0, normalized, None, [], None, None, self._took(started), self.backend.name)
        relevance = request.sort is Sort.RELEVANCE
        window = self.candidates if relevance else request.offset + request.limit + 1
        lexical = LexicalQuery(tuple(concepts))
        if lexical.browse and relevance:
            return self._browse_page(request, filters, normalized, started)
        if lexical.browse:
            retrieval = self.backend.retrieve(session, lexical, filters, request.sort, window)
        else:
            lexical, retrieval = self._match(session, tuple(concepts), filters, request.sort, window)
        intent = self.intent(concepts)
        best = sum(EXACT for _ in concepts) or 1.0  # every word exactly in the title
        ranked = self.features.rank(
            retrieval.product_ids,
            retrieval.text_scores / best,
            intent,
            self.clock.now().timestamp() / DAY,
            reorder=relevance,
        )
        hits = self._page(ranked, request)
        end = request.offset + len(hits)
        more = end < len(ranked.product_ids) and end < self.candidates
        facets = self.backend.facets(session, lexical, filters) if request.facets and retrieval.total else None
        total, estimated = retrieval.total, retrieval.estimated
        if estimated and facets is not None:
            # the facets visited every match anyway: the price ranges (from 0, open-ended) count them all
            total, estimated = sum(n for _, _, n in facets.prices), False
        return EngineResult(
            hits=hits,
            total=total,
            normalized=normalized,
            match=None if lexical.browse else lexical.match,
            intent=sorted(intent),
            facets=facets,
            next_offset=end if more else None,
            took_us=self._took(started),
            backend=self.backend.name,
            total_is_estimate=estimated,
        )

    def browse_snapshot(self, *, fresh: bool = False) -> browse.BrowseSnapshot:
        """The browse lists; built now when there are none (or `fresh` and they are stale)."""
        snapshot = self._browse
        if snapshot is None or (fresh and snapshot.version != self.features.version):
            snapshot = browse.build_snapshot(self.features, self.clock.now().timestamp() / DAY)
            self._browse = snapshot
        return snapshot

    def _browse_page(self, request: SearchRequest, filters: Filters, normalized: str, started: float) -> EngineResult:
        """No words, relevance order: from the precomputed lists (browse.py), not the index."""
        snapshot = self.browse_snapshot()
        ranked, total = browse.page(snapshot, self.features, filters, request.offset, request.limit)
        hits = self._page(ranked, request, first=0)
        end = request.offset + len(hits)
        more = end < total and end < self.candidates
        facets = browse.facets(snapshot, filters) if request.facets and total else None
        return EngineResult(
            hits, total, normalized, None, [], facets, end if more else None, self._took(started), self.backend.name
        )

    def _page(self, ranked: Ranked, request: SearchRequest, first: int | None = None) -> list[Hit]:
        """Hits `request.offset`... of the ranked list (or from `first` when `ranked` is the page already)."""
        hits = []
        start = request.offset if first is None else first
        for i in range(start, min(start + request.limit, len(ranked.product_ids))):
            hits.append(
                Hit(
                    int(ranked.product_ids[i]),
                    float(ranked.scores[i]),
                    explain(ranked, i) if request.explain else None,
                )
            )
        return hits

    @staticmethod
    def _took(started: float) -> int:
        return int((time.perf_counter() - started) * 1e6)

    # --- keeping up with the catalog -------------------------------------------------------------------

    def _dirty_products(self, session: Session, events: list[Any]) -> set[int]:
        """Products whose document may have changed because of these events."""
        products: set[int] = set()
        stores: set[int] = set()
        skus: set[int] = set()
        orders: set[int] = set()
        for event in events:
            payload = event.payload or {}
            if event.type in PRODUCT_EVENTS:
                products.add(int(event.aggregate_id))
            elif event.type == "PriceChanged":
                products.add(int(payload["product_id"]))
            elif event.type in STORE_EVENTS:
                stores.add(int(event.aggregate_id))
            elif event.type in STOCK_EVENTS:
                skus.add(int(event.aggregate_id))
            elif event.type == "OrderPaid":
                products.update(int(line["product_id"]) for line in payload.get("lines", []))
            elif event.type == "AfterSaleRefunded":
                orders.add(int(event.aggregate_id))
        if stores:
            products.update(session.scalars(select(Product.id).where(Product.store_id.in_(stores))))
        if skus:
            products.update(session.scalars(select(Sku.product_id).where(Sku.id.in_(skus))))
        if orders:
            products.update(session.scalars(select(OrderLine.product_id).where(OrderLine.order_id.in_(orders))))
        return products

    def _reindex(self, session: Session, product_ids: set[int]) -> int:
        ids = sorted(product_ids)
        for start in range(0, len(ids), 2000):
            docs, gone = documents.build_documents(session, self.analyzer, self.categories, ids[start : start + 2000])
            self.backend.apply(session, docs, gone)
            self.features.upsert(docs)
            self.features.remove(gone)
        return len(ids)

    @contextmanager
    def _session(self, database: Database) -> Iterator[Session]:
        """A write transaction when the index lives in the database; else a read-only one, so indexing
        into tantivy never holds SQLite's write lock."""
        if self.backend.in_database:
            with database.session() as session:
                yield session
        else:
            with database.read_sessions() as session, session.begin():
                yield session

    def sync(self, database: Database) -> int:
        """Apply new outbox events to the index (one bounded round); returns how many were applied.

        Idempotent and safe to run concurrently with itself: a product is re-indexed from the database as
        it is now, so applying an event twice, or late, gives the same document.
        """
        with self._sync_lock, self._session(database) as session:
            self.ensure_ready(session)
            position = start = self.backend.position(session)
            dirty = set(self._learn_words(session))
            applied = 0
            for _ in range(MAX_BATCHES_PER_SYNC):
                batch = read_after(session, position, clock=self.clock, limit=EVENT_BATCH, types=EVENTS)
                dirty |= self._dirty_products(session, batch.events)
                applied += len(batch.events)
                if batch.cursor == position:
                    break
                position = batch.cursor
            if dirty:
                self._reindex(session, dirty)
            if dirty or position != start:
                self.backend.commit(session, self.clock, position)
            self.features.refresh(session, self.settings)
            self.browse_snapshot(fresh=True)
            return applied

    def follow(self, database: Database) -> None:
        """For a process that searches an index another process maintains (the simulator's workers):
        see the index as last committed, and reload the ranking features and browse lists to match.

        `sync` keeps the features current from the documents it indexes; a follower indexes nothing, so
        it reloads them whole (one query over the listed products)."""
        with self._sync_lock:
            self.backend.reload()
            with database.read_sessions() as session:
                self._load_catalog(session)
            self.browse_snapshot(fresh=True)

    def rebuild(self, database: Database, progress: Callable[[int, int], None] | None = None) -> int:
        """Rebuild the index from the database; searches switch to it when it is complete."""
        with self._sync_lock, self._session(database) as session:
            self.categories = CategoryIndex.load(session)
            self._analyzer = Analyzer(self._catalog_words(session))
            position = self.backend.position(session)
            while (batch := read_after(session, position, clock=self.clock, limit=5000, types=[])).cursor != position:
                position = batch.cursor  # everything up to here is in the catalog we are about to read
            total = documents.count_searchable(session)
            writer = self.backend.rebuild(session)
            done = 0
            if not self._ready:
                self.features.refresh(session, self.settings)
            self.features.forget_products()
            for ids in documents.iter_searchable_ids(session):
                docs, _ = documents.build_documents(session, self.analyzer, self.categories, ids)
                writer.add(docs)
                self.features.upsert(docs, medians=False)
                done += len(docs)
                if progress:
                    progress(done, total)
            writer.finish(self.clock, position)
            self.features.recompute_medians()
            self.browse_snapshot(fresh=True)
            self._ready = True
            return done


# --- one engine per process and database -----------------------------------------------------------------
#
# Engines are found by (database URL, backend, data directory). The registry holds them weakly, so an
# engine lives as long as someone uses it (an app keeps its own in `app.state.search`), plus strongly the
# few used last, so the background jobs of a process without an app do not reload the catalog every round.
# An engine nobody holds is dropped, and with it its tantivy index and the OS thread each open index keeps:
# a process that meets many databases (the test suite) holds a bounded number of them.

RECENT_ENGINES = 4
EngineKey = tuple[str, str, str]
_engines: weakref.WeakValueDictionary[EngineKey, SearchEngine] = weakref.WeakValueDictionary()
_recent: OrderedDict[EngineKey, SearchEngine] = OrderedDict()
_engines_lock = threading.Lock()


def make_backend(settings: Settings, sqlite: bool) -> SearchBackend:
    if settings.search_backend == "postgres":
        if sqlite:
            raise ValueError("YINLI_SEARCH_BACKEND=postgres needs YINLI_DATABASE_URL to be PostgreSQL")
        from yinli.search.backends.postgres import PostgresBackend

        return PostgresBackend()
    from yinli.search.backends.tantivy_backend import TantivyBackend

    return TantivyBackend(settings.data_dir / "search" / "tantivy")


def _key(settings: Settings, database: Database) -> EngineKey:
    return (database.url, settings.search_backend, str(settings.data_dir.resolve()))


def engine_for(settings: Settings, database: Database, clock: Clock) -> SearchEngine:
    """The process's engine for this database and configuration (created on first use)."""
    key = _key(settings, database)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            sqlite = database.is_sqlite  # not the Database itself: the engine must not keep it alive
            engine = SearchEngine(lambda: make_backend(settings, sqlite), settings, clock)
            _engines[key] = engine
        _recent[key] = engine
        _recent.move_to_end(key)
        while len(_recent) > RECENT_ENGINES:
            _recent.popitem(last=False)
        return engine


def release(database: Database) -> int:
    """Close and forget every engine of `database` (when a process is done with it); returns how many.

    An engine still held elsewhere keeps working: its index reopens on next use.
    """
    with _engines_lock:
        found = [(key, engine) for key, engine in _engines.items() if key[0] == database.url]
        for key, _ in found:
            _engines.pop(key, None)
            _recent.pop(key, None)
    for _, engine in found:
        engine.close()
    return len(found)


def run_jobs(database: Database, clock: Clock, settings: Settings) -> int:
    """Background work for search: bring the index up to date, then the search log's attributions."""
    from yinli.search import log

    with database.session() as session:  # first, so the features refreshed by sync see the new orders
        applied = log.attribute_orders(session, clock)
    return applied + engine_for(settings, database, clock).sync(database)
