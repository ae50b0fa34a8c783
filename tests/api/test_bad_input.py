"""Bad input gets a clear 4xx problem+json naming the field at fault, and changes nothing (DESIGN rule 8).

"Changes nothing" is checked on the database itself: every row of every table (categories by count) is
the same after the refused request as before it, and where a thing was being changed it also reads the
same through the API.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from tests.factories import PASSWORD, User, World
from yinli.core.db import Database
from yinli.core.schemas import MAX_AMOUNT

API = "/api/v1"
COUNTED_ONLY = {"categories", "alembic_version"}  # large and never written by the API: compared by count


# --- helpers ------------------------------------------------------------------------------------------


def snapshot(database: Database) -> dict[str, Any]:
    """Every row of every table, in a comparable form."""
    with database.engine.connect() as conn:
        tables = inspect(conn).get_table_names()
        state: dict[str, Any] = {}
        for table in tables:
            if table in COUNTED_ONLY:
                state[table] = conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()
            else:
                state[table] = sorted(repr(tuple(row)) for row in conn.execute(text(f'SELECT * FROM "{table}"')))
    return state


@contextmanager
def nothing_written(database: Database) -> Iterator[None]:
    before = snapshot(database)
    yield
    after = snapshot(database)
    changed = {t for t in before.keys() | after.keys() if before.get(t) != after.get(t)}
    assert not changed, f"a refused request changed tables {sorted(changed)}"


@contextmanager
def case(label: object) -> Iterator[None]:
    """Name the case in a failure from a loop over many."""
    try:
        yield
    except AssertionError as exc:
        exc.add_note(f"case: {label!r}")
        raise


def assert_problem(r: Any, status: int, field: str | None = None, code: str | None = None) -> dict[str, Any]:
    """A problem+json response with `status`, whose errors name `field` (if given) and with `code`."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].split(";")[0] == "application/problem+json", r.headers["content-type"]
    body = r.json()
    assert set(body) == {"type", "title", "status", "detail", "code", "errors"}, body
    assert body["status"] == status and body["type"] == f"urn:yinli:problem:{body['code']}"
    assert body["title"] and body["detail"], body
    for e in body["errors"]:
        assert set(e) == {"field", "message"} and e["message"], body
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body
    if code is not None:
        assert body["code"] == code, body
    return body  # type: ignore[no-any-return]


@dataclass
class Shop:
    """A merchant and a rival, each with a listed and a draft product; and an operator."""

    world: World
    merchant: User
    rival: User
    listed: dict[str, Any]
    draft: dict[str, Any]
    rival_listed: dict[str, Any]
    rival_draft: dict[str, Any]

    @property
    def operator(self) -> User:
        return self.world.operator

    @property
    def client(self) -> TestClient:
        return self.world.client

    def new_product(self, **overrides: Any) -> dict[str, Any]:
        """A valid body for POST /products (a leaf category, two SKUs)."""
        return {
            "category_id": self.world.leaf_id(),
            "title": "防摔手机壳",
            "skus": [
                {"code": "RED", "attributes": {"颜色": "红"}, "price_fen": 3900, "list_price_fen": 5900},
                {"code": "BLUE", "attributes": {"颜色": "蓝"}, "price_fen": 3900},
            ],
            **overrides,
        }

    def category_ids(self) -> tuple[int, int, int]:
        """A leaf category, its parent and its root."""
        leaf = self.world.leaf_id()
        ancestors = self.client.get(f"{API}/categories/{leaf}").json()["ancestors"]
        root, parent = ancestors[0]["id"], ancestors[1]["id"]
        return leaf, parent, root


@pytest.fixture
def shop(world: World) -> Shop:
    merchant, rival = world.merchant(), world.merchant()
    return Shop(
        world,
        merchant,
        rival,
        listed=world.product(merchant),
        draft=world.product(merchant, listed=False),
        rival_listed=world.product(rival),
        rival_draft=world.product(rival, listed=False),
    )


