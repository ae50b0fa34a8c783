"""Shopper basics on the web: the address book and the default address at checkout, favourites and
followed stores, the cart badge and checking out chosen cart lines, short stock, the buy sheet's quantity."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.factories import stock
from tests.web.conftest import csrf_of
from yinli.checkout.models import CartItem
from yinli.orders.models import Order

HOME = {"name": "韩梅梅", "phone": "139-1234-5678", "region": "上海市 上海市 徐汇区", "line": "漕溪北路 88 号"}


def form_key(html: str) -> str:
    return re.search(r'name="form_key" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def test_the_address_book_page_saves_checks_phones_and_is_the_default_at_checkout(browser_factory, shop, database):
    b = browser_factory(shop["shopper"].email)
    r = b.post("/account/addresses", {**HOME, "phone": "12345"})
    assert r.status_code == 422 and 'id="f-phone-error"' in r.text and "请输入正确的手机号" in r.text
    r = b.post("/account/addresses", HOME)
    assert r.status_code == 200 and "收货地址已保存" in r.text and "13912345678" in r.text and "默认" in r.text
    # the checkout page picks the default; placing the order ships there
    sku = shop["products"][1]["skus"][0]["id"]
    page = b.get(f"/checkout?sku_id={sku}&quantity=1")
    address_id = re.search(r'name="address_id" value="(\d+)" checked', page.text).group(1)  # type: ignore[union-attr]
    r = b.client.post(
        "/checkout",
        data={
            "csrf_token": csrf_of(page.text),
            "form_key": form_key(page.text),
            "sku_id": sku,
            "quantity": "1",
            "address_id": address_id,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/pay/"), r.text
    with database.read_sessions() as s:
        order = s.scalars(select(Order)).one()
    assert order.address == {"name": "韩梅梅", "phone": "13912345678", "region": HOME["region"], "line": HOME["line"]}
    # someone else's address is the 404 page, on the book and at checkout
    other = browser_factory(shop["merchant"].email)
    assert other.get(f"/account/addresses/{address_id}").status_code == 403  # a merchant keeps no book
    stranger = browser_factory(world_shopper_email(shop, database))
    assert stranger.get(f"/account/addresses/{address_id}").status_code == 404


def world_shopper_email(shop, database) -> str:  # type: ignore[no-untyped-def]
    from yinli.accounts import service as accounts
    from yinli.core.auth import Role
    from yinli.core.clock import SystemClock

    with database.session() as s:
        user = accounts.do_sign_up(
            s,
            SystemClock(),
            email="stranger@example.com",
            password="correct horse battery",
            display_name="路人",
            role=Role.SHOPPER,
        )
        return user.email


def test_checking_out_chosen_cart_lines_leaves_the_others_and_the_badge_counts_lines(browser_factory, shop, database):
    b = browser_factory(shop["shopper"].email)
    a, c = (p["skus"][0]["id"] for p in shop["products"])
    for sku, product in ((a, shop["products"][0]), (c, shop["products"][1])):
        b.post("/cart/add", {"sku_id": sku, "quantity": "1", "product_id": product["id"]}, page=f"/p/{product['id']}")
    cart = b.get("/cart").text
    assert 'data-cart-count="2"' in cart and 'class="cart-count">2' in cart
    with database.read_sessions() as s:
        items = {i.sku_id: i.id for i in s.scalars(select(CartItem))}
    summary = b.get(f"/cart/summary?items={items[c]}").text
    assert "已选 1 件" in summary and "¥39.00" in summary
    page = b.get(f"/checkout?items={items[c]}")
    assert "磁吸手机壳" in page.text and "复古帆布鞋" not in page.text
    r = b.client.post(
        "/checkout",
        data={
            "csrf_token": csrf_of(page.text),
            "form_key": form_key(page.text),
            "items": str(items[c]),
            "address_id": "new",
            **HOME,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    with database.read_sessions() as s:
        assert [i.sku_id for i in s.scalars(select(CartItem))] == [a]  # the other line stays in the cart
    assert 'data-cart-count="1"' in b.get("/").text


def test_short_stock_says_how_many_are_left_and_offers_to_change_the_quantity(browser_factory, world, client):
    m = world.merchant()
    p = world.product(m, price_fen=2000)
    sku = p["skus"][0]["id"]
    stock(world, m, sku, 3)
    s = world.shopper()
    b = browser_factory(s.email)
    page = b.get(f"/checkout?sku_id={sku}&quantity=5")
    r = b.client.post(
        "/checkout",
        data={
            "csrf_token": csrf_of(page.text),
            "form_key": form_key(page.text),
            "sku_id": sku,
            "quantity": "5",
            **HOME,
        },
    )
    assert r.status_code == 422 and "库存不足：仅剩 3 件" in r.text
    assert f'id="fix-{sku}"' in r.text and 'max="3"' in r.text
    # the API says the same with the count
    body = {"items": [{"sku_id": sku, "quantity": 5}], "address": {**HOME, "phone": "13912345678"}}
    answer = client.post("/api/v1/checkout", json=body, headers=s.headers)
    assert answer.status_code == 409 and answer.json()["available"] == 3 and answer.json()["sku_id"] == sku
    assert answer.json()["errors"][0]["field"] == "items.0.quantity"
    # in the cart: raising a line past the stock is refused with the count
    b.post("/cart/add", {"sku_id": sku, "quantity": "1", "product_id": p["id"]}, page=f"/p/{p['id']}")
    item = client.get("/api/v1/cart", headers=s.headers).json()["stores"][0]["lines"][0]["item_id"]
    r = b.post(f"/cart/{item}/quantity", {"quantity": "9"}, page="/cart")
    assert r.status_code == 422 and "仅剩 3 件" in r.text
    r = client.patch(f"/api/v1/cart/items/{item}", json={"quantity": 9}, headers=s.headers)
    assert r.status_code == 409 and r.json()["available"] == 3


def test_favourite_from_the_product_page_and_follow_the_store(browser_factory, shop):
    b = browser_factory(shop["shopper"].email)
    product = shop["products"][0]
    page = f"/p/{product['id']}"
    assert f'data-favourite="{product["id"]}"' in b.get(page).text
    r = b.post(f"/p/{product['id']}/favourite", {"on": "1", "next": page}, page=page)
    assert r.status_code == 200 and "已收藏" in r.text
    again = b.post(
        f"/p/{product['id']}/favourite", {"on": "1", "next": page}, page=page, headers={"HX-Request": "true"}
    )
    assert again.status_code == 200 and 'aria-pressed="true"' in again.text
    fav = b.get("/favourites").text
    assert product["title"] in fav and "有货" in fav
    store = f"/s/{shop['merchant'].store_id}"
    r = b.post(f"{store}/follow", {}, page=store)
    assert r.status_code == 200 and "已关注" in r.text
    assert "好物小店" in b.get("/following").text
    r = b.post(f"{store}/unfollow", {}, page=store)
    assert "+ 关注" in r.text and "好物小店" not in b.get("/following").text.split("<main")[1]


def test_the_buy_sheet_has_a_quantity_control_and_the_default_address(browser_factory, shop, database):
    from tests.web.test_live import _on_air

    session_id = _on_air(database, shop)
    b = browser_factory(shop["shopper"].email)
    b.post("/account/addresses", HOME)
    room = f"/live/{session_id}"
    assert 'name="quantity" type="number"' in b.get(room).text  # the room's buy forms take a quantity
    sku = shop["products"][0]["skus"][0]["id"]
    hx = {"HX-Request": "true"}
    r = b.post(f"{room}/buy", {"sku_id": sku, "quantity": "2"}, page=room, headers=hx)
    assert r.status_code == 200 and 'id="sheet-qty"' in r.text and 'value="2"' in r.text
    assert "¥258.00" in r.text  # 2 × 129, free shipping
    assert re.search(r'name="address_id" value="\d+" checked', r.text) and "韩梅梅" in r.text
    r = b.post(f"{room}/buy", {"sku_id": sku, "quantity": "3"}, page=room, headers=hx)  # the + button
    assert 'value="3"' in r.text and "¥387.00" in r.text
    sheet_key = form_key(r.text)
    address_id = re.search(r'name="address_id" value="(\d+)" checked', r.text).group(1)  # type: ignore[union-attr]
    r = b.post(
        f"{room}/order",
        {"form_key": sheet_key, "sku_id": sku, "quantity": "3", "address_id": address_id, "method": "card"},
        page=room,
        headers=hx,
    )
    assert r.status_code == 200, r.text
    with database.read_sessions() as s:
        order = s.scalars(select(Order)).one()
    assert order.address["phone"] == "13912345678" and order.total_fen == 38700
