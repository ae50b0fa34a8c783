"""Settle: an order past its after-sale window is completed (orders), the merchant settled in the ledger
with its creators' commission made payable (payments, content) and the fee kept on the order (orders),
in one transaction. And the order jobs that lead there: expiry (`flows.cancel.expire`), auto-delivery,
completion.

A pay-later order settles the same way and on the same schedule: its escrow was credited at checkout
against a receivable (payments.pay_later), so when its bill is not paid yet the platform has advanced
the merchant's money; the bill (guarantees.credit) clears the receivable later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from yinli.core.clock import Clock
from yinli.core.settings import Settings
from yinli.flows.cancel import expire
from yinli.guarantees import return_cover
from yinli.inventory import service as inventory
from yinli.orders import service as orders
from yinli.orders.models import AfterSale, Order, OrderStatus
from yinli.orders.service import OPEN_AFTER_SALE
from yinli.payments import service as payments


def settle(session: Session, clock: Clock, settings: Settings, order: Order) -> Order:
    """The after-sale window is over: complete and settle the merchant."""
    orders.do_complete(session, clock, order)
    fee = payments.do_settle(session, clock, settings, order)
    return_cover.book_fee(session, clock, order)  # a covered order's cover fee, out of the merchant's share
    orders.do_record_fee(session, clock, order, fee)
    return order


@dataclass
class JobReport:
    expired: int = 0
    auto_delivered: int = 0
    completed: int = 0


def run_order_jobs(session: Session, clock: Clock, settings: Settings, limit: int = 500) -> JobReport:
    """Expire unpaid orders, deliver long-shipped ones, complete those past the after-sale window.

    Idempotent and safe to run concurrently with itself: each move is conditional.
    """
    now = clock.now()
    report = JobReport()
    expired = inventory.expired_order_ids(session, now, limit)
    # in (payment, order) order, the order their locks are taken in: two job runs cannot deadlock
    keyed = session.execute(select(Order.payment_id, Order.id).where(Order.id.in_(expired))).all()
    for _, order_id in sorted(keyed, key=lambda row: (row[0] or 0, row[1])):
        if expire(session, clock, order_id):
            report.expired += 1
    shipped_before = now - timedelta(days=settings.auto_deliver_days)
    for order in session.scalars(
        select(Order).where(Order.status == OrderStatus.SHIPPED, Order.shipped_at <= shipped_before).limit(limit)
    ).all():
        orders.do_deliver(session, clock, order, "auto", None)
        report.auto_delivered += 1
    delivered_before = now - timedelta(days=settings.return_window_days)
    open_case = exists().where(AfterSale.order_id == Order.id, AfterSale.status.in_([s.value for s in OPEN_AFTER_SALE]))
    for order in session.scalars(
        select(Order)
        .where(Order.status == OrderStatus.DELIVERED, Order.delivered_at <= delivered_before, ~open_case)
        .limit(limit)
    ).all():
        settle(session, clock, settings, order)
        report.completed += 1
    session.flush()
    return report
