"""Bad input the API layer refuses for every domain (DESIGN rule 8): bodies that are not JSON, ids in paths
and queries, cursors, idempotency keys and times. Each refusal is a clear 4xx problem+json and changes nothing.

Each domain's own bad requests are rows in its `tests/<domain>/test_api.py` (helpers: tests/bad_input.py).
"""

from __future__ import annotations

import base64

import pytest

from tests.bad_input import API, assert_problem, case, nothing_written, post_raw, sign_up_body

# --- ids in paths and queries ------------------------------------------------------------------------


def test_bad_ids_in_paths_and_queries_are_refused(client):
    for value in ["0", "-1", str(2**53 + 1), str(2**63), str(2**64), "1.5", "x"]:
        for path, field in [
            (f"/products/{value}", "product_id"),
            (f"/products/{value}/card", "product_id"),
            (f"/stores/{value}", "store_id"),
            (f"/skus/{value}", "sku_id"),
            (f"/categories/{value}", "category_id"),
        ]:
            with case(path):
                assert_problem(client.get(f"{API}{path}"), 422, field)
        for name in ("category_id", "store_id", "brand_id"):
            with case((name, value)):
                assert_problem(client.get(f"{API}/products", params={name: value}), 422, name)


# --- bodies that are not JSON -------------------------------------------------------------------------

INVALID_UTF8 = [
    b'{"name": "\xff\xfe"}',
    b'{"name": "\xc3\x28"}',  # a lead byte without its continuation
    b"\x80",
]
MALFORMED = [b'{"name": ', b'{"name": "x",}', b"{'name': 'x'}", b'{"name": "x"}{"name": "y"}', b"nul", b"{"]


def test_bodies_that_are_not_json_are_refused(shop, database, client):
    m = shop.merchant
    with nothing_written(database):
        for content in INVALID_UTF8 + MALFORMED:
            for caller, method, path in [
                (m, "POST", "/brands"),
                (m, "POST", "/products"),
                (m, "PATCH", f"/products/{shop.listed['id']}"),
                (m, "PATCH", "/me"),
                (None, "POST", "/accounts"),
                (None, "POST", "/auth/token"),
            ]:
                with case((content, method, path)):
                    r = post_raw(client, path, content, caller, method=method)
                    assert_problem(r, 400, "body", code="malformed_body")


def test_an_encoded_surrogate_is_refused(shop, database, client):
    """Python's JSON reader lets UTF-8-encoded surrogates through as lone surrogates; text fields refuse them."""
    with nothing_written(database):
        r = post_raw(client, "/brands", b'{"name": "\xed\xa0\x80"}', shop.merchant)
        assert_problem(r, 422, "name")
        r = post_raw(client, "/auth/token", b'{"email": "a@b.cn", "password": "\xed\xa0\x80"}')
        assert_problem(r, 422, "password")


def test_a_missing_body_is_refused(shop, database, client):
    with nothing_written(database):
        r = post_raw(client, "/products", b"", shop.merchant)
        assert_problem(r, 422, "body")


# --- cursors ------------------------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


BAD_CURSORS = {
    "not base64": "!!!",
    "one char": "a",
    "empty": "",
    "not ascii": "游标",
    "not json": _b64(b"hello"),
    "not utf-8": _b64(b"\xff\xfe"),
    "a list": _b64(b"[1]"),
    "a number": _b64(b"5"),
    "wrong key": _b64(b'{"after":1}'),
    "extra key": _b64(b'{"id":1,"x":2}'),
    "string id": _b64(b'{"id":"1"}'),
    "float id": _b64(b'{"id":1.5}'),
    "bool id": _b64(b'{"id":true}'),
    "null id": _b64(b'{"id":null}'),
    "huge id": _b64(b'{"id":%d}' % 2**64),
    "too long": "A" * 201,
}


