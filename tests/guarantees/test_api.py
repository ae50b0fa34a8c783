"""The authorisation matrix for the guarantees' routes (one block per guarantee)."""

from __future__ import annotations

from tests.matrix import UNKNOWN as U
from tests.matrix import ask, row, rows, shared_test

# fmt: off
MATRIX = {  #                                           anon  shopper creator  m.A   m.B   op    other shopper
    # price protection (价保): another shopper's line is as unknown as a missing one
    "GET /orders/{unknown}/price-protection":       row(401,  404,    404,     404,  404,  404,  404),
    "POST /order-lines/{unknown}/price-protection": row(401,  404,    404,     404,  404,  404,  404),
    # pay later: one's own credit and bills
    "GET /me/credit":                               row(401,  200,    200,     200,  200,  200,  200),
    "POST /me/credit/bills/{unknown}/pay":          row(401,  404,    404,     404,  404,  404,  404),
    # return-shipping cover (退货补运费); a real case's cover: tests/guarantees/test_return_cover.py
    "GET /after-sales/{unknown}/return-cover":      row(401,  404,    404,     404,  404,  404,  404),
}
# fmt: on

ENDPOINTS = {
    # price protection (价保)
    "GET /orders/{unknown}/price-protection": ask(
        "GET /orders/{order_id}/price-protection", f"/orders/{U}/price-protection", shared=True
    ),
    "POST /order-lines/{unknown}/price-protection": ask(
        "POST /order-lines/{line_id}/price-protection", f"/order-lines/{U}/price-protection", shared=True
    ),
    # pay later
    "GET /me/credit": ask("GET /me/credit", shared=True),
    "POST /me/credit/bills/{unknown}/pay": ask(
        "POST /me/credit/bills/{bill_id}/pay", f"/me/credit/bills/{U}/pay", shared=True
    ),
    # return-shipping cover
    "GET /after-sales/{unknown}/return-cover": ask(
        "GET /after-sales/{after_sale_id}/return-cover", f"/after-sales/{U}/return-cover", shared=True
    ),
}

ROWS = rows(MATRIX, ENDPOINTS)
test_shared_authorization_matrix = shared_test(ROWS)
