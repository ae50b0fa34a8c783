"""A browser that mistypes a URL gets the site's 404 page, in its language and with the header it sees
elsewhere (signed in or not) — never raw problem+json; programs still get problem+json; /favicon.ico
exists."""

from __future__ import annotations

import pytest

from tests.factories import World
from tests.web.conftest import Browser

HTML = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.mark.parametrize("path", ["/login", "/merchant/after-sales/7", "/p/1/nothing-here", "/static-not"])
def test_an_unknown_page_is_the_404_page(anon: Browser, path: str) -> None:
    r = anon.get(path, headers=HTML)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "页面不存在" in r.text and "错误码" in r.text and 'href="/signin"' in r.text


def test_the_404_page_keeps_the_signed_in_header_and_the_language(world: World, browser_factory) -> None:  # type: ignore[no-untyped-def]
    shopper = world.shopper()
    browser = browser_factory()
    browser.sign_in(shopper.email)
    r = browser.get("/no-such-page", headers=HTML)
    assert r.status_code == 404 and "shopper" in r.text and 'href="/account"' in r.text
    english = browser.get("/no-such-page?lang=en", headers=HTML)
    assert english.status_code == 404 and "Page not found" in english.text


def test_programs_still_get_problem_json(anon: Browser) -> None:
    api = anon.get("/api/v1/no-such-thing", headers=HTML)
    assert api.status_code == 404 and api.headers["content-type"].startswith("application/problem+json")
    asks_json = anon.get("/no-such-page", headers={"accept": "application/json"})
    assert asks_json.status_code == 404 and asks_json.json()["code"] == "not_found"
    htmx = anon.get("/no-such-page", headers={**HTML, "hx-request": "true"})
    assert htmx.status_code == 404 and htmx.headers["content-type"].startswith("application/problem+json")


def test_a_wrong_method_on_a_page_is_an_html_page_too(anon: Browser) -> None:
    r = anon.client.delete("/", headers=HTML)
    assert r.status_code == 405 and r.headers["content-type"].startswith("text/html")


def test_the_favicon_exists(anon: Browser) -> None:
    r = anon.get("/favicon.ico")
    assert r.status_code == 200 and r.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert "max-age" in r.headers["cache-control"]
    assert 'rel="icon"' in anon.get("/").text
