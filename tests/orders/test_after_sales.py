"""After-sale rules: refund only before shipping, returns within the window, approval, rejection,
auto-approval of small amounts for shoppers in good standing, stock and money back."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import buy, pay, stock


@pytest.fixture
def paid_order(world, client):
    """A paid order of 2 units at ¥99 (over the auto-approval limit) and its actors."""
    m = world.merchant()
    sku = world.product(m, price_fen=9900)["skus"][0]["id"]
    stock(world, m, sku, 5)
    s = world.shopper()
    payment = pay(world, s, buy(world, s, [{"sku_id": sku, "quantity": 2}])["id"])
    order = client.get(f"/api/v1/orders/{payment['order_ids'][0]}", headers=s.headers).json()
    return m, s, order, sku


def ask(client, shopper, order_id, **body):
    return client.post(
        f"/api/v1/orders/{order_id}/after-sales", json={"reason": "不想要了", **body}, headers=shopper.headers
    )


def test_refund_only_before_shipping_needs_the_merchant_then_pays_back_all(world, client, paid_order):
    m, s, order, sku = paid_order
    r = ask(client, s, order["id"], kind="refund_only")
    assert r.status_code == 201
    case = r.json()
    assert case["status"] == "requested" and not case["auto_approved"] and case["amount"]["amount"] == 19800
    # the merchant may not ship while the shopper waits for a refund
    r = client.post(
        f"/api/v1/orders/{order['id']}/ship", json={"carrier": "顺丰", "tracking_no": "SF1234"}, headers=m.headers
    )
    assert r.status_code == 409
    assert ask(client, s, order["id"], kind="refund_only").status_code == 409  # one open case at a time
    assert (
        client.post(
            f"/api/v1/after-sales/{case['id']}/decide", json={"decision": "approve"}, headers=world.merchant().headers
        ).status_code
        == 404
    )
    r = client.post(f"/api/v1/after-sales/{case['id']}/decide", json={"decision": "approve"}, headers=m.headers)
    assert r.json()["status"] == "refunded"
    order = client.get(f"/api/v1/orders/{order['id']}", headers=s.headers).json()
    assert order["status"] == "refunded" and order["refunded"]["amount"] == 19800
    assert client.get(f"/api/v1/skus/{sku}/stock").json()["available"] == 5


def test_rejection_needs_a_reason_and_changes_no_money(world, client, paid_order):
    m, s, order, _ = paid_order
    case = ask(client, s, order["id"], kind="refund_only").json()
    r = client.post(f"/api/v1/after-sales/{case['id']}/decide", json={"decision": "reject"}, headers=m.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "note"
    r = client.post(
        f"/api/v1/after-sales/{case['id']}/decide", json={"decision": "reject", "note": "已发货途中"}, headers=m.headers
    )
    assert r.json()["status"] == "rejected"
    assert client.get(f"/api/v1/orders/{order['id']}", headers=s.headers).json()["refunded"]["amount"] == 0
    assert (
        client.post(
            f"/api/v1/after-sales/{case['id']}/decide", json={"decision": "approve"}, headers=m.headers
        ).status_code
        == 409
    )


def test_returns_only_after_delivery_and_within_the_window(world, client, paid_order, settings, clock):
    m, s, order, _ = paid_order
    assert ask(client, s, order["id"], kind="return_refund").status_code == 409  # not delivered yet
    client.post(
        f"/api/v1/orders/{order['id']}/ship", json={"carrier": "顺丰", "tracking_no": "SF1234"}, headers=m.headers
    )
    assert ask(client, s, order["id"], kind="refund_only").status_code == 409  # shipped: return instead
    client.post(f"/api/v1/orders/{order['id']}/confirm-delivery", headers=s.headers)
    clock.advance(timedelta(days=settings.return_window_days, seconds=1))
    r = ask(client, s, order["id"], kind="return_refund")
    assert r.status_code == 409 and r.json()["code"] == "return_window_closed"


def test_partial_return_keeps_the_rest_and_refuses_over_refunds(world, client, paid_order):
    m, s, order, sku = paid_order
    client.post(
        f"/api/v1/orders/{order['id']}/ship", json={"carrier": "顺丰", "tracking_no": "SF1234"}, headers=m.headers
    )
    client.post(f"/api/v1/orders/{order['id']}/confirm-delivery", headers=s.headers)
    line = order["lines"][0]["id"]
    r = ask(client, s, order["id"], kind="return_refund", lines=[{"order_line_id": line, "quantity": 3}])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "lines.0.quantity"
    r = ask(client, s, order["id"], kind="return_refund", lines=[{"order_line_id": 999999, "quantity": 1}])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "lines.0.order_line_id"
    case = ask(client, s, order["id"], kind="return_refund", lines=[{"order_line_id": line, "quantity": 1}]).json()
    client.post(f"/api/v1/after-sales/{case['id']}/decide", json={"decision": "approve"}, headers=m.headers)
    # receiving before the shopper ships it back is refused
    assert client.post(f"/api/v1/after-sales/{case['id']}/receive", headers=m.headers).status_code == 409
    client.post(
        f"/api/v1/after-sales/{case['id']}/return-shipment",
        json={"carrier": "中通", "tracking_no": "ZT1234"},
        headers=s.headers,
    )
    assert client.post(f"/api/v1/after-sales/{case['id']}/receive", headers=m.headers).json()["status"] == "refunded"
    order_now = client.get(f"/api/v1/orders/{order['id']}", headers=s.headers).json()
    assert order_now["status"] == "delivered" and order_now["refunded"]["amount"] == 9900
    assert order_now["lines"][0]["refunded_quantity"] == 1
    assert client.get(f"/api/v1/skus/{sku}/stock").json()["available"] == 4
    # the second unit can still come back; a third cannot
    second = ask(client, s, order["id"], kind="return_refund", lines=[{"order_line_id": line, "quantity": 1}])
    assert second.status_code == 201
    client.post(f"/api/v1/after-sales/{second.json()['id']}/withdraw", headers=s.headers)
    assert (
        ask(client, s, order["id"], kind="return_refund", lines=[{"order_line_id": line, "quantity": 2}]).status_code
        == 422
    )


def test_small_refunds_for_good_shoppers_are_approved_at_once_but_not_for_serial_refunders(world, client, settings):
    m = world.merchant()
    sku = world.product(m, price_fen=1000)["skus"][0]["id"]
    stock(world, m, sku, 50)
    s = world.shopper()
    outcomes = []
    for _ in range(settings.auto_refund_max_recent + 1):
        payment = pay(world, s, buy(world, s, [{"sku_id": sku, "quantity": 1}])["id"])
        case = ask(client, s, payment["order_ids"][0], kind="refund_only").json()
        outcomes.append((case["auto_approved"], case["status"]))
    assert outcomes == [(True, "refunded")] * settings.auto_refund_max_recent + [(False, "requested")]


def test_products_without_no_reason_returns(world, client):
    m = world.merchant()
    sku = world.product(m, seven_day_returns=False)["skus"][0]["id"]
    stock(world, m, sku, 1)
    s = world.shopper()
    order_id = pay(world, s, buy(world, s, [{"sku_id": sku, "quantity": 1}])["id"])["order_ids"][0]
    client.post(f"/api/v1/orders/{order_id}/ship", json={"carrier": "顺丰", "tracking_no": "SF1234"}, headers=m.headers)
    client.post(f"/api/v1/orders/{order_id}/confirm-delivery", headers=s.headers)
    r = ask(client, s, order_id, kind="return_refund")
    assert r.status_code == 409 and r.json()["code"] == "no_returns"
