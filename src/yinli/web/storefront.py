"""The storefront: feed, mall, search, product, store (cart, checkout and paying: shop_checkout.py; orders,
after-sales and reviews: shop_orders.py; account pages and signing in: account.py).

Mobile-first pages. Each handler: resolve the caller (WebDep), call services, render. Forms post back
to the same URL; on a DomainError the form is shown again with the problem next to its field.
"""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from yinli.api.deps import DB, ClockDep, ReadDB, SettingsDep
from yinli.catalog import cards, categories
from yinli.catalog import service as catalog
from yinli.catalog.models import Category
from yinli.catalog.price_history import lowest_prices_since
from yinli.catalog.pricing import unit_prices
from yinli.content import favourites, shelves, videos
from yinli.content import home as home_page
from yinli.core.auth import Role
from yinli.core.clock import Clock
from yinli.core.errors import DomainError, NotFound
from yinli.core.parsing import parse_id
from yinli.inventory import service as inventory
from yinli.merchants import service as merchants
from yinli.merchants.models import Store
from yinli.orders import feedback, metrics
from yinli.orders.models import Surface
from yinli.search import log as search_log
from yinli.search.models import SearchAction
from yinli.search.page import FLAGS, SORTS, PageQuery, do_search_page
from yinli.traffic import events
from yinli.traffic import service as traffic
from yinli.traffic.api import engine_of
from yinli.traffic.hydrate import FeedTile, hydrate
from yinli.web import live
from yinli.web.core import (
    FormErrors,
    Web,
    WebDep,
    WebRoute,
    general_error,
    parse_yuan,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)

BUYERS = (Role.SHOPPER, Role.CREATOR)
SOURCED = (Surface.LIVE, Surface.SHORT_VIDEO, Surface.SEARCH)


def surface_of(value: str | None, default: Surface = Surface.PRODUCT_PAGE) -> Surface:
    try:
        return Surface(value) if value else default
    except ValueError:
        return default


# --- feed, mall, search ---------------------------------------------------------------------------------


HOME_LIMIT = 20  # tiles a home page shows (the engine's page; "more" asks for the next with its cursor)
SECTION_LIMIT = 8  # the mall's and a category's recommended section


@router.get("/", response_class=HTMLResponse)
def home(request: Request, web: WebDep, db: DB, rdb: ReadDB, clock: ClockDep, cursor: str | None = None) -> Response:
    """The ranked feed (the traffic engine's page for this shopper, or a visitor's), its impressions
    logged under surface `web_home`; rooms on air as a strip on top when the page has no live tile."""
    fp, state = traffic.do_serve_storefront(
        db, engine_of(request), web.actor, surface=events.WEB_HOME, limit=HOME_LIMIT, cursor=cursor
    )
    db.commit()  # what was shown is what was served
    room = web.pay_later_room(rdb)
    tiles = hydrate(rdb, clock, fp, state, pay_later_room=room)
    strip = (
        [] if fp.page > 1 or any(t.kind == "live" for t in tiles) else home_page.on_air(rdb, clock, pay_later_room=room)
    )
    return web.render("shop/home.html", tiles=tiles, on_air=strip, more=traffic.next_cursor(fp), tab="feed")


def _recommended(
    request: Request, web: WebDep, db: Session, rdb: Session, clock: Clock, category: Category | None
) -> list[FeedTile]:
    """A shelf page's ranked section: the engine's page over the catalogue (the mall front) or over the
    category's subtree, logged under surface `mall` or `category`; only the tiles with a card show."""
    fp, state = traffic.do_serve_storefront(
        db,
        engine_of(request),
        web.actor,
        surface=events.MALL if category is None else events.CATEGORY,
        limit=SECTION_LIMIT,
        category=category,
    )
    db.commit()
    return hydrate(rdb, clock, fp, state, pay_later_room=web.pay_later_room(rdb))


@router.get("/mall", response_class=HTMLResponse)
def mall(request: Request, web: WebDep, db: DB, rdb: ReadDB, clock: ClockDep) -> Response:
    room = web.pay_later_room(rdb)
    return web.render(
        "shop/mall.html",
        roots=categories.children(rdb, None),
        recommended=_recommended(request, web, db, rdb, clock, None),
        best=cards.build_cards(rdb, clock, shelves.best_sellers(rdb, limit=8), pay_later_room=room),
        newest=cards.build_cards(rdb, clock, shelves.new_arrivals(rdb, limit=8), pay_later_room=room),
        tab="mall",
    )


