"""Real-browser journeys for the shopper basics: the address book (added, prefilled at checkout, the order
placed with it), favourites (a product favourited, then seen in 我的收藏), the cart badge and the
chosen cart lines. Screenshots at phone width (390) and desktop."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.web.conftest import DESKTOP, PHONE, Live, shot
from yinli.catalog.models import Product, ProductStatus, Sku
from yinli.inventory.models import Stock
from yinli.orders.models import Order

pytestmark = pytest.mark.browser


def _stocked_product(live: Live) -> int:
    with live.database.read_sessions() as s:
        return int(
            s.scalars(
                select(Product.id)
                .join(Sku, Sku.product_id == Product.id)
                .join(Stock, Stock.sku_id == Sku.id)
                .where(Product.status == ProductStatus.LISTED, Stock.on_hand - Stock.reserved > 5)
                .order_by(Product.id)
                .limit(1)
            ).one()
        )


def _sign_up(page, live: Live) -> str:  # type: ignore[no-untyped-def]
    email = f"basics-{secrets.token_hex(3)}@example.com"
    page.goto(live.url + "/signup")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill("correct horse battery")
    page.get_by_label("昵称").fill("小韩")
    page.get_by_role("button", name="注册").click()
    page.wait_for_url(re.compile(r".*/(\?.*)?$"))
    return email


def test_address_book_prefills_checkout_and_the_order_ships_there(live_server: Live, chromium) -> None:  # type: ignore[no-untyped-def]
    live = live_server
    phone = chromium.new_context(**PHONE, locale="zh-CN")
    page = phone.new_page()
    _sign_up(page, live)
    page.goto(live.url + "/account")
    page.get_by_role("link", name="收货地址").click()
    page.wait_for_url("**/account/addresses")
    page.get_by_label("收货人").fill("韩梅梅")
    page.get_by_label("手机号").fill("1391234567")  # one digit short
    page.get_by_label("所在地区").fill("上海市 上海市 徐汇区")
    page.get_by_label("详细地址").fill("漕溪北路 88 号")
    page.get_by_role("button", name="保存地址").click()
    page.locator("#f-phone-error").wait_for()
    shot(page, "40-address-phone-error-phone")
    page.get_by_label("手机号").fill("139 1234 5678")
    page.get_by_role("button", name="保存地址").click()
    page.locator(".flash", has_text="收货地址已保存").wait_for()
    assert "13912345678" in page.locator("[data-default]").inner_text()
    shot(page, "41-address-book-phone", full_page=True)

    # buy now: the checkout has the default address picked; the order ships there
    product_id = _stocked_product(live)
    page.goto(f"{live.url}/p/{product_id}")
    page.get_by_role("button", name="立即购买").click()
    page.wait_for_url("**/checkout?*")
    picked = page.locator(".addr-pick", has=page.locator("input:checked"))
    assert "韩梅梅" in picked.inner_text() and "漕溪北路 88 号" in picked.inner_text()
    assert not page.locator(".addr-new").is_visible()  # no fields to type
    shot(page, "42-checkout-default-address-phone", full_page=True)
    page.get_by_role("button", name="提交订单").click()
    page.wait_for_url("**/pay/*")
    with live.database.read_sessions() as s:
        order = s.scalars(select(Order).order_by(Order.id.desc()).limit(1)).one()
    assert order.address["name"] == "韩梅梅" and order.address["phone"] == "13912345678"
    desk = chromium.new_context(**DESKTOP, locale="zh-CN")
    d = desk.new_page()
    d.context.add_cookies(phone.cookies())
    d.goto(live.url + "/account/addresses")
    shot(d, "43-address-book-desktop")
    phone.close()
    desk.close()


def test_favourite_a_product_and_see_it_in_my_favourites(live_server: Live, chromium) -> None:  # type: ignore[no-untyped-def]
    live = live_server
    phone = chromium.new_context(**PHONE, locale="zh-CN")
    page = phone.new_page()
    _sign_up(page, live)
    product_id = _stocked_product(live)
    page.goto(f"{live.url}/p/{product_id}")
    title = page.locator("h1").inner_text()
    heart = page.locator(".fav-inline .fav-btn")
    heart.click()
    page.locator('.fav-inline .fav-btn[aria-pressed="true"]').wait_for()  # swapped in place by HTMX
    page.get_by_role("button", name="加入购物车").click()
    page.locator("#cart-link .cart-count").wait_for()  # the badge counts the new line at once
    assert page.locator("#cart-link .cart-count").inner_text().startswith("1")
    page.goto(live.url + "/cart")
    shot(page, "44-cart-badge-and-picks-phone")
    page.goto(live.url + "/favourites")
    row = page.locator(f'[data-favourite-row="{product_id}"]')
    assert title in row.inner_text()
    shot(page, "45-favourites-phone")
    # a heart on a card in the mall favourites too
    page.goto(live.url + "/mall")
    cards = page.locator('.card .fav-btn[aria-pressed="false"]')
    pressed = page.locator('.card .fav-btn[aria-pressed="true"]')
    before = pressed.count()  # the product favourited above may already show a pressed heart here
    cards.first.click()
    expect(pressed).to_have_count(before + 1)  # this click's swap, not the heart that was already there
    page.goto(live.url + "/favourites")
    assert page.locator("[data-favourite-row]").count() == 2
    desk = chromium.new_context(**DESKTOP, locale="zh-CN")
    d = desk.new_page()
    d.context.add_cookies(phone.cookies())
    d.goto(live.url + "/favourites")
    shot(d, "46-favourites-desktop")
    d.goto(live.url + "/mall")
    shot(d, "47-mall-hearts-desktop")
    # follow the store
    with live.database.read_sessions() as s:
        store_id = s.get(Product, product_id).store_id  # type: ignore[union-attr]
    page.goto(f"{live.url}/s/{store_id}")
    page.get_by_role("button", name="+ 关注").click()
    page.get_by_role("button", name="已关注").wait_for()
    shot(page, "48-store-followed-phone")
    page.goto(live.url + "/following")
    assert page.locator(f'[data-followed-store="{store_id}"]').count() == 1
    shot(page, "49-following-phone")
    phone.close()
    desk.close()
