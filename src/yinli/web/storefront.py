"""The storefront: feed, mall, search, product, store, cart, checkout, pay, orders, after-sales (orders,
after-sales and reviews: shop_orders.py; account pages and signing in: account.py).

Mobile-first pages. Each handler: resolve the caller (WebDep), call services, render. Forms post back
to the same URL; on a DomainError the form is shown again with the problem next to its field.
"""

from __future__ import annotations

import contextlib
import secrets
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from yinli.api.deps import DB, ClockDep, ReadDB, SettingsDep
from yinli.catalog import cards, categories
from yinli.catalog import service as catalog
from yinli.catalog.models import Category
from yinli.catalog.price_history import lowest_prices_since
from yinli.catalog.pricing import unit_prices
from yinli.checkout import once as checkout_once
from yinli.checkout import quote as quotes
from yinli.checkout import service as checkout
from yinli.checkout.schemas import CartItemIn
from yinli.content import favourites, shelves, videos
from yinli.content import home as home_page
from yinli.core.auth import Role
from yinli.core.clock import Clock
from yinli.core.errors import DomainError, InvalidInput, NotFound
from yinli.core.parsing import parse_id
from yinli.core.settings import Settings
from yinli.flows import charge
from yinli.guarantees import credit
from yinli.inventory import service as inventory
from yinli.merchants import service as merchants
from yinli.merchants.models import Store
from yinli.orders import feedback, metrics
from yinli.orders.models import Surface
from yinli.payments import service as payments
from yinli.search import log as search_log
from yinli.search.models import SearchAction
from yinli.search.page import FLAGS, SORTS, PageQuery, do_search_page
from yinli.traffic import events
from yinli.traffic import service as traffic
from yinli.traffic.api import engine_of
from yinli.traffic.hydrate import FeedTile, hydrate
from yinli.web import i18n, live
from yinli.web.addresses import ADDRESS_FIELDS, ADDRESS_RENAME, address_choice, address_of_form
from yinli.web.core import (
    FormDep,
    FormErrors,
    Web,
    WebDep,
    WebRoute,
    field_errors,
    general_error,
    parse_yuan,
    require_roles,
    require_signed_in,
    safe_next,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)

BUYERS = (Role.SHOPPER, Role.CREATOR)
SOURCED = (Surface.LIVE, Surface.SHORT_VIDEO, Surface.SEARCH)


def _surface(value: str | None, default: Surface = Surface.PRODUCT_PAGE) -> Surface:
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


def _product_view(web: Web, db: Session, clock: Clock, product_id: int, sku_id: int | None) -> dict[str, Any]:
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
    _count_in_search_log(wdb, clock, web, search_id, product_id, SearchAction.CLICK)
    wdb.commit()
    query = urlencode({"from": Surface.SEARCH.value, "source_id": search_id})
    return RedirectResponse(f"/p/{product_id}?{query}", status_code=303)


@router.get("/p/{product_id}", response_class=HTMLResponse)
def product_page(request: Request, product_id: int, web: WebDep, db: ReadDB, clock: ClockDep) -> Response:
    params = request.query_params
    view = _product_view(web, db, clock, product_id, parse_id(params.get("sku_id")))
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
        surface=_surface(params.get("from")).value,
        source_id=_source_id(_surface(params.get("from")), params.get("source_id")),
        quantity=parse_id(params.get("quantity")) or 1,
        errors=FormErrors(),
    )


@router.get("/p/{product_id}/price", response_class=HTMLResponse)
def product_price(request: Request, product_id: int, web: WebDep, db: ReadDB, clock: ClockDep) -> Response:
    """The price panel for the chosen SKU (HTMX swaps it in when the shopper picks another SKU)."""
    view = _product_view(web, db, clock, product_id, parse_id(request.query_params.get("sku_id")))
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


# --- cart --------------------------------------------------------------------------------------------------


def _cart_context(web: Web, db: Session) -> dict[str, Any]:
    quote = quotes.quote_cart(db, web.clock, web.actor)
    picked = sum(line.quantity for g in quote.stores for line in g.on_sale_lines)
    return {"groups": quote.stores, "total": quote.total, "chosen": None, "picked": picked}


@router.get("/cart", response_class=HTMLResponse)
def cart(web: WebDep, db: ReadDB) -> Response:
    require_roles(web, *BUYERS)
    return web.render("shop/cart.html", **_cart_context(web, db), tab="cart")


