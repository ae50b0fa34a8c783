"""Reviews (once per delivered line, by its buyer) and complaints; store metrics from events."""

from __future__ import annotations

from datetime import timedelta

from tests.factories import buy, pay, stock
from yinli.jobs import run_once


def delivered_line(world, client, m, s, sku):
    order_id = pay(world, s, buy(world, s, [{"sku_id": sku, "quantity": 1}])["id"])["order_ids"][0]
    client.post(f"/api/v1/orders/{order_id}/ship", json={"carrier": "顺丰", "tracking_no": "SF1234"}, headers=m.headers)
    return order_id


def test_only_the_buyer_reviews_a_delivered_line_once(world, client):
    m = world.merchant()
    p = world.product(m)
    sku = p["skus"][0]["id"]
    stock(world, m, sku, 5)
    s = world.shopper()
    order_id = delivered_line(world, client, m, s, sku)
    line = client.get(f"/api/v1/orders/{order_id}", headers=s.headers).json()["lines"][0]["id"]
    r = client.post(f"/api/v1/order-lines/{line}/review", json={"rating": 4}, headers=s.headers)
    assert r.status_code == 409 and r.json()["code"] == "not_delivered"  # shipped, not yet received
    client.post(f"/api/v1/orders/{order_id}/confirm-delivery", headers=s.headers)
    assert (
        client.post(
            f"/api/v1/order-lines/{line}/review", json={"rating": 4}, headers=world.shopper().headers
        ).status_code
        == 404
    )  # not their purchase
    for bad in ({"rating": 0}, {"rating": 6}, {"rating": 4, "text": "x" * 2001}, {"rating": 4, "extra": 1}):
        assert client.post(f"/api/v1/order-lines/{line}/review", json=bad, headers=s.headers).status_code == 422
    assert (
        client.post(
            f"/api/v1/order-lines/{line}/review", json={"rating": 4, "text": "不错"}, headers=s.headers
        ).status_code
        == 201
    )
    assert client.post(f"/api/v1/order-lines/{line}/review", json={"rating": 1}, headers=s.headers).status_code == 409
    reviews = client.get(f"/api/v1/products/{p['id']}/reviews").json()["items"]
    assert [(r["rating"], r["text"]) for r in reviews] == [(4, "不错")]
    card = client.get(f"/api/v1/products/{p['id']}/card").json()
    assert (card["rating"], card["rating_count"]) == (4.0, 1)


def test_complaints(world, client):
    m, other = world.merchant(), world.merchant()
    sku = world.product(m)["skus"][0]["id"]
    stock(world, m, sku, 5)
    s = world.shopper()
    order_id = delivered_line(world, client, m, s, sku)
    body = {"store_id": m.store_id, "order_id": order_id, "category": "delivery", "text": "太慢了"}
    assert client.post("/api/v1/complaints", json={**body, "category": "rude"}, headers=s.headers).status_code == 422
    r = client.post("/api/v1/complaints", json={**body, "store_id": other.store_id}, headers=s.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "order_id"
    assert client.post("/api/v1/complaints", json=body, headers=m.headers).status_code == 403
    complaint = client.post("/api/v1/complaints", json=body, headers=s.headers).json()
    assert [c["id"] for c in client.get("/api/v1/complaints", headers=m.headers).json()["items"]] == [complaint["id"]]
    assert client.get("/api/v1/complaints", headers=other.headers).json()["items"] == []
    assert (
        client.post(
            f"/api/v1/complaints/{complaint['id']}/resolve", json={"resolution": "已补偿"}, headers=other.headers
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/v1/complaints/{complaint['id']}/resolve", json={"resolution": "已补偿"}, headers=s.headers
        ).status_code
        == 403
    )
    r = client.post(f"/api/v1/complaints/{complaint['id']}/resolve", json={"resolution": "已补偿"}, headers=m.headers)
    assert r.json()["status"] == "resolved"


def test_store_metrics_follow_events_and_rebuild_identically(world, client, app, database, settings, clock):
    m = world.merchant()
    sku = world.product(m)["skus"][0]["id"]
    stock(world, m, sku, 10)
    s = world.shopper()
    fast = delivered_line(world, client, m, s, sku)  # shipped at once
    slow_order = pay(world, s, buy(world, s, [{"sku_id": sku, "quantity": 1}])["id"])["order_ids"][0]
    clock.advance(timedelta(hours=72))
    client.post(
        f"/api/v1/orders/{slow_order}/ship", json={"carrier": "顺丰", "tracking_no": "SF9999"}, headers=m.headers
    )
    clock.advance(timedelta(hours=24))
    for order_id in (fast, slow_order):
        client.post(f"/api/v1/orders/{order_id}/confirm-delivery", headers=s.headers)
    client.post(
        "/api/v1/complaints", json={"store_id": m.store_id, "category": "delivery", "text": "慢"}, headers=s.headers
    )
    run_once(database, clock, settings, app.state.gateway)
    metrics = client.get(f"/api/v1/stores/{m.store_id}/metrics").json()
    assert metrics["orders_paid"] == 2
    assert metrics["on_time_shipping_rate"] == 0.5
    assert metrics["complaint_rate"] == 0.5
    assert metrics["avg_delivery_hours"] == round((96 + 24) / 2, 1)
    assert metrics["good_review_rate"] is None
    # rebuilt from the event log: the same numbers
    from sqlalchemy import delete

    from yinli.core.outbox import OutboxCursor
    from yinli.orders.metrics import CONSUMER, StoreMetrics, refresh

    with database.session() as session:
        session.execute(delete(StoreMetrics))
        session.execute(delete(OutboxCursor).where(OutboxCursor.consumer == CONSUMER))
    with database.session() as session:
        refresh(session, clock)
    assert client.get(f"/api/v1/stores/{m.store_id}/metrics").json() == metrics
