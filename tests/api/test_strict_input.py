"""Every request body is strict: a JSON `false` is not 0, `0` is not `false`, "5" is not 5, and 5.0 is
not an int (DESIGN rule 8). Found by walking every route's body model, so a new model or field is
covered without touching this file. Also: ids in paths and queries are plain ASCII digits, and an
Idempotency-Key compares the request's content, not its bytes."""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel

from tests.bad_input import API, assert_problem, case, nothing_written
from yinli.core.schemas import Input

WRONG: dict[type, list[Any]] = {
    int: [True, False, "5", 5.0, [5]],
    bool: [0, 1, "true", "false", "yes"],
    float: [True, "0.5"],
}
Path = tuple[str | int, ...]


def _wrong_values(annotation: Any, path: Path, seen: frozenset[type]) -> Iterator[tuple[Path, list[Any]]]:
    """(where in the body, values of the wrong JSON type for it) for every int, bool
    and float in the model, nested models and lists included."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        yield from _wrong_values(typing.get_args(annotation)[0], path, seen)
    elif origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            yield from _wrong_values(arg, path, seen)
    elif origin is list:
        yield from _wrong_values(typing.get_args(annotation)[0], (*path, 0), seen)
    elif annotation in WRONG:
        yield path, WRONG[annotation]
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel) and annotation not in seen:
        for name, field in annotation.model_fields.items():
            yield from _wrong_values(field.annotation, (*path, field.alias or name), seen | {annotation})


def _body_at(path: Path, value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    return [_body_at(rest, value)] if isinstance(head, int) else {head: _body_at(rest, value)}


def all_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """(full path, route) for every FastAPI route, through included routers (which FastAPI keeps as
    lazy wrappers around the original router)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):
            yield from all_routes(route.original_router.routes, prefix + route.include_context.prefix)


def body_models(app: Any) -> list[tuple[str, str, type[BaseModel]]]:
    """(method, path, model) for every API route that takes a JSON body."""
    found = []
    for path, route in all_routes(app.routes):
        if not path.startswith(API):
            continue
        for param in route.dependant.body_params:
            model = param.field_info.annotation
            if isinstance(model, type) and issubclass(model, BaseModel):
                found.extend((method, path, model) for method in sorted(route.methods))
    return found


def test_every_request_model_is_strict():
    """The base every body model inherits says so (and nothing turns it off)."""

    def subclasses(cls: type) -> Iterator[type]:
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    import yinli.api.app  # noqa: F401  - imports every domain's schemas

    models = set(subclasses(Input))
    assert len(models) > 40
    for model in models:
        with case(model):
            assert model.model_config.get("strict") is True
            assert model.model_config.get("extra") == "forbid"


def test_every_body_refuses_wrong_json_types(app, world, database, client):
    """For every route with a body and every int, bool or float field in it (nested too), a JSON value of
    another type is a 422 naming that field; nothing is written."""
    routes = body_models(app)
    models = {m.__name__ for _, _, m in routes}
    # the models the lax parsing let through, and the generic walk found them
    assert {"StockIn", "SkuUpdateIn", "CategoryFeeIn", "CartItemIn", "PlanIn", "ProfileIn", "ViewIn"} <= models
    merchant = world.merchant()
    cases = 0
    with nothing_written(database):
        for method, path, model in routes:
            url = path
            for name in [p for p in path.split("/") if p.startswith("{")]:
                url = url.replace(name, "1")
            for where, values in _wrong_values(model, (), frozenset()):
                field = ".".join(str(p) for p in where)
                for value in values:
                    with case((method, path, field, value)):
                        r = client.request(method, url, json=_body_at(where, value), headers=merchant.headers)
                        assert_problem(r, 422, field)
                        cases += 1
    assert cases > 200


def test_the_strict_types_still_take_the_right_ones(shop_sku, client):
    """The other side: true is a bool, 7 an int, and enums and times are still written as text."""
    merchant, sku_id = shop_sku
    r = client.put(f"{API}/skus/{sku_id}/stock", json={"on_hand": 7}, headers=merchant.headers)
    assert r.status_code == 200, r.text
    r = client.patch(f"{API}/skus/{sku_id}", json={"is_active": True, "price_fen": 4200}, headers=merchant.headers)
    assert r.status_code == 200, r.text
    assert r.json()["price"]["amount"] == 4200