@router.get("/cart/summary", response_class=HTMLResponse)
def cart_summary(request: Request, web: WebDep, db: ReadDB) -> Response:
    """The pay bar for the lines ticked (`items=<id>` repeated; none ticked: nothing to pay)."""
    require_roles(web, *BUYERS)
    item_ids = [i for i in (parse_id(v) for v in request.query_params.getlist("items")) if i is not None]
    try:
        quote = quotes.quote_cart(db, web.clock, web.actor, item_ids).payable() if item_ids else quotes.Quote([])
    except DomainError:  # a line removed in another tab meanwhile: the whole bar again, from the cart
        quote = quotes.quote_cart(db, web.clock, web.actor).payable()
    picked = sum(line.quantity for g in quote.stores for line in g.on_sale_lines)
    return web.render("shop/_cart_paybar.html", total=quote.total, picked=picked)


@router.post("/cart/add", response_class=HTMLResponse)
def add_to_cart(form: FormDep, web: WebDep, db: DB, clock: ClockDep, settings: SettingsDep) -> Response:
    require_roles(web, *BUYERS)
    product_id = parse_id(form.get("product_id"))
    try:
        body = CartItemIn.model_validate(
            {
                "sku_id": parse_id(form.get("sku_id")) or 0,
                "quantity": parse_id(form.get("quantity")) or 0,
                "surface": _surface(form.get("surface")).value,
                "source_id": _source_id(_surface(form.get("surface")), form.get("source_id")),
            }
        )
        line = checkout.LineRequest(body.sku_id, body.quantity, Surface(body.surface), body.source_id)
        checkout.do_add_to_cart(db, clock, settings, web.actor, line)
        if line.surface is Surface.SEARCH and line.source_id is not None and product_id is not None:
            _count_in_search_log(db, clock, web, line.source_id, product_id, SearchAction.ADD_TO_CART)
        db.commit()
    except (DomainError, ValidationError) as exc:
        db.rollback()
        errors = field_errors(web, exc, {"body.sku_id": "sku_id", "body.0.sku_id": "sku_id"})
        if web.is_htmx:
            return web.render("shop/_toast.html", errors=errors, status_code=200)
        if product_id is None:
            raise InvalidInput("pick a SKU", field="sku_id")
        view = _product_view(web, db, clock, product_id, parse_id(form.get("sku_id")))
        store = merchants.get_store(db, web.actor, view["product"].store_id)
        node = categories.get_category(db, view["product"].category_id)
        return web.render(
            "shop/product.html",
            status_code=422,
            **view,
            store=store,
            store_rates=metrics.store_rates(db, store.id),
            path=categories.ancestors(db, node),
            reviews=feedback.reviews_of_product(db, view["product"].id, before_id=None, limit=10),
            live_now=[],
            surface=_surface(form.get("surface")).value,
            source_id=_source_id(_surface(form.get("surface")), form.get("source_id")),
            quantity=parse_id(form.get("quantity")) or 1,
            errors=errors,
        )
    if web.is_htmx:  # the toast, and the header's cart badge with the new count
        web.cart_count = checkout.cart_count(db, web.actor.user_id) if web.actor else 0
        return web.render("shop/_toast.html", errors=FormErrors(), added=True)
    return web.redirect("/cart", flash="added")


@router.post("/buy", response_class=HTMLResponse)
def buy_now(form: FormDep, web: WebDep) -> Response:
    """'Buy now' on a product page: on to checkout with just this SKU (the cart is left alone)."""
    require_roles(web, *BUYERS)
    line = _buy_now(form)
    if line is None:
        raise InvalidInput("pick a SKU", field="sku_id")
    query = urlencode(
        {
            "sku_id": line.sku_id,
            "quantity": line.quantity,
            "surface": line.surface.value,
            "source_id": line.source_id or "",
        }
    )
    return web.redirect(f"/checkout?{query}")


