"""A crash between the steps of paying leaves no paid order without stock and no stock held forever.

A child Python process checks out and pays against the same database, then is killed (SIGKILL) at a
chosen step: after claiming the payment, after the gateway charged it, or in the middle of the apply
transaction. The gateway keeps its books in a file, so what it saw outlives the child, as a real
provider's would. The parent (this test) then lets time pass and runs the background jobs
(`yinli.jobs.run_once`), and checks that they finish the job: a charge the gateway never saw fails and
the hold is released; a charge it took is applied, or refunded if the hold expired meanwhile.

The asynchronous path (the gateway answers "pending" and calls back later) is covered in-process.
"""

from __future__ import annotations

import fcntl
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.factories import buy, stock
from yinli.flows import charge
from yinli.inventory.models import Reservation, ReservationStatus, Stock
from yinli.jobs import STUCK_PAYMENT_AFTER, run_once
from yinli.orders.models import Order
from yinli.payments import ledger
from yinli.payments.gateway import GatewayResult
from yinli.payments.models import JournalEntry, Payment, Refund

ROOT = Path(__file__).resolve().parents[2]


class FileGateway:
    """A simulated gateway whose books live in a JSON file (flock-guarded), shared across processes.

    Every charge succeeds; keys are remembered, so a repeated charge or refund moves money once.
    """

    name = "simulated"

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    @contextmanager
    def _books(self) -> Iterator[dict[str, Any]]:
        with open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            books = (
                json.loads(self.path.read_text())
                if self.path.exists()
                else {"charges": {}, "refunds": {}, "captured": 0, "refunded": 0}
            )
            yield books
            self.path.write_text(json.dumps(books))

    def charge(self, key: str, amount_fen: int, currency: str, method: str) -> GatewayResult:
        with self._books() as books:
            if key not in books["charges"]:
                books["charges"][key] = ["succeeded", f"file-ch-{len(books['charges']) + 1}", None]
                books["captured"] += amount_fen
            return GatewayResult(*books["charges"][key])

    def refund(self, key: str, charge_reference: str, amount_fen: int, currency: str) -> GatewayResult:
        with self._books() as books:
            if key not in books["refunds"]:
                books["refunds"][key] = ["succeeded", f"file-rf-{len(books['refunds']) + 1}", None]
                books["refunded"] += amount_fen
            return GatewayResult(*books["refunds"][key])

    def lookup(self, key: str) -> GatewayResult | None:
        with self._books() as books:
            found = books["charges"].get(key)
            return None if found is None else GatewayResult(*found)

    @property
    def captured_fen(self) -> int:
        with self._books() as books:
            return int(books["captured"])

    @property
    def refunded_fen(self) -> int:
        with self._books() as books:
            return int(books["refunded"])


# The child: checkout (at `now`), claim (at `now + claim_after` seconds), then die hard at `die_at`.
CHILD = """
import os, signal, sys
from datetime import datetime, timedelta
from yinli.checkout.service import LineRequest, do_checkout
from yinli.core.auth import Actor, Role
from yinli.core.clock import SimulatedClock
from yinli.core.db import Database
from yinli.core.settings import Settings
from yinli.flows.charge import charge_applied
from yinli.payments.service import do_claim_payment
from tests.factories import ADDRESS
from tests.payments.test_crash import FileGateway

url, now, claim_after, shopper_id, sku_id, quantity, books, data_dir, die_at = sys.argv[1:]
database = Database(url)
clock = SimulatedClock(datetime.fromisoformat(now))
settings = Settings(_env_file=None, data_dir=data_dir, database_url=url, jobs_interval_seconds=0)
gateway = FileGateway(books)
shopper = Actor(int(shopper_id), Role.SHOPPER)

def die():
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)

with database.session() as session:
    payment, _ = do_checkout(
        session, clock, settings, shopper, lines=[LineRequest(int(sku_id), int(quantity))], address=ADDRESS
    )
    payment_id = payment.id
print(payment_id, flush=True)
clock.advance(timedelta(seconds=float(claim_after)))
with database.session() as session:
    payment = do_claim_payment(session, clock, gateway, shopper, payment_id, "card")
    key, amount = payment.gateway_key, payment.amount_fen
if die_at == "claimed":
    die()
result = gateway.charge(key, amount, "CNY", "card")
if die_at == "charged":
    die()
session = database.sessions()
session.begin()
charge_applied(session, clock, gateway, payment_id, result)
session.flush()  # stock committed, order paid, ledger booked ... but never committed
if die_at == "applying":
    die()
raise SystemExit("die_at must be claimed, charged or applying")
"""


