"""CSRF protection, cookies and escaping."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.web.conftest import csrf_of
from yinli.accounts.models import User
from yinli.checkout.models import CartItem


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