@router.post("/cart/{item_id}/quantity", response_class=HTMLResponse)
def cart_quantity(item_id: int, form: FormDep, web: WebDep, db: DB) -> Response:
    require_roles(web, *BUYERS)
    errors = FormErrors()
    try:
        checkout.do_set_cart_quantity(db, web.actor, item_id, parse_id(form.get("quantity")) or 0)
        db.commit()
    except DomainError as exc:
        db.rollback()
        errors = field_errors(web, exc)
    if web.is_htmx:
        return web.render("shop/_cart_body.html", **_cart_context(web, db), errors=errors, error_item=item_id)
    if errors:
        return web.render(
            "shop/cart.html", status_code=422, **_cart_context(web, db), errors=errors, error_item=item_id
        )
    return web.redirect(safe_next(form.get("next"), "/cart"), flash="cart")


@router.post("/cart/{item_id}/remove", response_class=HTMLResponse)
def cart_remove(item_id: int, form: FormDep, web: WebDep, db: DB) -> Response:
    require_roles(web, *BUYERS)
    checkout.do_remove_from_cart(db, web.actor, item_id)
    db.commit()
    if web.is_htmx:
        return web.render("shop/_cart_body.html", **_cart_context(web, db), errors=FormErrors())
    return web.redirect("/cart", flash="cart")


# --- checkout and paying -------------------------------------------------------------------------------------


def _buy_now(form_or_params: Any) -> checkout.LineRequest | None:
    sku_id = parse_id(form_or_params.get("sku_id"))
    if sku_id is None:
        return None
    quantity = parse_id(form_or_params.get("quantity")) or 1
    surface = _surface(form_or_params.get("surface"))
    return checkout.LineRequest(sku_id, quantity, surface, _source_id(surface, form_or_params.get("source_id")))


def _count_in_search_log(db: Any, clock: Any, web: Web, search_id: int, product_id: int, action: str) -> None:
    """A click or add-to-cart on a search result goes into the search log. A search that is not this
    shopper's, or that did not show the product, is not counted; it is refused before anything is
    written, so the caller's transaction (the cart line, the redirect) stands either way."""
    with contextlib.suppress(DomainError):
        search_log.do_record_interaction(
            db, clock, web.actor, search_id=search_id, product_id=product_id, action=action
        )


def _source_id(surface: Surface, value: str | None) -> int | None:
    """Live rooms, videos and searches name what sold it (the content service checks live and video
    claims at checkout; a search id only credits the search log)."""
    return parse_id(value) if surface in SOURCED else None


def _checkout_preview(
    web: Web,
    db: Session,
    clock: Clock,
    settings: Settings,
    line: checkout.LineRequest | None,
    item_ids: list[int] | None,
) -> quotes.Quote:
    """What will be bought, grouped by store, with the prices and shipping checkout will charge: the
    "buy now" line, or the cart lines chosen (all of them when none are named)."""
    return (
        quotes.quote_cart(db, clock, web.actor, item_ids).payable()
        if line is None
        else quotes.quote_lines(db, clock, settings, line)
    )


def _chosen_items(values: list[str]) -> list[int] | None:
    """The cart lines ticked on the cart page (`items=<id>` repeated); None: the whole cart."""
    ids = [i for i in (parse_id(v) for v in values) if i is not None]
    return ids or None


def _render_checkout(
    web: Web,
    db: Session,
    settings: Settings,
    line: checkout.LineRequest | None,
    item_ids: list[int] | None,
    form: dict[str, str],
    errors: FormErrors,
    status_code: int = 200,
) -> Response:
    quote = _checkout_preview(web, db, web.clock, settings, line, item_ids)
    address_view = address_choice(web, db, form)
    back = "/checkout?" + urlencode(
        [("items", i) for i in item_ids or []] if line is None else _line_query(line), doseq=True
    )
    return web.render(
        "shop/checkout.html",
        status_code=status_code,
        groups=quote.stores,
        total=quote.total,
        line=line,
        item_ids=item_ids or [],
        **address_view,
        back=back.rstrip("?"),
        errors=errors,
        form_key=form.get("form_key") or secrets.token_urlsafe(16),
        stock=_stock_of(db, quote),
    )


def _stock_of(db: Session, quote: quotes.Quote) -> dict[int, int]:
    ids = [line.sku.id for g in quote.stores for line in g.lines]
    return inventory.available(db, ids) if ids else {}


def _line_query(line: checkout.LineRequest) -> list[tuple[str, Any]]:
    return [
        ("sku_id", line.sku_id),
        ("quantity", line.quantity),
        ("surface", line.surface.value),
        ("source_id", line.source_id or ""),
    ]


