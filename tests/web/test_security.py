"""CSRF protection, cookies and escaping."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import PASSWORD
from tests.web.conftest import csrf_of
from yinli.accounts.models import User
from yinli.checkout.models import CartItem
from yinli.web.core import safe_next


def test_state_changing_forms_need_the_csrf_token(anon, browser_factory, world, database, shop):
    r = anon.client.post("/signup", data={"email": "x@example.com", "password": "long enough pw", "display_name": "x"})
    assert r.status_code == 403 and "表单已过期" in r.text
    with database.read_sessions() as s:
        assert s.scalar(select(func.count()).select_from(User).where(User.email == "x@example.com")) == 0
    shopper = browser_factory(shop["shopper"].email)
    sku = shop["products"][0]["skus"][0]["id"]
    for token in (None, "forged", csrf_of(anon.get("/").text)):  # none, made up, or another browser's
        data = {"sku_id": sku, "quantity": 1, **({"csrf_token": token} if token else {})}
        assert shopper.client.post("/cart/add", data=data).status_code == 403
    with database.read_sessions() as s:
        assert s.scalar(select(func.count()).select_from(CartItem)) == 0
    # the token travels as a header for HTMX requests
    token = csrf_of(shopper.get("/").text)
    r = shopper.client.post(
        "/cart/add", data={"sku_id": sku, "quantity": 1}, headers={"X-CSRF-Token": token, "HX-Request": "true"}
    )
    assert r.status_code == 200 and "已加入购物车" in r.text


def test_the_token_is_per_session(browser_factory, world):
    user = world.shopper()
    first = browser_factory(user.email)
    second = browser_factory(user.email)
    assert csrf_of(first.get("/account").text) != csrf_of(second.get("/account").text)


def test_anonymous_forms_set_a_lax_httponly_csrf_cookie(anon):
    r = anon.get("/signin")
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("yinli_csrf=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "set-cookie" not in anon.get("/signin").headers  # set once


def test_user_text_is_escaped(browser_factory, world):
    b = browser_factory()
    r = b.post(
        "/signup",
        {"email": "xss@example.com", "password": "long enough pw", "display_name": "<script>alert(1)</script>"},
    )
    assert r.status_code == 200
    page = b.get("/account").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_flash_messages_come_from_a_fixed_list(anon):
    page = anon.get("/?done=<b>free money</b>").text
    assert "free money" not in page
    assert "已保存" in anon.get("/?done=saved").text


# --- where signing in leads ---------------------------------------------------------------------------------

EVIL_NEXTS = [
    "//evil.example",
    "https://evil.example",
    "/\\evil.example",
    "/\t/evil.example",  # browsers drop the tab: "//evil.example"
    "/\n/evil.example",
    "\\\\evil.example",
    " //evil.example",
    "javascript:alert(1)",
    "evil.example",
]


@pytest.mark.parametrize("target", EVIL_NEXTS)
def test_next_only_leads_to_a_path_on_this_site(browser_factory, world, target):
    user = world.shopper()
    b = browser_factory()
    page = b.get("/signin", params={"next": target}).text
    assert '<input type="hidden" name="next" value="">' in page  # not even carried in the form
    r = b.post("/signin", {"email": user.email, "password": PASSWORD, "next": target}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/?") and "evil" not in r.headers["location"]
    b = browser_factory()
    r = b.post(
        "/signin",
        {"email": user.email, "password": PASSWORD, "next": target},
        headers={"HX-Request": "true"},
        follow_redirects=False,
    )
    assert r.status_code == 204 and r.headers["hx-redirect"].startswith("/?"), r.headers.get("hx-redirect")


def test_a_same_site_next_is_followed(browser_factory, world):
    user = world.shopper()
    b = browser_factory()
    r = b.post("/signin", {"email": user.email, "password": PASSWORD, "next": "/cart?x=1"}, follow_redirects=False)
    assert r.headers["location"] == "/cart?x=1&done=signed_in"


def test_signing_up_with_a_foreign_next_stays_on_the_site(browser_factory):
    b = browser_factory()
    r = b.post(
        "/signup",
        {"email": "nx@example.com", "password": "long enough pw", "display_name": "nx", "next": "//evil.example"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/?")


def test_safe_next():
    assert safe_next("/orders/3?tab=a#b") == "/orders/3?tab=a#b"
    assert safe_next("/") == "/"
    for bad in [*EVIL_NEXTS, "", None, "/a\\b", "/a\x00b", "/a\x7fb", "/" + "a" * 3000]:
        assert safe_next(bad) == "/", bad
    assert safe_next("//x", "/merchant") == "/merchant"


def test_a_signed_out_post_returns_to_its_page_only_if_the_page_was_ours(anon, shop):
    sku = shop["products"][0]["skus"][0]["id"]
    token = csrf_of(anon.get("/").text)
    for referer, expected in (
        ("http://testserver/p/1", "/signin?next=%2Fp%2F1"),
        ("https://evil.example/p/1", "/signin?next=%2F"),
        ("http://testserver//evil.example", "/signin?next=%2F"),
    ):
        r = anon.client.post(
            "/cart/add",
            data={"sku_id": sku, "quantity": 1, "csrf_token": token},
            headers={"Referer": referer},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == expected, referer


# --- sign-in throttling on the web form -------------------------------------------------------------------------


def test_the_signin_form_says_when_to_try_again(browser_factory, world, clock):
    user = world.shopper()
    b = browser_factory()
    for _ in range(10):
        r = b.post("/signin", {"email": user.email, "password": "wrong password"})
        assert r.status_code == 401 and "邮箱或密码错误" in r.text
    r = b.post("/signin", {"email": user.email, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 429 and r.headers["Retry-After"] == "900"
    assert "登录失败次数过多，请 15 分钟后再试" in r.text
    assert "yinli_session" not in r.headers.get("set-cookie", "")
    r = b.post("/signin?lang=en", {"email": user.email, "password": PASSWORD}, page="/signin?lang=en")
    assert "try again in 15 minutes" in r.text
    clock.advance(timedelta(minutes=15))
    b.sign_in(user.email)


def test_signing_up_is_not_a_sign_in_attempt(browser_factory, settings):
    settings.sign_in_max_failures_per_address = 1
    for i in range(3):
        b = browser_factory()
        r = b.post(
            "/signup",
            {"email": f"many{i}@example.com", "password": "long enough pw", "display_name": "x"},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text


# --- security headers on pages ------------------------------------------------------------------------------


def test_pages_and_error_pages_carry_the_security_headers_and_no_inline_script(anon, shop):
    pages = ["/", "/signin", f"/p/{shop['products'][0]['id']}", "/search?q=手机壳", "/p/999999", "/ops"]
    statuses = []
    for path in pages:
        r = anon.get(path)  # /ops: to the sign-in page
        statuses.append(r.status_code)
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp, path
        assert r.headers["X-Frame-Options"] == "DENY" and r.headers["X-Content-Type-Options"] == "nosniff"
        html = r.text
        # every script is a file of ours (the policy would block an inline one)
        assert html.count("<script") == html.count('<script src="/static/'), path
        assert " onclick=" not in html and "javascript:" not in html and " hx-on" not in html, path
    assert statuses == [200, 200, 200, 200, 404, 200]
