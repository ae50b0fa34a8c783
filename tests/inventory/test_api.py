"""The authorisation matrix for stock: everyone sees a listed SKU's availability, only the store's staff and
operators its units on hand (and a draft's SKU at all); only they set the units."""

from __future__ import annotations

from typing import Any

from tests.matrix import LISTED, MERCHANT_A, OPERATOR, Scene, ask, authorization_test, row, rows, shared_test, sku_of


def listed_sku(s: Scene) -> str:
    return f"/skus/{sku_of(s.listed)}/stock"


# fmt: off
MATRIX = {  #                                  anon  shopper creator  m.A   m.B   op    other shopper
    "GET /skus/{sku of listed}/stock":     row(200,  200,    200,     200,  200,  200,  200),
    "GET /skus/{sku of draft}/stock":      row(404,  404,    404,     200,  404,  200,  404),
    "PUT /skus/{sku of listed}/stock":     row(401,  403,    403,     200,  403,  200),
}
# fmt: on


def check_units_hidden(scene: Scene, role: str, body: dict[str, Any]) -> None:
    staff = role in (MERCHANT_A, OPERATOR)
    assert (body["on_hand"] is not None) is staff and (body["reserved"] is not None) is staff, body


ENDPOINTS = {
    "GET /skus/{sku of listed}/stock": ask(
        "GET /skus/{sku_id}/stock", listed_sku, shared=True, check=check_units_hidden
    ),
    "GET /skus/{sku of draft}/stock": ask(
        "GET /skus/{sku_id}/stock", lambda s: f"/skus/{sku_of(s.draft)}/stock", shared=True
    ),
    "PUT /skus/{sku of listed}/stock": ask(
        "PUT /skus/{sku_id}/stock", listed_sku, {"on_hand": 7}, needs=(LISTED,), mutates=True
    ),
}

ROWS = rows(MATRIX, ENDPOINTS)
test_authorization_matrix = authorization_test(ROWS)
test_shared_authorization_matrix = shared_test(ROWS)
