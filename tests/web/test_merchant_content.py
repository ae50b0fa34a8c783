"""Merchant console content pages through TestClient: live sessions, short videos, affiliate plans —
form errors that change nothing, CSRF, and one store never seeing or changing another's."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.factories import stock
from yinli.content.models import AffiliatePlan, LiveRoom, LiveSession, ShortVideo
from yinli.orders.models import OrderLine


def _count(database, model, **where) -> int:  # type: ignore[no-untyped-def]
    with database.read_sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model).filter_by(**where)) or 0)


def _other_store(world):  # type: ignore[no-untyped-def]
    other = world.merchant(name="隔壁店")
    product = world.product(other, price_fen=5900, title="隔壁的保温杯")
    stock(world, other, product["skus"][0]["id"], 5)
    return other, product


# --- live sessions --------------------------------------------------------------------------------------


def test_live_room_schedule_start_present_end_with_metrics(browser_factory, world, shop, database):
    me = browser_factory(shop["merchant"].email)
    p1, p2 = (p["id"] for p in shop["products"])
    r = me.get("/merchant/live")
    assert r.status_code == 200 and "开通直播间" in r.text and 'href="/merchant/live" aria-current="page"' in r.text
    # a room needs a title: the form comes back with the problem next to it, and no room is opened
    r = me.post("/merchant/live/room", {"title": ""}, page="/merchant/live")
    assert r.status_code == 422 and 'id="f-room-title-error"' in r.text
    assert _count(database, LiveRoom) == 0
    r = me.post("/merchant/live/room", {"title": "好物直播间"}, page="/merchant/live", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/merchant/live?done=room_opened"
    r = me.post("/merchant/live/room", {"title": "第二个"}, page="/merchant/live")
    assert r.status_code == 409 and _count(database, LiveRoom) == 1  # one room a store
    # schedule: a bad time, then another store's product — each refused, nothing scheduled
    r = me.post(
        "/merchant/live/sessions",
        {"title": "周末专场", "scheduled_at": "tomorrow", "product_ids": [p1]},
        page="/merchant/live",
    )
    assert r.status_code == 422 and 'id="f-scheduled_at-error"' in r.text and "周末专场" in r.text
    _, theirs = _other_store(world)
    r = me.post(
        "/merchant/live/sessions", {"title": "周末专场", "product_ids": [p1, theirs["id"]]}, page="/merchant/live"
    )
    assert r.status_code == 403
    r = me.post("/merchant/live/sessions", {"title": "", "product_ids": [p1]}, page="/merchant/live")
    assert r.status_code == 422 and 'id="f-title-error"' in r.text
    assert re.search(rf'value="{p1}" checked', r.text)  # the ticked products stay ticked
    assert _count(database, LiveSession) == 0
    r = me.post(
        "/merchant/live/sessions",
        {"title": "周末专场", "scheduled_at": "2026-11-24T20:00", "product_ids": [p1]},
        page="/merchant/live",
        follow_redirects=False,
    )
    assert r.status_code == 303
    session_id = int(re.search(r"/merchant/live/(\d+)\?done=scheduled", r.headers["location"]).group(1))  # type: ignore[union-attr]
    page = me.get(f"/merchant/live/{session_id}").text
    assert "待开播" in page and "2026-11-24 20:00" in page and "复古帆布鞋" in page and "开始直播" in page
    # present before going live: refused with the reason
    r = me.post(f"/merchant/live/{session_id}/present", {"product_id": p1}, page=f"/merchant/live/{session_id}")
    assert r.status_code == 409 and "form-error" in r.text
    # add the second product, go live, present it
    r = me.post(f"/merchant/live/{session_id}/products", {"product_ids": [p2]}, page=f"/merchant/live/{session_id}")
    assert r.status_code == 200 and "已添加到直播间" in r.text and "磁吸手机壳" in r.text
    r = me.post(f"/merchant/live/{session_id}/start", page=f"/merchant/live/{session_id}")
    assert r.status_code == 200 and "已开播" in r.text and "直播中" in r.text and f'href="/live/{session_id}"' in r.text
    r = me.post(f"/merchant/live/{session_id}/present", {"product_id": p2}, page=f"/merchant/live/{session_id}")
    assert r.status_code == 200 and "已切换讲解商品" in r.text
    assert f'id="session-product-{p2}"' in r.text and "讲解中" in r.text
    # a shopper buys in the room: the session's metrics count it
    shopper = browser_factory(shop["shopper"].email)
    room = f"/live/{session_id}"
    shopper.post(f"{room}/join", {}, page=room, headers={"HX-Request": "true"})
    sheet = shopper.post(
        f"{room}/buy", {"sku_id": shop["products"][1]["skus"][0]["id"]}, page=room, headers={"HX-Request": "true"}
    ).text
    key = re.search(r'name="form_key" value="([^"]+)"', sheet).group(1)  # type: ignore[union-attr]
    address = {"name": "李雷", "phone": "13800000000", "region": "杭州", "line": "文三路"}
    data = {"sku_id": shop["products"][1]["skus"][0]["id"], "quantity": "1", "form_key": key, **address}
    r = shopper.post(f"{room}/order", data, page=room, headers={"HX-Request": "true"})
    assert "支付成功" in r.text
    page = me.get(f"/merchant/live/{session_id}").text
    kpis = page[page.index('class="kpis"') :]
    assert '<div class="value" id="viewers-now">1</div>' in kpis and "¥39.00" in kpis
    # end it: the list shows it ended, with its GMV and GPM (¥39.00 over 1 view: ¥39,000.00 per thousand)
    r = me.post(f"/merchant/live/{session_id}/end", page=f"/merchant/live/{session_id}")
    assert r.status_code == 200 and "直播已结束" in r.text and "已结束" in r.text
    row = me.get("/merchant/live").text
    row = row[row.index(f'id="session-{session_id}"') :]
    assert "已结束" in row and "¥39.00" in row and "¥39,000.00" in row
    r = me.post(f"/merchant/live/{session_id}/end", page=f"/merchant/live/{session_id}")
    assert r.status_code == 409  # ending twice: refused, shown on the page


def test_a_merchant_cannot_see_or_run_another_stores_sessions(browser_factory, world, shop, database):
    other, theirs = _other_store(world)
    them = browser_factory(other.email)
    them.post("/merchant/live/room", {"title": "隔壁直播间"}, page="/merchant/live")
    r = them.post(
        "/merchant/live/sessions", {"title": "隔壁专场", "product_ids": [theirs["id"]]}, page="/merchant/live"
    )
    session_id = int(re.search(r"/merchant/live/(\d+)", str(r.url)).group(1))  # type: ignore[union-attr]
    me = browser_factory(shop["merchant"].email)
    assert "隔壁专场" not in me.get("/merchant/live").text
    assert me.get(f"/merchant/live/{session_id}").status_code == 404
    for action in ("start", "end", "present", "products"):
        r = me.post(
            f"/merchant/live/{session_id}/{action}", {"product_id": shop["products"][0]["id"]}, page="/merchant"
        )
        assert r.status_code == 404, action
    with database.read_sessions() as s:
        assert s.get(LiveSession, session_id).status == "scheduled"  # type: ignore[union-attr]


# --- short videos --------------------------------------------------------------------------------------------


VIDEO = {
    "title": "帆布鞋一周穿搭",
    "duration_seconds": "30",
    "cover_url": "https://img.example.com/v1.jpg",
    "video_url": "https://video.example.com/v1.mp4",
}


def test_publish_a_video_with_bad_input_then_for_real(browser_factory, world, shop, database):
    me = browser_factory(shop["merchant"].email)
    p1 = shop["products"][0]["id"]
    r = me.get("/merchant/videos")
    assert r.status_code == 200 and "还没有发布短视频" in r.text
    r = me.post(
        "/merchant/videos", {**VIDEO, "duration_seconds": "半分钟", "product_ids": [p1]}, page="/merchant/videos"
    )
    assert r.status_code == 422 and 'id="f-duration_seconds-error"' in r.text and "请输入整数" in r.text
    r = me.post("/merchant/videos", {**VIDEO, "video_url": "not a url", "title": ""}, page="/merchant/videos")
    assert r.status_code == 422 and 'id="f-video_url-error"' in r.text and 'id="f-title-error"' in r.text
    _, theirs = _other_store(world)
    r = me.post("/merchant/videos", {**VIDEO, "product_ids": [theirs["id"]]}, page="/merchant/videos")
    assert r.status_code == 403
    assert _count(database, ShortVideo) == 0
    r = me.post("/merchant/videos", {**VIDEO, "product_ids": [p1]}, page="/merchant/videos")
    assert r.status_code == 200 and "短视频已发布" in r.text
    with database.read_sessions() as s:
        video = s.scalars(select(ShortVideo)).one()
    row = r.text[r.text.index(f'id="video-{video.id}"') :]
    assert f'href="/v/{video.id}"' in row and "复古帆布鞋" in row and "30 秒" in row
    # another store neither lists it nor takes it down
    them = browser_factory(world.merchant(name="第三家").email)
    assert "帆布鞋一周穿搭" not in them.get("/merchant/videos").text
    assert them.post(f"/merchant/videos/{video.id}/remove", page="/merchant/videos").status_code == 404
    r = me.post(f"/merchant/videos/{video.id}/remove", page="/merchant/videos")
    assert r.status_code == 200 and "短视频已下架" in r.text and "还没有发布短视频" in r.text


def _published(browser_factory, shop) -> int:  # type: ignore[no-untyped-def]
    me = browser_factory(shop["merchant"].email)
    r = me.post(
        "/merchant/videos", {**VIDEO, "product_ids": [p["id"] for p in shop["products"]]}, page="/merchant/videos"
    )
    return int(re.search(r'href="/v/(\d+)"', r.text).group(1))  # type: ignore[union-attr]


def test_video_page_plays_likes_and_buying_without_leaving(anon, browser_factory, world, shop, database):
    video_id = _published(browser_factory, shop)
    r = anon.get(f"/v/{video_id}")
    assert r.status_code == 200 and "帆布鞋一周穿搭" in r.text and "0 次播放" in r.text
    assert 'src="https://video.example.com/v1.mp4"' in r.text and 'hx-trigger="ended"' in r.text
    assert "¥129.00" in r.text and "¥39.00" in r.text  # each linked product with its one final price
    assert f'href="/p/{shop["products"][0]["id"]}?from=short_video&amp;source_id={video_id}"' in r.text
    assert f'href="/s/{shop["merchant"].store_id}"' in r.text  # who made it
    # linked from the feed and from the store page
    assert f'href="/v/{video_id}"' in anon.get("/").text
    assert f'href="/v/{video_id}"' in anon.get(f"/s/{shop['merchant'].store_id}").text
    assert anon.get("/v/999999").status_code == 404
    # a finished play (the player's report) and a like
    b = browser_factory(shop["shopper"].email)
    page = f"/v/{video_id}"
    r = b.post(f"{page}/view", {"watched_seconds": "30"}, page=page, headers={"HX-Request": "true"})
    assert r.status_code == 204
    r = b.post(f"{page}/view", {"liked": "on"}, page=page)
    assert r.status_code == 200 and "已点赞" in r.text and "2 次播放" in r.text and "1 赞" in r.text
    r = b.post(f"{page}/view", {"watched_seconds": "999"}, page=page)  # longer than the video: refused
    assert r.status_code == 422 and "form-error" in r.text and "2 次播放" in r.text
    # buy in the video: the sheet, a missing phone, then paid — attributed to the video
    sku = shop["products"][0]["skus"][0]["id"]
    hx = {"HX-Request": "true"}
    r = b.post(f"{page}/buy", {"sku_id": sku}, page=page, headers=hx)
    assert r.status_code == 200 and "在视频里下单" in r.text and f'action="/v/{video_id}/order"' in r.text
    key = re.search(r'name="form_key" value="([^"]+)"', r.text).group(1)  # type: ignore[union-attr]
    data = {
        "sku_id": sku,
        "quantity": "1",
        "form_key": key,
        "name": "李雷",
        "phone": "",
        "region": "杭州",
        "line": "文三路",
    }
    r = b.post(f"{page}/order", data, page=page, headers=hx)
    assert r.status_code == 422 and 'id="live-phone-error"' in r.text
    r = b.post(f"{page}/order", {**data, "phone": "13800000000"}, page=page, headers=hx)
    assert r.status_code == 200 and "支付成功" in r.text and "继续看视频" in r.text
    with database.read_sessions() as s:
        line = s.scalars(select(OrderLine)).one()
        assert (line.surface, line.source_id) == ("short_video", video_id)
    # the merchant's list shows plays, likes and the sale (¥129.00 over 2 plays: GPM ¥64,500.00)
    row = browser_factory(shop["merchant"].email).get("/merchant/videos").text
    row = row[row.index(f'id="video-{video_id}"') :]
    assert "¥129.00" in row and "¥64,500.00" in row and "50.0%" in row
    # without JavaScript, "buy" goes to checkout with the same attribution
    r = b.post(f"{page}/buy", {"sku_id": sku}, page=page, follow_redirects=False)
    assert r.headers["location"] == f"/checkout?sku_id={sku}&quantity=1&surface=short_video&source_id={video_id}"
    # and so does buying from the product page the video links to
    product_page = b.get(f"/p/{shop['products'][0]['id']}?from=short_video&source_id={video_id}").text
    assert f'name="source_id" value="{video_id}"' in product_page
    # anonymous likes ask to sign in first
    r = anon.post(f"{page}/view", {"liked": "on"}, page=page, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/signin?next=")


# --- affiliate plans -----------------------------------------------------------------------------------------


def test_affiliate_plans_open_targeted_list_end(browser_factory, world, shop, database):
    me = browser_factory(shop["merchant"].email)
    p1 = shop["products"][0]["id"]
    creator = world.user("creator")
    r = me.get("/merchant/affiliate")
    assert r.status_code == 200 and "还没有带货计划" in r.text
    for bad, field in (
        ({"rate": "abc"}, "rate"),
        ({"rate": "150"}, "rate"),
        ({"rate": "10", "creator_id": "x"}, "creator_id"),
    ):
        r = me.post("/merchant/affiliate", {"product_id": p1, **bad}, page="/merchant/affiliate")
        assert r.status_code == 422 and f'id="f-{field}-error"' in r.text, bad
    r = me.post("/merchant/affiliate", {"product_id": "", "rate": "10"}, page="/merchant/affiliate")
    assert r.status_code == 422 and 'id="f-product_id-error"' in r.text
    r = me.post(
        "/merchant/affiliate", {"product_id": p1, "rate": "10", "creator_id": "999999"}, page="/merchant/affiliate"
    )
    assert r.status_code == 422 and 'id="f-creator_id-error"' in r.text
    assert _count(database, AffiliatePlan) == 0
    r = me.post("/merchant/affiliate", {"product_id": p1, "rate": "12.5"}, page="/merchant/affiliate")
    assert r.status_code == 200 and "带货计划已开启" in r.text and "12.50%" in r.text and "所有达人" in r.text
    r = me.post(
        "/merchant/affiliate",
        {"product_id": p1, "rate": "20", "creator_id": str(creator.id)},
        page="/merchant/affiliate",
    )
    assert r.status_code == 200 and "定向" in r.text and "20.00%" in r.text
    with database.read_sessions() as s:
        plan_ids = sorted(s.scalars(select(AffiliatePlan.id)))
    # another store cannot see or end them
    _, _ = _other_store(world)
    them = browser_factory(world.merchant(name="第三家").email)
    assert "12.50%" not in them.get("/merchant/affiliate").text
    assert them.post(f"/merchant/affiliate/{plan_ids[0]}/end", page="/merchant/affiliate").status_code == 404
    r = me.post(f"/merchant/affiliate/{plan_ids[0]}/end", page="/merchant/affiliate")
    assert r.status_code == 200 and "带货计划已结束" in r.text
    with database.read_sessions() as s:
        assert [p.status for p in s.scalars(select(AffiliatePlan).order_by(AffiliatePlan.id))] == ["ended", "active"]
    r = me.post(f"/merchant/affiliate/{plan_ids[0]}/end", page="/merchant/affiliate")
    assert r.status_code == 409 and "form-error" in r.text


def test_content_forms_need_the_csrf_token(browser_factory, shop, database):
    me = browser_factory(shop["merchant"].email)
    me.get("/merchant")
    p1 = shop["products"][0]["id"]
    for url, data in (
        ("/merchant/live/room", {"title": "好物直播间"}),
        ("/merchant/videos", {**VIDEO, "product_ids": [p1]}),
        ("/merchant/affiliate", {"product_id": p1, "rate": "10"}),
    ):
        r = me.client.post(url, data=data)
        assert r.status_code == 403 and "表单已过期" in r.text, url
    assert _count(database, LiveRoom) + _count(database, ShortVideo) + _count(database, AffiliatePlan) == 0


def test_content_pages_are_for_merchants_with_a_store(anon, browser_factory, world):
    for url in ("/merchant/live", "/merchant/videos", "/merchant/affiliate"):
        assert anon.get(url, follow_redirects=False).status_code == 303
        assert browser_factory(world.shopper().email).get(url).status_code == 403
        assert browser_factory(world.user("merchant").email).get(url).status_code == 422  # no store yet
