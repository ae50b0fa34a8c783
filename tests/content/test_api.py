"""The authorisation matrix for creators, follows, affiliate plans, live rooms, videos, the mall and sales
analytics. Unknown ids keep every cell a refusal or a read, so the rows share one scene; what an allowed
caller creates is in this folder's behaviour tests."""

from __future__ import annotations

from tests.matrix import LISTED, ask, authorization_test, listed_id, row, rows, shared_test
from tests.matrix import UNKNOWN as U

URL = "https://img.example.com/a.jpg"
VIDEO = {"title": "开箱", "duration_seconds": 30, "cover_url": URL, "video_url": URL, "product_ids": [U]}

# A body's shape is checked before the caller (FastAPI validates it first): the two "{bad ...}" rows are
# 422 for everyone. Ids are checked after: anonymous callers get 401 first.
# fmt: off
MATRIX = {  #                                                 anon  shopper creator  m.A   m.B   op    other shopper
    "PUT /creators/me {bad handle}":                      row(422,  422,    422,     422,  422,  422,  422),
    "GET /creators/{unknown}":                            row(404,  404,    404,     404,  404,  404,  404),
    "POST /follows {unknown store}":                      row(401,  422,    422,     422,  422,  422,  422),
    "DELETE /follows/store/{unknown}":                    row(401,  404,    404,     404,  404,  404,  404),
    "GET /me/follows":                                    row(401,  200,    200,     200,  200,  200,  200),
    "POST /affiliate-plans {unknown product}":            row(401,  404,    404,     404,  404,  404,  404),
    "POST /affiliate-plans/{unknown}/end":                row(401,  404,    404,     404,  404,  404,  404),
    "GET /products/{listed}/affiliate-plans":             row(200,  200,    200,     200,  200,  200,  200),
    "GET /affiliate-plans/available":                     row(401,  200,    200,     200,  200,  200,  200),
    "GET /affiliate-commissions":                         row(401,  200,    200,     200,  200,  200,  200),
    "POST /live/rooms {no title}":                        row(422,  422,    422,     422,  422,  422,  422),
    "GET /live/rooms/{unknown}":                          row(404,  404,    404,     404,  404,  404,  404),
    "POST /live/rooms/{unknown}/sessions":                row(401,  404,    404,     404,  404,  404,  404),
    "GET /live/now":                                      row(200,  200,    200,     200,  200,  200,  200),
    "GET /live/sessions/{unknown}":                       row(404,  404,    404,     404,  404,  404,  404),
    "POST /live/sessions/{unknown}/start":                row(401,  404,    404,     404,  404,  404,  404),
    "POST /live/sessions/{unknown}/end":                  row(401,  404,    404,     404,  404,  404,  404),
    "POST /live/sessions/{unknown}/join":                 row(401,  404,    404,     404,  404,  404,  404),
    "POST /live/sessions/{unknown}/leave":                row(401,  404,    404,     404,  404,  404,  404),
    "POST /live/sessions/{unknown}/products":             row(401,  404,    404,     404,  404,  404,  404),
    "POST /live/sessions/{unknown}/present":              row(401,  404,    404,     404,  404,  404,  404),
    "POST /live/sessions/{unknown}/like":                 row(401,  404,    404,     404,  404,  404,  404),
    "GET /live/sessions/{unknown}/stream":                row(404,  404,    404,     404,  404,  404,  404),
    "POST /videos {unknown product}":                     row(401,  403,    422,     422,  422,  403,  403),
    "GET /videos":                                        row(200,  200,    200,     200,  200,  200,  200),
    "GET /videos/{unknown}":                              row(404,  404,    404,     404,  404,  404,  404),
    "POST /videos/{unknown}/views":                       row(401,  404,    404,     404,  404,  404,  404),
    "POST /videos/{unknown}/remove":                      row(401,  404,    404,     404,  404,  404,  404),
    "GET /mall":                                          row(200,  200,    200,     200,  200,  200,  200),
    "GET /stores/{A}/page":                               row(200,  200,    200,     200,  200,  200,  200),
    "GET /stores/{A}/shelf":                              row(200,  200,    200,     200,  200,  200,  200),
    "GET /categories/{leaf}/shelf":                       row(200,  200,    200,     200,  200,  200,  200),
    "GET /stores/{unknown}/shelf":                        row(404,  404,    404,     404,  404,  404,  404),
    "GET /analytics/sales":                               row(401,  403,    200,     200,  200,  200,  403),
    # favourites and followed stores: buyers only; favouriting is idempotent, unfavouriting never an error
    "GET /me/favourites":                                 row(401,  200,    200,     403,  403,  403,  200),
    "PUT /me/favourites/{listed}":                        row(401,  201,    201,     403,  403,  403,  201),
    "PUT /me/favourites/{unknown}":                       row(401,  404,    404,     403,  403,  403,  404),
    "DELETE /me/favourites/{unknown}":                    row(401,  204,    204,     403,  403,  403,  204),
    "GET /me/followed-stores":                            row(401,  200,    200,     403,  403,  403,  200),
}
# fmt: on

