"""Charge applied: the gateway's answer for a processing payment → orders paid (stock committed,
ledger booked) or cancelled → the fan-out of a sale. And the steps around it: `pay` (claim, charge,
apply, each database step in its own transaction), the gateway's callback and reconciliation.

Paying talks to a gateway outside any database transaction, so it is split in two:
1. `payments.do_claim_payment` (one transaction): pending → processing, amount fixed to the open orders;
2. the gateway charge (idempotent by the payment's `gateway_key`);
3. `charge_applied` (one transaction): succeeded → stock committed, orders paid, ledger booked;
   failed → orders cancelled and stock released. A "pending" answer waits for the gateway's callback,
   which calls `charge_applied` too.
If the process dies between 2 and 3, `reconcile_processing` asks the gateway by key and finishes the
job; stock holds expire meanwhile (orders job), and a charge that arrives for an order whose hold has
expired is refunded at once — so there is never a paid order without stock, nor stock held forever.

The fan-out of a paid order (sales counts, commission pending and the live room's purchase toast,
OrderPaid in the outbox) runs in the same transaction, after the order moved to paid: exactly as
before the flows existed, so a page read after the answer already shows it, and it happens once —
only the call whose conditional moves won (payment processing → succeeded, order created → paid)
gets here; a retry or a second callback finds the payment applied and does nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from yinli.catalog import service as catalog
from yinli.content import hooks as content_hooks
from yinli.core.auth import Actor
from yinli.core.clock import Clock
from yinli.core.db import Database, is_transient_db_error
from yinli.core.settings import Settings
from yinli.guarantees import credit
from yinli.inventory import service as inventory
from yinli.orders import service as orders
from yinli.orders.models import Order, OrderLine, OrderStatus
from yinli.payments import pay_later
from yinli.payments import service as payments
from yinli.payments.gateway import GatewayResult, PaymentGateway
from yinli.payments.models import Payment, PaymentStatus
from yinli.payments.service import PaymentConfirming, PaymentFailed

log = logging.getLogger("yinli.payments")

# Recording a charge is retried this many times on a fresh connection, after these pauses (seconds).
APPLY_RETRY_PAUSES = (0.05, 0.25, 1.0)


def charge_applied(
    session: Session, clock: Clock, gateway: PaymentGateway, payment_id: int, result: GatewayResult
) -> Payment:
    """Record the gateway's answer for a processing payment (idempotent: a second answer is ignored)."""
    payment, moved = payments.do_record_charge(session, clock, payment_id, result)
    if not moved:
        return payment
    now = clock.now()
    # Orders before their reservations and stock, as cancel and expiry take them: the other way round a
    # payment racing a cancel deadlocks on PostgreSQL.
    for order in payments.lock_orders(session, payment_id):
        if payment.status == PaymentStatus.FAILED:
            if order.status == OrderStatus.CREATED:
                orders.do_cancel(session, clock, order, reason="payment failed")
            continue
        if order.status == OrderStatus.CREATED and inventory.do_commit_order(session, order.id, now):
            _paid(session, clock, payment, order)
        elif order.status == OrderStatus.CREATED or _expired_while_charging(order):
            # Charged, but the stock hold expired first: the money goes straight back.
            if order.status == OrderStatus.CREATED:
                orders.do_cancel(session, clock, order, reason="stock hold expired before payment")
            _book(session, payment, order, now)
            payments.do_refund_payment(
                session,
                clock,
                gateway,
                payment,
                order,
                order.total_fen,
                reason="unfulfillable",
                subsidy=order.platform_subsidy_fen,
            )
    session.flush()
    return payment


def _expired_while_charging(order: Order) -> bool:
    """A cancelled order was in the charge only if expiry cancelled it (at or after `pay_by`) while the
    charge was in flight: claims are refused from `pay_by` on and shoppers cannot cancel while a payment
    is processing. One cancelled before the claim was never charged and must not be booked or refunded."""
    cancelled_at = order.cancelled_at
    return order.status == OrderStatus.CANCELLED and cancelled_at is not None and cancelled_at >= order.pay_by


def _paid(session: Session, clock: Clock, payment: Payment, order: Order) -> None:
    # Conditional: if a cancel won the race this raises, the whole apply rolls back, and reconciliation
    # later finds the order cancelled and refunds the charge.
    now = clock.now()
    orders.do_mark_paid(session, order, now)
    _book(session, payment, order, now)
    if pay_later.is_pay_later(payment):
        credit.do_open_bill(session, clock, order)
    lines = list(session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)))
    sold: dict[int, int] = {}
    for line in lines:
        sold[line.product_id] = sold.get(line.product_id, 0) + line.quantity
    catalog.do_record_sales(session, sold)
    content_hooks.on_order_paid(session, clock, order, lines)
    orders.announce_paid(session, clock, order, lines)


