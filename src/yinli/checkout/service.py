"""Cart and checkout. `check_*` validate, `do_*` change state; nothing here commits.

Checkout turns lines into one order per store, holds their stock (all or nothing) and opens one
payment for the lot, in a single transaction: either all of it exists or none of it does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from yinli.accounts import addresses
from yinli.accounts.service import lock_user
from yinli.catalog.cards import offered
from yinli.catalog.models import Category, Product, ProductStatus, Sku
from yinli.catalog.pricing import UnitPrice, unit_prices
from yinli.checkout.models import CartItem
from yinli.checkout.pricing import ShippingPolicy
from yinli.content import attribution
from yinli.content.attribution import Attribution
from yinli.core.auth import Actor, Role, require_role
from yinli.core.clock import Clock
from yinli.core.errors import Conflict, InvalidInput, NotFound
from yinli.core.settings import Settings
from yinli.guarantees import return_cover
from yinli.inventory import service as inventory
from yinli.merchants.models import Store, StoreStatus
from yinli.orders import service as orders_service
from yinli.orders.models import Order, Surface
from yinli.orders.service import NewLine
from yinli.payments import service as payments
from yinli.payments.models import Payment

MAX_QUANTITY = 999  # per line
MAX_LINES = 50
BUYER_ROLES = (Role.SHOPPER, Role.CREATOR)


@dataclass(frozen=True)
class LineRequest:
    sku_id: int
    quantity: int
    surface: Surface = Surface.PRODUCT_PAGE
    source_id: int | None = None
    creator_id: int | None = None


@dataclass(frozen=True)
class PricedLine:
    request: LineRequest
    sku: Sku
    product: Product
    store: Store
    unit: UnitPrice
    fee_rate_bps: int
    attribution: Attribution

    @property
    def total(self) -> int:
        return self.unit.final * self.request.quantity


def shipping_policy(store: Store) -> ShippingPolicy:
    return ShippingPolicy(store.shipping_fee_fen, store.free_shipping_over_fen)


def price_lines(
    session: Session,
    clock: Clock,
    settings: Settings,
    requests: list[LineRequest],
    field: str = "items",
    buyer_id: int | None = None,
) -> list[PricedLine]:
    """Load and check every line: the SKU is active, its product listed, its store active. `buyer_id`:
    who buys (a creator's own purchase through their room or video earns no commission)."""
    if not requests:
        raise InvalidInput("nothing to buy", field=field)
    if len(requests) > MAX_LINES:
        raise InvalidInput(f"at most {MAX_LINES} lines per checkout", field=field)
    ids = {r.sku_id for r in requests}
    skus = {s.id: s for s in session.scalars(select(Sku).where(Sku.id.in_(ids)))}
    products = {
        p.id: p for p in session.scalars(select(Product).where(Product.id.in_({s.product_id for s in skus.values()})))
    }
    stores = {
        s.id: s for s in session.scalars(select(Store).where(Store.id.in_({p.store_id for p in products.values()})))
    }
    rates = dict(
        session.execute(
            select(Category.id, Category.fee_rate_bps).where(
                Category.id.in_({p.category_id for p in products.values()})
            )
        ).all()
    )
    prices = unit_prices(session, clock.now(), skus.values())
    priced = []
    for i, r in enumerate(requests):
        where = f"{field}.{i}"
        if not 1 <= r.quantity <= MAX_QUANTITY:
            raise InvalidInput(f"quantity must be between 1 and {MAX_QUANTITY}", field=f"{where}.quantity")
        sku = skus.get(r.sku_id)
        if sku is None:
            raise InvalidInput(f"no SKU {r.sku_id}", field=f"{where}.sku_id")
        product = products[sku.product_id]
        store = stores[product.store_id]
        if not sku.is_active or product.status != ProductStatus.LISTED or store.status != StoreStatus.ACTIVE:
            raise Conflict(f"SKU {r.sku_id} is not on sale", field=f"{where}.sku_id", code="not_on_sale")
        rate = rates.get(product.category_id)
        fee_rate = settings.default_fee_rate_bps if rate is None else rate
        source = attribution.resolve(session, r.surface, r.source_id, r.creator_id, product.id, where, buyer_id)
        priced.append(PricedLine(r, sku, product, store, prices[sku.id], fee_rate, source))
    return priced


# --- cart ------------------------------------------------------------------------------------------------


def require_buyer(actor: Actor | None) -> Actor:
    return require_role(actor, *BUYER_ROLES)


def do_add_to_cart(
    session: Session, clock: Clock, settings: Settings, actor: Actor | None, line: LineRequest
) -> CartItem:
    """Add units of a SKU (adding again adds up; the latest attribution wins: last touch).

    One statement adds the units — INSERT ... ON CONFLICT (shopper, SKU) DO UPDATE SET quantity =
    quantity + n WHERE the sum stays within MAX_QUANTITY — so concurrent adds never lose one another's
    units (the row lock of the conflicting row orders them) and none can pass the cap."""
    actor = require_buyer(actor)
    source = price_lines(session, clock, settings, [line], field="body")[0].attribution
    if line.quantity > MAX_QUANTITY:
        raise InvalidInput(f"at most {MAX_QUANTITY} of one SKU", field="quantity")
    has_line = select(CartItem.id).where(CartItem.shopper_id == actor.user_id, CartItem.sku_id == line.sku_id)
    if session.scalar(has_line) is None:
        check_cart_has_room(session, actor.user_id)
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(CartItem).values(
        shopper_id=actor.user_id,
        sku_id=line.sku_id,
        quantity=line.quantity,
        surface=line.surface.value,
        source_id=line.source_id,
        creator_id=source.creator_id,
        added_at=clock.now(),
    )
    upsert = insert.on_conflict_do_update(
        index_elements=[CartItem.shopper_id, CartItem.sku_id],
        set_={
            "quantity": CartItem.quantity + insert.excluded.quantity,
            "surface": insert.excluded.surface,
            "source_id": insert.excluded.source_id,
            "creator_id": insert.excluded.creator_id,
        },
        where=CartItem.quantity + insert.excluded.quantity <= MAX_QUANTITY,
    ).returning(CartItem.id)
    item_id = session.execute(upsert).scalar()
    if item_id is None:  # the line exists and the sum would pass the cap: nothing was changed
        raise InvalidInput(f"at most {MAX_QUANTITY} of one SKU", field="quantity")
    item = session.get(CartItem, item_id, populate_existing=True)
    assert item is not None
    return item


def check_cart_has_room(session: Session, shopper_id: int) -> None:
    """A new line needs room in the cart (MAX_LINES). Counted under the shopper's lock, so concurrent
    adds of different SKUs cannot each see the last free place."""
    lock_user(session, shopper_id)
    lines = session.scalar(select(func.count()).select_from(CartItem).where(CartItem.shopper_id == shopper_id))
    if (lines or 0) >= MAX_LINES:
        raise Conflict(f"a cart holds at most {MAX_LINES} SKUs", code="cart_full")


def cart_lines(session: Session, actor: Actor, item_ids: list[int] | None = None) -> list[CartItem]:
    """The shopper's cart lines in the order added: all of them, or those `item_ids` names (each must
    be one of the shopper's lines: someone else's is refused like a missing one)."""
    query = select(CartItem).where(CartItem.shopper_id == actor.user_id).order_by(CartItem.id)
    if item_ids is None:
        return list(session.scalars(query))
    chosen = list(session.scalars(query.where(CartItem.id.in_(set(item_ids)))))
    found = {i.id for i in chosen}
    for i, item_id in enumerate(item_ids):
        if item_id not in found:
            raise InvalidInput(f"no cart item {item_id}", field=f"cart_item_ids.{i}")
    if not item_ids:
        raise InvalidInput("choose at least one cart line", field="cart_item_ids")
    return chosen


def cart_count(session: Session, shopper_id: int) -> int:
    """Lines in the shopper's cart (the header's badge)."""
    return int(session.scalar(select(func.count()).select_from(CartItem).where(CartItem.shopper_id == shopper_id)) or 0)


def _own_item(session: Session, actor: Actor, item_id: int) -> CartItem:
    item = session.get(CartItem, item_id)
    if item is None or item.shopper_id != actor.user_id:
        raise NotFound(f"no cart item {item_id}", field="item_id")
    return item


def do_set_cart_quantity(session: Session, actor: Actor | None, item_id: int, quantity: int) -> CartItem:
    actor = require_buyer(actor)
    item = _own_item(session, actor, item_id)
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidInput(f"quantity must be between 1 and {MAX_QUANTITY}", field="quantity")
    left = inventory.available(session, [item.sku_id]).get(item.sku_id, 0)
    if quantity > item.quantity and quantity > left:  # fewer is always allowed: it is how you fix a short line
        raise inventory.OutOfStock(item.sku_id, left)
    item.quantity = quantity
    session.flush()
    return item


def do_remove_from_cart(session: Session, actor: Actor | None, item_id: int) -> None:
    actor = require_buyer(actor)
    session.delete(_own_item(session, actor, item_id))
    session.flush()


# --- checkout --------------------------------------------------------------------------------------------


def check_address(address: dict[str, Any]) -> dict[str, Any]:
    """A typed address: every part present, the phone number as the address book checks it."""
    required = ("name", "phone", "region", "line")
    missing = [k for k in required if not str(address.get(k) or "").strip()]
    if missing:
        raise InvalidInput(f"address needs {', '.join(missing)}", field=f"address.{missing[0]}")
    return {**address, "phone": addresses.check_phone(str(address["phone"]), field="address.phone")}


def resolve_address(
    session: Session, actor: Actor, address: dict[str, Any] | None, address_id: int | None
) -> dict[str, Any]:
    """The address an order ships to, as the copy it keeps: the one typed, or a saved one from the
    shopper's book (`address_id`), or — naming neither — the book's default."""
    if address is not None and address_id is not None:
        raise InvalidInput("give an address or an address_id, not both", field="address_id")
    if address is not None:
        return check_address(address)
    if address_id is not None:
        saved = addresses.get_address(session, actor, address_id)  # 404 for someone else's, as for none
        return addresses.snapshot(saved)
    default = addresses.default_address(session, actor.user_id)
    if default is None:
        raise InvalidInput("give an address (the address book has no default)", field="address")
    return addresses.snapshot(default)


def check_stock(session: Session, priced: list[PricedLine], field: str = "items") -> None:
    """Every line's SKU has the units asked for (summed over lines of one SKU), else OutOfStock naming
    the line's quantity and how many are left. A clear early answer only: the hold itself is the
    conditional update in `inventory.do_reserve`, which a concurrent buyer can still lose."""
    left = inventory.available(session, {line.sku.id for line in priced})
    asked: dict[int, int] = {}
    for i, line in enumerate(priced):
        asked[line.sku.id] = asked.get(line.sku.id, 0) + line.request.quantity
        if asked[line.sku.id] > left.get(line.sku.id, 0):
            raise inventory.OutOfStock(line.sku.id, left.get(line.sku.id, 0), field=f"{field}.{i}.quantity")


def _new_line(line: PricedLine) -> NewLine:
    return NewLine(
        product_id=line.product.id,
        sku_id=line.sku.id,
        category_id=line.product.category_id,
        title=line.product.title,
        sku_attributes=dict(line.sku.attributes or {}),
        quantity=line.request.quantity,
        list_price_fen=line.unit.list_price,
        merchant_discount_fen=line.unit.merchant_discount,
        platform_subsidy_fen=line.unit.platform_subsidy,
        unit_price_fen=line.unit.final,
        fee_rate_bps=line.fee_rate_bps,
        seven_day_returns=line.product.seven_day_returns,
        # what the shopper was promised on this line; pay later is a way to pay, kept on the payment
        guarantees=tuple(offered(line.product, line.store, line.unit.final, pay_later_room=0)),
        surface=line.attribution.surface.value,
        source_id=line.attribution.source_id,
        creator_id=line.attribution.creator_id,
        affiliate_plan_id=line.attribution.plan_id,
        commission_rate_bps=line.attribution.commission_rate_bps,
    )


def do_checkout(
    session: Session,
    clock: Clock,
    settings: Settings,
    actor: Actor | None,
    *,
    lines: list[LineRequest] | None,
    address: dict[str, Any] | None = None,
    address_id: int | None = None,
    cart_item_ids: list[int] | None = None,
    note: str = "",
) -> tuple[Payment, list[Order]]:
    """Orders (one per store), stock holds and one pending payment. `lines=None` buys the cart: the
    lines `cart_item_ids` names (the others stay in the cart), or all of it. The address is typed, or
    one of the book's (`address_id`), or the book's default (see `resolve_address`); orders keep a copy."""
    actor = require_buyer(actor)
    if lines is not None and cart_item_ids is not None:
        raise InvalidInput("buy `items` or `cart_item_ids`, not both", field="cart_item_ids")
    shipping_to = resolve_address(session, actor, address, address_id)
    from_cart = lines is None
    if lines is None:
        cart = cart_lines(session, actor, cart_item_ids)
        lines = [LineRequest(i.sku_id, i.quantity, Surface(i.surface), i.source_id, i.creator_id) for i in cart]
        if not lines:
            raise Conflict("the cart is empty", code="cart_empty")
    priced = price_lines(session, clock, settings, lines, buyer_id=actor.user_id)
    check_stock(session, priced)
    now = clock.now()
    pay_by = now + timedelta(minutes=settings.payment_window_minutes)
    payment = payments.do_open_payment(session, actor.user_id, now)
    by_store: dict[int, list[PricedLine]] = {}
    for line in priced:
        by_store.setdefault(line.store.id, []).append(line)
    orders = []
    for store_id in sorted(by_store):
        group = by_store[store_id]
        new_lines = [_new_line(line) for line in group]
        order = orders_service.do_create_order(
            session,
            clock,
            shopper_id=actor.user_id,
            store_id=store_id,
            payment_id=payment.id,
            lines=new_lines,
            shipping_fee_fen=shipping_policy(group[0].store).fee_for(sum(line.total for line in group)),
            address=shipping_to,
            note=note,
            now=now,
            pay_by=pay_by,
        )
        # return-shipping cover: the order's terms (funder, fee, postage), fixed with the guarantees snapshot
        return_cover.do_open_cover(session, settings, order, group[0].store, [nl.guarantees for nl in new_lines])
        orders.append(order)
    payments.do_set_amount(payment, sum(o.total_fen for o in orders))
    if from_cart:
        bought = [line.sku.id for line in priced]
        session.execute(delete(CartItem).where(CartItem.shopper_id == actor.user_id, CartItem.sku_id.in_(bought)))
    session.flush()
    return payment, orders
