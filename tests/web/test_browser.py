"""Real-browser journeys: Debian's Chromium (Playwright) against a live server with the sample marketplace.

Storefront at phone width (390x844), consoles at desktop width. Screenshots of the main pages go to
test-artifacts/screenshots/. Skipped, saying why, when /usr/bin/chromium is absent.
"""

from __future__ import annotations

import re
import secrets

import pytest
from sqlalchemy import select

from tests.web.conftest import DESKTOP, PHONE, Live, shot
from yinli.catalog.models import Product
from yinli.jobs import run_once
from yinli.merchants.models import Store
from yinli.orders.models import Order
from yinli.sample import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def expect_ok(page) -> None:  # type: ignore[no-untyped-def]
    assert page.locator(".form-error").count() == 0, page.locator(".form-error").first.inner_text()


def sign_in(page, live: Live, email: str, password: str = DEMO_PASSWORD) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live.url}/signin")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    expect_ok(page)


def test_shopper_buys_merchant_ships_shopper_returns_merchant_refunds(live_server: Live, chromium) -> None:  # type: ignore[no-untyped-def]
    live = live_server
    phone = chromium.new_context(**PHONE, locale="zh-CN")
    desk = chromium.new_context(**DESKTOP, locale="zh-CN")
    shopper, merchant = phone.new_page(), desk.new_page()

    # the storefront, signed out
    shopper.goto(live.url + "/")
    assert shopper.locator(".card").count() >= 10
    shot(shopper, "01-storefront-home-phone")
    shopper.get_by_role("link", name="商城").first.click()
    shopper.wait_for_url("**/mall")
    shot(shopper, "02-mall-phone")

    # sign up (a form error first: the password is too short)
    shopper.goto(live.url + "/signup")
    email = f"buyer-{secrets.token_hex(3)}@example.com"
    shopper.get_by_label("邮箱").fill(email)
    shopper.get_by_label("密码").fill("short")
    shopper.get_by_label("昵称").fill("小林")
    shopper.get_by_role("button", name="注册").click()
    assert shopper.locator("#f-password-error").inner_text() == "至少 8 个字符"
    shot(shopper, "03-signup-error-phone")
    shopper.get_by_label("密码").fill("a-good-password")
    shopper.get_by_role("button", name="注册").click()
    shopper.wait_for_url(live.url + "/?done=signed_up")
    assert "注册成功" in shopper.locator(".flash").inner_text()

    # find the product by search
    shopper.get_by_role("searchbox", name="搜索商品").fill("板鞋")
    shopper.get_by_role("button", name="搜索", exact=True).click()
    shopper.wait_for_url("**/search?q=*")
    assert "共 1 件商品" in shopper.locator("#results").inner_text()
    shot(shopper, "04-search-phone")
    shopper.locator(".card a.card-link").first.click()
    shopper.wait_for_url("**/p/*?from=search&source_id=*")

    # the product page: pick a SKU (HTMX swaps the price), open the breakdown
    with shopper.expect_response(re.compile(r"/p/\d+/price")):  # wait for the swap, not a fixed time
        shopper.locator(".sku-options label", has_text="42").click()
    shopper.wait_for_timeout(100)  # htmx settles the new panel right after the response
    final = shopper.locator("#price-panel .final").inner_text()
    shopper.get_by_text("价格明细").click()
    assert shopper.locator(".breakdown dd.total").inner_text() in final
    shot(shopper, "05-product-phone")

    # it is selling in a live room right now: buy it there, without leaving the room
    shopper.get_by_role("link", name=re.compile("直播间正在卖")).click()
    shopper.wait_for_url("**/live/*")
    room_url = shopper.url
    assert "正在讲解" in shopper.locator("#live-panel").inner_text()
    shopper.wait_for_timeout(3500)  # the panel refreshes: this viewer is counted
    assert shopper.locator("#viewers").inner_text() != "0 人在看"
    shot(shopper, "06-live-room-phone")
    item = shopper.locator(".room-products .list-item", has_text="板鞋")
    size_42 = item.locator("option", has_text=re.compile(r"^42 ·")).get_attribute("value")
    item.get_by_label("选择规格").select_option(value=size_42)
    item.get_by_role("button", name=re.compile("马上抢")).click()
    sheet = shopper.locator(".sheet")
    sheet.get_by_label("收货人").fill("小林")
    sheet.get_by_label("所在地区").fill("浙江省 杭州市 西湖区")
    sheet.get_by_label("详细地址").fill("文三路 100 号")
    sheet.get_by_role("button", name=re.compile("确认支付")).click()
    shopper.locator("#live-phone-error").wait_for()  # the missing phone, next to its field
    shot(shopper, "07-live-checkout-error-phone")
    shopper.locator(".sheet").get_by_label("手机号").fill("13900001111")
    shopper.locator(".sheet").get_by_role("button", name=re.compile("确认支付")).click()
    shopper.locator(".sheet h2", has_text="支付成功").wait_for()
    assert shopper.url == room_url  # never left the room
    shopper.wait_for_timeout(3500)
    assert "有人刚买了 男士透气休闲板鞋" in shopper.locator("#recent-purchases").inner_text()
    shot(shopper, "08-live-bought-phone")
    shopper.get_by_role("link", name=re.compile("查看订单")).click()
    shopper.wait_for_url("**/orders/*")
    order_id = int(re.search(r"/orders/(\d+)", shopper.url).group(1))  # type: ignore[union-attr]
    assert "待发货" in shopper.locator("h1").inner_text()
    shot(shopper, "09-order-paid-phone")
    shopper.goto(live.url + "/orders")
    assert shopper.get_by_role("link", name=f"查看订单 #{order_id}").is_visible()

    # the merchant ships it
    sign_in(merchant, live, "shoes@demo.yinli")
    merchant.wait_for_url(live.url + "/merchant?done=signed_in")
    shot(merchant, "10-merchant-home-desktop")
    merchant.get_by_role("link", name="订单发货").click()
    row = merchant.locator(f"#order-{order_id}")
    row.get_by_label("快递公司").fill("顺丰速运")
    row.get_by_label("快递单号").fill("SF20261124001")
    shot(merchant, "11-merchant-orders-desktop")
    row.get_by_role("button", name="发货").click()
    merchant.wait_for_url("**/merchant/orders?status=paid&done=shipped")
    expect_ok(merchant)

    # the shopper receives it and asks to return it
    shopper.goto(f"{live.url}/orders/{order_id}")
    assert "顺丰速运 SF20261124001" in shopper.locator(".timeline").inner_text()
    shopper.get_by_role("button", name="确认收货").click()
    shopper.wait_for_url("**?done=delivered")
    shopper.get_by_role("link", name="申请退货").click()
    shopper.get_by_label("原因").select_option("尺码不合适")
    shot(shopper, "09b-return-request-phone")
    shopper.get_by_role("button", name="提交申请").click()
    shopper.wait_for_url("**/after-sales/*?done=after_sale")
    case_id = int(re.search(r"/after-sales/(\d+)", shopper.url).group(1))  # type: ignore[union-attr]
    assert "待商家处理" in shopper.locator("h1").inner_text()

    # the merchant approves; the shopper sends it back; the merchant receives it and refunds
    merchant.get_by_role("link", name="售后处理").click()
    case = merchant.locator(f"#case-{case_id}")
    shot(merchant, "12-merchant-after-sales-desktop")
    case.get_by_role("button", name="同意").click()
    merchant.wait_for_url("**/merchant/after-sales?done=decided")
    shopper.reload()
    assert "待寄回商品" in shopper.locator("h1").inner_text()
    shopper.get_by_label("快递公司").fill("中通快递")
    shopper.get_by_label("快递单号").fill("ZT7788990011")
    shopper.get_by_role("button", name="提交退货物流").click()
    shopper.wait_for_url("**?done=returned")
    merchant.goto(live.url + "/merchant/after-sales?status=return_shipped")
    merchant.locator(f"#case-{case_id}").get_by_role("button", name="确认收到退货并退款").click()
    merchant.wait_for_url("**done=received")
    shopper.reload()
    assert "已退款" in shopper.locator("h1").inner_text()
    shot(shopper, "13-after-sale-refunded-phone")

    # the console's own pages
    state = live.app.state  # background jobs are off in tests: bring store metrics up to date now
    run_once(live.database, state.clock, state.settings, state.gateway)
    merchant.goto(live.url + "/merchant/metrics")
    assert "直播" in merchant.locator("#gmv-format-h + svg").inner_html()  # sold through the live room
    shot(merchant, "14-merchant-metrics-desktop")
    merchant.goto(live.url + "/merchant/products")
    merchant.locator("table.data a").first.click()
    shot(merchant, "15-merchant-product-desktop")
    phone.close()
    desk.close()