def _book(session: Session, payment: Payment, order: Order, at: datetime) -> None:
    """The order's money into escrow: from the gateway, or for pay later as a receivable (pay_later.py)."""
    if pay_later.is_pay_later(payment):
        pay_later.book_capture(session, payment, order, at)
    else:
        payments.book_payment(session, payment, order, at)


def pay(
    database: Database,
    clock: Clock,
    gateway: PaymentGateway,
    actor: Actor | None,
    payment_id: int,
    method: str,
    settings: Settings,
) -> Payment:
    """Claim, charge, apply — each database step in its own transaction (see module docstring).
    Pay later is one transaction and no charge (`_pay_later`)."""
    if method == pay_later.METHOD:
        return _pay_later(database, clock, settings, gateway, actor, payment_id)
    with database.session() as session:
        payment = payments.do_claim_payment(session, clock, gateway, actor, payment_id, method)
        key, amount, currency = payment.gateway_key, payment.amount_fen, payment.currency
    result = gateway.charge(key, amount, currency, method)
    applied = _apply_retrying(database, clock, gateway, payment_id, result)
    if applied is None:  # charged (or declined) at the gateway, not yet recorded here
        if result.outcome == "failed":
            raise PaymentFailed(f"the payment was declined: {result.reason}", code="payment_declined")
        raise PaymentConfirming(
            f"payment {payment_id} went through and is being confirmed; it will show as paid shortly. Do not pay again"
        )
    payment = applied
    if payment.status == PaymentStatus.FAILED:
        raise PaymentFailed(f"the payment was declined: {payment.failure_reason}", code="payment_declined")
    return payment


def _pay_later(
    database: Database, clock: Clock, settings: Settings, gateway: PaymentGateway, actor: Actor | None, payment_id: int
) -> Payment:
    """Pay later (先用后付): claim, check the shopper's credit under its lock (guarantees.credit), and
    apply as if the gateway had said yes — in one transaction, so a refusal (409) changes nothing. The
    gateway is not called: the orders are paid, a receivable is booked and a bill opened per order;
    the shopper is charged when the bill is (credit.do_bill_order / run_billing)."""
    with database.session() as session:
        payment = payments.do_claim_payment(session, clock, gateway, actor, payment_id, pay_later.METHOD)
        waiting = [o for o in payments.lock_orders(session, payment_id) if o.status == OrderStatus.CREATED]
        credit.check_pay_later(session, clock, settings, payment.shopper_id, waiting)
        result = GatewayResult("succeeded", f"pay_later:{payment_id}")
        payment = charge_applied(session, clock, gateway, payment_id, result)
        session.flush()
        return payment


def _apply_retrying(
    database: Database, clock: Clock, gateway: PaymentGateway, payment_id: int, result: GatewayResult
) -> Payment | None:
    """`charge_applied` in its own transaction, again on a fresh connection after a transient database
    error (it is idempotent: a second run of one that did commit changes nothing). None if every try
    failed: the payment is still processing and reconciliation will finish it."""
    for pause in (*APPLY_RETRY_PAUSES, None):
        try:
            with database.session() as session:
                return charge_applied(session, clock, gateway, payment_id, result)
        except Exception as exc:
            if not is_transient_db_error(exc):
                raise
            log.warning("recording the charge of payment %s failed (%s); %s", payment_id, exc,
                        "retrying" if pause is not None else "left to reconciliation")  # fmt: skip
            if pause is not None:
                time.sleep(pause)
    return None


def gateway_callback(database: Database, clock: Clock, gateway: PaymentGateway) -> Callable[[str, GatewayResult], None]:
    """The handler a gateway's asynchronous notification reaches: find the payment by key, apply."""

    def handle(key: str, result: GatewayResult) -> None:
        with database.session() as session:
            payment_id = payments.payment_id_for_key(session, key)
            if payment_id is not None:
                charge_applied(session, clock, gateway, payment_id, result)

    return handle


def reconcile_processing(session: Session, clock: Clock, gateway: PaymentGateway, older_than: timedelta) -> int:
    """Finish payments left in processing (a crash, a lost callback) by asking the gateway."""
    done = 0
    for payment in payments.stuck_in_processing(session, clock, older_than):
        result = gateway.lookup(payment.gateway_key)
        if result is None:  # the charge never reached the gateway: it failed
            result = GatewayResult("failed", "", "never reached the gateway")
        if result.outcome != "pending":
            charge_applied(session, clock, gateway, payment.id, result)
            done += 1
    return done
