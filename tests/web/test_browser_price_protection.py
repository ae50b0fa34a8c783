"""Price protection (价保) kept, in a real browser: a shopper buys at ¥100, the merchant cuts the price to
¥80 within the week, the shopper opens the order page, sees the protection and the lowest price, clicks
申请价保 and sees ¥20 refunded."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.factories import PASSWORD, World, buy, pay, stock
from tests.web.conftest import PHONE, Live, shot

pytestmark = pytest.mark.browser


def test_shopper_claims_price_protection_after_a_cut(live_server: Live, chromium) -> None:  # type: ignore[no-untyped-def]
    live = live_server
    with TestClient(live.app, raise_server_exceptions=False) as client:
        world = World(client, live.database)
        m = world.merchant()
        r = client.patch(
            f"/api/v1/stores/{m.store_id}", json={"shipping_fee_fen": 0, "free_shipping_over_fen": None},
            headers=m.headers,
        )  # fmt: skip
        assert r.status_code == 200, r.text
        sku = world.product(m, price_fen=10_000)["skus"][0]["id"]
        stock(world, m, sku, 5)
        s = world.shopper()
        order_id = pay(world, s, buy(world, s, [{"sku_id": sku, "quantity": 1}])["id"])["order_ids"][0]
        r = client.patch(f"/api/v1/skus/{sku}", json={"price_fen": 8_000}, headers=m.headers)  # the cut
        assert r.status_code == 200, r.text

    page = chromium.new_context(**PHONE, locale="zh-CN").new_page()
    page.goto(f"{live.url}/signin")
    page.get_by_label("邮箱").fill(s.email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()

    page.goto(f"{live.url}/orders/{order_id}")
    protection = page.locator(".price-protection").first
    assert "价保至" in protection.inner_text()
    assert "当前最低 ¥80" in protection.inner_text()
    assert "可退差价 ¥20" in protection.inner_text()
    shot(page, "price-protection-claimable-phone")
    page.get_by_role("button", name="申请价保").click()
    page.wait_for_url(f"**/orders/{order_id}?done=price_protected*")
    assert "已退差价" in page.locator(".flash").inner_text()
    assert "已退差价 ¥20" in page.locator(".price-protection").first.inner_text()
    assert page.get_by_role("button", name="申请价保").count() == 0
    assert "¥20" in page.locator(".totals").inner_text()  # 已退款 on the order
    shot(page, "price-protection-refunded-phone")
