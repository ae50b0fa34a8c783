"""The forgotten-password pages: the sign-in page links to them, the e-mailed link opens the form, the
new password is checked like sign-up's, and a used link says so (the rules: tests/accounts)."""

from __future__ import annotations

from tests.factories import World
from tests.mailbox import Inbox, link_in, token_of
from tests.web.conftest import Browser, csrf_of

NEW_PASSWORD = "a-new-password-42"


def test_the_web_pages_reset_the_password(world: World, inbox: Inbox, browser_factory) -> None:  # type: ignore[no-untyped-def]
    shopper = world.shopper()
    browser: Browser = browser_factory()
    signin = browser.get("/signin")
    assert 'href="/password/forgot"' in signin.text
    sent = browser.post("/password/forgot", {"email": shopper.email})
    assert sent.status_code == 200 and shopper.email in sent.text
    unknown = browser.post("/password/forgot", {"email": "nobody@example.com"})
    assert unknown.status_code == 200 and "nobody@example.com" in unknown.text  # the same page
    link = link_in(inbox.to(shopper.email)[0])
    page = browser.get(link)
    assert page.status_code == 200 and shopper.email in page.text
    token = token_of(link)
    csrf = csrf_of(page.text)
    differ = browser.client.post(
        "/password/reset", data={"csrf_token": csrf, "token": token, "password": NEW_PASSWORD, "password_again": "x"}
    )
    assert differ.status_code == 422 and "两次输入的密码不一样" in differ.text
    short = browser.client.post(
        "/password/reset", data={"csrf_token": csrf, "token": token, "password": "short", "password_again": "short"}
    )
    assert short.status_code == 422 and 'aria-invalid="true"' in short.text
    done = browser.client.post(
        "/password/reset",
        data={"csrf_token": csrf, "token": token, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].startswith("/signin")
    used = browser.get(link)
    assert used.status_code == 422 and "/password/forgot" in used.text
    browser.sign_in(shopper.email, NEW_PASSWORD)
