"""Bad input on the catalogue beyond its table of bad requests (tests/catalog/test_api.py): price bounds,
catalogue rules (a leaf category, list price above price, unique SKU codes, the last active SKU), another
store's products, filters and page sizes. Each refusal is a clear problem+json and changes nothing.
"""

from __future__ import annotations

from typing import Any

from tests.bad_input import API, UNKNOWN, assert_problem, case, nothing_written
from yinli.core.schemas import MAX_AMOUNT

# --- prices -------------------------------------------------------------------------------------------

BAD_AMOUNTS = [-1, 0, MAX_AMOUNT + 1, 10**12, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30]


def test_bad_prices_are_refused_everywhere(shop, database, client):
    sku = shop.listed["skus"][0]
    h = shop.merchant.headers
    with nothing_written(database):
        for amount in BAD_AMOUNTS:
            for field in ("price_fen", "list_price_fen"):
                with case((field, amount)):
                    spec = {"code": "N", "price_fen": 100, field: amount}
                    r = client.post(f"{API}/products", json=shop.new_product(skus=[spec]), headers=h)
                    assert_problem(r, 422, f"skus.0.{field}")
                    r = client.post(f"{API}/products/{shop.listed['id']}/skus", json=spec, headers=h)
                    assert_problem(r, 422, field)
                    assert_problem(client.patch(f"{API}/skus/{sku['id']}", json={field: amount}, headers=h), 422, field)
    assert client.get(f"{API}/skus/{sku['id']}").json() == sku


def test_the_largest_price_is_accepted(shop, client):
    """The bound itself is a valid price (so the refusals above are about size, not about the field)."""
    spec = {"code": "MAX", "price_fen": MAX_AMOUNT, "list_price_fen": MAX_AMOUNT}
    r = client.post(f"{API}/products", json=shop.new_product(skus=[spec]), headers=shop.merchant.headers)
    assert r.status_code == 201, r.text
    assert r.json()["skus"][0]["price"]["amount"] == MAX_AMOUNT


def test_bad_price_filters_are_refused(client):
    for value in ["-1", str(MAX_AMOUNT + 1), str(2**63), str(2**64), "1e3", "abc", "1.5"]:
        for path in ("/products", "/product-cards"):
            for name in ("min_price", "max_price"):
                with case((path, name, value)):
                    assert_problem(client.get(f"{API}{path}", params={name: value}), 422, name)


def test_min_price_above_max_price_is_refused(client):
    assert_problem(client.get(f"{API}/products", params={"min_price": 5, "max_price": 1}), 422, "min_price")


# --- text ---------------------------------------------------------------------------------------------


def test_over_long_text_in_a_new_product_is_refused(shop, database, client):
    h = shop.merchant.headers
    long_sku = {"code": "A" * 65, "price_fen": 1}
    cases = [
        (shop.new_product(title="长" * 121), "title"),
        (shop.new_product(title="   "), "title"),
        (shop.new_product(title=""), "title"),
        (shop.new_product(description="字" * 5001), "description"),
        (shop.new_product(cover_url="https://img.example.com/" + "a" * 1000), "cover_url"),
        (shop.new_product(images=[f"https://img.example.com/{i}.jpg" for i in range(10)]), "images"),
        (shop.new_product(skus=[long_sku]), "skus.0.code"),
        (shop.new_product(skus=[{"code": "A", "price_fen": 1, "attributes": {"名" * 33: "红"}}]), "skus.0.attributes"),
        (
            shop.new_product(skus=[{"code": "A", "price_fen": 1, "attributes": {"颜色": "红" * 65}}]),
            "skus.0.attributes.颜色",
        ),
        (
            shop.new_product(skus=[{"code": "A", "price_fen": 1, "attributes": {f"k{i}": "v" for i in range(11)}}]),
            "skus.0.attributes",
        ),
        (shop.new_product(skus=[{"code": f"C{i}", "price_fen": 1} for i in range(101)]), "skus"),
    ]
    with nothing_written(database):
        for body, field in cases:
            r = client.post(f"{API}/products", json=body, headers=h)
            body_problem = assert_problem(r, 422)
            fields = [e["field"] for e in body_problem["errors"]]
            assert any(f == field or f.startswith(field + ".") for f in fields), (field, body_problem)
    # the boundary is allowed: 120 characters of title
    r = client.post(f"{API}/products", json=shop.new_product(title="长" * 120), headers=h)
    assert r.status_code == 201 and r.json()["title"] == "长" * 120


