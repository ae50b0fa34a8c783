"""The server backend: PostgreSQL full text and pg_trgm in the main database (`search_documents`,
`search_terms`).

Terms come pre-analysed from `search.text` and are stored as a weighted `tsvector` built with
`array_to_tsvector` (no PostgreSQL parser or dictionary touches them, so both backends see the same
terms): weight A title, B brand, C category, D attributes and description. A concept alternative in a
field is the tsquery `'term':A`; the text score is computed in SQL with the same definition as tantivy's.

Typo tolerance for Latin words: candidates from `search_terms` (a vocabulary with document counts kept
exactly as documents change) — exact lookups of every edit-1 variant, and for long words pg_trgm's
nearest neighbours (`term <-> word`, GiST) — then kept within the word's edit distance.

Writes happen in the caller's transaction, together with the consumer's outbox cursor: the index and
its position commit atomically. A rebuild replaces every row in one transaction, so readers switch at
commit.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from yinli.core.clock import Clock
from yinli.core.outbox import OutboxCursor, get_cursor, save_cursor
from yinli.search.backends.base import (
    FIELD_WEIGHTS,
    PRICE_BUCKETS,
    Facets,
    Filters,
    LexicalQuery,
    Match,
    Retrieval,
    Sort,
)
from yinli.search.documents import SearchDoc
from yinli.search.models import SearchDocument, SearchTerm
from yinli.search.text import FUZZY, Alternative, Concept, damerau, edits1, typo_distance

CONSUMER = "search_index_pg"
LABELS = {"title": "A", "brand": "B", "category": "C", "detail": "D"}
ORDER_SQL = {
    Sort.SALES: "sales_count DESC, product_id DESC",
    Sort.PRICE_ASC: "price_fen ASC, product_id ASC",
    Sort.PRICE_DESC: "price_fen DESC, product_id DESC",
    Sort.NEWEST: "listed_seconds DESC, product_id DESC",
}
TRIGRAM_NEIGHBOURS = 40


def _lexeme(term: str) -> str:
    """A quoted tsquery lexeme: quotes doubled and backslashes escaped, so no input is tsquery syntax."""
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def _tsquery(terms: list[str], labels: str = "") -> str:
    suffix = f":{labels}" if labels else ""
    return " | ".join(_lexeme(t) + suffix for t in terms)


class SqlQuery:
    """Builds the WHERE clause and text-score expression of a lexical query, with bound parameters."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}

    def param(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def ts(self, tsquery: str) -> str:
        return f"all_terms @@ CAST({self.param(tsquery)} AS tsquery)"

    def concept_score(self, concept: Concept) -> tuple[str, str]:
        """(match condition, score expression) of one concept."""
        by_weight: dict[float, list[str]] = {}
        for alt in concept.alternatives:
            by_weight.setdefault(alt.weight, []).append(alt.term)
        cases = []
        for name, field_weight in FIELD_WEIGHTS.items():
            for weight, terms in by_weight.items():
                cases.append(f"CASE WHEN {self.ts(_tsquery(terms, LABELS[name]))} THEN {weight * field_weight!r} END")
        condition = self.ts(_tsquery(concept.terms))
        return condition, f"COALESCE(GREATEST({', '.join(cases)}), 0)"

    def filters(self, f: Filters) -> list[str]:
        out = []
        if f.category_id is not None:
            out.append(f"cat{f.category_level or 3} = {self.param(f.category_id)}")
        if f.store_id is not None:
            out.append(f"store_id = {self.param(f.store_id)}")
        if f.brand_id is not None:
            out.append(f"brand_id = {self.param(f.brand_id)}")
        if f.min_price is not None:
            out.append(f"price_fen >= {self.param(f.min_price)}")
        if f.max_price is not None:
            out.append(f"price_fen <= {self.param(f.max_price)}")
        for name in ("in_stock", "pay_later", "price_protection"):
            value = getattr(f, name)
            if value is not None:
                out.append(f"{name} = {self.param(value)}")
        return out

    def build(self, query: LexicalQuery, concepts: tuple[Concept, ...], filters: Filters) -> tuple[str, str]:
        """(WHERE clause, text score expression)."""
        conditions, scores = [], []
        for concept in concepts:
            condition, score = self.concept_score(concept)
            conditions.append(condition)
            scores.append(score)
        where = list(self.filters(filters))
        if conditions and not query.conjunctive:
            where.append("(" + " OR ".join(conditions) + ")")  # lets the GIN index narrow first
            if query.required > 1:
                counted = " + ".join(f"(CASE WHEN {c} THEN 1 ELSE 0 END)" for c in conditions)
                where.append(f"({counted}) >= {int(query.required)}")
        elif conditions:
            where.append("(" + " AND ".join(conditions) + ")")
        return (" AND ".join(where) or "TRUE"), (" + ".join(scores) or "0")


class PostgresBackend:
    in_database = True
    name = "postgres"

    # --- reading --------------------------------------------------------------------------------------

    def _with_typos(self, session: Session, query: LexicalQuery) -> tuple[Concept, ...]:
        if query.match is not Match.TYPO:
            return query.concepts
        widened = []
        for concept in query.concepts:
            distance = typo_distance(concept.text) if concept.latin and not self._known(session, concept) else 0
            extra = [t for t in self.similar_terms(session, concept.text, distance) if t not in concept.terms]
            widened.append(
                Concept(concept.text, (*concept.alternatives, *(Alternative(t, FUZZY) for t in extra)), concept.latin)
            )
        return tuple(widened)

    def _known(self, session: Session, concept: Concept) -> bool:
        """Some document holds the word exactly (one of its alternatives): it stays exact in a typo pass."""
        sql = SqlQuery()
        condition, _ = sql.concept_score(concept)
        exists = text(f"SELECT EXISTS (SELECT 1 FROM search_documents WHERE {condition})")
        return bool(session.execute(exists, sql.params).scalar())

    def similar_terms(self, session: Session, word: str, distance: int) -> list[str]:
        """Vocabulary terms within `distance` edits of `word` (optimal string alignment)."""
        if distance == 0:
            return []
        candidates = set(
            session.scalars(
                select(SearchTerm.term).where(SearchTerm.term.in_(sorted(edits1(word))), SearchTerm.doc_count > 0)
            )
        )
        if distance > 1:  # two edits: too many variants to enumerate; ask pg_trgm for neighbours
            candidates.update(
                session.scalars(
                    select(SearchTerm.term)
                    .where(SearchTerm.doc_count > 0)
                    .order_by(SearchTerm.term.op("<->")(word), SearchTerm.term)
                    .limit(TRIGRAM_NEIGHBOURS)
                )
            )
        return sorted(t for t in candidates if damerau(t, word) <= distance)

    def retrieve(
        self, session: Session | None, query: LexicalQuery, filters: Filters, sort: Sort, limit: int
    ) -> Retrieval:
        assert session is not None
        sql = SqlQuery()
        where, score = sql.build(query, self._with_typos(session, query), filters)
        if sort is Sort.RELEVANCE:
            base = "1" if query.browse else score
            order = f"({base}) * (ln(2 + weight) / ln(2)) DESC, product_id ASC"
        else:
            order = ORDER_SQL[sort]
        rows = session.execute(
            text(
                f"SELECT product_id, {score} AS text_score, count(*) OVER () AS total "
                f"FROM search_documents WHERE {where} ORDER BY {order} LIMIT {int(limit)}"
            ),
            sql.params,
        ).all()
        if not rows:
            return Retrieval(np.zeros(0, np.int64), np.zeros(0), 0)
        pids = np.asarray([r[0] for r in rows], dtype=np.int64)
        if sort is Sort.RELEVANCE:
            text_scores = np.round(np.asarray([float(r[1]) for r in rows]), 4)
        else:
            text_scores = np.full(len(rows), math.nan)
        return Retrieval(pids, text_scores, int(rows[0][2]))

    def concept_counts(self, session: Session | None, concepts: tuple[Concept, ...]) -> list[int]:
        """Exact: one count per concept (each a GIN bitmap scan)."""
        assert session is not None
        if not concepts:
            return []
        sql = SqlQuery()
        counts = [f"(SELECT count(*) FROM search_documents WHERE {sql.concept_score(c)[0]})" for c in concepts]
        row = session.execute(text("SELECT " + ", ".join(counts)), sql.params).one()
        return [int(n) for n in row]

    def facets(self, session: Session | None, query: LexicalQuery, filters: Filters) -> Facets:
        assert session is not None
        sql = SqlQuery()
        where, _ = sql.build(query, self._with_typos(session, query), filters)
        matches = f"SELECT * FROM search_documents WHERE {where}"

        def terms(column: str, size: int) -> list[tuple[int, int]]:
            rows = session.execute(
                text(
                    f"SELECT {column}, count(*) AS n FROM ({matches}) m GROUP BY {column} ORDER BY n DESC, {column} "
                    f"LIMIT {size}"
                ),
                sql.params,
            ).all()
            return [(int(r[0]), int(r[1])) for r in rows]

        bounds = list(zip(PRICE_BUCKETS, (*PRICE_BUCKETS[1:], None), strict=True))
        buckets = ", ".join(
            f"count(*) FILTER (WHERE price_fen >= {lo}" + (f" AND price_fen < {hi})" if hi else ")")
            for lo, hi in bounds
        )
        flags = "count(*) FILTER (WHERE in_stock), count(*) FILTER (WHERE pay_later), " + (
            "count(*) FILTER (WHERE price_protection)"
        )
        row = session.execute(text(f"SELECT {buckets}, {flags} FROM ({matches}) m"), sql.params).one()
        prices = [(lo, hi, int(row[i])) for i, (lo, hi) in enumerate(bounds)]
        n = len(bounds)
        return Facets(
            terms("cat3", 20),
            terms("store_id", 10),
            prices,
            {"in_stock": int(row[n]), "pay_later": int(row[n + 1]), "price_protection": int(row[n + 2])},
        )

    def close(self) -> None:
        """Nothing to release: the index lives in the caller's database."""

    def reload(self) -> None:
        """Nothing to do: every search reads the database as it is."""

    def count(self, session: Session | None) -> int:
        assert session is not None
        return int(session.scalar(select(func.count()).select_from(SearchDocument)) or 0)

    def size_estimate(self, session: Session | None) -> int:
        """The planner's row estimate (exact count while it has none: a table never analysed says -1)."""
        assert session is not None
        estimate = session.scalar(text("SELECT reltuples FROM pg_class WHERE oid = 'search_documents'::regclass"))
        return int(estimate) if estimate is not None and estimate >= 0 else self.count(session)

    def position(self, session: Session | None) -> int:
        assert session is not None
        return get_cursor(session, CONSUMER)

    # --- writing --------------------------------------------------------------------------------------

    def apply(self, session: Session | None, docs: list[SearchDoc], deleted: list[int]) -> None:
        assert session is not None
        ids = sorted({*deleted, *(d.product_id for d in docs)})
        if not ids:
            return
        vocabulary: Counter[str] = Counter()
        old = session.execute(
            select(SearchDocument.product_id, SearchDocument.latin_terms)
            .where(SearchDocument.product_id.in_(ids))
            .with_for_update()
        ).all()
        for _pid, terms in old:
            vocabulary.subtract(terms.split())
        session.execute(delete(SearchDocument).where(SearchDocument.product_id.in_(ids)))
        for d in docs:
            vocabulary.update(d.latin_terms())
        _insert(session, docs)
        self._count_terms(session, vocabulary)

    def _count_terms(self, session: Session, changes: Counter[str]) -> None:
        changes = Counter({t: n for t, n in changes.items() if n and len(t) <= 64})
        if not changes:
            return
        rows = [{"term": t, "doc_count": n} for t, n in sorted(changes.items())]
        stmt = insert(SearchTerm).values(rows)
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=["term"], set_={"doc_count": SearchTerm.doc_count + stmt.excluded.doc_count}
            )
        )
        session.execute(delete(SearchTerm).where(SearchTerm.term.in_(list(changes)), SearchTerm.doc_count <= 0))

    def commit(self, session: Session | None, clock: Clock, position: int) -> None:
        assert session is not None
        save_cursor(session, clock, CONSUMER, position)  # commits with the rows: the caller's transaction

    def rebuild(self, session: Session | None) -> PostgresRebuild:
        assert session is not None
        return PostgresRebuild(self, session)


