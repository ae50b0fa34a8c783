"""Store service metrics, kept current from outbox events (and rebuildable by replaying them).

good-review rate, refund rate, complaint rate, on-time shipping rate and average delivery time per store.
Ranking (search, feed) reads these. The consumer is idempotent: it advances a cursor in the same
transaction as the counters, so a crash replays nothing twice and loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, ForeignKey, Integer
from sqlalchemy.orm import Mapped, Session, mapped_column

from yinli.core.clock import Clock
from yinli.core.db import Base, BigId, UTCDateTime
from yinli.core.outbox import get_cursor, read_after, save_cursor

CONSUMER = "store_metrics"
ON_TIME_SHIPPING = timedelta(hours=48)
EVENTS = ["OrderPaid", "OrderShipped", "OrderDelivered", "AfterSaleRefunded", "ComplaintFiled", "ReviewPosted"]


class StoreMetrics(Base):
    __tablename__ = "store_metrics"

    store_id: Mapped[int] = mapped_column(BigId, ForeignKey("stores.id"), primary_key=True)
    orders_paid: Mapped[int] = mapped_column(Integer, default=0)
    orders_shipped: Mapped[int] = mapped_column(Integer, default=0)
    shipped_on_time: Mapped[int] = mapped_column(Integer, default=0)
    deliveries: Mapped[int] = mapped_column(Integer, default=0)
    delivery_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    refunds: Mapped[int] = mapped_column(Integer, default=0)
    complaints: Mapped[int] = mapped_column(Integer, default=0)
    reviews: Mapped[int] = mapped_column(Integer, default=0)
    good_reviews: Mapped[int] = mapped_column(Integer, default=0)  # 4 or 5 stars
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class Rates:
    orders_paid: int
    good_review_rate: float | None
    refund_rate: float | None
    complaint_rate: float | None
    on_time_shipping_rate: float | None
    avg_delivery_hours: float | None


def rates(m: StoreMetrics | None) -> Rates:
    if m is None:
        return Rates(0, None, None, None, None, None)

    def ratio(a: int, b: int) -> float | None:
        return round(a / b, 4) if b else None

    return Rates(
        m.orders_paid,
        ratio(m.good_reviews, m.reviews),
        ratio(m.refunds, m.orders_paid),
        ratio(m.complaints, m.orders_paid),
        ratio(m.shipped_on_time, m.orders_shipped),
        round(m.delivery_seconds / m.deliveries / 3600, 1) if m.deliveries else None,
    )


def _row(session: Session, cache: dict[int, StoreMetrics], store_id: int, now: datetime) -> StoreMetrics:
    if store_id not in cache:
        row = session.get(StoreMetrics, store_id)
        if row is None:
            row = StoreMetrics(
                store_id=store_id,
                orders_paid=0,
                orders_shipped=0,
                shipped_on_time=0,
                deliveries=0,
                delivery_seconds=0,
                refunds=0,
                complaints=0,
                reviews=0,
                good_reviews=0,
                updated_at=now,
            )
            session.add(row)
        cache[store_id] = row
    return cache[store_id]


def refresh(session: Session, clock: Clock, batch: int = 1000) -> int:
    """Apply new events to the counters; returns how many events were applied. Caller commits."""
    now = clock.now()
    position = get_cursor(session, CONSUMER)
    applied = 0
    cache: dict[int, StoreMetrics] = {}
    while True:
        page = read_after(session, position, clock=clock, limit=batch, types=EVENTS)
        for event in page.events:
            p = event.payload
            row = _row(session, cache, int(p["store_id"]), now)
            if event.type == "OrderPaid":
                row.orders_paid += 1
            elif event.type == "OrderShipped":
                row.orders_shipped += 1
                if (
                    p.get("paid_at")
                    and datetime.fromisoformat(p["shipped_at"]) - datetime.fromisoformat(p["paid_at"])
                    <= ON_TIME_SHIPPING
                ):
                    row.shipped_on_time += 1
            elif event.type == "OrderDelivered" and p.get("shipped_at"):
                row.deliveries += 1
                row.delivery_seconds += int(
                    (
                        datetime.fromisoformat(p["delivered_at"]) - datetime.fromisoformat(p["shipped_at"])
                    ).total_seconds()
                )
            elif event.type == "AfterSaleRefunded":
                row.refunds += 1
            elif event.type == "ComplaintFiled":
                row.complaints += 1
            elif event.type == "ReviewPosted":
                row.reviews += 1
                row.good_reviews += int(p["rating"]) >= 4
            row.updated_at = now
            applied += 1
        if page.cursor == position:
            break
        position = page.cursor
    save_cursor(session, clock, CONSUMER, position)
    session.flush()
    return applied


def store_rates(session: Session, store_id: int) -> Rates:
    return rates(session.get(StoreMetrics, store_id))
