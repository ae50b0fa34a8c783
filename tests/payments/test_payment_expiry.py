"""Issue 21: a payment whose orders expired (or were all cancelled) is closed in the same transaction,
a late attempt to pay it is a clear 409, and reconciliation leaves nothing pending past its orders."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.conftest import PG_URL
from tests.factories import buy, two_store_skus
from yinli.jobs import run_once
from yinli.orders.models import Order
from yinli.payments import service as payments
from yinli.payments.models import Payment


@pytest.fixture
def two_stores(world):
    return two_store_skus(world, 10)


def status_of(database, payment_id):
    with database.session() as s:
        return s.get(Payment, payment_id).status


def try_to_pay(client, shopper, payment_id):
    return client.post(f"/api/v1/payments/{payment_id}/pay", json={"method": "card"}, headers=shopper.headers)


def test_expiry_closes_the_payment_and_a_late_pay_gets_a_409(world, client, database, clock, settings, app, two_stores):
    sku_a, sku_b = two_stores
    s = world.shopper()
    payment = buy(world, s, [{"sku_id": sku_a, "quantity": 1}, {"sku_id": sku_b, "quantity": 1}])
    clock.advance(timedelta(minutes=settings.payment_window_minutes))
    report = run_once(database, clock, settings, app.state.gateway)
    assert report.orders.expired == 2 and report.payments_closed == 0  # closed by expiry itself
    assert status_of(database, payment["id"]) == "closed"
    r = try_to_pay(client, s, payment["id"])
    assert r.status_code == 409 and r.json()["code"] == "payment_closed"
    assert "expired" in r.json()["detail"]
    assert client.get(f"/api/v1/payments/{payment['id']}", headers=s.headers).json()["status"] == "closed"
    assert app.state.gateway.captured_fen == 0


def test_one_order_cancelled_and_the_other_expired_closes_the_payment(
    world, client, database, clock, settings, app, two_stores
):
    sku_a, sku_b = two_stores
    s = world.shopper()
    payment = buy(world, s, [{"sku_id": sku_a, "quantity": 1}, {"sku_id": sku_b, "quantity": 1}])
    first, _ = payment["order_ids"]
    assert client.post(f"/api/v1/orders/{first}/cancel", headers=s.headers).status_code == 200
    assert status_of(database, payment["id"]) == "pending"  # the other order can still be paid
    clock.advance(timedelta(minutes=settings.payment_window_minutes))
    run_once(database, clock, settings, app.state.gateway)
    assert status_of(database, payment["id"]) == "closed"


def test_cancelling_every_order_closes_the_payment(world, client, database, two_stores):
    sku_a, _ = two_stores
    s = world.shopper()
    payment = buy(world, s, [{"sku_id": sku_a, "quantity": 1}])
    assert client.post(f"/api/v1/orders/{payment['order_ids'][0]}/cancel", headers=s.headers).status_code == 200
    assert status_of(database, payment["id"]) == "closed"
    assert try_to_pay(client, s, payment["id"]).json()["code"] == "payment_closed"


def test_a_paid_payment_is_not_closed_and_one_paid_in_time_is_untouched(
    world, client, database, clock, settings, app, two_stores
):
    sku_a, _ = two_stores
    s = world.shopper()
    paid = buy(world, s, [{"sku_id": sku_a, "quantity": 1}])
    assert try_to_pay(client, s, paid["id"]).status_code == 200
    waiting = buy(world, s, [{"sku_id": sku_a, "quantity": 1}])
    run_once(database, clock, settings, app.state.gateway)
    assert (status_of(database, paid["id"]), status_of(database, waiting["id"])) == ("succeeded", "pending")


def test_reconciliation_closes_payments_left_pending_from_before(world, database, clock, settings, app, two_stores):
    """Payments left pending by expiry before it closed them: the jobs' reconciliation closes them."""
    sku_a, _ = two_stores
    s = world.shopper()
    payment = buy(world, s, [{"sku_id": sku_a, "quantity": 1}])
    clock.advance(timedelta(minutes=settings.payment_window_minutes))
    run_once(database, clock, settings, app.state.gateway)
    with database.session() as session:  # as the old expiry left it
        session.execute(update(Payment).where(Payment.id == payment["id"]).values(status="pending"))
    report = run_once(database, clock, settings, app.state.gateway)
    assert report.payments_closed == 1
    with database.session() as session:
        pending = session.scalars(select(Payment.id).where(Payment.status == "pending")).all()
        assert pending == []
        assert payments.close_unpayable(session) == 0
        assert session.get(Order, payment["order_ids"][0]).status == "cancelled"


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="races need PostgreSQL (YINLI_TEST_DATABASE_URL)")
def test_expiry_racing_late_payments_and_itself(world, app, database, clock, settings, two_stores):
    """8 payments of two orders each, due now: 8 threads try to pay while 4 run the expiry job. No
    deadlock (payment, then orders, everywhere), no charge, every order cancelled, every payment closed.
    Stock goes back in full."""
    from tests.orders.test_concurrency import race
    from yinli.flows.settle import run_order_jobs

    sku_a, sku_b = two_stores
    buyers = [world.shopper() for _ in range(8)]
    bought = [buy(world, b, [{"sku_id": sku_a, "quantity": 1}, {"sku_id": sku_b, "quantity": 1}]) for b in buyers]
    clock.advance(timedelta(minutes=settings.payment_window_minutes))

    def work(i: int, client) -> int:
        if i < 8:
            p, b = bought[i], buyers[i]
            return client.post(
                f"/api/v1/payments/{p['id']}/pay", json={"method": "card"}, headers=b.headers
            ).status_code
        with database.session() as session:
            run_order_jobs(session, clock, settings)
        return 0

    statuses = race(app, 12, work)
    assert sorted(statuses) == [0] * 4 + [409] * 8, statuses
    assert app.state.gateway.captured_fen == 0
    with database.session() as s:
        assert {s.get(Payment, p["id"]).status for p in bought} == {"closed"}
        orders = [s.get(Order, o) for p in bought for o in p["order_ids"]]
        assert {o.status for o in orders} == {"cancelled"}
    for sku in (sku_a, sku_b):
        assert world.client.get(f"/api/v1/skus/{sku}/stock").json()["available"] == 10
