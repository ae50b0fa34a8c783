"""Favourites (idempotent, kept when sold out or delisted, with their state) and followed stores."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.factories import stock
from yinli.content.models import Favourite, Follow


def rows(database, model) -> int:
    with database.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_favouriting_twice_is_one_favourite_and_unfavouriting_is_idempotent(world, client, database):
    m, s = world.merchant(), world.shopper()
    p = world.product(m, price_fen=5900)
    stock(world, m, p["skus"][0]["id"], 3)
    path = f"/api/v1/me/favourites/{p['id']}"
    first = client.put(path, headers=s.headers)
    assert first.status_code == 201, first.text
    again = client.put(path, headers=s.headers)
    assert again.status_code == 200 and again.json() == first.json()
    assert rows(database, Favourite) == 1
    listed = client.get("/api/v1/me/favourites", headers=s.headers).json()
    assert [(f["product_id"], f["state"], f["available"]) for f in listed] == [(p["id"], "on_sale", 3)]
    assert listed[0]["card"]["final_price"]["amount"] == 5900
    assert client.delete(path, headers=s.headers).status_code == 204
    assert client.delete(path, headers=s.headers).status_code == 204
    assert client.get("/api/v1/me/favourites", headers=s.headers).json() == [] and rows(database, Favourite) == 0


def test_a_favourite_says_when_it_is_sold_out_or_no_longer_on_sale(world, client):
    m, s = world.merchant(), world.shopper()
    sold_out, delisted = world.product(m), world.product(m)
    for p in (sold_out, delisted):
        assert client.put(f"/api/v1/me/favourites/{p['id']}", headers=s.headers).status_code == 201
    assert client.post(f"/api/v1/products/{delisted['id']}/delist", headers=m.headers).status_code == 200
    states = {f["product_id"]: f["state"] for f in client.get("/api/v1/me/favourites", headers=s.headers).json()}
    assert states == {sold_out["id"]: "sold_out", delisted["id"]: "off_sale"}


def test_only_visible_products_can_be_favourited_and_only_by_buyers(world, client, database):
    m, s = world.merchant(), world.shopper()
    draft = world.product(m, listed=False)
    assert client.put(f"/api/v1/me/favourites/{draft['id']}", headers=s.headers).status_code == 404
    listed = world.product(m)
    assert client.put(f"/api/v1/me/favourites/{listed['id']}", headers=m.headers).status_code == 403
    assert rows(database, Favourite) == 0


def test_following_a_store_twice_is_one_follow_and_it_is_listed(world, client, database):
    m, s = world.merchant(), world.shopper()
    world.product(m)
    body = {"target_type": "store", "target_id": m.store_id}
    assert client.post("/api/v1/follows", json=body, headers=s.headers).status_code == 201
    assert client.post("/api/v1/follows", json=body, headers=s.headers).status_code == 200
    assert rows(database, Follow) == 1
    stores = client.get("/api/v1/me/followed-stores", headers=s.headers).json()
    assert [(x["store_id"], x["is_open"], x["products_on_sale"]) for x in stores] == [(m.store_id, True, 1)]
    assert client.delete(f"/api/v1/follows/store/{m.store_id}", headers=s.headers).status_code == 204
    assert client.get("/api/v1/me/followed-stores", headers=s.headers).json() == []
