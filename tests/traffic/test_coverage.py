"""Launch coverage: one aggregate query that agrees with `merchants.is_new_merchant` store by store."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.factories import stock
from yinli.core.auth import Actor, Role
from yinli.merchants.models import Store, StoreStatus
from yinli.merchants.service import get_policy, is_new_merchant
from yinli.traffic.coverage import launch_coverage
from yinli.traffic.models import LaunchEnrolment

URL = "/api/v1/traffic/launch/coverage"


def _by_python(session, clock, settings):
    """The definition the console used (every active store loaded), kept here as the oracle."""
    policy = get_policy(session, settings)
    active = list(session.scalars(select(Store).where(Store.status == StoreStatus.ACTIVE.value)))
    new = [s for s in active if is_new_merchant(s, policy, clock.now())]
    listed = [s for s in new if s.first_listed_at is not None]
    enrolled = set(session.scalars(select(LaunchEnrolment.store_id)))
    return (len(active), len(new), len(listed), sum(1 for s in listed if s.id in enrolled))


def _enrol(database, clock, store_id):
    now = clock.now()
    with database.session() as s:
        s.add(
            LaunchEnrolment(store_id=store_id, status="active", quota=10, started_at=now, ends_at=now, updated_at=now)
        )


def test_coverage_counts_new_listed_and_enrolled_like_is_new_merchant(world, client, clock, settings, database):
    old = world.merchant()
    world.product(old)  # listed long ago: no longer new
    old_enrolled = world.merchant()
    world.product(old_enrolled)
    _enrol(database, clock, old_enrolled.store_id)
    clock.advance(timedelta(days=settings.default_new_merchant_days, seconds=1))
    world._operator = None  # a fresh operator token after the long wait
    world.merchant()  # new, nothing listed yet
    world.merchant(approve=False)  # applied: not active, not counted
    listed = world.merchant()
    stock(world, listed, world.product(listed)["skus"][0]["id"], 1)
    enrolled = world.merchant()
    world.product(enrolled)
    _enrol(database, clock, enrolled.store_id)

    r = client.get(URL, headers=world.operator.headers)
    assert r.status_code == 200
    got = r.json()
    assert got == {"active_stores": 5, "new_merchants": 3, "new_listed": 2, "new_enrolled": 1}
    with database.read_sessions() as s:
        assert _by_python(s, clock, settings) == tuple(got.values())
        operator = Actor(user_id=world.operator.id, role=Role.OPERATOR, store_id=None)
        assert launch_coverage(s, clock, settings, operator).new_enrolled == 1


def test_coverage_is_for_operators_only(world, client):
    assert client.get(URL).status_code == 401
    assert client.get(URL, headers=world.shopper().headers).status_code == 403
    assert client.get(URL, headers=world.merchant().headers).status_code == 403
    assert client.get(URL, headers=world.operator.headers).status_code == 200
