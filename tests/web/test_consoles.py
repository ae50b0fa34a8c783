"""Merchant and ops consoles through TestClient: onboarding, products and prices, orders, after-sales,
metrics, applications, policy — and who may open what."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.factories import buy, pay, stock
from yinli.catalog.models import SkuPriceHistory


def _order(world, shop, product_index=0, quantity=1):  # type: ignore[no-untyped-def]
    sku = shop["products"][product_index]["skus"][0]
    payment = buy(world, shop["shopper"], [{"sku_id": sku["id"], "quantity": quantity, "surface": "search"}])
    return pay(world, shop["shopper"], payment["id"])["order_ids"][0]


# --- who may open the consoles ------------------------------------------------------------------------


def test_consoles_need_the_right_role(anon, browser_factory, world):
    r = anon.get("/merchant", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=%2Fmerchant"
    shopper = browser_factory(world.shopper().email)
    assert shopper.get("/merchant").status_code == 403
    assert shopper.get("/ops").status_code == 403
    merchant = browser_factory(world.merchant().email)
    assert merchant.get("/ops").status_code == 403
    assert merchant.get("/ops/stores").status_code == 403


def test_a_merchant_cannot_open_another_stores_pages(browser_factory, world, shop):
    other = world.merchant(name="隔壁店")
    listed = world.product(other)
    draft = world.product(other, listed=False)
    stock(world, other, listed["skus"][0]["id"], 5)
    other_order = buy(world, shop["shopper"], [{"sku_id": listed["skus"][0]["id"], "quantity": 1}])
    order_id = pay(world, shop["shopper"], other_order["id"])["order_ids"][0]
    me = browser_factory(shop["merchant"].email)
    r = me.get(f"/merchant/products/{listed['id']}")  # visible to all, managed by another store: 403
    assert r.status_code == 403 and "没有权限" in r.text
    assert me.get(f"/merchant/products/{draft['id']}").status_code == 404  # not even visible: 404
    assert me.get(f"/merchant/orders/{order_id}").status_code == 404
    # and changing them is refused the same way, changing nothing
    r = me.post(f"/merchant/skus/{listed['skus'][0]['id']}", {"price": "1.00", "stock": "1"}, page="/merchant/products")
    assert r.status_code == 403
    r = me.post(
        f"/merchant/orders/{order_id}/ship", {"carrier": "顺丰", "tracking_no": "SF1234567"}, page="/merchant/orders"
    )
    assert r.status_code == 404
    assert world.client.get(f"/api/v1/orders/{order_id}", headers=other.headers).json()["status"] == "paid"
    assert world.client.get(f"/api/v1/skus/{listed['skus'][0]['id']}").json()["price"]["amount"] == 3900


# --- merchant: onboarding, products, prices ------------------------------------------------------------


def test_apply_for_a_store_then_wait_for_review(browser_factory, world):
    user = world.user("merchant")
    b = browser_factory(user.email)
    r = b.get("/merchant")
    assert r.status_code == 200 and "申请开店" in r.text and "0 元入驻" in r.text
    r = b.post("/merchant/apply", {"name": "", "contact_email": "nope"}, page="/merchant")
    assert r.status_code == 422 and 'id="f-name-error"' in r.text and 'id="f-contact_email-error"' in r.text
    r = b.post(
        "/merchant/apply",
        {"name": "山茶花铺", "description": "手作", "contact_email": "tea@example.com"},
        page="/merchant",
    )
    assert r.status_code == 200 and "开店申请已提交" in r.text and "审核中" in r.text
    taken = browser_factory(world.user("merchant").email)
    r = taken.post("/merchant/apply", {"name": "山茶花铺"}, page="/merchant")
    assert r.status_code == 422 and 'id="f-name-error"' in r.text and "店铺名称已被使用" in r.text


def test_create_list_and_reprice_a_product(browser_factory, world, shop, database):
    b = browser_factory(shop["merchant"].email)
    page = b.get("/merchant/products/new").text
    assert 'hx-get="/merchant/categories?level=2"' in page
    leaf = world.leaf_id()
    level2 = world.leaf_id("手机数码 > 手机配件 > 手机贴膜")  # a leaf: not a level-2 node
    r = b.get(f"/merchant/categories?level=3&level2={level2}")
    assert r.status_code == 200 and "<option" in r.text
    # errors next to their fields: no price, a bad SKU code, a non-leaf category
    r = b.post(
        "/merchant/products/new",
        {"title": "新品", "category_id": "", "sku_code": "bad code!", "price": ""},
        page="/merchant/products/new",
    )
    assert r.status_code == 422 and 'id="f-price-error"' in r.text
    r = b.post(
        "/merchant/products/new",
        {"title": "新品", "category_id": "", "sku_code": "bad code!", "price": "19.9"},
        page="/merchant/products/new",
    )
    assert r.status_code == 422 and 'id="f-sku_code-error"' in r.text and 'id="cat-error"' in r.text
    r = b.post(
        "/merchant/products/new",
        {"title": "新品", "category_id": str(leaf), "sku_code": "N-1", "price": "19.9", "list_price": "9.9"},
        page="/merchant/products/new",
    )
    assert r.status_code == 422 and 'id="f-list_price-error"' in r.text  # list price below the price
    r = b.post(
        "/merchant/products/new",
        {
            "title": "防窥钢化膜",
            "category_id": str(leaf),
            "sku_code": "N-1",
            "attributes": "型号=15",
            "price": "19.90",
            "list_price": "29.90",
            "stock": "30",
        },
        page="/merchant/products/new",
        follow_redirects=False,
    )
    assert r.status_code == 303
    url = r.headers["location"].split("?")[0]
    page = b.get(url).text
    assert "商品已创建" not in page and "草稿" in page and 'value="19.90"' in page and 'value="30"' in page
    r = b.post(f"{url}/list", {}, page=url)
    assert "商品已上架" in r.text and "在售" in r.text
    sku_id = int(re.search(r'action="/merchant/skus/(\d+)"', r.text).group(1))  # type: ignore[union-attr]
    # a bad price is shown on that SKU's row
    r = b.post(f"/merchant/skus/{sku_id}", {"price": "x", "stock": "30", "is_active": "on"}, page=url)
    assert r.status_code == 422 and f'id="price-{sku_id}-error"' in r.text
    r = b.post(
        f"/merchant/skus/{sku_id}",
        {"price": "17.90", "list_price": "29.90", "stock": "25", "is_active": "on"},
        page=url,
    )
    assert r.status_code == 200 and "已保存" in r.text and 'value="17.90"' in r.text
    with database.read_sessions() as s:
        prices = [h.price_fen for h in s.scalars(select(SkuPriceHistory).where(SkuPriceHistory.sku_id == sku_id))]
    assert prices == [1990, 1790]
    assert "¥19.90" in r.text and "¥17.90" in r.text and '<svg class="chart"' in r.text  # the history, with its chart
    r = b.post(f"{url}/skus", {"code": "N-2", "attributes": "型号=16", "price": "21.00", "stock": "5"}, page=url)
    assert "规格已添加" in r.text and "N-2" in r.text
    r = b.post(f"{url}", {"title": "", "description": ""}, page=url)
    assert r.status_code == 422 and 'id="f-title-error"' in r.text
    listing = b.get("/merchant/products?status=listed").text
    assert "防窥钢化膜" in listing


def test_store_profile(browser_factory, shop, anon):
    b = browser_factory(shop["merchant"].email)
    r = b.post("/merchant/store", {"name": "好物小店", "shipping_fee": "abc"}, page="/merchant/store")
    assert r.status_code == 422 and 'id="f-shipping_fee-error"' in r.text
    r = b.post(
        "/merchant/store",
        {"name": "好物小店", "description": "精选", "shipping_fee": "8", "free_shipping_over": "99"},
        page="/merchant/store",
    )
    assert r.status_code == 200 and "已保存" in r.text and 'value="8.00"' in r.text
    assert "满 ¥99.00 包邮" in anon.get(f"/s/{shop['merchant'].store_id}").text


# --- merchant: orders, after-sales, metrics ----------------------------------------------------------------


def test_ship_an_order(browser_factory, world, shop):
    order_id = _order(world, shop)
    b = browser_factory(shop["merchant"].email)
    home = b.get("/merchant").text
    assert "待发货订单" in home
    r = b.get("/merchant/orders")
    assert f'id="order-{order_id}"' in r.text
    r = b.post(f"/merchant/orders/{order_id}/ship", {"carrier": "顺丰", "tracking_no": "no!"}, page="/merchant/orders")
    assert r.status_code == 422 and f'id="tracking-{order_id}-error"' in r.text
    r = b.post(
        f"/merchant/orders/{order_id}/ship", {"carrier": "顺丰", "tracking_no": "SF1234567"}, page="/merchant/orders"
    )
    assert r.status_code == 200 and "已发货" in r.text
    assert world.client.get(f"/api/v1/orders/{order_id}", headers=shop["shopper"].headers).json()["status"] == "shipped"
    assert "SF1234567" in b.get(f"/merchant/orders/{order_id}").text


def test_handle_a_return(browser_factory, world, shop):
    order_id = _order(world, shop)  # ¥129: above the automatic approval limit
    m, s = shop["merchant"], shop["shopper"]
    world.client.post(
        f"/api/v1/orders/{order_id}/ship", json={"carrier": "顺丰", "tracking_no": "SF1234567"}, headers=m.headers
    )
    world.client.post(f"/api/v1/orders/{order_id}/confirm-delivery", headers=s.headers)
    r = world.client.post(
        f"/api/v1/orders/{order_id}/after-sales",
        json={"kind": "return_refund", "reason": "尺码不合适"},
        headers=s.headers,
    )
    case_id = r.json()["id"]
    b = browser_factory(m.email)
    page = b.get("/merchant/after-sales").text
    assert f'id="case-{case_id}"' in page and "尺码不合适" in page
    r = b.post(
        f"/merchant/after-sales/{case_id}/decide", {"decision": "reject", "note": ""}, page="/merchant/after-sales"
    )
    assert r.status_code == 422 and f'id="note-{case_id}-error"' in r.text
    r = b.post(f"/merchant/after-sales/{case_id}/decide", {"decision": "approve"}, page="/merchant/after-sales")
    assert r.status_code == 200 and "已处理售后申请" in r.text
    world.client.post(
        f"/api/v1/after-sales/{case_id}/return-shipment",
        json={"carrier": "中通", "tracking_no": "ZT12345"},
        headers=s.headers,
    )
    r = b.post(f"/merchant/after-sales/{case_id}/receive", {}, page="/merchant/after-sales?status=return_shipped")
    assert r.status_code == 200 and "已确认收到退货并退款" in r.text
    assert world.client.get(f"/api/v1/after-sales/{case_id}", headers=s.headers).json()["status"] == "refunded"


def test_metrics_show_gmv_by_format(browser_factory, world, shop):
    _order(world, shop)  # surface: search
    b = browser_factory(shop["merchant"].email)
    r = b.get("/merchant/metrics")
    assert r.status_code == 200
    assert '<svg class="chart hbars"' in r.text and "搜索" in r.text and "¥129.00" in r.text
    assert "好评率" in r.text and "退款率" in r.text


# --- ops ---------------------------------------------------------------------------------------------------


def test_ops_reviews_applications(browser_factory, world):
    pending = world.merchant(approve=False, name="待审小店")
    ops = browser_factory(world.operator.email)
    page = ops.get("/ops/stores").text
    assert "待审小店" in page
    r = ops.post(f"/ops/stores/{pending.store_id}/review", {"decision": "reject", "note": ""}, page="/ops/stores")
    assert r.status_code == 422 and f'id="note-{pending.store_id}-error"' in r.text
    r = ops.post(f"/ops/stores/{pending.store_id}/review", {"decision": "approve"}, page="/ops/stores")
    assert r.status_code == 200 and "已通过开店申请" in r.text
    assert world.client.get(f"/api/v1/stores/{pending.store_id}").json()["status"] == "active"


def test_ops_policy(browser_factory, world):
    ops = browser_factory(world.operator.email)
    r = ops.post("/ops/policy", {"store_deposit": "2000", "new_merchant_days": "999"}, page="/ops/policy")
    assert r.status_code == 422 and 'id="f-new_merchant_days-error"' in r.text
    r = ops.post("/ops/policy", {"store_deposit": "1500.50", "new_merchant_days": "60"}, page="/ops/policy")
    assert r.status_code == 200 and "已保存" in r.text
    policy = world.client.get("/api/v1/platform/policy").json()
    assert policy == {
        "zero_deposit_opening": False,
        "store_deposit": {"amount": 150050, "currency": "CNY", "formatted": "¥1,500.50"},
        "new_merchant_days": 60,
    }


def test_ops_kpis(browser_factory, world, shop):
    _order(world, shop)
    ops = browser_factory(world.operator.email)
    r = ops.get("/ops")
    assert r.status_code == 200
    assert "¥129.00" in r.text and "搜索" in r.text and r.text.count('<svg class="chart') == 2
    assert '<div class="value">100.0%</div><div class="name">货架场景占比' in r.text  # the order was from a search
    assert ops.get("/ops?days=7").status_code == 200


def test_category_picker_works_without_javascript(browser_factory, world, shop, database):
    """Step through the three levels with the picker's own submit button, keeping what was typed."""
    b = browser_factory(shop["merchant"].email)
    page = b.get("/merchant/products/new").text
    assert "<noscript>" in page and 'name="step" value="category"' in page
    with database.read_sessions() as s:
        from yinli.catalog.models import Category

        leaf = s.get(Category, world.leaf_id())
        level2 = s.get(Category, leaf.parent_id)  # type: ignore[union-attr]
        level1 = s.get(Category, level2.parent_id)  # type: ignore[union-attr]
    typed = {"title": "防摔手机壳", "sku_code": "S-1", "price": "29.90", "stock": "8"}
    r = b.post(
        "/merchant/products/new", {**typed, "level1": level1.id, "step": "category"}, page="/merchant/products/new"
    )
    assert r.status_code == 200 and 'value="防摔手机壳"' in r.text and 'value="29.90"' in r.text
    level2_select = r.text[r.text.index('id="f-level2"') : r.text.index('id="f-category_id"')]
    assert f'value="{level2.id}"' in level2_select
    r = b.post(
        "/merchant/products/new",
        {**typed, "level1": level1.id, "level2": level2.id, "step": "category"},
        page="/merchant/products/new",
    )
    leaf_select = r.text[r.text.index('id="f-category_id"') :]
    assert f'<option value="{leaf.id}">{leaf.name}</option>' in leaf_select
    # a level-2 node that is not under the chosen level 1 is ignored, not trusted
    r = b.post(
        "/merchant/products/new", {**typed, "level1": level1.id, "level2": 999999, "step": "category"}, page="/merchant"
    )
    assert r.status_code == 200
    r = b.post(
        "/merchant/products/new",
        {**typed, "level1": level1.id, "level2": level2.id, "category_id": leaf.id},
        page="/merchant/products/new",
        follow_redirects=False,
    )
    assert r.status_code == 303 and "done=created" in r.headers["location"]
