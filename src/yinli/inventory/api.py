"""Stock levels of SKUs: merchants set what is on the shelf; anyone may see what is available."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from yinli.api.deps import DB, ActorDep, ClockDep, ReadDB, id_path
from yinli.catalog import service as catalog
from yinli.core.auth import require_store_manager
from yinli.core.schemas import Input, Output
from yinli.inventory import service

router = APIRouter(tags=["inventory"])


class StockIn(Input):
    on_hand: int = Field(ge=0, le=service.MAX_STOCK)


class StockOut(Output):
    sku_id: int
    on_hand: int | None = None  # staff and operators only
    reserved: int | None = None
    available: int


@router.get("/skus/{sku_id}/stock", response_model=StockOut, summary="Units available (staff: also on hand, held)")
def get_stock(db: ReadDB, actor: ActorDep, sku_id: int = id_path()) -> StockOut:
    sku, product = catalog.get_sku(db, actor, sku_id)
    on_hand, reserved = service.levels(db, [sku.id])[sku.id]
    out = StockOut(sku_id=sku.id, available=on_hand - reserved)
    if actor is not None and actor.manages_store(product.store_id):
        out.on_hand, out.reserved = on_hand, reserved
    return out


@router.put("/skus/{sku_id}/stock", response_model=StockOut, summary="Set units on hand (the store's staff)")
def set_stock(body: StockIn, db: DB, clock: ClockDep, actor: ActorDep, sku_id: int = id_path()) -> StockOut:
    sku, product = catalog.get_sku(db, actor, sku_id)
    actor = require_store_manager(actor, product.store_id)
    stock = service.do_set_on_hand(db, sku.id, body.on_hand, clock.now(), actor.user_id)
    db.commit()
    return StockOut(
        sku_id=sku.id, on_hand=stock.on_hand, reserved=stock.reserved, available=stock.on_hand - stock.reserved
    )
