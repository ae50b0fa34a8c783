"""Shared helpers for the bad-input matrix (DESIGN rule 8): bad input gets a clear 4xx problem+json
naming the field at fault, and changes nothing.

Each domain declares its bad requests in its own `tests/<domain>/test_api.py` as a list of `Bad` rows built
from the `shop` scene, and runs them with `bad_input_test`; layer-wide cases (bodies that are not JSON,
idempotency keys, cursors) are in `tests/api/test_bad_input.py`.

"Changes nothing" is checked on the database itself: every row of every table (categories by count) is
the same after the refused requests as before them.
"""

from __future__ import annotations

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


UNKNOWN = 987_654_321  # an id no scene has
CONTROL_CHARACTERS = ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\ud800"]


@dataclass(frozen=True)
class Bad:
    """One refused request: who sends what, and the problem expected back."""

    label: str
    caller: User | None
    method: str
    path: str  # below /api/v1
    body: Any
    status: int = 422
    field: str | None = None
    code: str | None = None


def send(client: TestClient, bad: Bad) -> Any:
    # serialised by hand: a lone surrogate cannot be encoded as UTF-8, only escaped in JSON
    content = None if bad.body is None else json.dumps(bad.body).encode()
    headers = {"content-type": "application/json", **(bad.caller.headers if bad.caller else {})}
    return client.request(bad.method, f"{API}{bad.path}", content=content, headers=headers)


def bad_input_test(build: Callable[[Shop], list[Bad]]) -> Callable[..., None]:
    """A test sending every row `build` makes from the scene, all refused and nothing written."""

    def test_bad_input_is_refused_and_changes_nothing(shop: Shop, database: Database) -> None:
        table = build(shop)
        labels = [b.label for b in table]
        assert len(set(labels)) == len(labels), "two rows share a label"
        with nothing_written(database):
            for bad in table:
                with case(bad.label):
                    assert_problem(send(shop.client, bad), bad.status, bad.field, code=bad.code)

    return test_bad_input_is_refused_and_changes_nothing
