"""Stock and reservations (DESIGN rule 7: assume every operation runs concurrently with itself).

Every change is a *conditional atomic update*: `reserved = reserved + q WHERE on_hand - reserved >= q`.
The database decides who gets the last unit, so there is no read-then-write window to oversell in, on
SQLite or PostgreSQL. Multi-SKU operations touch rows in SKU-id order so two carts cannot deadlock.
Reservation state changes are conditional on the current state, so a retried or concurrent release or
commit happens once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from yinli.core.errors import Conflict, InvalidInput
from yinli.core.outbox import emit
from yinli.inventory.models import Reservation, ReservationStatus, Stock, StockMovement


class OutOfStock(Conflict):
    """Fewer units left than asked: the problem says how many (`available`) of which SKU (`sku_id`), so
    a page can say "only N left" and let the shopper change the quantity."""

    code = "out_of_stock"
    title = "Out of stock"

    def __init__(self, sku_id: int, available: int, *, field: str = "quantity") -> None:
        available = max(0, available)
        super().__init__(f"not enough stock for SKU {sku_id}: {available} left", field=field)
        self.sku_id, self.available = sku_id, available
        self.extensions = {"sku_id": sku_id, "available": available}


MAX_STOCK = 10_000_000


class _At:
    """The outbox wants a Clock; these functions are handed the caller's `now`."""

    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now


def _note_availability(session: Session, sku_id: int, delta: int, now: datetime) -> None:
    """After available units changed by `delta`: emit StockDepleted / StockRestored when they crossed
    zero, so search and ranking follow availability from the outbox instead of polling stock."""
    after = session.scalar(select(Stock.on_hand - Stock.reserved).where(Stock.sku_id == sku_id)) or 0
    if (after - delta > 0) != (after > 0):
        kind = "StockRestored" if after > 0 else "StockDepleted"
        emit(session, _At(now), kind, "sku", sku_id, {"available": after})


def ensure_rows(session: Session, sku_ids: Iterable[int], now: datetime) -> None:
    """Create missing stock rows (0 on hand) so conditional updates have a row to test."""
    ids = sorted(set(sku_ids))
    have = set(session.scalars(select(Stock.sku_id).where(Stock.sku_id.in_(ids))))
    for sku_id in ids:
        if sku_id not in have:
            session.add(Stock(sku_id=sku_id, on_hand=0, reserved=0, updated_at=now))
    session.flush()


