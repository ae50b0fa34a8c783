"""In a real Chromium: the Content-Security-Policy blocks nothing our pages need (HTMX loads and works,
no violation is reported), and a cookie-authenticated API write from our own page passes the Origin check
(Chromium sends Origin on it; tests/api/test_http_security.py covers the refusals)."""

from __future__ import annotations

import pytest

from tests.web.conftest import DESKTOP, PHONE, Live
from tests.web.test_browser import sign_in

pytestmark = pytest.mark.browser


def test_the_policy_blocks_nothing_on_our_pages(live_server: Live, chromium) -> None:  # type: ignore[no-untyped-def]
    live = live_server
    context = chromium.new_context(**PHONE, locale="zh-CN")
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: violations.append(str(e)))
    page.goto(live.url + "/")
    assert page.evaluate("typeof htmx") == "object"  # the self-hosted script ran
    page.locator("a[href^='/p/']").first.click()
    page.wait_for_load_state()
    page.goto(live.url + "/search?q=鞋")
    page.wait_for_load_state()
    home = page.goto(live.url + "/")
    assert home is not None and home.headers["x-frame-options"] == "DENY"
    sign_in(page, live, "shopper@demo.yinli")
    page.goto(live.url + "/cart")
    page.wait_for_load_state()
    assert violations == []
    context.close()


def test_cookie_api_writes_only_from_our_own_origin(live_server: Live, chromium) -> None:  # type: ignore[no-untyped-def]
    live = live_server
    context = chromium.new_context(**DESKTOP, locale="zh-CN")
    page = context.new_page()
    sign_in(page, live, "shopper@demo.yinli")
    # from one of our pages fetch() sends Origin, so the write goes through
    status = page.evaluate(
        """async () => (await fetch('/api/v1/me', {method: 'PATCH', headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({display_name: '浏览器里改的'})})).status"""
    )
    assert status == 200
    page.goto(live.url + "/account")
    assert "浏览器里改的" in page.content()
    context.close()