def post_raw(client: TestClient, path: str, content: bytes, user: User | None = None, method: str = "POST") -> Any:
    headers = {"content-type": "application/json", **(user.headers if user else {})}
    return client.request(method, f"{API}{path}", content=content, headers=headers)


def sign_up_body(**overrides: Any) -> dict[str, Any]:
    return {"email": "new@example.com", "password": PASSWORD, "display_name": "新人", **overrides}


# --- unknown fields -----------------------------------------------------------------------------------

# (what, caller, method, path, body, field at fault). Paths and bodies are built from the shop.
Request = Callable[[Shop], tuple[User | None, str, str, Any]]

UNKNOWN_FIELDS: dict[str, tuple[Request, str]] = {
    "sign up as operator": (
        lambda s: (None, "POST", "/accounts", sign_up_body(is_operator=True)),
        "is_operator",
    ),
    "promote oneself": (lambda s: (s.merchant, "PATCH", "/me", {"role": "operator"}), "role"),
    "apply with a status": (
        lambda s: (s.world.user("merchant"), "POST", "/stores", {"name": "新店", "status": "active"}),
        "status",
    ),
    "activate own store": (
        lambda s: (s.merchant, "PATCH", f"/stores/{s.merchant.store_id}", {"status": "active"}),
        "status",
    ),
    "set a deposit paid": (
        lambda s: (
            s.operator,
            "POST",
            f"/stores/{s.rival.store_id}/review",
            {"decision": "approve", "deposit_paid": True},
        ),
        "deposit_paid",
    ),
    "policy typo": (lambda s: (s.operator, "PATCH", "/platform/policy", {"deposit_fen": 0}), "deposit_fen"),
    "brand with extras": (lambda s: (s.merchant, "POST", "/brands", {"name": "新牌", "verified": True}), "verified"),
    "create listed": (lambda s: (s.merchant, "POST", "/products", s.new_product(status="listed")), "status"),
    "sku with stock": (
        lambda s: (
            s.merchant,
            "POST",
            "/products",
            s.new_product(skus=[{"code": "A", "price_fen": 100, "stock": 5}]),
        ),
        "skus.0.stock",
    ),
    "list a draft by PATCH": (
        lambda s: (s.merchant, "PATCH", f"/products/{s.draft['id']}", {"status": "listed"}),
        "status",
    ),
    "move a product to another store": (
        lambda s: (s.merchant, "PATCH", f"/products/{s.listed['id']}", {"store_id": s.rival.store_id}),
        "store_id",
    ),
    "set the sales count": (
        lambda s: (s.merchant, "PATCH", f"/products/{s.listed['id']}", {"sales_count": 10_000}),
        "sales_count",
    ),
    "add a sku to another product": (
        lambda s: (
            s.merchant,
            "POST",
            f"/products/{s.listed['id']}/skus",
            {"code": "X", "price_fen": 100, "product_id": s.rival_listed["id"]},
        ),
        "product_id",
    ),
    "recode a sku": (lambda s: (s.merchant, "PATCH", f"/skus/{s.listed['skus'][0]['id']}", {"code": "NEW"}), "code"),
}


def test_unknown_fields_are_refused(shop, database):
    requests = {label: (build(shop), field) for label, (build, field) in UNKNOWN_FIELDS.items()}
    with nothing_written(database):
        for label, ((caller, method, path, body), field) in requests.items():
            with case(label):
                r = shop.client.request(method, f"{API}{path}", json=body, headers=caller.headers if caller else None)
                assert_problem(r, 422, field, code="invalid_input")


# --- wrong types --------------------------------------------------------------------------------------

