"""DESIGN rule 7 under real concurrency: many threads, each with its own TestClient, against one app and
one database (SQLite serialises writers; PostgreSQL runs them side by side with row locks).

- 200 buyers race for 50 units: exactly 50 paid orders, no oversell, 150 clean 409s, books balanced;
- one Idempotency-Key sent by 10 threads at once: one payment, one set of orders, identical answers;
- one payment paid by 10 threads at once: one charge, one 200, the rest 409;
- pay racing cancel: every order ends paid-with-stock or cancelled-and-released, never charged-and-cancelled
  (once a charge is in flight the cancel is refused; the PostgreSQL deadlock between them is gone);
- racing refunds and after-sale decisions never give back more than was paid.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.factories import ADDRESS, PASSWORD, User, buy, pay, race, stock
from yinli.accounts.service import do_issue_token, do_sign_up
from yinli.core.auth import Role
from yinli.core.errors import Conflict
from yinli.inventory.models import Reservation, ReservationStatus, Stock
from yinli.orders.models import AfterSale, Order
from yinli.payments import service as payments
from yinli.payments.models import Payment, Refund

_buyers = itertools.count(1)


def shoppers(database, clock, n: int) -> list[User]:
    """n shoppers with bearer tokens, made in one transaction (the API way costs two requests each)."""
    made = []
    with database.session() as session:
        for _ in range(n):
            email = f"racer{next(_buyers)}@example.com"
            do_sign_up(
                session, clock, email=email, password=PASSWORD, display_name="买家", role=Role.SHOPPER, birth_year=1990
            )
            secret, _, user = do_issue_token(
                session, clock, email=email, password=PASSWORD, kind="api", ttl=timedelta(days=1)
            )
            made.append(User(user.id, email, "shopper", secret))
    return made


def ledger(world) -> dict[str, int]:
    r = world.client.get("/api/v1/ledger/balances", headers=world.operator.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["unbalanced_transactions"] == []
    assert sum(body["balances"].values()) == 0
    return body["balances"]  # type: ignore[no-any-return]


def levels(database, sku_id: int) -> tuple[int, int]:
    with database.session() as s:
        row = s.execute(select(Stock.on_hand, Stock.reserved).where(Stock.sku_id == sku_id)).one()
        return row.on_hand, row.reserved


def held(database, sku_id: int) -> int:
    with database.session() as s:
        return int(
            s.scalar(
                select(func.coalesce(func.sum(Reservation.quantity), 0)).where(
                    Reservation.sku_id == sku_id, Reservation.status == ReservationStatus.HELD
                )
            )
        )


def money_matches_gateway(app, balances: dict[str, int]) -> None:
    gateway = app.state.gateway
    assert gateway.captured_fen - gateway.refunded_fen == balances.get("gateway_cash", 0)


def test_200_buyers_race_for_50_units(world, app, database, clock):
    m = world.merchant()
    sku = world.product(m, price_fen=2900)["skus"][0]["id"]
    stock(world, m, sku, 50)
    buyers = shoppers(database, clock, 200)

    def buy_and_pay(i: int, client: TestClient) -> tuple[int, str | None, int | None]:
        headers = buyers[i].headers
        r = client.post(
            "/api/v1/checkout", json={"items": [{"sku_id": sku, "quantity": 1}], "address": ADDRESS}, headers=headers
        )
        if r.status_code != 201:
            return r.status_code, r.json().get("code"), None
        p = client.post(f"/api/v1/payments/{r.json()['id']}/pay", json={"method": "card"}, headers=headers)
        return p.status_code, p.json().get("status") or p.json().get("code"), p.json().get("id")

    results = race(app, 200, buy_and_pay)

    outcomes = Counter((status, what) for status, what, _ in results)
    assert outcomes == {(200, "succeeded"): 50, (409, "out_of_stock"): 150}, outcomes
    assert levels(database, sku) == (0, 0)
    assert held(database, sku) == 0
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Order).where(Order.status == "paid")) == 50
        assert s.scalar(select(func.count()).select_from(Order)) == 50  # losers left nothing behind
        assert s.scalar(select(func.count()).select_from(Payment)) == 50
    balances = ledger(world)
    with database.session() as s:
        paid_total = s.scalar(select(func.sum(Order.total_fen)).where(Order.status == "paid"))
    assert balances["gateway_cash"] == paid_total == -balances["escrow"]
    money_matches_gateway(app, balances)
    r = world.client.get(f"/api/v1/skus/{sku}/stock")
    assert r.json()["available"] == 0


def test_one_idempotency_key_sent_by_ten_threads_checks_out_once(world, app, database):
    m = world.merchant()
    skus = [s["id"] for s in world.product(m, price_fen=1500)["skus"]]
    for sku in skus:
        stock(world, m, sku, 20)
    other = world.merchant()
    sku_b = world.product(other, price_fen=2500)["skus"][0]["id"]
    stock(world, other, sku_b, 20)
    s = world.shopper()
    headers = {**s.headers, "Idempotency-Key": "checkout-storm-1"}
    body = {
        "items": [
            {"sku_id": skus[0], "quantity": 2},
            {"sku_id": skus[1], "quantity": 1},
            {"sku_id": sku_b, "quantity": 3},
        ],
        "address": ADDRESS,
    }

    responses = race(app, 10, lambda _i, c: c.post("/api/v1/checkout", json=body, headers=headers))

    assert {r.status_code for r in responses} == {201}, [r.text for r in responses]
    assert len({r.content for r in responses}) == 1  # byte-identical answers
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 9
    payment = responses[0].json()
    assert len(payment["order_ids"]) == 2  # one order per store
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Payment).where(Payment.shopper_id == s.id)) == 1
        assert session.scalar(select(func.count()).select_from(Order).where(Order.shopper_id == s.id)) == 2
    assert [levels(database, k) for k in (*skus, sku_b)] == [(20, 2), (20, 1), (20, 3)]
    # and the one payment is paid once
    assert pay(world, s, payment["id"])["status"] == "succeeded"
    assert [levels(database, k) for k in (*skus, sku_b)] == [(18, 0), (19, 0), (17, 0)]
    money_matches_gateway(app, ledger(world))


def test_ten_threads_paying_one_payment_charge_it_once(world, app, database):
    m = world.merchant()
    sku = world.product(m, price_fen=8800)["skus"][0]["id"]
    stock(world, m, sku, 5)
    s = world.shopper()
    payment = buy(world, s, [{"sku_id": sku, "quantity": 2}])

    responses = race(
        app,
        10,
        lambda _i, c: c.post(f"/api/v1/payments/{payment['id']}/pay", json={"method": "card"}, headers=s.headers),
    )

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 409: 9}, [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} <= {"payment_processing", "already_paid"}
    assert app.state.gateway.captured_fen == payment["amount"]["amount"]  # charged once
    assert levels(database, sku) == (3, 0)
    balances = ledger(world)
    assert balances["gateway_cash"] == payment["amount"]["amount"]
    money_matches_gateway(app, balances)


def test_pay_racing_cancel_never_leaves_paid_orders_without_stock(world, app, database):
    """For each of 8 orders one thread pays while another cancels: whoever wins, the end state is whole.
    (On PostgreSQL this deadlocked: apply locked reservations, stock, then the order; cancel the reverse.)"""
    m = world.merchant()
    sku = world.product(m, price_fen=3300)["skus"][0]["id"]
    stock(world, m, sku, 40)
    buyers = [world.shopper() for _ in range(8)]
    bought = [buy(world, b, [{"sku_id": sku, "quantity": 2}]) for b in buyers]

    def work(i: int, client: TestClient) -> int:
        b, p = buyers[i // 2], bought[i // 2]
        if i % 2 == 0:
            return client.post(
                f"/api/v1/payments/{p['id']}/pay", json={"method": "card"}, headers=b.headers
            ).status_code
        return client.post(f"/api/v1/orders/{p['order_ids'][0]}/cancel", headers=b.headers).status_code

    statuses = race(app, 16, work)

    assert all(code in (200, 409) for code in statuses), statuses
    paid = 0
    with database.session() as s:
        for p in bought:
            order = s.get(Order, p["order_ids"][0])
            states = {r.status for r in s.scalars(select(Reservation).where(Reservation.order_id == order.id))}
            if order.status == "paid":
                paid += 1
                assert states == {ReservationStatus.COMMITTED} and order.refunded_fen == 0
            else:  # the cancel won: the payment never reached the gateway, and nothing is left to pay
                assert order.status == "cancelled" and states == {ReservationStatus.RELEASED}
                assert order.refunded_fen == 0 and s.get(Payment, p["id"]).status == "closed"
    assert Counter(statuses) == {200: 8, 409: 8}  # per order exactly one of pay and cancel succeeded
    assert levels(database, sku) == (40 - 2 * paid, 0)
    money_matches_gateway(app, ledger(world))


@pytest.fixture
def paid(world, client):
    """A paid order of 2 units at ¥99 (over the auto-approval limit), with its merchant and shopper."""
    m = world.merchant()
    sku = world.product(m, price_fen=9900)["skus"][0]["id"]
    stock(world, m, sku, 5)
    s = world.shopper()
    payment = pay(world, s, buy(world, s, [{"sku_id": sku, "quantity": 2}])["id"])
    order = client.get(f"/api/v1/orders/{payment['order_ids'][0]}", headers=s.headers).json()
    return m, s, order, sku


def test_ten_approvals_of_one_refund_refund_once(world, app, client, database, paid):
    m, s, order, sku = paid
    r = client.post(
        f"/api/v1/orders/{order['id']}/after-sales", json={"kind": "refund_only", "reason": "不要了"}, headers=s.headers
    )
    assert r.status_code == 201 and r.json()["status"] == "requested"
    case = r.json()

    responses = race(
        app,
        10,
        lambda _i, c: c.post(
            f"/api/v1/after-sales/{case['id']}/decide", json={"decision": "approve"}, headers=m.headers
        ),
    )

    assert Counter(r.status_code for r in responses) == {200: 1, 409: 9}, [r.text for r in responses]
    total = order["total"]["amount"]
    with database.session() as session:
        assert session.get(Order, order["id"]).refunded_fen == total
        assert session.scalar(select(func.count()).select_from(Refund).where(Refund.order_id == order["id"])) == 1
    assert app.state.gateway.refunded_fen == total
    assert levels(database, sku) == (5, 0)  # both units back on the shelf, once
    balances = ledger(world)
    assert balances.get("gateway_cash", 0) == 0 and balances.get("escrow", 0) == 0
    money_matches_gateway(app, balances)


def test_racing_after_sale_requests_refund_the_order_at_most_once(world, app, client, database):
    """Ten auto-approved whole-order refund requests at once (small amount): the money goes back once."""
    m = world.merchant()
    sku = world.product(m, price_fen=1200)["skus"][0]["id"]
    stock(world, m, sku, 5)
    s = world.shopper()
    payment = pay(world, s, buy(world, s, [{"sku_id": sku, "quantity": 3}])["id"])
    order_id = payment["order_ids"][0]

    def ask(i: int, c: TestClient) -> Any:
        return c.post(
            f"/api/v1/orders/{order_id}/after-sales",
            json={"kind": "refund_only", "reason": f"第{i}次"},
            headers=s.headers,
        )

    responses = race(app, 10, ask)

    assert all(r.status_code in (201, 409) for r in responses), [r.text for r in responses]
    assert sum(r.status_code == 201 for r in responses) >= 1
    with database.session() as session:
        order = session.get(Order, order_id)
        assert order.status == "refunded" and order.refunded_fen == order.total_fen
        refunds = session.scalars(select(Refund).where(Refund.order_id == order_id)).all()
        assert len(refunds) == 1 and refunds[0].amount_fen == order.total_fen
        cases = session.scalars(select(AfterSale).where(AfterSale.order_id == order_id)).all()
        assert [c.status for c in cases].count("refunded") == 1
        total = order.total_fen
    assert app.state.gateway.refunded_fen == total
    assert levels(database, sku) == (5, 0)
    money_matches_gateway(app, ledger(world))


def test_racing_partial_refunds_never_exceed_what_was_paid(world, app, database, clock, paid):
    """Ten threads each refund 30% of one order through the service: three fit, seven are refused."""
    _, _, order, _ = paid
    total = order["total"]["amount"]
    part = total * 3 // 10
    gateway = app.state.gateway
    barrier = threading.Barrier(10)

    def refund(_: int) -> str:
        barrier.wait()
        try:
            with database.session() as session:
                row = session.get(Order, order["id"])
                payments.do_refund(session, clock, gateway, row, part, "goodwill")
            return "refunded"
        except Conflict as exc:
            return exc.code

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = Counter(pool.map(refund, range(10)))

    assert outcomes == {"refunded": 3, "over_refund": 7}, outcomes
    with database.session() as session:
        assert session.get(Order, order["id"]).refunded_fen == 3 * part
        refunded = session.scalar(select(func.sum(Refund.amount_fen)).where(Refund.order_id == order["id"]))
        assert refunded == 3 * part <= total
    assert gateway.refunded_fen == 3 * part
    balances = ledger(world)
    assert balances["escrow"] == -(total - 3 * part)
    money_matches_gateway(app, balances)


def test_shipping_racing_a_refund_request_keeps_gateway_and_ledger_agreed(world, app, database):
    """The merchant ships while the shopper asks for an (auto-approved) refund: either may win, but a
    refund the books do not show must never reach the gateway."""
    m = world.merchant()
    sku = world.product(m, price_fen=1000)["skus"][0]["id"]
    stock(world, m, sku, 50)
    buyers = [world.shopper() for _ in range(10)]  # each in good standing: their request is auto-approved
    order_ids = [pay(world, b, buy(world, b, [{"sku_id": sku, "quantity": 1}])["id"])["order_ids"][0] for b in buyers]

    def work(i: int, c: TestClient) -> int:
        order_id, s = order_ids[i // 2], buyers[i // 2]
        if i % 2 == 0:
            body = {"carrier": "顺丰", "tracking_no": f"SF{i:06d}"}
            return c.post(f"/api/v1/orders/{order_id}/ship", json=body, headers=m.headers).status_code
        body = {"kind": "refund_only", "reason": "拍错了"}
        return c.post(f"/api/v1/orders/{order_id}/after-sales", json=body, headers=s.headers).status_code

    statuses = race(app, 20, work)

    assert all(code in (200, 201, 409) for code in statuses), statuses
    with database.session() as session:
        for order_id in order_ids:
            order = session.get(Order, order_id)
            assert order.status in ("shipped", "refunded")
            assert order.refunded_fen == (order.total_fen if order.status == "refunded" else 0)
    money_matches_gateway(app, ledger(world))
