"""A live room's product cards promise pay later to whoever may use it on them, as every other surface's do:
a visitor within a new shopper's credit, a shopper within theirs, never a merchant."""

from __future__ import annotations


def badges(client, session_id: int, headers=None) -> set[str]:  # type: ignore[no-untyped-def]
    r = client.get(f"/api/v1/live/sessions/{session_id}", headers=headers or {})
    assert r.status_code == 200, r.text
    return set(r.json()["products"][0]["guarantees"])


def test_a_live_rooms_cards_offer_pay_later_only_within_the_readers_credit(world, content, client):
    m = world.merchant()
    s = content.live_session(m, [content.stocked_product(m, price_fen=10_000)["id"]])  # ¥100: within ¥500
    m2 = world.merchant()
    d = content.live_session(m2, [content.stocked_product(m2, price_fen=90_000)["id"]])  # ¥900: above it
    assert "pay_later" in badges(client, s["id"])  # a visitor
    assert "pay_later" in badges(client, s["id"], world.shopper().headers)
    assert "pay_later" not in badges(client, s["id"], m.headers)  # merchants are not sold to on credit
    assert "pay_later" not in badges(client, d["id"])
    live_now = client.get("/api/v1/live/now").json()
    by_id = {x["id"]: x for x in live_now}
    assert "pay_later" in by_id[s["id"]]["products"][0]["guarantees"]
