"""Quotes: what the cart (or a "buy now" line) costs, grouped by store, with the prices and shipping
checkout will charge (unit prices from `checkout.pricing`, shipping from the store's policy). The API's
cart, the cart page and the checkout page all render a Quote; no handler adds up money."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from yinli.catalog.models import Product, ProductStatus, Sku
from yinli.catalog.pricing import UnitPrice, unit_prices
from yinli.checkout import service
from yinli.checkout.models import CartItem
from yinli.core.auth import Actor
from yinli.core.clock import Clock
from yinli.core.settings import Settings
from yinli.inventory import service as inventory
from yinli.merchants.models import Store, StoreStatus


@dataclass(frozen=True)
class QuoteLine:
    item: CartItem | None  # the cart line; None for "buy now"
    sku: Sku
    product: Product
    quantity: int
    unit: UnitPrice
    on_sale: bool  # SKU active, product listed, store active: off-sale lines are shown, not charged
    available: int | None  # units in stock (cart lines)
    surface: str

    @property
    def line_total(self) -> int:
        return self.unit.final * self.quantity


@dataclass(frozen=True)
class StoreQuote:
    store: Store
    lines: list[QuoteLine]
    items_total: int  # the on-sale lines
    shipping_fee: int

    @property
    def total(self) -> int:
        return self.items_total + self.shipping_fee

    @property
    def on_sale_lines(self) -> list[QuoteLine]:
        return [line for line in self.lines if line.on_sale]


@dataclass(frozen=True)
class Quote:
    stores: list[StoreQuote]

    @property
    def total(self) -> int:
        return sum(s.total for s in self.stores)

    def payable(self) -> Quote:
        """Only the stores with something on sale: what checkout will make orders of."""
        return Quote([s for s in self.stores if s.items_total])


def quote_store(store: Store, lines: list[QuoteLine]) -> StoreQuote:
    items_total = sum(line.line_total for line in lines if line.on_sale)
    # shipping as checkout charges it, for a store with something to buy
    shipping = service.shipping_policy(store).fee_for(items_total) if items_total else 0
    return StoreQuote(store, lines, items_total, shipping)


def quote_cart(session: Session, clock: Clock, actor: Actor | None, item_ids: list[int] | None = None) -> Quote:
    """The shopper's cart by store (stores by id, lines in the order added), or only the lines
    `item_ids` names (what a checkout of those lines buys); lines no longer on sale are kept (flagged)
    so the shopper sees what happened to them."""
    actor = service.require_buyer(actor)
    items = service.cart_lines(session, actor, item_ids)
    if not items:
        return Quote([])
    skus = {s.id: s for s in session.scalars(select(Sku).where(Sku.id.in_({i.sku_id for i in items})))}
    products = {
        p.id: p for p in session.scalars(select(Product).where(Product.id.in_({s.product_id for s in skus.values()})))
    }
    stores = {
        s.id: s for s in session.scalars(select(Store).where(Store.id.in_({p.store_id for p in products.values()})))
    }
    stock = inventory.available(session, skus)
    prices = unit_prices(session, clock.now(), skus.values())
    grouped: dict[int, list[QuoteLine]] = {}
    for item in items:
        sku = skus[item.sku_id]
        product = products[sku.product_id]
        store = stores[product.store_id]
        on_sale = sku.is_active and product.status == ProductStatus.LISTED and store.status == StoreStatus.ACTIVE
        line = QuoteLine(item, sku, product, item.quantity, prices[sku.id], on_sale, stock[sku.id], item.surface)
        grouped.setdefault(store.id, []).append(line)
    return Quote([quote_store(stores[k], grouped[k]) for k in sorted(grouped)])


def quote_lines(session: Session, clock: Clock, settings: Settings, line: service.LineRequest) -> Quote:
    """ "Buy now": one line, checked as checkout checks it (refusals raise as checkout's would)."""
    priced = service.price_lines(session, clock, settings, [line])[0]
    quoted = QuoteLine(None, priced.sku, priced.product, line.quantity, priced.unit, True, None, line.surface.value)
    items_total = quoted.line_total
    return Quote(
        [StoreQuote(priced.store, [quoted], items_total, service.shipping_policy(priced.store).fee_for(items_total))]
    )
