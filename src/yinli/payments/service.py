"""Paying for orders, refunding them, and settling merchants — every step booked in the ledger.

Paying talks to a gateway outside any database transaction, so it is split in two:
1. `do_claim_payment` (one transaction): pending → processing, amount fixed to the orders still open.
2. the gateway charge (idempotent by the payment's `gateway_key`);
3. `do_apply_charge` (one transaction): succeeded → stock committed, orders paid, ledger booked;
   failed → orders cancelled and stock released. A "pending" answer waits for the gateway's callback,
   which calls `do_apply_charge` too.
If the process dies between 2 and 3, `reconcile_processing` asks the gateway by key and finishes the
job; stock holds expire meanwhile (orders job), and a charge that arrives for an order whose hold has
expired is refunded at once — so there is never a paid order without stock, nor stock held forever.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from yinli.catalog import service as catalog
from yinli.content import affiliate
from yinli.content import hooks as content_hooks
from yinli.core.auth import Actor, require_actor
from yinli.core.clock import Clock
from yinli.core.db import Database, is_transient_db_error
from yinli.core.errors import Conflict, DomainError, InvalidInput, NotFound
from yinli.core.outbox import emit
from yinli.core.settings import Settings
from yinli.inventory import service as inventory
from yinli.orders.models import Order, OrderLine, OrderStatus
from yinli.payments import ledger
from yinli.payments.gateway import GatewayResult, PaymentGateway
from yinli.payments.models import Payment, PaymentStatus, Refund

log = logging.getLogger("yinli.payments")
METHODS = ("card", "balance", "pay_later")


class PaymentFailed(DomainError):
    status = 402
    code = "payment_failed"
    title = "Payment failed"


class PaymentConfirming(DomainError):
    """The gateway charged, but recording it failed even on fresh connections (the database is down
    or saturated). Not a failure: the payment stays in processing and `reconcile_processing` records
    it from the gateway. The shopper is told so, and not to pay again."""

    status = 503
    code = "payment_confirming"
    title = "Payment being confirmed"


# Recording a charge is retried this many times on a fresh connection, after these pauses (seconds).
APPLY_RETRY_PAUSES = (0.05, 0.25, 1.0)


def get_payment(session: Session, actor: Actor | None, payment_id: int) -> Payment:
    actor = require_actor(actor)
    payment = session.get(Payment, payment_id)
    if payment is None or (payment.shopper_id != actor.user_id and not actor.is_operator):
        raise NotFound(f"no payment {payment_id}", field="payment_id")
    return payment


def do_open_payment(session: Session, shopper_id: int, at: datetime) -> Payment:
    """A pending payment for a checkout, before its orders exist (they point at it); its amount is set
    with `do_set_amount` once they are priced."""
    payment = Payment(
        shopper_id=shopper_id,
        amount_fen=1,  # set by do_set_amount, once the orders are priced
        currency="CNY",
        status=PaymentStatus.PENDING,
        gateway="",
        gateway_key=secrets.token_hex(16),
        created_at=at,
    )
    session.add(payment)
    session.flush()
    return payment


def do_set_amount(payment: Payment, amount_fen: int) -> None:
    if amount_fen <= 0:
        raise InvalidInput("nothing to pay for", field="items")
    payment.amount_fen = amount_fen


def orders_of(session: Session, payment_id: int) -> list[Order]:
    return list(session.scalars(select(Order).where(Order.payment_id == payment_id).order_by(Order.id)))


def _lock_orders(session: Session, payment_id: int) -> list[Order]:
    """The payment's orders, locked in id order and freshly read. Claim and apply lock the payment, then
    its orders; cancel and expiry lock an order, then its reservations and stock: one order, no deadlock."""
    query = select(Order).where(Order.payment_id == payment_id).order_by(Order.id).with_for_update()
    return list(session.scalars(query.execution_options(populate_existing=True)))


def lock_payment(session: Session, payment_id: int) -> None:
    """Lock a payment row. Anything that locks a payment and its orders takes the payment first (as the
    claim and the charge do), so expiry and cancellation cannot deadlock with paying."""
    session.execute(select(Payment.id).where(Payment.id == payment_id).with_for_update())


def do_close_if_nothing_to_pay(session: Session, payment_id: int, reason: str) -> bool:
    """pending → closed once no order of the payment waits to be paid (all expired or cancelled).

    Conditional on both, in one statement: a payment being claimed (processing) or one that still has
    an order to pay is left alone. Called in the transaction that cancels or expires the last order."""
    waiting = exists().where(Order.payment_id == payment_id, Order.status == OrderStatus.CREATED)
    closed = session.execute(
        update(Payment)
        .where(Payment.id == payment_id, Payment.status == PaymentStatus.PENDING, ~waiting)
        .values(status=PaymentStatus.CLOSED, failure_reason=reason)
        .execution_options(synchronize_session="fetch")
    )
    return bool(closed.rowcount)  # type: ignore[attr-defined]


def close_unpayable(session: Session, limit: int = 500) -> int:
    """Reconciliation: close pending payments none of whose orders waits to be paid any more (their
    orders expired or were cancelled — also ones left from before expiry closed payments)."""
    waiting = exists().where(Order.payment_id == Payment.id, Order.status == OrderStatus.CREATED)
    ids = list(
        session.scalars(select(Payment.id).where(Payment.status == PaymentStatus.PENDING, ~waiting).limit(limit))
    )
    done = 0
    for payment_id in ids:
        lock_payment(session, payment_id)
        done += do_close_if_nothing_to_pay(session, payment_id, "nothing left to pay")
    return done


def do_claim_payment(
    session: Session, clock: Clock, gateway: PaymentGateway, actor: Actor | None, payment_id: int, method: str
) -> Payment:
    """Take the payment from pending to processing (once: a concurrent or repeated pay gets a 409)."""
    if method not in METHODS:
        raise InvalidInput(f"method must be one of {', '.join(METHODS)}", field="method")
    payment = get_payment(session, actor, payment_id)
    session.refresh(payment, with_for_update=True)
    if payment.status == PaymentStatus.SUCCEEDED:
        raise Conflict("this payment has been made", code="already_paid")
    if payment.status == PaymentStatus.CLOSED:
        raise Conflict(
            "this payment is closed: its orders expired or were cancelled before it was paid; check out again",
            code="payment_closed",
        )
    if payment.status != PaymentStatus.PENDING:
        raise Conflict(f"this payment is {payment.status}", code=f"payment_{payment.status}")
    open_orders = [o for o in _lock_orders(session, payment_id) if o.status == OrderStatus.CREATED]
    if not open_orders:
        raise Conflict("no order of this payment is waiting to be paid", code="nothing_to_pay")
    # Once the window is over the holds are forfeit (the expiry job releases them). Refusing here also
    # means an order cancelled at or after `pay_by` was cancelled by expiry, never before this claim.
    if clock.now() >= min(o.pay_by for o in open_orders):
        raise Conflict("the time to pay for these orders is over", code="payment_window_closed")
    amount = sum(o.total_fen for o in open_orders)
    claimed = session.execute(
        update(Payment)
        .where(Payment.id == payment_id, Payment.status == PaymentStatus.PENDING)
        .values(
            status=PaymentStatus.PROCESSING,
            method=method,
            gateway=gateway.name,
            amount_fen=amount,
            attempted_at=clock.now(),
        )
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("this payment is already being processed", code="payment_processing")
    session.flush()
    session.refresh(payment)
    return payment


def do_apply_charge(
    session: Session, clock: Clock, gateway: PaymentGateway, payment_id: int, result: GatewayResult
) -> Payment:
    """Record the gateway's answer for a processing payment (idempotent: a second answer is ignored)."""
    payment = session.get(Payment, payment_id)
    if payment is None:
        raise NotFound(f"no payment {payment_id}")
    if result.outcome == "pending" or payment.status != PaymentStatus.PROCESSING:
        return payment
    now = clock.now()
    to = PaymentStatus.SUCCEEDED if result.outcome == "succeeded" else PaymentStatus.FAILED
    moved = session.execute(
        update(Payment)
        .where(Payment.id == payment_id, Payment.status == PaymentStatus.PROCESSING)
        .values(
            status=to,
            gateway_ref=result.reference,
            failure_reason=result.reason,
            settled_at=now if to == PaymentStatus.SUCCEEDED else None,
        )
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return payment  # someone else applied it first
    session.refresh(payment)
    from yinli.orders import service as orders  # orders depend on payments for refunds; import late

    # Orders before their reservations and stock, as cancel and expiry take them: the other way round a
    # payment racing a cancel deadlocks on PostgreSQL.
    for order in _lock_orders(session, payment_id):
        if to == PaymentStatus.FAILED:
            if order.status == OrderStatus.CREATED:
                orders.do_cancel(session, clock, order, reason="payment failed")
            continue
        if order.status == OrderStatus.CREATED and inventory.do_commit_order(session, order.id, now):
            _mark_paid(session, clock, payment, order)
        elif order.status == OrderStatus.CREATED or _expired_while_charging(order):
            # Charged, but the stock hold expired first: the money goes straight back.
            if order.status == OrderStatus.CREATED:
                orders.do_cancel(session, clock, order, reason="stock hold expired before payment")
            _book_payment(session, payment, order, now)
            _refund(
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


def _book_payment(session: Session, payment: Payment, order: Order, at: datetime) -> None:
    ledger.post(
        session,
        kind="payment",
        ref=f"order:{order.id}",
        at=at,
        currency=order.currency,
        memo=f"payment {payment.id}",
        entries=[
            (ledger.GATEWAY_CASH, order.total_fen),
            (ledger.SUBSIDY, order.platform_subsidy_fen),
            (ledger.ESCROW, -(order.total_fen + order.platform_subsidy_fen)),
        ],
    )


def _mark_paid(session: Session, clock: Clock, payment: Payment, order: Order) -> None:
    from yinli.orders import service as orders  # orders depend on payments for refunds; import late

    now = clock.now()
    # Conditional: if a cancel won the race this raises, the whole apply rolls back, and reconciliation
    # later finds the order cancelled and refunds the charge.
    orders.move(session, order, OrderStatus.PAID, paid_at=now)
    _book_payment(session, payment, order, now)
    lines = list(session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)))
    sold: dict[int, int] = {}
    for line in lines:
        sold[line.product_id] = sold.get(line.product_id, 0) + line.quantity
    catalog.do_record_sales(session, sold)
    content_hooks.on_order_paid(session, clock, order, lines)
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


