"""Storefront pages through TestClient: status, key content, form errors, authorisation."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.web.conftest import csrf_of
from yinli.orders.models import Order
from yinli.payments.models import Payment
from yinli.search.models import SearchInteraction


def test_home_lists_cards_with_one_price_in_yuan(anon, shop):
    r = anon.get("/")
    assert r.status_code == 200
    assert '<html lang="zh-CN">' in r.text
    assert "复古帆布鞋 百搭款" in r.text and "¥129.00" in r.text
    assert f'href="/p/{shop["products"][0]["id"]}?from=feed"' in r.text
    assert "/static/vendor/htmx-2.0.11.min.js" in r.text and "cdn" not in r.text.lower()
    js = anon.get("/static/vendor/htmx-2.0.11.min.js")
    assert js.status_code == 200 and "htmx" in js.text[:2000]


def test_mall_and_category_pages(anon, shop, world):
    r = anon.get("/mall")
    assert r.status_code == 200 and "手机数码" in r.text and "热销榜" in r.text
    leaf = world.leaf_id()
    r = anon.get(f"/mall/c/{leaf}")
    assert r.status_code == 200 and "手机保护套" in r.text and "磁吸手机壳" in r.text
    assert anon.get("/mall/c/999999").status_code == 404


def test_search_by_keyword_price_and_sort(anon, shop):
    r = anon.get("/search", params={"q": "帆布鞋"})
    assert r.status_code == 200
    assert "复古帆布鞋" in r.text and "磁吸手机壳" not in r.text and "共 1 件商品" in r.text
    r = anon.get("/search", params={"max_price": "50"})
    assert "磁吸手机壳" in r.text and "复古帆布鞋" not in r.text
    r = anon.get("/search", params={"sort": "price_asc"})
    assert r.text.index("磁吸手机壳") < r.text.index("复古帆布鞋")
    r = anon.get("/search", params={"sort": "price_desc"})
    assert r.text.index("复古帆布鞋") < r.text.index("磁吸手机壳")
    # a bad price is shown next to its field, not a 500
    r = anon.get("/search", params={"min_price": "abc"})
    assert r.status_code == 200 and 'id="f-min_price-error"' in r.text and "请输入金额" in r.text
    # the results alone for HTMX
    r = anon.get("/search", params={"q": "手机壳"}, headers={"HX-Request": "true", "HX-Target": "results"})
    assert "<html" not in r.text and "磁吸手机壳" in r.text


def test_search_result_links_count_clicks_and_carts_in_the_search_log(browser_factory, shop, database):
    b = browser_factory(shop["shopper"].email)
    page = b.get("/search", params={"q": "手机壳"}).text
    search_id, product_id = map(int, re.search(r'href="/search/r/(\d+)/(\d+)"', page).groups())  # type: ignore[union-attr]
    r = b.get(f"/search/r/{search_id}/{product_id}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/p/{product_id}?from=search&source_id={search_id}"
    # a product the search did not show, a search that does not exist, someone else's search: the
    # shopper still gets to the product, and nothing is counted
    assert b.get(f"/search/r/{search_id}/999999", follow_redirects=False).status_code == 303
    assert b.get(f"/search/r/999999/{product_id}", follow_redirects=False).status_code == 303
    stranger = browser_factory(None)
    assert stranger.get(f"/search/r/{search_id}/{product_id}", follow_redirects=False).status_code == 303
    assert b.get("/search/r/0/abc").status_code == 404  # not a page
    assert b.get(f"/search/r/{10**20}/{product_id}", follow_redirects=False).status_code == 404
    sku = next(p for p in shop["products"] if p["id"] == product_id)["skus"][0]["id"]
    r = b.post(
        "/cart/add",
        {"sku_id": sku, "quantity": "1", "surface": "search", "source_id": search_id, "product_id": product_id},
        page=f"/p/{product_id}?from=search&source_id={search_id}",
    )
    assert r.status_code == 200
    with database.read_sessions() as s:
        rows = s.execute(select(SearchInteraction.action, SearchInteraction.product_id)).all()
    assert sorted(rows) == [("add_to_cart", product_id), ("click", product_id)]


@pytest.mark.parametrize("path", ["/p/{n}", "/s/{n}", "/v/{n}", "/live/{n}", "/orders/{n}", "/mall/c/{n}"])
def test_an_id_past_what_the_database_holds_is_a_404_page(anon, path):
    for n in (2**53 + 1, 10**20, "9" * 5000):
        r = anon.get(path.format(n=n), follow_redirects=False)
        assert r.status_code == 404 and "<html" in r.text


def test_product_page_sku_choice_and_price_breakdown(anon, shop, world):
    m = shop["merchant"]
    product = world.product(m, price_fen=9900, title="双色保温杯")
    sku = product["skus"][1]
    r = world.client.patch(f"/api/v1/skus/{sku['id']}", json={"list_price_fen": 15000}, headers=m.headers)
    assert r.status_code == 200
    from tests.factories import stock

    stock(world, m, sku["id"], 5)
    r = anon.get(f"/p/{product['id']}", params={"sku_id": sku["id"], "from": "search"})
    assert r.status_code == 200
    assert 'name="surface" value="search"' in r.text
    panel = r.text[r.text.index('id="price-panel"') :]
    # one final price (¥104.00 = ¥150.00 list − ¥46.00 merchant discount − ¥0.00 subsidy), its breakdown on demand
    assert "¥104.00" in panel and "¥150.00" in panel and "−¥46.00" in panel and "<details" in panel
    assert "库存 5 件" in panel
    # the first SKU has no stock: it cannot be chosen
    assert re.search(rf'value="{product["skus"][0]["id"]}"[^>]*disabled', r.text)
    # HTMX price panel for another SKU
    r = anon.get(f"/p/{product['id']}/price", params={"sku_id": sku["id"]})
    assert r.status_code == 200 and "<html" not in r.text and "¥104.00" in r.text


def test_hidden_and_unknown_products_are_404_pages(anon, world):
    m = world.merchant()
    draft = world.product(m, listed=False)
    for url in (f"/p/{draft['id']}", "/p/999999", "/p/not-a-number", "/s/999999"):
        r = anon.get(url)
        assert r.status_code == 404, url
        assert "页面不存在" in r.text and r.headers["content-type"].startswith("text/html")


def test_store_page(anon, shop):
    r = anon.get(f"/s/{shop['merchant'].store_id}")
    assert r.status_code == 200 and "好物小店" in r.text and "磁吸手机壳" in r.text
    assert "?from=store_page" in r.text


def test_sign_up_errors_are_next_to_their_fields(anon, world):
    r = anon.post("/signup", {"email": "not-an-email", "password": "short", "display_name": "", "role": "shopper"})
    assert r.status_code == 422
    assert 'id="f-email-error"' in r.text and "邮箱格式不正确" in r.text
    assert 'id="f-password-error"' in r.text and "至少 8 个字符" in r.text
    assert 'id="f-display_name-error"' in r.text
    assert 'aria-invalid="true"' in r.text
    taken = world.shopper()
    r = anon.post("/signup", {"email": taken.email, "password": "long enough pw", "display_name": "x"})
    assert r.status_code == 409 and 'id="f-email-error"' in r.text and "该邮箱已注册" in r.text


def test_sign_up_signs_in_with_a_lax_httponly_session_cookie(anon):
    r = anon.post(
        "/signup",
        {"email": "new@example.com", "password": "long enough pw", "display_name": "新人", "birth_year": "1999"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/?done=signed_up"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("yinli_session=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    r = anon.get("/account")
    assert r.status_code == 200 and "新人" in r.text and "new@example.com" in r.text


def test_sign_in_errors_and_no_open_redirect(anon, world):
    user = world.shopper()
    r = anon.post("/signin", {"email": user.email, "password": "wrong password"})
    assert r.status_code == 401 and "邮箱或密码错误" in r.text
    r = anon.post(
        "/signin",
        {"email": user.email, "password": "correct horse battery", "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/?done=signed_in"


def test_pages_that_need_a_shopper(anon, browser_factory, world):
    r = anon.get("/cart", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=%2Fcart"
    merchant = browser_factory(world.merchant().email)
    r = merchant.get("/cart")
    assert r.status_code == 403 and "没有权限" in r.text


def test_buy_from_the_product_page_pay_and_see_the_order(browser_factory, shop, database):
    shopper = browser_factory(shop["shopper"].email)
    product = shop["products"][0]
    sku = product["skus"][0]
    page = f"/p/{product['id']}?from=search"
    r = shopper.post(
        "/cart/add", {"sku_id": sku["id"], "quantity": "2", "surface": "search", "product_id": product["id"]}, page=page
    )
    assert r.status_code == 200 and "已加入购物车" in r.text  # followed to the cart
    assert "¥258.00" in r.text
    # checkout: errors next to the address fields, nothing created
    r = shopper.post("/checkout", {"name": "", "phone": "123", "region": "杭州", "line": "文三路"})
    assert r.status_code == 422
    assert 'id="f-name-error"' in r.text and 'id="f-phone-error"' in r.text and "格式不正确" in r.text
    with database.read_sessions() as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 0
    # the same form submitted twice makes one checkout
    form = shopper.get("/checkout").text
    key = re.search(r'name="form_key" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    data = {
        "csrf_token": csrf_of(form),
        "form_key": key,
        "name": "李雷",
        "phone": "13800000000",
        "region": "杭州",
        "line": "文三路 1 号",
    }
    first = shopper.client.post("/checkout", data=data, follow_redirects=False)
    second = shopper.client.post("/checkout", data=data, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    pay_url = first.headers["location"]
    with database.read_sessions() as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 1
    r = shopper.get(pay_url)
    assert r.status_code == 200 and "¥258.00" in r.text
    r = shopper.post(pay_url, {"method": "card"}, follow_redirects=False)
    assert r.status_code == 303 and re.fullmatch(r"/orders/\d+\?done=paid", r.headers["location"])
    r = shopper.get(r.headers["location"])
    assert "支付成功" in r.text and "待发货" in r.text and "复古帆布鞋" in r.text
    with database.read_sessions() as s:
        order = s.scalars(select(Order)).one()
        assert order.status == "paid"
    assert shopper.get("/cart").text.count("复古帆布鞋") == 0  # bought from the cart: it is empty now
    r = shopper.get("/orders")
    assert f"查看订单 #{order.id}" in r.text


def _paid_order(browser, shop, sku_index=0, quantity=1, product_index=1):  # type: ignore[no-untyped-def]
    sku = shop["products"][product_index]["skus"][sku_index]
    r = browser.post(
        "/buy", {"sku_id": sku["id"], "quantity": str(quantity), "surface": "mall"}, page="/", follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/checkout?")
    page = r.headers["location"]
    r = browser.post(
        "/checkout",
        {
            "name": "李雷",
            "phone": "13800000000",
            "region": "杭州",
            "line": "文三路",
            "sku_id": sku["id"],
            "quantity": str(quantity),
            "surface": "mall",
        },
        page=page,
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    pay_url = r.headers["location"]
    r = browser.post(pay_url, {"method": "card"}, follow_redirects=False)
    return int(re.search(r"/orders/(\d+)", r.headers["location"]).group(1))  # type: ignore[union-attr]


def test_refund_before_shipping_and_order_privacy(browser_factory, shop, world, database):
    shopper = browser_factory(shop["shopper"].email)
    order_id = _paid_order(shopper, shop)
    with database.read_sessions() as s:
        assert s.get(Order, order_id).address["region"] == "杭州"  # type: ignore[union-attr]
        line = s.get(Order, order_id)
    r = shopper.get(f"/orders/{order_id}")
    assert "申请退款" in r.text
    form = shopper.get(f"/orders/{order_id}/after-sale?kind=refund_only").text
    qty_field = re.search(r'name="(qty-\d+)"', form).group(1)  # type: ignore[union-attr]
    # no reason: the error is next to the reason
    r = shopper.post(
        f"/orders/{order_id}/after-sale",
        {"kind": "refund_only", qty_field: "1", "reason": ""},
        page=f"/orders/{order_id}/after-sale",
    )
    assert r.status_code == 422 and 'id="f-reason-error"' in r.text
    # too many units: next to the quantity
    r = shopper.post(
        f"/orders/{order_id}/after-sale",
        {"kind": "refund_only", qty_field: "5", "reason": "拍错了"},
        page=f"/orders/{order_id}/after-sale",
    )
    assert r.status_code == 422 and f'id="f-{qty_field}-error"' in r.text
    r = shopper.post(
        f"/orders/{order_id}/after-sale",
        {"kind": "refund_only", qty_field: "1", "reason": "拍错了"},
        page=f"/orders/{order_id}/after-sale",
    )
    assert r.status_code == 200 and "售后申请已提交" in r.text
    assert "极速退款" in r.text and "已退款" in r.text  # ¥39 from a shopper in good standing: approved at once
    # another shopper sees none of it
    stranger = browser_factory(world.shopper().email)
    assert stranger.get(f"/orders/{order_id}").status_code == 404
    assert line is not None


def test_review_after_delivery(browser_factory, shop, world, database):
    shopper = browser_factory(shop["shopper"].email)
    order_id = _paid_order(shopper, shop)
    m = shop["merchant"]
    r = world.client.post(
        f"/api/v1/orders/{order_id}/ship", json={"carrier": "顺丰", "tracking_no": "SF1234567"}, headers=m.headers
    )
    assert r.status_code == 200
    r = shopper.post(f"/orders/{order_id}/confirm", {}, page=f"/orders/{order_id}")
    assert "已确认收货" in r.text and "申请退货" in r.text
    page = shopper.get(f"/orders/{order_id}").text
    line_id = int(re.search(r'action="/order-lines/(\d+)/review"', page).group(1))  # type: ignore[union-attr]
    r = shopper.post(
        f"/order-lines/{line_id}/review",
        {"order_id": str(order_id), "rating": "9", "text": ""},
        page=f"/orders/{order_id}",
    )
    assert r.status_code == 422 and "不能大于 5" in r.text
    r = shopper.post(
        f"/order-lines/{line_id}/review",
        {"order_id": str(order_id), "rating": "5", "text": "很好穿"},
        page=f"/orders/{order_id}",
    )
    assert r.status_code == 200 and "评价已发布" in r.text and "已评价" in r.text
    product_id = shop["products"][1]["id"]
    assert "很好穿" in shopper.get(f"/p/{product_id}").text


def test_account_profile_and_password(browser_factory, world):
    user = world.shopper()
    b = browser_factory(user.email)
    r = b.post("/account", {"display_name": "", "birth_year": "1850"})
    assert r.status_code == 422 and 'id="f-display_name-error"' in r.text and 'id="f-birth_year-error"' in r.text
    r = b.post("/account", {"display_name": "小新", "birth_year": "2001"})
    assert r.status_code == 200 and "已保存" in r.text and 'value="小新"' in r.text
    r = b.post("/account/password", {"current_password": "wrong one", "password": "brand new pw"}, page="/account")
    assert r.status_code == 422 and 'id="f-current_password-error"' in r.text
    r = b.post(
        "/account/password", {"current_password": "correct horse battery", "password": "brand new pw"}, page="/account"
    )
    assert r.status_code == 200 and "密码已修改" in r.text
    assert b.get("/account", follow_redirects=False).status_code == 303  # every session ended
    b.sign_in(user.email, "brand new pw")


def test_sign_out(browser_factory, world):
    b = browser_factory(world.shopper().email)
    r = b.post("/signout", {}, page="/account", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/?done=signed_out"
    assert b.get("/account", follow_redirects=False).status_code == 303
