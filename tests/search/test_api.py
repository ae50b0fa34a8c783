"""The authorisation matrix for search: anyone searches and reports clicks; only operators read the analytics."""

from __future__ import annotations

from tests.matrix import UNKNOWN as U
from tests.matrix import ask, authorization_test, row, rows, shared_test

# fmt: off
MATRIX = {  #                                  anon  shopper creator  m.A   m.B   op    other shopper
    "GET /search?q=手机壳":                 row(200,  200,    None,    None, None, 200),  # logs the search
    "POST /search/clicks {unknown search}": row(404,  404,    404,     404,  404,  404,  404),  # anyone may click
    "GET /search/analytics":               row(401,  403,    403,     403,  403,  200,  403),
}
# fmt: on

ENDPOINTS = {
    "GET /search?q=手机壳": ask("GET /search", "/search?q=手机壳", needs=("listed",), mutates=True),
    "POST /search/clicks {unknown search}": ask(
        "POST /search/clicks", json={"search_id": U, "product_id": U}, shared=True
    ),
    "GET /search/analytics": ask("GET /search/analytics", shared=True),
}

ROWS = rows(MATRIX, ENDPOINTS)
test_authorization_matrix = authorization_test(ROWS)
test_shared_authorization_matrix = shared_test(ROWS)
