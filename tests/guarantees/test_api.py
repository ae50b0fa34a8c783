"""The authorisation matrix for the guarantees' routes."""

from __future__ import annotations

from tests.matrix import UNKNOWN as U
from tests.matrix import ask, row, rows, shared_test

# fmt: off
MATRIX = {  #                                           anon  shopper creator  m.A   m.B   op    other shopper
    # return-shipping cover (退货补运费); a real case's cover: tests/guarantees/test_return_cover.py
    "GET /after-sales/{unknown}/return-cover":      row(401,  404,    404,     404,  404,  404,  404),
}
# fmt: on

ENDPOINTS = {
    "GET /after-sales/{unknown}/return-cover": ask(
        "GET /after-sales/{after_sale_id}/return-cover", f"/after-sales/{U}/return-cover", shared=True
    ),
}

ROWS = rows(MATRIX, ENDPOINTS)
test_shared_authorization_matrix = shared_test(ROWS)