def test_invalid_cursors_are_refused(shop, client):
    sku_id = shop.listed["skus"][0]["id"]
    for label, cursor in BAD_CURSORS.items():
        for caller, path in [
            (shop.operator, "/accounts"),
            (None, "/stores"),
            (None, "/brands"),
            (None, "/products"),
            (None, "/product-cards"),
            (None, f"/skus/{sku_id}/price-history"),
        ]:
            with case((label, path)):
                r = client.get(f"{API}{path}", params={"cursor": cursor}, headers=caller.headers if caller else None)
                assert_problem(r, 422, "cursor")


# --- idempotency keys ---------------------------------------------------------------------------------


def test_a_replayed_creation_returns_the_first_response_and_creates_one_row(shop, database, client):
    h = {**shop.merchant.headers, "Idempotency-Key": "create-case-1"}
    body = shop.new_product(title="只建一次")
    first = client.post(f"{API}/products", json=body, headers=h)
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    with nothing_written(database):
        again = client.post(f"{API}/products", json=body, headers=h)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    mine = client.get(f"{API}/products", params={"store_id": shop.merchant.store_id}, headers=shop.merchant.headers)
    assert [p["title"] for p in mine.json()["items"]].count("只建一次") == 1


def test_a_reused_key_with_another_body_is_refused(shop, database, client):
    h = {**shop.merchant.headers, "Idempotency-Key": "create-case-2"}
    first = client.post(f"{API}/products", json=shop.new_product(title="第一个"), headers=h)
    assert first.status_code == 201, first.text
    with nothing_written(database):
        r = client.post(f"{API}/products", json=shop.new_product(title="第二个"), headers=h)
        assert_problem(r, 422, "Idempotency-Key")
        # the key is bound to its path too
        r = client.post(f"{API}/brands", json={"name": "新牌"}, headers=h)
        assert_problem(r, 422, "Idempotency-Key")


def test_replays_of_other_creations(shop, database, client):
    h = {**shop.merchant.headers, "Idempotency-Key": "sku-1"}
    path = f"{API}/products/{shop.listed['id']}/skus"
    first = client.post(path, json={"code": "NEW", "price_fen": 1200}, headers=h)
    assert first.status_code == 201, first.text
    with nothing_written(database):
        again = client.post(path, json={"code": "NEW", "price_fen": 1200}, headers=h)
        assert (again.status_code, again.json(), again.headers["Idempotent-Replayed"]) == (201, first.json(), "true")
        assert_problem(client.post(path, json={"code": "NEW", "price_fen": 1300}, headers=h), 422, "Idempotency-Key")
    anonymous = {"Idempotency-Key": "sign-up-1"}
    first = client.post(f"{API}/accounts", json=sign_up_body(email="once@example.com"), headers=anonymous)
    assert first.status_code == 201, first.text
    with nothing_written(database):
        again = client.post(f"{API}/accounts", json=sign_up_body(email="once@example.com"), headers=anonymous)
        assert (again.status_code, again.json(), again.headers["Idempotent-Replayed"]) == (201, first.json(), "true")


def test_malformed_idempotency_keys_are_refused(shop, database, client):
    with nothing_written(database):
        for key in ["", "k" * 201, "tab\tkey", "clé".encode("latin-1")]:  # httpx sends str headers as ASCII
            with case(key):
                headers = {**shop.merchant.headers, "Idempotency-Key": key}
                body = assert_problem(client.post(f"{API}/brands", json={"name": "新牌"}, headers=headers), 422)
                assert [e["field"].lower() for e in body["errors"]] == ["idempotency-key"], body


@pytest.mark.parametrize("path", ["/api/v1/analytics/sales", "/api/v1/search/analytics"])
@pytest.mark.parametrize("since", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00", "2026-01-01T00:00:00"])
def test_times_outside_any_plausible_range_or_without_a_zone_are_a_422(world, path, since):
    # found by the schemathesis run on PostgreSQL: year 1 at +01:00 is year 0 in UTC and crashed the query
    r = world.client.get(path, params={"since": since}, headers=world.operator.headers)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"].endswith("since")
