"""The shopper's orders (`/orders`), tracking, cancel and confirm, reviews, and after-sales requests
(`/after-sales`). Split from storefront.py; same rules: resolve the caller, call services, render."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from yinli.api.deps import DB, ClockDep, ReadDB, SettingsDep
from yinli.core.auth import Role
from yinli.core.clock import Clock
from yinli.core.errors import DomainError, InvalidInput
from yinli.core.parsing import number_or_text, parse_id
from yinli.core.settings import Settings
from yinli.flows import cancel, deliver, refund
from yinli.guarantees import price_protection, return_cover
from yinli.merchants.models import Store
from yinli.orders import aftersales, feedback
from yinli.orders import service as orders
from yinli.orders.models import AfterSaleKind, OrderStatus
from yinli.orders.schemas import AfterSaleIn, ReviewIn, ShipIn
from yinli.web.core import FormDep, FormErrors, Web, WebDep, WebRoute, field_errors, require_roles, require_signed_in

router = APIRouter(route_class=WebRoute, include_in_schema=False)

BUYERS = (Role.SHOPPER, Role.CREATOR)


def _store_names(db: Session, store_ids: set[int]) -> dict[int, str]:
    if not store_ids:
        return {}
    return dict(db.execute(select(Store.id, Store.name).where(Store.id.in_(store_ids))).all())


# --- orders ----------------------------------------------------------------------------------------------


ORDER_TABS = ("created", "paid", "shipped", "delivered")


@router.get("/orders", response_class=HTMLResponse)
def order_list(request: Request, web: WebDep, db: ReadDB) -> Response:
    require_roles(web, *BUYERS)
    status_text = request.query_params.get("status")
    status = OrderStatus(status_text) if status_text in {s.value for s in OrderStatus} else None
    rows = orders.list_orders(db, web.actor, orders.OrderFilter(status=status), before_id=None, limit=50)
    return web.render(
        "shop/orders.html",
        orders=rows,
        lines=orders.lines_of(db, [o.id for o in rows]) if rows else {},
        stores=_store_names(db, {o.store_id for o in rows}),
        status=status.value if status else None,
        tabs=ORDER_TABS,
        tab="orders",
    )


def _render_order(
    web: Web,
    db: Session,
    settings: Settings,
    clock: Clock,
    order_id: int,
    review_errors: dict[int, FormErrors] | None = None,
    status_code: int = 200,
) -> Response:
    order = orders.get_order(db, web.actor, order_id)
    lines = orders.lines_of(db, [order.id])[order.id]
    cases = aftersales.after_sales_of_order(db, web.actor, order.id)
    reviewed = feedback.reviewed_line_ids(db, [line.id for line in lines])
    options = aftersales.options_for(db, clock, settings, web.actor, order, lines)
    assert web.actor is not None
    protection = {
        a.order_line_id: a for a in price_protection.answers_for(db, clock, settings, web.actor, order, lines)
    }
    return web.render(
        "shop/order.html",
        status_code=status_code,
        order=order,
        lines=lines,
        store=db.get(Store, order.store_id),
        cases=cases,
        open_case=next((c for c in cases if c.id == options.open_after_sale_id), None),
        options=options,
        actions=orders.check_order_actions(web.actor, order),
        reviewable={
            line.id
            for line in lines
            if line.id not in reviewed and feedback.check_review(order, line, options.user_id) is None
        },
        reviewed=reviewed,
        review_errors=review_errors or {},
        return_until=options.return_window_closes,
        protection=protection,  # price protection (价保) per line
    )


@router.get("/orders/{order_id}", response_class=HTMLResponse)
def order_page(order_id: int, web: WebDep, db: ReadDB, settings: SettingsDep, clock: ClockDep) -> Response:
    require_signed_in(web)
    return _render_order(web, db, settings, clock, order_id)


@router.post("/orders/{order_id}/cancel", response_class=HTMLResponse)
def cancel_order(order_id: int, form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    require_signed_in(web)
    cancel.shopper_cancel(db, clock, web.actor, order_id)
    db.commit()
    return web.redirect(f"/orders/{order_id}", flash="cancelled")


@router.post("/orders/{order_id}/confirm", response_class=HTMLResponse)
def confirm_delivery(
    order_id: int, request: Request, form: FormDep, web: WebDep, db: DB, clock: ClockDep, settings: SettingsDep
) -> Response:
    require_signed_in(web)
    deliver.confirm_delivery(db, clock, settings, request.app.state.gateway, web.actor, order_id)
    db.commit()
    return web.redirect(f"/orders/{order_id}", flash="delivered")


@router.post("/order-lines/{line_id}/review", response_class=HTMLResponse)
def review_line(line_id: int, form: FormDep, web: WebDep, db: DB, clock: ClockDep, settings: SettingsDep) -> Response:
    require_signed_in(web)
    order_id = parse_id(form.get("order_id")) or 0
    try:
        body = ReviewIn.model_validate({"rating": number_or_text(form.get("rating")), "text": form.get("text", "")})
        feedback.do_review(db, clock, web.actor, line_id, body.rating, body.text)
        db.commit()
    except (DomainError, ValidationError) as exc:
        db.rollback()
        return _render_order(web, db, settings, clock, order_id, {line_id: field_errors(web, exc)}, 422)
    return web.redirect(f"/orders/{order_id}", flash="reviewed")


# --- price protection (价保) ------------------------------------------------------------------------------


@router.post("/order-lines/{line_id}/price-protection", response_class=HTMLResponse)
def claim_price_protection(
    line_id: int, request: Request, form: FormDep, web: WebDep, db: DB, clock: ClockDep, settings: SettingsDep
) -> Response:
    """申请价保: the drop so far is refunded; the order page then shows 已退差价 (or the error page says why not)."""
    require_roles(web, *BUYERS)
    payout = price_protection.do_claim(db, clock, settings, request.app.state.gateway, web.actor, line_id)
    db.commit()
    return web.redirect(f"/orders/{payout.order_id}#line-{line_id}", flash="price_protected")


# --- after-sales --------------------------------------------------------------------------------------------


def _render_after_sale_form(
    web: Web, db: Session, order_id: int, kind: str, form: dict[str, str], errors: FormErrors, status_code: int = 200
) -> Response:
    order = orders.get_order(db, web.actor, order_id)
    return web.render(
        "shop/after_sale_new.html",
        status_code=status_code,
        order=order,
        lines=orders.lines_of(db, [order.id])[order.id],
        kind=kind,
        form=form,
        errors=errors,
    )


def _kind(value: str | None) -> str:
    return value if value in {k.value for k in AfterSaleKind} else AfterSaleKind.RETURN_REFUND.value


@router.get("/orders/{order_id}/after-sale", response_class=HTMLResponse)
def after_sale_form(order_id: int, request: Request, web: WebDep, db: ReadDB) -> Response:
    require_roles(web, *BUYERS)
    return _render_after_sale_form(web, db, order_id, _kind(request.query_params.get("kind")), {}, FormErrors())


@router.post("/orders/{order_id}/after-sale", response_class=HTMLResponse)
def request_after_sale(
    order_id: int, request: Request, form: FormDep, web: WebDep, db: DB, clock: ClockDep, settings: SettingsDep
) -> Response:
    require_roles(web, *BUYERS)
    kind = _kind(form.get("kind"))
    order = orders.get_order(db, web.actor, order_id)
    chosen = []
    for line in orders.lines_of(db, [order.id])[order.id]:
        quantity = parse_id(form.get(f"qty-{line.id}"))
        if quantity:
            chosen.append((line.id, quantity))
    rename = {f"lines.{i}.quantity": f"qty-{line_id}" for i, (line_id, _) in enumerate(chosen)}
    rename |= {f"lines.{i}.order_line_id": f"qty-{line_id}" for i, (line_id, _) in enumerate(chosen)}
    rename["lines"] = "general"
    try:
        if not chosen:
            raise InvalidInput("choose at least one item", field="lines")
        body = AfterSaleIn.model_validate(
            {
                "kind": kind,
                "reason": form.text("reason") or form.text("reason_choice"),
                "lines": [{"order_line_id": i, "quantity": q} for i, q in chosen],
            }
        )
        case = refund.request_after_sale(
            db,
            clock,
            settings,
            request.app.state.gateway,
            web.actor,
            order.id,
            kind=AfterSaleKind(body.kind),
            reason=body.reason,
            lines=[(x.order_line_id, x.quantity) for x in body.lines or []],
        )
        db.commit()
    except (DomainError, ValidationError) as exc:
        db.rollback()
        errors = field_errors(web, exc, rename)
        if "general" in errors:
            errors.general = errors.pop("general")
        if "kind" in errors:
            errors.general = errors.pop("kind")
        return _render_after_sale_form(web, db, order_id, kind, dict(form), errors, 422)
    return web.redirect(f"/after-sales/{case.id}", flash="after_sale")


@router.get("/after-sales", response_class=HTMLResponse)
def after_sale_list(web: WebDep, db: ReadDB) -> Response:
    require_roles(web, *BUYERS)
    cases = aftersales.list_after_sales(db, web.actor, status=None, before_id=None, limit=50)
    return web.render("shop/after_sales.html", cases=cases, tab="orders")


def _render_case(
    web: Web,
    db: Session,
    case_id: int,
    errors: FormErrors | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    case = aftersales.get_after_sale(db, web.actor, case_id)
    order = orders.get_order(db, web.actor, case.order_id)
    lines = {line.id: line for line in orders.lines_of(db, [order.id])[order.id]}
    return web.render(
        "shop/after_sale.html",
        status_code=status_code,
        case=case,
        options=aftersales.check_case(case, web.actor.user_id if web.actor else None),
        order=order,
        lines=lines,
        cover=return_cover.case_cover(db, case),  # return-shipping cover: the postage, pending or paid
        errors=errors or FormErrors(),
        form=form or {},
    )


@router.get("/after-sales/{case_id}", response_class=HTMLResponse)
def after_sale_page(case_id: int, web: WebDep, db: ReadDB) -> Response:
    require_signed_in(web)
    return _render_case(web, db, case_id)


@router.post("/after-sales/{case_id}/return-shipment", response_class=HTMLResponse)
def ship_return(case_id: int, form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    require_signed_in(web)
    try:
        body = ShipIn.model_validate({"carrier": form.text("carrier"), "tracking_no": form.text("tracking_no")})
        aftersales.do_ship_return(db, clock, web.actor, case_id, body.carrier, body.tracking_no)
        db.commit()
    except (DomainError, ValidationError) as exc:
        db.rollback()
        return _render_case(web, db, case_id, field_errors(web, exc), dict(form), 422)
    return web.redirect(f"/after-sales/{case_id}", flash="returned")


@router.post("/after-sales/{case_id}/withdraw", response_class=HTMLResponse)
def withdraw(case_id: int, form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    require_signed_in(web)
    aftersales.do_withdraw(db, clock, web.actor, case_id)
    db.commit()
    return web.redirect(f"/after-sales/{case_id}", flash="withdrawn")


__all__ = ["router"]
