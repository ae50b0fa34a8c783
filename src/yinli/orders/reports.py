"""Sales reports read from orders for the consoles: GMV by day and by format, refund and complaint rates.

GMV is what shoppers paid for goods (order lines' totals, shipping excluded) on orders that were paid,
dated by payment; a later refund does not take it back — the refund rate says how much came back.
"By format" splits GMV by the order line's `surface` (live, short video, search, mall, ...). The shelf
(货架) is where shoppers look for goods themselves: search, the mall tab and store pages
(`SHELF_SURFACES`); the ops console's shelf share and the simulator's both read this one definition.

A store's staff read their own store; operators read any store or the whole platform. These are plain
OLTP reads sized for a console over a window of days (both ends included, so "until now" counts the
order paid this instant); the analytics domain will answer the same
questions from the event log at scale.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import TypeVarTuple

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from yinli.core.auth import Actor, Role, require_role, require_store_manager
from yinli.orders.models import Complaint, Order, OrderLine, Surface

# Days are counted in China Standard Time: "yesterday's GMV" means the shopper's yesterday.
REPORT_TZ = timezone(timedelta(hours=8))
# 货架场景: search, the mall tab, store pages. A product card in the feed (goods find people) or a product
# page opened directly is not shelf traffic.
SHELF_SURFACES: frozenset[str] = frozenset({Surface.SEARCH, Surface.MALL, Surface.STORE_PAGE})


def format_of(surface: str) -> str:
    """The format a line's surface sold through: live, short_video, shelf, or other (feed cards, a
    product page opened directly)."""
    if surface in (Surface.LIVE, Surface.SHORT_VIDEO):
        return str(surface)
    return "shelf" if surface in SHELF_SURFACES else "other"


def shelf_share(by_surface: Mapping[str, int]) -> float | None:
    """The shelf surfaces' share of GMV (surface -> fen, as `gmv_by_surface` gives); None when nothing sold."""
    total = sum(by_surface.values())
    return sum(v for s, v in by_surface.items() if s in SHELF_SURFACES) / total if total else None


def check_reader(actor: Actor | None, store_id: int | None) -> Actor:
    """Operators read the platform or any store; a store's staff read their own store only."""
    if store_id is None:
        return require_role(actor, Role.OPERATOR)
    return require_store_manager(actor, store_id)


Columns = TypeVarTuple("Columns")


def _paid_between(query: Select[*Columns], store_id: int | None, since: datetime, until: datetime) -> Select[*Columns]:
    query = query.where(Order.paid_at.is_not(None), Order.paid_at >= since, Order.paid_at <= until)
    if store_id is not None:
        query = query.where(Order.store_id == store_id)
    return query


def gmv_by_surface(
    session: Session, actor: Actor | None, *, store_id: int | None, since: datetime, until: datetime
) -> dict[str, int]:
    """surface -> GMV in fen over [since, until], largest first."""
    check_reader(actor, store_id)
    query = select(OrderLine.surface, func.sum(OrderLine.line_total_fen)).join(Order, Order.id == OrderLine.order_id)
    rows = session.execute(_paid_between(query, store_id, since, until).group_by(OrderLine.surface)).all()
    return dict(sorted(((surface, int(total or 0)) for surface, total in rows), key=lambda kv: (-kv[1], kv[0])))


def gmv_by_day(
    session: Session, actor: Actor | None, *, store_id: int | None, since: datetime, until: datetime
) -> list[tuple[date, int]]:
    """(day, GMV in fen) for every day of the window (days in REPORT_TZ), zeros included."""
    check_reader(actor, store_id)
    query = select(Order.paid_at, Order.items_total_fen)
    totals: dict[date, int] = {}
    for paid_at, amount in session.execute(_paid_between(query, store_id, since, until)):
        assert paid_at is not None  # _paid_between keeps paid orders only
        day = paid_at.astimezone(REPORT_TZ).date()
        totals[day] = totals.get(day, 0) + int(amount)
    first, last = since.astimezone(REPORT_TZ).date(), until.astimezone(REPORT_TZ).date()
    return [
        (first + timedelta(days=i), totals.get(first + timedelta(days=i), 0)) for i in range((last - first).days + 1)
    ]


@dataclass(frozen=True)
class SalesSummary:
    paid_orders: int
    gmv_fen: int
    refunded_orders: int  # paid in the window, with any money given back since
    refunded_fen: int
    complaints: int  # filed in the window

    @property
    def refund_rate(self) -> float | None:
        return round(self.refunded_orders / self.paid_orders, 4) if self.paid_orders else None

    @property
    def complaint_rate(self) -> float | None:
        return round(self.complaints / self.paid_orders, 4) if self.paid_orders else None


def summary(
    session: Session, actor: Actor | None, *, store_id: int | None, since: datetime, until: datetime
) -> SalesSummary:
    check_reader(actor, store_id)
    query = select(
        func.count(Order.id),
        func.coalesce(func.sum(Order.items_total_fen), 0),
        func.coalesce(func.sum(Order.refunded_fen), 0),
    )
    paid, gmv, refunded_fen = session.execute(_paid_between(query, store_id, since, until)).one()
    refunded = session.scalar(
        _paid_between(select(func.count(Order.id)), store_id, since, until).where(Order.refunded_fen > 0)
    )
    complaints = select(func.count(Complaint.id)).where(Complaint.created_at >= since, Complaint.created_at <= until)
    if store_id is not None:
        complaints = complaints.where(Complaint.store_id == store_id)
    return SalesSummary(
        int(paid), int(gmv), int(refunded or 0), int(refunded_fen), int(session.scalar(complaints) or 0)
    )
