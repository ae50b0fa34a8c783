"""The live room page: presented product, product list, viewers, recent purchases, buying in the room."""

from __future__ import annotations

import re

from sqlalchemy import select

from yinli.content import live
from yinli.core.auth import Actor, Role
from yinli.core.clock import SystemClock
from yinli.orders.models import OrderLine


def _on_air(database, shop) -> int:  # type: ignore[no-untyped-def]
    m = shop["merchant"]
    staff = Actor(m.id, Role.MERCHANT, m.store_id)
    clock = SystemClock()
    with database.session() as s:
        room = live.do_open_room(s, clock, staff, title="好物直播间")
        session = live.do_schedule(
            s,
            clock,
            staff,
            room.id,
            title="帆布鞋专场",
            scheduled_at=None,
            product_ids=[p["id"] for p in shop["products"]],
        )
        live.do_go_live(s, clock, staff, session.id)
        live.do_present(s, clock, staff, session.id, shop["products"][0]["id"])
        return session.id


def test_room_page_and_feed_tile(anon, shop, database):
    session_id = _on_air(database, shop)
    r = anon.get(f"/live/{session_id}")
    assert r.status_code == 200
    assert "帆布鞋专场" in r.text and "正在讲解" in r.text and "0 人在看" in r.text
    assert f'hx-get="/live/{session_id}/panel"' in r.text and "every 3s" in r.text
    assert r.text.count("马上抢") == 2
    assert f'href="/live/{session_id}"' in anon.get("/").text  # on air: first in the feed
    product = shop["products"][0]["id"]
    assert f'href="/live/{session_id}"' in anon.get(f"/p/{product}").text  # and on the product page
    assert anon.get("/live/999999").status_code == 404
    panel = anon.get(f"/live/{session_id}/panel")
    assert panel.status_code == 200 and "<html" not in panel.text


def test_buy_without_leaving_the_room(browser_factory, shop, database):
    session_id = _on_air(database, shop)
    b = browser_factory(shop["shopper"].email)
    room = f"/live/{session_id}"
    r = b.post(f"{room}/join", {}, page=room, headers={"HX-Request": "true"})
    assert r.status_code == 204
    assert "1 人在看" in b.get(f"{room}/panel").text
    sku = shop["products"][0]["skus"][0]["id"]
    hx = {"HX-Request": "true"}
    r = b.post(f"{room}/buy", {"sku_id": sku}, page=room, headers=hx)
    assert r.status_code == 200 and 'class="sheet"' in r.text and "¥129.00" in r.text
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
    r = b.post(f"{room}/order", data, page=room, headers=hx)
    assert r.status_code == 422 and 'id="live-phone-error"' in r.text
    r = b.post(f"{room}/order", {**data, "phone": "13800000000", "method": "card"}, page=room, headers=hx)
    assert r.status_code == 200 and "支付成功" in r.text and "查看订单" in r.text
    with database.read_sessions() as s:
        line = s.scalars(select(OrderLine)).one()
        assert (line.surface, line.source_id) == ("live", session_id)
    assert "有人刚买了 复古帆布鞋" in b.get(f"{room}/panel").text
    # without JavaScript, "buy" goes to the checkout page, keeping the attribution
    r = b.post(f"{room}/buy", {"sku_id": sku}, page=room, follow_redirects=False)
    assert (
        r.status_code == 303
        and r.headers["location"] == f"/checkout?sku_id={sku}&quantity=1&surface=live&source_id={session_id}"
    )
    assert f'name="source_id" value="{session_id}"' in b.get(r.headers["location"]).text
