"""The search page as one use case, for the API (`GET /search`, offsets and cursors) and the web page
(`/search`, page numbers): ask the engine, keep the hits that are still on sale, build their cards, name
the facets, and log the page view in the search log (the caller commits).

The index follows the catalog through the outbox, one background round behind it, so the cards come
from the database: a product delisted since the last round is dropped from the page (and from what the
log says was shown), while the total stays the engine's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from yinli.catalog import service as catalog
from yinli.catalog.cards import ProductCard, build_cards
from yinli.core.auth import Actor
from yinli.core.clock import Clock
from yinli.merchants.models import Store
from yinli.search import log
from yinli.search.backends.base import CANDIDATES, Filters, Match, Sort
from yinli.search.service import EngineResult, SearchEngine, SearchRequest

PAGE_SIZE = 20  # the web page's; the API chooses its own limit
SORTS = tuple(s.value for s in Sort)
FLAGS = ("in_stock", "pay_later", "price_protection")


@dataclass(frozen=True)
class PageQuery:
    """A search page asked for by number (the web page): words, filters, a sort and a page."""

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

    def request(self, window: int = CANDIDATES) -> SearchRequest:
        """The engine request for this page; a page past the candidate window asks for the window's last."""
        page = min(max(1, self.page), _pages(window, window))
        sort = Sort(self.sort) if self.sort in SORTS else Sort.RELEVANCE
        return SearchRequest(self.text, self.filters(), sort, (page - 1) * PAGE_SIZE, PAGE_SIZE)


@dataclass(frozen=True)
class PageHit:
    position: int  # in the whole result, from 0
    product_id: int
    score: float
    explain: dict[str, dict[str, float]] | None
    card: ProductCard


@dataclass(frozen=True)
class CategoryCount:
    category_id: int
    name: str  # "" for a category the engine's tree does not know (yet)
    count: int


@dataclass(frozen=True)
class StoreCount:
    store_id: int
    name: str | None  # None: no such store row (the index lags a deletion)
    count: int


@dataclass(frozen=True)
class PriceCount:
    min_fen: int
    max_fen: int | None
    count: int


@dataclass
class SearchPage:
    """One page of search results as shown (on-sale hits with cards), the facets named, and the id of its
    search-log row (results link back to it, so a purchase is credited to the search)."""

    search_id: int
    query: str
    normalized: str
    match: Match | None  # all | typo | partial (a StrEnum); None: browsing (no words)
    total: int
    total_is_estimate: bool
    offset: int
    limit: int
    window: int  # the engine's candidate window: a page beyond it is never asked for
    hits: list[PageHit]
    next_offset: int | None
    backend: str
    took_us: int
    has_facets: bool = False  # counted (asked for, and something matched)
    categories: list[CategoryCount] = field(default_factory=list)
    stores: list[StoreCount] = field(default_factory=list)
    prices: list[PriceCount] = field(default_factory=list)
    flags: dict[str, int] = field(default_factory=dict)
    intent: list[tuple[int, str]] = field(default_factory=list)  # categories the words point at (id, name)

    @property
    def cards(self) -> list[ProductCard]:
        return [h.card for h in self.hits]

    @property
    def pages(self) -> int:
        return _pages(self.total, self.window, self.limit)

    @property
    def page(self) -> int:
        return min(self.offset // self.limit + 1, self.pages)


def _pages(total: int, window: int, size: int = PAGE_SIZE) -> int:
    """Pages of `size` a search has: it pages through at most the engine's candidate window."""
    return max(1, -(-min(total, window) // size))


def do_search_page(
    db: Session,
    wdb: Session,
    clock: Clock,
    actor: Actor | None,
    engine: SearchEngine,
    request: SearchRequest,
    *,
    to_last_page: bool = False,
    pay_later_room: int = 0,
) -> SearchPage:
    """Search (reading `db`), and log the page view in `wdb` (the caller commits). An offset outside the
    candidate window gives an empty page; with `to_last_page` (the web page) an offset past the results
    shows their last page instead. Raises InvalidInput for an unknown category or a price range upside
    down (the engine's own checks)."""
    window = int(getattr(engine, "candidates", CANDIDATES))
    if not 0 <= request.offset <= window:
        request = _at(request, window)  # a forged cursor past the window: an empty page, not an error
    found = engine.search(db, request)
    if to_last_page:
        last = (_pages(found.total, window, request.limit) - 1) * request.limit
        if request.offset > last:
            request = _at(request, last)
            found = engine.search(db, request)
    products = catalog.on_sale(db, [h.product_id for h in found.hits])
    shown = [h for h in found.hits if h.product_id in products]
    cards = {
        c.product_id: c
        for c in build_cards(db, clock, [products[h.product_id] for h in shown], pay_later_room=pay_later_room)
    }
    logged = log.do_record_search(
        wdb,
        clock,
        actor,
        query=request.q,
        normalized=found.normalized,
        filters={k: v for k, v in request.filters.__dict__.items() if v is not None and k != "category_level"},
        sort=request.sort.value,
        offset=request.offset,
        total=found.total,
        shown=[h.product_id for h in shown],
        backend=found.backend,
        relaxed=found.match.value if found.match and found.match.value != "all" else None,
        took_us=found.took_us,
    )
    nodes = engine.categories.nodes
    page = SearchPage(
        search_id=int(logged.id),
        query=request.q,
        normalized=found.normalized,
        match=found.match,
        total=found.total,
        total_is_estimate=found.total_is_estimate,
        offset=request.offset,
        limit=request.limit,
        window=window,
        hits=[
            PageHit(request.offset + i, h.product_id, h.score, h.explain, cards[h.product_id])
            for i, h in enumerate(shown)
        ],
        next_offset=found.next_offset,
        backend=found.backend,
        took_us=found.took_us,
        intent=[(c, nodes[c].name) for c in found.intent if c in nodes],
    )
    _name_facets(db, engine, found, page)
    return page


def _at(request: SearchRequest, offset: int) -> SearchRequest:
    return SearchRequest(
        request.q, request.filters, request.sort, offset, request.limit, request.explain, request.facets
    )


def _name_facets(db: Session, engine: SearchEngine, found: EngineResult, page: SearchPage) -> None:
    f = found.facets
    if f is None:
        return
    nodes = engine.categories.nodes
    names = dict(db.execute(select(Store.id, Store.name).where(Store.id.in_([s for s, _ in f.stores]))).all())
    page.has_facets = True
    page.categories = [CategoryCount(c, nodes[c].name if c in nodes else "", n) for c, n in f.categories]
    page.stores = [StoreCount(s, names.get(s), n) for s, n in f.stores]
    page.prices = [PriceCount(lo, hi, n) for lo, hi, n in f.prices]
    page.flags = dict(f.flags)