WRONG_TYPES: dict[str, tuple[Callable[[Shop], dict[str, Any]], str]] = {
    "title is a number": (lambda s: s.new_product(title=5), "title"),
    "title is a list": (lambda s: s.new_product(title=["a"]), "title"),
    "skus is an object": (lambda s: s.new_product(skus={"code": "A", "price_fen": 100}), "skus"),
    "skus is empty": (lambda s: s.new_product(skus=[]), "skus"),
    "sku is a string": (lambda s: s.new_product(skus=["A"]), "skus.0"),
    "price is a decimal string": (
        lambda s: s.new_product(skus=[{"code": "A", "price_fen": "39.00"}]),
        "skus.0.price_fen",
    ),
    "price is a numeric string": (
        lambda s: s.new_product(skus=[{"code": "A", "price_fen": "3900"}]),
        "skus.0.price_fen",
    ),
    "price has a fraction": (lambda s: s.new_product(skus=[{"code": "A", "price_fen": 39.5}]), "skus.0.price_fen"),
    "price is a float": (lambda s: s.new_product(skus=[{"code": "A", "price_fen": 3900.0}]), "skus.0.price_fen"),
    "price is true": (lambda s: s.new_product(skus=[{"code": "A", "price_fen": True}]), "skus.0.price_fen"),
    "price is null": (lambda s: s.new_product(skus=[{"code": "A", "price_fen": None}]), "skus.0.price_fen"),
    "price is an object": (
        lambda s: s.new_product(skus=[{"code": "A", "price_fen": {"amount": 1}}]),
        "skus.0.price_fen",
    ),
    "category is a word": (lambda s: s.new_product(category_id="phones"), "category_id"),
    "category is a numeric string": (lambda s: s.new_product(category_id=str(s.world.leaf_id())), "category_id"),
    "category is true": (lambda s: s.new_product(category_id=True), "category_id"),
    "brand is a list": (lambda s: s.new_product(brand_id=[1]), "brand_id"),
    "images is a string": (lambda s: s.new_product(images="https://img.example.com/a.jpg"), "images"),
    "attributes is a list": (
        lambda s: s.new_product(skus=[{"code": "A", "price_fen": 1, "attributes": ["红"]}]),
        "skus.0.attributes",
    ),
    "attribute value is a number": (
        lambda s: s.new_product(skus=[{"code": "A", "price_fen": 1, "attributes": {"尺码": 42}}]),
        "skus.0.attributes.尺码",
    ),
    "flag is a word": (lambda s: s.new_product(pay_later="maybe"), "pay_later"),
}


def test_wrong_types_in_a_new_product_are_refused(shop, database):
    bodies = {label: (build(shop), field) for label, (build, field) in WRONG_TYPES.items()}
    with nothing_written(database):
        for label, (body, field) in bodies.items():
            with case(label):
                r = shop.client.post(f"{API}/products", json=body, headers=shop.merchant.headers)
                assert_problem(r, 422, field, code="invalid_input")


def test_wrong_types_in_changes_are_refused(shop, database, client):
    sku, product = shop.listed["skus"][0], shop.listed
    m, op = shop.merchant, shop.operator
    cases = [
        (m, f"/skus/{sku['id']}", {"price_fen": True}, "price_fen"),
        (m, f"/skus/{sku['id']}", {"price_fen": "100"}, "price_fen"),
        (m, f"/skus/{sku['id']}", {"price_fen": 1.5}, "price_fen"),
        (m, f"/skus/{sku['id']}", {"list_price_fen": False}, "list_price_fen"),
        (m, f"/skus/{sku['id']}", {"is_active": "maybe"}, "is_active"),
        (m, f"/skus/{sku['id']}", {"is_active": None}, "is_active"),
        (m, f"/skus/{sku['id']}", {"attributes": None}, "attributes"),
        (m, f"/products/{product['id']}", [], "body"),
        (m, f"/products/{product['id']}", "title", "body"),
        (m, f"/products/{product['id']}", 42, "body"),
        (m, f"/products/{product['id']}", {"title": None}, "title"),
        (m, f"/products/{product['id']}", {"category_id": None}, "category_id"),
        (m, f"/products/{product['id']}", {"brand_id": "1"}, "brand_id"),
        (m, f"/products/{product['id']}", {"images": None}, "images"),
        (m, f"/products/{product['id']}", {"seven_day_returns": None}, "seven_day_returns"),
        (m, f"/products/{product['id']}", {"pay_later": "maybe"}, "pay_later"),
        (op, "/platform/policy", {"store_deposit_fen": True}, "store_deposit_fen"),
        (op, "/platform/policy", {"store_deposit_fen": "0"}, "store_deposit_fen"),
        (op, "/platform/policy", {"zero_deposit_opening": "maybe"}, "zero_deposit_opening"),
        (m, "/me", {"birth_year": "nineteen-ninety"}, "birth_year"),
        (m, "/me", {"display_name": None}, "display_name"),
    ]
    with nothing_written(database):
        for caller, path, body, field in cases:
            with case((path, body)):
                assert_problem(client.patch(f"{API}{path}", json=body, headers=caller.headers), 422, field)
    assert client.get(f"{API}/skus/{sku['id']}").json() == sku
    assert client.get(f"{API}/products/{product['id']}").json() == product


