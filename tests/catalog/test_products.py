"""Products and SKUs: lifecycle, visibility, filters, pagination, cards and outbox events."""

from __future__ import annotations

from sqlalchemy import select

from tests.factories import stock
from yinli.core.outbox import OutboxEvent


def test_lifecycle_draft_listed_delisted_relisted(world, client):
    m = world.merchant()
    p = world.product(m, listed=False)
    path = f"/api/v1/products/{p['id']}"
    assert p["status"] == "draft" and p["price_min"]["amount"] == 3900
    assert client.get(path).status_code == 404  # drafts are not public
    assert client.post(f"{path}/delist", headers=m.headers).status_code == 409  # a draft is not on sale
    assert client.post(f"{path}/list", headers=m.headers).json()["status"] == "listed"
    assert client.get(path).status_code == 200
    assert client.post(f"{path}/list", headers=m.headers).status_code == 409
    assert client.post(f"{path}/delist", headers=m.headers).json()["status"] == "delisted"
    assert client.get(path).status_code == 404
    assert client.post(f"{path}/list", headers=m.headers).json()["status"] == "listed"


def test_only_an_active_store_can_list(world, client):
    m = world.merchant(approve=False)
    p = world.product(m, listed=False)  # drafting while the application is reviewed is fine
    r = client.post(f"/api/v1/products/{p['id']}/list", headers=m.headers)
    assert r.status_code == 409 and r.json()["code"] == "store_inactive"
    assert client.get(f"/api/v1/products/{p['id']}", headers=m.headers).json()["status"] == "draft"


def test_suspending_a_store_hides_its_listed_products(world, client):
    m = world.merchant()
    p = world.product(m)
    assert client.get("/api/v1/product-cards").json()["items"][0]["product_id"] == p["id"]
    client.post(f"/api/v1/stores/{m.store_id}/suspend", json={"reason": "检查"}, headers=world.operator.headers)
    assert client.get("/api/v1/product-cards").json()["items"] == []
    assert client.get(f"/api/v1/products/{p['id']}").status_code == 404
    assert client.get(f"/api/v1/products/{p['id']}", headers=m.headers).status_code == 200


def test_listed_products_keep_an_active_sku(world, client):
    m = world.merchant()
    p = world.product(m)
    a, b = p["skus"]
    assert client.patch(f"/api/v1/skus/{a['id']}", json={"is_active": False}, headers=m.headers).status_code == 200
    r = client.patch(f"/api/v1/skus/{b['id']}", json={"is_active": False}, headers=m.headers)
    assert r.status_code == 409 and r.json()["code"] == "last_active_sku"
    assert client.get(f"/api/v1/skus/{b['id']}").json()["is_active"] is True
    assert client.get(f"/api/v1/products/{p['id']}").json()["price_min"]["amount"] == b["price"]["amount"]


def test_adding_skus_and_price_min(world, client):
    m = world.merchant()
    p = world.product(m, price_fen=5000)
    r = client.post(f"/api/v1/products/{p['id']}/skus", json={"code": "CHEAP", "price_fen": 1000}, headers=m.headers)
    assert r.status_code == 201
    assert client.get(f"/api/v1/products/{p['id']}").json()["price_min"]["amount"] == 1000
    dup = client.post(f"/api/v1/products/{p['id']}/skus", json={"code": "CHEAP", "price_fen": 1000}, headers=m.headers)
    assert dup.status_code == 409 and dup.json()["errors"][0]["field"] == "code"
    assert len(client.get(f"/api/v1/products/{p['id']}").json()["skus"]) == 3


def test_operator_creates_for_any_store_and_merchants_only_for_their_own(world, client):
    a, b = world.merchant(), world.merchant()
    body = {"category_id": world.leaf_id(), "title": "代建商品", "skus": [{"code": "X", "price_fen": 100}]}
    r = client.post("/api/v1/products", json={**body, "store_id": a.store_id}, headers=world.operator.headers)
    assert r.status_code == 201 and r.json()["store_id"] == a.store_id
    r = client.post("/api/v1/products", json={**body, "store_id": a.store_id}, headers=b.headers)
    assert r.status_code == 403
    r = client.post("/api/v1/products", json=body, headers=world.operator.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "store_id"


def test_price_filters_and_cursor_pagination(world, client):
    m = world.merchant()
    made = [world.product(m, price_fen=price)["id"] for price in (1000, 2000, 3000, 4000, 5000)]
    r = client.get("/api/v1/product-cards", params={"min_price": 2000, "max_price": 4000})
    assert [c["product_id"] for c in r.json()["items"]] == [made[3], made[2], made[1]]
    assert client.get("/api/v1/products", params={"min_price": 5, "max_price": 4}).status_code == 422
    seen, cursor = [], None
    while True:
        page = client.get("/api/v1/product-cards", params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += [c["product_id"] for c in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == made[::-1]  # newest first, each exactly once


def test_staff_see_their_drafts_in_lists_others_do_not(world, client):
    m, other = world.merchant(), world.merchant()
    draft = world.product(m, listed=False)
    listed = world.product(m)
    mine = client.get("/api/v1/products", params={"store_id": m.store_id}, headers=m.headers).json()["items"]
    assert {p["id"] for p in mine} == {draft["id"], listed["id"]}
    theirs = client.get("/api/v1/products", params={"store_id": m.store_id}, headers=other.headers).json()["items"]
    assert {p["id"] for p in theirs} == {listed["id"]}
    r = client.get("/api/v1/products", params={"store_id": m.store_id, "status": "draft"}, headers=other.headers)
    assert r.status_code == 403


def test_card_read_model(world, client):
    m = world.merchant(name="卡片店")
    p = world.product(m, price_fen=2990, seven_day_returns=False, pay_later=False)
    card = client.get(f"/api/v1/products/{p['id']}/card").json()
    assert card["final_price"] == {"amount": 2990, "currency": "CNY", "formatted": "¥29.90"}
    assert card["store"] == {"id": m.store_id, "name": "卡片店"}
    assert card["guarantees"] == ["return_shipping_cover", "price_protection"]
    assert card["sku_count"] == 2 and card["sales_count"] == 0
    assert card["rating"] is None and card["rating_count"] == 0


def test_changes_append_outbox_events_in_order(world, client, database):
    m = world.merchant()
    p = world.product(m)
    client.patch(f"/api/v1/products/{p['id']}", json={"title": "新标题"}, headers=m.headers)
    client.post(f"/api/v1/products/{p['id']}/delist", headers=m.headers)
    with database.session() as s:
        types = [
            e.type
            for e in s.scalars(
                select(OutboxEvent).where(OutboxEvent.aggregate_type == "product", OutboxEvent.aggregate_id == p["id"])
            )
        ]
    assert types == ["ProductCreated", "ProductListed", "ProductChanged", "ProductDelisted"]


def test_storefront_page_shows_cards(world, client):
    m = world.merchant(name="页面店")
    p = world.product(m, price_fen=1234)
    stock(world, m, p["skus"][0]["id"], 5)  # the home page is the traffic engine's feed: what can be bought
    r = client.get("/")
    assert r.status_code == 200
    assert "¥12.34" in r.text and "页面店" in r.text
