"""Quotes: the cart's and checkout's numbers come from one place and match what checkout charges."""

from __future__ import annotations

from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.factories import ADDRESS, stock, two_store_skus
from yinli.catalog.models import Product, Sku
from yinli.catalog.pricing import unit_price
from yinli.checkout.quote import Quote, QuoteLine, quote_store
from yinli.merchants.models import Store

line_st = st.tuples(st.integers(1, 50_000), st.integers(0, 20_000), st.integers(1, 9), st.booleans())


@hsettings(deadline=None, max_examples=200)
@given(
    lines=st.lists(line_st, min_size=1, max_size=5),
    fee=st.integers(0, 2000),
    free_over=st.one_of(st.none(), st.integers(1, 200_000)),
)
def testquote_store_adds_up_on_sale_lines_and_ships_like_checkout(lines, fee, free_over):
    store = Store(id=1, name="s", shipping_fee_fen=fee, free_shipping_over_fen=free_over)
    quoted = []
    for i, (price, discount, quantity, on_sale) in enumerate(lines):
        sku = Sku(id=i, price_fen=price, list_price_fen=price + discount, currency="CNY")
        quoted.append(QuoteLine(None, sku, Product(id=i), quantity, unit_price(sku, 0), on_sale, None, "mall"))
    got = quote_store(store, quoted)
    items = sum(price * q for price, _, q, on_sale in lines if on_sale)
    assert got.items_total == items
    expected_fee = 0 if not items or (free_over is not None and items >= free_over) else fee
    assert got.shipping_fee == expected_fee and got.total == items + expected_fee
    assert all(line.line_total == line.unit.final * line.quantity for line in got.lines)
    assert Quote([got, got]).total == 2 * got.total


def test_the_cart_quote_is_what_checkout_charges(world, client):
    a, b = two_store_skus(world, 5)
    s = world.shopper()
    for sku, q in ((a, 2), (b, 1)):
        assert client.post("/api/v1/cart/items", json={"sku_id": sku, "quantity": q}, headers=s.headers).status_code
    cart = client.get("/api/v1/cart", headers=s.headers).json()
    assert len(cart["stores"]) == 2
    for store in cart["stores"]:
        assert store["items_total"]["amount"] == sum(line["line_total"]["amount"] for line in store["lines"])
        assert store["total"]["amount"] == store["items_total"]["amount"] + store["shipping_fee"]["amount"]
    r = client.post("/api/v1/checkout", json={"address": ADDRESS}, headers=s.headers)
    assert r.status_code == 201 and r.json()["amount"]["amount"] == cart["total"]["amount"]


def test_off_sale_lines_are_shown_not_charged(world, client):
    m = world.merchant()
    product = world.product(m, price_fen=5000)
    sku = product["skus"][0]["id"]
    stock(world, m, sku, 3)
    s = world.shopper()
    client.post("/api/v1/cart/items", json={"sku_id": sku, "quantity": 1}, headers=s.headers)
    r = client.post(f"/api/v1/products/{product['id']}/delist", headers=m.headers)
    assert r.status_code in (200, 204), r.text
    cart = client.get("/api/v1/cart", headers=s.headers).json()
    (store,) = cart["stores"]
    assert store["lines"][0]["on_sale"] is False
    assert store["items_total"]["amount"] == 0 and store["shipping_fee"]["amount"] == 0 and cart["total"]["amount"] == 0


def test_cart_quote_needs_a_buyer(world, client):
    assert client.get("/api/v1/cart").status_code == 401
    assert client.get("/api/v1/cart", headers=world.merchant().headers).status_code == 403
