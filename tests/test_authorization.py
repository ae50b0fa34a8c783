"""The authorisation matrix: every role × every endpoint family, with the expected status of each cell.

Rules (core/auth.py and the services):
- anonymous callers get 401 on anything that needs signing in, before anything is looked up;
- a merchant's staff read and change only their own store's data: another store's non-public data is a
  404 (it does not leak), another store's public data they try to change is a 403;
- operators act on any store; shoppers (and, for now, creators) only on their own account;
- only operators review / suspend / reinstate stores, list accounts and change the platform policy;
- a store's owner or an operator closes it;
- public data (active stores, listed products of active stores, brands, product cards, the policy) is
  readable by everyone, anonymous callers included.

Every case builds a fresh world (the fixtures are per test): store A belongs to merchant A and, as the
row needs, holds a draft and a listed product; store B belongs to merchant B. A refused request must
change nothing: every table but the (static) category tree is snapshotted before and compared after; an
allowed change must change something.
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

from tests.factories import PASSWORD, User, World
from yinli.accounts import service as accounts
from yinli.catalog import service as catalog
from yinli.core.auth import Actor, Role
from yinli.core.clock import Clock
from yinli.core.settings import Settings
from yinli.merchants import service as merchants
from yinli.models import Base

ANON, SHOPPER, CREATOR, MERCHANT_A, MERCHANT_B, OPERATOR = ROLES = (
    "anonymous",
    "shopper",
    "creator",
    "merchant_a",
    "merchant_b",
    "operator",
)


def row(anonymous: int, shopper: int, creator: int, merchant_a: int, merchant_b: int, operator: int) -> dict[str, int]:
    return dict(zip(ROLES, (anonymous, shopper, creator, merchant_a, merchant_b, operator), strict=True))


# Expected status per (endpoint, role). "A" is merchant A's store, "draft"/"listed" are its products.
# The store A state a row needs (active unless the row says otherwise) is in ENDPOINTS below.
# fmt: off
MATRIX: dict[str, dict[str, int]] = {
    #                                                          anon  shopper creator  m.A   m.B   op
    # --- accounts ---
    "GET /me":                                             row(401,  200,    200,     200,  200,  200),
    "PATCH /me":                                           row(401,  200,    200,     200,  200,  200),
    "GET /accounts":                                       row(401,  403,    403,     403,  403,  200),
    "GET /accounts/{someone else}":                        row(401,  404,    404,     404,  404,  200),
    # --- stores ---
    "POST /stores (apply)":                                row(401,  403,    403,     409,  409,  403),
    "GET /stores/{A}":                                     row(200,  200,    200,     200,  200,  200),
    "GET /stores/{A, suspended}":                          row(404,  404,    404,     200,  404,  200),
    "GET /stores":                                         row(200,  200,    200,     200,  200,  200),
    "GET /stores?status=applied":                          row(401,  403,    403,     403,  403,  200),
    "PATCH /stores/{A}":                                   row(401,  403,    403,     200,  403,  200),
    "PATCH /stores/{A, suspended}":                        row(401,  404,    404,     200,  404,  200),
    "POST /stores/{A, applied}/review":                    row(401,  404,    404,     403,  404,  200),
    "POST /stores/{A}/suspend":                            row(401,  403,    403,     403,  403,  200),
    "POST /stores/{A, suspended}/reinstate":               row(401,  404,    404,     403,  404,  200),
    "POST /stores/{A}/close":                              row(401,  403,    403,     200,  403,  200),
    "POST /stores/{A, suspended}/close":                   row(401,  404,    404,     403,  404,  200),
    # --- platform policy ---
    "GET /platform/policy":                                row(200,  200,    200,     200,  200,  200),
    "PATCH /platform/policy":                              row(401,  403,    403,     403,  403,  200),
    # --- brands ---
    "GET /brands":                                         row(200,  200,    200,     200,  200,  200),
    "POST /brands":                                        row(401,  403,    403,     201,  201,  201),
    # --- products ---
    "POST /products {store_id: A}":                        row(401,  403,    403,     201,  403,  201),
    "POST /products {store_id: A, applied}":               row(401,  403,    403,     201,  422,  201),
    "GET /products/{draft}":                               row(404,  404,    404,     200,  404,  200),
    "GET /products/{listed}":                              row(200,  200,    200,     200,  200,  200),
    "GET /products/{listed, A suspended}":                 row(404,  404,    404,     200,  404,  200),
    "GET /products?store_id=A":                            row(200,  200,    200,     200,  200,  200),
    "GET /products?store_id=A&status=draft":               row(401,  403,    403,     200,  403,  200),
    "PATCH /products/{listed}":                            row(401,  403,    403,     200,  403,  200),
    "PATCH /products/{draft}":                             row(401,  404,    404,     200,  404,  200),
    "POST /products/{draft}/list":                         row(401,  404,    404,     200,  404,  200),
    "POST /products/{listed}/delist":                      row(401,  403,    403,     200,  403,  200),
    "POST /products/{listed}/skus":                        row(401,  403,    403,     201,  403,  201),
    "POST /products/{draft}/skus":                         row(401,  404,    404,     201,  404,  201),
    # --- SKUs and prices ---
    "GET /skus/{sku of draft}":                            row(404,  404,    404,     200,  404,  200),
    "PATCH /skus/{sku of listed}":                         row(401,  403,    403,     200,  403,  200),
    "PATCH /skus/{sku of draft}":                          row(401,  404,    404,     200,  404,  200),
    "GET /skus/{sku of listed}/price-history":             row(200,  200,    200,     200,  200,  200),
    "GET /skus/{sku of draft}/price-history":              row(404,  404,    404,     200,  404,  200),
    # --- product cards ---
    "GET /product-cards":                                  row(200,  200,    200,     200,  200,  200),
    "GET /products/{listed}/card":                         row(200,  200,    200,     200,  200,  200),
    "GET /products/{draft}/card":                          row(404,  404,    404,     200,  404,  200),
}
# fmt: on


# --- the world each case runs in ------------------------------------------------------------------------

_names = itertools.count(1)
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
    trips per case and more than double the file's run time. The requests under test all go through the API.
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
            if CREATOR in roles:
                callers[CREATOR] = self._person(session, Role.CREATOR)
            bystander = self._person(session, Role.SHOPPER) if BYSTANDER in needs else None
        store_b = merchant_b.store_id if merchant_b else None
        return Scene(self.world, callers, merchant_a.store_id, store_b, draft, listed, bystander)

    def _person(self, session: Session, role: Role, **extra: Any) -> User:
        n = next(_names)
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
        n = next(_names)
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


@pytest.fixture
def build(world: World, clock: Clock, settings: Settings) -> SceneBuilder:
    return SceneBuilder(world, clock, settings)


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


# --- the endpoints ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    json: dict[str, Any] | None = None


def product_body(scene: Scene, store_id: int | None) -> dict[str, Any]:
    n = next(_names)
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
    call: Callable[[Scene], Call]
    store_a: str = "active"  # the state store A is in for this row
    needs: tuple[str, ...] = ()  # what else the scene must hold (see SceneBuilder)
    mutates: bool = False  # a 2xx must change the database; a refusal (and a GET) never does
    # More checks on a 2xx response: what the caller may (not) see in it.
    check: Callable[[Scene, str, dict[str, Any]], None] | None = None


def check_me(scene: Scene, role: str, body: dict[str, Any]) -> None:
    caller = scene.callers[role]
    assert caller is not None and body["id"] == caller.id


def check_someone_else(scene: Scene, role: str, body: dict[str, Any]) -> None:
    assert scene.bystander is not None and body["id"] == scene.bystander.id


def check_store_private_fields(scene: Scene, role: str, body: dict[str, Any]) -> None:
    if role in (MERCHANT_A, OPERATOR):
        assert body["owner_user_id"] == scene.merchant_a.id
        assert body["applied_at"] is not None
    else:  # the store's private fields stay hidden from everyone else
        assert body["owner_user_id"] is None
        assert body["deposit_required"] is None and body["applied_at"] is None


def check_store_list(scene: Scene, role: str, body: dict[str, Any]) -> None:
    ids = {s["id"] for s in body["items"]}
    assert scene.store_b in ids
    assert (scene.store_a in ids) is (role == OPERATOR)  # store A is suspended: only operators list it


def check_applied_list(scene: Scene, role: str, body: dict[str, Any]) -> None:
    assert [s["id"] for s in body["items"]] == [scene.store_a]


def check_product_list(scene: Scene, role: str, body: dict[str, Any]) -> None:
    ids = [p["id"] for p in body["items"]]
    if role in (MERCHANT_A, OPERATOR):  # the store's staff and operators see the draft too
        assert ids == [listed_id(scene), draft_id(scene)]
    else:
        assert ids == [listed_id(scene)]


def check_draft_list(scene: Scene, role: str, body: dict[str, Any]) -> None:
    assert [p["id"] for p in body["items"]] == [draft_id(scene)]


def check_cards(scene: Scene, role: str, body: dict[str, Any]) -> None:
    assert [c["product_id"] for c in body["items"]] == [listed_id(scene)]  # never a draft, for anyone


def check_created_in_a(scene: Scene, role: str, body: dict[str, Any]) -> None:
    assert body["store_id"] == scene.store_a and body["status"] == "draft"


NEW_SKU = {"code": "NEW", "price_fen": 1000}

ENDPOINTS: dict[str, Endpoint] = {
    # --- accounts ---
    "GET /me": Endpoint(lambda s: Call("GET", "/api/v1/me"), check=check_me),
    "PATCH /me": Endpoint(lambda s: Call("PATCH", "/api/v1/me", {"display_name": "新名字"}), mutates=True),
    "GET /accounts": Endpoint(lambda s: Call("GET", "/api/v1/accounts")),
    "GET /accounts/{someone else}": Endpoint(
        lambda s: Call("GET", f"/api/v1/accounts/{bystander_id(s)}"),
        needs=(BYSTANDER,),
        check=check_someone_else,
    ),
    # --- stores ---
    "POST /stores (apply)": Endpoint(lambda s: Call("POST", "/api/v1/stores", {"name": f"新店{next(_names)}"})),
    "GET /stores/{A}": Endpoint(lambda s: Call("GET", f"/api/v1/stores/{s.store_a}"), check=check_store_private_fields),
    "GET /stores/{A, suspended}": Endpoint(lambda s: Call("GET", f"/api/v1/stores/{s.store_a}"), store_a="suspended"),
    "GET /stores": Endpoint(
        lambda s: Call("GET", "/api/v1/stores"), store_a="suspended", needs=(STORE_B,), check=check_store_list
    ),
    "GET /stores?status=applied": Endpoint(
        lambda s: Call("GET", "/api/v1/stores?status=applied"),
        store_a="applied",
        needs=(STORE_B,),
        check=check_applied_list,
    ),
    "PATCH /stores/{A}": Endpoint(
        lambda s: Call("PATCH", f"/api/v1/stores/{s.store_a}", {"description": "改过"}), mutates=True
    ),
    "PATCH /stores/{A, suspended}": Endpoint(
        lambda s: Call("PATCH", f"/api/v1/stores/{s.store_a}", {"description": "改过"}),
        store_a="suspended",
        mutates=True,
    ),
    "POST /stores/{A, applied}/review": Endpoint(
        lambda s: Call("POST", f"/api/v1/stores/{s.store_a}/review", {"decision": "approve"}),
        store_a="applied",
        mutates=True,
    ),
    "POST /stores/{A}/suspend": Endpoint(
        lambda s: Call("POST", f"/api/v1/stores/{s.store_a}/suspend", {"reason": "fake goods"}), mutates=True
    ),
    "POST /stores/{A, suspended}/reinstate": Endpoint(
        lambda s: Call("POST", f"/api/v1/stores/{s.store_a}/reinstate", {"reason": "fixed"}),
        store_a="suspended",
        mutates=True,
    ),
    "POST /stores/{A}/close": Endpoint(
        lambda s: Call("POST", f"/api/v1/stores/{s.store_a}/close", {"reason": "done"}), mutates=True
    ),
    "POST /stores/{A, suspended}/close": Endpoint(
        lambda s: Call("POST", f"/api/v1/stores/{s.store_a}/close", {"reason": "done"}),
        store_a="suspended",
        mutates=True,
    ),
    # --- platform policy ---
    "GET /platform/policy": Endpoint(lambda s: Call("GET", "/api/v1/platform/policy")),
    "PATCH /platform/policy": Endpoint(
        lambda s: Call("PATCH", "/api/v1/platform/policy", {"new_merchant_days": 45}), mutates=True
    ),
    # --- brands ---
    "GET /brands": Endpoint(lambda s: Call("GET", "/api/v1/brands")),
    "POST /brands": Endpoint(lambda s: Call("POST", "/api/v1/brands", {"name": f"品牌{next(_names)}"}), mutates=True),
    # --- products ---
    "POST /products {store_id: A}": Endpoint(
        lambda s: Call("POST", "/api/v1/products", product_body(s, s.store_a)), mutates=True, check=check_created_in_a
    ),
    "POST /products {store_id: A, applied}": Endpoint(
        lambda s: Call("POST", "/api/v1/products", product_body(s, s.store_a)),
        store_a="applied",
        mutates=True,
        check=check_created_in_a,
    ),
    "GET /products/{draft}": Endpoint(lambda s: Call("GET", f"/api/v1/products/{draft_id(s)}"), needs=(DRAFT,)),
    "GET /products/{listed}": Endpoint(lambda s: Call("GET", f"/api/v1/products/{listed_id(s)}"), needs=(LISTED,)),
    "GET /products/{listed, A suspended}": Endpoint(
        lambda s: Call("GET", f"/api/v1/products/{listed_id(s)}"), store_a="suspended", needs=(LISTED,)
    ),
    "GET /products?store_id=A": Endpoint(
        lambda s: Call("GET", f"/api/v1/products?store_id={s.store_a}"),
        needs=(DRAFT, LISTED),
        check=check_product_list,
    ),
    "GET /products?store_id=A&status=draft": Endpoint(
        lambda s: Call("GET", f"/api/v1/products?store_id={s.store_a}&status=draft"),
        needs=(DRAFT, LISTED),
        check=check_draft_list,
    ),
    "PATCH /products/{listed}": Endpoint(
        lambda s: Call("PATCH", f"/api/v1/products/{listed_id(s)}", {"title": "改过的标题"}),
        needs=(LISTED,),
        mutates=True,
    ),
    "PATCH /products/{draft}": Endpoint(
        lambda s: Call("PATCH", f"/api/v1/products/{draft_id(s)}", {"title": "改过的标题"}),
        needs=(DRAFT,),
        mutates=True,
    ),
    "POST /products/{draft}/list": Endpoint(
        lambda s: Call("POST", f"/api/v1/products/{draft_id(s)}/list"), needs=(DRAFT,), mutates=True
    ),
    "POST /products/{listed}/delist": Endpoint(
        lambda s: Call("POST", f"/api/v1/products/{listed_id(s)}/delist"), needs=(LISTED,), mutates=True
    ),
    "POST /products/{listed}/skus": Endpoint(
        lambda s: Call("POST", f"/api/v1/products/{listed_id(s)}/skus", NEW_SKU), needs=(LISTED,), mutates=True
    ),
    "POST /products/{draft}/skus": Endpoint(
        lambda s: Call("POST", f"/api/v1/products/{draft_id(s)}/skus", NEW_SKU), needs=(DRAFT,), mutates=True
    ),
    # --- SKUs and prices ---
    "GET /skus/{sku of draft}": Endpoint(lambda s: Call("GET", f"/api/v1/skus/{sku_of(s.draft)}"), needs=(DRAFT,)),
    "PATCH /skus/{sku of listed}": Endpoint(
        lambda s: Call("PATCH", f"/api/v1/skus/{sku_of(s.listed)}", {"price_fen": 1234}), needs=(LISTED,), mutates=True
    ),
    "PATCH /skus/{sku of draft}": Endpoint(
        lambda s: Call("PATCH", f"/api/v1/skus/{sku_of(s.draft)}", {"price_fen": 1234}), needs=(DRAFT,), mutates=True
    ),
    "GET /skus/{sku of listed}/price-history": Endpoint(
        lambda s: Call("GET", f"/api/v1/skus/{sku_of(s.listed)}/price-history"), needs=(LISTED,)
    ),
    "GET /skus/{sku of draft}/price-history": Endpoint(
        lambda s: Call("GET", f"/api/v1/skus/{sku_of(s.draft)}/price-history"), needs=(DRAFT,)
    ),
    # --- product cards ---
    "GET /product-cards": Endpoint(
        lambda s: Call("GET", "/api/v1/product-cards"), needs=(DRAFT, LISTED), check=check_cards
    ),
    "GET /products/{listed}/card": Endpoint(
        lambda s: Call("GET", f"/api/v1/products/{listed_id(s)}/card"), needs=(LISTED,)
    ),
    "GET /products/{draft}/card": Endpoint(
        lambda s: Call("GET", f"/api/v1/products/{draft_id(s)}/card"), needs=(DRAFT,)
    ),
}

CELLS = [(endpoint, role, expected[role]) for endpoint, expected in MATRIX.items() for role in ROLES]


def test_matrix_covers_every_endpoint_and_role() -> None:
    assert list(MATRIX) == list(ENDPOINTS)
    assert all(list(expected) == list(ROLES) for expected in MATRIX.values())


@pytest.mark.parametrize(("endpoint", "role", "expected"), CELLS, ids=[f"{e} | {r}" for e, r, _ in CELLS])
def test_authorization_matrix(
    build: SceneBuilder, world: World, client: TestClient, endpoint: str, role: str, expected: int
) -> None:
    spec = ENDPOINTS[endpoint]
    scene = build(spec.store_a, roles=(role,), needs=spec.needs)
    call = spec.call(scene)
    before = snapshot(world)

    r = client.request(call.method, call.path, json=call.json, headers=headers_of(scene.callers[role]))

    assert r.status_code == expected, f"{endpoint} as {role}: {r.status_code} {r.text}"
    after = snapshot(world)
    if r.is_success:
        if spec.check is not None:
            spec.check(scene, role, r.json())
        if spec.mutates:
            assert after != before, f"{endpoint} as {role} answered {r.status_code} but changed nothing"
        else:
            assert after == before
    else:
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["status"] == expected
        assert after == before, f"refused {endpoint} as {role} changed the database"


# --- the rules behind some cells, spelled out -----------------------------------------------------------


def test_operator_creates_a_product_in_any_store_by_giving_store_id(
    build: SceneBuilder, world: World, client: TestClient
) -> None:
    scene = build()
    op = headers_of(scene.callers[OPERATOR])
    for store_id in (scene.store_a, scene.store_b):
        r = client.post("/api/v1/products", json=product_body(scene, store_id), headers=op)
        assert r.status_code == 201, r.text
        assert r.json()["store_id"] == store_id and r.json()["status"] == "draft"
    # an operator has no store of their own, so they must say which
    r = client.post("/api/v1/products", json=product_body(scene, None), headers=op)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "store_id"


def test_merchant_cannot_create_a_product_in_another_store(
    build: SceneBuilder, world: World, client: TestClient
) -> None:
    scene = build()
    b = scene.callers[MERCHANT_B]
    assert b is not None
    before = snapshot(world)
    # store A is public (active) but merchant B does not manage it: 403
    r = client.post("/api/v1/products", json=product_body(scene, scene.store_a), headers=b.headers)
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "forbidden"
    # a store that does not exist is bad input, as is one merchant B may not even see (below)
    r = client.post("/api/v1/products", json=product_body(scene, 10**9), headers=b.headers)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "store_id"
    assert snapshot(world) == before
    # without store_id a merchant's product goes to their own store, never another one
    r = client.post("/api/v1/products", json=product_body(scene, None), headers=b.headers)
    assert r.status_code == 201, r.text
    assert r.json()["store_id"] == scene.store_b


def test_a_store_merchant_b_cannot_see_looks_like_one_that_does_not_exist(
    build: SceneBuilder, world: World, client: TestClient
) -> None:
    scene = build(store_a="applied", needs=(STORE_B,))
    b = scene.callers[MERCHANT_B]
    assert b is not None
    hidden = client.post("/api/v1/products", json=product_body(scene, scene.store_a), headers=b.headers)
    missing = client.post("/api/v1/products", json=product_body(scene, 10**9), headers=b.headers)
    assert hidden.status_code == missing.status_code == 422
    assert hidden.json()["code"] == missing.json()["code"]
    assert hidden.json()["errors"][0]["field"] == missing.json()["errors"][0]["field"] == "store_id"


def test_a_hidden_draft_looks_like_a_missing_product(build: SceneBuilder, world: World, client: TestClient) -> None:
    scene = build()
    for role in (ANON, SHOPPER, CREATOR, MERCHANT_B):
        headers = headers_of(scene.callers[role])
        hidden = client.get(f"/api/v1/products/{draft_id(scene)}", headers=headers)
        missing = client.get(f"/api/v1/products/{10**9}", headers=headers)
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json()["code"] == missing.json()["code"] == "not_found"


def test_refused_changes_leave_the_product_and_store_as_they_were(
    build: SceneBuilder, world: World, client: TestClient
) -> None:
    scene = build()
    assert scene.listed is not None
    a, b, shopper = scene.callers[MERCHANT_A], scene.callers[MERCHANT_B], scene.callers[SHOPPER]
    assert a is not None and b is not None and shopper is not None
    pid, sku = scene.listed["id"], sku_of(scene.listed)
    store_before = client.get(f"/api/v1/stores/{scene.store_a}", headers=a.headers).json()
    attempts = [
        ("PATCH", f"/api/v1/products/{pid}", {"title": "被人改了"}),
        ("PATCH", f"/api/v1/skus/{sku}", {"price_fen": 1}),
        ("POST", f"/api/v1/products/{pid}/delist", None),
        ("POST", f"/api/v1/products/{pid}/skus", {"code": "EVIL", "price_fen": 1}),
        ("PATCH", f"/api/v1/stores/{scene.store_a}", {"name": "被人改了"}),
        ("POST", f"/api/v1/stores/{scene.store_a}/suspend", {"reason": "spite"}),
        ("POST", f"/api/v1/stores/{scene.store_a}/close", {"reason": "spite"}),
    ]
    for headers, status in ((b.headers, 403), (shopper.headers, 403), ({}, 401)):
        for method, path, body in attempts:
            r = client.request(method, path, json=body, headers=headers)
            assert r.status_code == status, f"{method} {path}: {r.text}"

    product = client.get(f"/api/v1/products/{pid}", headers=a.headers).json()
    assert product["title"] == scene.listed["title"]
    assert product["status"] == "listed"
    assert [s["price"]["amount"] for s in product["skus"]] == [3900, 4400]
    assert [s["code"] for s in product["skus"]] == [s["code"] for s in scene.listed["skus"]]
    history = client.get(f"/api/v1/skus/{sku}/price-history", headers=a.headers).json()
    assert [h["price"]["amount"] for h in history["items"]] == [3900]
    assert client.get(f"/api/v1/stores/{scene.store_a}", headers=a.headers).json() == store_before
