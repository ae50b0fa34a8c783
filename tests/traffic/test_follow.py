"""A process that serves feed pages while another runs the traffic jobs (the simulator's workers) picks up
the catalog and the log when it follows, and writes nothing doing so."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.traffic.conftest import Market
from yinli.core.auth import Actor, Role
from yinli.traffic.models import TrafficEvent
from yinli.traffic.service import TrafficEngine, do_serve_feed


def served(engine: TrafficEngine, market: Market, shopper_id: int) -> set[int]:
    with market.world.database.session() as s:
        fp, state = do_serve_feed(
            s, engine, Actor(0, Role.OPERATOR), shopper_id=shopper_id, limit=20, page=None, cursor=None
        )
    snap = state.snapshot
    return {int(snap.item_id[snap.product[p.item]]) for p in fp.placements}


def test_a_follower_serves_new_products_after_following_and_writes_nothing(market: Market) -> None:
    _, first = market.store(2)
    shopper = market.world.shopper()
    market.refresh()  # the jobs' process
    follower = TrafficEngine(market.settings, market.clock, seed=99)
    assert served(follower, market, shopper.id) == {p["id"] for p in first}
    _, more = market.store(2, leaf="pet")
    market.refresh()
    assert served(follower, market, shopper.id) == {p["id"] for p in first}  # its own state until it follows
    with market.world.database.read_sessions() as s:
        before = s.scalar(select(func.count()).select_from(TrafficEvent))
    follower.follow(market.world.database)
    with market.world.database.read_sessions() as s:
        assert s.scalar(select(func.count()).select_from(TrafficEvent)) == before
    assert served(follower, market, shopper.id) == {p["id"] for p in first + more}