# Terms arrive as arrays and become the weighted tsvector in SQL: array_to_tsvector takes them verbatim.
INSERT_SQL = text(
    "INSERT INTO search_documents (product_id, store_id, cat1, cat2, cat3, brand_id, price_fen, sales_count, "
    "listed_seconds, in_stock, pay_later, price_protection, weight, title_text, brand_text, category_text, "
    "detail_text, latin_terms, all_terms) VALUES (:product_id, :store_id, :cat1, :cat2, :cat3, :brand_id, "
    ":price_fen, :sales_count, :listed_seconds, :in_stock, :pay_later, :price_protection, :weight, :title_text, "
    ":brand_text, :category_text, :detail_text, :latin_terms, "
    + " || ".join(
        f"setweight(array_to_tsvector(CAST(:{name}_terms AS text[])), '{label}')" for name, label in LABELS.items()
    )
    + ")"
)


def _insert(session: Session, docs: list[SearchDoc]) -> None:
    if docs:
        session.execute(INSERT_SQL, [_row(d) for d in docs])


def _row(d: SearchDoc) -> dict[str, Any]:
    return {
        "product_id": d.product_id,
        "store_id": d.store_id,
        "cat1": d.cat1,
        "cat2": d.cat2,
        "cat3": d.cat3,
        "brand_id": d.brand_id,
        "price_fen": d.price_fen,
        "sales_count": d.sales_count,
        "listed_seconds": d.listed_seconds,
        "in_stock": d.in_stock,
        "pay_later": d.pay_later,
        "price_protection": d.price_protection,
        "weight": d.weight,
        "title_text": " ".join(d.title),
        "brand_text": " ".join(d.brand),
        "category_text": " ".join(d.category),
        "detail_text": " ".join(d.detail),
        "latin_terms": " ".join(sorted(d.latin_terms())),
        **{f"{name}_terms": list(getattr(d, name)) for name in LABELS},
    }


class PostgresRebuild:
    """Replaces the index in the caller's transaction: readers see the old rows until it commits."""

    def __init__(self, backend: PostgresBackend, session: Session) -> None:
        self.backend, self.session = backend, session
        session.execute(text("LOCK TABLE search_documents IN EXCLUSIVE MODE"))  # one writer at a time
        session.execute(delete(SearchDocument))
        session.execute(delete(SearchTerm))
        self.vocabulary: Counter[str] = Counter()

    def add(self, docs: list[SearchDoc]) -> None:
        _insert(self.session, docs)
        for d in docs:
            self.vocabulary.update(d.latin_terms())

    def finish(self, clock: Clock, position: int) -> None:
        self.backend._count_terms(self.session, self.vocabulary)
        save_cursor(self.session, clock, CONSUMER, position)
        # The rebuild read the catalog after `position`; events past it are replayed (idempotently), so
        # the cursor may have to move back, which save_cursor never does.
        self.session.execute(update(OutboxCursor).where(OutboxCursor.consumer == CONSUMER).values(position=position))
