"""Price protection (价保) races, on PostgreSQL (SQLite serialises writers): claims from many tabs at once pay
once; a claim and a full refund of the same line at once never pay both — both take the order's row lock,
so whichever comes second sees the first (the refund pays paid − protection, or the claim is refused)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import buy, outcome, pay, race, race_on_postgres, stock
from yinli.guarantees.models import PriceProtectionPayout
from yinli.orders.models import Order, OrderLine
from yinli.payments import ledger
from yinli.payments.models import Refund

UNIT = 4_000  # ¥40: a refund of it is approved at once (auto_refund_max_fen)


def _bought_and_cut(world, client):  # type: ignore[no-untyped-def]
    m = world.merchant()
    r = client.patch(
        f"/api/v1/stores/{m.store_id}", json={"shipping_fee_fen": 600, "free_shipping_over_fen": None},
        headers=m.headers,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    sku = world.product(m, price_fen=UNIT)["skus"][0]["id"]
    stock(world, m, sku, 5)
    s = world.shopper()
    order_id = pay(world, s, buy(world, s, [{"sku_id": sku, "quantity": 1}])["id"])["order_ids"][0]
    r = client.patch(f"/api/v1/skus/{sku}", json={"price_fen": 3_000}, headers=m.headers)
    assert r.status_code == 200, r.text
    with world.database.session() as session:
        line_id = session.scalars(select(OrderLine.id).where(OrderLine.order_id == order_id)).one()
    return m, s, order_id, line_id


def _money(database, order_id: int):  # type: ignore[no-untyped-def]
    with database.session() as session:
        order = session.get(Order, order_id)
        assert order is not None
        refunds = list(session.scalars(select(Refund).where(Refund.order_id == order_id)))
        payouts = list(session.scalars(select(PriceProtectionPayout).where(PriceProtectionPayout.order_id == order_id)))
        assert ledger.unbalanced_transactions(session) == []
        assert sum(ledger.balances(session).values()) == 0
        assert ledger.final_orders_holding_escrow(session) == {}
        return order, refunds, payouts, ledger.order_escrow(session, order_id)


@pytest.mark.postgres
@race_on_postgres
def test_ten_claims_at_once_pay_once(world, client, app, database):
    _, s, order_id, line_id = _bought_and_cut(world, client)
    before = app.state.gateway.refunded_fen
    results = race(
        app, 10, lambda i, c: outcome(c.post(f"/api/v1/order-lines/{line_id}/price-protection", headers=s.headers))
    )
    assert sorted(results) == [(201, None)] + [(409, "already_protected")] * 9
    order, refunds, payouts, _ = _money(database, order_id)
    assert len(payouts) == 1 and [r.amount_fen for r in refunds] == [1_000]
    assert app.state.gateway.refunded_fen - before == 1_000 == order.refunded_fen


def _claim_and_refund_at_once(world, client, app, database) -> None:  # type: ignore[no-untyped-def]
    _, s, order_id, line_id = _bought_and_cut(world, client)
    before = app.state.gateway.refunded_fen

    def work(i: int, c):  # type: ignore[no-untyped-def]
        if i % 2:
            return outcome(c.post(f"/api/v1/order-lines/{line_id}/price-protection", headers=s.headers))
        body = {"kind": "refund_only", "reason": "不想要了"}
        return outcome(c.post(f"/api/v1/orders/{order_id}/after-sales", json=body, headers=s.headers))

    results = race(app, 6, work)
    assert all(status in (201, 409) for status, _ in results), results
    order, refunds, payouts, held = _money(database, order_id)
    paid_back = app.state.gateway.refunded_fen - before
    assert paid_back == sum(r.amount_fen for r in refunds) == order.refunded_fen
    assert paid_back <= order.total_fen  # never both: at most what was paid
    assert len(payouts) <= 1
    if order.status == "refunded":  # the refund went through: exactly what was paid, in all
        assert paid_back == order.total_fen and held == 0
        assert all(p.status == "clawed_back" for p in payouts)
    else:  # only the claim: the drop
        assert paid_back == 1_000 and len(payouts) == 1


@pytest.mark.postgres
@race_on_postgres
def test_a_claim_and_a_full_refund_at_once_never_pay_both(world, client, app, database):
    for _ in range(3):  # a few rounds: either may win
        _claim_and_refund_at_once(world, client, app, database)
