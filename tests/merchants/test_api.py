"""The authorisation matrix for the stores API and the platform policy: who may apply, change, review,
suspend, reinstate and close.

The expected status of every role on every case; tests/matrix.py builds the scene (store A is merchant A's,
with a draft and a listed product as the row needs; store B is merchant B's) and checks what every cell shares.
"""

from __future__ import annotations

from typing import Any

from tests.bad_input import API, CONTROL_CHARACTERS, UNKNOWN, Bad, Shop, bad_input_test
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


# --- bad input (tests/bad_input.py): a clear 422/404 naming the field, and nothing written -----------------


def bad_requests(shop: Shop) -> list[Bad]:
    m, op, applicant = shop.merchant, shop.operator, shop.world.user("merchant")
    store = f"/stores/{m.store_id}"
    table = [
        Bad(
            "apply with a status",
            applicant,
            "POST",
            "/stores",
            {"name": "新店", "status": "active"},
            422,
            "status",
            "invalid_input",
        ),
        Bad("activate own store", m, "PATCH", store, {"status": "active"}, 422, "status", "invalid_input"),
        Bad(
            "set a deposit paid",
            op,
            "POST",
            f"/stores/{shop.rival.store_id}/review",
            {"decision": "approve", "deposit_paid": True},
            422,
            "deposit_paid",
            "invalid_input",
        ),
        Bad("policy typo", op, "PATCH", "/platform/policy", {"deposit_fen": 0}, 422, "deposit_fen", "invalid_input"),
        Bad("deposit is true", op, "PATCH", "/platform/policy", {"store_deposit_fen": True}, 422, "store_deposit_fen"),
        Bad("deposit is text", op, "PATCH", "/platform/policy", {"store_deposit_fen": "0"}, 422, "store_deposit_fen"),
        Bad("deposit below 0", op, "PATCH", "/platform/policy", {"store_deposit_fen": -1}, 422, "store_deposit_fen"),
        Bad(
            "deposit past int64",
            op,
            "PATCH",
            "/platform/policy",
            {"store_deposit_fen": 2**63},
            422,
            "store_deposit_fen",
        ),
        Bad(
            "new merchant for 0 days",
            op,
            "PATCH",
            "/platform/policy",
            {"new_merchant_days": 0},
            422,
            "new_merchant_days",
        ),
        Bad(
            "new merchant for ever",
            op,
            "PATCH",
            "/platform/policy",
            {"new_merchant_days": 10**6},
            422,
            "new_merchant_days",
        ),
        Bad(
            "zero deposit is a word",
            op,
            "PATCH",
            "/platform/policy",
            {"zero_deposit_opening": "maybe"},
            422,
            "zero_deposit_opening",
        ),
        Bad("long store name", m, "PATCH", store, {"name": "店" * 61}, 422, "name"),
        Bad("long store description", m, "PATCH", store, {"description": "字" * 2001}, 422, "description"),
        Bad("long suspension reason", op, "POST", f"{store}/suspend", {"reason": "因" * 501}, 422, "reason"),
        Bad("empty suspension reason", op, "POST", f"{store}/suspend", {"reason": ""}, 422, "reason"),
        Bad("unknown store", None, "GET", f"/stores/{UNKNOWN}", None, 404, "store_id", "not_found"),
        Bad("change an unknown store", m, "PATCH", f"/stores/{UNKNOWN}", {"name": "新"}, 404, "store_id", "not_found"),
        Bad(
            "review an unknown store",
            op,
            "POST",
            f"/stores/{UNKNOWN}/review",
            {"decision": "approve"},
            404,
            "store_id",
            "not_found",
        ),
        Bad(
            "suspend an unknown store",
            op,
            "POST",
            f"/stores/{UNKNOWN}/suspend",
            {"reason": "查"},
            404,
            "store_id",
            "not_found",
        ),
        Bad("unknown main category", m, "PATCH", store, {"main_category_id": UNKNOWN}, 422, "main_category_id"),
        Bad(
            "apply with an unknown main category",
            applicant,
            "POST",
            "/stores",
            {"name": "新店", "main_category_id": UNKNOWN},
            422,
            "main_category_id",
        ),
    ]
    for ch in CONTROL_CHARACTERS:
        u = f"U+{ord(ch):04X}"
        table += [
            Bad(f"{u} in a store name", m, "PATCH", store, {"name": f"新{ch}店"}, 422, "name"),
            Bad(f"{u} in a suspension reason", op, "POST", f"{store}/suspend", {"reason": f"违{ch}规"}, 422, "reason"),
        ]
    return table


test_bad_input = bad_input_test(bad_requests)


def test_refused_policy_changes_leave_the_policy_as_it_was(shop: Shop) -> None:
    before = shop.client.get(f"{API}/platform/policy").json()
    for body in ({"store_deposit_fen": -1}, {"new_merchant_days": 0}, {"zero_deposit_opening": "maybe"}):
        r = shop.client.patch(f"{API}/platform/policy", json=body, headers=shop.operator.headers)
        assert r.status_code == 422, r.text
    assert shop.client.get(f"{API}/platform/policy").json() == before
