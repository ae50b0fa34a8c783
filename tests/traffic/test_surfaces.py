"""Every storefront surface on the traffic engine: the web home, the mall front and the category shelves
(web and API) serve ranked pages, launch-plan slots included, and log their impressions under their own
surface — to the signed-in shopper, or to no shopper for a visitor or a merchant browsing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import User
from tests.traffic.conftest import Market
from tests.web.conftest import Browser, browser_factory  # noqa: F401 (the fixture)
from yinli.catalog.models import Category
from yinli.core.ids import encode_cursor
from yinli.traffic.models import TrafficEvent

CARD = re.compile(r'<article class="card')
PRODUCT_LINK = re.compile(r'href="/p/(\d+)\?from=(\w+)"')


def _impressions(market: Market, surface: str) -> list[TrafficEvent]:
    with market.world.database.session() as session:
        return list(
            session.scalars(
                select(TrafficEvent)
                .where(TrafficEvent.kind == "impression", TrafficEvent.surface == surface)
                .order_by(TrafficEvent.id)
            )
        )


def _established(market: Market, stores: int = 12) -> None:
    for i in range(stores):
        market.store(3, leaf=("pet", "phone")[i % 2])
    market.clock.advance(timedelta(days=31))  # no longer new merchants
    market.world._operator = None  # a fresh operator token (the first expired with the 31 days)


def _interested(market: Market, *leaves: str) -> User:
    """A shopper who clicked a feed item of each leaf (interests form from clicks)."""
    shopper = market.world.shopper()
    market.refresh()
    page = market.feed(shopper, limit=20)
    for leaf in leaves:
        item = next(i for i in page["items"] if i["product"]["category_id"] == market.leaf(leaf))
        market.click(shopper, page, item, 1)
    market.refresh()
    return shopper


def _new_stores(market: Market, n: int) -> tuple[list[int], dict[int, str]]:
    """`n` new merchants (enrolled in the launch plan by the next round), each selling a pet and a phone
    product; returns their store ids and each product's leaf."""
    stores, leaf_of = [], {}
    for _ in range(n):
        m = market.world.merchant()
        stores.append(m.store_id)
        for leaf in ("pet", "phone"):
            leaf_of[market.product(m, leaf=leaf)["id"]] = leaf
    market.refresh()  # enrols them and builds their launch board
    return stores, leaf_of  # type: ignore[return-value]


def _root(market: Market, leaf: str) -> int:
    with market.world.database.session() as session:
        category = session.get(Category, market.leaf(leaf))
        assert category is not None
        root = session.scalar(select(Category.id).where(Category.path == category.path.split(" > ")[0]))
    assert root is not None
    return root


def test_the_web_home_is_the_ranked_feed_logged_to_the_shopper_or_to_no_one(market: Market, browser_factory) -> None:  # noqa: F811
    _established(market, stores=14)
    shopper = market.world.shopper()
    merchant = market.world.merchant()
    market.refresh()

    anon: Browser = browser_factory()
    r = anon.get("/")
    assert r.status_code == 200
    shown = [int(p) for p, src in PRODUCT_LINK.findall(r.text) if src == "feed"]
    logged = _impressions(market, "web_home")
    assert len(shown) == len(CARD.findall(r.text)) == len(logged) == 20
    assert {e.shopper_id for e in logged} == {None} and len({e.request_id for e in logged}) == 1
    assert [e.product_id for e in logged] == shown  # in the page's order

    more = re.search(r'href="/\?cursor=([^"]+)"', r.text)
    assert more, "a 20-item page of 42 products has a next page"
    second = anon.get(f"/?cursor={more.group(1)}")
    assert second.status_code == 200
    again = [int(p) for p, _ in PRODUCT_LINK.findall(second.text)]
    assert again and not set(again) & set(shown)

    browser_factory(shopper.email).get("/")
    browser_factory(merchant.email).get("/")  # a merchant browsing the storefront sees a visitor's page
    pages: dict[str, set[int | None]] = {}
    for e in _impressions(market, "web_home"):
        pages.setdefault(e.request_id or "", set()).add(e.shopper_id)
    assert sorted(pages.values(), key=str) == sorted([{None}, {None}, {shopper.id}, {None}], key=str)
    assert not _impressions(market, "feed")  # the API's feed keeps its own surface

    for bad in ("nonsense", encode_cursor({"p": 99, "s": 1})):  # not a cursor; past the last page
        r = anon.get(f"/?cursor={bad}")
        assert 400 <= r.status_code < 500, r.status_code
    assert len(_impressions(market, "web_home")) == 80  # bad requests logged nothing