# --- prices -------------------------------------------------------------------------------------------

BAD_AMOUNTS = [-1, 0, MAX_AMOUNT + 1, 10**12, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30]


def test_bad_prices_are_refused_everywhere(shop, database, client):
    sku = shop.listed["skus"][0]
    h = shop.merchant.headers
    with nothing_written(database):
        for amount in BAD_AMOUNTS:
            for field in ("price_fen", "list_price_fen"):
                with case((field, amount)):
                    spec = {"code": "N", "price_fen": 100, field: amount}
                    r = client.post(f"{API}/products", json=shop.new_product(skus=[spec]), headers=h)
                    assert_problem(r, 422, f"skus.0.{field}")
                    r = client.post(f"{API}/products/{shop.listed['id']}/skus", json=spec, headers=h)
                    assert_problem(r, 422, field)
                    assert_problem(client.patch(f"{API}/skus/{sku['id']}", json={field: amount}, headers=h), 422, field)
    assert client.get(f"{API}/skus/{sku['id']}").json() == sku


def test_the_largest_price_is_accepted(shop, client):
    """The bound itself is a valid price (so the refusals above are about size, not about the field)."""
    spec = {"code": "MAX", "price_fen": MAX_AMOUNT, "list_price_fen": MAX_AMOUNT}
    r = client.post(f"{API}/products", json=shop.new_product(skus=[spec]), headers=shop.merchant.headers)
    assert r.status_code == 201, r.text
    assert r.json()["skus"][0]["price"]["amount"] == MAX_AMOUNT


def test_bad_price_filters_are_refused(client):
    for value in ["-1", str(MAX_AMOUNT + 1), str(2**63), str(2**64), "1e3", "abc", "1.5"]:
        for path in ("/products", "/product-cards"):
            for name in ("min_price", "max_price"):
                with case((path, name, value)):
                    assert_problem(client.get(f"{API}{path}", params={name: value}), 422, name)


def test_min_price_above_max_price_is_refused(client):
    assert_problem(client.get(f"{API}/products", params={"min_price": 5, "max_price": 1}), 422, "min_price")


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


def test_absurd_policy_values_are_refused(shop, database, client):
    h = shop.operator.headers
    before = client.get(f"{API}/platform/policy").json()
    with nothing_written(database):
        for body, field in [
            ({"store_deposit_fen": -1}, "store_deposit_fen"),
            ({"store_deposit_fen": 2**63}, "store_deposit_fen"),
            ({"new_merchant_days": 0}, "new_merchant_days"),
            ({"new_merchant_days": 10**6}, "new_merchant_days"),
        ]:
            assert_problem(client.patch(f"{API}/platform/policy", json=body, headers=h), 422, field)
    assert client.get(f"{API}/platform/policy").json() == before


# --- over-long and empty text -------------------------------------------------------------------------


