"""A shopper's interests come from everything they do: a search result clicked and a video watched on its
page make a cold shopper warm for the feed (and so eligible for quality impressions), without counting as
feed clicks or feed watch time for the item (its CTR stays the feed's)."""

from __future__ import annotations

from sqlalchemy import select

from tests.traffic.conftest import Market
from yinli.core.auth import Actor, Role
from yinli.search.log import do_record_interaction, do_record_search
from yinli.traffic.features import C
from yinli.traffic.models import TrafficEvent


def test_search_clicks_and_video_views_teach_interests_not_ctr(market: Market) -> None:
    world = market.world
    _, (case,) = market.store(1, leaf="phone")
    pet_shop, (treat,) = market.store(1, leaf="pet")
    video = world.client.post(
        "/api/v1/videos",
        json={
            "title": "猫零食开箱",
            "duration_seconds": 30,
            "cover_url": "https://cdn.example.com/c.jpg",
            "video_url": "https://cdn.example.com/v.mp4",
            "product_ids": [treat["id"]],
        },
        headers=pet_shop.headers,
    )
    assert video.status_code == 201, video.text
    shopper = world.shopper()
    market.refresh()
    assert market.engine.state is not None
    assert shopper.id not in market.engine.state.snapshot.affinities  # cold: never did anything

    actor = Actor(shopper.id, Role.SHOPPER)
    with world.database.session() as s:
        logged = do_record_search(
            s, market.clock, actor, query="手机壳", normalized="手机壳", filters={}, sort="relevance", offset=0,
            total=1, shown=[case["id"]], backend="test", relaxed=None, took_us=1,
        )  # fmt: skip
        do_record_interaction(s, market.clock, actor, search_id=logged.id, product_id=case["id"], action="click")
    r = world.client.post(
        f"/api/v1/videos/{video.json()['id']}/views", json={"watched_seconds": 30}, headers=shopper.headers
    )
    assert r.status_code == 200, r.text
    market.refresh()
    market.refresh()

    interests = market.engine.state.snapshot.affinities[shopper.id]
    assert set(interests) == {market.leaf("phone"), market.leaf("pet")}
    with world.database.session() as s:
        logged_events = s.execute(
            select(TrafficEvent.kind, TrafficEvent.surface, TrafficEvent.experiment_id).where(
                TrafficEvent.shopper_id == shopper.id
            )
        ).all()
    assert sorted((k, surf) for k, surf, _ in logged_events) == [("click", "search"), ("watch", "video_page")]
    assert all(e is None for _, _, e in logged_events)  # not in any feed experiment's measures
    # the product's feed counters saw no click: its CTR is still the feed's
    counters = market.engine.features.counters["product"].at(case["id"], market.clock.now().timestamp())
    assert counters[C["clicks"]] == 0
    market.refresh()  # consuming again is harmless: one event per outbox event
    with world.database.session() as s:
        assert len(s.scalars(select(TrafficEvent.id).where(TrafficEvent.shopper_id == shopper.id)).all()) == 2
