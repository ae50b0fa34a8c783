"""The content domain's "only one" rules hold under concurrency (DESIGN rule 7), kept by the database:
- one scheduled-or-live session per room (uq_live_sessions_room_open);
- one open visit per viewer and session, so `viewers_now` counts a viewer once (uq_live_visits_open), and
  leaving decrements once (a conditional update);
- one active open plan per product, one active targeted plan per product and creator;
- one room per store.
Race tests run on PostgreSQL (10 threads behind a barrier); the others on both databases.
"""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from tests.factories import outcome, race, race_on_postgres
from yinli.content.models import AffiliatePlan, LiveSession, LiveVisit

N = 10


def sessions_open(database, room_id: int) -> int:
    with database.session() as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(LiveSession)
                .where(LiveSession.room_id == room_id, LiveSession.status.in_(["scheduled", "live"]))
            )
            or 0
        )


def viewers(database, session_id: int) -> tuple[int, int, int, int]:
    """viewers_now, views, cumulative viewers, open visits."""
    with database.session() as s:
        live = s.get(LiveSession, session_id)
        assert live is not None
        visits = s.scalar(
            select(func.count())
            .select_from(LiveVisit)
            .where(LiveVisit.session_id == session_id, LiveVisit.left_at.is_(None))
        )
        return live.viewers_now, live.views, live.cumulative_viewers, int(visits or 0)


def active_plans(database, product_id: int, kind: str) -> list[int]:
    with database.session() as s:
        return list(
            s.scalars(
                select(AffiliatePlan.id).where(
                    AffiliatePlan.product_id == product_id, AffiliatePlan.status == "active", AffiliatePlan.kind == kind
                )
            )
        )


# --- both databases: the second attempt gets the clear 409 ---------------------------------------------------


def test_a_second_session_in_a_room_is_refused(world, content, client, database):
    m = world.merchant()
    p = content.stocked_product(m)
    content.live_session(m, [p["id"]], start=False)
    room = content.room(m)
    r = client.post(
        f"/api/v1/live/rooms/{room['id']}/sessions", json={"title": "再来", "product_ids": [p["id"]]}, headers=m.headers
    )
    assert outcome(r) == (409, "session_open")
    assert sessions_open(database, room["id"]) == 1


def test_joining_twice_counts_one_viewer_and_leaving_twice_is_refused(world, content, client, database):
    m = world.merchant()
    s = content.live_session(m, [content.stocked_product(m)["id"]])
    v = world.shopper()
    for _ in range(2):
        assert client.post(f"/api/v1/live/sessions/{s['id']}/join", headers=v.headers).json()["viewers_now"] == 1
    assert viewers(database, s["id"]) == (1, 1, 1, 1)
    assert client.post(f"/api/v1/live/sessions/{s['id']}/leave", headers=v.headers).json()["viewers_now"] == 0
    assert outcome(client.post(f"/api/v1/live/sessions/{s['id']}/leave", headers=v.headers)) == (409, "not_in_room")
    assert viewers(database, s["id"]) == (0, 1, 1, 0)


def test_a_second_plan_of_a_kind_replaces_the_first(world, content, database):
    m = world.merchant()
    p = content.stocked_product(m)
    creator = content.creator()
    first, second = content.plan(m, p["id"], 1000), content.plan(m, p["id"], 1500)
    t1, t2 = content.plan(m, p["id"], 2000, creator.id), content.plan(m, p["id"], 2500, creator.id)
    assert active_plans(database, p["id"], "open") == [second["id"]] != [first["id"]]
    assert active_plans(database, p["id"], "targeted") == [t2["id"]] != [t1["id"]]


def test_a_second_room_is_refused(world, content, client):
    m = world.merchant()
    content.room(m)
    r = client.post("/api/v1/live/rooms", json={"title": "第二间"}, headers=m.headers)
    assert outcome(r) == (409, "room_exists")


# --- PostgreSQL: 10 at once ------------------------------------------------------------------------------------


@pytest.mark.postgres
@race_on_postgres
def test_ten_hosts_scheduling_at_once_leave_one_session(world, content, app, database):
    m = world.merchant()
    p = content.stocked_product(m)
    room = content.room(m)

    def schedule(i, client):
        body = {"title": f"场次{i}", "product_ids": [p["id"]]}
        return outcome(client.post(f"/api/v1/live/rooms/{room['id']}/sessions", json=body, headers=m.headers))

    tally = Counter(race(app, N, schedule))
    assert tally == {(201, None): 1, (409, "session_open"): N - 1}, tally
    assert sessions_open(database, room["id"]) == 1