def test_over_long_text_in_a_new_product_is_refused(shop, database, client):
    h = shop.merchant.headers
    long_sku = {"code": "A" * 65, "price_fen": 1}
    cases = [
        (shop.new_product(title="长" * 121), "title"),
        (shop.new_product(title="   "), "title"),
        (shop.new_product(title=""), "title"),
        (shop.new_product(description="字" * 5001), "description"),
        (shop.new_product(cover_url="https://img.example.com/" + "a" * 1000), "cover_url"),
        (shop.new_product(images=[f"https://img.example.com/{i}.jpg" for i in range(10)]), "images"),
        (shop.new_product(skus=[long_sku]), "skus.0.code"),
        (shop.new_product(skus=[{"code": "A", "price_fen": 1, "attributes": {"名" * 33: "红"}}]), "skus.0.attributes"),
        (
            shop.new_product(skus=[{"code": "A", "price_fen": 1, "attributes": {"颜色": "红" * 65}}]),
            "skus.0.attributes.颜色",
        ),
        (
            shop.new_product(skus=[{"code": "A", "price_fen": 1, "attributes": {f"k{i}": "v" for i in range(11)}}]),
            "skus.0.attributes",
        ),
        (shop.new_product(skus=[{"code": f"C{i}", "price_fen": 1} for i in range(101)]), "skus"),
    ]
    with nothing_written(database):
        for body, field in cases:
            r = client.post(f"{API}/products", json=body, headers=h)
            body_problem = assert_problem(r, 422)
            fields = [e["field"] for e in body_problem["errors"]]
            assert any(f == field or f.startswith(field + ".") for f in fields), (field, body_problem)
    # the boundary is allowed: 120 characters of title
    r = client.post(f"{API}/products", json=shop.new_product(title="长" * 120), headers=h)
    assert r.status_code == 201 and r.json()["title"] == "长" * 120


def test_over_long_text_elsewhere_is_refused(shop, database, client):
    m, op = shop.merchant, shop.operator
    cases = [
        (None, "POST", "/accounts", sign_up_body(display_name="名" * 65), "display_name"),
        (None, "POST", "/accounts", sign_up_body(password="p" * 129), "password"),
        (None, "POST", "/accounts", sign_up_body(password="short"), "password"),
        (None, "POST", "/accounts", sign_up_body(email="a" * 250 + "@example.com"), "email"),
        (m, "PATCH", "/me", {"display_name": "名" * 65}, "display_name"),
        (m, "PATCH", "/me", {"display_name": " "}, "display_name"),
        (m, "PATCH", f"/stores/{m.store_id}", {"name": "店" * 61}, "name"),
        (m, "PATCH", f"/stores/{m.store_id}", {"description": "字" * 2001}, "description"),
        (m, "PATCH", f"/products/{shop.listed['id']}", {"title": "长" * 121}, "title"),
        (m, "POST", "/brands", {"name": "牌" * 81}, "name"),
        (op, "POST", f"/stores/{m.store_id}/suspend", {"reason": "因" * 501}, "reason"),
        (op, "POST", f"/stores/{m.store_id}/suspend", {"reason": ""}, "reason"),
        (m, "POST", f"/products/{shop.listed['id']}/skus", {"code": "", "price_fen": 1}, "code"),
        (m, "POST", f"/products/{shop.listed['id']}/skus", {"code": "有空 格", "price_fen": 1}, "code"),
    ]
    with nothing_written(database):
        for caller, method, path, body, field in cases:
            r = client.request(method, f"{API}{path}", json=body, headers=caller.headers if caller else None)
            assert_problem(r, 422, field)
    assert client.get(f"{API}/products/{shop.listed['id']}").json() == shop.listed


# --- NUL and control characters -----------------------------------------------------------------------

CONTROL_CHARACTERS = ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\ud800"]


def test_control_characters_in_text_are_refused(shop, database, client):
    with nothing_written(database):
        for ch in CONTROL_CHARACTERS:
            for caller, method, path, body, field in _with_control_character(shop, ch):
                with case((f"U+{ord(ch):04X}", method, path, field)):
                    # serialised by hand: a lone surrogate cannot be encoded as UTF-8, only escaped in JSON
                    r = post_raw(client, path, json.dumps(body).encode(), caller, method=method)
                    assert_problem(r, 422, field)
    assert client.get(f"{API}/products/{shop.listed['id']}").json() == shop.listed