@router.get("/checkout", response_class=HTMLResponse)
def checkout_page(request: Request, web: WebDep, db: ReadDB, settings: SettingsDep) -> Response:
    require_roles(web, *BUYERS)
    line = _buy_now(request.query_params)
    item_ids = _chosen_items(request.query_params.getlist("items")) if line is None else None
    return _render_checkout(web, db, settings, line, item_ids, {}, FormErrors())


@router.post("/checkout", response_class=HTMLResponse)
def place_order(
    request: Request, form: FormDep, web: WebDep, db: DB, clock: ClockDep, settings: SettingsDep
) -> Response:
    actor = require_roles(web, *BUYERS)
    line = _buy_now(form)
    item_ids = _chosen_items(form.getlist("items")) if line is None else None
    rename = ADDRESS_RENAME | {"items.0.quantity": "quantity", "items.0.sku_id": "general"}
    try:
        address, address_id = address_of_form(form)
        note = form.text("note")[:200]
        payment_id = checkout_once.do_checkout_once(
            db,
            clock,
            settings,
            actor,
            form_key=form.text("form_key"),
            flow="checkout",
            path="/checkout",
            lines=[line] if line else None,
            address=address,
            address_id=address_id,
            cart_item_ids=item_ids,
            note=note,
        )
    except ValidationError as exc:
        db.rollback()
        errors = field_errors(web, exc, {k: k for k in ADDRESS_FIELDS})
        return _render_checkout(web, db, settings, line, item_ids, dict(form), errors, 422)
    except DomainError as exc:
        db.rollback()
        errors = field_errors(web, exc, rename)
        if "general" in errors:
            errors.general = errors.pop("general")
        if exc.code == "invalid_input" and any(k.startswith("idempotency") for k in errors):
            errors = general_error(web, exc)
        if isinstance(exc, inventory.OutOfStock):  # said next to the short line, with its quantity to change
            errors = FormErrors({f"stock-{exc.sku_id}": i18n.short_stock(web.lang, exc.available)})
            errors.general = i18n.short_stock(web.lang, exc.available)
        status = 422 if exc.status < 500 else exc.status
        return _render_checkout(web, db, settings, line, item_ids, dict(form), errors, status)
    return web.redirect(f"/pay/{payment_id}")


def _pay_methods(web: Web, db: Session, settings: Settings, payment_id: int) -> dict[str, Any]:
    """The pay page's payment, orders and methods: pay later only where the shopper's credit and the
    products' and stores' opt-ins allow it, else the reason (guarantees.credit)."""
    payment = payments.get_payment(db, web.actor, payment_id)
    placed = payments.orders_of(db, payment.id)
    waiting = [o for o in placed if o.status == "created"]
    refused = credit.refusal_for_orders(db, settings, payment.shopper_id, waiting) if waiting else None
    methods = tuple(m for m in payments.METHODS if m != "pay_later" or refused is None)
    reason = i18n.problem_message(web.lang, refused.code, refused.detail) if refused else None
    return {"payment": payment, "orders": placed, "methods": methods, "pay_later_reason": reason}


@router.get("/pay/{payment_id}", response_class=HTMLResponse)
def pay_page(payment_id: int, web: WebDep, db: ReadDB, settings: SettingsDep) -> Response:
    require_signed_in(web)
    return web.render("shop/pay.html", errors=FormErrors(), **_pay_methods(web, db, settings, payment_id))


@router.post("/pay/{payment_id}", response_class=HTMLResponse)
def pay(
    payment_id: int, request: Request, form: FormDep, web: WebDep, clock: ClockDep, settings: SettingsDep
) -> Response:
    require_signed_in(web)
    database = request.app.state.db
    method = form.text("method") or "card"
    try:
        charge.pay(database, clock, request.app.state.gateway, web.actor, payment_id, method, settings)
    except DomainError as exc:
        if exc.code == "already_paid":
            return web.redirect("/orders", flash="paid")
        with database.read_sessions() as db:
            return web.render(
                "shop/pay.html",
                status_code=exc.status if exc.status != 402 else 422,
                errors=field_errors(web, exc),
                **_pay_methods(web, db, settings, payment_id),
            )
    with database.read_sessions() as db:
        paid = payments.orders_of(db, payment_id)
    if len(paid) == 1:
        return web.redirect(f"/orders/{paid[0].id}", flash="paid")
    return web.redirect("/orders", flash="paid")


__all__ = ["router"]
