"""Cancel: an unpaid order cancelled by its shopper or expired by the order jobs, and its payment closed
in the same transaction once none of its orders is left to pay (so a payment never stays `pending` past
its orders). Both lock the payment, then the order, as the claim (`payments.do_claim_payment`) does:
this serialises with the claim, so once a charge is in flight its orders stay as they are until the
gateway answers, and no two of these can deadlock."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from yinli.core.auth import Actor
from yinli.core.clock import Clock
from yinli.core.errors import Conflict
from yinli.inventory import service as inventory
from yinli.orders import service as orders
from yinli.orders.models import Order, OrderStatus
from yinli.payments import service as payments
from yinli.payments.models import Payment, PaymentStatus


def shopper_cancel(session: Session, clock: Clock, actor: Actor | None, order_id: int) -> Order:
    """The shopper cancels an unpaid order (409 payment_processing while its charge is in flight)."""
    order = orders.get_order(session, actor, order_id)
    assert actor is not None
    orders.check_shopper_cancel(actor, order)
    if order.payment_id is not None:
        payments.lock_payment(session, order.payment_id)
    session.refresh(order, with_for_update=True)
    processing = order.payment_id is not None and (
        session.scalar(select(Payment.status).where(Payment.id == order.payment_id)) == PaymentStatus.PROCESSING
    )
    if order.status == OrderStatus.CREATED and processing:
        raise Conflict("the payment for this order is being processed", code="payment_processing")
    orders.do_cancel(session, clock, order, "cancelled by the shopper", actor.user_id)
    if order.payment_id is not None:
        payments.do_close_if_nothing_to_pay(session, order.payment_id, "orders cancelled")
    return order


def expire(session: Session, clock: Clock, order_id: int) -> bool:
    """Cancel an order not paid in time and close its payment once none of its orders is left to pay.
    False if the order was paid or cancelled meanwhile (only its hold is left, and is released)."""
    order = session.get(Order, order_id)
    if order is None:
        return False
    if order.payment_id is not None:
        payments.lock_payment(session, order.payment_id)
    session.refresh(order, with_for_update=True)
    if order.status != OrderStatus.CREATED:
        inventory.do_release_order(session, order_id, clock.now())
        return False
    orders.do_cancel(session, clock, order, "not paid in time")
    if order.payment_id is not None:
        payments.do_close_if_nothing_to_pay(session, order.payment_id, "not paid in time")
    return True
