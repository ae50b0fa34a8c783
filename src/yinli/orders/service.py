"""The order state machine and fulfilment.

    created ──pay──▶ paid ──ship──▶ shipped ──deliver──▶ delivered ──window over──▶ completed
       │               │                                    │
       └─cancel/expire─▶ cancelled     paid/delivered ──all lines refunded──▶ refunded

Every move is a conditional update on the current status, so two racing moves cannot both win.
Moves that also touch the payment live in `flows`: a shopper cancelling and expiry (`flows.cancel`: lock
the payment, then the order, and close the payment once none of its orders is left to pay), completion
and the order jobs (`flows.settle`). After-sales live in `orders.aftersales`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from yinli.core.auth import Actor, Role, require_actor, require_store_manager
from yinli.core.clock import Clock
from yinli.core.errors import Conflict, Forbidden, InvalidTransition, NotFound
from yinli.core.outbox import emit
from yinli.inventory import service as inventory
from yinli.orders.models import AfterSale, AfterSaleStatus, Order, OrderLine, OrderStatus

OPEN_AFTER_SALE = (AfterSaleStatus.REQUESTED, AfterSaleStatus.AWAITING_RETURN, AfterSaleStatus.RETURN_SHIPPED)

TRANSITIONS = {
    (OrderStatus.CREATED, OrderStatus.PAID),
    (OrderStatus.CREATED, OrderStatus.CANCELLED),
    (OrderStatus.PAID, OrderStatus.SHIPPED),
    (OrderStatus.PAID, OrderStatus.REFUNDED),
    (OrderStatus.SHIPPED, OrderStatus.DELIVERED),
    (OrderStatus.DELIVERED, OrderStatus.COMPLETED),
    (OrderStatus.DELIVERED, OrderStatus.REFUNDED),
}


def move(session: Session, order: Order, to: OrderStatus, **values: object) -> None:
    """Conditional state change; InvalidTransition (409) if the order is not where the move starts."""
    current = OrderStatus(order.status)
    if (current, to) not in TRANSITIONS:
        raise InvalidTransition(f"an order cannot go from {current} to {to}", field="status")
    moved = session.execute(
        update(Order).where(Order.id == order.id, Order.status == current.value).values(status=to.value, **values)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(order)
        raise InvalidTransition(f"the order is now {order.status}", field="status")
    session.refresh(order)


# --- reading ------------------------------------------------------------------------------------------


def can_see(actor: Actor, order: Order) -> bool:
    return actor.user_id == order.shopper_id or actor.manages_store(order.store_id)


def get_order(session: Session, actor: Actor | None, order_id: int) -> Order:
    actor = require_actor(actor)
    order = session.get(Order, order_id)
    if order is None or not can_see(actor, order):
        raise NotFound(f"no order {order_id}", field="order_id")
    return order


def lines_of(session: Session, order_ids: list[int]) -> dict[int, list[OrderLine]]:
    out: dict[int, list[OrderLine]] = {i: [] for i in order_ids}
    for line in session.scalars(select(OrderLine).where(OrderLine.order_id.in_(order_ids)).order_by(OrderLine.id)):
        out[line.order_id].append(line)
    return out


@dataclass(frozen=True)
class OrderFilter:
    status: OrderStatus | None = None
    store_id: int | None = None


def list_orders(
    session: Session, actor: Actor | None, f: OrderFilter, *, before_id: int | None, limit: int
) -> list[Order]:
    """Newest first. Shoppers see their own; staff their store's; operators any (optionally by store)."""
    actor = require_actor(actor)
    query = select(Order).order_by(Order.id.desc()).limit(limit)
    if actor.is_operator:
        if f.store_id is not None:
            query = query.where(Order.store_id == f.store_id)
    elif actor.role is Role.MERCHANT:
        if actor.store_id is None or (f.store_id is not None and f.store_id != actor.store_id):
            raise Forbidden("staff see their own store's orders", field="store_id")
        query = query.where(Order.store_id == actor.store_id)
    else:
        query = query.where(Order.shopper_id == actor.user_id)
        if f.store_id is not None:
            query = query.where(Order.store_id == f.store_id)
    if f.status is not None:
        query = query.where(Order.status == f.status.value)
    if before_id is not None:
        query = query.where(Order.id < before_id)
    return list(session.scalars(query))


