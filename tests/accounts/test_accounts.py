"""Sign-up, tokens and sessions, profiles and cohorts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import PASSWORD
from yinli.accounts.service import age_cohort


def sign_up(client, **body):
    base = {"email": "a@example.com", "password": PASSWORD, "display_name": "阿A"}
    return client.post("/api/v1/accounts", json={**base, **body})


def test_sign_up_then_sign_in(client):
    r = sign_up(client, email="Mixed@Example.com", birth_year=1999)
    assert r.status_code == 201
    user = r.json()
    assert user["email"] == "mixed@example.com" and user["role"] == "shopper" and user["age_cohort"] == "gen_z"
    assert "password" not in str(user) and "hash" not in str(user)
    token = client.post("/api/v1/auth/token", json={"email": "MIXED@example.com", "password": PASSWORD}).json()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.json()["id"] == user["id"]


def test_wrong_password_and_unknown_email_look_the_same(client):
    sign_up(client)
    wrong = client.post("/api/v1/auth/token", json={"email": "a@example.com", "password": "nope-nope"})
    unknown = client.post("/api/v1/auth/token", json={"email": "b@example.com", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.headers["content-type"] == "application/problem+json"


def test_duplicate_email_and_self_made_operators_are_refused(client):
    assert sign_up(client).status_code == 201
    r = sign_up(client, email="A@example.com")
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "email"
    assert sign_up(client, email="op@example.com", role="operator").status_code == 422
    assert sign_up(client, email="m@example.com", role="merchant", birth_year=1990).status_code == 422


def test_bad_tokens_are_401_not_anonymous(client):
    for header in ("Bearer nope", "Basic abc", "Bearer ", "token"):
        r = client.get("/api/v1/products", headers={"Authorization": header})
        assert r.status_code == 401, header


def test_tokens_expire_and_logout_revokes(world, client, clock, settings):
    u = world.shopper()
    assert client.get("/api/v1/me", headers=u.headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=u.headers).status_code == 204
    assert client.get("/api/v1/me", headers=u.headers).status_code == 401
    u2 = world.shopper()
    clock.advance(timedelta(hours=settings.token_ttl_hours))
    assert client.get("/api/v1/me", headers=u2.headers).status_code == 401


def test_web_session_cookie(world, client):
    u = world.shopper()
    r = client.post("/api/v1/auth/session", json={"email": u.email, "password": PASSWORD})
    assert r.status_code == 200
    cookie = r.headers["set-cookie"]
    assert "yinli_session=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert client.get("/api/v1/me").json()["id"] == u.id  # the client keeps the cookie
    # a change through the cookie must come from the site's own pages (see tests/api/test_http_security.py)
    assert client.post("/api/v1/auth/logout", headers={"Origin": "http://testserver"}).status_code == 204
    assert client.get("/api/v1/me").status_code == 401


def test_profile_changes_and_password_change_ends_sessions(world, client):
    u = world.shopper()
    r = client.patch("/api/v1/me", json={"display_name": "新名字", "birth_year": 1980}, headers=u.headers)
    assert r.json()["display_name"] == "新名字" and r.json()["age_cohort"] == "40+"
    assert client.patch("/api/v1/me", json={"birth_year": None}, headers=u.headers).json()["birth_year"] is None
    assert client.patch("/api/v1/me", json={"display_name": None}, headers=u.headers).status_code == 422
    r = client.patch(
        "/api/v1/me", json={"password": "another password", "current_password": "wrong"}, headers=u.headers
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "current_password"
    r = client.patch(
        "/api/v1/me", json={"password": "another password", "current_password": PASSWORD}, headers=u.headers
    )
    assert r.status_code == 200
    assert client.get("/api/v1/me", headers=u.headers).status_code == 401  # old tokens are revoked
    assert client.post("/api/v1/auth/token", json={"email": u.email, "password": "another password"}).status_code == 200


def test_birth_year_in_the_future_is_refused(client, clock):
    r = sign_up(client, birth_year=clock.now().year + 1)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "birth_year"


@pytest.mark.parametrize(
    ("birth_year", "year", "cohort"),
    [
        (2005, 2026, "gen_z"),
        (1997, 2026, "gen_z"),
        (1996, 2026, "gen_y"),
        (1987, 2026, "gen_y"),
        (1986, 2026, "40+"),
        (1970, 2026, "40+"),
        (1990, 2030, "40+"),
        (None, 2026, "unknown"),
    ],
)
def test_age_cohorts(birth_year, year, cohort):
    assert age_cohort(birth_year, year) == cohort


def test_operators_list_accounts_with_cursor_pagination(world, client):
    for _ in range(5):
        world.shopper()
    op = world.operator
    seen, cursor = [], None
    while True:
        params = {"limit": 2, "role": "shopper", **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/accounts", params=params, headers=op.headers).json()
        seen += [u["id"] for u in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and seen == sorted(seen)
    assert client.get("/api/v1/accounts", params={"cursor": "garbage!"}, headers=op.headers).status_code == 422
