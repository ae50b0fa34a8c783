"""The product card read model: what a shopper sees of a product anywhere (feed, mall, search, store).

One final price (the lowest final price over the active SKUs, from `catalog.pricing`), the reference
price it is compared with, the lowest final price of the last 30 days, sales, rating, store, and the
guarantees that apply to this product, its store and the shopper looking (see `offered`). Built in bulk:
a page of N cards costs a fixed number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from yinli.catalog.models import Product, Sku
from yinli.catalog.price_history import lowest_prices_since
from yinli.catalog.pricing import unit_prices
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


GUARANTEES = ("seven_day_returns", "return_shipping_cover", "price_protection", "pay_later")


def offered(product: Product, store: Store | None, final_price: int | None, pay_later_room: int) -> list[str]:
    """The guarantees a shopper is promised on this product now: each one the product offers, and for
    the three the platform runs (guarantees/), its store offers too; pay later only while the price fits
    in the shopper's unused pay-later credit (`pay_later_room`, from guarantees.credit; 0: none)."""
    shown = []
    for name in GUARANTEES:
        if not getattr(product, name):
            continue
        if name != "seven_day_returns" and (store is None or not getattr(store, name)):
            continue
        if name == "pay_later" and (final_price is None or final_price > pay_later_room):
            continue
        shown.append(name)
    return shown


def build_cards(
    session: Session, clock: Clock, products: list[Product], *, pay_later_room: int = 0
) -> list[ProductCard]:
    """Cards for `products`, in order. `pay_later_room`: the looking shopper's unused pay-later credit
    (guarantees.credit.room); the default 0 shows no pay-later badge."""
    if not products:
        return []
    ids = [p.id for p in products]
    skus_by_product: dict[int, list[Sku]] = {}
    for sku in session.scalars(select(Sku).where(Sku.product_id.in_(ids), Sku.is_active.is_(True))):
        skus_by_product.setdefault(sku.product_id, []).append(sku)
    stores = {s.id: s for s in session.scalars(select(Store).where(Store.id.in_({p.store_id for p in products})))}
    all_skus = [s for skus in skus_by_product.values() for s in skus]
    now = clock.now()
    prices = unit_prices(session, now, all_skus)
    lowest = lowest_prices_since(session, [s.id for s in all_skus], now - LOWEST_PRICE_WINDOW)
    cards = []
    for p in products:
        skus = skus_by_product.get(p.id, [])
        cheapest = prices[min(skus, key=lambda s: (prices[s.id].final, s.id)).id] if skus else None
        low = min((lowest[s.id] for s in skus if s.id in lowest), default=None)
        store = stores.get(p.store_id)
        cards.append(
            ProductCard(
                product_id=p.id,
                title=p.title,
                cover_url=p.cover_url or (p.images[0] if p.images else None),
                category_id=p.category_id,
                status=p.status,
                final_price=cheapest.money() if cheapest else None,
                # the reference price shown struck through, only when there is something off it
                list_price=(
                    Money(cheapest.list_price, cheapest.currency)
                    if cheapest is not None and cheapest.list_price > cheapest.final
                    else None
                ),
                lowest_price_30d=Money(low, p.currency) if low is not None else None,
                sku_count=len(skus),
                sales_count=p.sales_count,
                rating=round(p.rating_sum / p.rating_count, 1) if p.rating_count else None,
                rating_count=p.rating_count,
                store_id=p.store_id,
                store_name=store.name if store else "",
                guarantees=offered(p, store, cheapest.final if cheapest else None, pay_later_room),
            )
        )
    return cards
