"""Where the storefront gets its lists of products: search (people find goods), shelves and the feed.

- `search(engine, ...)`: the search page. Asks `yinli.search` (tokenised, ranked, faceted; the process's
  engine from `search.service.engine_for`) and renders cards for the hits that are still on sale. The
  index follows the catalog through the outbox, one background round behind it.
- `browse(...)`: category shelves and store pages. They read the catalog's listing as it is now
  (`catalog.service.list_products`, category/store/price filters, sorted in memory), so a product a
  merchant has just listed is on their store page at once.
- `home_feed(...)`: live rooms on air, then product cards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yinli.catalog import cards, service
from yinli.catalog.cards import ProductCard
from yinli.catalog.models import Category, ProductStatus
from yinli.core.clock import Clock
from yinli.merchants.models import Store
from yinli.search.backends.base import CANDIDATES, Filters, Sort
from yinli.search.service import SearchEngine, SearchRequest

SORTS = ("relevance", "sales", "price_asc", "price_desc", "newest")
FLAGS = ("in_stock", "pay_later", "price_protection")
PAGE_SIZE = 20
LISTING = 500  # products a shelf sorts in memory


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    category_id: int | None = None
    min_price: int | None = None  # fen
    max_price: int | None = None
    sort: str = "relevance"
    page: int = 1
    store_id: int | None = None
    flags: tuple[str, ...] = ()  # of FLAGS: only products with these

    def filters(self) -> Filters:
        return Filters(
            category_id=self.category_id,
            store_id=self.store_id,
            min_price=self.min_price,
            max_price=self.max_price,
            **{f: True for f in self.flags if f in FLAGS},
        )


@dataclass(frozen=True)
class Facet:
    category_id: int
    name: str
    count: int


@dataclass(frozen=True)
class StoreFacet:
    store_id: int
    name: str
    count: int


@dataclass(frozen=True)
class PriceFacet:
    min_fen: int
    max_fen: int | None
    count: int


@dataclass
class SearchResult:
    cards: list[ProductCard]
    total: int
    page: int
    pages: int
    facets: list[Facet] = field(default_factory=list)
    stores: list[StoreFacet] = field(default_factory=list)
    prices: list[PriceFacet] = field(default_factory=list)
    flags: dict[str, int] = field(default_factory=dict)
    match: str | None = None  # how the words matched: all | typo | partial (None: browsing)
    normalized: str = ""
    backend: str = ""
    took_us: int = 0
    shown: list[int] = field(default_factory=list)  # product ids on this page, in order
    total_is_estimate: bool = False  # a broad query's count is estimated by the engine ("about N")


def _pages(total: int, page: int, window: int = CANDIDATES) -> tuple[int, int]:
    """(this page, pages): a search pages through at most the engine's candidate window."""
    pages = max(1, -(-min(total, window) // PAGE_SIZE))
    return min(max(1, page), pages), pages


# --- search ----------------------------------------------------------------------------------------------


def search(engine: SearchEngine, session: Session, clock: Clock, query: SearchQuery) -> SearchResult:
    """One page of search results with facets. Raises InvalidInput for an unknown category or a price
    range upside down (the engine's own checks)."""
    window = int(getattr(engine, "candidates", CANDIDATES))
    page, _ = _pages(window, query.page, window)
    sort = Sort(query.sort) if query.sort in SORTS else Sort.RELEVANCE
    found = engine.search(session, SearchRequest(query.text, query.filters(), sort, (page - 1) * PAGE_SIZE, PAGE_SIZE))
    last, _ = _pages(found.total, page, window)
    if last < page:  # past the end: show the last page
        page = last
        found = engine.search(
            session, SearchRequest(query.text, query.filters(), sort, (page - 1) * PAGE_SIZE, PAGE_SIZE)
        )
    ids = [h.product_id for h in found.hits]
    # Cards come from the database: a product delisted since the index last caught up is not shown.
    on_sale = service.on_sale(session, ids)
    shown = [on_sale[i] for i in ids if i in on_sale]
    page, pages = _pages(found.total, page, window)
    result = SearchResult(
        cards.build_cards(session, clock, shown),
        found.total,
        page,
        pages,
        match=found.match.value if found.match else None,
        normalized=found.normalized,
        backend=found.backend,
        took_us=found.took_us,
        shown=[p.id for p in shown],
        total_is_estimate=found.total_is_estimate,
    )
    f = found.facets
    if f is not None:
        nodes = engine.categories.nodes
        result.facets = [Facet(c, nodes[c].name if c in nodes else "", n) for c, n in f.categories[:12]]
        names = dict(session.execute(select(Store.id, Store.name).where(Store.id.in_([s for s, _ in f.stores]))).all())
        result.stores = [StoreFacet(s, names.get(s, ""), n) for s, n in f.stores[:8] if s in names]
        result.prices = [PriceFacet(lo, hi, n) for lo, hi, n in f.prices if n]
        result.flags = {k: v for k, v in f.flags.items() if k in FLAGS}
    return result


# --- shelves: category pages and store pages -----------------------------------------------------------------


def browse(session: Session, clock: Clock, query: SearchQuery) -> SearchResult:
    """A shelf over the catalog's listing (no keywords): a category's or a store's products, sorted."""
    f = service.ProductFilter(
        category_id=query.category_id,
        store_id=query.store_id,
        min_price=query.min_price,
        max_price=query.max_price,
    )
    products = service.list_products(session, None, f, before_id=None, limit=LISTING)
    if query.sort == "sales":
        products.sort(key=lambda p: (-p.sales_count, -p.id))
    elif query.sort == "price_asc":
        products.sort(key=lambda p: (p.price_min_fen or 0, -p.id))
    elif query.sort == "price_desc":
        products.sort(key=lambda p: (-(p.price_min_fen or 0), -p.id))
    else:
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
    built = cards.build_cards(session, clock, chosen)
    return SearchResult(built, total, page, pages, facets[:12], shown=[c.product_id for c in built])


# --- the feed ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedItem:
    """One tile of the home feed: a product card, a live session or a short video."""

    kind: str  # "product" | "live" | "video"
    card: ProductCard | None = None
    live: Any = None  # content.models.LiveSession
    live_cover: ProductCard | None = None  # what the room is presenting (or its first product)
    video: Any = None  # content.models.ShortVideo
    video_product: ProductCard | None = None  # the video's first linked product


def home_feed(session: Session, clock: Clock, limit: int = 30, *, with_live: bool = True) -> list[FeedItem]:
    """Live rooms on air first (busiest first), then the newest short videos and product cards. The
    traffic domain's ranking replaces this order when it lands; the page only renders FeedItems."""
    items: list[FeedItem] = []
    if with_live:
        from yinli.content import live, videos  # content builds on the catalog; imported where used

        for s in live.live_now(session, limit=4):
            products = live.session_products(session, s.id)
            shown = next((p for p in products if p.id == s.presenting_product_id), products[0] if products else None)
            cover = cards.build_cards(session, clock, [shown])[0] if shown is not None else None
            items.append(FeedItem("live", live=s, live_cover=cover))
        for v in videos.list_videos(session, store_id=None, creator_id=None, before_id=None, limit=4):
            linked = [p for p in videos.linked_products(session, v.id) if p.status == ProductStatus.LISTED.value]
            first = cards.build_cards(session, clock, linked[:1])
            items.append(FeedItem("video", video=v, video_product=first[0] if first else None))
    products = service.list_products(session, None, service.ProductFilter(), before_id=None, limit=limit)
    return items + [FeedItem("product", c) for c in cards.build_cards(session, clock, products)]


def best_sellers(session: Session, clock: Clock, category_id: int | None = None, limit: int = 10) -> list[ProductCard]:
    result = browse(session, clock, SearchQuery(category_id=category_id, sort="sales"))
    return result.cards[:limit]


def log_search(session: Session, clock: Clock, actor: Any, query: SearchQuery, result: SearchResult) -> int:
    """Record a search page view in the search log (caller commits); returns its id."""
    from yinli.search import log

    filters = {k: v for k, v in query.filters().__dict__.items() if v is not None and k != "category_level"}
    row = log.do_record_search(
        session,
        clock,
        actor,
        query=query.text,
        normalized=result.normalized,
        filters=filters,
        sort=query.sort,
        offset=(result.page - 1) * PAGE_SIZE,
        total=result.total,
        shown=result.shown,
        backend=result.backend,
        relaxed=result.match if result.match not in (None, "all") else None,
        took_us=result.took_us,
    )
    return int(row.id)
