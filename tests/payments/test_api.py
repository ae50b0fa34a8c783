"""The authorisation matrix for payments and the ledger."""

from __future__ import annotations

from tests.matrix import UNKNOWN as U
from tests.matrix import ask, row, rows, shared_test

# fmt: off
MATRIX = {  #                                  anon  shopper creator  m.A   m.B   op    other shopper
    "GET /payments/{unknown}":             row(401,  404,    404,     404,  404,  404,  404),
    "POST /payments/{unknown}/pay":        row(401,  404,    404,     404,  404,  404,  404),
    "GET /ledger/balances":                row(401,  403,    403,     403,  403,  200,  403),
}
# fmt: on

ENDPOINTS = {
    "GET /payments/{unknown}": ask("GET /payments/{payment_id}", f"/payments/{U}", shared=True),
    "POST /payments/{unknown}/pay": ask(
        "POST /payments/{payment_id}/pay", f"/payments/{U}/pay", {"method": "card"}, shared=True
    ),
    "GET /ledger/balances": ask("GET /ledger/balances", shared=True),
}

ROWS = rows(MATRIX, ENDPOINTS)
test_shared_authorization_matrix = shared_test(ROWS)
