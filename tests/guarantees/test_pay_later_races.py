"""Two pay-later checkouts of one shopper at once that together pass the limit: the profile's row lock
serialises them, so at most one is paid and the other is refused with nothing changed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import buy, outcome, race, race_on_postgres, stock
from yinli.guarantees.models import PayLaterBill
from yinli.payments import ledger
from yinli.payments.models import Payment


@pytest.mark.postgres
@race_on_postgres
@pytest.mark.parametrize("known", [False, True], ids=["new-shopper", "known-shopper"])
def test_two_pay_later_checkouts_over_the_limit_at_once_pay_at_most_one(world, app, database, known):
    m = world.merchant()
    sku = world.product(m, price_fen=30_000)["skus"][0]["id"]
    stock(world, m, sku, 10)
    s = world.shopper()
    if known:  # the profile exists already: the race is on its lock, not on creating it
        r = world.client.get("/api/v1/me/credit", headers=s.headers)
        assert r.status_code == 200
        small = world.product(m, price_fen=100)["skus"][0]["id"]
        stock(world, m, small, 1)
        first = buy(world, s, [{"sku_id": small, "quantity": 1}])
        r = world.client.post(f"/api/v1/payments/{first['id']}/pay", json={"method": "pay_later"}, headers=s.headers)
        assert r.status_code == 200, r.text
    payments = [buy(world, s, [{"sku_id": sku, "quantity": 1}])["id"] for _ in range(2)]

    def work(i, client):
        r = client.post(f"/api/v1/payments/{payments[i]}/pay", json={"method": "pay_later"}, headers=s.headers)
        return outcome(r)

    results = race(app, 2, work)
    # at most one may pass; the lock makes it exactly one, the other told why
    assert sorted(results) == [(200, None), (409, "pay_later_over_limit")], results
    with database.session() as session:
        statuses = sorted(session.scalar(select(Payment.status).where(Payment.id == p)) for p in payments)
        bills = session.scalar(select(func.count()).select_from(PayLaterBill).where(PayLaterBill.shopper_id == s.id))
        assert bills == (1 if known else 0) + statuses.count("succeeded")
        assert ledger.unbalanced_transactions(session) == [] and sum(ledger.balances(session).values()) == 0
        assert statuses.count("succeeded") <= 1 and set(statuses) <= {"succeeded", "pending"}
