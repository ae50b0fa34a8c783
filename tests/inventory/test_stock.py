"""Stock and reservations (inventory.service), called directly with a real database.

- a hold lowers what is available but not what is on hand; a release gives it back; a commit (payment)
  takes it off the shelf for good, and neither happens twice;
- the conditional updates refuse to go below zero with a clear error and change nothing;
- the movement journal is append-only and always sums to on_hand (hypothesis over random sequences);
- on PostgreSQL, threads racing for the last units never oversell.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tests.factories import World, race_on_postgres
from yinli.core.clock import SimulatedClock
from yinli.core.db import Database
from yinli.core.errors import Conflict, InvalidInput
from yinli.core.outbox import OutboxEvent
from yinli.inventory import service as inventory
from yinli.inventory.models import Reservation, ReservationStatus, StockMovement
from yinli.orders.models import Order, OrderStatus


@dataclass
class Shelf:
    """One store's SKUs and a shopper who can own orders (reservations need an order row)."""

    database: Database
    now: datetime
    shopper_id: int
    store_id: int
    skus: list[int]

    def order(self, session: Session) -> int:
        """A bare unpaid order: only the row the reservation's foreign key needs."""
        o = Order(
            shopper_id=self.shopper_id,
            store_id=self.store_id,
            status=OrderStatus.CREATED,
            currency="CNY",
            list_total_fen=0,
            merchant_discount_fen=0,
            platform_subsidy_fen=0,
            items_total_fen=0,
            shipping_fee_fen=0,
            total_fen=0,
            address={},
            created_at=self.now,
            pay_by=self.now + timedelta(minutes=30),
        )
        session.add(o)
        session.flush()
        return o.id

    def reserve(self, session: Session, lines: list[tuple[int, int]]) -> int:
        order_id = self.order(session)
        inventory.do_reserve(session, order_id, lines, self.now, self.now + timedelta(minutes=30))
        return order_id

    def level(self, sku_id: int) -> tuple[int, int]:
        with self.database.session() as session:
            return inventory.levels(session, [sku_id])[sku_id]

    def journal(self, sku_id: int) -> list[tuple[int, int, str]]:
        with self.database.session() as session:
            rows = session.execute(
                select(StockMovement.id, StockMovement.delta, StockMovement.reason)
                .where(StockMovement.sku_id == sku_id)
                .order_by(StockMovement.id)
            ).all()
            return [tuple(r) for r in rows]  # type: ignore[misc]


@pytest.fixture
def shelf(world: World, database: Database, clock: SimulatedClock) -> Shelf:
    merchant = world.merchant()
    product = world.product(merchant)
    shopper = world.shopper()
    assert merchant.store_id is not None
    return Shelf(database, clock.now(), shopper.id, merchant.store_id, [s["id"] for s in product["skus"]])


def set_on_hand(shelf: Shelf, sku_id: int, units: int) -> None:
    with shelf.database.session() as session:
        inventory.do_set_on_hand(session, sku_id, units, shelf.now, None)


def test_hold_release_and_commit_move_available_and_on_hand(shelf: Shelf) -> None:
    sku = shelf.skus[0]
    set_on_hand(shelf, sku, 10)
    with shelf.database.session() as session:
        released = shelf.reserve(session, [(sku, 3)])
        paid = shelf.reserve(session, [(sku, 2), (sku, 2)])  # lines of one SKU merge into one hold
        assert inventory.available(session, [sku]) == {sku: 3}
    assert shelf.level(sku) == (10, 7)

    with shelf.database.session() as session:
        assert inventory.do_release_order(session, released, shelf.now) == 3
        assert inventory.do_release_order(session, released, shelf.now) == 0  # a retry gives nothing back twice
        assert inventory.do_commit_order(session, released, shelf.now) is False  # released holds cannot be paid
    assert shelf.level(sku) == (10, 4)

    with shelf.database.session() as session:
        assert inventory.do_commit_order(session, paid, shelf.now) is True
        assert inventory.do_commit_order(session, paid, shelf.now) is True  # idempotent: nothing more leaves
        assert inventory.do_release_order(session, paid, shelf.now) == 0  # committed units stay sold
        statuses = dict(session.execute(select(Reservation.order_id, Reservation.status)).all())
    assert shelf.level(sku) == (6, 0)
    assert statuses == {released: ReservationStatus.RELEASED, paid: ReservationStatus.COMMITTED}
    assert [(d, r) for _, d, r in shelf.journal(sku)] == [(10, "set"), (-4, "sale")]