def crash_while_paying(
    database, clock, tmp_path, shopper, sku: int, quantity: int, *, die_at: str, claim_after: timedelta = timedelta(0)
) -> int:
    """Run the child; it must die by SIGKILL. Returns the id of the payment it was making."""
    args = [str(a) for a in (database.url, clock.now().isoformat(), claim_after.total_seconds())]
    args += [str(a) for a in (shopper.id, sku, quantity, tmp_path / "gateway.json", tmp_path, die_at)]
    child = subprocess.run(
        [sys.executable, "-c", CHILD, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    return int(child.stdout.split()[0])


@pytest.fixture
def shelf(world):
    """A merchant's SKU at ¥59 with 10 on hand, and a shopper."""
    m = world.merchant()
    sku = world.product(m, price_fen=5900)["skus"][0]["id"]
    stock(world, m, sku, 10)
    return sku, world.shopper()


def snapshot(database, payment_id: int, sku: int) -> dict[str, Any]:
    with database.session() as s:
        payment = s.get(Payment, payment_id)
        order = s.scalars(select(Order).where(Order.payment_id == payment_id)).one()
        level = s.execute(select(Stock.on_hand, Stock.reserved).where(Stock.sku_id == sku)).one()
        return {
            "payment": payment.status,
            "order": order.status,
            "total": order.total_fen,
            "refunded": order.refunded_fen,
            "stock": (level.on_hand, level.reserved),
            "holds": sorted(r.status for r in s.scalars(select(Reservation).where(Reservation.order_id == order.id))),
            "entries": s.scalar(select(func.count()).select_from(JournalEntry)),
        }


def assert_whole(database, gateway) -> dict[str, int]:
    """The invariants a crash must not break: every paid order's stock left the shelf, no hold outlives
    its order's chance to pay, the books balance, and the gateway agrees with them."""
    with database.session() as s:
        for order in s.scalars(select(Order)):
            statuses = {r.status for r in s.scalars(select(Reservation).where(Reservation.order_id == order.id))}
            if order.paid_at is not None:
                assert statuses == {ReservationStatus.COMMITTED}, order.id
            if order.status != "created":
                assert ReservationStatus.HELD not in statuses, order.id
            assert 0 <= order.refunded_fen <= order.total_fen
        assert ledger.unbalanced_transactions(s) == []
        balances = ledger.balances(s)
        reserved = s.scalar(select(func.sum(Stock.reserved)))
        held = s.scalar(
            select(func.coalesce(func.sum(Reservation.quantity), 0)).where(Reservation.status == ReservationStatus.HELD)
        )
        assert reserved == held
    assert sum(balances.values()) == 0
    assert gateway.captured_fen - gateway.refunded_fen == balances.get(ledger.GATEWAY_CASH, 0)
    return balances


def test_killed_after_claiming_the_charge_fails_and_the_hold_is_released(
    world, database, clock, settings, tmp_path, shelf
):
    sku, shopper = shelf
    gateway = FileGateway(tmp_path / "gateway.json")
    payment_id = crash_while_paying(database, clock, tmp_path, shopper, sku, 2, die_at="claimed")

    # the corpse: the payment is stuck in processing, two units held, nothing booked
    stuck = snapshot(database, payment_id, sku)
    assert {k: v for k, v in stuck.items() if k != "total"} == {
        "payment": "processing",
        "order": "created",
        "refunded": 0,
        "stock": (10, 2),
        "holds": ["held"],
        "entries": 0,
    }
    assert gateway.lookup("anything") is None and gateway.captured_fen == 0
    run_once(database, clock, settings, gateway)  # too early for the jobs: nothing changes
    assert snapshot(database, payment_id, sku) == stuck

    clock.advance(timedelta(minutes=settings.payment_window_minutes) + STUCK_PAYMENT_AFTER)
    report = run_once(database, clock, settings, gateway)
    assert report.payments_reconciled == 1

    after = snapshot(database, payment_id, sku)
    assert after["payment"] == "failed"  # the gateway never saw the charge
    assert after["order"] == "cancelled" and after["stock"] == (10, 0) and after["holds"] == ["released"]
    assert after["entries"] == 0
    assert world.client.get(f"/api/v1/skus/{sku}/stock").json()["available"] == 10
    assert_whole(database, gateway)
    # running the jobs again changes nothing
    run_once(database, clock, settings, gateway)
    assert snapshot(database, payment_id, sku) == after


def test_killed_after_the_gateway_charged_reconcile_applies_the_charge(
    world, database, clock, settings, tmp_path, shelf
):
    sku, shopper = shelf
    gateway = FileGateway(tmp_path / "gateway.json")
    payment_id = crash_while_paying(database, clock, tmp_path, shopper, sku, 2, die_at="charged")

    stuck = snapshot(database, payment_id, sku)
    assert (stuck["payment"], stuck["order"], stuck["stock"], stuck["entries"]) == ("processing", "created", (10, 2), 0)
    assert gateway.captured_fen == stuck["total"]  # the money moved, the books do not know yet

    clock.advance(STUCK_PAYMENT_AFTER + timedelta(seconds=1))  # stuck, but the hold has not expired
    assert run_once(database, clock, settings, gateway).payments_reconciled == 1

    after = snapshot(database, payment_id, sku)
    assert (after["payment"], after["order"], after["stock"], after["holds"]) == (
        "succeeded",
        "paid",
        (8, 0),
        ["committed"],
    )
    balances = assert_whole(database, gateway)
    assert balances[ledger.GATEWAY_CASH] == stuck["total"] == -balances[ledger.ESCROW]
    assert gateway.refunded_fen == 0


def test_a_charge_that_lands_after_the_hold_expired_is_refunded(world, database, clock, settings, tmp_path, shelf):
    """The child claims late in the payment window, the gateway charges, the child dies. The expiry job
    releases the stock before reconciliation sees the charge: the money goes straight back."""
    sku, shopper = shelf
    gateway = FileGateway(tmp_path / "gateway.json")
    window = timedelta(minutes=settings.payment_window_minutes)
    claim_after = window - timedelta(minutes=1)
    payment_id = crash_while_paying(
        database, clock, tmp_path, shopper, sku, 3, die_at="charged", claim_after=claim_after
    )
    total = snapshot(database, payment_id, sku)["total"]
    assert gateway.captured_fen == total

    # the hold expires (the payment is not yet "stuck": it was claimed a minute and a half ago)
    clock.advance(claim_after + STUCK_PAYMENT_AFTER - timedelta(seconds=30))
    report = run_once(database, clock, settings, gateway)
    assert report.payments_reconciled == 0 and report.orders.expired == 1
    expired = snapshot(database, payment_id, sku)
    assert (expired["payment"], expired["order"], expired["stock"], expired["holds"]) == (
        "processing",
        "cancelled",
        (10, 0),
        ["released"],
    )

    # now reconciliation finds the charge: it is booked and refunded at once
    clock.advance(timedelta(minutes=1))
    assert run_once(database, clock, settings, gateway).payments_reconciled == 1
    after = snapshot(database, payment_id, sku)
    assert (after["payment"], after["order"], after["stock"]) == ("succeeded", "cancelled", (10, 0))
    assert after["refunded"] == total
    assert gateway.refunded_fen == total
    balances = assert_whole(database, gateway)
    assert balances.get(ledger.GATEWAY_CASH, 0) == 0 and balances.get(ledger.ESCROW, 0) == 0
    with database.session() as s:
        refund = s.scalars(select(Refund).where(Refund.payment_id == payment_id)).one()
        assert (refund.amount_fen, refund.reason) == (total, "unfulfillable")


def test_killed_in_the_middle_of_applying_nothing_half_done_is_visible(
    world, database, clock, settings, tmp_path, shelf
):
    """The child dies inside the apply transaction (stock committed, order paid, ledger booked, all
    flushed but not committed): the database shows none of it, and reconciliation does it properly."""
    sku, shopper = shelf
    gateway = FileGateway(tmp_path / "gateway.json")
    payment_id = crash_while_paying(database, clock, tmp_path, shopper, sku, 1, die_at="applying")

    stuck = snapshot(database, payment_id, sku)
    assert (stuck["payment"], stuck["order"], stuck["stock"], stuck["holds"], stuck["entries"]) == (
        "processing",
        "created",
        (10, 1),
        ["held"],
        0,
    )
    clock.advance(STUCK_PAYMENT_AFTER + timedelta(seconds=1))
    assert run_once(database, clock, settings, gateway).payments_reconciled == 1
    after = snapshot(database, payment_id, sku)
    assert (after["payment"], after["order"], after["stock"]) == ("succeeded", "paid", (9, 0))
    assert_whole(database, gateway)
    # the dead child's locks are gone: the same stock row takes new holds as usual
    buy(world, shopper, [{"sku_id": sku, "quantity": 9}])
    assert snapshot(database, payment_id, sku)["stock"] == (9, 9)


# --- the asynchronous path: "pending" now, the gateway's callback later -----------------------------------


def pay_pending(world, app, shopper, sku: int, quantity: int) -> dict[str, Any]:
    app.state.gateway.pending_next()
    payment = buy(world, shopper, [{"sku_id": sku, "quantity": quantity}])
    r = world.client.post(f"/api/v1/payments/{payment['id']}/pay", json={"method": "card"}, headers=shopper.headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "processing"
    return r.json()  # type: ignore[no-any-return]


def test_a_pending_charge_completes_by_the_gateways_callback(world, app, database, clock, settings, shelf):
    sku, shopper = shelf
    gateway = app.state.gateway
    payment = pay_pending(world, app, shopper, sku, 2)
    assert snapshot(database, payment["id"], sku)["stock"] == (10, 2)  # still held while the gateway thinks

    clock.advance(STUCK_PAYMENT_AFTER + timedelta(seconds=1))
    assert run_once(database, clock, settings, gateway).payments_reconciled == 0  # the gateway says "pending"

    handle = charge.gateway_callback(database, clock, gateway)
    assert gateway.deliver_callbacks(handle) == 1
    after = snapshot(database, payment["id"], sku)
    assert (after["payment"], after["order"], after["stock"]) == ("succeeded", "paid", (8, 0))
    balances = assert_whole(database, gateway)
    assert balances[ledger.GATEWAY_CASH] == payment["amount"]["amount"]

    # a duplicated notification changes nothing
    with database.session() as s:
        key = s.get(Payment, payment["id"]).gateway_key
    handle(key, gateway.lookup(key))
    assert snapshot(database, payment["id"], sku) == after
    assert assert_whole(database, gateway) == balances


def test_a_declined_callback_cancels_and_releases(world, app, database, clock, settings, shelf):
    sku, shopper = shelf
    gateway = app.state.gateway
    payment = pay_pending(world, app, shopper, sku, 4)
    assert gateway.deliver_callbacks(charge.gateway_callback(database, clock, gateway), succeed=False) == 1
    after = snapshot(database, payment["id"], sku)
    assert (after["payment"], after["order"], after["stock"], after["entries"]) == ("failed", "cancelled", (10, 0), 0)
    assert_whole(database, gateway)


def test_a_callback_after_the_hold_expired_refunds(world, app, database, clock, settings, shelf):
    sku, shopper = shelf
    gateway = app.state.gateway
    payment = pay_pending(world, app, shopper, sku, 3)
    total = payment["amount"]["amount"]

    clock.advance(timedelta(minutes=settings.payment_window_minutes, seconds=1))
    report = run_once(database, clock, settings, gateway)
    assert report.orders.expired == 1 and report.payments_reconciled == 0
    assert snapshot(database, payment["id"], sku)["stock"] == (10, 0)  # released while the gateway dithered

    assert gateway.deliver_callbacks(charge.gateway_callback(database, clock, gateway)) == 1
    after = snapshot(database, payment["id"], sku)
    assert (after["payment"], after["order"], after["stock"]) == ("succeeded", "cancelled", (10, 0))
    assert after["refunded"] == total
    assert gateway.captured_fen == total == gateway.refunded_fen
    balances = assert_whole(database, gateway)
    assert balances.get(ledger.GATEWAY_CASH, 0) == 0 and balances.get(ledger.ESCROW, 0) == 0
    r = world.client.get(f"/api/v1/orders/{payment['order_ids'][0]}", headers=shopper.headers)
    assert r.json()["status"] == "cancelled" and r.json()["refunded"]["amount"] == total
