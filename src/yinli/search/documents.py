"""What the index holds for a product, built from the database: the one definition both backends index,
both the incremental consumer and `yinli search reindex` use, so the two cannot drift apart.

A product is searchable while it is listed and its store is active. Its document is a pure function of
the database (product, SKUs, stock, brand, category, store status and the tokeniser's dictionary).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yinli.catalog.models import Brand, Category, Product, ProductStatus, Sku
from yinli.inventory.models import Stock
from yinli.merchants.models import Store, StoreStatus
from yinli.search.text import Analyzer

DESCRIPTION_CHARS = 400  # the head of a description carries its words; the rest costs index size


@dataclass(frozen=True)
class CategoryNode:
    id: int
    level: int
    name: str
    path: tuple[int, ...]  # ids root → this node


class CategoryIndex:
    """The category tree in memory: leaf → its path, and names → ids for category intent."""

    def __init__(self, rows: list[tuple[int, int | None, int, str]]) -> None:
        by_id = {r[0]: r for r in rows}
        self.nodes: dict[int, CategoryNode] = {}
        for cid, _parent, level, name in rows:
            path: list[int] = []
            node: int | None = cid
            while node is not None:
                path.append(node)
                node = by_id[node][1]
            self.nodes[cid] = CategoryNode(cid, level, name, tuple(reversed(path)))
        self.by_name: dict[str, list[int]] = {}
        for category in self.nodes.values():
            for name in {category.name, *category.name.split("/")}:
                key = name.strip().lower()
                if key:
                    self.by_name.setdefault(key, []).append(category.id)

    @classmethod
    def load(cls, session: Session) -> CategoryIndex:
        rows = session.execute(select(Category.id, Category.parent_id, Category.level, Category.name)).all()
        return cls([(r[0], r[1], r[2], r[3]) for r in rows])

    def path(self, category_id: int) -> tuple[int, int, int]:
        """(level-1, level-2, level-3) ids of a leaf; 0 where the tree is shallower."""
        node = self.nodes.get(category_id)
        ids = list(node.path) if node else [category_id]
        ids += [0] * (3 - len(ids))
        return ids[0], ids[1], ids[2]

    def names(self, category_id: int) -> list[str]:
        node = self.nodes.get(category_id)
        return [self.nodes[i].name for i in node.path] if node else []

    def words(self) -> list[str]:
        return sorted(self.by_name)


@dataclass
class SearchDoc:
    product_id: int
    store_id: int
    cat1: int
    cat2: int
    cat3: int
    brand_id: int | None
    price_fen: int
    sales_count: int
    listed_seconds: int
    in_stock: bool
    pay_later: bool
    price_protection: bool
    title: list[str] = field(default_factory=list)
    brand: list[str] = field(default_factory=list)
    category: list[str] = field(default_factory=list)
    detail: list[str] = field(default_factory=list)

    @property
    def weight(self) -> float:
        return prior_weight(self.product_id, self.sales_count)

    def latin_terms(self) -> set[str]:
        return {t for t in (*self.title, *self.brand, *self.category, *self.detail) if t.isascii()}


def prior_weight(product_id: int, sales_count: int) -> float:
    """The candidate cut's prior: score × log2(2 + w), w in [0, 0.16).

    Only decides which ~1,000 candidates reach re-ranking when more match. A little popularity (0.15 at
    10,000 units sold) plus a per-product sliver, so equal text scores rarely tie and the cut is the same
    in a rebuilt index as in an incrementally kept one (tantivy breaks exact ties by storage order).
    """
    popularity = min(1.0, math.log10(1 + max(sales_count, 0)) / 4)
    sliver = ((product_id * 2654435761) % 1_000_003) / 1_000_003
    return 0.15 * popularity + 0.01 * sliver


def searchable_ids(session: Session, after_id: int = 0, limit: int = 2000) -> list[int]:
    """Ids of searchable products in id order, a page at a time (for rebuilding)."""
    active = select(Store.id).where(Store.status == StoreStatus.ACTIVE.value)
    return list(
        session.scalars(
            select(Product.id)
            .where(Product.id > after_id, Product.status == ProductStatus.LISTED.value, Product.store_id.in_(active))
            .order_by(Product.id)
            .limit(limit)
        )
    )


def iter_searchable_ids(session: Session, batch: int = 2000) -> Iterator[list[int]]:
    after = 0
    while ids := searchable_ids(session, after, batch):
        yield ids
        after = ids[-1]


def count_searchable(session: Session) -> int:
    active = select(Store.id).where(Store.status == StoreStatus.ACTIVE.value)
    return int(
        session.scalar(
            select(func.count())
            .select_from(Product)
            .where(Product.status == ProductStatus.LISTED.value, Product.store_id.in_(active))
        )
        or 0
    )


def build_documents(
    session: Session, analyzer: Analyzer, categories: CategoryIndex, product_ids: list[int]
) -> tuple[list[SearchDoc], list[int]]:
    """Documents of the searchable products among `product_ids`, and the ids that are not searchable
    (to delete). A fixed number of queries however many ids."""
    ids = sorted(set(product_ids))
    if not ids:
        return [], []
    rows = session.execute(
        select(Product, Store.status)
        .join(Store, Store.id == Product.store_id)
        .where(Product.id.in_(ids))
        .order_by(Product.id)
    ).all()
    products = [p for p, status in rows if p.status == ProductStatus.LISTED and status == StoreStatus.ACTIVE]
    live = {p.id for p in products}
    gone = [i for i in ids if i not in live]
    if not products:
        return [], gone
    brand_names = dict(
        session.execute(
            select(Brand.id, Brand.name).where(Brand.id.in_({p.brand_id for p in products if p.brand_id}))
        ).all()
    )
    attributes: dict[int, list[str]] = {}
    for product_id, attrs in session.execute(
        select(Sku.product_id, Sku.attributes).where(Sku.product_id.in_(live), Sku.is_active.is_(True)).order_by(Sku.id)
    ):
        attributes.setdefault(product_id, []).extend(str(v) for v in (attrs or {}).values())
    in_stock = set(
        session.scalars(
            select(Sku.product_id)
            .join(Stock, Stock.sku_id == Sku.id)
            .where(Sku.product_id.in_(live), Sku.is_active.is_(True), Stock.on_hand - Stock.reserved > 0)
            .distinct()
        )
    )
    docs = []
    for p in products:
        cat1, cat2, cat3 = categories.path(p.category_id)
        brand = brand_names.get(p.brand_id) if p.brand_id else None
        docs.append(
            SearchDoc(
                product_id=p.id,
                store_id=p.store_id,
                cat1=cat1,
                cat2=cat2,
                cat3=cat3,
                brand_id=p.brand_id,
                price_fen=p.price_min_fen or 0,
                sales_count=max(p.sales_count, 0),
                listed_seconds=int(p.listed_at.timestamp()) if p.listed_at else 0,
                in_stock=p.id in in_stock,
                pay_later=p.pay_later,
                price_protection=p.price_protection,
                title=analyzer.index_terms(p.title),
                brand=analyzer.whole_terms([brand]) if brand else [],
                category=analyzer.whole_terms(categories.names(p.category_id)),
                detail=analyzer.whole_terms(dict.fromkeys(attributes.get(p.id, [])))
                + analyzer.index_terms((p.description or "")[:DESCRIPTION_CHARS]),
            )
        )
    return docs, gone


def products_mentioning(session: Session, words: list[str], limit: int = 100_000) -> list[int]:
    """Searchable products whose title or description contains any of `words` (case-insensitively):
    the ones to re-tokenise when the dictionary learns those words."""
    if not words:
        return []
    active = select(Store.id).where(Store.status == StoreStatus.ACTIVE.value)
    found: set[int] = set()
    for word in words:
        found.update(
            session.scalars(
                select(Product.id)
                .where(
                    Product.status == ProductStatus.LISTED.value,
                    Product.store_id.in_(active),
                    func.lower(Product.title).contains(word, autoescape=True)
                    | func.lower(Product.description).contains(word, autoescape=True),
                )
                .limit(limit)
            )
        )
    return sorted(found)
