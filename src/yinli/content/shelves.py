"""Shelves: lists of products on sale in a fixed order, no words. The mall tab's and a store page's
sections (new arrivals, best sellers) and the category and store shelves (sorted, paged).

One definition for the API (`GET /mall`, `GET /stores/{id}/page`, `GET /stores/{id}/shelf`) and the web
pages (`/mall`, `/mall/c/{id}`, `/s/{id}`). A shelf reads the catalog as it is now (SQL), so a product a
merchant has just listed is on their store page at once; the search engine's browse snapshot
(`search/browse.py`) holds only the relevance order and lags the catalog by one index round. Purchases
made from them carry surface `mall` or `store_page`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from yinli.catalog.cards import ProductCard, build_cards
from yinli.catalog.categories import get_category, subtree_leaf_ids
from yinli.catalog.models import Product, ProductStatus
from yinli.core.clock import Clock
from yinli.merchants.models import Store, StoreStatus

SECTION_SIZE = 12
PAGE_SIZE = 20
# "relevance" is accepted (the search page's default sort) and, with no words, means newest
SORTS = ("relevance", "sales", "price_asc", "price_desc", "newest")

_PRICE = func.coalesce(Product.price_min_fen, 0)
# Best sellers: most units sold; among equals the product listed first keeps its place (lower id).
_ORDER: dict[str, tuple[Any, ...]] = {
    "sales": (Product.sales_count.desc(), Product.id),
    "price_asc": (_PRICE, Product.id.desc()),
    "price_desc": (_PRICE.desc(), Product.id.desc()),
    "newest": (Product.id.desc(),),
    "relevance": (Product.id.desc(),),
}


def _on_sale(store_id: int | None, category_id: int | None, session: Session) -> Select[Product]:
    """Listed products of active stores (what a shopper can buy), of one store and/or category subtree."""
    active = select(Store.id).where(Store.status == StoreStatus.ACTIVE.value)
    query = select(Product).where(Product.status == ProductStatus.LISTED.value, Product.store_id.in_(active))
    if store_id is not None:
        query = query.where(Product.store_id == store_id)
    if category_id is not None:
        query = query.where(Product.category_id.in_(subtree_leaf_ids(session, get_category(session, category_id))))
    return query


# --- sections: the mall tab and a store page --------------------------------------------------------------


def new_arrivals(session: Session, store_id: int | None = None, limit: int = SECTION_SIZE) -> list[Product]:
    """Newest listed first (a relisted product counts from its relisting)."""
    query = _on_sale(store_id, None, session).order_by(Product.listed_at.desc(), Product.id.desc())
    return list(session.scalars(query.limit(limit)))


def best_sellers(
    session: Session, store_id: int | None = None, limit: int = SECTION_SIZE, *, category_id: int | None = None
) -> list[Product]:
    """Most units sold first, over every product on sale (of the store, of the category subtree)."""
    return list(session.scalars(_on_sale(store_id, category_id, session).order_by(*_ORDER["sales"]).limit(limit)))


# --- shelves: a category's or a store's products, sorted and paged ------------------------------------------


@dataclass(frozen=True)
class ShelfQuery:
    category_id: int | None = None
    store_id: int | None = None
    sort: str = "sales"  # of SORTS; anything else: sales
    page: int = 1


@dataclass(frozen=True)
class Shelf:
    cards: list[ProductCard]
    total: int
    page: int
    pages: int
    sort: str


def shelf_page(
    session: Session, clock: Clock, query: ShelfQuery, size: int = PAGE_SIZE, *, pay_later_room: int = 0
) -> Shelf:
    """One page of a shelf; a page past the end shows the last one. NotFound for an unknown category.
    `pay_later_room`: the looking shopper's unused pay-later credit (the cards' badge)."""
    sort = query.sort if query.sort in SORTS else "sales"
    listing = _on_sale(query.store_id, query.category_id, session)
    total = session.scalar(select(func.count()).select_from(listing.subquery())) or 0
    pages = max(1, -(-total // size))
    page = min(max(1, query.page), pages)
    products = list(session.scalars(listing.order_by(*_ORDER[sort]).offset((page - 1) * size).limit(size)))
    return Shelf(build_cards(session, clock, products, pay_later_room=pay_later_room), total, page, pages, sort)


def has_ranked_section(shelf: Shelf) -> bool:
    """A category shelf's first page shows a ranked section ("为你推荐") above the sorted list when the
    category holds more than that page lists: a category that fits on one page would show its products
    twice (and log impressions of a section that adds nothing)."""
    return shelf.page == 1 and shelf.pages > 1
