"""In a real Chromium with every other origin blocked: /docs renders the API from this server alone,
"Authorize" signs in with the OAuth2 password form, and "Try it out" then calls the API as that user.
Screenshot: test-artifacts/screenshots/docs-authorized.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.conftest import DESKTOP, Live, shot
from yinli.sample import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def test_the_docs_work_offline_and_authorize(live_server: Live, chromium) -> None:  # type: ignore[no-untyped-def]
    live = live_server
    context = chromium.new_context(**DESKTOP, locale="en-US")
    elsewhere: list[str] = []

    def only_here(route):  # type: ignore[no-untyped-def]
        if route.request.url.startswith(live.url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    context.route("**/*", only_here)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(live.url + "/docs")
    page.wait_for_selector(".opblock", timeout=15_000)
    # every operation of the API is loaded (Swagger UI renders only the operations near the viewport,
    # so the DOM holds a window of them: count what it loaded, not what it drew)
    assert page.evaluate("window.ui.specSelectors.operations().size") > 100

    page.get_by_role("button", name="Authorize").first.click()
    dialog = page.locator(".modal-ux")
    dialog.locator("#oauth_username").fill("shopper@demo.yinli")
    dialog.locator("#oauth_password").fill(DEMO_PASSWORD)
    dialog.get_by_role("button", name="Apply given OAuth2 credentials").click()
    dialog.get_by_text("Logout").first.wait_for(timeout=10_000)  # signed in: the form became "Logout"
    dialog.locator("button.btn-done").first.click()

    me = page.locator("#operations-accounts-me_api_v1_me_get")
    me.locator(".opblock-summary").click()
    me.get_by_role("button", name="Try it out").click()
    me.get_by_role("button", name="Execute").click()
    # The documented-responses table is on the page before the call; only the live table is the answer.
    expect(me.locator(".live-responses-table")).to_contain_text("shopper@demo.yinli", timeout=15_000)
    me.locator(".responses-wrapper").scroll_into_view_if_needed()
    shot(page, "docs-authorized", full_page=False)
    assert elsewhere == [] and problems == []
    context.close()
