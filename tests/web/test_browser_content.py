"""Real-browser journeys over the content and traffic pages: a merchant publishes a video and runs the
live room and affiliate plans at desktop width; a shopper finds the video in the feed and buys from it
without leaving, at phone width; an operator reads the launch plan, runs an experiment and reads the
search KPIs. Screenshots go to test-artifacts/screenshots/ (4x-*.png)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.web.conftest import DESKTOP, PHONE, Live, shot
from tests.web.test_browser import expect_ok, sign_in
from yinli.orders.models import OrderLine

pytestmark = pytest.mark.browser


def test_merchant_publishes_a_video_shopper_buys_from_it(live_server: Live, chromium) -> None:  # type: ignore[no-untyped-def]
    live = live_server
    desk = chromium.new_context(**DESKTOP, locale="zh-CN")
    merchant = desk.new_page()
    sign_in(merchant, live, "shoes@demo.yinli")

    # publish a short video linking two products (a missing title first: shown next to the field)
    merchant.get_by_role("link", name="短视频").click()
    merchant.wait_for_url("**/merchant/videos")
    merchant.get_by_label("时长（秒）").fill("45")
    merchant.get_by_label("封面链接").fill(f"{live.url}/static/video-poster.svg")
    merchant.get_by_label("视频链接").fill(f"{live.url}/static/video.mp4")
    boxes = merchant.locator("fieldset.picks input[type=checkbox]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    merchant.get_by_role("button", name="发布", exact=True).click()
    assert merchant.locator("#f-title-error").is_visible()
    assert merchant.locator("fieldset.picks input:checked").count() == 2  # the ticks survive the error
    merchant.get_by_label("视频标题").fill("板鞋上脚 一周穿搭")
    merchant.get_by_role("button", name="发布", exact=True).click()
    merchant.wait_for_url("**/merchant/videos?done=published")
    expect_ok(merchant)
    row = merchant.locator("table.data tbody tr").first
    assert "板鞋上脚 一周穿搭" in row.inner_text()
    video_id = int(re.search(r"/v/(\d+)", row.get_by_role("link").first.get_attribute("href")).group(1))  # type: ignore[arg-type,union-attr]
    shot(merchant, "40-merchant-videos-desktop")

    # the live session on air: present another product
    merchant.get_by_role("link", name="直播", exact=True).click()
    merchant.locator("table.data a").first.click()
    merchant.wait_for_url("**/merchant/live/*")
    present = merchant.locator("table.data form button").first
    present.click()
    merchant.wait_for_url("**done=presented")
    assert merchant.locator("table.data .badge", has_text="讲解中").count() == 1
    shot(merchant, "41-merchant-live-session-desktop")

    # an affiliate plan (a bad rate first)
    merchant.get_by_role("link", name="达人带货").click()
    merchant.get_by_label("商品").select_option(index=1)
    merchant.get_by_label("佣金率（%）").fill("百分之十")
    merchant.get_by_role("button", name="开启计划").click()
    assert "请输入百分比" in merchant.locator("#f-rate-error").inner_text()
    merchant.get_by_label("佣金率（%）").fill("10")
    merchant.get_by_role("button", name="开启计划").click()
    merchant.wait_for_url("**/merchant/affiliate?done=plan_opened")
    assert "10.00%" in merchant.locator("table.data").first.inner_text()
    shot(merchant, "42-merchant-affiliate-desktop")

    # a shopper finds the video in the feed and buys from it without leaving
    phone = chromium.new_context(**PHONE, locale="zh-CN")
    shopper = phone.new_page()
    sign_in(shopper, live, "shopper@demo.yinli")
    shopper.goto(live.url + "/")
    shopper.locator(f'a[href="/v/{video_id}"]').first.click()
    shopper.wait_for_url(f"**/v/{video_id}")
    assert shopper.locator("h1").inner_text() == "板鞋上脚 一周穿搭"
    assert shopper.locator(".room-products .list-item").count() == 2
    assert "¥" in shopper.locator(".room-products .price").first.inner_text()
    shot(shopper, "43-video-phone")
    shopper.get_by_role("button", name=re.compile("点赞")).click()
    shopper.wait_for_url("**done=liked")
    assert shopper.locator("#likes").inner_text() == "1 赞"
    item = shopper.locator(".room-products .list-item").first
    item.get_by_role("button", name=re.compile("购买")).click()
    sheet = shopper.locator(".sheet")
    sheet.locator("h2", has_text="在视频里下单").wait_for()
    sheet.get_by_label("收货人").fill("小周")
    sheet.get_by_label("手机号").fill("13900002222")
    sheet.get_by_label("所在地区").fill("上海市 徐汇区")
    sheet.get_by_label("详细地址").fill("漕溪北路 1 号")
    sheet.get_by_role("button", name=re.compile("确认支付")).click()
    shopper.locator(".sheet h2", has_text="支付成功").wait_for()
    assert f"/v/{video_id}" in shopper.url  # never left the video
    shot(shopper, "44-video-bought-phone")
    with live.database.read_sessions() as s:
        line = s.scalars(select(OrderLine).order_by(OrderLine.id.desc())).first()
        assert line is not None and (line.surface, line.source_id) == ("short_video", video_id)

    # the store page links its videos
    shopper.goto(live.url + f"/v/{video_id}")
    shopper.locator(".small.muted a").first.click()
    shopper.wait_for_url("**/s/*")
    assert shopper.locator(f'a[href="/v/{video_id}"]').count() == 1
    phone.close()
    desk.close()


def test_operator_reads_traffic_and_search_pages(live_server: Live, chromium) -> None:  # type: ignore[no-untyped-def]
    live = live_server
    phone = chromium.new_context(**PHONE, locale="zh-CN")
    shopper = phone.new_page()
    for q in ("榴莲味拖鞋", "板鞋", "手机壳"):
        shopper.goto(f"{live.url}/search?q={q}")
    shopper.locator("#results").scroll_into_view_if_needed()
    shot(shopper, "45-search-facets-phone")
    phone.close()

    desk = chromium.new_context(**DESKTOP, locale="zh-CN")
    ops = desk.new_page()
    sign_in(ops, live, "ops@demo.yinli")
    ops.get_by_role("link", name="起航计划").click()
    ops.wait_for_url("**/ops/launch")
    ops.get_by_label("保证曝光次数").fill("0")
    ops.get_by_role("button", name="保存设置").click()
    assert ops.locator("#f-quota-error").is_visible()
    shot(ops, "46-ops-launch-desktop")
    ops.get_by_role("link", name="扶摇计划").click()
    ops.wait_for_url("**/ops/boost")
    shot(ops, "47-ops-boost-desktop")

    ops.get_by_role("link", name="实验", exact=True).click()
    ops.get_by_label("实验名称").fill("用户优先 vs 只看成交额")
    ops.locator("#v1-policy").select_option("gmv_only")
    ops.get_by_role("button", name="开始实验").click()
    ops.wait_for_url("**/ops/experiments/*?done=experiment_started")
    assert ops.locator("#buckets th", has_text="A").count() >= 1
    shot(ops, "48-ops-experiment-desktop")
    ops.get_by_role("button", name="停止实验").click()
    ops.wait_for_url("**done=experiment_stopped")

    ops.get_by_role("link", name="搜索数据").click()
    ops.wait_for_url("**/ops/search")
    assert int(ops.locator("#search-pv").inner_text()) >= 3
    assert "榴莲味拖鞋" in ops.locator("#zero-queries").inner_text()
    shot(ops, "49-ops-search-desktop")
    desk.close()
