"""A shopper's interests come from everything they do: a search result clicked and a video watched on its
page make a cold shopper warm for the feed (and so eligible for quality impressions), without counting as
feed clicks or feed watch time for the item (its CTR stays the feed's)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.traffic.conftest import Market
from yinli.accounts.models import User
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
            s, market.clock, actor, query="手机保护套", normalized="手机保护套", filters={}, sort="relevance", offset=0,
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
    assert sorted((k, surf) for k, surf, _ in logged_events) == [
        ("click", "search"), ("click", "search_query"), ("watch", "video_page"),
    ]  # fmt: skip
    assert all(e is None for _, _, e in logged_events)  # not in any feed experiment's measures
    # the product's feed counters saw no click: its CTR is still the feed's
    counters = market.engine.features.counters["product"].at(case["id"], market.clock.now().timestamp())
    assert counters[C["clicks"]] == 0
    market.refresh()  # consuming again is harmless: one event per outbox event
    with world.database.session() as s:
        assert len(s.scalars(select(TrafficEvent.id).where(TrafficEvent.shopper_id == shopper.id)).all()) == 3


def _phone_and_pet_market(market: Market, seed: int) -> list[tuple[User, str]]:
    """Established phone and pet stores, and 20 shoppers who browse and click in those two categories."""
    import numpy as np

    from tests.traffic.test_launch import _browse, _shoppers

    rng = np.random.default_rng(seed)
    for leaf in ("phone", "pet"):
        for _ in range(3):
            market.store(3, leaf=leaf)
    market.clock.advance(timedelta(days=31))
    market.world._operator = None
    shoppers = [(s, t) for s, t in _shoppers(market, rng, 30) if t != "game"]
    market.refresh()
    for _ in range(2):
        for shopper, topic in shoppers:
            _browse(market, shopper, topic, rng)
            market.clock.advance(timedelta(minutes=20))
        market.refresh()
    return shoppers


def test_a_store_nobody_is_interested_in_is_not_booked_until_shoppers_appear(market: Market) -> None:
    """Admission control: the forecast carries not even one quality slot for a store in a category no
    shopper cares about, so the plan books no quota it cannot deliver (held, re-sized each round; a miss
    only if its window closes so); once shoppers show interest in that category it is sized again and
    booked."""
    import numpy as np

    from tests.traffic.test_launch import _browse
    from yinli.traffic.models import LaunchEnrolment

    shoppers = _phone_and_pet_market(market, 4)
    rng = np.random.default_rng(40)
    game_shop, (game,) = market.store(1, leaf="game")
    market.refresh()
    with market.world.database.session() as s:
        e = s.get(LaunchEnrolment, game_shop.store_id)
        assert e is not None and e.status == "withheld", (e.status, e.plan_note)
        assert e.plan_note.startswith("no interested traffic") and "no interested shoppers" in e.withheld_reason
    kpi = market.client.get("/api/v1/traffic/launch", headers=market.world.operator.headers).json()["kpi"]
    assert kpi["supply_short"] >= 1

    actor_of = {s.id: Actor(s.id, Role.SHOPPER) for s, _ in shoppers}
    with market.world.database.session() as s:  # shoppers search for game cards and click the result
        for shopper, _ in shoppers:
            logged = do_record_search(
                s, market.clock, actor_of[shopper.id], query="点卡", normalized="点卡", filters={},
                sort="relevance", offset=0, total=1, shown=[game["id"]], backend="test", relaxed=None, took_us=1,
            )  # fmt: skip
            do_record_interaction(
                s, market.clock, actor_of[shopper.id], search_id=logged.id, product_id=game["id"], action="click"
            )
    for shopper, topic in shoppers:  # their feed pages: the supply the forecast counts
        _browse(market, shopper, topic, rng)
        market.clock.advance(timedelta(minutes=5))
    market.refresh()
    market.refresh()
    with market.world.database.session() as s:
        e = s.get(LaunchEnrolment, game_shop.store_id)
        assert e is not None and e.status == "active" and e.quota >= 1, (e.status, e.plan_note)
        assert not e.plan_note.startswith("no interested traffic")


def test_searching_for_what_nobody_sells_yet_books_the_first_merchant_who_does(market: Market) -> None:
    """Shoppers search for game cards before any store lists one (zero results): the query names the
    category (catalog.categories.CategoryNames), so they are interested in it, and the first game-card
    store is sized on their traffic and booked, instead of held for want of interested shoppers."""
    import numpy as np

    from tests.traffic.test_launch import _browse
    from yinli.traffic.models import LaunchEnrolment

    rng = np.random.default_rng(5)
    shoppers = _phone_and_pet_market(market, 5)
    with market.world.database.session() as s:
        for shopper, _ in shoppers:
            do_record_search(
                s, market.clock, Actor(shopper.id, Role.SHOPPER), query="游戏 点卡", normalized="游戏 点卡",
                filters={}, sort="relevance", offset=0, total=0, shown=[], backend="test", relaxed=None, took_us=1,
            )  # fmt: skip
    for shopper, topic in shoppers:  # their feed pages: the supply the forecast counts
        _browse(market, shopper, topic, rng)
        market.clock.advance(timedelta(minutes=5))
    market.refresh()
    assert market.engine.state is not None
    game_leaf = market.leaf("game")
    assert all(game_leaf in market.engine.state.snapshot.affinities[s.id] for s, _ in shoppers)
    game_shop, _ = market.store(1, leaf="game")
    market.refresh()
    with market.world.database.session() as s:
        e = s.get(LaunchEnrolment, game_shop.store_id)
        assert e is not None and e.status == "active" and e.quota >= 1, (e.status, e.plan_note)
        assert not e.plan_note.startswith("no interested traffic")


def test_a_store_held_for_want_of_traffic_to_the_end_of_its_window_is_a_miss(market: Market) -> None:
    """Coverage is over every new merchant whose window closed: a store the plan never found interested
    shoppers for counts as expired (a miss), not as not owed."""
    from yinli.traffic.models import LaunchEnrolment

    _phone_and_pet_market(market, 6)
    game_shop, _ = market.store(1, leaf="game")
    market.refresh()
    with market.world.database.session() as s:
        e = s.get(LaunchEnrolment, game_shop.store_id)
        assert e is not None and e.status == "withheld", (e.status, e.plan_note)
        ends = e.ends_at
    market.clock.set(ends + timedelta(minutes=1))
    market.world._operator = None
    market.refresh()
    with market.world.database.session() as s:
        e = s.get(LaunchEnrolment, game_shop.store_id)
        assert e is not None and e.status == "expired", (e.status, e.plan_note)
    kpi = market.client.get("/api/v1/traffic/launch", headers=market.world.operator.headers).json()["kpi"]
    assert kpi["expired"] >= 1 and kpi["coverage"] is not None and kpi["coverage"] < 1.0
