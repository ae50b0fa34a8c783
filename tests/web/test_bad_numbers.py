"""Numbers typed by hand into the web — an id in a URL, a form field, a query string — are ASCII digits in
range or they are refused: a 404 page for an id in a URL, the form again with the field's message, or
another 4xx; never a 500 (DESIGN rule 8). '²' passes str.isdigit() and fails int(); '١٢' passes int();
5,000 digits pass neither the int-digits limit nor any column."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.api.test_strict_input import all_routes
from tests.bad_input import case, nothing_written
from tests.web.conftest import signed_in
from yinli.accounts.models import User
from yinli.web.core import WebRoute

NOT_IDS = ["²", "١٢", "0", "-1", "9" * 5000, str(2**63), str(2**53 + 1), "+5", "1_0", " 5", "5.0", "0x1"]
NOT_NUMBERS = ["²", "١٢", "9" * 5000, str(2**63), "1e3", "1_000", "+5", "12abc"]
PARAM = re.compile(r"\{([a-z_]+)\}")


def _web_id_routes(app):  # type: ignore[no-untyped-def]
    """(method, path, names of its int path params) for every web page whose path has an id."""
    found = []
    for path, route in all_routes(app.routes):
        ints = [p.alias for p in route.dependant.path_params if p.field_info.annotation is int]
        if isinstance(route, WebRoute) and ints:
            found.extend((method, path, ints) for method in sorted(route.methods))
    return found


def test_every_web_url_with_a_bad_id_is_the_404_page(app, browser_factory, shop, database):
    routes = _web_id_routes(app)
    assert len(routes) > 40, routes  # the walk found them: products, stores, orders, live, videos, ...
    assert {"/p/{product_id}", "/s/{store_id}", "/orders/{order_id}"} <= {p for _, p, _ in routes}
    visitors = [browser_factory(), *(signed_in(browser_factory, shop[who]) for who in ("shopper", "merchant"))]
    real = str(shop["products"][0]["id"])
    with nothing_written(database):
        for method, path, ints in routes:
            for value in NOT_IDS:
                for bad in ints:
                    # the id at fault is bad, any other id in the path is a real one
                    url = PARAM.sub(lambda m, bad=bad, value=value: value if m.group(1) == bad else real, path)
                    for visitor in visitors:
                        with case((method, path, bad, value)):
                            r = visitor.client.request(method, url, follow_redirects=False)
                            assert r.status_code == 404, r.text[:300]
                            assert r.headers["content-type"].startswith("text/html")
                            assert "页面不存在" in r.text or "not found" in r.text.lower()


def test_good_ids_still_open_their_pages(anon, shop):
    product = shop["products"][0]
    assert anon.get(f"/p/{product['id']}").status_code == 200
    assert anon.get(f"/s/{shop['merchant'].store_id}").status_code == 200


def test_bad_numbers_in_query_strings_are_ignored_or_refused(anon, shop):
    product = shop["products"][0]
    for value in NOT_NUMBERS:
        with case(value):
            for url, params in [
                ("/search", {"q": "鞋", "category_id": value, "page": value, "store_id": value}),
                ("/search", {"q": "鞋", "min_price": value, "max_price": value}),
                (f"/p/{product['id']}", {"sku_id": value, "quantity": value, "source_id": value, "from": "live"}),
                (f"/p/{product['id']}/price", {"sku_id": value}),
                (f"/s/{shop['merchant'].store_id}", {"page": value}),
                ("/mall", {"page": value}),
            ]:
                r = anon.get(url, params=params)
                assert r.status_code in (200, 404, 422), (url, r.status_code, r.text[:300])


def test_signup_with_a_bad_birth_year_shows_the_form_again(anon, database):
    def users() -> int:
        with database.session() as s:
            return s.scalar(select(func.count()).select_from(User)) or 0

    before = users()
    form = {"email": "year@example.com", "password": "long enough pw", "display_name": "新人"}
    for value in [*NOT_NUMBERS, "1850", "-1990"]:
        with case(value):
            r = anon.post("/signup", {**form, "birth_year": value})
            assert r.status_code == 422, r.text[:300]
            assert 'id="f-birth_year-error"' in r.text
    assert users() == before
    r = anon.post("/signup", {**form, "birth_year": "1999"}, follow_redirects=False)
    assert r.status_code == 303 and users() == before + 1


def test_a_bad_birth_year_on_the_account_page_changes_nothing(browser_factory, world, database):
    shopper = world.user("shopper", birth_year=1990)
    b = signed_in(browser_factory, shopper)
    with nothing_written(database):
        for value in NOT_NUMBERS:
            with case(value):
                r = b.post("/account", {"display_name": "小新", "birth_year": value})
                assert r.status_code == 422 and 'id="f-birth_year-error"' in r.text, r.text[:300]
    assert 'value="1990"' in b.get("/account").text


def test_bad_numbers_in_merchant_forms_are_field_errors(browser_factory, shop, database):
    merchant = signed_in(browser_factory, shop["merchant"])
    product = shop["products"][0]
    sku = product["skus"][0]
    page = f"/merchant/products/{product['id']}"
    with nothing_written(database):
        for value in NOT_NUMBERS:
            with case(value):
                r = merchant.post(
                    "/merchant/affiliate", {"product_id": str(product["id"]), "rate": value, "creator_id": ""}
                )
                assert r.status_code == 422 and 'id="f-rate-error"' in r.text, r.text[:300]
                r = merchant.post("/merchant/affiliate", {"product_id": value, "rate": "10", "creator_id": value})
                assert r.status_code == 422, r.text[:300]
                r = merchant.post(f"/merchant/skus/{sku['id']}", {"price": "39", "stock": value}, page=page)
                assert r.status_code == 422, r.text[:300]
                r = merchant.post(f"/merchant/skus/{sku['id']}", {"price": value, "stock": "5"}, page=page)
                assert r.status_code == 422, r.text[:300]


def test_bad_numbers_in_shopper_forms_are_refused(browser_factory, shop, database):
    shopper = signed_in(browser_factory, shop["shopper"])
    product = shop["products"][0]
    page = f"/p/{product['id']}"
    with nothing_written(database):
        for value in NOT_NUMBERS:
            with case(value):
                form = {"product_id": str(product["id"]), "sku_id": value, "quantity": "1"}
                r = shopper.post("/cart/add", form, page=page)
                assert 400 <= r.status_code < 500, r.text[:300]
                form = {"product_id": str(product["id"]), "sku_id": str(product["skus"][0]["id"]), "quantity": value}
                r = shopper.post("/cart/add", form, page=page)
                assert 400 <= r.status_code < 500, r.text[:300]