# --- changing -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewLine:
    """One priced line of a new order: what checkout decided (price, fee rate, attribution), frozen on
    the order line so later price or plan changes never touch an order already placed."""

    product_id: int
    sku_id: int
    category_id: int
    title: str
    sku_attributes: dict[str, Any]
    quantity: int
    list_price_fen: int
    merchant_discount_fen: int
    platform_subsidy_fen: int
    unit_price_fen: int
    fee_rate_bps: int
    seven_day_returns: bool
    surface: str
    source_id: int | None
    creator_id: int | None
    affiliate_plan_id: int | None
    commission_rate_bps: int | None
    guarantees: tuple[str, ...] = ()  # the guarantees promised on the line (catalog.cards.offered)

    @property
    def total(self) -> int:
        return self.unit_price_fen * self.quantity


def do_create_order(
    session: Session,
    clock: Clock,
    *,
    shopper_id: int,
    store_id: int,
    payment_id: int,
    lines: list[NewLine],
    shipping_fee_fen: int,
    address: dict[str, Any],
    note: str,
    now: datetime,
    pay_by: datetime,
) -> Order:
    """A new unpaid order of one store with its lines, its stock held until `pay_by` (all or nothing:
    OutOfStock leaves the caller to roll back), announced as OrderCreated."""
    items_total = sum(line.total for line in lines)
    order = Order(
        shopper_id=shopper_id,
        store_id=store_id,
        payment_id=payment_id,
        status=OrderStatus.CREATED,
        currency="CNY",
        list_total_fen=sum(line.list_price_fen * line.quantity for line in lines),
        merchant_discount_fen=sum(line.merchant_discount_fen * line.quantity for line in lines),
        platform_subsidy_fen=sum(line.platform_subsidy_fen * line.quantity for line in lines),
        items_total_fen=items_total,
        shipping_fee_fen=shipping_fee_fen,
        total_fen=items_total + shipping_fee_fen,
        refunded_fen=0,
        fee_fen=0,
        address=address,
        note=note,
        created_at=now,
        pay_by=pay_by,
    )
    session.add(order)
    session.flush()
    for line in lines:
        session.add(
            OrderLine(
                order_id=order.id,
                product_id=line.product_id,
                sku_id=line.sku_id,
                category_id=line.category_id,
                title=line.title,
                sku_attributes=line.sku_attributes,
                quantity=line.quantity,
                list_price_fen=line.list_price_fen,
                merchant_discount_fen=line.merchant_discount_fen,
                platform_subsidy_fen=line.platform_subsidy_fen,
                unit_price_fen=line.unit_price_fen,
                line_total_fen=line.total,
                fee_rate_bps=line.fee_rate_bps,
                seven_day_returns=line.seven_day_returns,
                guarantees=list(line.guarantees),
                surface=line.surface,
                source_id=line.source_id,
                creator_id=line.creator_id,
                affiliate_plan_id=line.affiliate_plan_id,
                commission_rate_bps=line.commission_rate_bps,
                refunded_quantity=0,
                refunded_fen=0,
            )
        )
    inventory.do_reserve(session, order.id, [(line.sku_id, line.quantity) for line in lines], now, pay_by)
    session.flush()
    emit(
        session,
        clock,
        "OrderCreated",
        "order",
        order.id,
        {"store_id": store_id, "total_fen": order.total_fen, "payment_id": payment_id},
        actor_id=shopper_id,
    )
    return order


def do_cancel(session: Session, clock: Clock, order: Order, reason: str, actor_id: int | None = None) -> Order:
    """Cancel an unpaid order and give its held stock back."""
    now = clock.now()
    move(session, order, OrderStatus.CANCELLED, cancelled_at=now, cancel_reason=reason)
    inventory.do_release_order(session, order.id, now)
    emit(
        session,
        clock,
        "OrderCancelled",
        "order",
        order.id,
        {"store_id": order.store_id, "reason": reason},
        actor_id=actor_id,
    )
    return order


