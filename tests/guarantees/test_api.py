"""The authorisation matrix for the guarantees (pay later: one's own credit and bills)."""

from __future__ import annotations

from tests.matrix import UNKNOWN as U
from tests.matrix import ask, row, rows, shared_test

# fmt: off
MATRIX = {  #                                      anon  shopper creator  m.A   m.B   op    other shopper
    "GET /me/credit":                          row(401,  200,    200,     200,  200,  200,  200),
    "POST /me/credit/bills/{unknown}/pay":     row(401,  404,    404,     404,  404,  404,  404),
}
# fmt: on

ENDPOINTS = {
    "GET /me/credit": ask("GET /me/credit", shared=True),
    "POST /me/credit/bills/{unknown}/pay": ask(
        "POST /me/credit/bills/{bill_id}/pay", f"/me/credit/bills/{U}/pay", shared=True
    ),
}

ROWS = rows(MATRIX, ENDPOINTS)
test_shared_authorization_matrix = shared_test(ROWS)