def pay(
    database: Database, clock: Clock, gateway: PaymentGateway, actor: Actor | None, payment_id: int, method: str
) -> Payment:
    """Claim, charge, apply — each database step in its own transaction (see module docstring)."""
    with database.session() as session:
        payment = do_claim_payment(session, clock, gateway, actor, payment_id, method)
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


def _apply_retrying(
    database: Database, clock: Clock, gateway: PaymentGateway, payment_id: int, result: GatewayResult
) -> Payment | None:
    """`do_apply_charge` in its own transaction, again on a fresh connection after a transient database
    error (it is idempotent: a second run of one that did commit changes nothing). None if every try
    failed: the payment is still processing and reconciliation will finish it."""
    for pause in (*APPLY_RETRY_PAUSES, None):
        try:
            with database.session() as session:
                return do_apply_charge(session, clock, gateway, payment_id, result)
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
            payment_id = session.scalar(select(Payment.id).where(Payment.gateway_key == key))
            if payment_id is not None:
                do_apply_charge(session, clock, gateway, payment_id, result)

    return handle


def reconcile_processing(session: Session, clock: Clock, gateway: PaymentGateway, older_than: timedelta) -> int:
    """Finish payments left in processing (a crash, a lost callback) by asking the gateway."""
    cutoff = clock.now() - older_than
    stuck = list(
        session.scalars(
            select(Payment).where(Payment.status == PaymentStatus.PROCESSING, Payment.attempted_at <= cutoff)
        )
    )
    done = 0
    for payment in stuck:
        result = gateway.lookup(payment.gateway_key)
        if result is None:  # the charge never reached the gateway: it failed
            result = GatewayResult("failed", "", "never reached the gateway")
        if result.outcome != "pending":
            do_apply_charge(session, clock, gateway, payment.id, result)
            done += 1
    return done