def test_restock_puts_units_back_and_creates_missing_rows(shelf: Shelf) -> None:
    a, b = shelf.skus
    set_on_hand(shelf, a, 1)
    with shelf.database.session() as session:
        inventory.do_restock(session, [(b, 4), (a, 2), (a, 0)], "return", 99, shelf.now)  # 0 is skipped
    assert shelf.level(a) == (3, 0) and shelf.level(b) == (4, 0)
    assert [(d, r) for _, d, r in shelf.journal(b)] == [(4, "return")]
    assert [(d, r) for _, d, r in shelf.journal(a)] == [(1, "set"), (2, "return")]


def test_reserving_more_than_available_is_refused_and_changes_nothing(shelf: Shelf) -> None:
    a, b = shelf.skus
    set_on_hand(shelf, a, 5)
    set_on_hand(shelf, b, 1)
    with pytest.raises(inventory.OutOfStock) as refused, shelf.database.session() as session:
        # a fits, b does not: all or nothing, so a's hold is rolled back with the rest
        shelf.reserve(session, [(a, 5), (b, 2)])
    assert refused.value.code == "out_of_stock" and str(b) in str(refused.value)
    assert shelf.level(a) == (5, 0) and shelf.level(b) == (1, 0)
    with shelf.database.session() as session:
        assert session.scalar(select(func.count()).select_from(Reservation)) == 0


def test_a_sku_without_a_stock_row_has_nothing_to_reserve(shelf: Shelf) -> None:
    sku = shelf.skus[1]
    with shelf.database.session() as session:
        inventory.ensure_rows(session, [sku], shelf.now)
    with pytest.raises(inventory.OutOfStock), shelf.database.session() as session:
        shelf.reserve(session, [(sku, 1)])
    assert shelf.level(sku) == (0, 0)


def test_on_hand_cannot_go_below_reserved_or_out_of_range(shelf: Shelf) -> None:
    sku = shelf.skus[0]
    set_on_hand(shelf, sku, 8)
    with shelf.database.session() as session:
        shelf.reserve(session, [(sku, 6)])
    with pytest.raises(Conflict) as below:
        set_on_hand(shelf, sku, 5)
    assert below.value.code == "below_reserved" and "6 units" in str(below.value)
    for bad in (-1, inventory.MAX_STOCK + 1):
        with pytest.raises(InvalidInput):
            set_on_hand(shelf, sku, bad)
    assert shelf.level(sku) == (8, 6)
    set_on_hand(shelf, sku, 6)  # exactly what is held is allowed
    assert shelf.level(sku) == (6, 6)
    assert [d for _, d, _ in shelf.journal(sku)] == [8, -2]


def test_crossing_zero_emits_depleted_then_restored(shelf: Shelf) -> None:
    sku = shelf.skus[0]
    set_on_hand(shelf, sku, 2)
    with shelf.database.session() as session:
        order_id = shelf.reserve(session, [(sku, 1)])  # 2 -> 1: still available, no event
        shelf.reserve(session, [(sku, 1)])  # 1 -> 0: depleted
        inventory.do_release_order(session, order_id, shelf.now)  # 0 -> 1: restored
        kinds = list(
            session.scalars(
                select(OutboxEvent.type)
                .where(OutboxEvent.type.in_(["StockDepleted", "StockRestored"]), OutboxEvent.aggregate_id == sku)
                .order_by(OutboxEvent.id)
            )
        )
    assert kinds == ["StockRestored", "StockDepleted", "StockRestored"]  # the first from 0 -> 2 on set


# --- the journal over random histories ------------------------------------------------------------

OPS = st.lists(
    st.one_of(
        st.tuples(st.just("reserve"), st.integers(1, 6)),
        st.tuples(st.just("release"), st.integers(0, 20)),
        st.tuples(st.just("commit"), st.integers(0, 20)),
        st.tuples(st.just("restock"), st.integers(1, 6)),
        st.tuples(st.just("set"), st.integers(0, 15)),
    ),
    max_size=12,
)


