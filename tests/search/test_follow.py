"""A process that searches an index another process maintains (the simulator's workers) sees what was
committed once it follows: new products, delistings, and the ranking features and browse lists with
them. Every backend."""

from __future__ import annotations

from sqlalchemy import select

from tests.search.conftest import product
from yinli.catalog.models import Product
from yinli.search.backends.base import Filters
from yinli.search.service import SearchEngine, SearchRequest, make_backend


def found(engine: SearchEngine, database, q: str) -> list[int]:  # type: ignore[no-untyped-def]
    with database.read_sessions() as s:
        return [h.product_id for h in engine.search(s, SearchRequest(q=q, filters=Filters(), limit=20)).hits]


def test_a_follower_sees_what_the_indexing_process_committed_after_following(world, sync, database, settings, clock):
    m = world.merchant()
    first = product(world, m, "防摔手机壳 蓝色", price=3900)
    sync()
    follower = SearchEngine(make_backend(settings, database.is_sqlite), settings, clock)
    try:
        assert found(follower, database, "手机壳") == [first]
        second = product(world, m, "防摔手机壳 红色", price=2900)
        r = world.client.post(f"/api/v1/products/{first}/delist", headers=m.headers)
        assert r.status_code == 200
        sync()  # the indexing process commits
        follower.follow(database)
        assert found(follower, database, "手机壳") == [second]
        # browsing (no words) is answered from the follower's own lists, rebuilt by follow
        with database.read_sessions() as s:
            leaf = s.scalar(select(Product.category_id).where(Product.id == second))
            browse = follower.search(s, SearchRequest(q="", filters=Filters(category_id=leaf), limit=20))
        assert [h.product_id for h in browse.hits] == [second]
    finally:
        follower.close()
