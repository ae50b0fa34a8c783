"""Shared helpers for the authorisation matrix each domain declares in its own `tests/<domain>/test_api.py`.

A domain's file lists, per case, the route it exercises (as the app declares it), the expected status for
each role, and how to build the request from a scene (NetBox's per-app `APIViewTestCase` shape); the
helpers here build the scene, run the cells and check the rules every cell shares:

- anonymous callers get 401 on anything that needs signing in, before anything is looked up;
- a refused request is a problem+json answer and changes nothing (every table but the static category
  tree is snapshotted before and compared after); an allowed change must change something;
- the request really is the route the row names (so the completeness check in tests/test_api_routes.py,
  which wants a row for every API route, cannot be fooled by a row that calls something else).

A domain file:

    MATRIX = {  #                      anon  shopper creator  m.A   m.B   op
        "GET /me":                 row(401,  200,    200,     200,  200,  200),
    }
    ENDPOINTS = {"GET /me": Endpoint("GET /me", lambda s: Call("GET", "/api/v1/me"))}
    ROWS = rows(MATRIX, ENDPOINTS)
    test_authorization = authorization_test(ROWS)

Routes are written without the /api/v1 prefix. A row whose cells are all refusals or reads can say
`shared=True`: its cells then run one after another in one scene (one test per domain, `shared_test`),
which costs a request per cell instead of a fresh world per cell.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Table
from sqlalchemy.orm import Session
from starlette.routing import compile_path

from tests.factories import PASSWORD, User, World
from yinli.accounts import service as accounts
from yinli.catalog import service as catalog
from yinli.core.auth import Actor, Role
from yinli.core.clock import Clock
from yinli.core.settings import Settings
from yinli.merchants import service as merchants
from yinli.models import Base

API = "/api/v1"
ANON, SHOPPER, CREATOR, MERCHANT_A, MERCHANT_B, OPERATOR, OTHER_SHOPPER = ROLES = (
    "anonymous",
    "shopper",
    "creator",
    "merchant_a",
    "merchant_b",
    "operator",
    "other_shopper",  # a second shopper: for what one shopper owns (a cart, an order), the other is a stranger
)


def row(
    anonymous: int | None,
    shopper: int | None,
    creator: int | None,
    merchant_a: int | None,
    merchant_b: int | None,
    operator: int | None,
    other_shopper: int | None = None,
) -> dict[str, int | None]:
    """Expected status per role; None: the cell is not run (say why beside the row)."""
    return dict(zip(ROLES, (anonymous, shopper, creator, merchant_a, merchant_b, operator, other_shopper), strict=True))


# --- the world each case runs in ------------------------------------------------------------------------

names = itertools.count(1)  # unique names across a run
DRAFT, LISTED, STORE_B, BYSTANDER = EVERYTHING = ("draft", "listed", "store_b", "bystander")


@dataclass
class Scene:
    world: World
    callers: dict[str, User | None]
    store_a: int
    store_b: int | None
    draft: dict[str, Any] | None
    listed: dict[str, Any] | None
    bystander: User | None  # a shopper nobody in `callers` is

    @property
    def merchant_a(self) -> User:
        return self.callers[MERCHANT_A]  # type: ignore[return-value]


@dataclass
class SceneBuilder:
    """Builds a case's world with the domain services in one transaction.

    `tests.factories.World` builds the same things through the API; here that would be ten-odd HTTP round
    trips per case and more than double the matrix's run time. The requests under test all go through the API.
    """

    world: World
    clock: Clock
    settings: Settings

    def __call__(
        self, store_a: str = "active", roles: tuple[str, ...] = ROLES, needs: tuple[str, ...] = EVERYTHING
    ) -> Scene:
        """Store A (merchant A's) in state `store_a`: "active", "applied" or "suspended"; the callers in
        `roles`; and what `needs` names: A's draft and listed products, store B (merchant B's), a bystander.
        """
        leaf = self.world.leaf_id()  # before our write transaction, which would block its session
        with self.world.database.session() as session:
            operator = self._person(session, Role.OPERATOR)
            merchant_a = self._merchant(session, operator, approve=store_a != "applied")
            merchant_b = None
            if MERCHANT_B in roles or STORE_B in needs:
                merchant_b = self._merchant(session, operator, approve=True)
            draft = self._product(session, merchant_a, leaf, listed=False) if DRAFT in needs else None
            listed = self._product(session, merchant_a, leaf, listed=True) if LISTED in needs else None
            assert merchant_a.store_id is not None
            if store_a == "suspended":
                merchants.do_suspend_store(session, self.clock, _actor(operator), merchant_a.store_id, "checking")
            callers: dict[str, User | None] = {ANON: None, MERCHANT_A: merchant_a, OPERATOR: operator}
            if merchant_b is not None:
                callers[MERCHANT_B] = merchant_b
            if SHOPPER in roles:
                callers[SHOPPER] = self._person(session, Role.SHOPPER, birth_year=1990)
            if OTHER_SHOPPER in roles:
                callers[OTHER_SHOPPER] = self._person(session, Role.SHOPPER, birth_year=1991)
            if CREATOR in roles:
                callers[CREATOR] = self._person(session, Role.CREATOR)
            bystander = self._person(session, Role.SHOPPER) if BYSTANDER in needs else None
        store_b = merchant_b.store_id if merchant_b else None
        return Scene(self.world, callers, merchant_a.store_id, store_b, draft, listed, bystander)

    def _person(self, session: Session, role: Role, **extra: Any) -> User:
        n = next(names)
        email = f"authz-{role.value}{n}@example.com"
        user = accounts.do_sign_up(
            session,
            self.clock,
            email=email,
            password=PASSWORD,
            display_name=f"{role.value} {n}",
            role=role,
            allow_operator=role is Role.OPERATOR,
            **extra,
        )
        ttl = timedelta(hours=self.settings.token_ttl_hours)
        secret, _, _ = accounts.do_issue_token(session, self.clock, email=email, password=PASSWORD, kind="api", ttl=ttl)
        return User(user.id, email, role.value, secret)

    def _merchant(self, session: Session, operator: User, *, approve: bool) -> User:
        m = self._person(session, Role.MERCHANT)
        store = merchants.do_apply_for_store(session, self.clock, self.settings, _actor(m), name=f"店铺{m.id}")
        m.store_id = store.id
        if approve:
            merchants.do_review_store(session, self.clock, _actor(operator), store.id, approve=True, note=None)
        return m

    def _product(self, session: Session, merchant: User, leaf: int, *, listed: bool) -> dict[str, Any]:
        n = next(names)
        skus = [
            {"code": f"A{n}", "attributes": {"颜色": "黑"}, "price_fen": 3900},
            {"code": f"B{n}", "attributes": {"颜色": "白"}, "price_fen": 4400},
        ]
        actor = _actor(merchant)
        product = catalog.do_create_product(
            session,
            self.clock,
            actor,
            store_id=None,
            category_id=leaf,
            title=f"测试商品 {n} 手机壳",
            skus=skus,
        )
        if listed:
            catalog.do_list_product(session, self.clock, actor, product.id)
        return {
            "id": product.id,
            "title": product.title,
            "skus": [{"id": s.id, "code": s.code} for s in catalog.skus_of(session, product.id)],
        }


def _actor(user: User) -> Actor:
    return Actor(user.id, Role(user.role), user.store_id)


def headers_of(user: User | None) -> dict[str, str]:
    return user.headers if user is not None else {}


def snapshot(world: World) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the static category tree, in primary-key order."""
    with world.database.engine.connect() as conn:
        return {name: [tuple(r) for r in conn.exec_driver_sql(sql)] for name, sql in _SNAPSHOT_SQL.items()}


