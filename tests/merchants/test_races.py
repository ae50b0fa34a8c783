"""One store per merchant account (store_staff.user_id) and one store per name (stores.name): a lost race
answers the service's own 409, and nothing of the losing application is left behind."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from tests.factories import outcome, race, race_on_postgres
from yinli.merchants.models import Store

N = 10


def stores_named(database, prefix: str) -> int:
    with database.session() as s:
        return int(s.scalar(select(func.count()).select_from(Store).where(Store.name.startswith(prefix))) or 0)


def test_a_second_application_and_a_taken_name_are_refused(world, client):
    m = world.merchant()  # has its store
    r = client.post("/api/v1/stores", json={"name": "另一家"}, headers=m.headers)
    assert outcome(r) == (409, "already_has_store")
    other = world.user("merchant")
    r = client.post("/api/v1/stores", json={"name": f"店铺{m.id}"}, headers=other.headers)
    assert outcome(r) == (409, "store_name_taken")


@pytest.mark.postgres
@race_on_postgres
def test_one_merchant_applying_ten_times_at_once_gets_one_store(world, app, database):
    m = world.user("merchant")

    def apply(i, client):
        return outcome(client.post("/api/v1/stores", json={"name": f"并发店{i}"}, headers=m.headers))

    tally = Counter(race(app, N, apply))
    assert tally == {(201, None): 1, (409, "already_has_store"): N - 1}, tally
    assert stores_named(database, "并发店") == 1


@pytest.mark.postgres
@race_on_postgres
def test_ten_merchants_claiming_one_name_at_once_leave_one_store(world, app, database):
    merchants = [world.user("merchant") for _ in range(N)]

    def apply(i, client):
        return outcome(client.post("/api/v1/stores", json={"name": "同名店"}, headers=merchants[i].headers))

    tally = Counter(race(app, N, apply))
    assert tally == {(201, None): 1, (409, "store_name_taken"): N - 1}, tally
    assert stores_named(database, "同名店") == 1
