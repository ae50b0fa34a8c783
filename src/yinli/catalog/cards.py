"""The product card read model: what a shopper sees of a product anywhere (feed, mall, search, store).

One final price (the number the shopper pays; until promotions exist it is the lowest active SKU
price), the reference price it is compared with, the lowest price of the last 30 days, sales, rating,
store, and the guarantees that apply. Built in bulk: a page of N cards costs a fixed number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from yinli.catalog.models import Product, Sku
from yinli.catalog.price_history import lowest_prices_since
from yinli.core.clock import Clock
from yinli.core.money import Money
from yinli.merchants.models import Store

LOWEST_PRICE_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class ProductCard:
    product_id: int
    title: str
    cover_url: str | None
    category_id: int
    status: str
    final_price: Money | None  # None: no active SKU
    list_price: Money | None
    lowest_price_30d: Money | None
    sku_count: int
    sales_count: int
    rating: float | None  # mean of 1-5 stars, 1 decimal; None before the first review
    rating_count: int
    store_id: int
    store_name: str
    guarantees: list[str] = field(default_factory=list)


def guarantees_of(product: Product) -> list[str]:
    shown = []
    if product.seven_day_returns:
        shown.append("seven_day_returns")
    if product.return_shipping_cover:
        shown.append("return_shipping_cover")
    if product.price_protection:
        shown.append("price_protection")
    if product.pay_later:
        shown.append("pay_later")
    return shown


def build_cards(session: Session, clock: Clock, products: list[Product]) -> list[ProductCard]:
    if not products:
        return []
    ids = [p.id for p in products]
    skus_by_product: dict[int, list[Sku]] = {}
    for sku in session.scalars(select(Sku).where(Sku.product_id.in_(ids), Sku.is_active.is_(True))):
        skus_by_product.setdefault(sku.product_id, []).append(sku)
    store_names = dict(
        session.execute(select(Store.id, Store.name).where(Store.id.in_({p.store_id for p in products}))).all()
    )
    all_sku_ids = [s.id for skus in skus_by_product.values() for s in skus]
    lowest = lowest_prices_since(session, all_sku_ids, clock.now() - LOWEST_PRICE_WINDOW)
    cards = []
    for p in products:
        skus = skus_by_product.get(p.id, [])
        cheapest = min(skus, key=lambda s: (s.price_fen, s.id)) if skus else None
        low = min((lowest[s.id] for s in skus if s.id in lowest), default=None)
        cards.append(
            ProductCard(
                product_id=p.id,
                title=p.title,
                cover_url=p.cover_url or (p.images[0] if p.images else None),
                category_id=p.category_id,
                status=p.status,
                final_price=Money(cheapest.price_fen, cheapest.currency) if cheapest else None,
                list_price=(
                    Money(cheapest.list_price_fen, cheapest.currency)
                    if cheapest is not None and cheapest.list_price_fen is not None
                    else None
                ),
                lowest_price_30d=Money(low, p.currency) if low is not None else None,
                sku_count=len(skus),
                sales_count=p.sales_count,
                rating=round(p.rating_sum / p.rating_count, 1) if p.rating_count else None,
                rating_count=p.rating_count,
                store_id=p.store_id,
                store_name=store_names.get(p.store_id, ""),
                guarantees=guarantees_of(p),
            )
        )
    return cards