def _select_all(table: Table) -> str:
    key = ", ".join(f'"{c.name}"' for c in table.primary_key.columns)
    return f'SELECT * FROM "{table.name}" ORDER BY {key}'


# Plain SQL, built once: the snapshot runs twice per case over every table.
_SNAPSHOT_SQL = {t.name: _select_all(t) for t in Base.metadata.sorted_tables if t.name != "categories"}


# --- the rows ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    json: dict[str, Any] | None = None


def product_body(scene: Scene, store_id: int | None) -> dict[str, Any]:
    n = next(names)
    body: dict[str, Any] = {
        "category_id": scene.world.leaf_id(),
        "title": f"矩阵商品 {n}",
        "skus": [{"code": f"M{n}", "price_fen": 2900}],
    }
    if store_id is not None:
        body["store_id"] = store_id
    return body


def draft_id(s: Scene) -> int:
    assert s.draft is not None
    return int(s.draft["id"])


def listed_id(s: Scene) -> int:
    assert s.listed is not None
    return int(s.listed["id"])


def bystander_id(s: Scene) -> int:
    assert s.bystander is not None
    return s.bystander.id


def sku_of(product: dict[str, Any] | None) -> int:
    assert product is not None
    return int(product["skus"][0]["id"])


@dataclass(frozen=True)
class Endpoint:
    route: str  # "METHOD /path/{param}" as the app declares it, without the /api/v1 prefix
    call: Callable[[Scene], Call]
    store_a: str = "active"  # the state store A is in for this row
    needs: tuple[str, ...] = ()  # what else the scene must hold (see SceneBuilder)
    mutates: bool = False  # a 2xx must change the database; a refusal (and a GET) never does
    # More checks on a 2xx response: what the caller may (not) see in it.
    check: Callable[[Scene, str, dict[str, Any]], None] | None = None
    shared: bool = False  # refusals and reads only: run every role in one scene (see shared_test)


