"""Live rooms: lifecycle, product list, presenting, viewers, stats, bad input, and the SSE stream."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

from sqlalchemy import func, select

from tests.factories import ADDRESS, pay
from yinli.content.models import LiveSession, LiveSessionProduct, LiveVisit


def test_a_store_room_from_schedule_to_end_with_stats(world, content, client, clock):
    m = world.merchant()
    a, b = content.stocked_product(m, price_fen=5000), content.stocked_product(m, price_fen=8000)
    s = content.live_session(m, [a["id"], b["id"]], start=False)
    assert s["status"] == "scheduled" and [c["product_id"] for c in s["products"]] == [a["id"], b["id"]]
    sid = s["id"]
    viewer = world.shopper()
    assert client.post(f"/api/v1/live/sessions/{sid}/join", headers=viewer.headers).status_code == 409  # not live
    assert client.post(f"/api/v1/live/sessions/{sid}/start", headers=m.headers).json()["status"] == "live"
    assert client.get("/api/v1/live/now").json()[0]["id"] == sid
    assert (
        client.post(f"/api/v1/live/sessions/{sid}/present", json={"product_id": b["id"]}, headers=m.headers).json()[
            "presenting_product_id"
        ]
        == b["id"]
    )
    v1, v2 = viewer, world.shopper()
    client.post(f"/api/v1/live/sessions/{sid}/join", headers=v1.headers)
    client.post(f"/api/v1/live/sessions/{sid}/join", headers=v1.headers)  # twice is one viewer
    assert client.post(f"/api/v1/live/sessions/{sid}/join", headers=v2.headers).json()["viewers_now"] == 2
    clock.advance(timedelta(minutes=10))
    assert client.post(f"/api/v1/live/sessions/{sid}/leave", headers=v1.headers).json()["viewers_now"] == 1
    client.post(f"/api/v1/live/sessions/{sid}/join", headers=v1.headers)  # comes back: a view, not a new viewer
    client.post(f"/api/v1/live/sessions/{sid}/like", json={"count": 30}, headers=v2.headers)
    payment = client.post(
        "/api/v1/checkout",
        headers=v2.headers,
        json={
            "items": [{"sku_id": b["skus"][0]["id"], "quantity": 2, "surface": "live", "source_id": sid}],
            "address": ADDRESS,
        },
    ).json()
    pay(world, v2, payment["id"])
    clock.advance(timedelta(minutes=5))
    ended = client.post(f"/api/v1/live/sessions/{sid}/end", headers=m.headers).json()
    assert ended["status"] == "ended" and ended["viewers_now"] == 0
    stats = ended["stats"]
    assert stats["peak_viewers"] == 2 and stats["cumulative_viewers"] == 2 and stats["views"] == 3
    assert stats["watch_seconds"] == 600 + 15 * 60 + 5 * 60  # v1: 10 min + 5 min, v2: 15 min
    assert stats["likes"] == 30 and stats["orders"] == 1 and stats["gmv"]["amount"] == 16000
    assert stats["gpm"]["amount"] == 16000 * 1000 // 3


def test_bad_live_input_changes_nothing(world, content, client, database):
    m, other = world.merchant(), world.merchant()
    mine = content.stocked_product(m)
    theirs = content.stocked_product(other)
    draft = world.product(m, listed=False)
    room = content.room(m)
    before = _counts(database)
    for product_ids, status in (([theirs["id"]], 403), ([draft["id"]], 422), ([mine["id"], mine["id"]], 422)):
        r = client.post(
            f"/api/v1/live/rooms/{room['id']}/sessions",
            json={"title": "x", "product_ids": product_ids},
            headers=m.headers,
        )
        assert r.status_code == status, (product_ids, r.text)
    assert _counts(database) == before
    # a creator's room cannot sell a product without an affiliate plan
    creator = content.creator()
    croom = content.room(creator)
    r = client.post(
        f"/api/v1/live/rooms/{croom['id']}/sessions",
        json={"title": "x", "product_ids": [mine["id"]]},
        headers=creator.headers,
    )
    assert r.status_code == 409 and r.json()["code"] == "no_affiliate_plan"
    assert _counts(database) == before
    # someone else cannot run my room
    r = client.post(
        f"/api/v1/live/rooms/{room['id']}/sessions", json={"title": "x", "product_ids": []}, headers=other.headers
    )
    assert r.status_code == 403
    s = content.live_session(m, [mine["id"]])
    other_product = content.stocked_product(m)
    r = client.post(
        f"/api/v1/live/sessions/{s['id']}/present", json={"product_id": other_product["id"]}, headers=m.headers
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "product_id"
    stranger = world.shopper()
    r = client.post(f"/api/v1/live/sessions/{s['id']}/leave", headers=stranger.headers)
    assert r.status_code == 409 and r.json()["code"] == "not_in_room"
    assert client.get(f"/api/v1/live/sessions/{s['id']}").json()["presenting_product_id"] is None
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(LiveVisit)) == 0


def _counts(database):
    with database.session() as s:
        return (
            s.scalar(select(func.count()).select_from(LiveSession)),
            s.scalar(select(func.count()).select_from(LiveSessionProduct)),
        )


def read_stream(client, session_id, out, ready):
    with client.stream("GET", f"/api/v1/live/sessions/{session_id}/stream", params={"max_seconds": 20}) as r:
        event = {}
        for line in r.iter_lines():
            if line.startswith("event: "):
                event["type"] = line[7:]
            elif line.startswith("data: "):
                event["data"] = json.loads(line[6:])
            elif line.startswith("id: "):
                event["id"] = int(line[4:])
            elif not line and event:
                out.append(event)
                if event["type"] == "state":
                    ready.set()
                event = {}


def test_the_stream_delivers_state_changes_in_order(world, content, client):
    m = world.merchant()
    a, b = content.stocked_product(m), content.stocked_product(m)
    s = content.live_session(m, [a["id"], b["id"]])
    sid = s["id"]
    events: list = []
    ready = threading.Event()
    reader = threading.Thread(target=read_stream, args=(client, sid, events, ready))
    reader.start()
    assert ready.wait(10)
    v = world.shopper()
    client.post(f"/api/v1/live/sessions/{sid}/present", json={"product_id": a["id"]}, headers=m.headers)
    client.post(f"/api/v1/live/sessions/{sid}/join", headers=v.headers)
    payment = client.post(
        "/api/v1/checkout",
        headers=v.headers,
        json={
            "items": [{"sku_id": a["skus"][0]["id"], "quantity": 1, "surface": "live", "source_id": sid}],
            "address": ADDRESS,
        },
    ).json()
    pay(world, v, payment["id"])
    client.post(f"/api/v1/live/sessions/{sid}/present", json={"product_id": b["id"]}, headers=m.headers)
    client.post(f"/api/v1/live/sessions/{sid}/leave", headers=v.headers)
    client.post(f"/api/v1/live/sessions/{sid}/end", headers=m.headers)
    reader.join(20)
    assert not reader.is_alive()  # the stream closed after LiveEnded
    assert [e["type"] for e in events] == [
        "state",
        "ProductPresented",
        "ViewerJoined",
        "LivePurchase",
        "ProductPresented",
        "ViewerLeft",
        "LiveEnded",
    ]
    assert events[0]["data"] == {"status": "live", "viewers_now": 0, "presenting_product_id": None}
    ids = [e["id"] for e in events[1:]]
    assert ids == sorted(ids)
    assert [e["data"]["presenting_product_id"] for e in events[1:4]] == [a["id"]] * 3
    assert events[2]["data"]["viewers_now"] == 1 and events[5]["data"]["viewers_now"] == 0
    assert events[3]["data"]["product_id"] == a["id"]
