"""HTTP hardening: security headers on every answer, cookie-authenticated API writes only from our own
pages, session and API secrets kept apart, Secure cookies over HTTPS, and the request-body limit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.factories import PASSWORD
from yinli.accounts.models import User
from yinli.catalog.models import Brand

API = "/api/v1"
ORIGIN = "http://testserver"
SECURITY_HEADERS = ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy")


def assert_security_headers(r) -> None:  # type: ignore[no-untyped-def]
    for name in SECURITY_HEADERS:
        assert name in r.headers, (name, r.request.url, r.status_code)
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


# --- headers -----------------------------------------------------------------------------------------------


def test_security_headers_on_api_web_and_error_responses(world, client):
    u = world.shopper()
    answers = [
        client.get(f"{API}/health"),
        client.get(f"{API}/me", headers=u.headers),
        client.get(f"{API}/me"),  # 401
        client.get(f"{API}/products/999999"),  # 404
        client.post(f"{API}/accounts", json={"email": "nope"}),  # 422
        client.post(f"{API}/accounts", content=b"{", headers={"Content-Type": "application/json"}),  # 400
        client.get("/"),
        client.get("/no-such-page"),
        client.get("/static/yinli.css"),
        client.get("/openapi.json"),
    ]
    assert [r.status_code for r in answers] == [200, 200, 401, 404, 422, 400, 200, 404, 200, 200]
    for r in answers:
        assert_security_headers(r)
    page_csp = answers[6].headers["Content-Security-Policy"]
    assert "script-src 'self'" in page_csp and "unsafe-inline" not in page_csp.split("script-src")[1].split(";")[0]
    assert "Strict-Transport-Security" not in answers[0].headers  # plain HTTP: no HSTS


def test_the_api_docs_still_render_under_their_own_policy(client):
    r = client.get("/docs")
    assert r.status_code == 200 and "swagger-ui" in r.text
    csp = r.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "worker-src 'self' blob:" in csp  # Swagger UI's workers
    assert "blob:" not in client.get("/").headers["Content-Security-Policy"]


def test_hsts_only_over_https(app):
    with TestClient(app, base_url="https://testserver") as https:
        r = https.get(f"{API}/health")
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")


# --- cookies over HTTPS --------------------------------------------------------------------------------------


def test_cookies_are_secure_over_https_and_when_configured(world, app, settings):
    u = world.shopper()
    body = {"email": u.email, "password": PASSWORD}
    with TestClient(app, base_url="http://testserver") as plain:
        assert "secure" not in plain.post(f"{API}/auth/session", json=body).headers["set-cookie"].lower()
    with TestClient(app, base_url="https://testserver") as https:
        assert "secure" in https.post(f"{API}/auth/session", json=body).headers["set-cookie"].lower()
    with TestClient(app, base_url="https://testserver") as https:
        assert "secure" in https.get("/signin").headers["set-cookie"].lower()  # the CSRF cookie too
        assert "secure" in https.get("/?lang=en").headers["set-cookie"].lower()  # and the language
    # a trusted proxy's X-Forwarded-Proto counts only as uvicorn's --proxy-headers makes it: a bare header does not
    with TestClient(app) as spoof:
        r = spoof.post(f"{API}/auth/session", json=body, headers={"X-Forwarded-Proto": "https"})
        assert "secure" not in r.headers["set-cookie"].lower()
    settings.session_cookie_secure = True
    with TestClient(app) as plain:
        assert "secure" in plain.post(f"{API}/auth/session", json=body).headers["set-cookie"].lower()


# --- cookie-authenticated API writes ------------------------------------------------------------------------


@pytest.fixture
def cookie_client(world, app) -> Iterator[tuple[TestClient, object]]:  # type: ignore[no-untyped-def]
    u = world.shopper()
    with TestClient(app, raise_server_exceptions=False) as c:
        assert c.post(f"{API}/auth/session", json={"email": u.email, "password": PASSWORD}).status_code == 200
        yield c, u


def display_name(database, user_id: int) -> str:  # type: ignore[no-untyped-def]
    with database.read_sessions() as s:
        return str(s.scalar(select(User.display_name).where(User.id == user_id)))


def test_cookie_authenticated_api_writes_need_a_same_origin_request(cookie_client, database):
    c, u = cookie_client
    before = display_name(database, u.id)
    for headers in (
        {},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://testserver.evil.example"},
        {"Referer": "https://evil.example/page"},
        {"Referer": "http://testserver.evil.example/"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "https://evil.example", "Referer": "http://testserver/account"},  # Origin decides
    ):
        r = c.patch(f"{API}/me", json={"display_name": "被改了"}, headers=headers)
        assert r.status_code == 403, headers
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "cross_origin_request"
        assert_security_headers(r)
    assert display_name(database, u.id) == before
    # reads through the cookie need nothing
    assert c.get(f"{API}/me").status_code == 200
    # our own pages: Origin, or without it a same-origin Referer or Sec-Fetch-Site
    for i, headers in enumerate(
        ({"Origin": ORIGIN}, {"Referer": f"{ORIGIN}/account"}, {"Sec-Fetch-Site": "same-origin"})
    ):
        r = c.patch(f"{API}/me", json={"display_name": f"名字{i}"}, headers=headers)
        assert r.status_code == 200, (headers, r.text)
        assert display_name(database, u.id) == f"名字{i}"


def test_bearer_tokens_are_not_subject_to_the_origin_check(world, client):
    u = world.shopper()
    for headers in ({}, {"Origin": "https://evil.example"}):
        r = client.patch(f"{API}/me", json={"display_name": "程序"}, headers={**u.headers, **headers})
        assert r.status_code == 200, r.text


def test_cookie_writes_on_every_method_are_checked(cookie_client, world, database):
    c, _ = cookie_client
    with database.read_sessions() as s:
        brands = s.scalar(select(func.count()).select_from(Brand))
    assert c.post(f"{API}/brands", json={"name": "偷偷建的牌子"}).status_code == 403
    assert c.post(f"{API}/auth/logout").status_code == 403
    assert c.get(f"{API}/me").status_code == 200  # still signed in
    with database.read_sessions() as s:
        assert s.scalar(select(func.count()).select_from(Brand)) == brands


# --- session secrets and API tokens are not interchangeable ----------------------------------------------------


def test_a_session_secret_is_no_bearer_token_and_a_token_is_no_cookie(world, app, client):
    u = world.shopper()
    session_secret = client.post(f"{API}/auth/session", json={"email": u.email, "password": PASSWORD}).json()[
        "access_token"
    ]
    client.cookies.clear()
    r = client.get(f"{API}/me", headers={"Authorization": f"Bearer {session_secret}"})
    assert r.status_code == 401 and r.json()["code"] == "bad_token"
    with TestClient(app, cookies={"yinli_session": u.token}) as c:
        assert c.get(f"{API}/me").status_code == 401  # anonymous: the cookie is ignored
        assert "退出" not in c.get("/").text and c.get("/account", follow_redirects=False).status_code == 303
    with TestClient(app, cookies={"yinli_session": session_secret}) as c:
        assert c.get(f"{API}/me").json()["id"] == u.id
    assert client.get(f"{API}/me", headers=u.headers).json()["id"] == u.id


def test_logout_revokes_only_the_secret_of_its_own_kind(world, app, client):
    u = world.shopper()
    with TestClient(app) as c:
        c.post(f"{API}/auth/session", json={"email": u.email, "password": PASSWORD})
        # a bearer logout revokes the API token, not the browser's session
        assert c.post(f"{API}/auth/logout", headers=u.headers).status_code == 204
        assert client.get(f"{API}/me", headers=u.headers).status_code == 401
        assert c.get(f"{API}/me").status_code == 200


# --- request-body limit ---------------------------------------------------------------------------------------


def test_a_2mb_body_is_413_and_changes_nothing(world, client, database):
    m = world.merchant()
    with database.read_sessions() as s:
        brands = s.scalar(select(func.count()).select_from(Brand))
    big = b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    r = client.post(f"{API}/brands", content=big, headers={**m.headers, "Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "body_too_large" and r.json()["errors"][0]["field"] == "body"
    assert_security_headers(r)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit counts the streamed bytes
        yield b'{"name": "'
        for _ in range(32):
            yield b"x" * 65536
        yield b'"}'

    r = client.post(f"{API}/brands", content=chunks(), headers={**m.headers, "Content-Type": "application/json"})
    assert "content-length" not in r.request.headers
    assert r.status_code == 413 and r.json()["code"] == "body_too_large"
    with database.read_sessions() as s:
        assert s.scalar(select(func.count()).select_from(Brand)) == brands
    # a body within the limit is fine
    r = client.post(f"{API}/brands", json={"name": "正常的牌子"}, headers=m.headers)
    assert r.status_code == 201, r.text


def test_web_forms_have_the_body_limit_too(client, database):
    r = client.post(
        "/signup", data={"email": "big@example.com", "password": "long enough pw", "display_name": "x" * 2_000_000}
    )
    assert r.status_code == 413
    with database.read_sessions() as s:
        assert s.scalar(select(func.count()).select_from(User).where(User.email == "big@example.com")) == 0
