"""Delivery confirmed by the shopper (orders) and, for an order paid with pay later, its bill charged
(guarantees.credit) in the same transaction. A declined bill does not undo the confirmation: the bill
moves into dunning (see guarantees/credit.py)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from yinli.core.auth import Actor
from yinli.core.clock import Clock
from yinli.core.settings import Settings
from yinli.guarantees import credit
from yinli.orders import service as orders
from yinli.orders.models import Order
from yinli.payments.gateway import PaymentGateway


def confirm_delivery(
    session: Session, clock: Clock, settings: Settings, gateway: PaymentGateway, actor: Actor | None, order_id: int
) -> Order:
    order = orders.do_confirm_delivery(session, clock, actor, order_id)
    credit.do_bill_order(session, clock, settings, gateway, order)
    return order