def do_record_refund(session: Session, order: Order, amount: int) -> None:
    """Count `amount` as refunded on the order. Conditional: concurrent refunds can never take more
    than was paid (409 over_refund)."""
    moved = session.execute(
        update(Order)
        .where(Order.id == order.id, Order.refunded_fen + amount <= Order.total_fen)
        .values(refunded_fen=Order.refunded_fen + amount)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("that is more than is left to refund on this order", field="amount", code="over_refund")
    session.refresh(order)


def do_mark_paid(session: Session, order: Order, at: datetime) -> None:
    """created → paid (conditional: if a cancel won the race this raises, and the caller's transaction
    rolls back)."""
    move(session, order, OrderStatus.PAID, paid_at=at)


def announce_paid(session: Session, clock: Clock, order: Order, lines: list[OrderLine]) -> None:
    emit(
        session,
        clock,
        "OrderPaid",
        "order",
        order.id,
        {
            "store_id": order.store_id,
            "shopper_id": order.shopper_id,
            "total_fen": order.total_fen,
            "lines": [
                {
                    "product_id": line.product_id,
                    "sku_id": line.sku_id,
                    "quantity": line.quantity,
                    "line_total_fen": line.line_total_fen,
                    "surface": line.surface,
                    "source_id": line.source_id,
                    "creator_id": line.creator_id,
                }
                for line in lines
            ],
        },
    )


def check_shopper_cancel(actor: Actor, order: Order) -> None:
    """Only the shopper (or an operator) cancels an unpaid order; `flows.cancel.shopper_cancel` does it."""
    if actor.user_id != order.shopper_id and not actor.is_operator:
        raise Forbidden("only the shopper cancels an unpaid order")


def check_confirm_delivery(actor: Actor, order: Order) -> None:
    if actor.user_id != order.shopper_id:
        raise Forbidden("only the shopper confirms receipt")


@dataclass(frozen=True)
class OrderActions:
    """What the viewer may do with an order now (the order page's buttons); the `do_*` functions enforce
    the same rules: the caller check above, and the move's starting state in TRANSITIONS."""

    pay: bool
    cancel: bool
    confirm_receipt: bool


def check_order_actions(actor: Actor | None, order: Order) -> OrderActions:
    status = OrderStatus(order.status)

    def allowed(check: Any, to: OrderStatus) -> bool:
        if actor is None or (status, to) not in TRANSITIONS:
            return False
        try:
            check(actor, order)
        except Forbidden:
            return False
        return True

    buyer = actor is not None and actor.user_id == order.shopper_id
    return OrderActions(
        pay=buyer and status is OrderStatus.CREATED and order.payment_id is not None,
        cancel=allowed(check_shopper_cancel, OrderStatus.CANCELLED),
        confirm_receipt=allowed(check_confirm_delivery, OrderStatus.DELIVERED),
    )


def do_ship(
    session: Session, clock: Clock, actor: Actor | None, order_id: int, carrier: str, tracking_no: str
) -> Order:
    order = get_order(session, actor, order_id)
    actor = require_store_manager(actor, order.store_id)
    # Lock the order first: a refund request (which locks it too) either committed and is seen below,
    # or waits and then finds the order shipped.
    session.refresh(order, with_for_update=True)
    if session.scalar(
        select(exists().where(AfterSale.order_id == order.id, AfterSale.status.in_([s.value for s in OPEN_AFTER_SALE])))
    ):
        raise InvalidTransition("the shopper asked for a refund; handle it before shipping", code="after_sale_open")
    now = clock.now()
    move(session, order, OrderStatus.SHIPPED, shipped_at=now, carrier=carrier, tracking_no=tracking_no)
    emit(
        session,
        clock,
        "OrderShipped",
        "order",
        order.id,
        {
            "store_id": order.store_id,
            "paid_at": order.paid_at.isoformat() if order.paid_at else None,
            "shipped_at": now.isoformat(),
        },
        actor_id=actor.user_id,
    )
    return order


def do_deliver(session: Session, clock: Clock, order: Order, by: str, actor_id: int | None) -> Order:
    now = clock.now()
    move(session, order, OrderStatus.DELIVERED, delivered_at=now)
    emit(
        session,
        clock,
        "OrderDelivered",
        "order",
        order.id,
        {
            "store_id": order.store_id,
            "shipped_at": order.shipped_at.isoformat() if order.shipped_at else None,
            "delivered_at": now.isoformat(),
            "by": by,
        },
        actor_id=actor_id,
    )
    return order


def do_confirm_delivery(session: Session, clock: Clock, actor: Actor | None, order_id: int) -> Order:
    order = get_order(session, actor, order_id)
    assert actor is not None
    check_confirm_delivery(actor, order)
    return do_deliver(session, clock, order, "shopper", actor.user_id)


def do_complete(session: Session, clock: Clock, order: Order) -> None:
    """delivered → completed: the after-sale window is over (`flows.settle` then settles the merchant)."""
    move(session, order, OrderStatus.COMPLETED, completed_at=clock.now())


def do_record_fee(session: Session, clock: Clock, order: Order, fee: int) -> None:
    """Keep the technical fee the settlement charged on the order, and announce the completion."""
    session.execute(update(Order).where(Order.id == order.id).values(fee_fen=fee))
    session.refresh(order)
    emit(session, clock, "OrderCompleted", "order", order.id, {"store_id": order.store_id, "fee_fen": fee})
