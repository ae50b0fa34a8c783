"""Where the storefront gets its lists of products: the feed and search (people find goods).

The seam: pages call `search(...)` and `home_feed(...)` and render what comes back; they never query
the catalog themselves. Today both read the catalog's listing (`catalog.service.list_products`, newest
first, with category and price filters) through `CatalogSearch`: keywords are matched on the newest
`CANDIDATES` listed products and sorted in memory — a stand-in, fine for a demo marketplace, not for a
real one. When `yinli.search` (tokenised, ranked, faceted) lands, a `SearchBackend` over it replaces
`CatalogSearch` in `backend()` and nothing else changes. Likewise the feed takes live rooms and short
videos as `FeedItem`s of other kinds once `yinli.content` serves them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from yinli.catalog import cards, service
from yinli.catalog.cards import ProductCard
from yinli.catalog.models import Category
from yinli.core.clock import Clock
from yinli.merchants.models import Store

SORTS = ("relevance", "sales", "price_asc", "price_desc", "newest")
PAGE_SIZE = 20
CANDIDATES = 500


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    category_id: int | None = None
    min_price: int | None = None  # fen
    max_price: int | None = None
    sort: str = "relevance"
    page: int = 1
    store_id: int | None = None


@dataclass(frozen=True)
class Facet:
    category_id: int
    name: str
    count: int


@dataclass
class SearchResult:
    cards: list[ProductCard]
    total: int
    page: int
    pages: int
    facets: list[Facet] = field(default_factory=list)


class SearchBackend(Protocol):
    def search(self, session: Session, clock: Clock, query: SearchQuery) -> SearchResult: ...


class CatalogSearch:
    """Interim backend over the catalog listing (see the module docstring)."""

    def search(self, session: Session, clock: Clock, query: SearchQuery) -> SearchResult:
        f = service.ProductFilter(
            category_id=query.category_id,
            store_id=query.store_id,
            min_price=query.min_price,
            max_price=query.max_price,
        )
        products = service.list_products(session, None, f, before_id=None, limit=CANDIDATES)
        terms = [t.casefold() for t in query.text.split() if t.strip()]
        if terms:
            store_names = dict(
                session.execute(select(Store.id, Store.name).where(Store.id.in_({p.store_id for p in products}))).all()
            )
            cat_names = dict(
                session.execute(
                    select(Category.id, Category.name).where(Category.id.in_({p.category_id for p in products}))
                ).all()
            )

            def hits(p) -> int:  # type: ignore[no-untyped-def]
                title = p.title.casefold()
                other = (store_names.get(p.store_id, "") + " " + cat_names.get(p.category_id, "")).casefold()
                if not all(t in title or t in other for t in terms):
                    return 0
                return sum(2 if t in title else 1 for t in terms)

            scored = [(hits(p), p) for p in products]
            products = [p for s, p in sorted(scored, key=lambda sp: -sp[0]) if s > 0]
        if query.sort == "sales":
            products.sort(key=lambda p: (-p.sales_count, -p.id))
        elif query.sort == "price_asc":
            products.sort(key=lambda p: (p.price_min_fen or 0, -p.id))
        elif query.sort == "price_desc":
            products.sort(key=lambda p: (-(p.price_min_fen or 0), -p.id))
        elif query.sort == "newest" or not terms:
            products.sort(key=lambda p: -p.id)
        counts: dict[int, int] = {}
        for p in products:
            counts[p.category_id] = counts.get(p.category_id, 0) + 1
        names = dict(session.execute(select(Category.id, Category.name).where(Category.id.in_(counts))).all())
        facets = sorted((Facet(c, names.get(c, ""), n) for c, n in counts.items()), key=lambda x: (-x.count, x.name))
        total = len(products)
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(1, query.page), pages)
        chosen = products[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        return SearchResult(cards.build_cards(session, clock, chosen), total, page, pages, facets[:12])


def backend() -> SearchBackend:
    return CatalogSearch()


def search(session: Session, clock: Clock, query: SearchQuery) -> SearchResult:
    return backend().search(session, clock, query)


# --- the feed ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedItem:
    """One tile of the home feed: a product card or a live session (short videos join as another kind)."""

    kind: str  # "product" | "live"
    card: ProductCard | None = None
    live: Any = None  # content.models.LiveSession
    live_cover: ProductCard | None = None  # what the room is presenting (or its first product)


def home_feed(session: Session, clock: Clock, limit: int = 30, *, with_live: bool = True) -> list[FeedItem]:
    """Live rooms on air first (busiest first), then the newest product cards. The traffic domain's
    ranking replaces this order when it lands; the page only renders FeedItems."""
    items: list[FeedItem] = []
    if with_live:
        from yinli.content import live  # content builds on the catalog; imported where used

        for s in live.live_now(session, limit=4):
            products = live.session_products(session, s.id)
            shown = next((p for p in products if p.id == s.presenting_product_id), products[0] if products else None)
            cover = cards.build_cards(session, clock, [shown])[0] if shown is not None else None
            items.append(FeedItem("live", live=s, live_cover=cover))
    products = service.list_products(session, None, service.ProductFilter(), before_id=None, limit=limit)
    return items + [FeedItem("product", c) for c in cards.build_cards(session, clock, products)]


def best_sellers(session: Session, clock: Clock, category_id: int | None = None, limit: int = 10) -> list[ProductCard]:
    result = search(session, clock, SearchQuery(category_id=category_id, sort="sales"))
    return result.cards[:limit]