def test_tabs_and_newlines_are_fine_in_descriptions(shop, client):
    r = client.post(
        f"{API}/products", json=shop.new_product(description="第一行\n第二行\t缩进"), headers=shop.merchant.headers
    )
    assert r.status_code == 201, r.text
    assert r.json()["description"] == "第一行\n第二行\t缩进"


def test_control_characters_in_a_search_prefix_are_refused(client):
    for ch in ("\x00", "\x1b"):
        with case(ch):
            assert_problem(client.get(f"{API}/brands", params={"prefix": f"a{ch}b"}), 422, "prefix")


# --- unknown ids in queries --------------------------------------------------------------------------


def test_unknown_ids_in_queries_are_404(client):
    assert_problem(client.get(f"{API}/categories", params={"parent_id": UNKNOWN}), 404, "parent_id")
    assert_problem(client.get(f"{API}/products", params={"category_id": UNKNOWN}), 404, "category_id")


# --- another merchant's products ----------------------------------------------------------------------


def _changes_to(product: dict[str, Any]) -> list[tuple[str, str, Any]]:
    pid, sku_id = product["id"], product["skus"][0]["id"]
    return [
        ("PATCH", f"/products/{pid}", {"title": "抢来的"}),
        ("POST", f"/products/{pid}/list", None),
        ("POST", f"/products/{pid}/delist", None),
        ("POST", f"/products/{pid}/skus", {"code": "STOLEN", "price_fen": 1}),
        ("PATCH", f"/skus/{sku_id}", {"price_fen": 1}),
    ]


def test_another_stores_listed_product_is_403(shop, database, client):
    product = shop.rival_listed
    with nothing_written(database):
        for method, path, body in _changes_to(product):
            r = client.request(method, f"{API}{path}", json=body, headers=shop.merchant.headers)
            assert_problem(r, 403, code="forbidden")
    assert client.get(f"{API}/products/{product['id']}", headers=shop.rival.headers).json() == product


def test_another_stores_draft_is_404(shop, database, client):
    product = shop.rival_draft
    with nothing_written(database):
        for method, path, body in _changes_to(product):
            r = client.request(method, f"{API}{path}", json=body, headers=shop.merchant.headers)
            assert_problem(r, 404, code="not_found")
        assert_problem(client.get(f"{API}/products/{product['id']}", headers=shop.merchant.headers), 404)
    assert client.get(f"{API}/products/{product['id']}", headers=shop.rival.headers).json() == product


def test_creating_in_another_store_is_403(shop, database, client):
    with nothing_written(database):
        r = client.post(
            f"{API}/products", json=shop.new_product(store_id=shop.rival.store_id), headers=shop.merchant.headers
        )
        assert_problem(r, 403, code="forbidden")


def test_shoppers_and_strangers_change_nothing(shop, database, client):
    shopper = shop.world.shopper()
    product = shop.listed
    with nothing_written(database):
        for method, path, body in _changes_to(product):
            assert_problem(client.request(method, f"{API}{path}", json=body, headers=shopper.headers), 403)
            assert_problem(client.request(method, f"{API}{path}", json=body), 401, code="not_authenticated")


# --- catalogue rules ----------------------------------------------------------------------------------


