"""The authorisation matrix for the feed and the traffic plans: operators run the plans and experiments; a
store's traffic is its staff's and operators'."""

from __future__ import annotations

from tests.matrix import UNKNOWN as U
from tests.matrix import ask, authorization_test, row, rows, shared_test

# An operator's GET /feed must name the shopper whose feed it is (422 without).
# fmt: off
MATRIX = {  #                                                 anon  shopper creator  m.A   m.B   op    other shopper
    "GET /feed":                                          row(401,  200,    403,     403,  403,  422,  200),
    "POST /feed/events {unknown feed}":                   row(401,  422,    403,     403,  403,  422,  422),
    "GET /traffic/launch":                                row(401,  403,    403,     403,  403,  200,  403),
    "GET /traffic/launch/coverage":                       row(401,  403,    403,     403,  403,  200,  403),
    "PATCH /traffic/launch {empty} (refused)":            row(401,  403,    403,     403,  403,  None, 403),
    "PATCH /traffic/launch {empty}":                      row(None, None,   None,    None, None, 200),  # records it
    "GET /traffic/boost":                                 row(401,  403,    403,     403,  403,  200,  403),
    "PATCH /traffic/boost {empty} (refused)":             row(401,  403,    403,     403,  403,  None, 403),
    "PATCH /traffic/boost {empty}":                       row(None, None,   None,    None, None, 200),  # records it
    "GET /traffic/experiments":                           row(401,  403,    403,     403,  403,  200,  403),
    "POST /traffic/experiments {one variant}":            row(422,  422,    422,     422,  422,  422,  422),
    "POST /traffic/experiments/{unknown}/stop":           row(401,  403,    403,     403,  403,  404,  403),
    "GET /traffic/experiments/{unknown}/metrics":         row(401,  403,    403,     403,  403,  404,  403),
    "GET /stores/{A}/traffic":                            row(401,  403,    403,     200,  403,  200,  403),
}
# fmt: on

ENDPOINTS = {
    "GET /feed": ask("GET /feed", shared=True),
    "POST /feed/events {unknown feed}": ask(
        "POST /feed/events", json={"events": [{"feed_id": "nope", "kind": "click"}]}, shared=True
    ),
    "GET /traffic/launch": ask("GET /traffic/launch", shared=True),
    "GET /traffic/launch/coverage": ask("GET /traffic/launch/coverage", shared=True),
    "PATCH /traffic/launch {empty} (refused)": ask("PATCH /traffic/launch", json={}, shared=True),
    "PATCH /traffic/launch {empty}": ask("PATCH /traffic/launch", json={}, mutates=True),
    "GET /traffic/boost": ask("GET /traffic/boost", shared=True),
    "PATCH /traffic/boost {empty} (refused)": ask("PATCH /traffic/boost", json={}, shared=True),
    "PATCH /traffic/boost {empty}": ask("PATCH /traffic/boost", json={}, mutates=True),
    "GET /traffic/experiments": ask("GET /traffic/experiments", shared=True),
    "POST /traffic/experiments {one variant}": ask(
        "POST /traffic/experiments", json={"name": "x", "variants": [{"name": "a", "weight": 1}]}, shared=True
    ),
    "POST /traffic/experiments/{unknown}/stop": ask(
        "POST /traffic/experiments/{experiment_id}/stop", f"/traffic/experiments/{U}/stop", shared=True
    ),
    "GET /traffic/experiments/{unknown}/metrics": ask(
        "GET /traffic/experiments/{experiment_id}/metrics", f"/traffic/experiments/{U}/metrics", shared=True
    ),
    "GET /stores/{A}/traffic": ask(
        "GET /stores/{store_id}/traffic", lambda s: f"/stores/{s.store_a}/traffic", shared=True
    ),
}

ROWS = rows(MATRIX, ENDPOINTS)
test_authorization_matrix = authorization_test(ROWS)
test_shared_authorization_matrix = shared_test(ROWS)