@pytest.mark.postgres
@race_on_postgres
def test_one_viewer_joining_ten_times_at_once_is_one_viewer_and_leaves_once(world, content, app, database):
    m = world.merchant()
    s = content.live_session(m, [content.stocked_product(m)["id"]])
    v = world.shopper()

    def join(_i, client):
        r = client.post(f"/api/v1/live/sessions/{s['id']}/join", headers=v.headers)
        return outcome(r), r.json().get("viewers_now")

    assert Counter(race(app, N, join)) == {((200, None), 1): N}
    assert viewers(database, s["id"]) == (1, 1, 1, 1)

    def leave(_i, client):
        return outcome(client.post(f"/api/v1/live/sessions/{s['id']}/leave", headers=v.headers))

    tally = Counter(race(app, N, leave))
    assert tally == {(200, None): 1, (409, "not_in_room"): N - 1}, tally
    assert viewers(database, s["id"]) == (0, 1, 1, 0)


@pytest.mark.postgres
@race_on_postgres
def test_ten_viewers_and_the_end_at_once_leave_nobody_counted(world, content, app, database):
    """Joins racing the end: each either got in before the end (and was let out by it) or was refused."""
    m = world.merchant()
    s = content.live_session(m, [content.stocked_product(m)["id"]])
    people = [world.shopper() for _ in range(N - 1)]

    def act(i, client):
        if i == N - 1:
            return outcome(client.post(f"/api/v1/live/sessions/{s['id']}/end", headers=m.headers))
        return outcome(client.post(f"/api/v1/live/sessions/{s['id']}/join", headers=people[i].headers))

    results = race(app, N, act)
    assert results[-1] == (200, None)
    assert set(results[:-1]) <= {(200, None), (409, "invalid_transition")}, results
    now, views, _, open_visits = viewers(database, s["id"])
    assert (now, open_visits) == (0, 0)
    assert views == results[:-1].count((200, None))


@pytest.mark.postgres
@race_on_postgres
@pytest.mark.parametrize("targeted", [False, True])
def test_ten_plans_opened_at_once_leave_one_active(world, content, app, database, targeted):
    m = world.merchant()
    p = content.stocked_product(m)
    creator = content.creator() if targeted else None

    def open_plan(i, client):
        body = {"product_id": p["id"], "rate_bps": 1000 + i, **({"creator_id": creator.id} if creator else {})}
        r = client.post("/api/v1/affiliate-plans", json=body, headers=m.headers)
        return outcome(r), r.json().get("id")

    results = race(app, N, open_plan)
    # openings queue on the product's lock, each replacing the one before: all succeed, one stays active
    assert [o for o, _ in results] == [(201, None)] * N, results
    active = active_plans(database, p["id"], "targeted" if targeted else "open")
    assert len(active) == 1 and active[0] == max(i for _, i in results)


@pytest.mark.postgres
@race_on_postgres
def test_ten_rooms_opened_at_once_leave_one(world, app):
    m = world.merchant()

    def open_room(i, client):
        return outcome(client.post("/api/v1/live/rooms", json={"title": f"间{i}"}, headers=m.headers))

    tally = Counter(race(app, N, open_room))
    assert tally == {(201, None): 1, (409, "room_exists"): N - 1}, tally


def test_a_taken_handle_is_refused(world, content, client):
    first = content.creator("dup")
    handle = f"dup{first.id}"
    second = world.user("creator")
    r = client.put("/api/v1/creators/me", json={"handle": handle, "bio": ""}, headers=second.headers)
    assert outcome(r) == (409, "handle_taken")


@pytest.mark.postgres
@race_on_postgres
def test_ten_creators_claiming_one_handle_at_once_leave_one(world, app):
    creators = [world.user("creator") for _ in range(N)]

    def claim(i, client):
        r = client.put("/api/v1/creators/me", json={"handle": "heyin", "bio": ""}, headers=creators[i].headers)
        return outcome(r)

    tally = Counter(race(app, N, claim))
    assert tally == {(200, None): 1, (409, "handle_taken"): N - 1}, tally
