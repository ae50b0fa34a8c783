"""One final price: every surface asks `catalog.pricing.unit_prices`, so a platform subsidy (the seam
promotions plug into) moves the card, product page, search's price, live/video prices, the cart, checkout,
the order line and the price history together; and badges show only what product and store offer."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import buy, stock
from yinli.catalog import pricing
from yinli.catalog.models import Product, SkuPriceHistory

SUBSIDY = 1500


@pytest.fixture
def subsidised(monkeypatch):
    """A platform subsidy of ¥15 on every SKU, as a promotion would grant through the one hook."""
    monkeypatch.setattr(pricing, "platform_subsidies", lambda session, at, skus: {s.id: SUBSIDY for s in skus})


def test_a_platform_subsidy_moves_every_surface_together(world, client, database, subsidised):
    m = world.merchant()
    p = world.product(m, price_fen=8000)
    sku = p["skus"][0]
    client.patch(f"/api/v1/skus/{sku['id']}", json={"price_fen": 7900}, headers=m.headers)
    stock(world, m, sku["id"], 5)
    shopper = world.shopper()
    final = 7900 - SUBSIDY
    card = client.get(f"/api/v1/products/{p['id']}/card").json()
    assert card["final_price"]["amount"] == final
    cart = client.post("/api/v1/cart/items", json={"sku_id": sku["id"], "quantity": 1}, headers=shopper.headers)
    unit = cart.json()["stores"][0]["lines"][0]["unit"]
    assert (unit["final_price"]["amount"], unit["platform_subsidy"]["amount"]) == (final, SUBSIDY)
    page = client.get(f"/p/{p['id']}")
    assert page.status_code == 200 and f"{final / 100:.2f}" in page.text
    with database.session() as s:
        assert s.get(Product, p["id"]).price_min_fen == final  # what search and shelves sort and filter by
        rows = list(s.scalars(select(SkuPriceHistory).where(SkuPriceHistory.sku_id == sku["id"])))
    assert [(r.price_fen, r.platform_subsidy_fen, r.final_price_fen) for r in rows][-1] == (7900, SUBSIDY, final)
    history = client.get(f"/api/v1/skus/{sku['id']}/price-history").json()["items"]
    assert history[-1]["final_price"]["amount"] == final
    payment = buy(world, shopper, [{"sku_id": sku["id"], "quantity": 2}])
    assert payment["amount"]["amount"] == 2 * final
    line = client.get(f"/api/v1/orders/{payment['order_ids'][0]}", headers=shopper.headers).json()["lines"][0]
    assert (line["unit_price"]["amount"], line["platform_subsidy"]["amount"]) == (final, SUBSIDY)


def test_a_card_shows_a_platform_guarantee_only_where_product_and_store_offer_it(world, client):
    m = world.merchant()
    p = world.product(m)
    shown = set(client.get(f"/api/v1/products/{p['id']}/card").json()["guarantees"])
    # a visitor is shown pay later within a new shopper's credit (¥500; the product costs ¥39)
    assert shown == {"seven_day_returns", "return_shipping_cover", "price_protection", "pay_later"}
    client.patch(f"/api/v1/products/{p['id']}", json={"price_protection": False}, headers=m.headers)
    body = {"return_shipping_cover": False, "pay_later": False}
    client.patch(f"/api/v1/stores/{m.store_id}", json=body, headers=m.headers)
    shown = set(client.get(f"/api/v1/products/{p['id']}/card").json()["guarantees"])
    assert shown == {"seven_day_returns"}
    dear = world.product(m, price_fen=60_000)  # above a new shopper's credit
    client.patch(f"/api/v1/stores/{m.store_id}", json={"pay_later": True}, headers=m.headers)
    assert "pay_later" not in client.get(f"/api/v1/products/{dear['id']}/card").json()["guarantees"]
    assert "pay_later" in client.get(f"/api/v1/products/{p['id']}/card").json()["guarantees"]
    client.patch(f"/api/v1/stores/{m.store_id}", json={"pay_later": False}, headers=m.headers)
    store = client.get(f"/api/v1/stores/{m.store_id}").json()
    assert (store["return_shipping_cover"], store["price_protection"], store["pay_later"]) == (False, True, False)


def test_an_order_line_keeps_the_guarantees_promised_when_bought(world, client):
    m = world.merchant()
    p = world.product(m)
    sku = p["skus"][0]["id"]
    stock(world, m, sku, 5)
    shopper = world.shopper()
    first = buy(world, shopper, [{"sku_id": sku, "quantity": 1}])
    client.patch(f"/api/v1/stores/{m.store_id}", json={"price_protection": False}, headers=m.headers)
    second = buy(world, shopper, [{"sku_id": sku, "quantity": 1}])

    def promised(payment):
        order = client.get(f"/api/v1/orders/{payment['order_ids'][0]}", headers=shopper.headers).json()
        return set(order["lines"][0]["guarantees"])

    assert promised(first) == {"seven_day_returns", "return_shipping_cover", "price_protection"}
    assert promised(second) == {"seven_day_returns", "return_shipping_cover"}