def _with_control_character(shop: Shop, ch: str) -> list[tuple[User | None, str, str, Any, str]]:
    m = shop.merchant
    product = shop.listed
    return [
        (m, "POST", "/products", shop.new_product(title=f"手机{ch}壳"), "title"),
        (m, "POST", "/products", shop.new_product(description=f"说{ch}明"), "description"),
        (
            m,
            "POST",
            "/products",
            shop.new_product(skus=[{"code": "A", "price_fen": 1, "attributes": {"颜色": f"红{ch}色"}}]),
            "skus.0.attributes.颜色",
        ),
        (m, "PATCH", f"/products/{product['id']}", {"title": f"新{ch}品"}, "title"),
        (m, "PATCH", f"/products/{product['id']}", {"cover_url": f"https://img.example.com/{ch}.jpg"}, "cover_url"),
        (m, "PATCH", f"/skus/{product['skus'][0]['id']}", {"attributes": {"颜色": f"白{ch}色"}}, "attributes.颜色"),
        (m, "PATCH", "/me", {"display_name": f"小{ch}明"}, "display_name"),
        (m, "PATCH", f"/stores/{m.store_id}", {"name": f"新{ch}店"}, "name"),
        (m, "POST", "/brands", {"name": f"新{ch}牌"}, "name"),
        (None, "POST", "/accounts", sign_up_body(display_name=f"新{ch}人"), "display_name"),
        (None, "POST", "/auth/token", {"email": m.email.replace("@", f"{ch}@"), "password": PASSWORD}, "email"),
        (None, "POST", "/auth/session", {"email": f"x{ch}{m.email}", "password": PASSWORD}, "email"),
        (shop.operator, "POST", f"/stores/{m.store_id}/suspend", {"reason": f"违{ch}规"}, "reason"),
    ]


def test_tabs_and_newlines_are_fine_in_descriptions(shop, client):
    r = client.post(
        f"{API}/products", json=shop.new_product(description="第一行\n第二行\t缩进"), headers=shop.merchant.headers
    )
    assert r.status_code == 201, r.text
    assert r.json()["description"] == "第一行\n第二行\t缩进"


def test_control_characters_in_a_search_prefix_are_refused(client):
    for ch in ("\x00", "\x1b"):
        with case(ch):
            assert_problem(client.get(f"{API}/brands", params={"prefix": f"a{ch}b"}), 422, "prefix")


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


# --- unknown ids --------------------------------------------------------------------------------------

UNKNOWN = 987_654_321


def test_unknown_ids_in_paths_are_404(shop, database, client):
    m, op = shop.merchant, shop.operator
    cases = [
        (None, "GET", f"/products/{UNKNOWN}", None, "product_id"),
        (None, "GET", f"/products/{UNKNOWN}/card", None, "product_id"),
        (m, "PATCH", f"/products/{UNKNOWN}", {"title": "新"}, "product_id"),
        (m, "POST", f"/products/{UNKNOWN}/list", None, "product_id"),
        (m, "POST", f"/products/{UNKNOWN}/delist", None, "product_id"),
        (m, "POST", f"/products/{UNKNOWN}/skus", {"code": "X", "price_fen": 1}, "product_id"),
        (None, "GET", f"/skus/{UNKNOWN}", None, "sku_id"),
        (None, "GET", f"/skus/{UNKNOWN}/price-history", None, "sku_id"),
        (m, "PATCH", f"/skus/{UNKNOWN}", {"price_fen": 1}, "sku_id"),
        (None, "GET", f"/stores/{UNKNOWN}", None, "store_id"),
        (m, "PATCH", f"/stores/{UNKNOWN}", {"name": "新"}, "store_id"),
        (op, "POST", f"/stores/{UNKNOWN}/review", {"decision": "approve"}, "store_id"),
        (op, "POST", f"/stores/{UNKNOWN}/suspend", {"reason": "查"}, "store_id"),
        (None, "GET", f"/categories/{UNKNOWN}", None, "category_id"),
        (op, "GET", f"/accounts/{UNKNOWN}", None, "user_id"),
    ]
    with nothing_written(database):
        for caller, method, path, body, field in cases:
            r = client.request(method, f"{API}{path}", json=body, headers=caller.headers if caller else None)
            assert_problem(r, 404, field, code="not_found")


