"""The whole journey through the API: find, buy, pay, ship, receive, return, refund — ledger balanced
at every step, stock and money accounted for."""

from __future__ import annotations

from datetime import timedelta

from tests.factories import pay, stock
from yinli.jobs import run_once


def ledger(world):
    r = world.client.get("/api/v1/ledger/balances", headers=world.operator.headers)
    assert r.status_code == 200
    body = r.json()
    assert body["unbalanced_transactions"] == []
    assert sum(body["balances"].values()) == 0
    return body["balances"]


def available(client, sku_id):
    return client.get(f"/api/v1/skus/{sku_id}/stock").json()["available"]


def test_find_buy_pay_ship_deliver_return_refund(world, client, app, database, settings, clock):
    m = world.merchant()
    product = world.product(m, price_fen=4900)
    sku = product["skus"][0]
    stock(world, m, sku["id"], 10)
    shopper = world.shopper()

    # find it
    cards = client.get("/api/v1/product-cards", params={"store_id": m.store_id}).json()["items"]
    assert cards[0]["product_id"] == product["id"] and cards[0]["final_price"]["amount"] == 4900

    # cart shows the same price, then checkout holds stock
    r = client.post(
        "/api/v1/cart/items", json={"sku_id": sku["id"], "quantity": 2, "surface": "search"}, headers=shopper.headers
    )
    assert r.status_code == 200
    cart = r.json()
    assert cart["stores"][0]["lines"][0]["unit"]["final_price"]["amount"] == 4900
    assert cart["total"]["amount"] == 9800
    r = client.post(
        "/api/v1/checkout",
        json={"address": {"name": "李雷", "phone": "13800000000", "region": "杭州", "line": "文三路 1 号"}},
        headers=shopper.headers,
    )
    assert r.status_code == 201, r.text
    payment = r.json()
    assert payment["status"] == "pending" and payment["amount"]["amount"] == 9800
    assert client.get("/api/v1/cart", headers=shopper.headers).json()["stores"] == []
    assert available(client, sku["id"]) == 8
    ledger(world)

    # pay
    paid = pay(world, shopper, payment["id"])
    assert paid["status"] == "succeeded"
    order_id = paid["order_ids"][0]
    order = client.get(f"/api/v1/orders/{order_id}", headers=shopper.headers).json()
    assert order["status"] == "paid" and order["lines"][0]["surface"] == "search"
    balances = ledger(world)
    assert balances["gateway_cash"] == 9800 and balances["escrow"] == -9800
    assert client.get(f"/api/v1/products/{product['id']}").json()["sales_count"] == 2
    # paying twice is refused and changes nothing
    r = client.post(f"/api/v1/payments/{payment['id']}/pay", json={"method": "card"}, headers=shopper.headers)
    assert r.status_code == 409
    assert ledger(world) == balances

    # ship (a shipment for an unpaid order is refused elsewhere) and receive
    r = client.post(
        f"/api/v1/orders/{order_id}/ship", json={"carrier": "顺丰", "tracking_no": "SF1234567"}, headers=m.headers
    )
    assert r.status_code == 200 and r.json()["status"] == "shipped"
    r = client.post(f"/api/v1/orders/{order_id}/confirm-delivery", headers=shopper.headers)
    assert r.json()["status"] == "delivered"

    # return one unit within the window: merchant approves, shopper ships back, merchant receives
    line_id = order["lines"][0]["id"]
    r = client.post(
        f"/api/v1/orders/{order_id}/after-sales",
        headers=shopper.headers,
        json={"kind": "return_refund", "reason": "尺码不合适", "lines": [{"order_line_id": line_id, "quantity": 1}]},
    )
    assert r.status_code == 201, r.text
    case = r.json()
    # ¥49 is under the auto-approval limit and the shopper has no refunds yet: approved at once
    assert case["amount"]["amount"] == 4900 and case["auto_approved"] and case["status"] == "awaiting_return"
    r = client.post(
        f"/api/v1/after-sales/{case['id']}/return-shipment",
        json={"carrier": "中通", "tracking_no": "ZT40604"},
        headers=shopper.headers,
    )
    assert r.json()["status"] == "return_shipped"
    r = client.post(f"/api/v1/after-sales/{case['id']}/receive", headers=m.headers)
    assert r.status_code == 200 and r.json()["status"] == "refunded"
    assert available(client, sku["id"]) == 9  # the unit is back on the shelf
    balances = ledger(world)
    # and the return's postage (return-shipping cover, ¥8) paid out of the cover pool, which the platform topped up
    postage = settings.return_cover_fen
    assert balances["gateway_cash"] == 4900 - postage and balances["escrow"] == -4900
    assert balances["return_cover_platform"] == postage
    order = client.get(f"/api/v1/orders/{order_id}", headers=shopper.headers).json()
    assert order["refunded"]["amount"] == 4900 and order["status"] == "delivered"

    # the window closes: the order completes and the merchant is settled, less the technical fee
    clock.advance(timedelta(days=settings.return_window_days, seconds=1))
    run_once(database, clock, settings, app.state.gateway)
    order = client.get(f"/api/v1/orders/{order_id}", headers=shopper.headers).json()
    assert order["status"] == "completed"
    balances = ledger(world)
    fee = 4900 * settings.default_fee_rate_bps // 10_000
    assert balances.get("escrow", 0) == 0
    assert balances[f"merchant_payable:{m.store_id}"] == -(4900 - fee)
    assert balances["platform_fee_revenue"] == -fee
    assert app.state.gateway.captured_fen - app.state.gateway.refunded_fen == balances["gateway_cash"]

    # the shopper reviews; metrics pick it up
    r = client.post(f"/api/v1/order-lines/{line_id}/review", json={"rating": 5, "text": "好"}, headers=shopper.headers)
    assert r.status_code == 201
    assert (
        client.post(f"/api/v1/order-lines/{line_id}/review", json={"rating": 4}, headers=shopper.headers).status_code
        == 409
    )
    run_once(database, clock, settings, app.state.gateway)
    metrics = client.get(f"/api/v1/stores/{m.store_id}/metrics").json()
    assert metrics["orders_paid"] == 1 and metrics["good_review_rate"] == 1.0 and metrics["refund_rate"] == 1.0
    assert client.get(f"/api/v1/products/{product['id']}/card").json()["rating"] == 5.0
