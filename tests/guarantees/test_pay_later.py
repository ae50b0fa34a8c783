"""Pay later (先用后付) through the API: nothing captured at checkout, a receivable booked, the bill
charged at delivery confirmation or N days after delivery, dunning to overdue, refunds of unbilled
orders cancelling the receivable, and opt-outs and the limit refused with a clear 4xx."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from tests.factories import ADDRESS, User, World, buy, money_back, pay, stock
from yinli.guarantees.models import PayLaterBill
from yinli.jobs import run_once
from yinli.merchants.models import Store
from yinli.payments import ledger
from yinli.payments.models import Payment


def journal_ok(database) -> dict[str, int]:
    with database.session() as s:
        assert ledger.unbalanced_transactions(s) == []
        balances = ledger.balances(s)
        assert sum(balances.values()) == 0
        return balances


def shop(world: World, price_fen: int = 3900, units: int = 20, **extra: Any) -> tuple[User, int]:
    m = world.merchant()
    sku = world.product(m, price_fen=price_fen, **extra)["skus"][0]["id"]
    stock(world, m, sku, units)
    return m, sku


def pay_later(world: World, shopper: User, payment_id: int):
    return world.client.post(
        f"/api/v1/payments/{payment_id}/pay", json={"method": "pay_later"}, headers=shopper.headers
    )


def credit(world: World, shopper: User) -> dict[str, Any]:
    r = world.client.get("/api/v1/me/credit", headers=shopper.headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def ship(world: World, merchant: User, order_id: int) -> None:
    body = {"carrier": "顺丰", "tracking_no": f"SF{order_id:08d}"}
    r = world.client.post(f"/api/v1/orders/{order_id}/ship", json=body, headers=merchant.headers)
    assert r.status_code == 200, r.text


def confirm(world: World, shopper: User, order_id: int) -> None:
    r = world.client.post(f"/api/v1/orders/{order_id}/confirm-delivery", headers=shopper.headers)
    assert r.status_code == 200, r.text


def test_pay_later_captures_nothing_and_books_a_receivable(world, app, database):
    _m, sku = shop(world)
    s = world.shopper()
    payment = buy(world, s, [{"sku_id": sku, "quantity": 2}])
    r = pay_later(world, s, payment["id"])
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "succeeded" and r.json()["method"] == "pay_later"
    assert app.state.gateway.captured_fen == 0
    order_id = payment["order_ids"][0]
    total = payment["amount"]["amount"]
    balances = journal_ok(database)
    assert balances["pay_later_receivable"] == total and "gateway_cash" not in balances
    with database.session() as session:
        assert ledger.order_escrow(session, order_id) == -total
    c = credit(world, s)
    assert c["limit"]["amount"] == 50_000 and c["room"]["amount"] == 50_000 - total
    assert [(b["order_id"], b["status"], b["amount"]["amount"]) for b in c["bills"]] == [(order_id, "open", total)]


def test_the_bill_is_charged_at_delivery_confirmation(world, app, database):
    m, sku = shop(world)
    s = world.shopper()
    payment = buy(world, s, [{"sku_id": sku, "quantity": 1}])
    pay_later(world, s, payment["id"])
    order_id, total = payment["order_ids"][0], payment["amount"]["amount"]
    ship(world, m, order_id)
    assert app.state.gateway.captured_fen == 0
    confirm(world, s, order_id)
    assert app.state.gateway.captured_fen == total
    c = credit(world, s)
    assert c["bills"][0]["status"] == "paid" and c["owed"]["amount"] == 0
    assert c["limit"]["amount"] == 50_000 + 20_000  # paid on time: the limit grew
    balances = journal_ok(database)
    assert balances["pay_later_receivable"] == 0 and balances["gateway_cash"] == total


def test_the_bill_is_charged_by_the_jobs_n_days_after_delivery(world, app, database, clock, settings):
    m, sku = shop(world)
    s = world.shopper()
    payment = buy(world, s, [{"sku_id": sku, "quantity": 1}])
    pay_later(world, s, payment["id"])
    order_id, total = payment["order_ids"][0], payment["amount"]["amount"]
    ship(world, m, order_id)
    clock.advance(timedelta(days=settings.auto_deliver_days, minutes=1))
    run_once(database, clock, settings, app.state.gateway)  # auto-delivered, not billed yet
    assert credit(world, s)["bills"][0]["status"] == "open" and app.state.gateway.captured_fen == 0
    clock.advance(timedelta(days=settings.pay_later_bill_after_days, minutes=1))
    report = run_once(database, clock, settings, app.state.gateway)
    assert report.pay_later_bills == 1
    assert credit(world, s)["bills"][0]["status"] == "paid" and app.state.gateway.captured_fen == total
    journal_ok(database)


def test_a_declined_bill_goes_overdue_blocks_pay_later_until_paid(world, app, database, clock, settings):
    m, sku = shop(world)
    s = world.shopper()
    payment = buy(world, s, [{"sku_id": sku, "quantity": 1}])
    pay_later(world, s, payment["id"])
    order_id = payment["order_ids"][0]
    ship(world, m, order_id)
    app.state.gateway.fail_next(settings.pay_later_max_attempts)
    confirm(world, s, order_id)  # declined: the confirmation stands, the bill is in dunning
    bill = credit(world, s)["bills"][0]
    assert bill["status"] == "failed" and bill["attempts"] == 1
    for attempt in range(2, settings.pay_later_max_attempts + 1):
        run_once(database, clock, settings, app.state.gateway)  # not yet time to retry
        assert credit(world, s)["bills"][0]["attempts"] == attempt - 1
        clock.advance(timedelta(days=settings.pay_later_retry_days, minutes=1))
        run_once(database, clock, settings, app.state.gateway)
        assert credit(world, s)["bills"][0]["attempts"] == attempt
    c = credit(world, s)
    assert c["bills"][0]["status"] == "overdue" and c["standing"] == "overdue" and not c["available"]
    assert c["room"]["amount"] == 0

    # checkout with pay later is refused, and nothing changes
    second = buy(world, s, [{"sku_id": sku, "quantity": 1}])
    before = journal_ok(database)
    r = pay_later(world, s, second["id"])
    assert r.status_code == 409 and r.json()["code"] == "pay_later_overdue", r.text
    assert journal_ok(database) == before
    with database.session() as session:
        assert session.get(Payment, second["id"]).status == "pending"

    # paying the overdue bill clears it
    r = world.client.post(f"/api/v1/me/credit/bills/{bill['id']}/pay", headers=s.headers)
    assert r.status_code == 200 and r.json()["status"] == "paid", r.text
    c = credit(world, s)
    assert c["standing"] == "good" and c["available"] and c["limit"]["amount"] == 50_000  # not on time: no growth
    assert pay_later(world, s, second["id"]).status_code == 200
    journal_ok(database)


def test_paying_a_bill_that_is_not_due_or_someone_elses_is_refused(world, app):
    _m, sku = shop(world)
    s, other = world.shopper(), world.shopper()
    payment = buy(world, s, [{"sku_id": sku, "quantity": 1}])
    pay_later(world, s, payment["id"])
    bill_id = credit(world, s)["bills"][0]["id"]
    r = world.client.post(f"/api/v1/me/credit/bills/{bill_id}/pay", headers=s.headers)
    assert r.status_code == 409 and r.json()["code"] == "bill_not_payable"
    r = world.client.post(f"/api/v1/me/credit/bills/{bill_id}/pay", headers=other.headers)
    assert r.status_code == 404
    assert world.client.get("/api/v1/me/credit").status_code == 401
    assert app.state.gateway.captured_fen == 0


def test_refund_of_an_unbilled_order_cancels_the_receivable(world, app, database):
    m, sku = shop(world)
    s = world.shopper()
    payment = buy(world, s, [{"sku_id": sku, "quantity": 2}])
    pay_later(world, s, payment["id"])
    order_id, total = payment["order_ids"][0], payment["amount"]["amount"]
    r = world.client.get(f"/api/v1/orders/{order_id}", headers=s.headers)
    line = r.json()["lines"][0]
    money_back(world, s, m, order_id, "refund_only", [(line["id"], 1)])  # one of two units, before shipping
    bill = credit(world, s)["bills"][0]
    assert bill["status"] == "open" and 0 < bill["amount"]["amount"] < total
    assert app.state.gateway.refunded_fen == 0 and app.state.gateway.captured_fen == 0
    balances = journal_ok(database)
    assert balances["pay_later_receivable"] == bill["amount"]["amount"]
    money_back(world, s, m, order_id, "refund_only", None)  # the rest
    c = credit(world, s)
    assert c["bills"][0]["status"] == "cancelled" and c["bills"][0]["amount"]["amount"] == 0
    assert c["room"]["amount"] == 50_000
    assert app.state.gateway.refunded_fen == 0
    balances = journal_ok(database)
    assert balances.get("pay_later_receivable", 0) == 0
    with database.session() as session:
        assert ledger.order_escrow(session, order_id) == 0


def test_refund_after_the_bill_is_paid_is_cash(world, app, database):
    m, sku = shop(world)
    s = world.shopper()
    payment = buy(world, s, [{"sku_id": sku, "quantity": 1}])
    pay_later(world, s, payment["id"])
    order_id, total = payment["order_ids"][0], payment["amount"]["amount"]
    ship(world, m, order_id)
    confirm(world, s, order_id)
    money_back(world, s, m, order_id, "return_refund", None)
    assert app.state.gateway.refunded_fen > 0
    assert credit(world, s)["bills"][0]["status"] == "paid"
    balances = journal_ok(database)
    assert balances["gateway_cash"] == total - app.state.gateway.refunded_fen


def test_opted_out_product_or_store_is_refused_and_nothing_changes(world, app, database):
    _m, sku = shop(world, pay_later=False)
    s = world.shopper()
    payment = buy(world, s, [{"sku_id": sku, "quantity": 1}])
    r = pay_later(world, s, payment["id"])
    assert r.status_code == 409 and r.json()["code"] == "pay_later_not_offered", r.text
    assert "not sold on pay later" in r.json()["detail"]
    m2, sku2 = shop(world)
    with database.session() as session:
        session.execute(update(Store).where(Store.id == m2.store_id).values(pay_later=False))
    payment2 = buy(world, s, [{"sku_id": sku2, "quantity": 1}])
    r = pay_later(world, s, payment2["id"])
    assert r.status_code == 409 and r.json()["code"] == "pay_later_not_offered"
    assert f"#{m2.store_id}" in r.json()["detail"]
    with database.session() as session:
        assert session.scalars(select(PayLaterBill)).all() == []
        assert {session.get(Payment, p["id"]).status for p in (payment, payment2)} == {"pending"}
    assert ledger_empty(database)
    assert pay(world, s, payment["id"])["status"] == "succeeded"  # a card still works


def ledger_empty(database) -> bool:
    with database.session() as session:
        return ledger.balances(session) == {}


def test_over_the_limit_is_refused_and_nothing_changes(world, app, database):
    _m, sku = shop(world, price_fen=30_000)
    s = world.shopper()
    first = buy(world, s, [{"sku_id": sku, "quantity": 1}])
    assert pay_later(world, s, first["id"]).status_code == 200
    before = journal_ok(database)
    second = buy(world, s, [{"sku_id": sku, "quantity": 1}])
    r = pay_later(world, s, second["id"])
    assert r.status_code == 409 and r.json()["code"] == "pay_later_over_limit", r.text
    assert journal_ok(database) == before
    with database.session() as session:
        assert session.get(Payment, second["id"]).status == "pending"
        assert len(session.scalars(select(PayLaterBill)).all()) == 1


def test_frequent_refunders_lose_pay_later(world, app, database, settings):
    m, sku = shop(world, price_fen=1000)
    s = world.shopper()
    for _ in range(settings.pay_later_refund_min_orders):
        payment = buy(world, s, [{"sku_id": sku, "quantity": 1}])
        pay(world, s, payment["id"])
        money_back(world, s, m, payment["order_ids"][0], "refund_only", None)
    c = credit(world, s)
    assert not c["available"] and c["room"]["amount"] == 0
    payment = buy(world, s, [{"sku_id": sku, "quantity": 1}])
    r = pay_later(world, s, payment["id"])
    assert r.status_code == 409 and r.json()["code"] == "pay_later_lost"
    r = world.client.post(
        "/api/v1/checkout", json={"items": [{"sku_id": sku, "quantity": 1}], "address": ADDRESS}, headers=s.headers
    )
    assert r.status_code == 201


def test_ops_totals_and_store_costs_read_the_ledger(world, app, database):
    from yinli.guarantees import credit as credit_service

    m, sku = shop(world)
    s = world.shopper()
    payment = buy(world, s, [{"sku_id": sku, "quantity": 1}])
    pay_later(world, s, payment["id"])
    order_id, total = payment["order_ids"][0], payment["amount"]["amount"]
    ship(world, m, order_id)
    confirm(world, s, order_id)
    with database.session() as session:
        totals = credit_service.ops_totals(session)
        assert totals["pay_later_advanced_fen"] == total and totals["pay_later_billed_fen"] == total
        assert totals["pay_later_receivable_fen"] == 0 and totals["pay_later_cancelled_fen"] == 0
        assert credit_service.store_costs(session, m.store_id) == {
            "pay_later_cost_fen": 0,
            "pay_later_sales_fen": total,
        }
