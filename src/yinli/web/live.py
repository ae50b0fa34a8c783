"""Live rooms on the storefront (/live/{session_id}): the product presented now, the room's product list,
viewers now and recent purchases (refreshed every few seconds by HTMX), and buying without leaving the
room — a checkout panel inside the page that places the order (surface `live`, source the session) and
pays through the gateway. Without JavaScript, "buy" falls back to the ordinary checkout page with the
same attribution.

Reads and writes go through `yinli.content.live`; recent purchases are the session's `LivePurchase`
outbox events, read the same way the API's SSE stream reads them.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from yinli.api.deps import DB, ClockDep, ReadDB, SettingsDep
from yinli.catalog import cards
from yinli.catalog import service as catalog
from yinli.catalog.pricing import unit_prices
from yinli.checkout import once as checkout_once
from yinli.checkout import service as checkout
from yinli.content import live
from yinli.core.auth import Role
from yinli.core.clock import Clock
from yinli.core.errors import DomainError, InvalidInput
from yinli.core.outbox import OutboxEvent
from yinli.core.parsing import parse_id
from yinli.core.settings import Settings
from yinli.flows import charge
from yinli.guarantees import credit
from yinli.inventory import service as inventory
from yinli.orders.models import Surface
from yinli.payments import service as payments
from yinli.web import i18n
from yinli.web.addresses import ADDRESS_RENAME, address_choice, address_of_form
from yinli.web.core import FormDep, FormErrors, Web, WebDep, WebRoute, field_errors, require_roles

router = APIRouter(prefix="/live", route_class=WebRoute, include_in_schema=False)

BUYERS = (Role.SHOPPER, Role.CREATOR)
RECENT = 8


def sessions_selling(db: Session, product_id: int, limit: int = 20) -> list[Any]:
    """Sessions live now whose product list has this product (for a 'live now' link on product pages)."""
    return [s for s in live.live_now(db, limit) if any(p.id == product_id for p in live.session_products(db, s.id))]


def _recent_purchases(db: Session, session_id: int, titles: dict[int, str]) -> list[dict[str, Any]]:
    rows = db.execute(
        select(OutboxEvent.payload, OutboxEvent.occurred_at)
        .where(
            OutboxEvent.aggregate_type == "live_session",
            OutboxEvent.aggregate_id == session_id,
            OutboxEvent.type == "LivePurchase",
        )
        .order_by(OutboxEvent.id.desc())
        .limit(RECENT)
    ).all()
    return [
        {"title": titles.get(int(p.get("product_id", 0)), ""), "quantity": p.get("quantity", 1), "at": at}
        for p, at in rows
    ]


def _room(web: Web, db: Session, clock: Clock, session_id: int) -> dict[str, Any]:
    session = live.get_session(db, session_id)
    room = live.get_room(db, session.room_id)
    products = [p for p in live.session_products(db, session.id) if catalog.can_see_product(db, web.actor, p)]
    product_cards = {
        c.product_id: c for c in cards.build_cards(db, clock, products, pay_later_room=web.pay_later_room(db))
    }
    skus = {p.id: [s for s in catalog.skus_of(db, p.id) if s.is_active] for p in products}
    stock = inventory.available(db, [s.id for ss in skus.values() for s in ss]) if products else {}
    presenting = product_cards.get(session.presenting_product_id) if session.presenting_product_id else None
    return {
        "session": session,
        "room": room,
        "products": products,
        "cards": product_cards,
        "skus": skus,
        "stock": stock,
        "prices": unit_prices(db, clock.now(), (s for ss in skus.values() for s in ss)),
        "presenting": presenting,
        "recent": _recent_purchases(db, session.id, {p.id: p.title for p in products}),
    }


@router.get("/{session_id}", response_class=HTMLResponse)
def room_page(session_id: int, web: WebDep, db: ReadDB, clock: ClockDep) -> Response:
    return web.render("live/room.html", **_room(web, db, clock, session_id), tab="feed")


@router.get("/{session_id}/panel", response_class=HTMLResponse)
def room_panel(session_id: int, web: WebDep, db: ReadDB, clock: ClockDep) -> Response:
    """What changes while you watch: viewers, the product presented, recent purchases (HTMX polls it)."""
    return web.render("live/_panel.html", **_room(web, db, clock, session_id))


@router.post("/{session_id}/join", response_class=HTMLResponse)
def join(session_id: int, form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    """A signed-in viewer enters (sent by the page once loaded; anonymous viewers just watch)."""
    if web.actor is None:
        return Response(status_code=204)
    try:
        live.do_join(db, clock, web.actor, session_id)
        db.commit()
    except DomainError:
        db.rollback()  # not live any more: nothing to count
    return Response(status_code=204)


def buy_panel(
    web: Web,
    db: Session,
    settings: Settings,
    base: str,
    line: checkout.LineRequest,
    form: dict[str, str],
    errors: FormErrors,
    status_code: int = 200,
) -> Response:
    """The checkout sheet inside a room or a video page (`base`: its URL; the sheet posts to base/order)."""
    priced = checkout.price_lines(db, web.clock, settings, [line])[0]
    address_view = address_choice(web, db, form)  # the book's default picked, or the last order's typed in
    left = inventory.available(db, [line.sku_id]).get(line.sku_id, 0)
    items_total = priced.total
    shipping = checkout.shipping_policy(priced.store).fee_for(items_total)
    # pay later only where the shopper's credit and the product's and store's opt-ins allow it
    shopper_id = web.actor.user_id if web.actor is not None else None
    refused = credit.refusal(db, settings, shopper_id, [priced.product.id], items_total + shipping)
    return web.render(
        "live/_buy.html",
        status_code=status_code,
        base=base,
        in_video=line.surface is Surface.SHORT_VIDEO,
        line=line,
        priced=priced,
        total=items_total + shipping,
        shipping=shipping,
        **address_view,
        errors=errors,
        form_key=form.get("form_key") or secrets.token_urlsafe(16),
        available=left,
        max_quantity=max(1, min(checkout.MAX_QUANTITY, left)),
        methods=tuple(m for m in payments.METHODS if m != "pay_later" or refused is None),
        pay_later_reason=i18n.problem_message(web.lang, refused.code, refused.detail) if refused else None,
    )


def sheet_line(form: Any, surface: Surface, source_id: int) -> checkout.LineRequest:
    sku_id = parse_id(form.get("sku_id"))
    if sku_id is None:
        raise InvalidInput("pick a SKU", field="sku_id")
    return checkout.LineRequest(sku_id, parse_id(form.get("quantity")) or 1, surface, source_id)


def open_sheet(web: Web, db: Session, settings: Settings, base: str, line: checkout.LineRequest) -> Response:
    """'Buy' in a room or video: HTMX opens the checkout sheet in the page; without JS, the checkout page
    (same attribution)."""
    require_roles(web, *BUYERS)
    if not web.is_htmx:
        fields = {"sku_id": line.sku_id, "quantity": line.quantity, "surface": line.surface.value}
        query = urlencode({**fields, "source_id": line.source_id})
        return web.redirect(f"/checkout?{query}")
    try:
        return buy_panel(web, db, settings, base, line, {}, FormErrors())
    except DomainError as exc:
        return web.render("shop/_toast.html", errors=field_errors(web, exc))


def place_and_pay(
    request: Request,
    web: Web,
    form: Any,
    db: Session,
    clock: Clock,
    settings: Settings,
    base: str,
    line: checkout.LineRequest,
) -> Response:
    """Place the order and pay, inside the room or video page (idempotent per sheet: `form_key`)."""
    actor = require_roles(web, *BUYERS)
    try:
        address, address_id = address_of_form(form)
        payment_id = checkout_once.do_checkout_once(
            db,
            clock,
            settings,
            actor,
            form_key=form.text("form_key"),
            flow=line.surface.value,
            path=f"{base}/order",
            lines=[line],
            address=address,
            address_id=address_id,
        )
    except (DomainError, ValidationError) as exc:
        db.rollback()
        errors = field_errors(web, exc, ADDRESS_RENAME | {"items.0.quantity": "quantity"})
        return buy_panel(web, db, settings, base, line, dict(form), errors, 422)
    database = request.app.state.db
    in_video = line.surface is Surface.SHORT_VIDEO
    try:
        method = form.text("method") or "card"
        charge.pay(database, clock, request.app.state.gateway, actor, payment_id, method, settings)
    except DomainError as exc:
        if exc.code != "already_paid":
            return web.render(
                "live/_bought.html",
                payment_id=payment_id,
                order_id=None,
                in_video=in_video,
                errors=field_errors(web, exc),
            )
    with database.read_sessions() as s:
        placed = payments.orders_of(s, payment_id)
    return web.render(
        "live/_bought.html",
        payment_id=payment_id,
        order_id=placed[0].id if placed else None,
        in_video=in_video,
        errors=FormErrors(),
    )


@router.post("/{session_id}/buy", response_class=HTMLResponse)
def buy(session_id: int, form: FormDep, web: WebDep, db: ReadDB, settings: SettingsDep) -> Response:
    require_roles(web, *BUYERS)
    return open_sheet(web, db, settings, f"/live/{session_id}", sheet_line(form, Surface.LIVE, session_id))


@router.post("/{session_id}/order", response_class=HTMLResponse)
def order(
    session_id: int, request: Request, form: FormDep, web: WebDep, db: DB, clock: ClockDep, settings: SettingsDep
) -> Response:
    require_roles(web, *BUYERS)
    line = sheet_line(form, Surface.LIVE, session_id)
    return place_and_pay(request, web, form, db, clock, settings, f"/live/{session_id}", line)


__all__ = ["buy_panel", "open_sheet", "place_and_pay", "router", "sessions_selling", "sheet_line"]
