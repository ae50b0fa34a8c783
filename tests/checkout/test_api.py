"""The authorisation matrix for carts and checkout: only shoppers (and creators) have a cart and buy; a cart
item is its owner's alone (another shopper's is a 404, like a missing one)."""

from __future__ import annotations

from tests.factories import ADDRESS
from tests.matrix import UNKNOWN as U
from tests.matrix import ask, row, rows, shared_test

# fmt: off
MATRIX = {  #                                  anon  shopper creator  m.A   m.B   op    other shopper
    "GET /cart":                           row(401,  200,    200,     403,  403,  403,  200),
    "POST /cart/items {unknown sku}":      row(401,  422,    422,     403,  403,  403,  422),
    "PATCH /cart/items/{unknown}":         row(401,  404,    404,     403,  403,  403,  404),
    "DELETE /cart/items/{unknown}":        row(401,  404,    404,     403,  403,  403,  404),
    "POST /checkout {unknown sku}":        row(401,  422,    422,     403,  403,  403,  422),
}
# fmt: on

ENDPOINTS = {
    "GET /cart": ask("GET /cart", shared=True),
    "POST /cart/items {unknown sku}": ask("POST /cart/items", json={"sku_id": U, "quantity": 1}, shared=True),
    "PATCH /cart/items/{unknown}": ask("PATCH /cart/items/{item_id}", f"/cart/items/{U}", {"quantity": 2}, shared=True),
    "DELETE /cart/items/{unknown}": ask("DELETE /cart/items/{item_id}", f"/cart/items/{U}", shared=True),
    "POST /checkout {unknown sku}": ask(
        "POST /checkout", json={"items": [{"sku_id": U, "quantity": 1}], "address": ADDRESS}, shared=True
    ),
}

ROWS = rows(MATRIX, ENDPOINTS)
test_shared_authorization_matrix = shared_test(ROWS)