SESSION = "/live/sessions/{session_id}"
ENDPOINTS = {
    "PUT /creators/me {bad handle}": ask("PUT /creators/me", json={"handle": "!"}, shared=True),
    "GET /creators/{unknown}": ask("GET /creators/{creator_id}", f"/creators/{U}", shared=True),
    "POST /follows {unknown store}": ask("POST /follows", json={"target_type": "store", "target_id": U}, shared=True),
    "DELETE /follows/store/{unknown}": ask(
        "DELETE /follows/{target_type}/{target_id}", f"/follows/store/{U}", shared=True
    ),
    "GET /me/follows": ask("GET /me/follows", shared=True),
    "POST /affiliate-plans {unknown product}": ask(
        "POST /affiliate-plans", json={"product_id": U, "rate_bps": 500}, shared=True
    ),
    "POST /affiliate-plans/{unknown}/end": ask(
        "POST /affiliate-plans/{plan_id}/end", f"/affiliate-plans/{U}/end", shared=True
    ),
    "GET /products/{listed}/affiliate-plans": ask(
        "GET /products/{product_id}/affiliate-plans", lambda s: f"/products/{listed_id(s)}/affiliate-plans", shared=True
    ),
    "GET /affiliate-plans/available": ask("GET /affiliate-plans/available", shared=True),
    "GET /affiliate-commissions": ask("GET /affiliate-commissions", shared=True),
    "POST /live/rooms {no title}": ask("POST /live/rooms", json={}, shared=True),
    "GET /live/rooms/{unknown}": ask("GET /live/rooms/{room_id}", f"/live/rooms/{U}", shared=True),
    "POST /live/rooms/{unknown}/sessions": ask(
        "POST /live/rooms/{room_id}/sessions", f"/live/rooms/{U}/sessions", {"title": "今晚"}, shared=True
    ),
    "GET /live/now": ask("GET /live/now", shared=True),
    "GET /live/sessions/{unknown}": ask(f"GET {SESSION}", f"/live/sessions/{U}", shared=True),
    "POST /live/sessions/{unknown}/start": ask(f"POST {SESSION}/start", f"/live/sessions/{U}/start", shared=True),
    "POST /live/sessions/{unknown}/end": ask(f"POST {SESSION}/end", f"/live/sessions/{U}/end", shared=True),
    "POST /live/sessions/{unknown}/join": ask(f"POST {SESSION}/join", f"/live/sessions/{U}/join", shared=True),
    "POST /live/sessions/{unknown}/leave": ask(f"POST {SESSION}/leave", f"/live/sessions/{U}/leave", shared=True),
    "POST /live/sessions/{unknown}/products": ask(
        f"POST {SESSION}/products", f"/live/sessions/{U}/products", {"product_ids": [U]}, shared=True
    ),
    "POST /live/sessions/{unknown}/present": ask(
        f"POST {SESSION}/present", f"/live/sessions/{U}/present", {"product_id": U}, shared=True
    ),
    "POST /live/sessions/{unknown}/like": ask(
        f"POST {SESSION}/like", f"/live/sessions/{U}/like", {"count": 1}, shared=True
    ),
    "GET /live/sessions/{unknown}/stream": ask(f"GET {SESSION}/stream", f"/live/sessions/{U}/stream", shared=True),
    "POST /videos {unknown product}": ask("POST /videos", json=VIDEO, shared=True),
    "GET /videos": ask("GET /videos", shared=True),
    "GET /videos/{unknown}": ask("GET /videos/{video_id}", f"/videos/{U}", shared=True),
    "POST /videos/{unknown}/views": ask(
        "POST /videos/{video_id}/views", f"/videos/{U}/views", {"watched_seconds": 3}, shared=True
    ),
    "POST /videos/{unknown}/remove": ask("POST /videos/{video_id}/remove", f"/videos/{U}/remove", shared=True),
    "GET /mall": ask("GET /mall", shared=True),
    "GET /stores/{A}/page": ask("GET /stores/{store_id}/page", lambda s: f"/stores/{s.store_a}/page", shared=True),
    "GET /stores/{A}/shelf": ask("GET /stores/{store_id}/shelf", lambda s: f"/stores/{s.store_a}/shelf", shared=True),
    "GET /categories/{leaf}/shelf": ask(
        "GET /categories/{category_id}/shelf", lambda s: f"/categories/{s.world.leaf_id()}/shelf", shared=True
    ),
    "GET /stores/{unknown}/shelf": ask("GET /stores/{store_id}/shelf", f"/stores/{U}/shelf", shared=True),
    "GET /analytics/sales": ask("GET /analytics/sales", shared=True),
    "GET /me/favourites": ask("GET /me/favourites", shared=True),
    "PUT /me/favourites/{listed}": ask(
        "PUT /me/favourites/{product_id}", lambda s: f"/me/favourites/{listed_id(s)}", needs=(LISTED,), mutates=True
    ),
    "PUT /me/favourites/{unknown}": ask("PUT /me/favourites/{product_id}", f"/me/favourites/{U}", shared=True),
    "DELETE /me/favourites/{unknown}": ask("DELETE /me/favourites/{product_id}", f"/me/favourites/{U}", shared=True),
    "GET /me/followed-stores": ask("GET /me/followed-stores", shared=True),
}

ROWS = rows(MATRIX, ENDPOINTS)
test_shared_authorization_matrix = shared_test(ROWS)
test_authorization_matrix = authorization_test(ROWS)