def test_unknown_ids_in_queries_are_404(client):
    assert_problem(client.get(f"{API}/categories", params={"parent_id": UNKNOWN}), 404, "parent_id")
    assert_problem(client.get(f"{API}/products", params={"category_id": UNKNOWN}), 404, "category_id")


def test_unknown_ids_in_bodies_are_422(shop, database, client):
    m, op = shop.merchant, shop.operator
    product = shop.listed
    cases = [
        (m, "POST", "/products", shop.new_product(category_id=UNKNOWN), "category_id"),
        (m, "POST", "/products", shop.new_product(brand_id=UNKNOWN), "brand_id"),
        (op, "POST", "/products", shop.new_product(store_id=UNKNOWN), "store_id"),
        (m, "PATCH", f"/products/{product['id']}", {"category_id": UNKNOWN}, "category_id"),
        (m, "PATCH", f"/products/{product['id']}", {"brand_id": UNKNOWN}, "brand_id"),
        (m, "PATCH", f"/stores/{m.store_id}", {"main_category_id": UNKNOWN}, "main_category_id"),
        (
            shop.world.user("merchant"),
            "POST",
            "/stores",
            {"name": "新店", "main_category_id": UNKNOWN},
            "main_category_id",
        ),
    ]
    with nothing_written(database):
        for caller, method, path, body, field in cases:
            r = client.request(method, f"{API}{path}", json=body, headers=caller.headers)
            assert_problem(r, 422, field)
    assert client.get(f"{API}/products/{product['id']}").json() == product


# --- another merchant's products ----------------------------------------------------------------------


def _changes_to(product: dict[str, Any]) -> list[tuple[str, str, Any]]:
    pid, sku_id = product["id"], product["skus"][0]["id"]
    return [
        ("PATCH", f"/products/{pid}", {"title": "抢来的"}),
        ("POST", f"/products/{pid}/list", None),
        ("POST", f"/products/{pid}/delist", None),
        ("POST", f"/products/{pid}/skus", {"code": "STOLEN", "price_fen": 1}),
        ("PATCH", f"/skus/{sku_id}", {"price_fen": 1}),
    ]


def test_another_stores_listed_product_is_403(shop, database, client):
    product = shop.rival_listed
    with nothing_written(database):
        for method, path, body in _changes_to(product):
            r = client.request(method, f"{API}{path}", json=body, headers=shop.merchant.headers)
            assert_problem(r, 403, code="forbidden")
    assert client.get(f"{API}/products/{product['id']}", headers=shop.rival.headers).json() == product


def test_another_stores_draft_is_404(shop, database, client):
    product = shop.rival_draft
    with nothing_written(database):
        for method, path, body in _changes_to(product):
            r = client.request(method, f"{API}{path}", json=body, headers=shop.merchant.headers)
            assert_problem(r, 404, code="not_found")
        assert_problem(client.get(f"{API}/products/{product['id']}", headers=shop.merchant.headers), 404)
    assert client.get(f"{API}/products/{product['id']}", headers=shop.rival.headers).json() == product


def test_creating_in_another_store_is_403(shop, database, client):
    with nothing_written(database):
        r = client.post(
            f"{API}/products", json=shop.new_product(store_id=shop.rival.store_id), headers=shop.merchant.headers
        )
        assert_problem(r, 403, code="forbidden")


def test_shoppers_and_strangers_change_nothing(shop, database, client):
    shopper = shop.world.shopper()
    product = shop.listed
    with nothing_written(database):
        for method, path, body in _changes_to(product):
            assert_problem(client.request(method, f"{API}{path}", json=body, headers=shopper.headers), 403)
            assert_problem(client.request(method, f"{API}{path}", json=body), 401, code="not_authenticated")


# --- catalogue rules ----------------------------------------------------------------------------------


