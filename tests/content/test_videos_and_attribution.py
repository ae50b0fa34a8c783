"""Short videos, shelf sections, and GMV split by format and creator (mixed carts keep attribution)."""

from __future__ import annotations

from tests.factories import ADDRESS, pay


def test_videos_link_products_and_count_plays(world, content, client):
    m = world.merchant()
    p = content.stocked_product(m)
    delisted = content.stocked_product(m)
    client.post(f"/api/v1/products/{delisted['id']}/delist", headers=m.headers)
    body = {
        "title": "开箱",
        "duration_seconds": 30,
        "cover_url": "https://img.example/c.jpg",
        "video_url": "https://video.example/v.mp4",
    }
    r = client.post("/api/v1/videos", json={**body, "product_ids": [delisted["id"]]}, headers=m.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "product_ids.0"
    creator = content.creator()
    r = client.post("/api/v1/videos", json={**body, "product_ids": [p["id"]]}, headers=creator.headers)
    assert r.status_code == 409  # no affiliate plan for this creator
    assert client.get("/api/v1/videos").json()["items"] == []
    video = client.post("/api/v1/videos", json={**body, "product_ids": [p["id"]]}, headers=m.headers).json()
    viewer = world.shopper()
    for watched in (30, 12, 30):
        client.post(
            f"/api/v1/videos/{video['id']}/views",
            json={"watched_seconds": watched, "liked": watched == 30},
            headers=viewer.headers,
        )
    assert (
        client.post(
            f"/api/v1/videos/{video['id']}/views", json={"watched_seconds": 31}, headers=viewer.headers
        ).status_code
        == 422
    )
    stats = client.get(f"/api/v1/videos/{video['id']}").json()["stats"]
    assert (stats["views"], stats["completed_views"], stats["likes"], stats["completion_rate"]) == (3, 2, 2, 0.6667)
    assert client.post(f"/api/v1/videos/{video['id']}/remove", headers=world.merchant().headers).status_code == 403
    assert client.post(f"/api/v1/videos/{video['id']}/remove", headers=m.headers).json()["status"] == "removed"
    assert client.get(f"/api/v1/videos/{video['id']}").status_code == 404


def test_mixed_cart_keeps_attribution_and_sales_split_by_format_and_creator(world, content, client):
    m = world.merchant()
    live_p, video_p, search_p = (content.stocked_product(m, price_fen=f) for f in (10000, 6000, 3000))
    creator = content.creator()
    content.plan(m, live_p["id"], 1000)
    content.plan(m, video_p["id"], 1000)
    s = content.live_session(creator, [live_p["id"]])
    video = client.post(
        "/api/v1/videos",
        headers=creator.headers,
        json={
            "title": "种草",
            "duration_seconds": 20,
            "cover_url": "https://img.example/c.jpg",
            "video_url": "https://video.example/v.mp4",
            "product_ids": [video_p["id"]],
        },
    ).json()
    shopper = world.shopper()
    for item in (
        {"sku_id": live_p["skus"][0]["id"], "quantity": 1, "surface": "live", "source_id": s["id"]},
        {"sku_id": video_p["skus"][0]["id"], "quantity": 2, "surface": "short_video", "source_id": video["id"]},
        {"sku_id": search_p["skus"][0]["id"], "quantity": 1, "surface": "search"},
    ):
        assert client.post("/api/v1/cart/items", json=item, headers=shopper.headers).status_code == 200
    payment = client.post("/api/v1/checkout", json={"address": ADDRESS}, headers=shopper.headers).json()
    assert len(payment["order_ids"]) == 1  # one store, one order with three attributed lines
    pay(world, shopper, payment["id"])
    lines = client.get(f"/api/v1/orders/{payment['order_ids'][0]}", headers=shopper.headers).json()["lines"]
    assert sorted((x["surface"], x["source_id"], x["creator_id"]) for x in lines) == sorted(
        [("live", s["id"], creator.id), ("short_video", video["id"], creator.id), ("search", None, None)]
    )
    by_surface = client.get("/api/v1/analytics/sales", params={"by": "surface"}, headers=m.headers).json()
    assert {i["key"]: i["gmv"]["amount"] for i in by_surface["items"]} == {
        "live": 10000,
        "short_video": 12000,
        "search": 3000,
    }
    assert by_surface["total"]["amount"] == 25000
    assert all(i["orders"] == 1 and i["buyers"] == 1 for i in by_surface["items"])
    by_creator = client.get("/api/v1/analytics/sales", params={"by": "creator"}, headers=world.operator.headers).json()
    assert [(i["key"], i["gmv"]["amount"]) for i in by_creator["items"]] == [(str(creator.id), 22000)]
    mine = client.get("/api/v1/analytics/sales", params={"by": "surface"}, headers=creator.headers).json()
    assert mine["total"]["amount"] == 22000  # a creator sees only what they sold
    assert client.get("/api/v1/analytics/sales", headers=shopper.headers).status_code == 403
    assert (
        client.get(
            "/api/v1/analytics/sales", params={"store_id": m.store_id}, headers=world.merchant().headers
        ).status_code
        == 403
    )
    assert client.get(f"/api/v1/videos/{video['id']}").json()["stats"]["gmv"]["amount"] == 12000
    profile = client.get(f"/api/v1/creators/{creator.id}").json()
    assert profile["gmv_30d"]["amount"] == 22000 and profile["level"] == 0  # ¥220: level 1 starts at ¥1,000


def test_creator_levels_follow_results():
    from yinli.content.creators import level_for

    assert [level_for(f) for f in (0, 99_999, 100_000, 1_000_000, 10**7, 10**8, 10**9, 10**12)] == [
        0,
        0,
        1,
        2,
        3,
        4,
        5,
        5,
    ]


def test_mall_and_store_page_sections_and_follows(world, content, client):
    m = world.merchant(name="好物店")
    older = content.stocked_product(m, price_fen=1000)
    newer = content.stocked_product(m, price_fen=2000)
    shopper = world.shopper()
    payment = client.post(
        "/api/v1/checkout",
        headers=shopper.headers,
        json={"items": [{"sku_id": older["skus"][0]["id"], "quantity": 3, "surface": "mall"}], "address": ADDRESS},
    ).json()
    pay(world, shopper, payment["id"])
    mall = client.get("/api/v1/mall").json()
    assert len(mall["categories"]) == 22
    assert [c["product_id"] for c in mall["new_arrivals"]][:2] == [newer["id"], older["id"]]
    assert mall["best_sellers"][0]["product_id"] == older["id"]
    assert (
        client.post(
            "/api/v1/follows", json={"target_type": "store", "target_id": m.store_id}, headers=shopper.headers
        ).status_code
        == 201
    )
    assert (
        client.post(
            "/api/v1/follows", json={"target_type": "store", "target_id": m.store_id}, headers=shopper.headers
        ).status_code
        == 200  # following again is idempotent: the same follow, no second row
    )
    page = client.get(f"/api/v1/stores/{m.store_id}/page").json()
    assert page["name"] == "好物店" and page["followers"] == 1 and page["live_session_id"] is None
    assert page["best_sellers"][0]["product_id"] == older["id"]
    s = content.live_session(m, [newer["id"]])
    assert client.get(f"/api/v1/stores/{m.store_id}/page").json()["live_session_id"] == s["id"]
    assert client.delete(f"/api/v1/follows/store/{m.store_id}", headers=shopper.headers).status_code == 204
    assert client.get("/api/v1/me/follows", headers=shopper.headers).json() == []
