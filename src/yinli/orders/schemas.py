from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from yinli.core.schemas import Choice, IdInt, Input, Line, MoneyOut, Output, Paragraphs
from yinli.orders.models import AfterSaleKind, ComplaintCategory

Carrier = Annotated[str, Line(40)]
TrackingNo = Annotated[str, Field(min_length=4, max_length=64, pattern=r"^[A-Za-z0-9\-]+$")]


class OrderLineOut(Output):
    id: int
    product_id: int
    sku_id: int
    title: str
    sku_attributes: dict[str, Any]
    quantity: int
    list_price: MoneyOut
    merchant_discount: MoneyOut
    platform_subsidy: MoneyOut
    unit_price: MoneyOut
    line_total: MoneyOut
    refunded_quantity: int
    refunded: MoneyOut
    surface: str
    source_id: int | None
    creator_id: int | None
    seven_day_returns: bool
    guarantees: list[str] = Field(description="The guarantees promised on this line when it was bought.")


class OrderOut(Output):
    id: int
    shopper_id: int
    store_id: int
    payment_id: int | None
    status: str
    items_total: MoneyOut
    shipping_fee: MoneyOut
    total: MoneyOut
    refunded: MoneyOut
    address: dict[str, Any]
    note: str
    created_at: datetime
    pay_by: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    carrier: str | None
    tracking_no: str | None
    delivered_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    lines: list[OrderLineOut]


class OrdersPage(Output):
    items: list[OrderOut]
    next_cursor: str | None


class ShipIn(Input):
    carrier: Carrier
    tracking_no: TrackingNo


class AfterSaleLineIn(Input):
    order_line_id: IdInt
    quantity: Annotated[int, Field(ge=1, le=999)]


class AfterSaleIn(Input):
    kind: Choice[AfterSaleKind]
    reason: Annotated[str, Line(500)]
    lines: list[AfterSaleLineIn] | None = Field(None, max_length=50, description="Leave out for the whole order.")


class AfterSaleOptionOut(Output):
    kind: str
    allowed: bool
    reason: str | None = Field(description="Why not, as a stable code (null when allowed).")
    message: str | None = Field(description="Why not, in words.")


class AfterSaleLineOptionOut(Output):
    order_line_id: int
    refundable_quantity: int = Field(description="Units not refunded yet.")
    returnable: bool = Field(description="No-reason returns apply and units are left.")


class AfterSaleOptionsOut(Output):
    order_id: int
    options: list[AfterSaleOptionOut]
    lines: list[AfterSaleLineOptionOut]
    open_after_sale_id: int | None
    return_window_closes: datetime | None


class AfterSaleOut(Output):
    id: int
    order_id: int
    store_id: int
    shopper_id: int
    kind: str
    status: str
    reason: str
    lines: list[dict[str, int]]
    amount: MoneyOut
    auto_approved: bool
    decision_note: str | None
    return_carrier: str | None
    return_tracking_no: str | None
    created_at: datetime
    refunded_at: datetime | None


class AfterSalesPage(Output):
    items: list[AfterSaleOut]
    next_cursor: str | None


class DecisionIn(Input):
    decision: Literal["approve", "reject"]
    note: Annotated[str, Line(500)] | None = None


class ReviewIn(Input):
    rating: Annotated[int, Field(ge=1, le=5)]
    text: Annotated[str, Paragraphs(2000)] = ""


class ReviewOut(Output):
    id: int
    order_line_id: int
    product_id: int
    store_id: int
    rating: int
    text: str
    created_at: datetime


class ReviewsPage(Output):
    items: list[ReviewOut]
    next_cursor: str | None


class ComplaintIn(Input):
    store_id: IdInt
    order_id: IdInt | None = None
    category: Choice[ComplaintCategory]
    text: Annotated[str, Paragraphs(2000)]


class ComplaintOut(Output):
    id: int
    store_id: int
    shopper_id: int
    order_id: int | None
    category: str
    text: str
    status: str
    resolution: str | None
    created_at: datetime


class ComplaintsPage(Output):
    items: list[ComplaintOut]
    next_cursor: str | None


class ResolveIn(Input):
    resolution: Annotated[str, Line(500)]


class StoreMetricsOut(Output):
    store_id: int
    orders_paid: int
    good_review_rate: float | None
    refund_rate: float | None
    complaint_rate: float | None
    on_time_shipping_rate: float | None
    avg_delivery_hours: float | None
