"""The event log: bad input is refused with reasons (and the rest kept), features recomputed from the log
equal the incrementally kept ones, the log exports to Parquet."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from tests.factories import buy, pay
from tests.traffic.conftest import Market
from yinli.traffic.events import export_parquet
from yinli.traffic.features import FeatureStore


def _event(page: dict[str, Any], item: dict[str, Any], n: int, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": f"evt-{page['request_id'][:6]}-{n}",
        "kind": "click",
        "request_id": page["request_id"],
        "item_type": item["type"],
        "item_id": item["item_id"],
        "occurred_at": extra.pop("occurred_at"),
        **extra,
    }


@pytest.fixture
def served(market: Market) -> tuple[Market, Any, dict[str, Any]]:
    for leaf in ("phone", "pet"):
        market.store(3, leaf=leaf)
    shopper = market.world.shopper()
    market.refresh()
    return market, shopper, market.feed(shopper, limit=5)


def test_feed_refuses_bad_requests(served: tuple[Market, Any, dict[str, Any]]) -> None:
    market, shopper, _ = served
    client, op = market.client, market.world.operator
    merchant = market.world.merchant()
    for params, status, field in [
        ({"limit": 0}, 422, "limit"),
        ({"limit": 10000}, 422, "limit"),
        ({"page": 0}, 422, "page"),
        ({"page": 2, "cursor": "eyJwIjoyLCJzIjoxfQ"}, 422, "cursor"),
        ({"cursor": "not-a-cursor"}, 422, "cursor"),
        ({"cursor": "eyJwIjo5OSwicyI6MX0"}, 422, "cursor"),  # page 99: not one we issued
    ]:
        r = client.get("/api/v1/feed", params=params, headers=shopper.headers)
        assert r.status_code == status, (params, r.text)
        assert r.json()["errors"][0]["field"] == field
    assert client.get("/api/v1/feed").status_code == 401
    assert client.get("/api/v1/feed", headers=merchant.headers).status_code == 403
    r = client.get("/api/v1/feed", params={"shopper_id": 2**40}, headers=op.headers)
    assert r.status_code == 404 and r.json()["errors"][0]["field"] == "shopper_id"
    r = client.get("/api/v1/feed", params={"shopper_id": merchant.id}, headers=op.headers)
    assert r.status_code == 404  # not a shopper
    r = client.get("/api/v1/feed", params={"shopper_id": shopper.id}, headers=op.headers)
    assert r.status_code == 200 and r.json()["shopper_id"] == shopper.id
    other = market.world.shopper()
    r = client.get("/api/v1/feed", params={"shopper_id": other.id}, headers=shopper.headers)
    assert r.status_code == 403


def test_feedback_batches_keep_the_good_events_and_say_what_was_refused(
    served: tuple[Market, Any, dict[str, Any]],
) -> None:
    market, shopper, page = served
    client, now = market.client, market.clock.now()
    items = page["items"]
    good = _event(page, items[0], 1, occurred_at=now.isoformat())
    batch = [
        good,
        {k: v for k, v in _event(page, items[1], 2, occurred_at=now.isoformat()).items() if k != "item_id"},
        _event(page, items[1], 3, occurred_at=(now + timedelta(hours=2)).isoformat()),
        _event(page, items[1], 4, occurred_at=(now - timedelta(days=30)).isoformat()),
        {**_event(page, items[1], 5, occurred_at=now.isoformat()), "request_id": "0" * 32},
        {**_event(page, items[1], 6, occurred_at=now.isoformat()), "item_id": 2**40},
        {**_event(page, items[1], 7, occurred_at=now.isoformat()), "kind": "watch"},
        {**_event(page, items[1], 8, occurred_at=now.isoformat()), "kind": "purchase"},
        {**_event(page, items[1], 9, occurred_at=now.replace(tzinfo=None).isoformat())},
        good,  # the same event twice in one batch
        "not an object",
        {**_event(page, items[2], 10, occurred_at=now.isoformat()), "kind": "add_to_cart"},
        _event(page, items[1], 11, occurred_at=int(now.timestamp())),  # a number is not a time (strict)
        {**_event(page, items[1], 12, occurred_at=now.isoformat()), "item_id": True},
    ]
    r = client.post("/api/v1/feed/events", json={"events": batch}, headers=shopper.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accepted"] == 2
    refused = {x["index"]: x for x in body["rejected"]}
    assert set(refused) == {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13}
    assert refused[1]["field"] == "item_id" and "required" in refused[1]["reason"].lower()
    assert refused[2]["field"] == "occurred_at" and "future" in refused[2]["reason"]
    assert refused[3]["field"] == "occurred_at" and "older" in refused[3]["reason"]
    assert refused[4]["field"] == "request_id"
    assert refused[5]["field"] == "item_id"
    assert refused[6]["field"] == "watch_seconds"
    assert refused[7]["field"] == "kind"
    assert refused[8]["field"] == "occurred_at"  # no timezone
    assert refused[9]["field"] == "event_id" and "duplicate" in refused[9]["reason"]
    assert refused[10]["field"] == ""
    assert refused[12]["field"] == "occurred_at" and refused[13]["field"] == "item_id"
    # a retry of the accepted events changes nothing and says why
    r = client.post("/api/v1/feed/events", json={"events": [good]}, headers=shopper.headers)
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "events.0.event_id", "message": "already recorded (duplicate event_id)"}]
    # another shopper cannot report on this page
    other = market.world.shopper()
    r = client.post(
        "/api/v1/feed/events",
        json={"events": [_event(page, items[0], 11, occurred_at=now.isoformat())]},
        headers=other.headers,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "events.0.request_id"
    for body in ({"events": []}, {"events": [good] * 501}, {"events": "x"}, {"other": 1}):
        assert client.post("/api/v1/feed/events", json=body, headers=shopper.headers).status_code == 422
    headers = {**shopper.headers, "Content-Type": "application/json"}
    assert client.post("/api/v1/feed/events", content=b"{", headers=headers).status_code == 400
    assert client.post("/api/v1/feed/events", json={"events": [good]}).status_code == 401


def _order_through_feed(market: Market, shopper: Any, page: dict[str, Any]) -> None:
    product = next(i for i in page["items"] if i["type"] == "product")
    card = market.client.get(f"/api/v1/products/{product['item_id']}", headers=shopper.headers).json()
    payment = buy(market.world, shopper, [{"sku_id": card["skus"][0]["id"], "quantity": 1, "surface": "feed"}])
    pay(market.world, shopper, payment["id"])


def test_features_recomputed_from_the_log_equal_the_incremental_ones(
    served: tuple[Market, Any, dict[str, Any]], tmp_path: Any
) -> None:
    market, shopper, page = served
    rng = np.random.default_rng(11)
    shoppers = [shopper, market.world.shopper(), market.world.shopper()]
    pending: list[tuple[Any, list[dict[str, Any]]]] = []
    for hour in range(6):
        # last hour's clicks arrive now (late, out of order with this hour's impressions), as a client's
        # offline batch would
        for s, events in pending:
            r = market.client.post("/api/v1/feed/events", json={"events": events}, headers=s.headers)
            assert r.status_code == 200 and not r.json()["rejected"], r.text
        pending = []
        for s in shoppers:
            page = market.feed(s, limit=8)
            shown_at = market.clock.now() + timedelta(seconds=int(rng.integers(1, 60)))
            events = [
                _event(page, item, 100 * hour + n, occurred_at=shown_at.isoformat())
                for n, item in enumerate(page["items"])
                if rng.random() < 0.3
            ]
            if events:
                pending.append((s, events))
        if hour == 2:
            _order_through_feed(market, shoppers[1], page)
        market.refresh()  # the engine's store follows the log round by round
        market.clock.advance(timedelta(minutes=50))
    market.refresh()
    incremental = market.engine.features
    with market.world.database.read_sessions() as session:
        rebuilt = FeatureStore.rebuild(session, market.settings.traffic_half_life_hours)
        exported = export_parquet(session, tmp_path / "log.parquet")
    t = market.clock.now().timestamp()
    assert incremental.position == rebuilt.position > 0
    for entity, counters in incremental.counters.items():
        other = rebuilt.counters[entity]
        assert set(counters.index) == set(other.index), entity
        for key in counters.index:
            np.testing.assert_allclose(counters.at(key, t), other.at(key, t), rtol=1e-9, atol=1e-9)
    assert incremental.counters["product"].snapshot(t)  # something was counted
    orders = sum(v[4] for v in incremental.counters["shopper"].snapshot(t).values())
    assert orders > 0  # the paid order came through the outbox
    for s in shoppers:
        assert incremental.shopper_affinity(s.id, t) == pytest.approx(rebuilt.shopper_affinity(s.id, t))
    assert incremental.recent == rebuilt.recent
    table = pq.read_table(tmp_path / "log.parquet")
    assert table.num_rows == exported == incremental.position
    assert set(table.column("kind").to_pylist()) >= {"impression", "click", "order"}
