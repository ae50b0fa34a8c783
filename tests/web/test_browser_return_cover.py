"""Real browser: return-shipping cover (退货补运费) kept. A shopper's covered order is returned — asked for
and approved through the API, the parcel sent back from the case page in the browser, received by the
merchant — and the case page shows the ¥8 postage first to come, then paid, with when."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD, serving
from tests.guarantees.test_return_cover import POSTAGE, delivered_order
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, shot

pytestmark = pytest.mark.browser


@pytest.fixture
def chromium_browser():  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        pytest.skip("browser tests need Debian's Chromium at /usr/bin/chromium (make browser installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def test_a_returned_items_postage_is_paid_and_shown_on_the_case(world, app, chromium_browser):
    m, s, order_id = delivered_order(world)
    c = world.client
    r = c.post(f"/api/v1/orders/{order_id}/after-sales", json={"kind": "return_refund", "reason": "尺码不合适"},
               headers=s.headers)  # fmt: skip
    assert r.status_code == 201, r.text
    case = r.json()
    if case["status"] == "requested":  # the merchant approves (small amounts are approved at once)
        r = c.post(f"/api/v1/after-sales/{case['id']}/decide", json={"decision": "approve"}, headers=m.headers)
        assert r.status_code == 200, r.text
    with serving(app) as url:
        page = chromium_browser.new_context(**PHONE, locale="zh-CN").new_page()
        page.goto(f"{url}/signin")
        page.get_by_label("邮箱").fill(s.email)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_load_state()
        page.goto(f"{url}/after-sales/{case['id']}")
        cover = page.locator(".return-cover")
        assert "¥8" in cover.inner_text() and "待到账" in cover.inner_text()
        assert cover.get_attribute("data-status") == "pending"
        # the shopper sends the parcel back from the case page
        page.get_by_label("快递公司").fill("中通")
        page.get_by_label("快递单号").fill("ZT20261203")
        page.get_by_role("button", name="提交退货物流").click()
        page.wait_for_url(f"**/after-sales/{case['id']}?done=returned")
        # the merchant receives it (API): refund and postage, at once
        r = c.post(f"/api/v1/after-sales/{case['id']}/receive", headers=m.headers)
        assert r.status_code == 200 and r.json()["status"] == "refunded", r.text
        page.reload()
        cover = page.locator(".return-cover")
        text = cover.inner_text()
        assert cover.get_attribute("data-status") == "paid", text
        assert f"¥{POSTAGE // 100}.00" in text and "已到账" in text, text
        assert "退货补运费" in page.locator("dl.totals").inner_text()
        cover.scroll_into_view_if_needed()
        shot(page, "return-cover-paid-phone")
