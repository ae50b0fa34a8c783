"""The API docs work offline: /docs loads only this site's files (the vendored Swagger UI), the OpenAPI
document says how to authenticate, and /auth/token takes the OAuth2 password form that the docs'
Authorize button sends, with the same checks as the JSON body."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.factories import PASSWORD, World

API = "/api/v1"


def test_docs_load_only_this_sites_files(client: TestClient) -> None:
    r = client.get("/docs")
    assert r.status_code == 200 and 'id="swagger-ui"' in r.text
    csp = r.headers["Content-Security-Policy"]
    assert "http" not in csp  # no CDN, no other origin: 'self' only
    assert "script-src 'self';" in csp
    assets = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert assets and all(a.startswith("/") for a in assets)
    for asset in assets:
        answer = client.get(asset)
        assert answer.status_code == 200, asset
        assert b"cdn.jsdelivr.net" not in answer.content and b"fonts.googleapis" not in answer.content
    assert client.get("/redoc").status_code == 404


def test_the_openapi_says_how_to_authenticate(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["OAuth2Password"]["flows"]["password"]["tokenUrl"] == f"{API}/auth/token"
    assert schemes["BearerToken"] == {**schemes["BearerToken"], "type": "http", "scheme": "bearer"}
    assert {} in schema["security"]  # anonymous calls are allowed where the route allows them
    body = schema["paths"][f"{API}/auth/token"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "application/x-www-form-urlencoded"}


def test_the_token_endpoint_takes_the_oauth2_password_form(world: World) -> None:
    client = world.client
    shopper = world.shopper()
    form = {"grant_type": "password", "username": shopper.email, "password": PASSWORD}
    r = client.post(f"{API}/auth/token", data=form)
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    me = client.get(f"{API}/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["email"] == shopper.email
    # grant_type may be left out; the JSON body still works as before
    assert client.post(f"{API}/auth/token", data={"username": shopper.email, "password": PASSWORD}).status_code == 200
    assert client.post(f"{API}/auth/token", json={"email": shopper.email, "password": PASSWORD}).status_code == 200


def test_a_bad_form_is_a_clear_4xx(world: World) -> None:
    client = world.client
    shopper = world.shopper()
    wrong = client.post(f"{API}/auth/token", data={"username": shopper.email, "password": "not-it"})
    assert wrong.status_code == 401 and wrong.headers["content-type"].startswith("application/problem+json")
    other_grant = {"grant_type": "client_credentials", "username": "a", "password": "b"}
    grant = client.post(f"{API}/auth/token", data=other_grant)
    assert grant.status_code == 400 and grant.json()["code"] == "unsupported_grant_type"
    missing = client.post(f"{API}/auth/token", data={"username": shopper.email})
    assert missing.status_code == 422 and any(e["field"] == "password" for e in missing.json()["errors"])
    nul = client.post(f"{API}/auth/token", data={"username": "a\x00@b.cn", "password": "x"})
    assert nul.status_code == 422
    not_utf8 = client.post(
        f"{API}/auth/token",
        content=b"username=%ff%fe&password=x",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert not_utf8.status_code in (400, 422)
