"""The embedded backend: a tantivy index under `<YINLI_DATA_DIR>/search/tantivy`.

Layout: one directory per generation (`g-000001`, ...) and a `CURRENT` file naming the live one. A
rebuild writes a new generation beside the live one and switches `CURRENT` atomically when it is complete,
so searches never see a half-built index, and a process that finds `CURRENT` changed reopens. Each
generation keeps the outbox position it reflects in `position.json`, written after its commit: the index
lives outside the database, so the position must live with the index (a crash between the commit and
that write replays a few events; re-indexing a product is idempotent).

Fields are pre-tokenised by `search.text` and joined by spaces into whitespace-tokenised fields indexed
without positions or frequencies (the text score is built from constant-score clauses, see base.py).

The candidate prior (`documents.prior_weight`, w in [0, 0.16)) is applied by tantivy's `weight_by_field`,
which multiplies the score by log2(2 + field value). It is stored as an unsigned integer, `prior` =
round((2 + w)^30 - 2), so that log2(2 + prior) = 30·log2(2 + w): the same order as score × log2(2 + w),
and reading a u64 column costs about half of what a float column costs per match (measured at 1M
documents: 2.5 vs 4.1 ms for a 50,000-match head word). An index written with an older schema is not
opened: a fresh generation replaces it and the outbox consumer refills it (or `yinli search reindex`).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import threading
from pathlib import Path
from typing import Any

import numpy as np
import tantivy
from sqlalchemy.orm import Session
from tantivy import FieldType, Occur, Order, Query

from yinli.core.clock import Clock
from yinli.search.backends.base import (
    FIELD_WEIGHTS,
    FIELDS,
    PRICE_BUCKETS,
    Facets,
    Filters,
    LexicalQuery,
    Match,
    Retrieval,
    Sort,
)
from yinli.search.documents import SearchDoc
from yinli.search.text import FUZZY, Concept, typo_distance

LOW_BITS = 24  # sort keys: value << 24 | low 24 bits of the product id, so ties order by product id
LOW_MASK = (1 << LOW_BITS) - 1
SORT_FIELDS = {
    Sort.SALES: ("sales_key", Order.Desc),
    Sort.PRICE_ASC: ("price_key", Order.Asc),
    Sort.PRICE_DESC: ("price_key", Order.Desc),
    Sort.NEWEST: ("new_key", Order.Desc),
}
PRIOR_EXPONENT = 30
WRITER_HEAP = 50_000_000
REBUILD_HEAP = 400_000_000


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    for name in FIELDS:
        sb.add_text_field(name, stored=False, tokenizer_name="whitespace", index_option="basic")
    for name in ("pid", "store_id", "brand_id", "cat1", "cat2", "cat3", "price"):
        sb.add_unsigned_field(name, indexed=True, fast=True)
    for name in ("price_key", "sales_key", "new_key"):
        sb.add_unsigned_field(name, fast=True)
    for name in ("in_stock", "pay_later", "price_protection"):
        sb.add_boolean_field(name, indexed=True, fast=True)
    sb.add_unsigned_field("prior", fast=True)
    return sb.build()


PRIOR_CEILING = math.log2(2.16)  # the largest prior multiplier: documents.prior_weight < 0.16


def prior_key(weight: float) -> int:
    """The prior as the integer x with log2(2 + x) = PRIOR_EXPONENT · log2(2 + weight)."""
    return round((2.0 + weight) ** PRIOR_EXPONENT - 2.0)


def to_document(d: SearchDoc) -> tantivy.Document:
    doc = tantivy.Document()
    for name in FIELDS:
        terms = getattr(d, name)
        if terms:
            doc.add_text(name, " ".join(terms))
    low = d.product_id & LOW_MASK
    doc.add_unsigned("pid", d.product_id)
    doc.add_unsigned("store_id", d.store_id)
    doc.add_unsigned("brand_id", d.brand_id or 0)
    doc.add_unsigned("cat1", d.cat1)
    doc.add_unsigned("cat2", d.cat2)
    doc.add_unsigned("cat3", d.cat3)
    doc.add_unsigned("price", d.price_fen)
    doc.add_unsigned("price_key", (d.price_fen << LOW_BITS) | low)
    doc.add_unsigned("sales_key", (d.sales_count << LOW_BITS) | low)
    doc.add_unsigned("new_key", (d.listed_seconds << LOW_BITS) | low)
    doc.add_boolean("in_stock", d.in_stock)
    doc.add_boolean("pay_later", d.pay_later)
    doc.add_boolean("price_protection", d.price_protection)
    doc.add_unsigned("prior", prior_key(d.weight))
    return doc


class QueryBuilder:
    """Turns concepts and filters into tantivy queries (no query parser: user text never reaches one)."""

    def __init__(self, schema: tantivy.Schema) -> None:
        self.schema = schema

    def concept(self, concept: Concept, typo: bool, searcher: tantivy.Searcher | None = None) -> Query:
        """Any alternative in any field, scored by the best. With a `searcher`, (field, term) pairs that
        no document of it holds are left out: they match nothing, but every clause costs work on every
        candidate (a head word's dismax over 4 fields x its synonyms, most of them absent).

        `typo`: a Latin word no document holds exactly is matched within its edit distance too; a word the
        index knows stays exact (base.Match.TYPO)."""
        clauses = []
        for name in FIELDS:
            field_weight = FIELD_WEIGHTS[name]
            # one term query per alternative: a term-set query walks the whole term dictionary (~1 ms)
            for alt in concept.alternatives:
                if searcher is not None and not searcher.doc_freq(name, alt.term):
                    continue
                term_query = Query.term_query(self.schema, name, alt.term)
                clauses.append(Query.const_score_query(term_query, alt.weight * field_weight))
        known = searcher is not None and bool(clauses)
        distance = typo_distance(concept.text) if typo and concept.latin and not known else 0
        if distance:
            for name in FIELDS:
                fuzzy = Query.fuzzy_term_query(self.schema, name, concept.text, distance, True)
                clauses.append(Query.const_score_query(fuzzy, FUZZY * FIELD_WEIGHTS[name]))
        if not clauses:
            return Query.empty_query()
        return clauses[0] if len(clauses) == 1 else Query.disjunction_max_query(clauses)

    def filters(self, f: Filters, searcher: tantivy.Searcher | None = None) -> list[tuple[Occur, Query]]:
        """Filter clauses (scoring nothing). A yes/no filter whose value most documents hold (in stock:
        ~90%) excludes the other value instead: every document holds exactly one of the two, and skipping
        through the short list is cheaper than intersecting with the long one."""
        s = self.schema
        out = []
        if f.category_id is not None:
            out.append(Query.term_query(s, f"cat{f.category_level or 3}", f.category_id))
        if f.store_id is not None:
            out.append(Query.term_query(s, "store_id", f.store_id))
        if f.brand_id is not None:
            out.append(Query.term_query(s, "brand_id", f.brand_id))
        if f.min_price is not None or f.max_price is not None:
            out.append(Query.range_query(s, "price", FieldType.Unsigned, f.min_price or 0, f.max_price))
        clauses = [(Occur.Must, Query.const_score_query(q, 0.0)) for q in out]
        for name in ("in_stock", "pay_later", "price_protection"):
            value = getattr(f, name)
            if value is None:
                continue
            if searcher is not None and searcher.doc_freq(name, not value) < searcher.doc_freq(name, value):
                clauses.append((Occur.MustNot, Query.term_query(s, name, not value)))
            else:
                clauses.append((Occur.Must, Query.const_score_query(Query.term_query(s, name, value), 0.0)))
        return clauses

    def build(self, query: LexicalQuery, filters: Filters, searcher: tantivy.Searcher | None = None) -> Query:
        if query.browse:
            base = Query.const_score_query(Query.all_query(), 1.0)
        else:
            typo = query.match is Match.TYPO
            if query.conjunctive:
                base = Query.boolean_query([(Occur.Must, self.concept(c, typo, searcher)) for c in query.concepts])
            else:
                clauses = [(Occur.Should, self.concept(c, typo, searcher)) for c in query.concepts]
                base = Query.boolean_query(clauses, minimum_number_should_match=query.required)
        extra = self.filters(filters, searcher)
        if not extra:
            return base
        return Query.boolean_query([(Occur.Must, base), *extra])


class TantivyBackend:
    in_database = False
    name = "tantivy"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.schema = build_schema()
        self.queries = QueryBuilder(self.schema)
        self._lock = threading.RLock()
        self._writer: Any = None
        self._generation = ""
        self._index: tantivy.Index | None = None
        self._searcher: tantivy.Searcher | None = None
        self._open()

    # --- generations ----------------------------------------------------------------------------------

    def _current(self) -> str:
        try:
            return (self.root / "CURRENT").read_text().strip()
        except FileNotFoundError:
            return ""

    def _open(self) -> None:
        with self._lock:
            self.root.mkdir(parents=True, exist_ok=True)
            generation = self._current()
            if not generation or not (self.root / generation).is_dir():
                generation = self._new_generation()
                self._point_to(generation)
            if generation != self._generation:
                self._drop_writer()
                try:
                    self._index = tantivy.Index(self.schema, path=str(self.root / generation))
                except ValueError as error:  # written with an older schema: start afresh (see the docstring)
                    if "schema does not match" not in str(error):
                        raise
                    generation = self._new_generation()
                    self._point_to(generation)
                    self._index = tantivy.Index(self.schema, path=str(self.root / generation))
                self._generation = generation
                self._index.reload()
                self._searcher = self._index.searcher()

    def _new_generation(self) -> str:
        existing = [int(p.name[2:]) for p in self.root.glob("g-*") if p.name[2:].isdigit()]
        name = f"g-{max(existing, default=0) + 1:06d}"
        (self.root / name).mkdir()
        return name

    def _point_to(self, generation: str) -> None:
        tmp = self.root / "CURRENT.tmp"
        tmp.write_text(generation)
        os.replace(tmp, self.root / "CURRENT")

    def _follow(self) -> None:
        """Another process (`yinli search reindex`) may have switched generations."""
        if self._current() != self._generation:
            self._open()

    @property
    def index(self) -> tantivy.Index:
        with self._lock:
            if self._index is None:
                self._open()
            assert self._index is not None
            return self._index

    def searcher(self) -> tantivy.Searcher:
        with self._lock:
            if self._searcher is None:
                self._open()
            assert self._searcher is not None
            return self._searcher

    def close(self) -> None:
        """Drop the open index (and the meta-file watcher thread tantivy keeps for each); the next use
        reopens it. Uncommitted changes are discarded, as a crash would."""
        with self._lock:
            self._drop_writer()
            self._searcher = None
            self._index = None
            self._generation = ""

    def reload(self) -> None:
        with self._lock:
            self._follow()  # a rebuild may have switched generations
            self.index.reload()
            self._searcher = self.index.searcher()

    # --- reading --------------------------------------------------------------------------------------

    def retrieve(
        self, session: Session | None, query: LexicalQuery, filters: Filters, sort: Sort, limit: int
    ) -> Retrieval:
        searcher = self.searcher()
        if sort is Sort.RELEVANCE and not query.browse:
            head = self._top_tier(searcher, query, filters, limit)
            if head is not None:
                return head
        q = self.queries.build(query, filters, searcher)
        if sort is Sort.RELEVANCE:
            result = searcher.search(q, limit=limit, count=True, weight_by_field="prior")
        else:
            key, order = SORT_FIELDS[sort]
            result = searcher.search(q, limit=limit, count=True, order_by_field=key, order=order)
        hits = result.hits  # built anew on each access
        addresses = [address for _, address in hits]
        if not addresses:
            return Retrieval(np.zeros(0, np.int64), np.zeros(0), _total(result))
        pids = np.asarray(searcher.fast_field_values("pid", addresses), dtype=np.int64)
        if sort is Sort.RELEVANCE and not query.browse:
            priors = np.asarray(searcher.fast_field_values("prior", addresses), dtype=np.float64)
            scores = np.asarray([score for score, _ in hits], dtype=np.float64)
            text = np.round(scores / np.log2(2.0 + priors), 4)  # undo the prior: f32 noise below 1e-4
        elif sort is Sort.RELEVANCE:
            text = np.zeros(len(pids))
        else:
            text = np.full(len(pids), math.nan)
        return Retrieval(pids, text, _total(result))

    def _top_tier(
        self, searcher: tantivy.Searcher, query: LexicalQuery, filters: Filters, limit: int
    ) -> Retrieval | None:
        """A one-word query whose best-scoring matches alone can fill `limit`: visit only those.

        One word's text score is that of its best (field, alternative) clause. When the best clause score
        present in the index (e.g. 1.0: the word in a title) beats the next one even after the largest
        prior (log2 2.16 = 1.111; 0.9 × 1.111 < 1.0), every document of the top tier outranks every other
        match, so when at least `limit` of them pass the filters the best `limit` by text × prior are
        exactly the best `limit` of the tier: a head word (手机壳 at 1M: 25,000 title matches through its
        synonyms, 50,000 in all) costs half the postings. The total is then not counted but estimated —
        the tier's matches that pass the filters × the word's largest clause count / the tier's — and
        flagged. None when there is no such tier or it cannot fill `limit` (the caller runs the full pass)."""
        if query.match is not Match.ALL or len(query.concepts) != 1:
            return None
        present = []
        for name in FIELDS:
            for alt in query.concepts[0].alternatives:
                count = searcher.doc_freq(name, alt.term)
                if count:
                    present.append((alt.weight * FIELD_WEIGHTS[name], name, alt.term, count))
        if not present:
            return None
        best = max(score for score, *_ in present)
        tier = [clause for clause in present if clause[0] >= best]
        runner_up = max((score for score, *_ in present if score < best), default=0.0)
        if runner_up * PRIOR_CEILING >= best * (1 - 1e-6):
            return None
        if sum(c[3] for c in tier) * self._pass_rate(searcher, filters) < limit:
            return None  # the filters are expected to leave too few: one full pass, not two
        terms = [Query.term_query(self.schema, name, term) for _, name, term, _ in tier]
        q = Query.const_score_query(terms[0] if len(terms) == 1 else Query.disjunction_max_query(terms), best)
        extra = self.queries.filters(filters, searcher)
        if extra:
            q = Query.boolean_query([(Occur.Must, q), *extra])
        result = searcher.search(q, limit=limit, count=True, weight_by_field="prior")
        passed = _total(result)
        if passed < limit:
            return None
        addresses = [address for _, address in result.hits]
        pids = np.asarray(searcher.fast_field_values("pid", addresses), dtype=np.int64)
        widest = max(c[3] for c in present)
        estimate = max(passed, round(passed * widest / max(c[3] for c in tier)))
        return Retrieval(pids, np.full(len(pids), round(best, 4)), estimate, estimated=True)

    def _pass_rate(self, searcher: tantivy.Searcher, f: Filters) -> float:
        """The share of documents expected to pass the filters, taken as independent, from document
        frequencies; 0 with a price range (no cheap estimate: the caller then skips the shortcut)."""
        if f.min_price is not None or f.max_price is not None:
            return 0.0
        size = max(int(searcher.num_docs), 1)
        rate = 1.0
        terms = [
            (f"cat{f.category_level or 3}", f.category_id),
            ("store_id", f.store_id),
            ("brand_id", f.brand_id),
            *((name, getattr(f, name)) for name in ("in_stock", "pay_later", "price_protection")),
        ]
        for name, value in terms:
            if value is not None:
                rate *= min(1.0, searcher.doc_freq(name, value) / size)
        return rate

    def facets(self, session: Session | None, query: LexicalQuery, filters: Filters) -> Facets:
        ranges = [
            {"from": lo, "to": hi} if hi else {"from": lo}
            for lo, hi in zip(PRICE_BUCKETS, (*PRICE_BUCKETS[1:], None), strict=True)
        ]
        spec = {
            "cat3": {"terms": {"field": "cat3", "size": 20}},
            "store": {"terms": {"field": "store_id", "size": 10}},
            "price": {"range": {"field": "price", "ranges": ranges}},
            **{flag: {"terms": {"field": flag}} for flag in ("in_stock", "pay_later", "price_protection")},
        }
        searcher = self.searcher()
        result = searcher.aggregate(self.queries.build(query, filters, searcher), spec)

        def terms(name: str) -> list[tuple[int, int]]:
            buckets = result.get(name, {}).get("buckets", [])
            return sorted(((int(b["key"]), int(b["doc_count"])) for b in buckets), key=lambda kv: (-kv[1], kv[0]))

        prices = []
        for bucket, (lo, hi) in zip(
            result["price"]["buckets"], zip(PRICE_BUCKETS, (*PRICE_BUCKETS[1:], None), strict=True), strict=True
        ):
            prices.append((lo, hi, int(bucket["doc_count"])))
        flags = {
            flag: sum(int(b["doc_count"]) for b in result[flag]["buckets"] if int(b["key"]) == 1)
            for flag in ("in_stock", "pay_later", "price_protection")
        }
        return Facets(terms("cat3"), terms("store"), prices, flags)

    def concept_counts(self, session: Session | None, concepts: tuple[Concept, ...]) -> list[int]:
        """An estimate per concept: the largest document frequency of any of its terms in any field
        (deleted documents not yet merged away included)."""
        searcher = self.searcher()
        return [
            max((searcher.doc_freq(name, alt.term) for name in FIELDS for alt in c.alternatives), default=0)
            for c in concepts
        ]

    def count(self, session: Session | None) -> int:
        return int(self.searcher().num_docs)

    def size_estimate(self, session: Session | None) -> int:
        return self.count(session)

    def position(self, session: Session | None) -> int:
        with self._lock:
            self._follow()
            try:
                data = json.loads((self.root / self._generation / "position.json").read_text())
                return int(data["position"])
            except (FileNotFoundError, ValueError, KeyError):
                return 0

    # --- writing --------------------------------------------------------------------------------------

    def _drop_writer(self) -> None:
        if self._writer is not None:
            self._writer.rollback()
            self._writer.wait_merging_threads()
            self._writer = None

    def apply(self, session: Session | None, docs: list[SearchDoc], deleted: list[int]) -> None:
        with self._lock:
            self._follow()
            if self._writer is None:
                self._writer = self.index.writer(WRITER_HEAP, 1)
            stale = sorted({*deleted, *(d.product_id for d in docs)})
            if stale:  # by query: deleting by an integer term does not reach u64 fields in this binding
                self._writer.delete_documents_by_query(Query.term_set_query(self.schema, "pid", stale))
            for d in docs:
                self._writer.add_document(to_document(d))

    def commit(self, session: Session | None, clock: Clock, position: int) -> None:
        with self._lock:
            if self._writer is not None:
                self._writer.commit()
                self._writer.wait_merging_threads()  # also releases the index's writer lock
                self._writer = None
            _write_position(self.root / self._generation, position)
            self.index.reload()
            self._searcher = self.index.searcher()

    def rebuild(self, session: Session | None) -> TantivyRebuild:
        return TantivyRebuild(self)

    def _switch(self, generation: str) -> None:
        with self._lock:
            self._point_to(generation)
            self._open()
            for old in self.root.glob("g-*"):
                if old.name != generation:
                    shutil.rmtree(old, ignore_errors=True)


def _write_position(directory: Path, position: int) -> None:
    tmp = directory / "position.json.tmp"
    tmp.write_text(json.dumps({"position": position}))
    os.replace(tmp, directory / "position.json")


class TantivyRebuild:
    """Writes a new generation; `finish` makes it the live one."""

    def __init__(self, backend: TantivyBackend) -> None:
        self.backend = backend
        with backend._lock:
            self.generation = backend._new_generation()
        self.index = tantivy.Index(backend.schema, path=str(backend.root / self.generation))
        self.writer = self.index.writer(REBUILD_HEAP, 0)

    def add(self, docs: list[SearchDoc]) -> None:
        for d in docs:
            self.writer.add_document(to_document(d))

    def finish(self, clock: Clock, position: int) -> None:
        self.writer.commit()
        self.writer.wait_merging_threads()
        _write_position(self.backend.root / self.generation, position)
        self.backend._switch(self.generation)


def _total(result: tantivy.SearchResult) -> int:
    """The match count a `count=True` search carries (tantivy's type stub does not declare `count`)."""
    return int(result.count or 0)  # type: ignore[attr-defined]
