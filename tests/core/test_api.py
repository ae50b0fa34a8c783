"""The authorisation matrix for the platform's own routes: the health check answers everyone."""

from __future__ import annotations

from tests.matrix import ask, row, rows, shared_test

# fmt: off
MATRIX = {  #                 anon  shopper creator  m.A   m.B   op    other shopper
    "GET /health":        row(200,  200,    200,     200,  200,  200,  200),
}
# fmt: on

ENDPOINTS = {"GET /health": ask("GET /health", shared=True)}

ROWS = rows(MATRIX, ENDPOINTS)
test_shared_authorization_matrix = shared_test(ROWS)
