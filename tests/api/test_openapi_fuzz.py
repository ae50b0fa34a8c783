"""Schemathesis over the app's own OpenAPI document: no 5xx, and every response is one the document promises
(a documented status code and content type, a body matching the documented schema).

Each API operation is its own pytest item with a fresh database holding a small marketplace (`scene`): an
operator, a merchant with an active store, a brand, a listed and a draft product, a rival merchant with a
listed and a draft product, a merchant whose store awaits review, and a shopper. (On SQLite the scene is
built once and copied; on PostgreSQL it is built again after conftest truncates the tables.) An
operation's examples share that database, so they build on each other's writes.

Random ids almost always miss, so the hooks below draw ids in paths, queries and bodies either as
generated or from the scene's real ones: that is what gets the calls past the 404s. Each case is sent by
one caller: anonymous, the operator or the merchant, drawn with the case (coverage cases, schemathesis's
boundary values, wrong types and missing fields, get one picked by their content).

Some operations must have succeeded, and the signed-in callers must never have been refused as
unauthenticated, so the run cannot quietly turn into a stream of 401s and 404s that checks nothing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import User, World
from yinli.api.app import create_app
from yinli.core.clock import SimulatedClock
from yinli.core.db import Database, is_sqlite
from yinli.core.settings import Settings

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance, status_code_conformance]

FUZZ = settings(
    max_examples=25,  # per operation, on top of the coverage cases
    # The same examples on every run, so CI's verdict is about the change, not the draw. To explore, run
    # with YINLI_FUZZ_EXPLORE=1 (fresh random examples each run) and turn what it finds into fixed tests.
    derandomize=not os.environ.get("YINLI_FUZZ_EXPLORE"),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# The document comes from the app itself; the app that answers is each test's own (`call(app=...)`).
_spec_settings = Settings(  # type: ignore[call-arg]
    _env_file=None,
    data_dir=Path(tempfile.gettempdir()) / "yinli-openapi",
    database_url="sqlite://",
    jobs_interval_seconds=0,
)
_spec_app = create_app(_spec_settings, db=Database("sqlite://"))
# The coverage phase is kept to its positive cases (boundary values that reach the handlers) and leaves
# out other HTTP methods (405s, which checks skip). Its negative cases (every field of the wrong type,
# out of range, missing: two thirds of all requests) stop at validation before any handler runs; the
# fuzzing phase still draws negative cases, and test_bad_input.py refuses bad input case by case.
CONFIG = schemathesis.Config.from_dict(
    {"phases": {"coverage": {"unexpected-methods": [], "generation": {"mode": "positive"}}}}
)
schema = schemathesis.openapi.from_asgi("/openapi.json", _spec_app, config=CONFIG)


# --- the scene ----------------------------------------------------------------------------------------


@dataclass
class Scene:
    operator: User
    merchant: User
    ids: dict[str, list[int]] = field(default_factory=dict)

    def callers(self) -> dict[str, User | None]:
        return {"anonymous": None, "operator": self.operator, "merchant": self.merchant}


def build_scene(world: World) -> Scene:
    client = world.client
    operator, merchant, rival, shopper = world.operator, world.merchant(), world.merchant(), world.shopper()
    applicant = world.merchant(approve=False)
    r = client.post("/api/v1/brands", json={"name": f"品牌{merchant.id}"}, headers=merchant.headers)
    assert r.status_code == 201, r.text
    brand_id = r.json()["id"]
    products = [
        world.product(merchant, brand_id=brand_id),
        world.product(merchant, listed=False),
        world.product(rival),
        world.product(rival, listed=False),
    ]
    leaf = world.leaf_id()
    r = client.get(f"/api/v1/categories/{leaf}")
    assert r.status_code == 200, r.text
    categories = [leaf] + [c["id"] for c in reversed(r.json()["ancestors"])]  # leaf, parent, root
    ids = {
        "user_id": [operator.id, merchant.id, rival.id, shopper.id],
        "store_id": [s for s in (merchant.store_id, rival.store_id, applicant.store_id) if s is not None],
        "product_id": [p["id"] for p in products],
        "sku_id": [s["id"] for p in products for s in p["skus"]],
        "category_id": categories,
        "parent_id": categories,
        "main_category_id": categories,
        "brand_id": [brand_id],
    }
    return Scene(operator, merchant, ids)


# The running test's real ids, read by the hooks as cases are drawn (tests run one at a time per process).
# Bodies get the leaf category most often: a product needs one.
KNOWN_IDS: dict[str, list[int]] = {}
KNOWN_BODY_IDS: dict[str, list[int]] = {}


def _with_known_ids(values: Any, known: dict[str, list[int]]) -> st.SearchStrategy[Any]:
    """`values` as generated, or with some of its id fields swapped for real ids."""
    if not isinstance(values, dict):
        return st.just(values)
    # Only well-typed ints are swapped, so a negative case (a string where an id goes) stays negative.
    names = [k for k, v in values.items() if k in known and isinstance(v, int) and not isinstance(v, bool)]
    if not names:
        return st.just(values)
    choices = {k: st.sampled_from([*known[k], values[k]]) for k in names}
    return st.fixed_dictionaries(choices).map(lambda swapped: {**values, **swapped})


@schema.hook
def flatmap_path_parameters(_context: Any, path_parameters: Any) -> st.SearchStrategy[Any]:
    return _with_known_ids(path_parameters, KNOWN_IDS)


@schema.hook
def flatmap_query(_context: Any, query: Any) -> st.SearchStrategy[Any]:
    return _with_known_ids(query, KNOWN_IDS)


@schema.hook
def flatmap_body(_context: Any, body: Any) -> st.SearchStrategy[Any]:
    return _with_known_ids(body, KNOWN_BODY_IDS)


# On SQLite the scene is built once, into a file each test's database starts as a copy of (its tokens are
# issued at the start of conftest's clock, as in any test); on PostgreSQL it is built in each test.
SCENE_TIME = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def prebuilt_scene(template_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Scene] | None:
    if not is_sqlite(template_url):
        return None
    path = tmp_path_factory.mktemp("scene") / "scene.db"
    shutil.copyfile(template_url.removeprefix("sqlite:///"), path)
    db = Database(f"sqlite:///{path}")
    settings = Settings(_env_file=None, data_dir=path.parent, database_url=db.url, jobs_interval_seconds=0)  # type: ignore[call-arg]
    with TestClient(create_app(settings, db=db, clock=SimulatedClock(SCENE_TIME))) as client:
        built = build_scene(World(client, db))
    db.dispose()  # closing SQLite's last connection checkpoints the WAL into the file
    return path, built


@pytest.fixture
def database(database: Database, prebuilt_scene: tuple[Path, Scene] | None) -> Database:
    """conftest's database, on SQLite with the prebuilt scene copied in before anything connects."""
    if prebuilt_scene is not None:
        database.dispose()
        shutil.copyfile(prebuilt_scene[0], database.url.removeprefix("sqlite:///"))
    return database


