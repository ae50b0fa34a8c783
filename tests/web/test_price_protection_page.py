"""The order page's price protection (价保), without a browser: the window and lowest price per covered
line, why not when not claimable, the claim form, 已退差价 after it, and a clear 4xx (nothing changed)
when the form is sent again."""

from __future__ import annotations

from sqlalchemy import select

from tests.factories import buy, pay, stock
from tests.web.conftest import signed_in
from yinli.guarantees.models import PriceProtectionPayout


def test_order_page_shows_protection_claims_and_refuses_a_second_claim(world, client, browser_factory, database):
    m = world.merchant()
    r = client.patch(
        f"/api/v1/stores/{m.store_id}", json={"shipping_fee_fen": 0, "free_shipping_over_fen": None},
        headers=m.headers,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    covered = world.product(m, price_fen=10_000)["skus"][0]["id"]
    uncovered = world.product(m, price_fen=5_000, price_protection=False)["skus"][0]["id"]
    for sku in (covered, uncovered):
        stock(world, m, sku, 5)
    s = world.shopper()
    items = [{"sku_id": covered, "quantity": 1}, {"sku_id": uncovered, "quantity": 1}]
    order_id = pay(world, s, buy(world, s, items)["id"])["order_ids"][0]
    b = signed_in(browser_factory, s)

    page = b.get(f"/orders/{order_id}").text
    assert page.count('class="small price-protection"') == 1  # the covered line only
    assert "价保至" in page and "暂未降价" in page and "申请价保" not in page

    assert client.patch(f"/api/v1/skus/{covered}", json={"price_fen": 8_000}, headers=m.headers).status_code == 200
    page = b.get(f"/orders/{order_id}").text
    assert "当前最低 ¥80.00" in page and "可退差价 ¥20.00" in page and "申请价保" in page
    with database.session() as session:
        assert session.scalars(select(PriceProtectionPayout)).first() is None
    line = page.split('action="/order-lines/')[1].split("/price-protection")[0]
    r = b.post(f"/order-lines/{line}/price-protection", page=f"/orders/{order_id}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith(f"/orders/{order_id}?done=price_protected")
    page = b.get(r.headers["location"]).text
    assert "已退差价 ¥20.00" in page and "申请价保" not in page

    again = b.post(f"/order-lines/{line}/price-protection", page=f"/orders/{order_id}", follow_redirects=False)
    assert again.status_code == 409
    other = signed_in(browser_factory, world.shopper())
    r = other.post(f"/order-lines/{line}/price-protection", page="/", follow_redirects=False)
    assert r.status_code == 404
    with database.session() as session:
        assert len(list(session.scalars(select(PriceProtectionPayout)))) == 1
