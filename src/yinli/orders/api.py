"""Orders, fulfilment, after-sales, reviews, complaints and store service metrics."""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from yinli.api.deps import (
    DB,
    ActorDep,
    ClockDep,
    Cursor,
    GatewayDep,
    IdempotencyDep,
    Limit,
    ReadDB,
    SettingsDep,
    cursor_value,
    id_path,
    id_query,
    page,
)
from yinli.catalog import service as catalog
from yinli.core.schemas import MoneyOut
from yinli.flows import cancel, deliver, refund
from yinli.merchants import service as merchants
from yinli.orders import aftersales, feedback, metrics
from yinli.orders import service as orders
from yinli.orders.models import AfterSale, AfterSaleKind, AfterSaleStatus, Order, OrderLine, OrderStatus
from yinli.orders.schemas import (
    AfterSaleIn,
    AfterSaleLineOptionOut,
    AfterSaleOptionOut,
    AfterSaleOptionsOut,
    AfterSaleOut,
    AfterSalesPage,
    ComplaintIn,
    ComplaintOut,
    ComplaintsPage,
    DecisionIn,
    OrderLineOut,
    OrderOut,
    OrdersPage,
    ResolveIn,
    ReviewIn,
    ReviewOut,
    ReviewsPage,
    ShipIn,
    StoreMetricsOut,
)

router = APIRouter(tags=["orders"])


def line_out(line: OrderLine) -> OrderLineOut:
    return OrderLineOut(
        id=line.id,
        product_id=line.product_id,
        sku_id=line.sku_id,
        title=line.title,
        sku_attributes=line.sku_attributes,
        quantity=line.quantity,
        list_price=MoneyOut.fen(line.list_price_fen),
        merchant_discount=MoneyOut.fen(line.merchant_discount_fen),
        platform_subsidy=MoneyOut.fen(line.platform_subsidy_fen),
        unit_price=MoneyOut.fen(line.unit_price_fen),
        line_total=MoneyOut.fen(line.line_total_fen),
        refunded_quantity=line.refunded_quantity,
        refunded=MoneyOut.fen(line.refunded_fen),
        surface=line.surface,
        source_id=line.source_id,
        creator_id=line.creator_id,
        seven_day_returns=line.seven_day_returns,
        guarantees=list(line.guarantees),
    )


def orders_out(session: Session, rows: list[Order]) -> list[OrderOut]:
    lines = orders.lines_of(session, [o.id for o in rows]) if rows else {}
    return [
        OrderOut(
            id=o.id,
            shopper_id=o.shopper_id,
            store_id=o.store_id,
            payment_id=o.payment_id,
            status=o.status,
            items_total=MoneyOut.fen(o.items_total_fen, o.currency),
            shipping_fee=MoneyOut.fen(o.shipping_fee_fen, o.currency),
            total=MoneyOut.fen(o.total_fen, o.currency),
            refunded=MoneyOut.fen(o.refunded_fen, o.currency),
            address=o.address,
            note=o.note,
            created_at=o.created_at,
            pay_by=o.pay_by,
            paid_at=o.paid_at,
            shipped_at=o.shipped_at,
            carrier=o.carrier,
            tracking_no=o.tracking_no,
            delivered_at=o.delivered_at,
            completed_at=o.completed_at,
            cancelled_at=o.cancelled_at,
            cancel_reason=o.cancel_reason,
            lines=[line_out(x) for x in lines[o.id]],
        )
        for o in rows
    ]


@router.get("/orders", response_model=OrdersPage, summary="Orders, newest first (own; staff: their store's)")
def list_orders(
    db: ReadDB,
    actor: ActorDep,
    limit: Limit = 20,
    cursor: Cursor = None,
    status: OrderStatus | None = Query(None),
    store_id: int | None = id_query(),
) -> OrdersPage:
    rows = orders.list_orders(
        db, actor, orders.OrderFilter(status, store_id), before_id=cursor_value(cursor), limit=limit + 1
    )
    rows, next_cursor = page(rows, limit)
    return OrdersPage(items=orders_out(db, rows), next_cursor=next_cursor)


@router.get("/orders/{order_id}", response_model=OrderOut, summary="An order with its lines")
def get_order(db: ReadDB, actor: ActorDep, order_id: int = id_path()) -> OrderOut:
    return orders_out(db, [orders.get_order(db, actor, order_id)])[0]


@router.post("/orders/{order_id}/cancel", response_model=OrderOut, summary="Cancel an unpaid order")
def cancel_order(db: DB, clock: ClockDep, actor: ActorDep, order_id: int = id_path()) -> OrderOut:
    order = cancel.shopper_cancel(db, clock, actor, order_id)
    db.commit()
    return orders_out(db, [order])[0]


