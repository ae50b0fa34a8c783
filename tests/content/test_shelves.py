"""Shelves (content.shelves): the one definition of best sellers and new arrivals, and the sorted, paged
store and category shelves behind the web's store and category pages (GET /stores/{id}/shelf,
GET /categories/{id}/shelf)."""

from __future__ import annotations

from sqlalchemy import update

from yinli.catalog.models import Product
from yinli.content import shelves


def _sold(world, counts: dict[int, int]) -> None:
    with world.database.sessions() as db:
        for pid, n in counts.items():
            db.execute(update(Product).where(Product.id == pid).values(sales_count=n))
        db.commit()


def test_best_sellers_most_sold_first_ties_to_the_earlier_product_only_on_sale(world):
    m = world.merchant()
    a, b, c, d = (world.product(m)["id"] for _ in range(4))
    other = world.product(world.merchant())["id"]
    _sold(world, {a: 1, b: 5, c: 5, d: 9, other: 7})
    r = world.client.post(f"/api/v1/products/{d}/delist", headers=m.headers)
    assert r.status_code == 200, r.text
    with world.database.read_sessions() as db:
        assert [p.id for p in shelves.best_sellers(db, m.store_id)] == [b, c, a]
        assert [p.id for p in shelves.best_sellers(db)][:2] == [other, b]
        assert [p.id for p in shelves.best_sellers(db, m.store_id, limit=1)] == [b]
        assert [p.id for p in shelves.new_arrivals(db, m.store_id)] == [c, b, a]
    mall = world.client.get("/api/v1/mall").json()
    assert [x["product_id"] for x in mall["best_sellers"]][:4] == [other, b, c, a]


def test_store_shelf_sorts_and_pages(world, client):
    m = world.merchant()
    ids = [world.product(m, price_fen=1000 * (i + 1))["id"] for i in range(22)]
    _sold(world, {ids[3]: 4, ids[7]: 9})
    r = client.get(f"/api/v1/stores/{m.store_id}/shelf")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["sort"], body["page"], body["pages"], body["total"]) == ("sales", 1, 2, 22)
    assert [x["product_id"] for x in body["items"]][:3] == [ids[7], ids[3], ids[0]]
    last = client.get(f"/api/v1/stores/{m.store_id}/shelf", params={"sort": "price_desc", "page": 2}).json()
    assert [x["product_id"] for x in last["items"]] == [ids[1], ids[0]]
    newest = client.get(f"/api/v1/stores/{m.store_id}/shelf", params={"sort": "newest", "page": 9}).json()
    assert newest["page"] == 2 and [x["product_id"] for x in newest["items"]] == [ids[1], ids[0]]
    assert client.get(f"/api/v1/stores/{m.store_id}/shelf", params={"sort": "bogus"}).status_code == 422
    assert client.get("/api/v1/stores/999999/shelf").status_code == 404


def test_category_shelf_covers_the_subtree(world, client):
    m = world.merchant()
    leaf = world.leaf_id()
    p = world.product(m, category_id=leaf)["id"]
    top = client.get(f"/api/v1/categories/{leaf}").json()["ancestors"][0]["id"]
    for category in {leaf, top}:
        body = client.get(f"/api/v1/categories/{category}/shelf", params={"sort": "price_asc"}).json()
        assert p in [x["product_id"] for x in body["items"]]
    assert client.get("/api/v1/categories/999999/shelf").status_code == 404
