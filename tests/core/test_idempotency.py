"""Idempotency-Key on creating POSTs, including concurrent duplicates (on PostgreSQL: real threads)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from yinli.catalog.models import Brand


def brand_count(database) -> int:
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(Brand))


def test_same_key_same_body_replays_the_first_response(world, client, database):
    m = world.merchant()
    headers = {**m.headers, "Idempotency-Key": "brand-1"}
    first = client.post("/api/v1/brands", json={"name": "小米"}, headers=headers)
    again = client.post("/api/v1/brands", json={"name": "小米"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert brand_count(database) == 1


def test_same_key_other_body_is_refused_and_writes_nothing(world, client, database):
    m = world.merchant()
    headers = {**m.headers, "Idempotency-Key": "k"}
    assert client.post("/api/v1/brands", json={"name": "华为"}, headers=headers).status_code == 201
    r = client.post("/api/v1/brands", json={"name": "荣耀"}, headers=headers)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "Idempotency-Key"
    assert brand_count(database) == 1


def test_keys_are_scoped_per_caller(world, client, database):
    a, b = world.merchant(), world.merchant()
    assert (
        client.post("/api/v1/brands", json={"name": "A牌"}, headers={**a.headers, "Idempotency-Key": "x"}).status_code
        == 201
    )
    r = client.post("/api/v1/brands", json={"name": "B牌"}, headers={**b.headers, "Idempotency-Key": "x"})
    assert r.status_code == 201
    assert r.json()["name"] == "B牌"
    assert brand_count(database) == 2


def test_a_failed_request_does_not_burn_the_key(world, client):
    m = world.merchant()
    headers = {**m.headers, "Idempotency-Key": "retry-me"}
    body = {"category_id": world.leaf_id(), "title": "壳", "skus": [{"code": "A", "price_fen": 100}], "brand_id": 999}
    assert client.post("/api/v1/products", json=body, headers=headers).status_code == 422
    body["brand_id"] = None  # corrected: the failed attempt stored nothing under the key, so it can be reused
    r = client.post("/api/v1/products", json=body, headers=headers)
    assert r.status_code == 201
    assert "Idempotent-Replayed" not in r.headers


def test_concurrent_duplicates_create_one_row(world, app, database):
    """Eight simultaneous retries of one creating request: one brand, eight identical answers."""
    from fastapi.testclient import TestClient

    m = world.merchant()
    headers = {**m.headers, "Idempotency-Key": "storm"}

    def post(_: int):
        with TestClient(app, raise_server_exceptions=False) as c:
            return c.post("/api/v1/brands", json={"name": "并发牌"}, headers=headers)

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(post, range(8)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert brand_count(database) == 1


def test_racing_creators_of_one_name_get_one_201_and_clean_409s(world, app, database):
    """Without keys, a race on a unique name is a 409 for the losers (never a 500), one row stands."""
    from fastapi.testclient import TestClient

    merchants = [world.merchant() for _ in range(6)]

    def post(m):
        with TestClient(app, raise_server_exceptions=False) as c:
            return c.post("/api/v1/brands", json={"name": "抢注牌"}, headers=m.headers)

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(r.status_code for r in pool.map(post, merchants))
    assert statuses == [201] + [409] * 5
    assert brand_count(database) == 1