@router.post("/orders/{order_id}/ship", response_model=OrderOut, summary="Ship a paid order (the store's staff)")
def ship_order(body: ShipIn, db: DB, clock: ClockDep, actor: ActorDep, order_id: int = id_path()) -> OrderOut:
    order = orders.do_ship(db, clock, actor, order_id, body.carrier, body.tracking_no)
    db.commit()
    return orders_out(db, [order])[0]


@router.post("/orders/{order_id}/confirm-delivery", response_model=OrderOut, summary="The shopper got it")
def confirm_delivery(
    db: DB, clock: ClockDep, settings: SettingsDep, gateway: GatewayDep, actor: ActorDep, order_id: int = id_path()
) -> OrderOut:
    order = deliver.confirm_delivery(db, clock, settings, gateway, actor, order_id)  # bills a pay-later order
    db.commit()
    return orders_out(db, [order])[0]


# --- after-sales ------------------------------------------------------------------------------------------


def after_sale_out(case: AfterSale) -> AfterSaleOut:
    return AfterSaleOut(
        id=case.id,
        order_id=case.order_id,
        store_id=case.store_id,
        shopper_id=case.shopper_id,
        kind=case.kind,
        status=case.status,
        reason=case.reason,
        lines=case.lines,
        amount=MoneyOut.fen(case.amount_fen),
        auto_approved=case.auto_approved,
        decision_note=case.decision_note,
        return_carrier=case.return_carrier,
        return_tracking_no=case.return_tracking_no,
        created_at=case.created_at,
        refunded_at=case.refunded_at,
    )


def after_sale_options_out(o: aftersales.AfterSaleOptions) -> AfterSaleOptionsOut:
    return AfterSaleOptionsOut(
        order_id=o.order_id,
        options=[
            AfterSaleOptionOut(
                kind=option.kind.value,
                allowed=option.allowed,
                reason=option.refusal.code if option.refusal else None,
                message=option.refusal.message if option.refusal else None,
            )
            for option in (o.refund_only, o.return_refund)
        ],
        lines=[
            AfterSaleLineOptionOut(
                order_line_id=x.order_line_id, refundable_quantity=x.refundable_quantity, returnable=x.returnable
            )
            for x in o.lines
        ],
        open_after_sale_id=o.open_after_sale_id,
        return_window_closes=o.return_window_closes,
    )


@router.get(
    "/orders/{order_id}/after-sale-options",
    response_model=AfterSaleOptionsOut,
    summary="Which after-sales the shopper may ask for now, and why not",
)
def after_sale_options(
    db: ReadDB, clock: ClockDep, settings: SettingsDep, actor: ActorDep, order_id: int = id_path()
) -> AfterSaleOptionsOut:
    return after_sale_options_out(aftersales.after_sale_options(db, clock, settings, actor, order_id))


@router.post(
    "/orders/{order_id}/after-sales",
    status_code=201,
    response_model=AfterSaleOut,
    summary="Ask for a refund (before shipping) or a return (within the no-reason window)",
)
def request_after_sale(
    body: AfterSaleIn,
    db: DB,
    clock: ClockDep,
    settings: SettingsDep,
    gateway: GatewayDep,
    actor: ActorDep,
    idem: IdempotencyDep,
    order_id: int = id_path(),
) -> JSONResponse:
    def action() -> tuple[int, object]:
        lines = [(x.order_line_id, x.quantity) for x in body.lines] if body.lines is not None else None
        case = refund.request_after_sale(
            db,
            clock,
            settings,
            gateway,
            actor,
            order_id,
            kind=AfterSaleKind(body.kind),
            reason=body.reason,
            lines=lines,
        )
        return 201, after_sale_out(case).model_dump(mode="json")

    return idem.respond(db, action)


@router.get("/after-sales", response_model=AfterSalesPage, summary="After-sales (own; staff: their store's)")
def list_after_sales(
    db: ReadDB,
    actor: ActorDep,
    limit: Limit = 20,
    cursor: Cursor = None,
    status: AfterSaleStatus | None = Query(None),
) -> AfterSalesPage:
    rows = aftersales.list_after_sales(db, actor, status=status, before_id=cursor_value(cursor), limit=limit + 1)
    rows, next_cursor = page(rows, limit)
    return AfterSalesPage(items=[after_sale_out(c) for c in rows], next_cursor=next_cursor)


@router.get("/after-sales/{after_sale_id}", response_model=AfterSaleOut, summary="An after-sale")
def get_after_sale(db: ReadDB, actor: ActorDep, after_sale_id: int = id_path()) -> AfterSaleOut:
    return after_sale_out(aftersales.get_after_sale(db, actor, after_sale_id))


@router.post("/after-sales/{after_sale_id}/decide", response_model=AfterSaleOut, summary="Approve or reject (staff)")
def decide_after_sale(
    body: DecisionIn, db: DB, clock: ClockDep, gateway: GatewayDep, actor: ActorDep, after_sale_id: int = id_path()
) -> AfterSaleOut:
    case = refund.decide_after_sale(
        db, clock, gateway, actor, after_sale_id, approve=body.decision == "approve", note=body.note
    )
    db.commit()
    return after_sale_out(case)


