"""The search page use case (search.page.do_search_page), which the API and the web page share: hits the
index still has but the catalog no longer sells are dropped from the page and the log; offsets outside
the window give an empty page; the web's page past the end shows the last page. Every backend."""

from __future__ import annotations

from sqlalchemy import select, update

from tests.search.conftest import product
from yinli.catalog.models import Product
from yinli.search.backends.base import Filters, Sort
from yinli.search.models import LoggedSearch
from yinli.search.page import PAGE_SIZE, PageQuery, do_search_page
from yinli.search.service import SearchRequest


def _run(world, engine, clock, request, **kw):
    with world.database.read_sessions() as db, world.database.sessions() as wdb:
        page = do_search_page(db, wdb, clock, None, engine, request, **kw)
        wdb.commit()
        logged = wdb.scalar(select(LoggedSearch).where(LoggedSearch.id == page.search_id))
        return page, logged


def test_a_product_delisted_since_the_last_round_is_not_shown_nor_logged(world, engine, sync, clock):
    m = world.merchant()
    kept = product(world, m, "手机壳 防摔")
    gone = product(world, m, "手机壳 透明")
    sync()
    with world.database.sessions() as db:  # behind the index's back: it still has the product
        db.execute(update(Product).where(Product.id == gone).values(status="delisted"))
        db.commit()
    page, logged = _run(world, engine, clock, SearchRequest("手机壳", Filters(), Sort.RELEVANCE, 0, 10))
    assert [h.product_id for h in page.hits] == [kept] == [c.product_id for c in page.cards]
    assert page.total == 2  # the engine's count
    assert logged.shown == [kept] and logged.query == "手机壳" and logged.total == 2
    assert page.has_facets and sum(c.count for c in page.categories) == 2
    assert [s.store_id for s in page.stores] == [m.store_id] and page.stores[0].name


def test_offsets_outside_the_window_and_pages_past_the_end(world, engine, sync, clock):
    m = world.merchant()
    for i in range(3):
        product(world, m, f"手机壳 {i}")
    sync()
    past = SearchRequest("手机壳", Filters(), Sort.RELEVANCE, engine.candidates + 5, 10)
    page, logged = _run(world, engine, clock, past)
    assert page.hits == [] and page.offset == engine.candidates and logged.page_offset == engine.candidates
    # the web page asks by number; page 9 of one page shows page 1
    page, logged = _run(world, engine, clock, PageQuery("手机壳", page=9).request(engine.candidates), to_last_page=True)
    assert (page.page, page.pages, len(page.hits), page.limit) == (1, 1, 3, PAGE_SIZE) and logged.page_offset == 0
    # the API's offset past the results: an empty page, as asked
    page, _ = _run(world, engine, clock, SearchRequest("手机壳", Filters(), Sort.RELEVANCE, 20, 10))
    assert page.hits == [] and page.total == 3


def test_the_page_query_filters_and_sort(world, engine, sync, clock):
    m = world.merchant()
    cheap = product(world, m, "手机壳 便宜", price=1000)
    dear = product(world, m, "手机壳 贵", price=9000)
    sync()
    q = PageQuery("手机壳", sort="price_desc", flags=("pay_later", "bogus"))
    assert q.filters() == Filters(pay_later=True)
    page, logged = _run(world, engine, clock, q.request(engine.candidates), to_last_page=True)
    assert [h.product_id for h in page.hits] == [dear, cheap]
    assert logged.sort == "price_desc" and logged.filters == {"pay_later": True}
    assert PageQuery(sort="nonsense").request().sort is Sort.RELEVANCE
