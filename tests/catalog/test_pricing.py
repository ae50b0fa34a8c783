"""Append-only price history: every change recorded with time and who; lowest price over 30 days."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from yinli.catalog.models import SkuPriceHistory


def history(client, user, sku_id):
    r = client.get(f"/api/v1/skus/{sku_id}/price-history", headers=user.headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_every_price_change_is_recorded_with_time_and_author(world, client, clock):
    m = world.merchant()
    p = world.product(m, price_fen=5000)
    sku = p["skus"][0]
    created_at = clock.now()
    clock.advance(timedelta(hours=1))
    assert client.patch(f"/api/v1/skus/{sku['id']}", json={"price_fen": 4500}, headers=m.headers).status_code == 200
    clock.advance(timedelta(hours=1))
    op = world.operator
    r = client.patch(f"/api/v1/skus/{sku['id']}", json={"price_fen": 4800, "list_price_fen": 6000}, headers=op.headers)
    assert r.status_code == 200
    # not a price change: no history row
    assert (
        client.patch(f"/api/v1/skus/{sku['id']}", json={"attributes": {"颜色": "蓝"}}, headers=m.headers).status_code
        == 200
    )
    assert client.patch(f"/api/v1/skus/{sku['id']}", json={"price_fen": 4800}, headers=m.headers).status_code == 200
    rows = history(client, m, sku["id"])
    assert [(h["price"]["amount"], h["reason"], h["changed_by"]) for h in rows] == [
        (5000, "created", m.id),
        (4500, "merchant", m.id),
        (4800, "operator", op.id),
    ]
    assert rows[2]["list_price"]["amount"] == 6000
    times = [h["effective_at"] for h in rows]
    assert times == sorted(times)
    assert times[0].startswith(created_at.strftime("%Y-%m-%dT%H:%M"))


def test_the_price_change_event_is_in_the_outbox(world, client, database):
    from yinli.core.outbox import OutboxEvent

    m = world.merchant()
    sku = world.product(m, price_fen=5000)["skus"][0]
    client.patch(f"/api/v1/skus/{sku['id']}", json={"price_fen": 4000}, headers=m.headers)
    with database.session() as s:
        event = s.scalars(select(OutboxEvent).where(OutboxEvent.type == "PriceChanged")).one()
        assert event.aggregate_id == sku["id"]
        assert (event.payload["old_price_fen"], event.payload["new_price_fen"]) == (5000, 4000)


def test_the_orm_refuses_to_rewrite_history(world, database):
    m = world.merchant()
    world.product(m)
    with pytest.raises(RuntimeError, match="append-only"), database.session() as s:
        s.scalars(select(SkuPriceHistory)).first().price_fen = 1
    with pytest.raises(RuntimeError, match="append-only"), database.session() as s:
        s.delete(s.scalars(select(SkuPriceHistory)).first())


def test_card_shows_lowest_price_in_30_days(world, client, clock):
    m = world.merchant()
    p = world.product(m, price_fen=10000)
    sku_id = p["skus"][0]["id"]
    clock.advance(timedelta(days=1))
    client.patch(f"/api/v1/skus/{sku_id}", json={"price_fen": 8000}, headers=m.headers)  # a short sale
    clock.advance(timedelta(days=1))
    client.patch(f"/api/v1/skus/{sku_id}", json={"price_fen": 12000}, headers=m.headers)
    card = client.get(f"/api/v1/products/{p['id']}/card").json()
    assert card["final_price"]["amount"] == 10500  # the other SKU is now the cheapest
    assert card["lowest_price_30d"]["amount"] == 8000
    clock.advance(timedelta(days=31))  # the sale has left the window; prices in effect since then count
    card = client.get(f"/api/v1/products/{p['id']}/card").json()
    assert card["lowest_price_30d"]["amount"] == 10500


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prices=st.lists(st.integers(min_value=1, max_value=10**7), min_size=1, max_size=8))
def test_history_replays_to_the_current_price(world, client, clock, prices):
    """Whatever sequence of changes, the history is the sequence of distinct consecutive prices and its
    last row is the current price."""
    m = world.merchant()
    sku = world.product(m, price_fen=prices[0], listed=False)["skus"][0]
    for price in prices[1:]:
        clock.advance(timedelta(minutes=1))
        assert (
            client.patch(f"/api/v1/skus/{sku['id']}", json={"price_fen": price}, headers=m.headers).status_code == 200
        )
    expected = [prices[0]] + [b for a, b in itertools.pairwise(prices) if a != b]
    rows = history(client, m, sku["id"])
    assert [h["price"]["amount"] for h in rows] == expected
    assert client.get(f"/api/v1/skus/{sku['id']}", headers=m.headers).json()["price"]["amount"] == prices[-1]