@router.post(
    "/after-sales/{after_sale_id}/return-shipment",
    response_model=AfterSaleOut,
    summary="The shopper sent the goods back",
)
def ship_return(body: ShipIn, db: DB, clock: ClockDep, actor: ActorDep, after_sale_id: int = id_path()) -> AfterSaleOut:
    case = aftersales.do_ship_return(db, clock, actor, after_sale_id, body.carrier, body.tracking_no)
    db.commit()
    return after_sale_out(case)


@router.post(
    "/after-sales/{after_sale_id}/receive",
    response_model=AfterSaleOut,
    summary="The store got the goods back: refund (staff)",
)
def receive_return(
    db: DB, clock: ClockDep, gateway: GatewayDep, actor: ActorDep, after_sale_id: int = id_path()
) -> AfterSaleOut:
    case = refund.receive_return(db, clock, gateway, actor, after_sale_id)
    db.commit()
    return after_sale_out(case)


@router.post("/after-sales/{after_sale_id}/withdraw", response_model=AfterSaleOut, summary="The shopper withdraws")
def withdraw_after_sale(db: DB, clock: ClockDep, actor: ActorDep, after_sale_id: int = id_path()) -> AfterSaleOut:
    case = aftersales.do_withdraw(db, clock, actor, after_sale_id)
    db.commit()
    return after_sale_out(case)


# --- reviews and complaints -------------------------------------------------------------------------------


@router.post(
    "/order-lines/{order_line_id}/review",
    status_code=201,
    response_model=ReviewOut,
    summary="Rate a delivered line (once)",
)
def review_line(
    body: ReviewIn, db: DB, clock: ClockDep, actor: ActorDep, idem: IdempotencyDep, order_line_id: int = id_path()
) -> JSONResponse:
    return idem.respond(
        db,
        lambda: (
            201,
            ReviewOut.model_validate(
                feedback.do_review(db, clock, actor, order_line_id, body.rating, body.text)
            ).model_dump(mode="json"),
        ),
    )


@router.get("/products/{product_id}/reviews", response_model=ReviewsPage, summary="A product's reviews")
def product_reviews(
    db: ReadDB, actor: ActorDep, limit: Limit = 20, cursor: Cursor = None, product_id: int = id_path()
) -> ReviewsPage:
    catalog.get_product(db, actor, product_id)
    rows = feedback.reviews_of_product(db, product_id, before_id=cursor_value(cursor), limit=limit + 1)
    rows, next_cursor = page(rows, limit)
    return ReviewsPage(items=[ReviewOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post("/complaints", status_code=201, response_model=ComplaintOut, summary="Complain about a store")
def file_complaint(body: ComplaintIn, db: DB, clock: ClockDep, actor: ActorDep, idem: IdempotencyDep) -> JSONResponse:
    return idem.respond(
        db,
        lambda: (
            201,
            ComplaintOut.model_validate(
                feedback.do_complain(
                    db,
                    clock,
                    actor,
                    store_id=body.store_id,
                    order_id=body.order_id,
                    category=body.category,
                    text=body.text,
                )
            ).model_dump(mode="json"),
        ),
    )


@router.get("/complaints", response_model=ComplaintsPage, summary="Complaints (own; staff: their store's)")
def list_complaints(
    db: ReadDB,
    actor: ActorDep,
    limit: Limit = 20,
    cursor: Cursor = None,
    store_id: int | None = id_query(),
) -> ComplaintsPage:
    rows = feedback.list_complaints(db, actor, store_id=store_id, before_id=cursor_value(cursor), limit=limit + 1)
    rows, next_cursor = page(rows, limit)
    return ComplaintsPage(items=[ComplaintOut.model_validate(c) for c in rows], next_cursor=next_cursor)


@router.post("/complaints/{complaint_id}/resolve", response_model=ComplaintOut, summary="Resolve (staff, operators)")
def resolve_complaint(
    body: ResolveIn, db: DB, clock: ClockDep, actor: ActorDep, complaint_id: int = id_path()
) -> ComplaintOut:
    complaint = feedback.do_resolve_complaint(db, clock, actor, complaint_id, body.resolution)
    db.commit()
    return ComplaintOut.model_validate(complaint)


@router.get(
    "/stores/{store_id}/metrics",
    response_model=StoreMetricsOut,
    tags=["stores"],
    summary="Service quality: good reviews, refunds, complaints, shipping, delivery",
)
def store_metrics(db: ReadDB, actor: ActorDep, store_id: int = id_path()) -> StoreMetricsOut:
    merchants.get_store(db, actor, store_id)
    r = metrics.store_rates(db, store_id)
    return StoreMetricsOut(store_id=store_id, **r.__dict__)
