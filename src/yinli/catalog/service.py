"""Products, SKUs and brands. `check_*` validate, `do_*` change state; nothing here commits.

Visibility: a listed product of an active store is public. A store's staff see all of their own
products; operators see everything. Anyone else asking for a product they may not see gets a 404, so
drafts do not leak. Changing a product someone can see but does not manage is a 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yinli.catalog import price_history
from yinli.catalog.categories import get_category, require_leaf, subtree_leaf_ids
from yinli.catalog.models import Brand, Product, ProductStatus, Sku
from yinli.catalog.pricing import unit_prices
from yinli.core.auth import Actor, Role, require_actor, require_role, require_store_manager
from yinli.core.clock import Clock
from yinli.core.db import unique_or
from yinli.core.errors import Conflict, Forbidden, InvalidInput, InvalidTransition, NotFound
from yinli.core.outbox import emit
from yinli.merchants import service as merchants
from yinli.merchants.models import Store, StoreStatus

# --- brands -------------------------------------------------------------------------------------------


def do_create_brand(session: Session, clock: Clock, actor: Actor | None, name: str) -> Brand:
    require_role(actor, Role.MERCHANT, Role.OPERATOR)

    def check_new() -> None:
        if session.scalar(select(Brand.id).where(func.lower(Brand.name) == name.lower())) is not None:
            raise Conflict("this brand exists", field="name", code="brand_exists")

    check_new()
    brand = Brand(name=name, created_at=clock.now())
    with unique_or(session, check_new):  # uq_brands_lower_name
        session.add(brand)
    return brand


def list_brands(session: Session, *, prefix: str | None, after_id: int | None, limit: int) -> list[Brand]:
    query = select(Brand).order_by(Brand.id).limit(limit)
    if prefix:
        query = query.where(Brand.name.startswith(prefix, autoescape=True))
    if after_id is not None:
        query = query.where(Brand.id > after_id)
    return list(session.scalars(query))


def on_sale(session: Session, product_ids: list[int]) -> dict[int, Product]:
    """Those of `product_ids` a shopper can buy now (listed, in an active store), by id. Readers of an index
    that lags the catalog (search) use it so a product delisted since the last sync is not shown."""
    if not product_ids:
        return {}
    rows = session.scalars(
        select(Product)
        .join(Store, Store.id == Product.store_id)
        .where(
            Product.id.in_(product_ids),
            Product.status == ProductStatus.LISTED.value,
            Store.status == StoreStatus.ACTIVE.value,
        )
    )
    return {p.id: p for p in rows}


def _check_brand(session: Session, brand_id: int | None) -> None:
    if brand_id is not None and session.get(Brand, brand_id) is None:
        raise InvalidInput(f"no brand {brand_id}", field="brand_id")


# --- visibility ------------------------------------------------------------------------------------


def _store_status(session: Session, store_id: int) -> str:
    return session.scalar(select(Store.status).where(Store.id == store_id)) or ""


def can_see_product(session: Session, actor: Actor | None, product: Product) -> bool:
    if actor is not None and actor.manages_store(product.store_id):
        return True
    return product.status == ProductStatus.LISTED and _store_status(session, product.store_id) == StoreStatus.ACTIVE


def get_product(session: Session, actor: Actor | None, product_id: int) -> Product:
    product = session.get(Product, product_id)
    if product is None or not can_see_product(session, actor, product):
        raise NotFound(f"no product {product_id}", field="product_id")
    return product


def _managed_product(session: Session, actor: Actor | None, product_id: int, lock: bool = False) -> Product:
    require_actor(actor)  # changing needs signing in: 401 before any lookup, even for a hidden product
    product = session.get(Product, product_id, with_for_update=lock)
    if product is None or not can_see_product(session, actor, product):
        raise NotFound(f"no product {product_id}", field="product_id")
    require_store_manager(actor, product.store_id)
    return product


@dataclass(frozen=True)
class ProductFilter:
    category_id: int | None = None
    store_id: int | None = None
    status: ProductStatus | None = None
    brand_id: int | None = None
    min_price: int | None = None
    max_price: int | None = None


def list_products(
    session: Session, actor: Actor | None, f: ProductFilter, *, before_id: int | None, limit: int
) -> list[Product]:
    """Newest first. Non-listed products only for their own store's staff (with `store_id`) or operators."""
    if f.min_price is not None and f.max_price is not None and f.min_price > f.max_price:
        raise InvalidInput("min_price is above max_price", field="min_price")
    query = select(Product).order_by(Product.id.desc()).limit(limit)
    sees_all = actor is not None and (actor.is_operator or (f.store_id is not None and actor.manages_store(f.store_id)))
    if sees_all:
        if f.status is not None:
            query = query.where(Product.status == f.status.value)
    else:
        if f.status not in (None, ProductStatus.LISTED):
            require_actor(actor)  # anonymous: 401, signing in may help; signed in: 403
            raise Forbidden("only the store's staff or operators see unlisted products", field="status")
        active = select(Store.id).where(Store.status == StoreStatus.ACTIVE.value)
        query = query.where(Product.status == ProductStatus.LISTED.value, Product.store_id.in_(active))
    if f.category_id is not None:
        category = get_category(session, f.category_id)
        query = query.where(Product.category_id.in_(subtree_leaf_ids(session, category)))
    if f.store_id is not None:
        query = query.where(Product.store_id == f.store_id)
    if f.brand_id is not None:
        query = query.where(Product.brand_id == f.brand_id)
    if f.min_price is not None:
        query = query.where(Product.price_min_fen >= f.min_price)
    if f.max_price is not None:
        query = query.where(Product.price_min_fen <= f.max_price)
    if before_id is not None:
        query = query.where(Product.id < before_id)
    return list(session.scalars(query))