UNKNOWN = 987_654_321  # an id nothing has: a signed-in caller gets its 404 (or 422 in a body), anonymous 401


def ask(
    route: str,
    path: str | Callable[[Scene], str] | None = None,
    json: dict[str, Any] | Callable[[Scene], dict[str, Any]] | None = None,
    **options: Any,
) -> Endpoint:
    """A row's request: `path` under /api/v1 (default: the route's own), either may be built from the scene."""
    method, _, route_path = route.partition(" ")

    def call(scene: Scene) -> Call:
        where = path(scene) if callable(path) else (path or route_path)
        return Call(method, API + where, json(scene) if callable(json) else json)

    return Endpoint(route, call, **options)


@dataclass(frozen=True)
class Row:
    label: str  # the case, as the domain's MATRIX names it
    expect: dict[str, int | None]
    endpoint: Endpoint

    @property
    def route(self) -> str:
        return self.endpoint.route


def rows(matrix: dict[str, dict[str, int | None]], endpoints: dict[str, Endpoint]) -> list[Row]:
    """A domain's table and its requests, which must name the same cases in the same order."""
    assert list(matrix) == list(endpoints), "MATRIX and ENDPOINTS must list the same cases"
    for label, expected in matrix.items():
        assert list(expected) == list(ROLES), label
        method, _, path = endpoints[label].route.partition(" ")
        assert method.isupper() and path.startswith("/") and not path.startswith(API), f"{label}: route {method} {path}"
    return [Row(label, matrix[label], endpoints[label]) for label in matrix]


def _cells(table: list[Row]) -> list[tuple[Row, str]]:
    return [(r, role) for r in table for role in ROLES if r.expect[role] is not None]


def _request(client: TestClient, r: Row, scene: Scene, role: str) -> Any:
    call = r.endpoint.call(scene)
    method, _, route_path = r.route.partition(" ")
    regex, _, _ = compile_path(API + route_path)
    assert call.method == method and regex.match(call.path.split("?")[0]), f"{r.label}: {call} is not {r.route}"
    return client.request(call.method, call.path, json=call.json, headers=headers_of(scene.callers[role]))


def _check_answer(r: Row, scene: Scene, role: str, response: Any) -> None:
    expected = r.expect[role]
    assert response.status_code == expected, f"{r.label} as {role}: {response.status_code} {response.text}"
    if response.is_success:
        if r.endpoint.check is not None:
            r.endpoint.check(scene, role, response.json())
    else:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["status"] == expected


def authorization_test(table: list[Row]) -> Callable[..., None]:
    """The test over a domain's rows (but its shared ones): one fresh scene per (row, role) cell."""
    cells = [(r, role) for r, role in _cells(table) if not r.endpoint.shared]

    @pytest.mark.parametrize(("r", "role"), cells, ids=[f"{r.label} | {role}" for r, role in cells])
    def test_authorization_matrix(build: SceneBuilder, world: World, client: TestClient, r: Row, role: str) -> None:
        spec = r.endpoint
        scene = build(spec.store_a, roles=(role,), needs=spec.needs)
        before = snapshot(world)
        response = _request(client, r, scene, role)
        _check_answer(r, scene, role, response)
        after = snapshot(world)
        if response.is_success and spec.mutates:
            assert after != before, f"{r.label} as {role} answered {response.status_code} but changed nothing"
        else:
            assert after == before, f"{r.label} as {role} ({response.status_code}) changed the database"

    return test_authorization_matrix


def shared_test(table: list[Row]) -> Callable[..., None]:
    """The test over a domain's shared rows: every cell in one scene (store A active, everything built).

    Every failing cell is reported at once, so a new row's table can be read off one run.
    """
    shared = [r for r in table if r.endpoint.shared]
    for r in shared:
        assert r.endpoint.store_a == "active" and not r.endpoint.mutates, f"{r.label} cannot share a scene"

    def test_shared_authorization_matrix(build: SceneBuilder, world: World, client: TestClient) -> None:
        scene = build()
        before = snapshot(world)
        failures = []
        for r in shared:
            for role in ROLES:
                if r.expect[role] is None:
                    continue
                response = _request(client, r, scene, role)
                try:
                    _check_answer(r, scene, role, response)
                except AssertionError as exc:
                    failures.append(str(exc).splitlines()[0])
            after = snapshot(world)
            if after != before:
                failures.append(f"{r.label} changed the database: a row that changes it cannot be shared")
                before = after
        assert not failures, "\n".join(failures)

    return test_shared_authorization_matrix
