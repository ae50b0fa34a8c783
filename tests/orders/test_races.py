"""The good-standing limit on auto-approved refunds (settings.auto_refund_max_recent) holds when one
shopper sends many refund requests at once: they are counted under the shopper's row lock, so exactly
that many are approved at once and the rest wait for the merchant."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.factories import buy, pay, race, race_on_postgres, stock
from tests.orders.test_concurrency import ledger, money_matches_gateway

N = 10


def small_paid_orders(world, n: int):
    """n paid orders of one shopper, each small enough for auto-approval."""
    m = world.merchant()
    sku = world.product(m, price_fen=1000)["skus"][0]["id"]
    stock(world, m, sku, n)
    s = world.shopper()
    return s, [pay(world, s, buy(world, s, [{"sku_id": sku, "quantity": 1}])["id"])["order_ids"][0] for _ in range(n)]


def refund_only(client, shopper, order_id: int):
    return client.post(
        f"/api/v1/orders/{order_id}/after-sales",
        json={"reason": "不想要了", "kind": "refund_only"},
        headers=shopper.headers,
    )


def test_past_the_limit_a_request_waits_for_the_merchant(world, client, settings):
    s, orders = small_paid_orders(world, settings.auto_refund_max_recent + 1)
    cases = [refund_only(client, s, o).json() for o in orders]
    assert [(c["auto_approved"], c["status"]) for c in cases] == [
        (True, "refunded")
    ] * settings.auto_refund_max_recent + [(False, "requested")]


@pytest.mark.postgres
@race_on_postgres
def test_ten_refund_requests_at_once_auto_approve_exactly_the_limit(world, app, settings):
    s, orders = small_paid_orders(world, N)

    def ask(i, client):
        r = refund_only(client, s, orders[i])
        body = r.json()
        return r.status_code, body.get("auto_approved"), body.get("status") or body.get("code")

    tally = Counter(race(app, N, ask))
    limit = settings.auto_refund_max_recent
    assert tally == {(201, True, "refunded"): limit, (201, False, "requested"): N - limit}, tally
    money_matches_gateway(app, ledger(world))
