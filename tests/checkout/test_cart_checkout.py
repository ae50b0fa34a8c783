"""Cart, the one final price, shipping per store, checkout into one order per store; bad input."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.factories import ADDRESS, buy, stock
from yinli.jobs import run_once
from yinli.orders.models import Order
from yinli.payments.models import Payment


def counts(database):
    with database.session() as s:
        return (s.scalar(select(func.count()).select_from(Order)), s.scalar(select(func.count()).select_from(Payment)))


def test_the_card_cart_and_order_show_one_price_with_its_breakdown(world, client):
    m = world.merchant()
    p = world.product(m, price_fen=8000)
    sku = p["skus"][0]
    client.patch(f"/api/v1/skus/{sku['id']}", json={"list_price_fen": 10000}, headers=m.headers)
    stock(world, m, sku["id"], 5)
    shopper = world.shopper()
    card = client.get(f"/api/v1/products/{p['id']}/card").json()
    cart = client.post("/api/v1/cart/items", json={"sku_id": sku["id"], "quantity": 1}, headers=shopper.headers).json()
    unit = cart["stores"][0]["lines"][0]["unit"]
    assert card["final_price"]["amount"] == unit["final_price"]["amount"] == 8000
    assert (unit["list_price"]["amount"], unit["merchant_discount"]["amount"], unit["platform_subsidy"]["amount"]) == (
        10000,
        2000,
        0,
    )
    payment = buy(world, shopper, [{"sku_id": sku["id"], "quantity": 1}])
    order = client.get(f"/api/v1/orders/{payment['order_ids'][0]}", headers=shopper.headers).json()
    line = order["lines"][0]
    assert line["unit_price"]["amount"] == 8000 and line["list_price"]["amount"] == 10000
    assert payment["amount"]["amount"] == order["total"]["amount"] == 8000


def test_one_order_per_store_with_each_stores_shipping(world, client):
    a, b = world.merchant(), world.merchant()
    client.patch(
        f"/api/v1/stores/{a.store_id}",
        json={"shipping_fee_fen": 800, "free_shipping_over_fen": 10000},
        headers=a.headers,
    )
    client.patch(f"/api/v1/stores/{b.store_id}", json={"shipping_fee_fen": 600}, headers=b.headers)
    pa, pb = world.product(a, price_fen=3000), world.product(b, price_fen=2000)
    for m, p in ((a, pa), (b, pb)):
        stock(world, m, p["skus"][0]["id"], 10)
    shopper = world.shopper()
    payment = buy(
        world, shopper, [{"sku_id": pa["skus"][0]["id"], "quantity": 4}, {"sku_id": pb["skus"][0]["id"], "quantity": 1}]
    )
    orders = [client.get(f"/api/v1/orders/{i}", headers=shopper.headers).json() for i in payment["order_ids"]]
    by_store = {o["store_id"]: o for o in orders}
    assert by_store[a.store_id]["shipping_fee"]["amount"] == 0  # 12000 >= 10000: free
    assert by_store[b.store_id]["shipping_fee"]["amount"] == 600
    assert payment["amount"]["amount"] == 12000 + 2000 + 600
    # each store sees only its own order
    assert [o["id"] for o in client.get("/api/v1/orders", headers=a.headers).json()["items"]] == [
        by_store[a.store_id]["id"]
    ]


def test_out_of_stock_checkout_changes_nothing(world, client, database):
    m = world.merchant()
    p = world.product(m)
    a, b = p["skus"]
    stock(world, m, a["id"], 5)
    stock(world, m, b["id"], 1)
    shopper = world.shopper()
    before = counts(database)
    r = client.post(
        "/api/v1/checkout",
        headers=shopper.headers,
        json={"items": [{"sku_id": a["id"], "quantity": 2}, {"sku_id": b["id"], "quantity": 2}], "address": ADDRESS},
    )
    assert r.status_code == 409 and r.json()["code"] == "out_of_stock"
    assert counts(database) == before
    assert client.get(f"/api/v1/skus/{a['id']}/stock").json()["available"] == 5  # the first hold rolled back


def test_bad_checkout_input_is_a_clear_4xx_and_writes_nothing(world, client, database):
    m = world.merchant()
    p = world.product(m)
    sku = p["skus"][0]["id"]
    stock(world, m, sku, 5)
    draft = world.product(m, listed=False)["skus"][0]["id"]
    delisted = world.product(m)
    client.post(f"/api/v1/products/{delisted['id']}/delist", headers=m.headers)
    shopper = world.shopper()
    before = counts(database)
    cases = [
        ([{"sku_id": sku, "quantity": 0}], 422, "items.0.quantity"),
        ([{"sku_id": sku, "quantity": -1}], 422, "items.0.quantity"),
        ([{"sku_id": sku, "quantity": 10**9}], 422, "items.0.quantity"),
        ([{"sku_id": 999999, "quantity": 1}], 422, "items.0.sku_id"),
        ([{"sku_id": draft, "quantity": 1}], 409, "items.0.sku_id"),
        ([{"sku_id": delisted["skus"][0]["id"], "quantity": 1}], 409, "items.0.sku_id"),
        ([{"sku_id": sku, "quantity": 1, "surface": "tv"}], 422, "items.0.surface"),
        ([], 422, "items"),
    ]
    for items, status, field in cases:
        r = client.post("/api/v1/checkout", json={"items": items, "address": ADDRESS}, headers=shopper.headers)
        assert r.status_code == status, (items, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["field"] == field, (items, r.json())
    r = client.post(
        "/api/v1/checkout",
        json={"items": [{"sku_id": sku, "quantity": 1}], "address": {"name": "x"}},
        headers=shopper.headers,
    )
    assert r.status_code == 422
    assert (
        client.post("/api/v1/checkout", json={"address": ADDRESS}, headers=shopper.headers).status_code == 409
    )  # empty cart
    assert (
        client.post(
            "/api/v1/checkout", json={"items": [{"sku_id": sku, "quantity": 1}], "address": ADDRESS}, headers=m.headers
        ).status_code
        == 403
    )  # merchants don't shop with their staff account
    assert counts(database) == before
    assert client.get(f"/api/v1/skus/{sku}/stock").json()["available"] == 5


def test_cart_edits(world, client):
    m = world.merchant()
    p = world.product(m)
    sku = p["skus"][0]["id"]
    stock(world, m, sku, 3)
    s = world.shopper()
    client.post(
        "/api/v1/cart/items", json={"sku_id": sku, "quantity": 1, "surface": "feed", "source_id": 7}, headers=s.headers
    )
    cart = client.post(
        "/api/v1/cart/items", json={"sku_id": sku, "quantity": 2, "surface": "mall"}, headers=s.headers
    ).json()
    line = cart["stores"][0]["lines"][0]
    assert line["quantity"] == 3 and line["surface"] == "mall" and line["available"] == 3  # last touch wins
    item = line["item_id"]
    assert client.patch(f"/api/v1/cart/items/{item}", json={"quantity": 0}, headers=s.headers).status_code == 422
    assert (
        client.patch(f"/api/v1/cart/items/{item}", json={"quantity": 2}, headers=s.headers).json()["total"]["amount"]
        == 2 * line["unit"]["final_price"]["amount"]
    )
    other = world.shopper()
    assert client.delete(f"/api/v1/cart/items/{item}", headers=other.headers).status_code == 404
    assert client.delete(f"/api/v1/cart/items/{item}", headers=s.headers).status_code == 204
    assert client.get("/api/v1/cart", headers=s.headers).json() == {
        "stores": [],
        "total": {"amount": 0, "currency": "CNY", "formatted": "¥0.00"},
    }


def test_unpaid_orders_expire_and_give_stock_back(world, client, app, database, settings, clock):
    m = world.merchant()
    sku = world.product(m)["skus"][0]["id"]
    stock(world, m, sku, 2)
    s = world.shopper()
    payment = buy(world, s, [{"sku_id": sku, "quantity": 2}])
    assert client.get(f"/api/v1/skus/{sku}/stock").json()["available"] == 0
    clock.advance(timedelta(minutes=settings.payment_window_minutes, seconds=1))
    report = run_once(database, clock, settings, app.state.gateway)
    assert report.orders.expired == 1
    assert client.get(f"/api/v1/skus/{sku}/stock").json()["available"] == 2
    order = client.get(f"/api/v1/orders/{payment['order_ids'][0]}", headers=s.headers).json()
    assert order["status"] == "cancelled" and order["cancel_reason"] == "not paid in time"
    r = client.post(f"/api/v1/payments/{payment['id']}/pay", json={"method": "card"}, headers=s.headers)
    assert r.status_code == 409 and r.json()["code"] == "payment_closed"
    assert run_once(database, clock, settings, app.state.gateway).orders.expired == 0  # idempotent


def test_declined_payment_cancels_and_releases(world, client, app):
    m = world.merchant()
    sku = world.product(m)["skus"][0]["id"]
    stock(world, m, sku, 2)
    s = world.shopper()
    payment = buy(world, s, [{"sku_id": sku, "quantity": 1}])
    app.state.gateway.fail_next()
    r = client.post(f"/api/v1/payments/{payment['id']}/pay", json={"method": "card"}, headers=s.headers)
    assert r.status_code == 402 and r.json()["code"] == "payment_declined"
    assert client.get(f"/api/v1/payments/{payment['id']}", headers=s.headers).json()["status"] == "failed"
    assert client.get(f"/api/v1/skus/{sku}/stock").json()["available"] == 2
    assert client.get(f"/api/v1/orders/{payment['order_ids'][0]}", headers=s.headers).json()["status"] == "cancelled"


def test_shopper_cancels_an_unpaid_order(world, client):
    m = world.merchant()
    sku = world.product(m)["skus"][0]["id"]
    stock(world, m, sku, 1)
    s = world.shopper()
    payment = buy(world, s, [{"sku_id": sku, "quantity": 1}])
    order_id = payment["order_ids"][0]
    assert client.post(f"/api/v1/orders/{order_id}/cancel", headers=world.shopper().headers).status_code == 404
    assert (
        client.post(
            f"/api/v1/orders/{order_id}/ship", json={"carrier": "顺丰", "tracking_no": "SF1234"}, headers=m.headers
        ).status_code
        == 409
    )  # unpaid: nothing to ship
    assert client.post(f"/api/v1/orders/{order_id}/cancel", headers=s.headers).json()["status"] == "cancelled"
    assert client.get(f"/api/v1/skus/{sku}/stock").json()["available"] == 1
    assert client.post(f"/api/v1/orders/{order_id}/cancel", headers=s.headers).status_code == 409


def test_stock_is_set_by_staff_and_cannot_go_below_held_units(world, client):
    m, other = world.merchant(), world.merchant()
    sku = world.product(m)["skus"][0]["id"]
    assert client.put(f"/api/v1/skus/{sku}/stock", json={"on_hand": 5}, headers=other.headers).status_code == 403
    assert client.put(f"/api/v1/skus/{sku}/stock", json={"on_hand": -1}, headers=m.headers).status_code == 422
    stock(world, m, sku, 5)
    buy(world, world.shopper(), [{"sku_id": sku, "quantity": 3}])
    r = client.put(f"/api/v1/skus/{sku}/stock", json={"on_hand": 2}, headers=m.headers)
    assert r.status_code == 409 and r.json()["code"] == "below_reserved"
    mine = client.get(f"/api/v1/skus/{sku}/stock", headers=m.headers).json()
    assert (mine["on_hand"], mine["reserved"], mine["available"]) == (5, 3, 2)
    public = client.get(f"/api/v1/skus/{sku}/stock").json()
    assert public["on_hand"] is None and public["available"] == 2
