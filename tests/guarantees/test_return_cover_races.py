"""Return-shipping cover under concurrency (PostgreSQL: SQLite serialises writers): receiving a return
while the catch-up job runs, and catch-up jobs racing each other on a missed payout, pay the postage once."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.factories import race, race_on_postgres
from tests.guarantees.test_return_cover import POSTAGE, _fail_postage, balanced, delivered_order, txns
from yinli.guarantees import return_cover
from yinli.guarantees.models import ReturnCoverPayout

N = 4


def returned_not_received(world):  # type: ignore[no-untyped-def]
    """A covered delivered order whose return is on its way back (approved, shipped)."""
    m, s, order_id = delivered_order(world)
    c = world.client
    r = c.post(f"/api/v1/orders/{order_id}/after-sales", json={"kind": "return_refund", "reason": "不合适"},
               headers=s.headers)  # fmt: skip
    assert r.status_code == 201, r.text
    case = r.json()
    if case["status"] == "requested":
        r = c.post(f"/api/v1/after-sales/{case['id']}/decide", json={"decision": "approve"}, headers=m.headers)
        assert r.status_code == 200, r.text
    ship = {"carrier": "中通", "tracking_no": "ZT20261203"}
    r = c.post(f"/api/v1/after-sales/{case['id']}/return-shipment", json=ship, headers=s.headers)
    assert r.status_code == 200, r.text
    return m, s, case["id"]


def catch_up(database, clock, gateway, rounds: int = 15) -> int:  # type: ignore[no-untyped-def]
    paid = 0
    for _ in range(rounds):
        with database.session() as session:
            paid += return_cover.run_catch_up(session, clock, gateway)
    return paid


def paid_once(database, case_id: int) -> None:  # type: ignore[no-untyped-def]
    with database.session() as session:
        assert session.scalar(select(func.count()).where(ReturnCoverPayout.after_sale_id == case_id)) == 1
    assert txns(database, "return_cover_payout") == [(f"after_sale:{case_id}", POSTAGE)]
    balanced(database)


@race_on_postgres
def test_receiving_a_return_while_the_job_runs_pays_once(world, app, database, clock):
    m, _s, case_id = returned_not_received(world)
    gateway = app.state.gateway
    before = gateway.refunded_fen

    def work(i: int, client):  # type: ignore[no-untyped-def]
        if i == 0:
            return client.post(f"/api/v1/after-sales/{case_id}/receive", headers=m.headers).status_code
        return catch_up(database, clock, gateway)

    results = race(app, N, work)
    assert results[0] == 200 and sum(results[1:]) <= 1, results
    paid_once(database, case_id)
    with database.session() as session:
        order_id = session.scalar(select(ReturnCoverPayout.order_id).where(ReturnCoverPayout.after_sale_id == case_id))
        from yinli.orders.models import Order

        total = session.get(Order, order_id).total_fen  # type: ignore[union-attr]
    assert gateway.refunded_fen - before == total + POSTAGE


@race_on_postgres
def test_catch_up_jobs_racing_on_a_missed_payout_pay_once(world, app, database, clock, monkeypatch):
    m, _s, case_id = returned_not_received(world)
    gateway = app.state.gateway
    _fail_postage(gateway, monkeypatch)
    r = world.client.post(f"/api/v1/after-sales/{case_id}/receive", headers=m.headers)
    assert r.status_code == 200, r.text
    monkeypatch.undo()
    before = gateway.refunded_fen
    results = race(app, N, lambda _i, _client: catch_up(database, clock, gateway, rounds=3))
    assert sum(results) == 1, results
    paid_once(database, case_id)
    assert gateway.refunded_fen - before == POSTAGE
