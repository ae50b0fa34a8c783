"""What content does when an order is paid (called from payments, after the order is marked paid, in
the same transaction): commission starts pending, live rooms show the purchase."""

from __future__ import annotations

from sqlalchemy.orm import Session

from yinli.content import affiliate, live
from yinli.core.clock import Clock
from yinli.orders.models import Order, OrderLine


def on_order_paid(session: Session, clock: Clock, order: Order, lines: list[OrderLine]) -> None:
    affiliate.on_order_paid(session, clock, order, lines)
    live.on_order_paid(session, clock, order, lines)
