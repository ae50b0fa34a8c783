"""Search tables: the search log (queries, what was shown, what shoppers did) and the PostgreSQL backend's
documents and Latin vocabulary.

The PostgreSQL-only parts are portable declarations: `all_terms` is a `tsvector` on PostgreSQL and plain
text on SQLite (where the table stays empty: SQLite deployments use the tantivy backend), and the GIN
indexes degrade to ordinary ones there. One model, one migration history, both databases.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from yinli.core.db import Base, BigId, UTCDateTime

TsVector = Text().with_variant(TSVECTOR(), "postgresql")


class LoggedSearch(Base):
    """One search page view: what was asked, with which filters, and which products were shown."""

    __tablename__ = "search_queries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    shopper_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), nullable=True, index=True)
    query: Mapped[str] = mapped_column(String(256))  # as typed (control characters refused upstream)
    normalized: Mapped[str] = mapped_column(String(256), index=True)  # what the analyzer saw; groups analytics
    filters: Mapped[dict[str, Any]] = mapped_column(JSON)
    sort: Mapped[str] = mapped_column(String(16))
    page_offset: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)  # matching products (0: a zero-result query)
    shown: Mapped[list[int]] = mapped_column(JSON)  # product ids in the order shown
    backend: Mapped[str] = mapped_column(String(16))
    relaxed: Mapped[str | None] = mapped_column(String(16), nullable=True)  # typo | partial: how it matched
    took_us: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class SearchAction:
    CLICK = "click"
    ADD_TO_CART = "add_to_cart"
    ORDER = "order"  # recorded by the log consumer from OrderPaid lines attributed to a search


class SearchInteraction(Base):
    """What a shopper did with a result: clicked, added to cart, or bought it (paid order line)."""

    __tablename__ = "search_interactions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    search_id: Mapped[int] = mapped_column(BigId, ForeignKey("search_queries.id"), index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    position: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 0-based rank on the page
    order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("orders.id"), nullable=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # paid line total for orders
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("action in ('click','add_to_cart','order')", name="action"),
        # one order line is attributed once even if the consumer replays an event
        Index("ix_search_interactions_order", "order_id", "product_id", "action", unique=True),
    )


class SearchDocument(Base):
    """The PostgreSQL backend's index: one row per searchable (listed, store active) product.

    `all_terms` holds every analyzed term, weighted by field (A title, B brand, C category, D attributes
    and description); `*_text` keep the same terms as text so a row can be diffed and re-weighted.
    """

    __tablename__ = "search_documents"

    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"), primary_key=True)
    store_id: Mapped[int] = mapped_column(BigId, index=True)
    cat1: Mapped[int] = mapped_column(BigId)
    cat2: Mapped[int] = mapped_column(BigId)
    cat3: Mapped[int] = mapped_column(BigId, index=True)
    brand_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    price_fen: Mapped[int] = mapped_column(BigInteger)
    sales_count: Mapped[int] = mapped_column(BigInteger)
    listed_seconds: Mapped[int] = mapped_column(BigInteger)  # listed_at as epoch seconds (newest sort)
    in_stock: Mapped[bool] = mapped_column(Boolean)
    pay_later: Mapped[bool] = mapped_column(Boolean)
    price_protection: Mapped[bool] = mapped_column(Boolean)
    weight: Mapped[float] = mapped_column(Float)  # candidate-cut prior, see search.documents.prior_weight
    title_text: Mapped[str] = mapped_column(Text)
    brand_text: Mapped[str] = mapped_column(Text)
    category_text: Mapped[str] = mapped_column(Text)
    detail_text: Mapped[str] = mapped_column(Text)  # attributes and description
    latin_terms: Mapped[str] = mapped_column(Text)  # distinct Latin terms, for the vocabulary counts
    all_terms: Mapped[str] = mapped_column(TsVector)

    __table_args__ = (Index("ix_search_documents_all_terms", "all_terms", postgresql_using="gin"),)


class SearchTerm(Base):
    """Latin terms of the PostgreSQL index with how many documents hold them: typo correction candidates
    (exact lookups of edit-1 variants, and pg_trgm nearest neighbours for long words)."""

    __tablename__ = "search_terms"

    term: Mapped[str] = mapped_column(String(64), primary_key=True)
    doc_count: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index(
            "ix_search_terms_trgm",
            "term",
            postgresql_using="gist",
            postgresql_ops={"term": "gist_trgm_ops"},
        ),
    )


class SearchProductStats(Base):
    """Per product search counters, kept as the log is written: the conversion feature reads them."""

    __tablename__ = "search_product_stats"

    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"), primary_key=True)
    impressions: Mapped[int] = mapped_column(BigInteger, default=0)
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    carts: Mapped[int] = mapped_column(BigInteger, default=0)
    orders: Mapped[int] = mapped_column(BigInteger, default=0)
