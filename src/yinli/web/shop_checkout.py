"""The storefront's cart, checkout and paying (`/cart`, `/buy`, `/checkout`, `/pay/{id}`). Split from
storefront.py; same rules: resolve the caller, call services, render."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from yinli.api.deps import DB, ClockDep, ReadDB, SettingsDep
from yinli.catalog import categories
from yinli.checkout import once as checkout_once
from yinli.checkout import quote as quotes
from yinli.checkout import service as checkout
from yinli.checkout.schemas import CartItemIn
from yinli.core.clock import Clock
from yinli.core.errors import DomainError, InvalidInput
from yinli.core.parsing import parse_id
from yinli.core.settings import Settings
from yinli.flows import charge
from yinli.guarantees import credit
from yinli.inventory import service as inventory
from yinli.merchants import service as merchants
from yinli.orders import feedback, metrics
from yinli.orders.models import Surface
from yinli.payments import service as payments
from yinli.search.models import SearchAction
from yinli.web import i18n
from yinli.web.addresses import ADDRESS_FIELDS, ADDRESS_RENAME, address_choice, address_of_form
from yinli.web.core import (
    FormDep,
    FormErrors,
    Web,
    WebDep,
    WebRoute,
    field_errors,
    general_error,
    require_roles,
    require_signed_in,
    safe_next,
)
from yinli.web.storefront import BUYERS, count_in_search_log, product_view, source_id_of, surface_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)


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
                "surface": surface_of(form.get("surface")).value,
                "source_id": source_id_of(surface_of(form.get("surface")), form.get("source_id")),
            }
        )
        line = checkout.LineRequest(body.sku_id, body.quantity, Surface(body.surface), body.source_id)
        checkout.do_add_to_cart(db, clock, settings, web.actor, line)
        if line.surface is Surface.SEARCH and line.source_id is not None and product_id is not None:
            count_in_search_log(db, clock, web, line.source_id, product_id, SearchAction.ADD_TO_CART)
        db.commit()
    except (DomainError, ValidationError) as exc:
        db.rollback()
        errors = field_errors(web, exc, {"body.sku_id": "sku_id", "body.0.sku_id": "sku_id"})
        if web.is_htmx:
            return web.render("shop/_toast.html", errors=errors, status_code=200)
        if product_id is None:
            raise InvalidInput("pick a SKU", field="sku_id")
        view = product_view(web, db, clock, product_id, parse_id(form.get("sku_id")))
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
            surface=surface_of(form.get("surface")).value,
            source_id=source_id_of(surface_of(form.get("surface")), form.get("source_id")),
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
    surface = surface_of(form_or_params.get("surface"))
    return checkout.LineRequest(sku_id, quantity, surface, source_id_of(surface, form_or_params.get("source_id")))


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