def test_a_merchant_cannot_open_another_stores_pages(live_server: Live, chromium) -> None:  # type: ignore[no-untyped-def]
    live = live_server
    with live.database.read_sessions() as s:
        other_store = s.scalar(select(Store.id).where(Store.name == "数码小铺"))
        other_product = s.scalar(select(Product.id).where(Product.store_id == other_store))
        other_order = s.scalar(
            select(Order.id).where(Order.store_id != s.scalar(select(Store.id).where(Store.name == "潮鞋研究所")))
        )
    desk = chromium.new_context(**DESKTOP)
    page = desk.new_page()
    sign_in(page, live, "shoes@demo.yinli")
    response = page.goto(f"{live.url}/merchant/products/{other_product}")
    assert response.status == 403
    assert "没有权限" in page.locator("h1").inner_text()
    shot(page, "16-merchant-forbidden-desktop")
    assert page.goto(f"{live.url}/merchant/orders/{other_order}").status == 404
    desk.close()


def test_operator_approves_a_new_store_and_sets_policy(live_server: Live, chromium) -> None:  # type: ignore[no-untyped-def]
    live = live_server
    desk = chromium.new_context(**DESKTOP)
    applicant = desk.new_page()
    applicant.goto(live.url + "/signup?role=merchant")
    applicant.get_by_label("邮箱").fill(f"maker-{secrets.token_hex(3)}@example.com")
    applicant.get_by_label("密码").fill("a-good-password")
    applicant.get_by_label("昵称").fill("手作老板")
    applicant.get_by_role("button", name="注册").click()
    applicant.wait_for_url("**/merchant?done=signed_up")
    name = f"手作工坊{secrets.token_hex(2)}"
    applicant.get_by_label("店铺名称").fill(name)
    applicant.get_by_label("主营类目").select_option(label="家居家装")
    shot(applicant, "20-merchant-apply-desktop")
    applicant.get_by_role("button", name="提交申请").click()
    applicant.wait_for_url("**/merchant?done=applied")
    assert "审核中" in applicant.locator("h1").inner_text()

    ops_context = chromium.new_context(**DESKTOP)
    ops = ops_context.new_page()
    sign_in(ops, live, "ops@demo.yinli")
    ops.wait_for_url(live.url + "/ops?done=signed_in")
    shot(ops, "21-ops-kpis-desktop")
    ops.get_by_role("link", name="开店审核").click()
    shot(ops, "22-ops-applications-desktop")
    ops.get_by_role("button", name=f"通过 {name}").click()
    ops.wait_for_url("**/ops/stores?done=approved")
    applicant.reload()
    assert "营业中" in applicant.locator("h1").inner_text()

    ops.get_by_role("link", name="商家政策").click()
    ops.get_by_label("新商扶持天数").fill("0")
    ops.get_by_role("button", name="保存政策").click()
    assert ops.locator("#f-new_merchant_days-error").is_visible()
    ops.get_by_label("新商扶持天数").fill("45")
    ops.get_by_role("button", name="保存政策").click()
    ops.wait_for_url("**/ops/policy?done=saved")
    assert ops.get_by_label("新商扶持天数").input_value() == "45"
    shot(ops, "23-ops-policy-desktop")
    desk.close()
    ops_context.close()


def test_english_storefront_at_phone_width(live_server: Live, chromium) -> None:  # type: ignore[no-untyped-def]
    phone = chromium.new_context(**PHONE)
    page = phone.new_page()
    page.goto(live_server.url + "/?lang=en")
    assert page.get_by_role("link", name="Mall").first.is_visible()
    page.goto(live_server.url + "/mall")  # the choice is remembered in a cookie
    assert page.locator("html").get_attribute("lang") == "en"
    shot(page, "30-mall-english-phone")
    phone.close()
