"""Cart and checkout."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from yinli.api.deps import DB, ActorDep, ClockDep, IdempotencyDep, ReadDB, SettingsDep, id_path
from yinli.catalog.pricing import UnitPrice
from yinli.checkout import quote as quotes
from yinli.checkout import service
from yinli.checkout.schemas import (
    CartItemIn,
    CartLineOut,
    CartOut,
    CartQuantityIn,
    CartStoreOut,
    CheckoutIn,
    PriceBreakdown,
)
from yinli.core.auth import Actor
from yinli.core.clock import Clock
from yinli.core.schemas import MoneyOut
from yinli.orders.models import Surface
from yinli.payments.schemas import PaymentOut, payment_out

router = APIRouter(tags=["checkout"])


def breakdown(unit: UnitPrice) -> PriceBreakdown:
    return PriceBreakdown(
        list_price=MoneyOut.fen(unit.list_price, unit.currency),
        merchant_discount=MoneyOut.fen(unit.merchant_discount, unit.currency),
        platform_subsidy=MoneyOut.fen(unit.platform_subsidy, unit.currency),
        final_price=MoneyOut.fen(unit.final, unit.currency),
    )


def cart_out(session: Session, clock: Clock, actor: Actor | None) -> CartOut:
    quote = quotes.quote_cart(session, clock, actor)
    return CartOut(
        stores=[
            CartStoreOut(
                store_id=group.store.id,
                store_name=group.store.name,
                lines=[
                    CartLineOut(
                        item_id=line.item.id if line.item else 0,
                        sku_id=line.sku.id,
                        product_id=line.product.id,
                        title=line.product.title,
                        attributes=dict(line.sku.attributes or {}),
                        quantity=line.quantity,
                        unit=breakdown(line.unit),
                        line_total=MoneyOut.fen(line.line_total),
                        on_sale=line.on_sale,
                        available=line.available or 0,
                        surface=line.surface,
                    )
                    for line in group.lines
                ],
                items_total=MoneyOut.fen(group.items_total),
                shipping_fee=MoneyOut.fen(group.shipping_fee),
                total=MoneyOut.fen(group.total),
            )
            for group in quote.stores
        ],
        total=MoneyOut.fen(quote.total),
    )


@router.get("/cart", response_model=CartOut, summary="The cart by store, with the prices checkout will charge")
def get_cart(db: ReadDB, clock: ClockDep, actor: ActorDep) -> CartOut:
    return cart_out(db, clock, actor)


@router.post("/cart/items", response_model=CartOut, summary="Add units of a SKU")
def add_to_cart(body: CartItemIn, db: DB, clock: ClockDep, settings: SettingsDep, actor: ActorDep) -> CartOut:
    line = service.LineRequest(body.sku_id, body.quantity, Surface(body.surface), body.source_id, body.creator_id)
    service.do_add_to_cart(db, clock, settings, actor, line)
    db.commit()
    return cart_out(db, clock, actor)


@router.patch("/cart/items/{item_id}", response_model=CartOut, summary="Change a quantity")
def change_quantity(
    body: CartQuantityIn, db: DB, clock: ClockDep, actor: ActorDep, item_id: int = id_path()
) -> CartOut:
    service.do_set_cart_quantity(db, actor, item_id, body.quantity)
    db.commit()
    return cart_out(db, clock, actor)


@router.delete("/cart/items/{item_id}", status_code=204, summary="Remove from the cart")
def remove_item(db: DB, actor: ActorDep, item_id: int = id_path()) -> Response:
    service.do_remove_from_cart(db, actor, item_id)
    db.commit()
    return Response(status_code=204)


@router.post(
    "/checkout",
    status_code=201,
    response_model=PaymentOut,
    summary="Create orders (one per store), hold their stock, open one payment",
)
def checkout(
    body: CheckoutIn, db: DB, clock: ClockDep, settings: SettingsDep, actor: ActorDep, idem: IdempotencyDep
) -> JSONResponse:
    def action() -> tuple[int, object]:
        lines = None
        if body.items is not None:
            lines = [
                service.LineRequest(i.sku_id, i.quantity, Surface(i.surface), i.source_id, i.creator_id)
                for i in body.items
            ]
        payment, _ = service.do_checkout(
            db,
            clock,
            settings,
            actor,
            lines=lines,
            address=body.address.model_dump() if body.address is not None else None,
            address_id=body.address_id,
            cart_item_ids=body.cart_item_ids,
            note=body.note,
        )
        return 201, payment_out(db, payment).model_dump(mode="json")

    return idem.respond(db, action)
