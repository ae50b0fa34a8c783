"""The authorisation matrix for the catalogue API: brands, products, SKUs, prices and product cards.

The expected status of every role on every case; tests/matrix.py builds the scene (store A is merchant A's,
with a draft and a listed product as the row needs; store B is merchant B's) and checks what every cell shares.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.bad_input import API, CONTROL_CHARACTERS, UNKNOWN, Bad, Shop, bad_input_test, send
from tests.factories import World
from tests.matrix import (
    ANON,
    CREATOR,
    DRAFT,
    LISTED,
    MERCHANT_A,
    MERCHANT_B,
    OPERATOR,
    SHOPPER,
    STORE_B,
    Call,
    Endpoint,
    Scene,
    SceneBuilder,
    ask,
    authorization_test,
    draft_id,
    headers_of,
    listed_id,
    names,
    product_body,
    row,
    rows,
    shared_test,
    sku_of,
    snapshot,
)

# fmt: off
MATRIX: dict[str, dict[str, int | None]] = {
    #                                                          anon  shopper creator  m.A   m.B   op
    "GET /categories":                                     row(200,  200,    200,     200,  200,  200),
    "GET /categories/{leaf}":                              row(200,  200,    200,     200,  200,  200),
    "PUT /categories/{leaf}/fee (refused)":                row(401,  403,    403,     403,  403,  None),
    "PUT /categories/{leaf}/fee":                          row(None, None,   None,    None, None, 200),
    "GET /brands":                                         row(200,  200,    200,     200,  200,  200),
    "POST /brands":                                        row(401,  403,    403,     201,  201,  201),
    "POST /products {store_id: A}":                        row(401,  403,    403,     201,  403,  201),
    "POST /products {store_id: A, applied}":               row(401,  403,    403,     201,  422,  201),
    "GET /products/{draft}":                               row(404,  404,    404,     200,  404,  200),
    "GET /products/{listed}":                              row(200,  200,    200,     200,  200,  200),
    "GET /products/{listed, A suspended}":                 row(404,  404,    404,     200,  404,  200),
    "GET /products?store_id=A":                            row(200,  200,    200,     200,  200,  200),
    "GET /products?store_id=A&status=draft":               row(401,  403,    403,     200,  403,  200),
    "PATCH /products/{listed}":                            row(401,  403,    403,     200,  403,  200),
    "PATCH /products/{draft}":                             row(401,  404,    404,     200,  404,  200),
    "POST /products/{draft}/list":                         row(401,  404,    404,     200,  404,  200),
    "POST /products/{listed}/delist":                      row(401,  403,    403,     200,  403,  200),
    "POST /products/{listed}/skus":                        row(401,  403,    403,     201,  403,  201),
    "POST /products/{draft}/skus":                         row(401,  404,    404,     201,  404,  201),
    "GET /skus/{sku of draft}":                            row(404,  404,    404,     200,  404,  200),
    "PATCH /skus/{sku of listed}":                         row(401,  403,    403,     200,  403,  200),
    "PATCH /skus/{sku of draft}":                          row(401,  404,    404,     200,  404,  200),
    "GET /skus/{sku of listed}/price-history":             row(200,  200,    200,     200,  200,  200),
    "GET /skus/{sku of draft}/price-history":              row(404,  404,    404,     200,  404,  200),
    "GET /product-cards":                                  row(200,  200,    200,     200,  200,  200),
    "GET /products/{listed}/card":                         row(200,  200,    200,     200,  200,  200),
    "GET /products/{draft}/card":                          row(404,  404,    404,     200,  404,  200),
}
# fmt: on


def check_product_list(scene: Scene, role: str, body: dict[str, Any]) -> None:
    ids = [p["id"] for p in body["items"]]
    if role in (MERCHANT_A, OPERATOR):  # the store's staff and operators see the draft too
        assert ids == [listed_id(scene), draft_id(scene)]
    else:
        assert ids == [listed_id(scene)]


def check_draft_list(scene: Scene, role: str, body: dict[str, Any]) -> None:
    assert [p["id"] for p in body["items"]] == [draft_id(scene)]


def check_cards(scene: Scene, role: str, body: dict[str, Any]) -> None:
    assert [c["product_id"] for c in body["items"]] == [listed_id(scene)]  # never a draft, for anyone


def check_created_in_a(scene: Scene, role: str, body: dict[str, Any]) -> None:
    assert body["store_id"] == scene.store_a and body["status"] == "draft"


FEE = {"fee_rate_bps": 300}


def check_fee_set(scene: Scene, role: str, body: dict[str, Any]) -> None:
    assert body["fee_rate_bps"] == FEE["fee_rate_bps"]  # seen in the answer: the snapshot skips categories


NEW_SKU = {"code": "NEW", "price_fen": 1000}

ENDPOINTS: dict[str, Endpoint] = {
    "GET /categories": ask("GET /categories", shared=True),
    "GET /categories/{leaf}": ask(
        "GET /categories/{category_id}", lambda s: f"/categories/{s.world.leaf_id()}", shared=True
    ),
    "PUT /categories/{leaf}/fee (refused)": ask(
        "PUT /categories/{category_id}/fee", lambda s: f"/categories/{s.world.leaf_id()}/fee", FEE, shared=True
    ),
    "PUT /categories/{leaf}/fee": ask(
        "PUT /categories/{category_id}/fee",
        lambda s: f"/categories/{s.world.leaf_id()}/fee",
        FEE,
        check=check_fee_set,
    ),
    "GET /brands": Endpoint("GET /brands", lambda s: Call("GET", "/api/v1/brands")),
    "POST /brands": Endpoint(
        "POST /brands", lambda s: Call("POST", "/api/v1/brands", {"name": f"品牌{next(names)}"}), mutates=True
    ),
    "POST /products {store_id: A}": Endpoint(
        "POST /products",
        lambda s: Call("POST", "/api/v1/products", product_body(s, s.store_a)),
        mutates=True,
        check=check_created_in_a,
    ),
    "POST /products {store_id: A, applied}": Endpoint(
        "POST /products",
        lambda s: Call("POST", "/api/v1/products", product_body(s, s.store_a)),
        store_a="applied",
        mutates=True,
        check=check_created_in_a,
    ),
    "GET /products/{draft}": Endpoint(
        "GET /products/{product_id}", lambda s: Call("GET", f"/api/v1/products/{draft_id(s)}"), needs=(DRAFT,)
    ),
    "GET /products/{listed}": Endpoint(
        "GET /products/{product_id}", lambda s: Call("GET", f"/api/v1/products/{listed_id(s)}"), needs=(LISTED,)
    ),
    "GET /products/{listed, A suspended}": Endpoint(
        "GET /products/{product_id}",
        lambda s: Call("GET", f"/api/v1/products/{listed_id(s)}"),
        store_a="suspended",
        needs=(LISTED,),
    ),
    "GET /products?store_id=A": Endpoint(
        "GET /products",
        lambda s: Call("GET", f"/api/v1/products?store_id={s.store_a}"),
        needs=(DRAFT, LISTED),
        check=check_product_list,
    ),
    "GET /products?store_id=A&status=draft": Endpoint(
        "GET /products",
        lambda s: Call("GET", f"/api/v1/products?store_id={s.store_a}&status=draft"),
        needs=(DRAFT, LISTED),
        check=check_draft_list,
    ),
    "PATCH /products/{listed}": Endpoint(
        "PATCH /products/{product_id}",
        lambda s: Call("PATCH", f"/api/v1/products/{listed_id(s)}", {"title": "改过的标题"}),
        needs=(LISTED,),
        mutates=True,
    ),
    "PATCH /products/{draft}": Endpoint(
        "PATCH /products/{product_id}",
        lambda s: Call("PATCH", f"/api/v1/products/{draft_id(s)}", {"title": "改过的标题"}),
        needs=(DRAFT,),
        mutates=True,
    ),
    "POST /products/{draft}/list": Endpoint(
        "POST /products/{product_id}/list",
        lambda s: Call("POST", f"/api/v1/products/{draft_id(s)}/list"),
        needs=(DRAFT,),
        mutates=True,
    ),
    "POST /products/{listed}/delist": Endpoint(
        "POST /products/{product_id}/delist",
        lambda s: Call("POST", f"/api/v1/products/{listed_id(s)}/delist"),
        needs=(LISTED,),
        mutates=True,
    ),
    "POST /products/{listed}/skus": Endpoint(
        "POST /products/{product_id}/skus",
        lambda s: Call("POST", f"/api/v1/products/{listed_id(s)}/skus", NEW_SKU),
        needs=(LISTED,),
        mutates=True,
    ),
    "POST /products/{draft}/skus": Endpoint(
        "POST /products/{product_id}/skus",
        lambda s: Call("POST", f"/api/v1/products/{draft_id(s)}/skus", NEW_SKU),
        needs=(DRAFT,),
        mutates=True,
    ),
    "GET /skus/{sku of draft}": Endpoint(
        "GET /skus/{sku_id}", lambda s: Call("GET", f"/api/v1/skus/{sku_of(s.draft)}"), needs=(DRAFT,)
    ),
    "PATCH /skus/{sku of listed}": Endpoint(
        "PATCH /skus/{sku_id}",
        lambda s: Call("PATCH", f"/api/v1/skus/{sku_of(s.listed)}", {"price_fen": 1234}),
        needs=(LISTED,),
        mutates=True,
    ),
    "PATCH /skus/{sku of draft}": Endpoint(
        "PATCH /skus/{sku_id}",
        lambda s: Call("PATCH", f"/api/v1/skus/{sku_of(s.draft)}", {"price_fen": 1234}),
        needs=(DRAFT,),
        mutates=True,
    ),
    "GET /skus/{sku of listed}/price-history": Endpoint(
        "GET /skus/{sku_id}/price-history",
        lambda s: Call("GET", f"/api/v1/skus/{sku_of(s.listed)}/price-history"),
        needs=(LISTED,),
    ),
    "GET /skus/{sku of draft}/price-history": Endpoint(
        "GET /skus/{sku_id}/price-history",
        lambda s: Call("GET", f"/api/v1/skus/{sku_of(s.draft)}/price-history"),
        needs=(DRAFT,),
    ),
    "GET /product-cards": Endpoint(
        "GET /product-cards", lambda s: Call("GET", "/api/v1/product-cards"), needs=(DRAFT, LISTED), check=check_cards
    ),
    "GET /products/{listed}/card": Endpoint(
        "GET /products/{product_id}/card",
        lambda s: Call("GET", f"/api/v1/products/{listed_id(s)}/card"),
        needs=(LISTED,),
    ),
    "GET /products/{draft}/card": Endpoint(
        "GET /products/{product_id}/card", lambda s: Call("GET", f"/api/v1/products/{draft_id(s)}/card"), needs=(DRAFT,)
    ),
}

ROWS = rows(MATRIX, ENDPOINTS)
test_shared_authorization_matrix = shared_test(ROWS)
test_authorization_matrix = authorization_test(ROWS)


# --- the rules behind some cells, spelled out -----------------------------------------------------------


def test_operator_creates_a_product_in_any_store_by_giving_store_id(
    build: SceneBuilder, world: World, client: TestClient
) -> None:
    scene = build()
    op = headers_of(scene.callers[OPERATOR])
    for store_id in (scene.store_a, scene.store_b):
        r = client.post("/api/v1/products", json=product_body(scene, store_id), headers=op)
        assert r.status_code == 201, r.text
        assert r.json()["store_id"] == store_id and r.json()["status"] == "draft"
    # an operator has no store of their own, so they must say which
    r = client.post("/api/v1/products", json=product_body(scene, None), headers=op)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "store_id"


def test_merchant_cannot_create_a_product_in_another_store(
    build: SceneBuilder, world: World, client: TestClient
) -> None:
    scene = build()
    b = scene.callers[MERCHANT_B]
    assert b is not None
    before = snapshot(world)
    # store A is public (active) but merchant B does not manage it: 403
    r = client.post("/api/v1/products", json=product_body(scene, scene.store_a), headers=b.headers)
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "forbidden"
    # a store that does not exist is bad input, as is one merchant B may not even see (below)
    r = client.post("/api/v1/products", json=product_body(scene, 10**9), headers=b.headers)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "store_id"
    assert snapshot(world) == before
    # without store_id a merchant's product goes to their own store, never another one
    r = client.post("/api/v1/products", json=product_body(scene, None), headers=b.headers)
    assert r.status_code == 201, r.text
    assert r.json()["store_id"] == scene.store_b


def test_a_store_merchant_b_cannot_see_looks_like_one_that_does_not_exist(
    build: SceneBuilder, world: World, client: TestClient
) -> None:
    scene = build(store_a="applied", needs=(STORE_B,))
    b = scene.callers[MERCHANT_B]
    assert b is not None
    hidden = client.post("/api/v1/products", json=product_body(scene, scene.store_a), headers=b.headers)
    missing = client.post("/api/v1/products", json=product_body(scene, 10**9), headers=b.headers)
    assert hidden.status_code == missing.status_code == 422
    assert hidden.json()["code"] == missing.json()["code"]
    assert hidden.json()["errors"][0]["field"] == missing.json()["errors"][0]["field"] == "store_id"


def test_a_hidden_draft_looks_like_a_missing_product(build: SceneBuilder, world: World, client: TestClient) -> None:
    scene = build()
    for role in (ANON, SHOPPER, CREATOR, MERCHANT_B):
        headers = headers_of(scene.callers[role])
        hidden = client.get(f"/api/v1/products/{draft_id(scene)}", headers=headers)
        missing = client.get(f"/api/v1/products/{10**9}", headers=headers)
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json()["code"] == missing.json()["code"] == "not_found"


def test_refused_changes_leave_the_product_and_store_as_they_were(
    build: SceneBuilder, world: World, client: TestClient
) -> None:
    scene = build()
    assert scene.listed is not None
    a, b, shopper = scene.callers[MERCHANT_A], scene.callers[MERCHANT_B], scene.callers[SHOPPER]
    assert a is not None and b is not None and shopper is not None
    pid, sku = scene.listed["id"], sku_of(scene.listed)
    store_before = client.get(f"/api/v1/stores/{scene.store_a}", headers=a.headers).json()
    attempts = [
        ("PATCH", f"/api/v1/products/{pid}", {"title": "被人改了"}),
        ("PATCH", f"/api/v1/skus/{sku}", {"price_fen": 1}),
        ("POST", f"/api/v1/products/{pid}/delist", None),
        ("POST", f"/api/v1/products/{pid}/skus", {"code": "EVIL", "price_fen": 1}),
        ("PATCH", f"/api/v1/stores/{scene.store_a}", {"name": "被人改了"}),
        ("POST", f"/api/v1/stores/{scene.store_a}/suspend", {"reason": "spite"}),
        ("POST", f"/api/v1/stores/{scene.store_a}/close", {"reason": "spite"}),
    ]
    for headers, status in ((b.headers, 403), (shopper.headers, 403), ({}, 401)):
        for method, path, body in attempts:
            r = client.request(method, path, json=body, headers=headers)
            assert r.status_code == status, f"{method} {path}: {r.text}"

    product = client.get(f"/api/v1/products/{pid}", headers=a.headers).json()
    assert product["title"] == scene.listed["title"]
    assert product["status"] == "listed"
    assert [s["price"]["amount"] for s in product["skus"]] == [3900, 4400]
    assert [s["code"] for s in product["skus"]] == [s["code"] for s in scene.listed["skus"]]
    history = client.get(f"/api/v1/skus/{sku}/price-history", headers=a.headers).json()
    assert [h["price"]["amount"] for h in history["items"]] == [3900]
    assert client.get(f"/api/v1/stores/{scene.store_a}", headers=a.headers).json() == store_before


# --- bad input (tests/bad_input.py): a clear 422/404 naming the field, and nothing written -----------------

# A new product's body with one field wrong, and the field at fault.
NEW_PRODUCT_WRONG_TYPES: dict[str, tuple[Callable[[Shop], dict[str, Any]], str]] = {
    "title is a number": (lambda s: s.new_product(title=5), "title"),
    "title is a list": (lambda s: s.new_product(title=["a"]), "title"),
    "skus is an object": (lambda s: s.new_product(skus={"code": "A", "price_fen": 100}), "skus"),
    "skus is empty": (lambda s: s.new_product(skus=[]), "skus"),
    "sku is a string": (lambda s: s.new_product(skus=["A"]), "skus.0"),
    "price is a decimal string": (
        lambda s: s.new_product(skus=[{"code": "A", "price_fen": "39.00"}]),
        "skus.0.price_fen",
    ),
    "price is a numeric string": (
        lambda s: s.new_product(skus=[{"code": "A", "price_fen": "3900"}]),
        "skus.0.price_fen",
    ),
    "price has a fraction": (lambda s: s.new_product(skus=[{"code": "A", "price_fen": 39.5}]), "skus.0.price_fen"),
    "price is a float": (lambda s: s.new_product(skus=[{"code": "A", "price_fen": 3900.0}]), "skus.0.price_fen"),
    "price is true": (lambda s: s.new_product(skus=[{"code": "A", "price_fen": True}]), "skus.0.price_fen"),
    "price is null": (lambda s: s.new_product(skus=[{"code": "A", "price_fen": None}]), "skus.0.price_fen"),
    "price is an object": (
        lambda s: s.new_product(skus=[{"code": "A", "price_fen": {"amount": 1}}]),
        "skus.0.price_fen",
    ),
    "category is a word": (lambda s: s.new_product(category_id="phones"), "category_id"),
    "category is a numeric string": (lambda s: s.new_product(category_id=str(s.world.leaf_id())), "category_id"),
    "category is true": (lambda s: s.new_product(category_id=True), "category_id"),
    "brand is a list": (lambda s: s.new_product(brand_id=[1]), "brand_id"),
    "images is a string": (lambda s: s.new_product(images="https://img.example.com/a.jpg"), "images"),
    "attributes is a list": (
        lambda s: s.new_product(skus=[{"code": "A", "price_fen": 1, "attributes": ["红"]}]),
        "skus.0.attributes",
    ),
    "attribute value is a number": (
        lambda s: s.new_product(skus=[{"code": "A", "price_fen": 1, "attributes": {"尺码": 42}}]),
        "skus.0.attributes.尺码",
    ),
    "flag is a word": (lambda s: s.new_product(pay_later="maybe"), "pay_later"),
}


def bad_requests(shop: Shop) -> list[Bad]:
    m, op = shop.merchant, shop.operator
    listed, draft = shop.listed, shop.draft
    product, sku = f"/products/{listed['id']}", f"/skus/{listed['skus'][0]['id']}"
    table = [
        Bad(
            "brand with extras",
            m,
            "POST",
            "/brands",
            {"name": "新牌", "verified": True},
            422,
            "verified",
            "invalid_input",
        ),
        Bad("create listed", m, "POST", "/products", shop.new_product(status="listed"), 422, "status", "invalid_input"),
        Bad(
            "sku with stock",
            m,
            "POST",
            "/products",
            shop.new_product(skus=[{"code": "A", "price_fen": 100, "stock": 5}]),
            422,
            "skus.0.stock",
            "invalid_input",
        ),
        Bad(
            "list a draft by PATCH",
            m,
            "PATCH",
            f"/products/{draft['id']}",
            {"status": "listed"},
            422,
            "status",
            "invalid_input",
        ),
        Bad(
            "move a product to another store",
            m,
            "PATCH",
            product,
            {"store_id": shop.rival.store_id},
            422,
            "store_id",
            "invalid_input",
        ),
        Bad("set the sales count", m, "PATCH", product, {"sales_count": 10_000}, 422, "sales_count", "invalid_input"),
        Bad(
            "add a sku to another product",
            m,
            "POST",
            f"{product}/skus",
            {"code": "X", "price_fen": 100, "product_id": shop.rival_listed["id"]},
            422,
            "product_id",
            "invalid_input",
        ),
        Bad("recode a sku", m, "PATCH", sku, {"code": "NEW"}, 422, "code", "invalid_input"),
        # wrong types in changes
        Bad("sku price is true", m, "PATCH", sku, {"price_fen": True}, 422, "price_fen"),
        Bad("sku price is text", m, "PATCH", sku, {"price_fen": "100"}, 422, "price_fen"),
        Bad("sku price has a fraction", m, "PATCH", sku, {"price_fen": 1.5}, 422, "price_fen"),
        Bad("sku list price is false", m, "PATCH", sku, {"list_price_fen": False}, 422, "list_price_fen"),
        Bad("sku active is a word", m, "PATCH", sku, {"is_active": "maybe"}, 422, "is_active"),
        Bad("sku active is null", m, "PATCH", sku, {"is_active": None}, 422, "is_active"),
        Bad("sku attributes are null", m, "PATCH", sku, {"attributes": None}, 422, "attributes"),
        Bad("product change is a list", m, "PATCH", product, [], 422, "body"),
        Bad("product change is text", m, "PATCH", product, "title", 422, "body"),
        Bad("product change is a number", m, "PATCH", product, 42, 422, "body"),
        Bad("title is null", m, "PATCH", product, {"title": None}, 422, "title"),
        Bad("category is null", m, "PATCH", product, {"category_id": None}, 422, "category_id"),
        Bad("brand is text", m, "PATCH", product, {"brand_id": "1"}, 422, "brand_id"),
        Bad("images are null", m, "PATCH", product, {"images": None}, 422, "images"),
        Bad("returns flag is null", m, "PATCH", product, {"seven_day_returns": None}, 422, "seven_day_returns"),
        Bad("pay-later flag is a word", m, "PATCH", product, {"pay_later": "maybe"}, 422, "pay_later"),
        # over-long and empty text
        Bad("long title", m, "PATCH", product, {"title": "长" * 121}, 422, "title"),
        Bad("long brand name", m, "POST", "/brands", {"name": "牌" * 81}, 422, "name"),
        Bad("empty sku code", m, "POST", f"{product}/skus", {"code": "", "price_fen": 1}, 422, "code"),
        Bad("sku code with a space", m, "POST", f"{product}/skus", {"code": "有空 格", "price_fen": 1}, 422, "code"),
        # unknown ids
        Bad("unknown product", None, "GET", f"/products/{UNKNOWN}", None, 404, "product_id", "not_found"),
        Bad("unknown product card", None, "GET", f"/products/{UNKNOWN}/card", None, 404, "product_id", "not_found"),
        Bad(
            "change an unknown product",
            m,
            "PATCH",
            f"/products/{UNKNOWN}",
            {"title": "新"},
            404,
            "product_id",
            "not_found",
        ),
        Bad("list an unknown product", m, "POST", f"/products/{UNKNOWN}/list", None, 404, "product_id", "not_found"),
        Bad(
            "delist an unknown product", m, "POST", f"/products/{UNKNOWN}/delist", None, 404, "product_id", "not_found"
        ),
        Bad(
            "add a sku to an unknown product",
            m,
            "POST",
            f"/products/{UNKNOWN}/skus",
            {"code": "X", "price_fen": 1},
            404,
            "product_id",
            "not_found",
        ),
        Bad("unknown sku", None, "GET", f"/skus/{UNKNOWN}", None, 404, "sku_id", "not_found"),
        Bad("unknown sku's prices", None, "GET", f"/skus/{UNKNOWN}/price-history", None, 404, "sku_id", "not_found"),
        Bad("change an unknown sku", m, "PATCH", f"/skus/{UNKNOWN}", {"price_fen": 1}, 404, "sku_id", "not_found"),
        Bad("unknown category", None, "GET", f"/categories/{UNKNOWN}", None, 404, "category_id", "not_found"),
        Bad(
            "new product in an unknown category",
            m,
            "POST",
            "/products",
            shop.new_product(category_id=UNKNOWN),
            422,
            "category_id",
        ),
        Bad(
            "new product of an unknown brand",
            m,
            "POST",
            "/products",
            shop.new_product(brand_id=UNKNOWN),
            422,
            "brand_id",
        ),
        Bad(
            "new product in an unknown store",
            op,
            "POST",
            "/products",
            shop.new_product(store_id=UNKNOWN),
            422,
            "store_id",
        ),
        Bad("move to an unknown category", m, "PATCH", product, {"category_id": UNKNOWN}, 422, "category_id"),
        Bad("change to an unknown brand", m, "PATCH", product, {"brand_id": UNKNOWN}, 422, "brand_id"),
    ]
    for label, (body, field) in NEW_PRODUCT_WRONG_TYPES.items():
        table.append(Bad(f"new product: {label}", m, "POST", "/products", body(shop), 422, field, "invalid_input"))
    for ch in CONTROL_CHARACTERS:
        u = f"U+{ord(ch):04X}"
        table += [
            Bad(f"{u} in a new title", m, "POST", "/products", shop.new_product(title=f"手机{ch}壳"), 422, "title"),
            Bad(
                f"{u} in a new description",
                m,
                "POST",
                "/products",
                shop.new_product(description=f"说{ch}明"),
                422,
                "description",
            ),
            Bad(
                f"{u} in a new attribute",
                m,
                "POST",
                "/products",
                shop.new_product(skus=[{"code": "A", "price_fen": 1, "attributes": {"颜色": f"红{ch}色"}}]),
                422,
                "skus.0.attributes.颜色",
            ),
            Bad(f"{u} in a title", m, "PATCH", product, {"title": f"新{ch}品"}, 422, "title"),
            Bad(
                f"{u} in a cover address",
                m,
                "PATCH",
                product,
                {"cover_url": f"https://img.example.com/{ch}.jpg"},
                422,
                "cover_url",
            ),
            Bad(f"{u} in an attribute", m, "PATCH", sku, {"attributes": {"颜色": f"白{ch}色"}}, 422, "attributes.颜色"),
            Bad(f"{u} in a brand name", m, "POST", "/brands", {"name": f"新{ch}牌"}, 422, "name"),
        ]
    return table


test_bad_input = bad_input_test(bad_requests)


def test_refused_changes_leave_the_product_and_sku_as_they_were(shop: Shop) -> None:
    """Besides the tables: what the API shows of a product after refused changes is what it showed before."""
    sku = shop.listed["skus"][0]
    for bad in bad_requests(shop):
        send(shop.client, bad)
    assert shop.client.get(f"{API}/skus/{sku['id']}").json() == sku
    assert shop.client.get(f"{API}/products/{shop.listed['id']}").json() == shop.listed