def test_products_need_a_leaf_category(shop, database, client):
    _leaf, parent, root = shop.category_ids()
    product = shop.draft
    with nothing_written(database):
        for category_id in (parent, root):
            r = client.post(
                f"{API}/products", json=shop.new_product(category_id=category_id), headers=shop.merchant.headers
            )
            assert_problem(r, 422, "category_id")
            r = client.patch(
                f"{API}/products/{product['id']}", json={"category_id": category_id}, headers=shop.merchant.headers
            )
            assert_problem(r, 422, "category_id")
    assert client.get(f"{API}/products/{product['id']}", headers=shop.merchant.headers).json() == product


def test_list_price_below_price_is_refused(shop, database, client):
    h = shop.merchant.headers
    sku = shop.listed["skus"][0]  # 3900, no list price
    with nothing_written(database):
        skus = [{"code": "A", "price_fen": 100}, {"code": "B", "price_fen": 3900, "list_price_fen": 3899}]
        r = client.post(f"{API}/products", json=shop.new_product(skus=skus), headers=h)
        assert_problem(r, 422, "skus.1.list_price_fen")
        r = client.post(
            f"{API}/products/{shop.listed['id']}/skus",
            json={"code": "C", "price_fen": 500, "list_price_fen": 499},
            headers=h,
        )
        assert_problem(r, 422, "list_price_fen")
        r = client.patch(f"{API}/skus/{sku['id']}", json={"list_price_fen": sku["price"]["amount"] - 1}, headers=h)
        assert_problem(r, 422, "list_price_fen")
    # raising the price above an existing list price is the same mistake
    r = client.patch(f"{API}/skus/{sku['id']}", json={"list_price_fen": 5000}, headers=h)
    assert r.status_code == 200, r.text
    changed = r.json()
    with nothing_written(database):
        r = client.patch(f"{API}/skus/{sku['id']}", json={"price_fen": 5001}, headers=h)
        assert_problem(r, 422, "list_price_fen")
    assert client.get(f"{API}/skus/{sku['id']}").json() == changed


def test_duplicate_sku_codes_are_refused(shop, database, client):
    h = shop.merchant.headers
    existing = shop.listed["skus"][0]["code"]
    with nothing_written(database):
        for codes in (["A", "A"], ["A", " A "], ["A", "B", "A"]):
            skus = [{"code": c, "price_fen": 100} for c in codes]
            r = client.post(f"{API}/products", json=shop.new_product(skus=skus), headers=h)
            assert_problem(r, 422, f"skus.{len(codes) - 1}.code")
        r = client.post(
            f"{API}/products/{shop.listed['id']}/skus", json={"code": existing, "price_fen": 100}, headers=h
        )
        assert_problem(r, 409, "code", code="sku_code_taken")
    assert client.get(f"{API}/products/{shop.listed['id']}").json() == shop.listed


def test_the_last_active_sku_of_a_listed_product_stays(shop, database, client):
    h = shop.merchant.headers
    first, second = shop.listed["skus"]
    assert client.patch(f"{API}/skus/{first['id']}", json={"is_active": False}, headers=h).status_code == 200
    product = client.get(f"{API}/products/{shop.listed['id']}").json()
    with nothing_written(database):
        # the change is made, recorded and then found to break the rule: all of it must be undone
        r = client.patch(f"{API}/skus/{second['id']}", json={"is_active": False, "price_fen": 1}, headers=h)
        assert_problem(r, 409, "is_active", code="last_active_sku")
    assert client.get(f"{API}/products/{shop.listed['id']}").json() == product


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


def test_issued_cursors_still_work(shop, client):
    """The refusals above are about the cursors, not the parameter."""
    first = client.get(f"{API}/products", params={"limit": 1}).json()
    assert first["next_cursor"]
    second = client.get(f"{API}/products", params={"limit": 1, "cursor": first["next_cursor"]})
    assert second.status_code == 200
    assert second.json()["items"][0]["id"] < first["items"][0]["id"]


def test_bad_page_sizes_are_refused(client):
    for limit in ["0", "-1", "201", str(2**64), "x"]:
        with case(limit):
            assert_problem(client.get(f"{API}/products", params={"limit": limit}), 422, "limit")


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
