"""Pay later (先用后付) walked in a real browser: a new shopper sees the badge, buys with pay later (nothing
charged), the merchant ships, the shopper confirms delivery, and the account page shows the bill paid."""

from __future__ import annotations

import re
import secrets

import pytest
from sqlalchemy import select

from tests.web.conftest import DESKTOP, PHONE, Live, shot
from tests.web.test_browser import expect_ok, sign_in
from yinli.catalog.models import Product

pytestmark = pytest.mark.browser


def test_shopper_buys_with_pay_later_and_is_billed_at_confirmation(live_server: Live, chromium) -> None:  # type: ignore[no-untyped-def]
    live = live_server
    gateway = live.app.state.gateway
    with live.database.read_sessions() as s:
        product_id = s.scalar(select(Product.id).where(Product.title.like("女士软底单鞋%")))
    phone = chromium.new_context(**PHONE, locale="zh-CN")
    desk = chromium.new_context(**DESKTOP, locale="zh-CN")
    shopper, merchant = phone.new_page(), desk.new_page()

    shopper.goto(live.url + "/signup")
    shopper.get_by_label("邮箱").fill(f"later-{secrets.token_hex(3)}@example.com")
    shopper.get_by_label("密码").fill("a-good-password")
    shopper.get_by_label("昵称").fill("小周")
    shopper.get_by_role("button", name="注册").click()
    shopper.wait_for_url("**/?done=signed_up")

    # the product page promises pay later (within a new shopper's ¥500)
    shopper.goto(f"{live.url}/p/{product_id}")
    assert "先用后付" in shopper.locator(".badges").first.inner_text()
    shopper.get_by_role("button", name="立即购买").click()
    shopper.wait_for_url("**/checkout*")
    shopper.get_by_label("收货人").fill("小周")
    shopper.get_by_label("手机号").fill("13900002222")
    shopper.get_by_label("所在地区").fill("浙江省 杭州市 西湖区")
    shopper.get_by_label("详细地址").fill("文三路 200 号")
    shopper.get_by_role("button", name="提交订单").click()
    shopper.wait_for_url("**/pay/*")
    captured = gateway.captured_fen
    shopper.locator("input[name=method][value=pay_later]").check()
    shot(shopper, "pay-later-01-pay-phone")
    shopper.get_by_role("button", name=re.compile("确认支付")).click()
    shopper.wait_for_url("**/orders/*done=paid")
    expect_ok(shopper)
    order_id = int(re.search(r"/orders/(\d+)", shopper.url).group(1))  # type: ignore[union-attr]
    assert gateway.captured_fen == captured  # nothing charged yet

    shopper.goto(live.url + "/account")
    bill = shopper.locator(f"#pay-later tr:has(a[href='/orders/{order_id}'])")
    assert bill.get_attribute("data-status") == "open" and "待出账" in bill.inner_text()

    # the merchant ships; the shopper confirms delivery and is billed
    sign_in(merchant, live, "shoes@demo.yinli")
    merchant.goto(live.url + "/merchant/orders?status=paid")
    row = merchant.locator(f"#order-{order_id}")
    row.get_by_label("快递公司").fill("顺丰速运")
    row.get_by_label("快递单号").fill("SF20261124777")
    row.get_by_role("button", name="发货").click()
    merchant.wait_for_url("**done=shipped")
    shopper.goto(f"{live.url}/orders/{order_id}")
    shopper.get_by_role("button", name="确认收货").click()
    shopper.wait_for_url("**?done=delivered")
    assert gateway.captured_fen > captured

    shopper.goto(live.url + "/account")
    bill = shopper.locator(f"#pay-later tr:has(a[href='/orders/{order_id}'])")
    assert bill.get_attribute("data-status") == "paid" and "已还清" in bill.inner_text()
    assert shopper.locator("#pay-later [data-standing]").get_attribute("data-standing") == "good"
    shot(shopper, "pay-later-02-account-phone")
    phone.close()
    desk.close()
