"""Payments move money only: a payment (opened, claimed, its charge recorded, closed), refunds, and the
ledger entries of paying, refunding and settling. What a charge or a refund means for orders, stock,
sales counts and content is `yinli.flows` (charge_applied, pay, reconciliation); order amounts and
states are changed by orders' own functions (`orders.do_record_refund`, `orders.do_mark_paid`).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from yinli.content import affiliate
from yinli.core.auth import Actor, require_actor
from yinli.core.clock import Clock
from yinli.core.errors import Conflict, DomainError, InvalidInput, NotFound
from yinli.core.outbox import emit
from yinli.core.settings import Settings
from yinli.orders import service as orders
from yinli.orders.models import Order, OrderLine, OrderStatus
from yinli.payments import ledger, pay_later
from yinli.payments.gateway import GatewayResult, PaymentGateway
from yinli.payments.models import Payment, PaymentStatus, Refund

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


def lock_orders(session: Session, payment_id: int) -> list[Order]:
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
    open_orders = [o for o in lock_orders(session, payment_id) if o.status == OrderStatus.CREATED]
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


def do_record_charge(session: Session, clock: Clock, payment_id: int, result: GatewayResult) -> tuple[Payment, bool]:
    """Record the gateway's answer on a processing payment: succeeded or failed, once. The flag says
    whether this call moved it (False: still pending at the gateway, or someone applied it first), so
    what follows a charge (`flows.charge_applied`) happens exactly once."""
    payment = session.get(Payment, payment_id)
    if payment is None:
        raise NotFound(f"no payment {payment_id}")
    if result.outcome == "pending" or payment.status != PaymentStatus.PROCESSING:
        return payment, False
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
        return payment, False  # someone else applied it first
    session.refresh(payment)
    return payment, True


def book_payment(session: Session, payment: Payment, order: Order, at: datetime) -> None:
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


def stuck_in_processing(session: Session, clock: Clock, older_than: timedelta) -> list[Payment]:
    """Payments left in processing (a crash, a lost callback) for longer than `older_than`."""
    cutoff = clock.now() - older_than
    query = select(Payment).where(Payment.status == PaymentStatus.PROCESSING, Payment.attempted_at <= cutoff)
    return list(session.scalars(query))


def payment_id_for_key(session: Session, key: str) -> int | None:
    return session.scalar(select(Payment.id).where(Payment.gateway_key == key))


# --- refunds and settlement -------------------------------------------------------------------------------


def do_refund_payment(
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
    orders.do_record_refund(session, order, amount)
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
    # Pay later: what the shopper has not been billed for yet is cancelled, not paid back (pay_later.py).
    # Read after `do_record_refund` locked the order, which billing locks too.
    cancel = min(amount, pay_later.receivable_of(session, order.id)) if pay_later.is_pay_later(payment) else 0
    cash = amount - cancel
    if cancel:
        pay_later.book_cancel(session, order, refund, cancel, subsidy, now)
        refund.gateway_ref = "pay_later_cancel"
    if cash:
        cash_subsidy = 0 if cancel else subsidy
        ledger.post(
            session,
            kind="refund",
            ref=f"refund:{refund.id}",
            at=now,
            currency=order.currency,
            memo=f"order {order.id}: {reason}",
            entries=[
                (ledger.ESCROW, cash + cash_subsidy),
                (ledger.GATEWAY_CASH, -cash),
                (ledger.SUBSIDY, -cash_subsidy),
            ],
        )
        # Last, so a gateway refusal rolls everything above back; the key makes a retry safe.
        result = gateway.refund(refund.gateway_key, payment.gateway_ref or "", cash, order.currency)
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
    return do_refund_payment(session, clock, gateway, payment, order, amount, reason, after_sale_id, subsidy)


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
