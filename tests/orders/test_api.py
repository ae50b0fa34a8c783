"""The authorisation matrix for orders, after-sales, reviews, complaints and store metrics."""

from __future__ import annotations

from tests.matrix import UNKNOWN as U
from tests.matrix import ask, listed_id, row, rows, shared_test

SHIP = {"carrier": "SF", "tracking_no": "SF123456789"}

# fmt: off
MATRIX = {  #                                           anon  shopper creator  m.A   m.B   op    other shopper
    "GET /orders":                                  row(401,  200,    200,     200,  200,  200,  200),
    "GET /orders/{unknown}":                        row(401,  404,    404,     404,  404,  404,  404),
    "GET /orders/{unknown}/after-sale-options":     row(401,  404,    404,     404,  404,  404,  404),
    "POST /orders/{unknown}/cancel":                row(401,  404,    404,     404,  404,  404,  404),
    "POST /orders/{unknown}/ship":                  row(401,  404,    404,     404,  404,  404,  404),
    "POST /orders/{unknown}/confirm-delivery":      row(401,  404,    404,     404,  404,  404,  404),
    "POST /orders/{unknown}/after-sales":           row(401,  404,    404,     404,  404,  404,  404),
    "GET /after-sales":                             row(401,  200,    200,     200,  200,  200,  200),
    "GET /after-sales/{unknown}":                   row(401,  404,    404,     404,  404,  404,  404),
    "POST /after-sales/{unknown}/decide":           row(401,  404,    404,     404,  404,  404,  404),
    "POST /after-sales/{unknown}/return-shipment":  row(401,  404,    404,     404,  404,  404,  404),
    "POST /after-sales/{unknown}/receive":          row(401,  404,    404,     404,  404,  404,  404),
    "POST /after-sales/{unknown}/withdraw":         row(401,  404,    404,     404,  404,  404,  404),
    "POST /order-lines/{unknown}/review":           row(401,  404,    404,     404,  404,  404,  404),
    "GET /products/{listed}/reviews":               row(200,  200,    200,     200,  200,  200,  200),
    "POST /complaints {unknown store}":             row(401,  422,    422,     403,  403,  403,  422),
    "GET /complaints":                              row(401,  200,    200,     200,  200,  200,  200),
    "POST /complaints/{unknown}/resolve":           row(401,  404,    404,     404,  404,  404,  404),
    "GET /stores/{A}/metrics":                      row(200,  200,    200,     200,  200,  200,  200),
}
# fmt: on

ENDPOINTS = {
    "GET /orders": ask("GET /orders", shared=True),
    "GET /orders/{unknown}": ask("GET /orders/{order_id}", f"/orders/{U}", shared=True),
    "GET /orders/{unknown}/after-sale-options": ask(
        "GET /orders/{order_id}/after-sale-options", f"/orders/{U}/after-sale-options", shared=True
    ),
    "POST /orders/{unknown}/cancel": ask("POST /orders/{order_id}/cancel", f"/orders/{U}/cancel", shared=True),
    "POST /orders/{unknown}/ship": ask("POST /orders/{order_id}/ship", f"/orders/{U}/ship", SHIP, shared=True),
    "POST /orders/{unknown}/confirm-delivery": ask(
        "POST /orders/{order_id}/confirm-delivery", f"/orders/{U}/confirm-delivery", shared=True
    ),
    "POST /orders/{unknown}/after-sales": ask(
        "POST /orders/{order_id}/after-sales",
        f"/orders/{U}/after-sales",
        {"kind": "refund_only", "reason": "坏了"},
        shared=True,
    ),
    "GET /after-sales": ask("GET /after-sales", shared=True),
    "GET /after-sales/{unknown}": ask("GET /after-sales/{after_sale_id}", f"/after-sales/{U}", shared=True),
    "POST /after-sales/{unknown}/decide": ask(
        "POST /after-sales/{after_sale_id}/decide", f"/after-sales/{U}/decide", {"decision": "approve"}, shared=True
    ),
    "POST /after-sales/{unknown}/return-shipment": ask(
        "POST /after-sales/{after_sale_id}/return-shipment", f"/after-sales/{U}/return-shipment", SHIP, shared=True
    ),
    "POST /after-sales/{unknown}/receive": ask(
        "POST /after-sales/{after_sale_id}/receive", f"/after-sales/{U}/receive", shared=True
    ),
    "POST /after-sales/{unknown}/withdraw": ask(
        "POST /after-sales/{after_sale_id}/withdraw", f"/after-sales/{U}/withdraw", shared=True
    ),
    "POST /order-lines/{unknown}/review": ask(
        "POST /order-lines/{order_line_id}/review", f"/order-lines/{U}/review", {"rating": 5}, shared=True
    ),
    "GET /products/{listed}/reviews": ask(
        "GET /products/{product_id}/reviews", lambda s: f"/products/{listed_id(s)}/reviews", shared=True
    ),
    "POST /complaints {unknown store}": ask(
        "POST /complaints", json={"store_id": U, "category": "quality", "text": "不好"}, shared=True
    ),
    "GET /complaints": ask("GET /complaints", shared=True),
    "POST /complaints/{unknown}/resolve": ask(
        "POST /complaints/{complaint_id}/resolve", f"/complaints/{U}/resolve", {"resolution": "退款"}, shared=True
    ),
    "GET /stores/{A}/metrics": ask(
        "GET /stores/{store_id}/metrics", lambda s: f"/stores/{s.store_a}/metrics", shared=True
    ),
}

ROWS = rows(MATRIX, ENDPOINTS)
test_shared_authorization_matrix = shared_test(ROWS)