def reset(shelf: Shelf, sku: int) -> None:
    """Examples share the SKU (its journal cannot be cleared: it is append-only), so each one starts by
    releasing what earlier examples left held; on_hand and the journal carry over."""
    with shelf.database.session() as session:
        for order_id in session.scalars(
            select(Reservation.order_id).where(Reservation.sku_id == sku, Reservation.status == ReservationStatus.HELD)
        ).all():
            inventory.do_release_order(session, order_id, shelf.now)


@settings(deadline=None, max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.integers(0, 10), ops=OPS)
def test_movements_are_append_only_and_sum_to_on_hand(shelf: Shelf, start: int, ops: list[tuple[str, int]]) -> None:
    sku = shelf.skus[0]
    reset(shelf, sku)
    set_on_hand(shelf, sku, start)
    on_hand, held, sold = start, {}, set()  # a model: order id -> units held
    seen: list[tuple[int, int, str]] = shelf.journal(sku)
    for op, n in ops:
        try:
            with shelf.database.session() as session:
                if op == "reserve":
                    order_id = shelf.reserve(session, [(sku, n)])
                    assert on_hand - sum(held.values()) >= n, "reserved more than was available"
                    held[order_id] = n
                elif op in ("release", "commit") and held:
                    order_id = sorted(held)[n % len(held)]
                    if op == "release":
                        assert inventory.do_release_order(session, order_id, shelf.now) == held.pop(order_id)
                    else:
                        assert inventory.do_commit_order(session, order_id, shelf.now) is True
                        on_hand -= held.pop(order_id)
                        sold.add(order_id)
                elif op == "restock":
                    inventory.do_restock(session, [(sku, n)], "return", 1, shelf.now)
                    on_hand += n
                elif op == "set":
                    inventory.do_set_on_hand(session, sku, n, shelf.now, None)
                    assert n >= sum(held.values()), "on_hand set below what is held"
                    on_hand = n
        except inventory.OutOfStock:
            assert op == "reserve" and on_hand - sum(held.values()) < n
        except Conflict as e:
            assert op == "set" and e.code == "below_reserved" and n < sum(held.values())
        assert shelf.level(sku) == (on_hand, sum(held.values()))
        journal = shelf.journal(sku)
        assert journal[: len(seen)] == seen, "a movement was changed or removed"
        seen = journal
        assert sum(d for _, d, _ in journal) == on_hand
        assert all(d != 0 for _, d, _ in journal)


# --- the race for the last units (PostgreSQL) -----------------------------------------------------


@race_on_postgres
def test_threads_racing_for_the_last_units_never_oversell(shelf: Shelf) -> None:
    sku, n, units = shelf.skus[0], 12, 5
    set_on_hand(shelf, sku, units)
    with shelf.database.session() as session:
        orders = [shelf.order(session) for _ in range(n)]
    barrier = threading.Barrier(n)

    def attempt(i: int) -> str:
        barrier.wait()
        try:
            with shelf.database.session() as session:
                inventory.do_reserve(session, orders[i], [(sku, 1)], shelf.now, shelf.now + timedelta(minutes=30))
            return "held"
        except inventory.OutOfStock:
            return "out"

    with ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(attempt, range(n)))
    assert results.count("held") == units and results.count("out") == n - units
    assert shelf.level(sku) == (units, units)
    with shelf.database.session() as session:
        held = session.scalar(select(func.count()).select_from(Reservation).where(Reservation.sku_id == sku))
    assert held == units


def test_the_journal_refuses_updates_and_deletes(shelf: Shelf) -> None:
    sku = shelf.skus[0]
    set_on_hand(shelf, sku, 3)
    for change in (
        update(StockMovement).where(StockMovement.sku_id == sku).values(delta=300),
        delete(StockMovement).where(StockMovement.sku_id == sku),
    ):
        # a trigger refuses it, on both databases
        with pytest.raises(DBAPIError, match="append-only"), shelf.database.session() as session:
            session.execute(change)
    assert [d for _, d, _ in shelf.journal(sku)] == [3]