@router.get("/mall/c/{category_id}", response_class=HTMLResponse)
def mall_category(
    request: Request, category_id: int, web: WebDep, db: DB, rdb: ReadDB, clock: ClockDep, sort: str = "sales"
) -> Response:
    node = categories.get_category(rdb, category_id)
    sort = sort if sort in shelves.SORTS else "sales"
    query = shelves.ShelfQuery(category_id=node.id, sort=sort)
    result = shelves.shelf_page(rdb, clock, query, pay_later_room=web.pay_later_room(rdb))
    return web.render(
        "shop/category.html",
        node=node,
        path=categories.ancestors(rdb, node),
        children=categories.children(rdb, node.id),
        recommended=_recommended(request, web, db, rdb, clock, node) if shelves.has_ranked_section(result) else [],
        result=result,
        sort=sort,
        tab="mall",
    )


@router.get("/search", response_class=HTMLResponse)
def search(request: Request, web: WebDep, db: ReadDB, wdb: DB, clock: ClockDep) -> Response:
    """The search page: results, facets and sorts from `yinli.search`; each page view is logged (search
    PV, zero-result queries) and its id rides on the result links, so a purchase is credited to it."""
    params = request.query_params
    errors = FormErrors()
    text = params.get("q", "").strip()[:80]
    min_price = parse_yuan(web, errors, "min_price", params.get("min_price", ""), required=False)
    max_price = parse_yuan(web, errors, "max_price", params.get("max_price", ""), required=False)
    sort = params.get("sort", "relevance")
    sort = sort if sort in SORTS else "relevance"
    category_id = parse_id(params.get("category_id"))
    flags = tuple(f for f in FLAGS if params.get(f) == "on")
    page, store_id = parse_id(params.get("page")) or 1, parse_id(params.get("store_id"))
    query = PageQuery(text, category_id, min_price, max_price, sort, page, store_id, flags)
    result = None
    search_id = None
    if not errors:
        try:
            engine = request.app.state.search
            result = do_search_page(
                db,
                wdb,
                clock,
                web.actor,
                engine,
                query.request(engine.candidates),
                to_last_page=True,
                pay_later_room=web.pay_later_room(db),
            )
            search_id = result.search_id
            wdb.commit()
        except DomainError as exc:  # an unknown category or min above max: say so above the filters
            wdb.rollback()
            errors = general_error(web, exc)
    category = None
    if category_id is not None:
        try:
            category = categories.get_category(db, category_id)
        except NotFound:
            category = None
    store = db.get(Store, query.store_id) if query.store_id else None
    template = "shop/_search_results.html" if web.is_htmx and request.headers.get("hx-target") == "results" else None
    context: dict[str, Any] = {
        "q": text,
        "query": query,
        "result": result,
        "search_id": search_id,
        "errors": errors,
        "category": category,
        "store": store,
        "params": {k: v for k, v in params.items() if k not in ("page", "done")},
        "tab": "search",
    }
    return web.render(template or "shop/search.html", **context)


# --- product and store -----------------------------------------------------------------------------------


def product_view(web: Web, db: Session, clock: Clock, product_id: int, sku_id: int | None) -> dict[str, Any]:
    product = catalog.get_product(db, web.actor, product_id)
    skus = [s for s in catalog.skus_of(db, product.id) if s.is_active]
    stock = inventory.available(db, [s.id for s in skus]) if skus else {}
    prices = unit_prices(db, clock.now(), skus)
    selected = next((s for s in skus if s.id == sku_id), None)
    if selected is None and skus:
        in_stock = [s for s in skus if stock.get(s.id, 0) > 0] or skus
        selected = min(in_stock, key=lambda s: (prices[s.id].final, s.id))
    card = cards.build_cards(db, clock, [product], pay_later_room=web.pay_later_room(db))[0]
    lowest = lowest_prices_since(db, [selected.id], clock.now() - cards.LOWEST_PRICE_WINDOW) if selected else {}
    return {
        "lowest_30d": lowest.get(selected.id) if selected else None,
        "product": product,
        "card": card,
        "skus": skus,
        "stock": stock,
        "selected": selected,
        "unit": prices[selected.id] if selected else None,
        "prices": prices,
    }