# --- products --------------------------------------------------------------------------------------


def do_create_product(
    session: Session,
    clock: Clock,
    actor: Actor | None,
    *,
    store_id: int | None,
    category_id: int,
    title: str,
    skus: list[dict[str, Any]],
    **fields: Any,
) -> Product:
    """A new draft product with its SKUs (at least one). Staff create in their own store."""
    actor = require_role(actor, Role.MERCHANT, Role.OPERATOR)
    if store_id is None:
        if actor.store_id is None:
            raise InvalidInput("say which store the product belongs to", field="store_id")
        store_id = actor.store_id
    store = session.get(Store, store_id)
    if store is None or not merchants.can_see_store(actor, store):
        raise InvalidInput(f"no store {store_id}", field="store_id")
    require_store_manager(actor, store_id)
    if store.status in (StoreStatus.CLOSED, StoreStatus.REJECTED):
        raise Conflict(f"store {store_id} is {store.status}", code="store_inactive", field="store_id")
    require_leaf(session, category_id)
    _check_brand(session, fields.get("brand_id"))
    if not skus:
        raise InvalidInput("a product needs at least one SKU", field="skus")
    codes: set[str] = set()
    for i, spec in enumerate(skus):
        if spec["code"] in codes:
            raise InvalidInput("SKU codes must be unique within a product", field=f"skus.{i}.code")
        codes.add(spec["code"])
        _check_list_price(spec["price_fen"], spec.get("list_price_fen"), field=f"skus.{i}.list_price_fen")
    now = clock.now()
    product = Product(
        store_id=store_id,
        category_id=category_id,
        title=title,
        status=ProductStatus.DRAFT.value,
        created_at=now,
        updated_at=now,
        **fields,
    )
    session.add(product)
    session.flush()
    for spec in skus:
        _add_sku(session, now, actor, product, spec)
    _refresh_price_min(session, now, product)
    emit(session, clock, "ProductCreated", "product", product.id, {"store_id": store_id}, actor_id=actor.user_id)
    return product


def do_update_product(session: Session, clock: Clock, actor: Actor | None, product_id: int, **changes: Any) -> Product:
    product = _managed_product(session, actor, product_id, lock=True)
    if "category_id" in changes:
        require_leaf(session, changes["category_id"])
    if "brand_id" in changes:
        _check_brand(session, changes["brand_id"])
    for key, value in changes.items():
        setattr(product, key, value)
    product.updated_at = clock.now()
    session.flush()
    emit(
        session,
        clock,
        "ProductChanged",
        "product",
        product.id,
        {"fields": sorted(changes), "status": product.status},
        actor_id=actor.user_id if actor else None,
    )
    return product


_PRODUCT_MOVES = {
    (ProductStatus.DRAFT, ProductStatus.LISTED),
    (ProductStatus.DELISTED, ProductStatus.LISTED),
    (ProductStatus.LISTED, ProductStatus.DELISTED),
}


def do_list_product(session: Session, clock: Clock, actor: Actor | None, product_id: int) -> Product:
    """Put a product on sale. The store must be active and the product must have an active SKU."""
    product = _managed_product(session, actor, product_id, lock=True)
    _check_move(product, ProductStatus.LISTED)
    store = merchants.require_selling_store(session, product.store_id)
    if product.price_min_fen is None:
        raise Conflict("a product needs an active SKU to be listed", code="no_active_sku")
    now = clock.now()
    product.status = ProductStatus.LISTED.value
    product.listed_at = now
    product.updated_at = now
    if store.first_listed_at is None:
        merchants.do_mark_first_listing(session, store.id, now)
    session.flush()
    emit(
        session,
        clock,
        "ProductListed",
        "product",
        product.id,
        {"store_id": product.store_id, "category_id": product.category_id, "price_min_fen": product.price_min_fen},
        actor_id=actor.user_id if actor else None,
    )
    return product


def do_delist_product(session: Session, clock: Clock, actor: Actor | None, product_id: int) -> Product:
    product = _managed_product(session, actor, product_id, lock=True)
    _check_move(product, ProductStatus.DELISTED)
    product.status = ProductStatus.DELISTED.value
    product.updated_at = clock.now()
    session.flush()
    emit(
        session,
        clock,
        "ProductDelisted",
        "product",
        product.id,
        {"store_id": product.store_id},
        actor_id=actor.user_id if actor else None,
    )
    return product


