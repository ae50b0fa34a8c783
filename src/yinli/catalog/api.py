"""Categories, brands, products, SKUs, price history and product cards."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from yinli.api.deps import (
    DB,
    ActorDep,
    ClockDep,
    Cursor,
    IdempotencyDep,
    Limit,
    ReadDB,
    SettingsDep,
    cursor_value,
    id_path,
    id_query,
    page,
)
from yinli.catalog import categories, service
from yinli.catalog.models import Product, ProductStatus, Sku, SkuPriceHistory
from yinli.catalog.price_history import history as prices_of_sku
from yinli.catalog.schemas import (
    BrandIn,
    BrandOut,
    BrandsPage,
    CardsPage,
    CategoryDetailOut,
    CategoryFeeIn,
    CategoryOut,
    PriceHistoryOut,
    PriceHistoryPage,
    ProductCardOut,
    ProductIn,
    ProductOut,
    ProductsPage,
    ProductUpdateIn,
    SkuIn,
    SkuOut,
    SkuUpdateIn,
    cards_for,
)
from yinli.core.schemas import MAX_AMOUNT, MoneyOut
from yinli.guarantees import credit

router = APIRouter(tags=["catalog"])


# FastAPI keeps state on a parameter's FieldInfo, so every parameter gets a fresh one from these.
def maybe_id() -> Any:
    return id_query()


def price_bound() -> Any:
    return Query(None, ge=0, le=MAX_AMOUNT, description="Fen; compared with the product's lowest price.")


NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f-\x9f]*$"  # a NUL in a query was a 500 on PostgreSQL


# --- categories -----------------------------------------------------------------------------------


@router.get("/categories", response_model=list[CategoryOut], summary="Children of a category (roots by default)")
def list_categories(db: ReadDB, parent_id: int | None = maybe_id()) -> list[CategoryOut]:
    if parent_id is not None:
        categories.get_category(db, parent_id, field="parent_id")
    return [CategoryOut.model_validate(c) for c in categories.children(db, parent_id)]


@router.get("/categories/{category_id}", response_model=CategoryDetailOut, summary="A category with its path")
def get_category(db: ReadDB, category_id: int = id_path()) -> CategoryDetailOut:
    node = categories.get_category(db, category_id)
    return CategoryDetailOut(
        **CategoryOut.model_validate(node).model_dump(),
        ancestors=[CategoryOut.model_validate(c) for c in categories.ancestors(db, node)[:-1]],
        children=[CategoryOut.model_validate(c) for c in categories.children(db, node.id)],
    )


@router.put("/categories/{category_id}/fee", response_model=CategoryOut, summary="Set a category's fee (operators)")
def set_category_fee(body: CategoryFeeIn, db: DB, actor: ActorDep, category_id: int = id_path()) -> CategoryOut:
    node = categories.do_set_fee_rate(db, actor, category_id, body.fee_rate_bps)
    db.commit()
    return CategoryOut.model_validate(node)


# --- brands ---------------------------------------------------------------------------------------


@router.get("/brands", response_model=BrandsPage, summary="Brands, optionally by name prefix")
def list_brands(
    db: ReadDB,
    limit: Limit = 50,
    cursor: Cursor = None,
    prefix: str | None = Query(None, max_length=80, pattern=NO_CONTROL_CHARACTERS),
) -> BrandsPage:
    rows = service.list_brands(db, prefix=prefix, after_id=cursor_value(cursor), limit=limit + 1)
    rows, next_cursor = page(rows, limit)
    return BrandsPage(items=[BrandOut.model_validate(b) for b in rows], next_cursor=next_cursor)


@router.post("/brands", status_code=201, response_model=BrandOut, summary="Register a brand (merchants, operators)")
def create_brand(body: BrandIn, db: DB, clock: ClockDep, actor: ActorDep, idem: IdempotencyDep) -> JSONResponse:
    return idem.respond(
        db, lambda: (201, BrandOut.model_validate(service.do_create_brand(db, clock, actor, body.name)).model_dump())
    )


# --- products -------------------------------------------------------------------------------------


def sku_out(sku: Sku) -> SkuOut:
    return SkuOut(
        id=sku.id,
        product_id=sku.product_id,
        code=sku.code,
        attributes=sku.attributes,
        price=MoneyOut.fen(sku.price_fen, sku.currency),
        list_price=MoneyOut.fen(sku.list_price_fen, sku.currency) if sku.list_price_fen is not None else None,
        is_active=sku.is_active,
    )


def products_out(session: Session, products: list[Product]) -> list[ProductOut]:
    skus: dict[int, list[Sku]] = {}
    if products:
        for sku in session.scalars(select(Sku).where(Sku.product_id.in_([p.id for p in products])).order_by(Sku.id)):
            skus.setdefault(sku.product_id, []).append(sku)
    return [
        ProductOut(
            id=p.id,
            store_id=p.store_id,
            category_id=p.category_id,
            brand_id=p.brand_id,
            title=p.title,
            description=p.description,
            status=p.status,
            cover_url=p.cover_url,
            images=list(p.images or []),
            seven_day_returns=p.seven_day_returns,
            return_shipping_cover=p.return_shipping_cover,
            price_protection=p.price_protection,
            pay_later=p.pay_later,
            price_min=MoneyOut.fen(p.price_min_fen, p.currency) if p.price_min_fen is not None else None,
            sales_count=p.sales_count,
            created_at=p.created_at,
            updated_at=p.updated_at,
            listed_at=p.listed_at,
            skus=[sku_out(s) for s in skus.get(p.id, [])],
        )
        for p in products
    ]


def product_filter(
    category_id: int | None,
    store_id: int | None,
    status: ProductStatus | None,
    brand_id: int | None,
    min_price: int | None,
    max_price: int | None,
) -> service.ProductFilter:
    return service.ProductFilter(category_id, store_id, status, brand_id, min_price, max_price)


@router.post("/products", status_code=201, response_model=ProductOut, summary="Create a draft product with SKUs")
def create_product(body: ProductIn, db: DB, clock: ClockDep, actor: ActorDep, idem: IdempotencyDep) -> JSONResponse:
    def action() -> tuple[int, object]:
        fields = body.model_dump(exclude={"skus", "store_id", "category_id", "title"})
        product = service.do_create_product(
            db,
            clock,
            actor,
            store_id=body.store_id,
            category_id=body.category_id,
            title=body.title,
            skus=[s.model_dump() for s in body.skus],
            **fields,
        )
        return 201, products_out(db, [product])[0].model_dump(mode="json")

    return idem.respond(db, action)


@router.get("/products", response_model=ProductsPage, summary="Products, newest first, with filters")
def list_products(
    db: ReadDB,
    actor: ActorDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    category_id: int | None = id_query(description="At any level of the tree."),
    store_id: int | None = maybe_id(),
    brand_id: int | None = maybe_id(),
    status: ProductStatus | None = Query(None, description="Other than 'listed': own store's staff, operators."),
    min_price: int | None = price_bound(),
    max_price: int | None = price_bound(),
) -> ProductsPage:
    f = product_filter(category_id, store_id, status, brand_id, min_price, max_price)
    rows = service.list_products(db, actor, f, before_id=cursor_value(cursor), limit=limit + 1)
    rows, next_cursor = page(rows, limit)
    return ProductsPage(items=products_out(db, rows), next_cursor=next_cursor)


@router.get("/products/{product_id}", response_model=ProductOut, summary="A product with its SKUs")
def get_product(db: ReadDB, actor: ActorDep, product_id: int = id_path()) -> ProductOut:
    return products_out(db, [service.get_product(db, actor, product_id)])[0]


@router.patch("/products/{product_id}", response_model=ProductOut, summary="Change a product")
def update_product(
    body: ProductUpdateIn, db: DB, clock: ClockDep, actor: ActorDep, product_id: int = id_path()
) -> ProductOut:
    product = service.do_update_product(db, clock, actor, product_id, **body.model_dump(exclude_unset=True))
    db.commit()
    return products_out(db, [product])[0]


@router.post("/products/{product_id}/list", response_model=ProductOut, summary="Put on sale")
def list_product(db: DB, clock: ClockDep, actor: ActorDep, product_id: int = id_path()) -> ProductOut:
    product = service.do_list_product(db, clock, actor, product_id)
    db.commit()
    return products_out(db, [product])[0]


@router.post("/products/{product_id}/delist", response_model=ProductOut, summary="Take off sale")
def delist_product(db: DB, clock: ClockDep, actor: ActorDep, product_id: int = id_path()) -> ProductOut:
    product = service.do_delist_product(db, clock, actor, product_id)
    db.commit()
    return products_out(db, [product])[0]


@router.post("/products/{product_id}/skus", status_code=201, response_model=SkuOut, summary="Add a SKU")
def add_sku(
    body: SkuIn, db: DB, clock: ClockDep, actor: ActorDep, idem: IdempotencyDep, product_id: int = id_path()
) -> JSONResponse:
    return idem.respond(
        db, lambda: (201, sku_out(service.do_add_sku(db, clock, actor, product_id, body.model_dump())).model_dump())
    )


@router.get("/skus/{sku_id}", response_model=SkuOut, summary="A SKU")
def get_sku(db: ReadDB, actor: ActorDep, sku_id: int = id_path()) -> SkuOut:
    return sku_out(service.get_sku(db, actor, sku_id)[0])


@router.patch("/skus/{sku_id}", response_model=SkuOut, summary="Change a SKU (a price change is recorded)")
def update_sku(body: SkuUpdateIn, db: DB, clock: ClockDep, actor: ActorDep, sku_id: int = id_path()) -> SkuOut:
    sku = service.do_update_sku(db, clock, actor, sku_id, **body.model_dump(exclude_unset=True))
    db.commit()
    return sku_out(sku)


def history_out(row: SkuPriceHistory) -> PriceHistoryOut:
    return PriceHistoryOut(
        id=row.id,
        sku_id=row.sku_id,
        price=MoneyOut.fen(row.price_fen, row.currency),
        list_price=MoneyOut.fen(row.list_price_fen, row.currency) if row.list_price_fen is not None else None,
        platform_subsidy=MoneyOut.fen(row.platform_subsidy_fen, row.currency),
        final_price=MoneyOut.fen(row.final_price_fen, row.currency),
        effective_at=row.effective_at,
        changed_by=row.changed_by,
        reason=row.reason,
    )


@router.get("/skus/{sku_id}/price-history", response_model=PriceHistoryPage, summary="Every price, oldest first")
def price_history(
    db: ReadDB, actor: ActorDep, limit: Limit = 100, cursor: Cursor = None, sku_id: int = id_path()
) -> PriceHistoryPage:
    service.get_sku(db, actor, sku_id)
    rows = prices_of_sku(db, sku_id, after_id=cursor_value(cursor), limit=limit + 1)
    rows, next_cursor = page(rows, limit)
    return PriceHistoryPage(items=[history_out(r) for r in rows], next_cursor=next_cursor)


# --- product cards --------------------------------------------------------------------------------


@router.get("/product-cards", response_model=CardsPage, summary="Cards of listed products, newest first")
def list_cards(
    db: ReadDB,
    clock: ClockDep,
    settings: SettingsDep,
    actor: ActorDep,
    limit: Limit = 20,
    cursor: Cursor = None,
    category_id: int | None = id_query(description="At any level of the tree."),
    store_id: int | None = maybe_id(),
    brand_id: int | None = maybe_id(),
    min_price: int | None = price_bound(),
    max_price: int | None = price_bound(),
) -> CardsPage:
    f = product_filter(category_id, store_id, ProductStatus.LISTED, brand_id, min_price, max_price)
    rows = service.list_products(db, None, f, before_id=cursor_value(cursor), limit=limit + 1)
    rows, next_cursor = page(rows, limit)
    room = credit.shopper_room(db, settings, actor)  # the 先用后付 badge only within the caller's credit
    return CardsPage(items=cards_for(db, clock, rows, pay_later_room=room), next_cursor=next_cursor)


@router.get("/products/{product_id}/card", response_model=ProductCardOut, summary="A product's card")
def get_card(
    db: ReadDB, clock: ClockDep, settings: SettingsDep, actor: ActorDep, product_id: int = id_path()
) -> ProductCardOut:
    room = credit.shopper_room(db, settings, actor)
    return cards_for(db, clock, [service.get_product(db, actor, product_id)], pay_later_room=room)[0]
