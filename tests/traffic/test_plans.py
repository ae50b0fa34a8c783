"""Boost plan tiers (entry, hysteresis, exit), experiments (deterministic buckets, per-bucket metrics) and
a merchant's traffic explanation."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import numpy as np
import pytest

from tests.factories import buy, pay
from tests.traffic.conftest import Market
from yinli.orders.metrics import StoreMetrics
from yinli.traffic import events
from yinli.traffic.experiments import ActiveExperiment, Variant
from yinli.traffic.plans import BoostConfig, decide_tier


def _measures(**changes: float) -> dict[str, float]:
    base = {
        "orders_30d": 60,
        "good_review_rate": 0.9,
        "refund_rate": 0.05,
        "complaint_rate": 0.0,
        "on_time_rate": 0.95,
        "growth": 1.5,
    }
    return base | changes


def test_boost_tiers_enter_hold_and_exit() -> None:
    config = BoostConfig()
    assert decide_tier(config, None, _measures())[0] == "growing"
    assert decide_tier(config, None, _measures(orders_30d=300, good_review_rate=0.95))[0] == "star"
    tier, reason = decide_tier(config, None, _measures(orders_30d=5))
    assert tier is None and "orders in 30 days 5 < 10" in reason
    # a member slightly below its entry thresholds keeps its tier (exit margin) ...
    assert decide_tier(config, "growing", _measures(refund_rate=0.12)) == ("growing", "keeps its tier")
    assert decide_tier(config, None, _measures(refund_rate=0.12))[0] == "rising"  # (a newcomer would not get it)
    # ... and leaves when it falls clearly below: down a tier, or out
    tier, reason = decide_tier(config, "growing", _measures(refund_rate=0.18))
    assert tier is None and reason.startswith("left growing") and "refund rate" in reason
    assert decide_tier(config, "growing", _measures(orders_30d=30))[0] == "rising"
    assert decide_tier(config, "rising", _measures())[0] == "growing"  # promotion


def _metrics(market: Market, store_id: int, **values: int) -> None:
    row = {
        "orders_paid": 60,
        "orders_shipped": 58,
        "shipped_on_time": 56,
        "deliveries": 50,
        "delivery_seconds": 50 * 86400,
        "refunds": 3,
        "complaints": 0,
        "reviews": 40,
        "good_reviews": 38,
    } | values
    with market.world.database.session() as session:  # test set-up: the metrics consumer's table
        session.merge(StoreMetrics(store_id=store_id, updated_at=market.clock.now(), **row))


def _orders(market: Market, store_id: int, days_ago: int, n: int) -> None:
    at = market.clock.now() - timedelta(days=days_ago)
    with market.world.database.session() as session:
        events.append(
            session,
            market.clock,
            [events.row(kind="order", occurred_at=at, store_id=store_id, value_fen=3900, quantity=1)] * n,
        )


def test_boost_plan_reviews_stores_and_fills_the_boost_slot(market: Market) -> None:
    merchant, _ = market.store(2, leaf="pet")
    for _ in range(14):
        market.store(1, leaf="pet")
    market.clock.advance(timedelta(days=31))
    market.world._operator = None
    op = market.world.operator
    store_id = merchant.store_id
    _metrics(market, store_id)
    _orders(market, store_id, 10, 20)
    _orders(market, store_id, 2, 40)
    market.refresh()
    body = market.client.get("/api/v1/traffic/boost", headers=op.headers).json()
    assert [(m["store_id"], m["tier"]) for m in body["members"]] == [(store_id, "growing")]
    assert body["recent_changes"][0]["to_tier"] == "growing"

    shopper = market.world.shopper()
    page = market.feed(shopper, limit=10)
    item = next(i for i in page["items"] if i["product"]["category_id"] == market.leaf("pet"))
    market.click(shopper, page, item, 1)
    market.refresh()
    boosted = []  # a store the ranking already shows on a page leaves the boost slot to the ranking
    for _ in range(3):
        first = market.feed(shopper, limit=10, explain="true")
        second = market.feed(shopper, limit=10, explain="true", cursor=first["next_cursor"])
        boosted += [i for i in first["items"] + second["items"] if i["slot"] == "boost"]
    assert boosted and {i["product"]["store"]["id"] for i in boosted} == {store_id}
    assert boosted[0]["explain"]["plan"]["tier"] == "growing"
    assert boosted[0]["explain"]["placed_by"] == "boost plan"

    _metrics(market, store_id, refunds=8)  # 13%: inside the exit margin
    market.refresh()
    assert market.client.get("/api/v1/traffic/boost", headers=op.headers).json()["members"][0]["tier"] == "growing"
    _metrics(market, store_id, refunds=12)  # 20%: out
    market.refresh()
    body = market.client.get("/api/v1/traffic/boost", headers=op.headers).json()
    assert body["members"] == []
    assert body["recent_changes"][0]["from_tier"] == "growing" and body["recent_changes"][0]["to_tier"] is None
    assert "refund rate" in body["recent_changes"][0]["reason"]

    r = market.client.patch(
        "/api/v1/traffic/boost", json={"tiers": [{"name": "x", "min_orders_30d": -1}]}, headers=op.headers
    )
    assert r.status_code == 422
    assert market.client.get("/api/v1/traffic/boost", headers=market.world.merchant().headers).status_code == 403


def test_bucketing_is_deterministic_and_follows_the_weights() -> None:
    variants = (Variant("a", 1), Variant("b", 3, policy="gmv_only"))
    one, again, other = (
        ActiveExperiment(1, "s1", variants),
        ActiveExperiment(1, "s1", variants),
        ActiveExperiment(2, "s2", variants),
    )
    first = [one.assign(i).bucket for i in range(1, 20_001)]
    assert first == [again.assign(i).bucket for i in range(1, 20_001)]
    share = Counter(first)["a"] / len(first)
    assert 0.24 < share < 0.26
    moved = sum(a != b for a, b in zip(first, [other.assign(i).bucket for i in range(1, 20_001)], strict=True))
    assert moved > 5000  # a new experiment reshuffles shoppers
    assert one.assign(7).policy == ("gmv_only" if first[6] == "b" else "user_first")


def _variants() -> list[dict[str, Any]]:
    return [
        {"name": "user_first", "weight": 1, "policy": "user_first"},
        {"name": "gmv_only", "weight": 1, "policy": "gmv_only", "launch_plan": False},
    ]


def test_experiments_assign_shoppers_and_report_per_bucket_metrics(market: Market) -> None:
    rng = np.random.default_rng(5)
    for leaf in ("phone", "pet", "game"):
        for _ in range(3):
            market.store(3, leaf=leaf)
    market.clock.advance(timedelta(days=31))
    market.world._operator = None
    op, client = market.world.operator, market.client
    new_store, new_products = market.store(2, leaf="pet")
    r = client.post(
        "/api/v1/traffic/experiments", json={"name": "policy-1", "variants": _variants()}, headers=op.headers
    )
    assert r.status_code == 201, r.text
    exp = r.json()
    r = client.post(
        "/api/v1/traffic/experiments", json={"name": "policy-2", "variants": _variants()}, headers=op.headers
    )
    assert r.status_code == 409
    bad = [{"name": "a", "weight": 1}]
    assert (
        client.post("/api/v1/traffic/experiments", json={"name": "x", "variants": bad}, headers=op.headers).status_code
        == 422
    )
    shoppers = [market.world.shopper() for _ in range(12)]
    market.refresh()
    engine = market.engine
    seen: dict[str, set[int]] = {"user_first": set(), "gmv_only": set()}
    for _ in range(3):
        for s in shoppers:
            page = market.feed(s, limit=10)
            assert page["experiment_id"] == exp["id"]
            assert page["bucket"] == engine.assignment(s.id).bucket  # the same bucket on every request
            assert page["policy"] == page["bucket"]
            seen[page["bucket"]].add(s.id)
            if page["bucket"] == "gmv_only":
                assert all(i["slot"] != "launch" for i in page["items"])  # launch plan off in this variant
            for item in page["items"]:
                if rng.random() < 0.3:
                    market.click(s, page, item, int(rng.integers(1 << 30)))
        market.refresh()
    assert seen["user_first"] and seen["gmv_only"] and not seen["user_first"] & seen["gmv_only"]
    buyer = shoppers[0]
    sku = new_products[0]["skus"][0]["id"]
    pay(market.world, buyer, buy(market.world, buyer, [{"sku_id": sku, "quantity": 2, "surface": "feed"}])["id"])
    market.refresh()
    r = client.get(f"/api/v1/traffic/experiments/{exp['id']}/metrics", headers=op.headers)
    assert r.status_code == 200, r.text
    buckets = r.json()["buckets"]
    assert set(buckets) == {"user_first", "gmv_only"}
    for name, m in buckets.items():
        assert m["impressions"] > 0 and m["shoppers"] == len(seen[name])
        assert m["ctr"] == pytest.approx(m["clicks"] / m["impressions"], abs=1e-4)
        assert m["new_merchant_share"] is not None
    bought = buckets[engine.assignment(buyer.id).bucket]
    assert bought["orders"] == 1 and bought["gmv_fen"] == bought["feed_gmv_fen"] == 2 * 3900
    assert buckets["gmv_only"]["launch_impressions"] == 0
    assert (
        client.get(f"/api/v1/traffic/experiments/{exp['id']}/metrics", headers=shoppers[0].headers).status_code == 403
    )
    r = client.post(f"/api/v1/traffic/experiments/{exp['id']}/stop", headers=op.headers)
    assert r.status_code == 200 and r.json()["status"] == "stopped"
    assert client.post(f"/api/v1/traffic/experiments/{exp['id']}/stop", headers=op.headers).status_code == 409
    assert client.get("/api/v1/traffic/experiments/999999/metrics", headers=op.headers).status_code == 404
    page = market.feed(shoppers[0])
    assert page["bucket"] == "default" and page["experiment_id"] is None

    # the new merchant sees why it got traffic
    r = client.get(f"/api/v1/stores/{new_store.store_id}/traffic", headers=new_store.headers)
    assert r.status_code == 200, r.text
    explained = r.json()
    assert explained["launch_plan"]["status"] in ("active", "reached")
    launch = explained["launch_plan"]
    assert launch["delivered"] > 0 and launch["asked_quota"] == 10 and 1 <= launch["quota"] <= 10
    assert launch["quota_reason"] and launch["targeting"] in ("category", "top_category", "similar")
    assert explained["impressions"] == sum(explained["impressions_by_slot"].values())
    assert explained["orders"] == 1 and explained["gmv_fen"] == 7800
    assert explained["reasons"]
    assert explained["boost_plan"]["next_tier"] == "rising" and explained["boost_plan"]["missing_for_next_tier"]
    other = market.world.merchant()
    assert client.get(f"/api/v1/stores/{new_store.store_id}/traffic", headers=other.headers).status_code == 403
    assert client.get(f"/api/v1/stores/{new_store.store_id}/traffic").status_code == 401
    assert client.get("/api/v1/stores/999999/traffic", headers=op.headers).status_code == 404