@pytest.fixture
def scene(world: World, prebuilt_scene: tuple[Path, Scene] | None) -> Iterator[Scene]:
    built = prebuilt_scene[1] if prebuilt_scene is not None else build_scene(world)
    leaf, parent, _root = built.ids["category_id"]
    KNOWN_IDS.update(built.ids)
    KNOWN_BODY_IDS.update(built.ids, category_id=[leaf, leaf, leaf, parent], main_category_id=[leaf, parent])
    yield built
    KNOWN_IDS.clear()
    KNOWN_BODY_IDS.clear()


# --- who calls --------------------------------------------------------------------------------------

ROLES = ("merchant", "operator", "anonymous")  # Hypothesis favours the first: the caller who reaches most
# The caller of each fuzzed case is drawn with it (so Hypothesis varies, replays and shrinks it like any
# other part of the case); cases are slotted objects, so the draw is kept here by id until the test runs.
_DRAWN_CALLER: dict[int, str] = {}


def _remember_caller(case: Any, role: str) -> Any:
    _DRAWN_CALLER[id(case)] = role
    return case


@schema.hook
def flatmap_case(_context: Any, case: Any) -> st.SearchStrategy[Any]:
    return st.sampled_from(ROLES).map(lambda role: _remember_caller(case, role))


def caller_of(case: Any) -> str:
    """The drawn caller; coverage cases (not drawn) get one picked by their content."""
    role = _DRAWN_CALLER.pop(id(case), None)
    if role is None:
        content = repr((case.path_parameters, case.query, case.headers, case.body)).encode()
        role = ROLES[zlib.crc32(content) % len(ROLES)]
    return role


# --- what the run must have reached -------------------------------------------------------------------

# Operations that, given the scene's ids, succeed for many cases: each must have succeeded at least once,
# so the run cannot quietly turn into a stream of 404s (ids that miss) or 422s that checks little.
MUST_SUCCEED = {
    "GET /api/v1/health",
    "GET /api/v1/me",
    "GET /api/v1/platform/policy",
    "GET /api/v1/accounts/{user_id}",
    "GET /api/v1/stores/{store_id}",
    "GET /api/v1/categories/{category_id}",
    "GET /api/v1/products/{product_id}",
    "GET /api/v1/products/{product_id}/card",
    "GET /api/v1/skus/{sku_id}/price-history",
    "PATCH /api/v1/platform/policy",
    "PATCH /api/v1/stores/{store_id}",
    "PATCH /api/v1/products/{product_id}",
    "PATCH /api/v1/skus/{sku_id}",
}
# And the signed-in callers' tokens must have been taken throughout (no 401 but for wrong credentials at
# sign-in), except where the fuzzing itself may end the session: signing out, changing the password.
MAY_END_THE_SESSION = {"POST /api/v1/auth/logout", "PATCH /api/v1/me"}


@dataclass
class Seen:
    label: str = ""
    statuses: dict[str, list[int]] = field(default_factory=lambda: {role: [] for role in ROLES})
    refusals: dict[str, list[str]] = field(default_factory=lambda: {role: [] for role in ROLES})  # 401 codes


@pytest.fixture
def seen(request: pytest.FixtureRequest) -> Iterator[Seen]:
    """The statuses an operation answered each caller with, checked once the operation is done."""
    failed_before = request.session.testsfailed
    record = Seen()
    yield record
    if request.session.testsfailed > failed_before:
        return  # the fuzzing itself failed; that report says more than this one would
    every = [s for statuses in record.statuses.values() for s in statuses]
    if record.label in MUST_SUCCEED:
        assert any(200 <= s < 300 for s in every), f"{record.label}: no success in {record.statuses}"
    if record.label not in MAY_END_THE_SESSION:
        for role in ("operator", "merchant"):
            refused = [code for code in record.refusals[role] if code != "bad_credentials"]
            assert not refused, f"{record.label}: the {role} was refused as unauthenticated: {refused}"


@schema.parametrize()
@FUZZ
def test_api_conforms_to_its_openapi(case, app, scene, seen):  # type: ignore[no-untyped-def]
    seen.label = case.operation.label
    role = caller_of(case)
    caller = scene.callers()[role]
    try:
        response = case.call_and_validate(app=app, headers=caller.headers if caller else None, checks=CHECKS)
    except BaseException as exc:
        exc.add_note(f"(called as {role})")
        raise
    seen.statuses[role].append(response.status_code)
    if response.status_code == 401:
        seen.refusals[role].append(response.json()["code"])
