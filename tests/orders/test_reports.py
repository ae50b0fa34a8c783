"""The console's sales reports' definitions: the shelf (search, mall, store pages) and formats by surface."""

from __future__ import annotations

from yinli.orders.models import Surface
from yinli.orders.reports import SHELF_SURFACES, format_of, shelf_share


def test_the_shelf_is_search_mall_and_store_pages():
    assert {Surface.SEARCH, Surface.MALL, Surface.STORE_PAGE} == SHELF_SURFACES
    by_surface = {"search": 300, "mall": 100, "store_page": 100, "live": 400, "feed": 50, "product_page": 50}
    assert shelf_share(by_surface) == 0.5
    assert shelf_share({"live": 10}) == 0.0  # sold, none of it on a shelf
    assert shelf_share({}) is None  # nothing sold: no share at all


def test_every_surface_has_one_format():
    formats = {s.value: format_of(s.value) for s in Surface}
    assert formats == {
        "feed": "other",
        "live": "live",
        "short_video": "short_video",
        "mall": "shelf",
        "search": "shelf",
        "store_page": "shelf",
        "product_page": "other",
    }
    assert format_of(Surface.LIVE) == "live"  # the enum and its value read the same