# --- refunds and settlement -------------------------------------------------------------------------------


def _refund(
    session: Session,
    clock: Clock,
    gateway: PaymentGateway,
    payment: Payment,
    order: Order,
    amount: int,
    reason: str,
    after_sale_id: int | None = None,
    subsidy: int = 0,
) -> Refund:
    """`subsidy`: the platform subsidy on the refunded units, which goes back from escrow to the platform
    in the same journal transaction (the merchant is not paid a subsidy on goods the shopper returned)."""
    if amount <= 0:
        raise InvalidInput("a refund must be positive", field="amount")
    # Conditional: concurrent refunds can never take more than was paid.
    moved = session.execute(
        update(Order)
        .where(Order.id == order.id, Order.refunded_fen + amount <= Order.total_fen)
        .values(refunded_fen=Order.refunded_fen + amount)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("that is more than is left to refund on this order", field="amount", code="over_refund")
    session.refresh(order)
    now = clock.now()
    refund = Refund(
        payment_id=payment.id,
        order_id=order.id,
        after_sale_id=after_sale_id,
        amount_fen=amount,
        reason=reason,
        gateway_key=secrets.token_hex(16),
        created_at=now,
    )
    session.add(refund)
    session.flush()
    ledger.post(
        session,
        kind="refund",
        ref=f"refund:{refund.id}",
        at=now,
        currency=order.currency,
        memo=f"order {order.id}: {reason}",
        entries=[(ledger.ESCROW, amount + subsidy), (ledger.GATEWAY_CASH, -amount), (ledger.SUBSIDY, -subsidy)],
    )
    # Last, so a gateway refusal rolls everything above back; the key makes a retry safe.
    result = gateway.refund(refund.gateway_key, payment.gateway_ref or "", amount, order.currency)
    if result.outcome != "succeeded":
        raise PaymentFailed(f"the gateway refused the refund: {result.reason}", code="refund_failed")
    refund.gateway_ref = result.reference
    emit(
        session,
        clock,
        "RefundIssued",
        "order",
        order.id,
        {"store_id": order.store_id, "amount_fen": amount, "reason": reason, "refund_id": refund.id},
    )
    session.flush()
    return refund


def do_refund(
    session: Session,
    clock: Clock,
    gateway: PaymentGateway,
    order: Order,
    amount: int,
    reason: str,
    after_sale_id: int | None = None,
    subsidy: int = 0,
) -> Refund:
    """Give `amount` of a paid order back to the shopper (never more than was paid, in total), and
    `subsidy` (the platform's subsidy on the refunded units) back to the platform."""
    if order.payment_id is None or order.paid_at is None:
        raise Conflict("this order was never paid", code="not_paid")
    payment = session.get(Payment, order.payment_id)
    assert payment is not None
    return _refund(session, clock, gateway, payment, order, amount, reason, after_sale_id, subsidy)


def return_stranded_escrow(session: Session, clock: Clock, gateway: PaymentGateway, limit: int = 100) -> int:
    """Repair: a `refunded` order refunded less than it was paid (refunded in parts before the shipping
    rule in `orders.aftersales.shipping_refund`) holds its shipping fee in escrow with no way out. Give
    the shopper the rest of what was paid, as the rule says, and any subsidy left back to the platform,
    so the order's escrow share is 0. Idempotent: a repaired order no longer matches."""
    candidates = list(
        session.scalars(
            select(Order.id)
            .where(Order.status == OrderStatus.REFUNDED, Order.refunded_fen < Order.total_fen)
            .order_by(Order.id)
            .limit(limit)
        )
    )
    done = 0
    for order_id in candidates:
        order = session.get(Order, order_id, with_for_update=True, populate_existing=True)
        assert order is not None
        held = -ledger.order_escrow(session, order_id)
        amount = min(order.total_fen - order.refunded_fen, held)
        if order.status != OrderStatus.REFUNDED or amount <= 0:
            continue
        do_refund(session, clock, gateway, order, amount, "shipping", subsidy=held - amount)
        done += 1
    return done


def settlement_fee(lines: list[OrderLine]) -> int:
    """The platform's technical fee on what was finally sold (refunded goods pay no fee)."""
    from yinli.core.money import Money

    return sum(Money(line.line_total_fen - line.refunded_fen).bps(line.fee_rate_bps).amount for line in lines)


def do_settle(session: Session, clock: Clock, settings: Settings, order: Order) -> int:
    """Release what escrow still holds for the order: creators' commission (less the platform's cut) to
    them, the technical fee to the platform, the rest to the merchant. Returns the fee.

    What is released is the order's escrow share read from the ledger (paid, less refunds), so a
    completed order always ends with nothing in escrow, however it was refunded in parts. Fee and
    commission are on the non-refunded part only, and per line commission + fee never exceed the
    line's net amount (`affiliate.do_settle_commissions` caps the commission), so the merchant's share
    is never negative."""
    lines = list(session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)))
    held = -ledger.order_escrow(session, order.id)
    fee = min(settlement_fee(lines), held)
    payables = affiliate.do_settle_commissions(session, order, settings.affiliate_platform_cut_bps, clock.now())
    commission = sum(p.to_creator + p.platform_cut for p in payables)
    entries = [
        (ledger.ESCROW, held),
        (ledger.merchant_payable(order.store_id), -(held - fee - commission)),
        (ledger.FEE_REVENUE, -(fee + sum(p.platform_cut for p in payables))),
    ]
    entries += [(affiliate.creator_payable(p.creator_id), -p.to_creator) for p in payables]
    ledger.post(
        session,
        kind="settlement",
        ref=f"order:{order.id}",
        at=clock.now(),
        currency=order.currency,
        memo=f"store {order.store_id}",
        entries=entries,
    )
    return fee