def _check_move(product: Product, to: ProductStatus) -> None:
    if (ProductStatus(product.status), to) not in _PRODUCT_MOVES:
        raise InvalidTransition(f"a {product.status} product cannot become {to}", field="status")


# --- SKUs --------------------------------------------------------------------------------------------


def _add_sku(session: Session, now: Any, actor: Actor, product: Product, spec: dict[str, Any]) -> Sku:
    _check_list_price(spec["price_fen"], spec.get("list_price_fen"))
    sku = Sku(
        product_id=product.id,
        code=spec["code"],
        attributes=spec.get("attributes") or {},
        price_fen=spec["price_fen"],
        list_price_fen=spec.get("list_price_fen"),
        currency=product.currency,
        is_active=spec.get("is_active", True),
        created_at=now,
        updated_at=now,
    )
    session.add(sku)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(f"SKU code {spec['code']!r} exists in this product", field="code", code="sku_code_taken")
    price_history.record_price(session, sku, now, actor.user_id, "created")
    return sku


def _check_list_price(price_fen: int, list_price_fen: int | None, field: str = "list_price_fen") -> None:
    if list_price_fen is not None and list_price_fen < price_fen:
        raise InvalidInput("the list price cannot be below the selling price", field=field)


def _refresh_price_min(session: Session, at: datetime, product: Product) -> None:
    """The product's lowest final price over its active SKUs (what lists filter and sort by)."""
    active = session.scalars(select(Sku).where(Sku.product_id == product.id, Sku.is_active.is_(True)))
    product.price_min_fen = min((u.final for u in unit_prices(session, at, active).values()), default=None)
    session.flush()


def do_add_sku(session: Session, clock: Clock, actor: Actor | None, product_id: int, spec: dict[str, Any]) -> Sku:
    product = _managed_product(session, actor, product_id, lock=True)
    assert actor is not None
    sku = _add_sku(session, clock.now(), actor, product, spec)
    _refresh_price_min(session, clock.now(), product)
    emit(
        session,
        clock,
        "SkuAdded",
        "product",
        product.id,
        {"sku_id": sku.id, "price_fen": sku.price_fen},
        actor_id=actor.user_id,
    )
    return sku


def get_sku(session: Session, actor: Actor | None, sku_id: int) -> tuple[Sku, Product]:
    sku = session.get(Sku, sku_id)
    if sku is None:
        raise NotFound(f"no SKU {sku_id}", field="sku_id")
    product = session.get(Product, sku.product_id)
    assert product is not None
    if not can_see_product(session, actor, product):
        raise NotFound(f"no SKU {sku_id}", field="sku_id")
    return sku, product


def skus_of(session: Session, product_id: int) -> list[Sku]:
    return list(session.scalars(select(Sku).where(Sku.product_id == product_id).order_by(Sku.id)))


def do_update_sku(
    session: Session,
    clock: Clock,
    actor: Actor | None,
    sku_id: int,
    *,
    reason: str | None = None,
    **changes: Any,
) -> Sku:
    """Change a SKU. A price change appends to the price history and emits `PriceChanged`."""
    require_actor(actor)  # 401 before the lookup, which would answer 404 for a hidden SKU
    sku, product = get_sku(session, actor, sku_id)
    actor = require_store_manager(actor, product.store_id)
    sku = session.get(Sku, sku_id, with_for_update=True) or sku  # lock before read-modify-write
    old_price, old_list = sku.price_fen, sku.list_price_fen
    new_price = changes.get("price_fen", old_price)
    new_list = changes.get("list_price_fen", old_list)
    _check_list_price(new_price, new_list)
    now = clock.now()
    for key, value in changes.items():
        setattr(sku, key, value)
    sku.updated_at = now
    session.flush()
    if (new_price, new_list) != (old_price, old_list):
        why = reason or ("operator" if actor.is_operator else "merchant")
        price_history.record_price(session, sku, now, actor.user_id, why)
        emit(
            session,
            clock,
            "PriceChanged",
            "sku",
            sku.id,
            {
                "product_id": product.id,
                "store_id": product.store_id,
                "old_price_fen": old_price,
                "new_price_fen": new_price,
                "old_list_price_fen": old_list,
                "new_list_price_fen": new_list,
            },
            actor_id=actor.user_id,
        )
    _refresh_price_min(session, now, product)
    if product.status == ProductStatus.LISTED and product.price_min_fen is None:
        raise Conflict(
            "a listed product must keep one active SKU; delist it first", field="is_active", code="last_active_sku"
        )
    return sku


# --- counters kept by orders and reviews ------------------------------------------------------------


def do_record_sales(session: Session, sold: dict[int, int]) -> None:
    """Add units sold (product_id -> units; negative for refunds). Atomic increments: no lost updates."""
    for product_id in sorted(sold):
        session.execute(
            update(Product).where(Product.id == product_id).values(sales_count=Product.sales_count + sold[product_id])
        )


def do_record_rating(session: Session, product_id: int, stars: int) -> None:
    session.execute(
        update(Product)
        .where(Product.id == product_id)
        .values(rating_sum=Product.rating_sum + stars, rating_count=Product.rating_count + 1)
    )