def levels(session: Session, sku_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """sku_id -> (on_hand, reserved); SKUs without a row have (0, 0)."""
    ids = list(set(sku_ids))
    rows = session.execute(select(Stock.sku_id, Stock.on_hand, Stock.reserved).where(Stock.sku_id.in_(ids))).all()
    found = {r.sku_id: (r.on_hand, r.reserved) for r in rows}
    return {i: found.get(i, (0, 0)) for i in ids}


def available(session: Session, sku_ids: Iterable[int]) -> dict[int, int]:
    return {k: on - res for k, (on, res) in levels(session, sku_ids).items()}


def do_set_on_hand(session: Session, sku_id: int, on_hand: int, now: datetime, actor_id: int | None) -> Stock:
    """The merchant counted the shelf: on_hand becomes `on_hand`. Refused below what is reserved."""
    if not 0 <= on_hand <= MAX_STOCK:
        raise InvalidInput(f"stock must be between 0 and {MAX_STOCK}", field="on_hand")
    ensure_rows(session, [sku_id], now)
    stock = session.execute(
        select(Stock).where(Stock.sku_id == sku_id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()
    if on_hand < stock.reserved:
        raise Conflict(
            f"{stock.reserved} units are held for unpaid orders; stock cannot go below that",
            field="on_hand",
            code="below_reserved",
        )
    delta = on_hand - stock.on_hand
    stock.on_hand = on_hand
    stock.updated_at = now
    if delta:
        session.add(StockMovement(sku_id=sku_id, delta=delta, reason="set", actor_id=actor_id, at=now))
    session.flush()
    _note_availability(session, sku_id, delta, now)
    return stock


def do_reserve(
    session: Session, order_id: int, lines: list[tuple[int, int]], now: datetime, expires_at: datetime
) -> list[Reservation]:
    """Hold `(sku_id, quantity)` lines for an order, all or nothing (the caller rolls back on OutOfStock)."""
    merged: dict[int, int] = {}
    for sku_id, quantity in lines:
        merged[sku_id] = merged.get(sku_id, 0) + quantity
    held = []
    for sku_id in sorted(merged):  # primary-key order: no deadlocks between overlapping carts
        quantity = merged[sku_id]
        result = session.execute(
            update(Stock)
            .where(Stock.sku_id == sku_id, Stock.on_hand - Stock.reserved >= quantity)
            .values(reserved=Stock.reserved + quantity, updated_at=now)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            left = session.scalar(select(Stock.on_hand - Stock.reserved).where(Stock.sku_id == sku_id))
            raise OutOfStock(sku_id, int(left or 0))
        _note_availability(session, sku_id, -quantity, now)
        reservation = Reservation(
            sku_id=sku_id,
            order_id=order_id,
            quantity=quantity,
            status=ReservationStatus.HELD,
            expires_at=expires_at,
            created_at=now,
        )
        session.add(reservation)
        held.append(reservation)
    session.flush()
    return held


def _close(session: Session, reservation_id: int, to: str, now: datetime) -> bool:
    """Move a held reservation to `to`; False if someone else already closed it."""
    result = session.execute(
        update(Reservation)
        .where(Reservation.id == reservation_id, Reservation.status == ReservationStatus.HELD)
        .values(status=to, closed_at=now)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def _held_for(session: Session, order_id: int) -> list[Reservation]:
    return list(
        session.scalars(
            select(Reservation)
            .where(Reservation.order_id == order_id, Reservation.status == ReservationStatus.HELD)
            .order_by(Reservation.sku_id)
        )
    )


def do_commit_order(session: Session, order_id: int, now: datetime) -> bool:
    """Payment arrived: held units leave the warehouse. False if the hold was already released."""
    reservations = list(
        session.scalars(select(Reservation).where(Reservation.order_id == order_id).order_by(Reservation.sku_id))
    )
    if not reservations or any(r.status == ReservationStatus.RELEASED for r in reservations):
        return False
    for r in reservations:
        if r.status != ReservationStatus.HELD:
            continue
        if not _close(session, r.id, ReservationStatus.COMMITTED, now):
            return False
        session.execute(
            update(Stock)
            .where(Stock.sku_id == r.sku_id)
            .values(on_hand=Stock.on_hand - r.quantity, reserved=Stock.reserved - r.quantity, updated_at=now)
        )
        session.add(StockMovement(sku_id=r.sku_id, delta=-r.quantity, reason="sale", ref_id=order_id, at=now))
    session.flush()
    return True


def do_release_order(session: Session, order_id: int, now: datetime) -> int:
    """Cancelled, payment failed or expired: give held units back. Idempotent; returns units released."""
    released = 0
    for r in _held_for(session, order_id):
        if _close(session, r.id, ReservationStatus.RELEASED, now):
            session.execute(
                update(Stock)
                .where(Stock.sku_id == r.sku_id)
                .values(reserved=Stock.reserved - r.quantity, updated_at=now)
            )
            _note_availability(session, r.sku_id, r.quantity, now)
            released += r.quantity
    session.flush()
    return released


def do_restock(session: Session, lines: list[tuple[int, int]], reason: str, ref_id: int, now: datetime) -> None:
    """Returned or refunded-before-shipping units go back on the shelf."""
    for sku_id, quantity in sorted(lines):
        if quantity <= 0:
            continue
        ensure_rows(session, [sku_id], now)
        session.execute(
            update(Stock).where(Stock.sku_id == sku_id).values(on_hand=Stock.on_hand + quantity, updated_at=now)
        )
        session.add(StockMovement(sku_id=sku_id, delta=quantity, reason=reason, ref_id=ref_id, at=now))
        _note_availability(session, sku_id, quantity, now)
    session.flush()


def expired_order_ids(session: Session, now: datetime, limit: int = 500) -> list[int]:
    """Orders holding stock past their payment deadline (the expiry job cancels them)."""
    return list(
        session.scalars(
            select(Reservation.order_id)
            .where(Reservation.status == ReservationStatus.HELD, Reservation.expires_at <= now)
            .distinct()
            .limit(limit)
        )
    )
