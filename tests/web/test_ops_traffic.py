"""Ops console traffic and search pages through TestClient: launch plan, boost plan, experiments,
search KPIs — operators only, bad input changes nothing, CSRF."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.factories import stock
from tests.web.conftest import sync_search
from yinli.jobs import run_once
from yinli.search.models import LoggedSearch
from yinli.traffic.models import Experiment, LaunchEnrolment, TrafficPlan

PAGES = ("/ops/launch", "/ops/boost", "/ops/experiments", "/ops/search")


def test_traffic_pages_are_for_operators(anon, browser_factory, world, shop):
    merchant = browser_factory(shop["merchant"].email)
    shopper = browser_factory(shop["shopper"].email)
    for url in PAGES:
        assert anon.get(url, follow_redirects=False).status_code == 303, url
        assert merchant.get(url).status_code == 403, url
        assert shopper.get(url).status_code == 403, url
    ops = browser_factory(world.operator.email)
    for url in PAGES:
        r = ops.get(url)
        assert r.status_code == 200, url
        assert f'href="{url}" aria-current="page"' in r.text


def test_launch_plan_coverage_enrolments_and_settings(browser_factory, world, shop, app, database):
    state = app.state
    run_once(database, state.clock, state.settings, state.gateway)  # enrols the new merchant
    with database.read_sessions() as s:
        assert s.scalar(select(func.count()).select_from(LaunchEnrolment)) == 1
    ops = browser_factory(world.operator.email)
    r = ops.get("/ops/launch")
    assert r.status_code == 200 and "起航计划" in r.text and "运行中" in r.text
    row = r.text[r.text.index(f'id="enrolment-{shop["merchant"].store_id}"') :]
    assert "好物小店" in row and "扶持中" in row and "0 / 200" in row
    # its plan: served to shoppers interested in its leaf categories; no traffic yet, so no forecast to size by
    assert "同类目兴趣" in row and "no supply forecast yet" in row
    assert "1 / 1" in r.text  # listed new merchants in the plan
    assert 'id="coverage">—' in r.text  # no window has closed yet
    assert "好物小店" not in ops.get("/ops/launch?status=reached").text
    # bad settings come back next to their fields and change nothing
    r = ops.post("/ops/launch", {"enabled": "on", "quota": "many", "window_days": "3", "share": "20"})
    assert r.status_code == 422 and 'id="f-quota-error"' in r.text and "请输入整数" in r.text
    r = ops.post("/ops/launch", {"enabled": "on", "quota": "200", "window_days": "90", "share": "20"})
    assert r.status_code == 422 and 'id="f-window_days-error"' in r.text
    r = ops.post("/ops/launch", {"enabled": "on", "quota": "200", "window_days": "3", "share": "45"})
    assert r.status_code == 422 and 'id="f-share-error"' in r.text  # launch + boost above half a page
    with database.read_sessions() as s:
        assert s.get(TrafficPlan, "launch") is None
    r = ops.post("/ops/launch", {"enabled": "on", "quota": "300", "window_days": "5", "share": "15"})
    assert r.status_code == 200 and "已保存" in r.text and 'value="300"' in r.text and 'value="15"' in r.text
    with database.read_sessions() as s:
        config = s.get(TrafficPlan, "launch").config  # type: ignore[union-attr]
    assert (config["quota"], config["window_days"], config["share"]) == (300, 5, 0.15)


def test_boost_plan_tiers_members_history(browser_factory, world):
    r = browser_factory(world.operator.email).get("/ops/boost")
    assert r.status_code == 200
    assert "潜力" in r.text and "成长" in r.text and "明星" in r.text and "还没有商家入档" in r.text
    assert '<svg class="chart hbars"' in r.text and "还没有档位变动" in r.text


def test_boost_plan_settings_are_saved_and_bad_ones_change_nothing(browser_factory, world, database):
    ops = browser_factory(world.operator.email)
    page = ops.get("/ops/boost").text
    assert 'id="f-share" name="share" type="text" value="10"' in page and 'name="daily_rising"' in page
    good = {"enabled": "on", "share": "12.5", "exit_margin": "5", "daily_rising": "80", "daily_growing": "200",
            "daily_star": "500"}  # fmt: skip
    r = ops.post("/ops/boost", {**good, "daily_growing": "lots"})
    assert r.status_code == 422 and 'id="f-daily_growing-error"' in r.text and 'value="12.5"' in r.text
    r = ops.post("/ops/boost", {**good, "exit_margin": "60"})
    assert r.status_code == 422 and 'id="f-exit_margin-error"' in r.text
    r = ops.post("/ops/boost", {**good, "share": "45"})  # with the launch plan's 20%: above half a page
    assert r.status_code == 422 and 'id="f-share-error"' in r.text
    with database.read_sessions() as s:
        assert s.get(TrafficPlan, "boost") is None
    r = ops.post("/ops/boost", {**good, "enabled": ""})
    assert r.status_code == 200 and "已保存" in r.text and "已关闭" in r.text
    with database.read_sessions() as s:
        config = s.get(TrafficPlan, "boost").config  # type: ignore[union-attr]
    assert (config["enabled"], config["share"], config["exit_margin"]) == (False, 0.125, 0.05)
    assert [t["daily_impressions"] for t in config["tiers"]] == [80, 200, 500]
    assert browser_factory(world.shopper().email).get("/ops/boost").status_code in (403, 404)


def test_experiments_start_metrics_stop(browser_factory, world, database):
    ops = browser_factory(world.operator.email)
    page = ops.get("/ops/experiments").text
    assert "还没有实验" in page and 'name="v0_name" value="A"' in page
    base = {
        "name": "排序对比",
        "v0_name": "A",
        "v0_weight": "50",
        "v0_policy": "user_first",
        "v0_launch_plan": "on",
        "v0_boost_plan": "on",
        "v1_name": "B",
        "v1_weight": "50",
        "v1_policy": "gmv_only",
    }
    r = ops.post("/ops/experiments", {**base, "v1_weight": "half"})
    assert r.status_code == 422 and 'id="v1-weight-error"' in r.text and 'value="排序对比"' in r.text
    r = ops.post("/ops/experiments", {**base, "v1_name": "A"})
    assert r.status_code == 422 and "form-error" in r.text  # two variants with one name
    r = ops.post("/ops/experiments", {**base, "name": ""})
    assert r.status_code == 422 and 'id="f-name-error"' in r.text
    with database.read_sessions() as s:
        assert s.scalar(select(func.count()).select_from(Experiment)) == 0
    r = ops.post("/ops/experiments", base, follow_redirects=False)
    assert r.status_code == 303
    experiment_id = int(re.search(r"/ops/experiments/(\d+)", r.headers["location"]).group(1))  # type: ignore[union-attr]
    r = ops.get(r.headers["location"])
    assert r.status_code == 200 and "实验已开始" in r.text and "进行中" in r.text
    table = r.text[r.text.index('id="buckets"') :]
    assert "用户优先" in table and "只看成交额" in table and "点击率" in table and "新商家曝光占比" in table
    # one at a time
    r = ops.post("/ops/experiments", {**base, "name": "另一个"})
    assert r.status_code == 409 and "已有实验在进行" in r.text
    r = ops.post(f"/ops/experiments/{experiment_id}/stop", page="/ops/experiments")
    assert r.status_code == 200 and "实验已停止" in r.text and "已停止" in r.text
    r = ops.post(f"/ops/experiments/{experiment_id}/stop", page="/ops/experiments")
    assert r.status_code == 409 and "form-error" in r.text
    assert ops.get("/ops/experiments/999999").status_code == 404


def test_search_kpis_count_web_searches_and_their_sales(anon, browser_factory, world, shop, app, database):
    anon.get("/search", params={"q": "帆布鞋"})
    anon.get("/search", params={"q": "帆布鞋"})
    anon.get("/search", params={"q": "不存在的东西xyz"})
    # a shopper searches, opens a result and buys it: the sale is credited to that search
    b = browser_factory(shop["shopper"].email)
    page = b.get("/search", params={"q": "手机壳"}).text
    link = re.search(r'href="(/search/r/(\d+)/\d+)"', page)
    assert link, "result links go through the search's click counter"
    opened = b.get(link.group(1), follow_redirects=False)
    assert opened.status_code == 303 and f"from=search&source_id={link.group(2)}" in opened.headers["location"]
    product_page = b.get(opened.headers["location"]).text
    assert f'name="source_id" value="{link.group(2)}"' in product_page
    sku = shop["products"][1]["skus"][0]["id"]
    r = b.post("/buy", {"sku_id": sku, "quantity": "1", "surface": "search", "source_id": link.group(2)}, page="/")
    assert r.status_code == 200 and f'name="source_id" value="{link.group(2)}"' in r.text
    key = re.search(r'name="form_key" value="([^"]+)"', r.text).group(1)  # type: ignore[union-attr]
    checkout = f"/checkout?sku_id={sku}&quantity=1&surface=search&source_id={link.group(2)}"
    address = {"name": "李雷", "phone": "13800000000", "region": "杭州", "line": "文三路"}
    data = {"sku_id": sku, "quantity": "1", "surface": "search", "source_id": link.group(2), "form_key": key}
    r = b.post("/checkout", {**data, **address}, page=checkout, follow_redirects=False)
    assert r.status_code == 303
    b.post(r.headers["location"], {"method": "card"})
    state = app.state
    run_once(database, state.clock, state.settings, state.gateway)  # the search log attributes the order
    with database.read_sessions() as s:
        assert s.scalar(select(func.count()).select_from(LoggedSearch)) == 4
    r = browser_factory(world.operator.email).get("/ops/search")
    assert r.status_code == 200
    assert 'id="search-pv">4<' in r.text and 'id="zero-results">1<' in r.text
    assert 'id="search-ctr">33.3%<' in r.text  # 1 of the 3 searches with results was clicked
    assert 'id="search-cvr">25.0%<' in r.text and "¥39.00" in r.text
    zero = r.text[r.text.index('id="zero-queries"') :]
    assert "不存在的东西xyz" in zero and "帆布鞋" not in zero
    assert "帆布鞋" in r.text[r.text.index("热门搜索词") :]


def test_search_page_uses_the_search_engine_with_facets(anon, world, shop, app):
    other = world.merchant(name="数码小铺")
    case = world.product(other, price_fen=59900, title="碳纤维手机壳 超薄")
    stock(world, other, case["skus"][0]["id"], 3)
    r = anon.get("/search", params={"q": "手机壳"})
    assert "碳纤维手机壳" not in r.text  # not indexed until the next background round
    sync_search(app)
    r = anon.get("/search", params={"q": "手机壳"})
    # (the fixture's sneakers hang in the phone-case category too: the category name matches them)
    assert r.status_code == 200 and "碳纤维手机壳" in r.text and "磁吸手机壳" in r.text and "共 3 件商品" in r.text
    stores = r.text[r.text.index('aria-label="按店铺筛选"') :]
    assert "数码小铺 (1)" in stores and "好物小店 (2)" in stores
    prices = r.text[r.text.index('aria-label="按价格筛选"') :]
    assert "¥0.00–¥50.00 (1)" in prices
    r = anon.get("/search", params={"q": "手机壳", "store_id": str(other.store_id)})
    assert "碳纤维手机壳" in r.text and "磁吸手机壳" not in r.text and "店铺：<strong>数码小铺</strong>" in r.text
    r = anon.get("/search", params={"q": "手机壳", "sort": "price_desc"})
    assert r.text.index("碳纤维手机壳") < r.text.index("磁吸手机壳")
    r = anon.get("/search", params={"q": "手机壳", "in_stock": "on"})
    assert 'name="in_stock" checked' in r.text and "共 3 件商品" in r.text
    # words matched in part: the page says so
    r = anon.get("/search", params={"q": "手机壳 榴莲"})
    assert "部分匹配" in r.text and "磁吸手机壳" in r.text
    # a page past the end (or past the engine's candidate window) is the last page, not an error
    r = anon.get("/search", params={"q": "手机壳", "page": "100000"})
    assert r.status_code == 200 and "碳纤维手机壳" in r.text
    # upside-down price range: a clear message above the filters
    r = anon.get("/search", params={"q": "手机壳", "min_price": "100", "max_price": "10"})
    assert r.status_code == 200 and "form-error" in r.text


def test_traffic_forms_need_the_csrf_token(browser_factory, world, database):
    ops = browser_factory(world.operator.email)
    ops.get("/ops")
    for url, data in (
        ("/ops/launch", {"enabled": "on", "quota": "1", "window_days": "1", "share": "10"}),
        ("/ops/experiments", {"name": "x", "v0_name": "A", "v0_weight": "1", "v1_name": "B", "v1_weight": "1"}),
    ):
        r = ops.client.post(url, data=data)
        assert r.status_code == 403 and "表单已过期" in r.text, url
    with database.read_sessions() as s:
        assert s.get(TrafficPlan, "launch") is None
        assert s.scalar(select(func.count()).select_from(Experiment)) == 0