def test_new_merchants_get_launch_slots_through_the_web_home(market: Market, browser_factory) -> None:  # noqa: F811
    _established(market, stores=40)  # enough that new merchants are not all on the page organically
    shopper = _interested(market, "pet", "phone")
    new_stores, leaf_of = _new_stores(market, 5)
    web = browser_factory(shopper.email)
    for _ in range(10):
        assert web.get("/").status_code == 200
    launch = [e for e in _impressions(market, "web_home") if e.slot == "launch"]
    assert launch, "the launch plan places new merchants on the web home"
    assert {e.store_id for e in launch} <= set(new_stores)
    assert {e.shopper_id for e in launch} == {shopper.id} and all(e.quality for e in launch)
    html = web.get("/").text
    assert {int(p) for p, _ in PRODUCT_LINK.findall(html)} & set(leaf_of)  # new merchants' cards are shown


def test_a_category_page_ranks_within_its_subtree_plan_slots_included(market: Market, browser_factory) -> None:  # noqa: F811
    _established(market, stores=40)
    shopper = _interested(market, "pet", "phone")
    new_stores, leaf_of = _new_stores(market, 5)
    phone_root, phone = _root(market, "phone"), market.leaf("phone")
    web = browser_factory(shopper.email)
    for _ in range(10):
        r = web.get(f"/mall/c/{phone_root}")
        assert r.status_code == 200 and "为你推荐" in r.text
    logged = _impressions(market, "category")
    assert logged and {e.category_id for e in logged} == {phone}
    launch = [e for e in logged if e.slot == "launch"]
    assert launch and {e.store_id for e in launch} <= set(new_stores)
    assert {leaf_of[e.product_id] for e in launch} == {"phone"}  # the store's pet product stays off the page

    r = market.client.get(f"/api/v1/categories/{phone_root}/shelf", headers=shopper.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["items"] and body["recommended"]["shopper_id"] == shopper.id
    assert {i["product"]["category_id"] for i in body["recommended"]["items"]} == {phone}
    assert market.client.get(f"/api/v1/categories/{phone_root}/shelf", params={"page": 2}).json()["recommended"] is None

    market.store(1, leaf="game")  # a category that fits on one shelf page has no ranked section
    market.refresh()
    game = market.leaf("game")
    assert "为你推荐" not in web.get(f"/mall/c/{game}").text
    assert market.client.get(f"/api/v1/categories/{game}/shelf").json()["recommended"] is None
    assert {e.category_id for e in _impressions(market, "category")} == {phone}

    r = market.client.get("/api/v1/mall")  # a visitor: the whole catalogue, logged to no shopper
    assert r.status_code == 200 and r.json()["recommended"]["shopper_id"] is None
    mall = _impressions(market, "mall")
    assert len(mall) == len(r.json()["recommended"]["items"]) > 0 and {e.shopper_id for e in mall} == {None}
    assert web.get("/mall").status_code == 200
    assert {e.shopper_id for e in _impressions(market, "mall")} == {None, shopper.id}


@pytest.mark.parametrize(
    "path",
    [
        "/mall/c/999999",
        "/mall/c/0",
        "/mall/c/abc",
        "/mall/c/99999999999999999999",
        "/api/v1/categories/999999/shelf",
        "/api/v1/categories/0/shelf",
        "/api/v1/categories/abc/shelf",
    ],
)
def test_a_bad_category_is_a_404_and_serves_nothing(market: Market, browser_factory, path: str) -> None:  # noqa: F811
    market.store(2)
    r = browser_factory().get(path)
    assert r.status_code in (404, 422), (path, r.status_code)
    assert not _impressions(market, "category")
