"""The merchant console's orders to ship (/merchant/orders) and after-sales to handle
(/merchant/after-sales), scoped to the merchant's store (another store's order or case is a 404)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from yinli.api.deps import DB, ClockDep, ReadDB
from yinli.core.auth import require_store_manager
from yinli.core.errors import DomainError
from yinli.flows import refund
from yinli.orders import aftersales
from yinli.orders import service as orders
from yinli.orders.models import AfterSaleStatus, OrderStatus
from yinli.orders.schemas import DecisionIn, ShipIn
from yinli.web.core import FormDep, FormErrors, Web, WebDep, WebRoute, field_errors
from yinli.web.merchant import _store_id

router = APIRouter(prefix="/merchant", route_class=WebRoute, include_in_schema=False)


# --- orders and after-sales --------------------------------------------------------------------------------


ORDER_TABS = ("paid", "shipped", "delivered", "completed", "refunded", "created", "cancelled")


def _render_orders(
    web: Web,
    db: Session,
    status: str,
    ship_errors: dict[int, FormErrors] | None = None,
    ship_form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    rows = orders.list_orders(db, web.actor, orders.OrderFilter(status=OrderStatus(status)), before_id=None, limit=100)
    return web.render(
        "merchant/orders.html",
        status_code=status_code,
        orders=rows,
        lines=orders.lines_of(db, [o.id for o in rows]) if rows else {},
        status=status,
        tabs=ORDER_TABS,
        ship_errors=ship_errors or {},
        ship_form=ship_form or {},
        section="orders",
    )


@router.get("/orders", response_class=HTMLResponse)
def order_list(request: Request, web: WebDep, db: ReadDB) -> Response:
    _store_id(web)
    status = request.query_params.get("status", "paid")
    return _render_orders(web, db, status if status in ORDER_TABS else "paid")


@router.get("/orders/{order_id}", response_class=HTMLResponse)
def order_page(order_id: int, web: WebDep, db: ReadDB) -> Response:
    _store_id(web)
    order = orders.get_order(db, web.actor, order_id)
    require_store_manager(web.actor, order.store_id)
    return web.render(
        "merchant/order.html",
        order=order,
        lines=orders.lines_of(db, [order.id])[order.id],
        cases=aftersales.after_sales_of_order(db, web.actor, order.id),
        errors=FormErrors(),
        form={},
        section="orders",
    )


@router.post("/orders/{order_id}/ship", response_class=HTMLResponse)
def ship(order_id: int, form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    _store_id(web)
    try:
        body = ShipIn.model_validate({"carrier": form.text("carrier"), "tracking_no": form.text("tracking_no")})
        orders.do_ship(db, clock, web.actor, order_id, body.carrier, body.tracking_no)
        db.commit()
    except (DomainError, ValidationError) as exc:
        db.rollback()
        errors = field_errors(web, exc)
        if "status" in errors:
            errors.general = errors.pop("status")
        return _render_orders(web, db, "paid", {order_id: errors}, dict(form), 422)
    return web.redirect("/merchant/orders?status=paid", flash="shipped")


CASE_TABS = ("requested", "return_shipped", "awaiting_return", "refunded", "rejected", "withdrawn")


def _render_cases(
    web: Web, db: Session, status: str, case_errors: dict[int, FormErrors] | None = None, status_code: int = 200
) -> Response:
    cases = aftersales.list_after_sales(db, web.actor, status=AfterSaleStatus(status), before_id=None, limit=100)
    order_ids = sorted({c.order_id for c in cases})
    lines = orders.lines_of(db, order_ids) if order_ids else {}
    by_id = {line.id: line for ls in lines.values() for line in ls}
    return web.render(
        "merchant/after_sales.html",
        status_code=status_code,
        cases=cases,
        lines=by_id,
        status=status,
        tabs=CASE_TABS,
        case_errors=case_errors or {},
        section="after_sales",
    )


@router.get("/after-sales", response_class=HTMLResponse)
def after_sales(request: Request, web: WebDep, db: ReadDB) -> Response:
    _store_id(web)
    status = request.query_params.get("status", "requested")
    return _render_cases(web, db, status if status in CASE_TABS else "requested")


@router.post("/after-sales/{case_id}/decide", response_class=HTMLResponse)
def decide(case_id: int, request: Request, form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    _store_id(web)
    try:
        body = DecisionIn.model_validate({"decision": form.text("decision"), "note": form.optional("note")})
        refund.decide_after_sale(
            db, clock, request.app.state.gateway, web.actor, case_id, approve=body.decision == "approve", note=body.note
        )
        db.commit()
    except (DomainError, ValidationError) as exc:
        db.rollback()
        errors = field_errors(web, exc)
        if "status" in errors:
            errors.general = errors.pop("status")
        return _render_cases(web, db, "requested", {case_id: errors}, 422)
    return web.redirect("/merchant/after-sales", flash="decided")


@router.post("/after-sales/{case_id}/receive", response_class=HTMLResponse)
def receive(case_id: int, request: Request, form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    _store_id(web)
    refund.receive_return(db, clock, request.app.state.gateway, web.actor, case_id)
    db.commit()
    return web.redirect("/merchant/after-sales?status=return_shipped", flash="received")


__all__ = ["router"]