@router.get("/search/r/{search_id}/{product_id}")
def search_result_click(search_id: int, product_id: int, web: WebDep, wdb: DB, clock: ClockDep) -> Response:
    """A search result's link: count the click in the search log (CTR), then open the product page with
    the search as its source. Navigation never fails on the log: someone else's search, or a product
    that search did not show, is simply not counted."""
    count_in_search_log(wdb, clock, web, search_id, product_id, SearchAction.CLICK)
    wdb.commit()
    query = urlencode({"from": Surface.SEARCH.value, "source_id": search_id})
    return RedirectResponse(f"/p/{product_id}?{query}", status_code=303)


@router.get("/p/{product_id}", response_class=HTMLResponse)
def product_page(request: Request, product_id: int, web: WebDep, db: ReadDB, clock: ClockDep) -> Response:
    params = request.query_params
    view = product_view(web, db, clock, product_id, parse_id(params.get("sku_id")))
    product = view["product"]
    store = merchants.get_store(db, web.actor, product.store_id)
    node = categories.get_category(db, product.category_id)
    return web.render(
        "shop/product.html",
        **view,
        store=store,
        store_rates=metrics.store_rates(db, store.id),
        path=categories.ancestors(db, node),
        reviews=feedback.reviews_of_product(db, product.id, before_id=None, limit=10),
        live_now=live.sessions_selling(db, product.id),
        surface=surface_of(params.get("from")).value,
        source_id=source_id_of(surface_of(params.get("from")), params.get("source_id")),
        quantity=parse_id(params.get("quantity")) or 1,
        errors=FormErrors(),
    )


@router.get("/p/{product_id}/price", response_class=HTMLResponse)
def product_price(request: Request, product_id: int, web: WebDep, db: ReadDB, clock: ClockDep) -> Response:
    """The price panel for the chosen SKU (HTMX swaps it in when the shopper picks another SKU)."""
    view = product_view(web, db, clock, product_id, parse_id(request.query_params.get("sku_id")))
    return web.render("shop/_price.html", **view)


@router.get("/s/{store_id}", response_class=HTMLResponse)
def store_page(
    store_id: int, request: Request, web: WebDep, db: ReadDB, clock: ClockDep, settings: SettingsDep
) -> Response:
    store = merchants.get_store(db, web.actor, store_id)
    sort = request.query_params.get("sort", "sales")
    sort = sort if sort in shelves.SORTS else "sales"
    page = parse_id(request.query_params.get("page")) or 1
    query = shelves.ShelfQuery(store_id=store.id, sort=sort, page=page)
    result = shelves.shelf_page(db, clock, query, pay_later_room=web.pay_later_room(db))
    policy = merchants.get_policy(db, settings)
    return web.render(
        "shop/store.html",
        store=store,
        result=result,
        sort=sort,
        rates=metrics.store_rates(db, store.id),
        is_new=merchants.is_new_merchant(store, policy, clock.now()),
        videos=videos.list_videos(db, store_id=store.id, creator_id=None, before_id=None, limit=6),
        following=favourites.follows_store(db, web.actor, store.id),
    )


def count_in_search_log(db: Any, clock: Any, web: Web, search_id: int, product_id: int, action: str) -> None:
    """A click or add-to-cart on a search result goes into the search log. A search that is not this
    shopper's, or that did not show the product, is not counted; it is refused before anything is
    written, so the caller's transaction (the cart line, the redirect) stands either way."""
    with contextlib.suppress(DomainError):
        search_log.do_record_interaction(
            db, clock, web.actor, search_id=search_id, product_id=product_id, action=action
        )


def source_id_of(surface: Surface, value: str | None) -> int | None:
    """Live rooms, videos and searches name what sold it (the content service checks live and video
    claims at checkout; a search id only credits the search log)."""
    return parse_id(value) if surface in SOURCED else None