def test_products_need_a_leaf_category(shop, database, client):
    _leaf, parent, root = shop.category_ids()
    product = shop.draft
    with nothing_written(database):
        for category_id in (parent, root):
            r = client.post(
                f"{API}/products", json=shop.new_product(category_id=category_id), headers=shop.merchant.headers
            )
            assert_problem(r, 422, "category_id")
            r = client.patch(
                f"{API}/products/{product['id']}", json={"category_id": category_id}, headers=shop.merchant.headers
            )
            assert_problem(r, 422, "category_id")
    assert client.get(f"{API}/products/{product['id']}", headers=shop.merchant.headers).json() == product


def test_list_price_below_price_is_refused(shop, database, client):
    h = shop.merchant.headers
    sku = shop.listed["skus"][0]  # 3900, no list price
    with nothing_written(database):
        skus = [{"code": "A", "price_fen": 100}, {"code": "B", "price_fen": 3900, "list_price_fen": 3899}]
        r = client.post(f"{API}/products", json=shop.new_product(skus=skus), headers=h)
        assert_problem(r, 422, "skus.1.list_price_fen")
        r = client.post(
            f"{API}/products/{shop.listed['id']}/skus",
            json={"code": "C", "price_fen": 500, "list_price_fen": 499},
            headers=h,
        )
        assert_problem(r, 422, "list_price_fen")
        r = client.patch(f"{API}/skus/{sku['id']}", json={"list_price_fen": sku["price"]["amount"] - 1}, headers=h)
        assert_problem(r, 422, "list_price_fen")
    # raising the price above an existing list price is the same mistake
    r = client.patch(f"{API}/skus/{sku['id']}", json={"list_price_fen": 5000}, headers=h)
    assert r.status_code == 200, r.text
    changed = r.json()
    with nothing_written(database):
        r = client.patch(f"{API}/skus/{sku['id']}", json={"price_fen": 5001}, headers=h)
        assert_problem(r, 422, "list_price_fen")
    assert client.get(f"{API}/skus/{sku['id']}").json() == changed


def test_duplicate_sku_codes_are_refused(shop, database, client):
    h = shop.merchant.headers
    existing = shop.listed["skus"][0]["code"]
    with nothing_written(database):
        for codes in (["A", "A"], ["A", " A "], ["A", "B", "A"]):
            skus = [{"code": c, "price_fen": 100} for c in codes]
            r = client.post(f"{API}/products", json=shop.new_product(skus=skus), headers=h)
            assert_problem(r, 422, f"skus.{len(codes) - 1}.code")
        r = client.post(
            f"{API}/products/{shop.listed['id']}/skus", json={"code": existing, "price_fen": 100}, headers=h
        )
        assert_problem(r, 409, "code", code="sku_code_taken")
    assert client.get(f"{API}/products/{shop.listed['id']}").json() == shop.listed


def test_the_last_active_sku_of_a_listed_product_stays(shop, database, client):
    h = shop.merchant.headers
    first, second = shop.listed["skus"]
    assert client.patch(f"{API}/skus/{first['id']}", json={"is_active": False}, headers=h).status_code == 200
    product = client.get(f"{API}/products/{shop.listed['id']}").json()
    with nothing_written(database):
        # the change is made, recorded and then found to break the rule: all of it must be undone
        r = client.patch(f"{API}/skus/{second['id']}", json={"is_active": False, "price_fen": 1}, headers=h)
        assert_problem(r, 409, "is_active", code="last_active_sku")
    assert client.get(f"{API}/products/{shop.listed['id']}").json() == product


def test_bad_page_sizes_are_refused(client):
    for limit in ["0", "-1", "201", str(2**64), "x"]:
        with case(limit):
            assert_problem(client.get(f"{API}/products", params={"limit": limit}), 422, "limit")


def test_issued_cursors_still_work(shop, client):
    """The refusals above are about the cursors, not the parameter."""
    first = client.get(f"{API}/products", params={"limit": 1}).json()
    assert first["next_cursor"]
    second = client.get(f"{API}/products", params={"limit": 1, "cursor": first["next_cursor"]})
    assert second.status_code == 200
    assert second.json()["items"][0]["id"] < first["items"][0]["id"]
