"""Launch plan: on a seeded marketplace, new merchants reach their quota of quality impressions within the
window (≥ 99%), red-flagged stores are withheld, and the controller paces delivery through the day."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import select

from tests.factories import User
from tests.traffic.conftest import LEAVES, Market
from yinli.traffic.board import Board, cumulative_traffic
from yinli.traffic.models import TrafficEvent

TOPICS = list(LEAVES)


def _shoppers(market: Market, rng: np.random.Generator, n: int) -> list[tuple[User, str]]:
    return [(market.world.shopper(), TOPICS[i % len(TOPICS)]) for i in range(n)]


def _browse(market: Market, shopper: User, topic: str, rng: np.random.Generator, limit: int = 20) -> dict[str, Any]:
    """One feed page; the shopper clicks (sometimes) the first item of their topic."""
    page = market.feed(shopper, limit=limit)
    wanted = market.leaf(topic)
    for item in page["items"]:
        if item["product"]["category_id"] == wanted and rng.random() < 0.5:
            market.click(shopper, page, item, int(rng.integers(1 << 30)))
            break
    return page


def test_new_merchants_reach_their_quota_and_red_flags_are_withheld(market: Market) -> None:
    rng = np.random.default_rng(7)
    client = market.client
    for i in range(9):  # established stores
        market.store(3, leaf=TOPICS[i % 3])
    market.clock.advance(timedelta(days=31))  # ...no longer new merchants
    market.world._operator = None  # a fresh operator token (the first expired with the 31 days)
    shoppers = _shoppers(market, rng, 45)
    # This marketplace's traffic grows twentyfold after the stores enrol, which no forecast foresees: the
    # test is about the controller and red flags at the asked quota, so quotas are not sized to the forecast
    # here (sizing: test_allocation.py, test_interests.py and the simulator).
    r = client.patch("/api/v1/traffic/launch", json={"sizing": False}, headers=market.world.operator.headers)
    assert r.status_code == 200, r.text
    market.refresh()
    for _ in range(2):  # interests form from a few clicks, through a day (the controller learns its hours)
        for shopper, topic in shoppers:
            _browse(market, shopper, topic, rng)
            market.clock.advance(timedelta(minutes=16))
        market.refresh()

    new_stores = [market.store(1, leaf=TOPICS[i % 3])[0].store_id for i in range(100)]
    stuffed = [
        market.store(2, leaf="phone", title="全网最低 秒杀 爆款 限时 特价 清仓【包邮】")[0].store_id for _ in range(2)
    ]
    complained = [market.store(1, leaf="pet")[0].store_id for _ in range(2)]
    for store_id in complained:
        for shopper, _ in shoppers[:3]:
            r = client.post(
                "/api/v1/complaints",
                json={"store_id": store_id, "category": "quality", "text": "假货"},
                headers=shopper.headers,
            )
            assert r.status_code == 201, r.text
    market.refresh()
    market.refresh()  # the first round logs the complaints, the second sees them as red flags

    op = market.world.operator
    state = client.get("/api/v1/traffic/launch", headers=op.headers, params={"limit": 1000}).json()
    statuses = {e["store_id"]: e for e in state["enrolments"]}
    for store_id in stuffed + complained:
        assert statuses[store_id]["status"] == "withheld", statuses[store_id]
        assert statuses[store_id]["withheld_reason"]
    assert all(statuses[s]["status"] == "active" for s in new_stores)
    # guaranteed delivery: each enrolment carries its asked quota, a quota sized to the forecast supply (no
    # more than asked), the reason, its targeting level and the round's allocation (allocation.py)
    for s in new_stores:
        e = statuses[s]
        assert e["asked_quota"] == 10 and e["quota"] == 10, e
        assert e["targeting"] in ("category", "top_category", "similar")
        assert e["plan"] is not None and e["plan"]["order"] >= 0 and e["plan"]["supply_per_day"] >= 0, e

    r = client.patch("/api/v1/traffic/launch", json={"share": 0.3}, headers=op.headers)  # 6 of a 20-item page
    assert r.status_code == 200, r.text
    hours = int(market.settings.traffic_launch_days * 24)
    for _ in range(hours):  # the window: shoppers arrive through every hour
        for _ in range(8):
            shopper, topic = shoppers[int(rng.integers(len(shoppers)))]
            _browse(market, shopper, topic, rng)
            market.clock.advance(timedelta(minutes=7))
        market.clock.advance(timedelta(minutes=4))
        market.refresh()
    market.clock.advance(timedelta(hours=1))
    market.refresh()

    body = client.get("/api/v1/traffic/launch", headers=op.headers, params={"limit": 1000}).json()
    kpi = body["kpi"]
    print("launch KPI:", kpi)  # coverage and GMV cost, for the record (pytest -s)
    rows = {e["store_id"]: e for e in body["enrolments"]}
    reached = [s for s in new_stores if rows[s]["status"] == "reached"]
    assert len(reached) / len(new_stores) >= 0.99, {s: rows[s] for s in new_stores if s not in reached}
    assert kpi["coverage"] >= 0.99
    assert kpi["gmv_cost_fen"] >= 0
    for store_id in stuffed + complained:
        assert rows[store_id]["status"] == "withheld"
        assert rows[store_id]["delivered"] == 0

    with market.world.database.session() as session:
        quality = session.execute(
            select(TrafficEvent.store_id, TrafficEvent.slot, TrafficEvent.features)
            .where(TrafficEvent.kind == "impression", TrafficEvent.quality.is_(True))
            .order_by(TrafficEvent.id)
        ).all()
    launch = [q for q in quality if q.slot == "launch"]
    assert launch and not {q.store_id for q in launch} & set(stuffed + complained)
    # Paced: a store gets a launch slot only while behind its target (quota x expected share of the window's
    # traffic so far, by the logged hour-of-day profile) plus a burst of one — and the controller's count
    # is the log's count.
    seen: dict[int, int] = {}
    for q in quality:
        if q.slot == "launch":
            assert q.features["plan_delivered"] == seen.get(q.store_id, 0) + 1
            assert seen.get(q.store_id, 0) < q.features["plan_target"] + 1.05  # the target is logged to 0.1
        seen[q.store_id] = seen.get(q.store_id, 0) + 1


def test_controller_spreads_a_day_of_impressions_across_hours() -> None:
    rng = np.random.default_rng(3)
    day = 86400.0 * 20_000
    profile = np.full(24, 1 / 24)
    board = Board(
        store=np.asarray([0]),
        store_ids=np.asarray([1]),
        quota=np.asarray([240.0]),
        delivered=np.asarray([0.0]),
        start=np.asarray([day]),
        end=np.asarray([day + 86400.0]),
        by_cat={0: np.asarray([0])},
        by_root={},
        products=[np.asarray([0])],
        profile=profile,
        lead=0.0,
    )
    per_hour = np.zeros(24)
    for minute in range(24 * 60):  # 60 shoppers a minute who would all take the slot
        now = day + minute * 60.0
        for _ in range(60):
            picked = board.pick(np.asarray([0]), np.asarray([]), now, rng, set())
            if picked is not None:
                board.delivered[picked[0]] += 1
                per_hour[minute // 60] += 1
    assert per_hour.sum() == 240
    assert per_hour.min() >= 6 and per_hour.max() <= 14, per_hour  # ~10 an hour, not 240 in the first minutes


def test_controller_follows_the_daily_traffic_profile() -> None:
    profile = np.asarray([0.01] * 6 + [0.05] * 18)
    profile = profile / profile.sum()
    start = 86400.0 * 20_000
    share = cumulative_traffic(start + 6 * 3600.0, profile) - cumulative_traffic(start, profile)
    assert abs(float(share) - profile[:6].sum()) < 1e-9  # quiet night hours get a small share of the target
