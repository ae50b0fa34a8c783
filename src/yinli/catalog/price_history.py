"""Append-only SKU price history and the questions asked of it.

Every price a SKU ever had is a row; the current price on `skus` is a cache of the newest row. Price
protection ("refund the difference if the price drops within 7 days") and "lowest price in 30 days"
read from here, which is why rows are never changed: an ORM hook refuses updates and deletes in Python,
and triggers refuse them in the database (migration 0001) for anyone writing SQL by hand.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from yinli.catalog.models import Sku, SkuPriceHistory
from yinli.catalog.pricing import unit_prices


@event.listens_for(Session, "before_flush")
def _refuse_history_rewrites(session: Session, _ctx: Any, _instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, SkuPriceHistory) and (obj in session.deleted or session.is_modified(obj)):
            raise RuntimeError("sku_price_history is append-only")


def record_price(session: Session, sku: Sku, at: datetime, changed_by: int | None, reason: str) -> SkuPriceHistory:
    """Append the SKU's price as of `at`: its selling and list price and the final price with the platform
    subsidy in force (catalog.pricing), so a drop from any cause shows in the history."""
    unit = unit_prices(session, at, [sku])[sku.id]
    row = SkuPriceHistory(
        sku_id=sku.id,
        price_fen=sku.price_fen,
        list_price_fen=sku.list_price_fen,
        final_price_fen=unit.final,
        platform_subsidy_fen=unit.platform_subsidy,
        currency=sku.currency,
        effective_at=at,
        changed_by=changed_by,
        reason=reason,
    )
    session.add(row)
    session.flush()
    return row


def history(session: Session, sku_id: int, *, after_id: int | None = None, limit: int = 100) -> list[SkuPriceHistory]:
    query = select(SkuPriceHistory).where(SkuPriceHistory.sku_id == sku_id).order_by(SkuPriceHistory.id).limit(limit)
    if after_id is not None:
        query = query.where(SkuPriceHistory.id > after_id)
    return list(session.scalars(query))


def price_at(session: Session, sku_id: int, when: datetime) -> int | None:
    """The SKU's final price in effect at `when` (None before it existed)."""
    return session.scalar(
        select(SkuPriceHistory.final_price_fen)
        .where(SkuPriceHistory.sku_id == sku_id, SkuPriceHistory.effective_at <= when)
        .order_by(SkuPriceHistory.effective_at.desc(), SkuPriceHistory.id.desc())
        .limit(1)
    )


def lowest_prices_since(session: Session, sku_ids: list[int], since: datetime) -> dict[int, int]:
    """Per SKU, the lowest final price in effect at any moment from `since` until now.

    That is the minimum over prices set after `since` and the price already in effect at `since`.
    """
    if not sku_ids:
        return {}
    lowest = dict(
        session.execute(
            select(SkuPriceHistory.sku_id, func.min(SkuPriceHistory.final_price_fen))
            .where(SkuPriceHistory.sku_id.in_(sku_ids), SkuPriceHistory.effective_at > since)
            .group_by(SkuPriceHistory.sku_id)
        ).all()
    )
    # the price in effect at `since`: the newest row at or before it, per SKU
    newest_before = (
        select(SkuPriceHistory.sku_id, func.max(SkuPriceHistory.id).label("id"))
        .where(SkuPriceHistory.sku_id.in_(sku_ids), SkuPriceHistory.effective_at <= since)
        .group_by(SkuPriceHistory.sku_id)
        .subquery()
    )
    for sku_id, price in session.execute(
        select(SkuPriceHistory.sku_id, SkuPriceHistory.final_price_fen).join(
            newest_before, SkuPriceHistory.id == newest_before.c.id
        )
    ):
        lowest[sku_id] = min(price, lowest.get(sku_id, price))
    return lowest