def test_on_hand_false_does_not_empty_the_shelf(shop_sku, database, client):
    merchant, sku_id = shop_sku
    assert client.put(f"{API}/skus/{sku_id}/stock", json={"on_hand": 9}, headers=merchant.headers).status_code == 200
    with nothing_written(database):
        for value in (False, True, "0", 0.0, None):
            with case(value):
                r = client.put(f"{API}/skus/{sku_id}/stock", json={"on_hand": value}, headers=merchant.headers)
                assert_problem(r, 422, "on_hand")
    assert client.get(f"{API}/skus/{sku_id}/stock", headers=merchant.headers).json()["on_hand"] == 9


# --- ids and sizes in paths and queries -----------------------------------------------------------------

NOT_IDS = ["²", "١٢", "+5", "1_0", " 5", "5.0", "0x10", "9" * 5000, str(2**63), "0", "-1"]


def test_ids_in_paths_and_queries_are_plain_digits(shop_sku, client):
    _, sku_id = shop_sku
    for value in NOT_IDS:
        with case(value):
            assert_problem(client.get(f"{API}/skus/{value}"), 422, "sku_id")
            assert_problem(client.get(f"{API}/products", params={"category_id": value}), 422, "category_id")
            assert_problem(client.get(f"{API}/products", params={"limit": value}), 422, "limit")
    # digits still parse from text, as query strings and paths always are
    assert client.get(f"{API}/skus/{sku_id}").status_code == 200
    assert client.get(f"{API}/products", params={"limit": "1"}).status_code == 200


# --- idempotency over the content ---------------------------------------------------------------------


def test_a_reserialised_body_with_the_same_key_replays(world, database, client):
    merchant = world.merchant()
    h = {**merchant.headers, "Idempotency-Key": "reserialised-1", "content-type": "application/json"}
    body = {"name": "同一个牌子"}
    first = client.post(f"{API}/brands", content=json.dumps(body, separators=(",", ":")), headers=h)
    assert first.status_code == 201, first.text
    # the same request as another client library writes it: spacing and \\u escapes differ
    for raw in (
        json.dumps(body, indent=4).encode(),
        json.dumps(body, ensure_ascii=False).encode(),
        b'  {  "name" :\n "\\u540c\\u4e00\\u4e2a\\u724c\\u5b50" }  ',
    ):
        with case(raw), nothing_written(database):
            again = client.post(f"{API}/brands", content=raw, headers=h)
            assert again.status_code == 201, again.text
            assert again.headers["Idempotent-Replayed"] == "true"
            assert again.json() == first.json()
    with nothing_written(database):  # different content under the same key is still refused
        assert_problem(client.post(f"{API}/brands", json={"name": "另一个牌子"}, headers=h), 422, "Idempotency-Key")


def test_key_order_does_not_make_another_request(shop_sku, database, client):
    merchant, _ = shop_sku
    h = {**merchant.headers, "Idempotency-Key": "reordered-1", "content-type": "application/json"}
    product = client.get(f"{API}/skus/{shop_sku[1]}").json()["product_id"]
    spec = {"code": "ORDER", "price_fen": 1200, "attributes": {"颜色": "红", "尺码": "L"}}
    first = client.post(f"{API}/products/{product}/skus", content=json.dumps(spec), headers=h)
    assert first.status_code == 201, first.text
    reordered = {"attributes": {"尺码": "L", "颜色": "红"}, "price_fen": 1200, "code": "ORDER"}
    with nothing_written(database):
        again = client.post(f"{API}/products/{product}/skus", content=json.dumps(reordered, indent=1), headers=h)
        assert (again.status_code, again.headers.get("Idempotent-Replayed")) == (201, "true"), again.text
        assert again.json() == first.json()
        changed = {**spec, "price_fen": 1201}
        r = client.post(f"{API}/products/{product}/skus", content=json.dumps(changed), headers=h)
        assert_problem(r, 422, "Idempotency-Key")


# --- fixtures ---------------------------------------------------------------------------------------------


@pytest.fixture
def shop_sku(world):  # type: ignore[no-untyped-def]
    merchant = world.merchant()
    product = world.product(merchant)
    return merchant, product["skus"][0]["id"]
