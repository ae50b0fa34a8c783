"""The feed: mixed formats, diversity, paging, explanations, bad input."""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

from tests.traffic.conftest import Market


def _content_market(market: Market) -> tuple:
    stores = [market.store(6) for _ in range(6)]
    m0, products0 = stores[0]
    m1, products1 = stores[1]
    for m, products in stores[:3]:
        r = market.client.post(
            "/api/v1/videos",
            json={
                "title": "开箱",
                "duration_seconds": 30,
                "cover_url": "https://img.example/c.jpg",
                "video_url": "https://v.example/v.mp4",
                "product_ids": [products[0]["id"]],
            },
            headers=m.headers,
        )
        assert r.status_code == 201, r.text
    market.content.live_session(m0, [products0[1]["id"]])
    market.content.live_session(m1, [products1[1]["id"]])
    return stores


def test_feed_mixes_formats_and_respects_diversity(market: Market) -> None:
    _content_market(market)
    shopper = market.world.shopper()
    market.refresh()
    page = market.feed(shopper, limit=10, explain="true")
    items = page["items"]
    assert len(items) == 10
    kinds = Counter(i["type"] for i in items)
    assert set(kinds) == {"product", "video", "live"}, kinds
    assert kinds["product"] <= 6 and kinds["video"] <= 4 and kinds["live"] <= 2
    stores = Counter(i["product"]["store"]["id"] for i in items)
    assert max(stores.values()) <= 2, stores
    for a, b in pairwise(items):
        assert a["product"]["store"]["id"] != b["product"]["store"]["id"]
    assert [i["position"] for i in items] == list(range(10))
    for item in items:
        names = {c["name"] for c in item["explain"]["components"]}
        assert names == {"value", "engagement", "experience", "relevance", "noise"}
        assert item["explain"]["slot"] == item["slot"] == "organic"
        assert item["explain"]["predicted_by"] == "heuristic"
    assert page["next_cursor"]
    second = market.feed(shopper, limit=10, cursor=page["next_cursor"])
    assert second["page"] == 2
    assert not {i["item_id"] for i in items if i["type"] == "product"} & {
        i["item_id"] for i in second["items"] if i["type"] == "product"
    }


def test_an_empty_marketplace_serves_an_empty_page(market: Market) -> None:
    shopper = market.world.shopper()
    page = market.feed(shopper, limit=10)
    assert page["items"] == [] and page["next_cursor"] is None and page["model"] == "heuristic"


def test_every_served_item_is_logged_once_as_an_impression(market: Market) -> None:
    from sqlalchemy import select

    from yinli.traffic.models import TrafficEvent

    market.store(4)
    market.store(4, leaf="pet")
    shopper = market.world.shopper()
    market.refresh()
    page = market.feed(shopper, limit=6)
    with market.world.database.session() as session:
        rows = session.execute(
            select(TrafficEvent.position, TrafficEvent.item_type, TrafficEvent.item_id, TrafficEvent.slot).where(
                TrafficEvent.request_id == page["request_id"]
            )
        ).all()
    assert sorted(rows) == sorted((i["position"], i["type"], i["item_id"], i["slot"]) for i in page["items"])
