"""The authorisation matrix for the stores API and the platform policy: who may apply, change, review,
suspend, reinstate and close.

The expected status of every role on every case; tests/matrix.py builds the scene (store A is merchant A's,
with a draft and a listed product as the row needs; store B is merchant B's) and checks what every cell shares.
"""

from __future__ import annotations

from typing import Any

from tests.matrix import (
    MERCHANT_A,
    OPERATOR,
    STORE_B,
    Call,
    Endpoint,
    Scene,
    authorization_test,
    names,
    row,
    rows,
)

# fmt: off
MATRIX: dict[str, dict[str, int | None]] = {
    #                                                          anon  shopper creator  m.A   m.B   op
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
    "GET /platform/policy":                                row(200,  200,    200,     200,  200,  200),
    "PATCH /platform/policy":                              row(401,  403,    403,     403,  403,  200),
}
# fmt: on


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


ENDPOINTS: dict[str, Endpoint] = {
    "POST /stores (apply)": Endpoint(
        "POST /stores", lambda s: Call("POST", "/api/v1/stores", {"name": f"新店{next(names)}"})
    ),
    "GET /stores/{A}": Endpoint(
        "GET /stores/{store_id}", lambda s: Call("GET", f"/api/v1/stores/{s.store_a}"), check=check_store_private_fields
    ),
    "GET /stores/{A, suspended}": Endpoint(
        "GET /stores/{store_id}", lambda s: Call("GET", f"/api/v1/stores/{s.store_a}"), store_a="suspended"
    ),
    "GET /stores": Endpoint(
        "GET /stores",
        lambda s: Call("GET", "/api/v1/stores"),
        store_a="suspended",
        needs=(STORE_B,),
        check=check_store_list,
    ),
    "GET /stores?status=applied": Endpoint(
        "GET /stores",
        lambda s: Call("GET", "/api/v1/stores?status=applied"),
        store_a="applied",
        needs=(STORE_B,),
        check=check_applied_list,
    ),
    "PATCH /stores/{A}": Endpoint(
        "PATCH /stores/{store_id}",
        lambda s: Call("PATCH", f"/api/v1/stores/{s.store_a}", {"description": "改过"}),
        mutates=True,
    ),
    "PATCH /stores/{A, suspended}": Endpoint(
        "PATCH /stores/{store_id}",
        lambda s: Call("PATCH", f"/api/v1/stores/{s.store_a}", {"description": "改过"}),
        store_a="suspended",
        mutates=True,
    ),
    "POST /stores/{A, applied}/review": Endpoint(
        "POST /stores/{store_id}/review",
        lambda s: Call("POST", f"/api/v1/stores/{s.store_a}/review", {"decision": "approve"}),
        store_a="applied",
        mutates=True,
    ),
    "POST /stores/{A}/suspend": Endpoint(
        "POST /stores/{store_id}/suspend",
        lambda s: Call("POST", f"/api/v1/stores/{s.store_a}/suspend", {"reason": "fake goods"}),
        mutates=True,
    ),
    "POST /stores/{A, suspended}/reinstate": Endpoint(
        "POST /stores/{store_id}/reinstate",
        lambda s: Call("POST", f"/api/v1/stores/{s.store_a}/reinstate", {"reason": "fixed"}),
        store_a="suspended",
        mutates=True,
    ),
    "POST /stores/{A}/close": Endpoint(
        "POST /stores/{store_id}/close",
        lambda s: Call("POST", f"/api/v1/stores/{s.store_a}/close", {"reason": "done"}),
        mutates=True,
    ),
    "POST /stores/{A, suspended}/close": Endpoint(
        "POST /stores/{store_id}/close",
        lambda s: Call("POST", f"/api/v1/stores/{s.store_a}/close", {"reason": "done"}),
        store_a="suspended",
        mutates=True,
    ),
    "GET /platform/policy": Endpoint("GET /platform/policy", lambda s: Call("GET", "/api/v1/platform/policy")),
    "PATCH /platform/policy": Endpoint(
        "PATCH /platform/policy",
        lambda s: Call("PATCH", "/api/v1/platform/policy", {"new_merchant_days": 45}),
        mutates=True,
    ),
}

ROWS = rows(MATRIX, ENDPOINTS)
test_authorization_matrix = authorization_test(ROWS)
