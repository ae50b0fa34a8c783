"""Pay later (先用后付): a credit profile per shopper, the eligibility rules, billing and dunning.

Eligibility (settings `pay_later_*` in core/settings.py):
- **Limit.** A shopper with no profile yet (a new shopper) may owe up to `pay_later_new_limit_fen`
  (¥500). Each bill paid on time (before it went overdue) raises the limit by `pay_later_limit_step_fen`,
  up to `pay_later_limit_cap_fen`. `room` = limit − what the shopper owes on unpaid bills.
- **Overdue.** A bill declined `pay_later_max_attempts` times is overdue, and so is the shopper's
  standing: no pay later (`pay_later_overdue`) until every overdue bill is paid (from the account page
  or `POST /api/v1/me/credit/bills/{id}/pay`), which sets the standing back to good.
- **Frequent refunders.** Among the shopper's last `pay_later_refund_recent_orders` paid orders, if
  there are at least `pay_later_refund_min_orders` and more than `pay_later_refund_share_bps` of them
  were refunded (in part or whole), pay later is lost (`pay_later_lost`) until the share falls again.
- **Opt-outs.** A product or store with `pay_later = false` is not sold on pay later
  (`pay_later_not_offered`, naming the product or store).
- Score (0..1000, 600 to start): +10 per bill paid on time, −100 per overdue bill. Shown, not yet used.

Money (payments.pay_later): paying captures nothing — a receivable is booked and escrow credited as for
a card, so the merchant is settled from escrow on the usual schedule (the platform has advanced it if the
bill is not paid by then). A bill (`pay_later_bills`, one per order) is charged when the shopper confirms
delivery, or by the jobs `pay_later_bill_after_days` after delivery (`run_billing`). A declined charge is
retried every `pay_later_retry_days`; after `pay_later_max_attempts` declined attempts it is overdue.
A refund before the bill is paid lowers the bill (cancelled at 0) and cancels the receivable instead of
paying cash (`payments.do_refund_payment`); after it is paid, a refund is cash as for a card.

Statuses: open → billed → paid; billed → failed → (retry) billed … → overdue → (shopper pays) paid;
open/failed/overdue → cancelled when fully refunded. Each attempt uses its own gateway key,
`pay_later_bill:<id>:<attempt>`, so a retry is a new charge and a repeated one is not charged twice.

Locks: a pay-later checkout locks the shopper's profile row (after the payment and its orders), so two
at once cannot together pass the limit. Billing locks the order, then the bill (a refund locks the
order first too), so a refund and a bill of one order are serialised.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yinli.catalog.models import Product
from yinli.core.auth import Actor, Role, require_actor
from yinli.core.clock import Clock
from yinli.core.errors import Conflict, DomainError, NotFound
from yinli.core.outbox import emit
from yinli.core.settings import Settings
from yinli.guarantees.models import UNPAID_BILL, BillStatus, CreditProfile, PayLaterBill, Standing
from yinli.merchants.models import Store
from yinli.orders.models import Order, OrderLine
from yinli.payments import ledger
from yinli.payments import pay_later as money
from yinli.payments.gateway import GatewayResult, PaymentGateway

NEW_SCORE = 600
SCORE_ON_TIME = 10
SCORE_OVERDUE = 100


class PayLaterRefused(DomainError):
    status = 409
    code = "pay_later_refused"
    title = "Pay later is not available"


# --- profile, room, eligibility ------------------------------------------------------------------------


def profile_of(session: Session, shopper_id: int) -> CreditProfile | None:
    return session.get(CreditProfile, shopper_id)


def _new_profile(settings: Settings, shopper_id: int, at: datetime) -> CreditProfile:
    return CreditProfile(
        shopper_id=shopper_id,
        score=NEW_SCORE,
        limit_fen=settings.pay_later_new_limit_fen,
        standing=Standing.GOOD,
        bills_on_time=0,
        bills_overdue=0,
        updated_at=at,
    )


def lock_profile(session: Session, settings: Settings, shopper_id: int, at: datetime) -> CreditProfile:
    """The shopper's profile, created if missing, locked (FOR UPDATE) and freshly read."""
    if session.get(CreditProfile, shopper_id) is None:
        try:
            with session.begin_nested():
                session.add(_new_profile(settings, shopper_id, at))
                session.flush()
        except IntegrityError:  # created concurrently: use that one
            pass
    profile = session.get(CreditProfile, shopper_id, with_for_update=True, populate_existing=True)
    assert profile is not None
    return profile


def owed(session: Session, shopper_id: int) -> int:
    """What the shopper owes on unpaid pay-later bills."""
    total = session.scalar(
        select(func.coalesce(func.sum(PayLaterBill.amount_fen), 0)).where(
            PayLaterBill.shopper_id == shopper_id, PayLaterBill.status.in_([s.value for s in UNPAID_BILL])
        )
    )
    return int(total or 0)


def limit_of(session: Session, settings: Settings, shopper_id: int | None) -> int:
    profile = profile_of(session, shopper_id) if shopper_id is not None else None
    return profile.limit_fen if profile is not None else settings.pay_later_new_limit_fen


def frequent_refunder(session: Session, settings: Settings, shopper_id: int) -> bool:
    recent = session.execute(
        select(Order.refunded_fen)
        .where(Order.shopper_id == shopper_id, Order.paid_at.is_not(None))
        .order_by(Order.paid_at.desc(), Order.id.desc())
        .limit(settings.pay_later_refund_recent_orders)
    ).all()
    if len(recent) < settings.pay_later_refund_min_orders:
        return False
    refunded = sum(1 for (r,) in recent if r > 0)
    return refunded * 10_000 > settings.pay_later_refund_share_bps * len(recent)


def standing_refusal(session: Session, settings: Settings, shopper_id: int | None) -> PayLaterRefused | None:
    """Why this shopper may not use pay later at all now (overdue, lost), or None."""
    if shopper_id is None:
        return None
    profile = profile_of(session, shopper_id)
    if profile is not None and profile.standing == Standing.OVERDUE:
        return PayLaterRefused(
            "a pay-later bill is overdue: pay it on your account page to use pay later again",
            code="pay_later_overdue",
            field="method",
        )
    if frequent_refunder(session, settings, shopper_id):
        return PayLaterRefused(
            "pay later is not available: too many of your recent orders were refunded",
            code="pay_later_lost",
            field="method",
        )
    return None


def room(session: Session, settings: Settings, shopper_id: int | None) -> int:
    """The shopper's unused pay-later credit: limit − owed (None, a visitor: the new-shopper limit).
    0 when the shopper may not use pay later at all (overdue, lost), so no badge promises it."""
    if shopper_id is None:
        return settings.pay_later_new_limit_fen
    if standing_refusal(session, settings, shopper_id) is not None:
        return 0
    return max(0, limit_of(session, settings, shopper_id) - owed(session, shopper_id))


def shopper_room(session: Session, settings: Settings, actor: Actor | None) -> int:
    """`room` for whoever is looking, for shopper-facing display (the cards' pay-later badge): a visitor
    gets the new-shopper limit, a buyer (shopper, creator) their own room, merchants and operators 0."""
    if actor is None:
        return room(session, settings, None)
    if actor.role in (Role.MERCHANT, Role.OPERATOR):
        return 0
    return room(session, settings, actor.user_id)


def opt_out_refusal(session: Session, product_ids: list[int]) -> PayLaterRefused | None:
    """A product (or its store) among these that does not offer pay later, or None."""
    rows = session.execute(
        select(Product.id, Product.title, Product.pay_later, Store.id, Store.name, Store.pay_later)
        .join(Store, Store.id == Product.store_id)
        .where(Product.id.in_(product_ids))
        .order_by(Product.id)
    ).all()
    for product_id, title, product_ok, store_id, store_name, store_ok in rows:
        if not store_ok:
            return PayLaterRefused(
                f"store {store_name} (#{store_id}) does not offer pay later",
                code="pay_later_not_offered",
                field="method",
            )
        if not product_ok:
            return PayLaterRefused(
                f"{title} (product #{product_id}) is not sold on pay later",
                code="pay_later_not_offered",
                field="method",
            )
    return None


def refusal(
    session: Session, settings: Settings, shopper_id: int | None, product_ids: list[int], amount: int
) -> PayLaterRefused | None:
    """Why paying `amount` for these products with pay later is refused, or None (no lock: for display;
    `check_pay_later` decides under the profile's lock)."""
    return (
        opt_out_refusal(session, product_ids)
        or standing_refusal(session, settings, shopper_id)
        or _over_limit(session, settings, shopper_id, amount)
    )


def _over_limit(session: Session, settings: Settings, shopper_id: int | None, amount: int) -> PayLaterRefused | None:
    left = room(session, settings, shopper_id)
    if amount > left:
        return PayLaterRefused(
            f"pay later is available up to ¥{left / 100:.2f} for you now; this costs ¥{amount / 100:.2f}",
            code="pay_later_over_limit",
            field="method",
        )
    return None


def refusal_for_orders(
    session: Session, settings: Settings, shopper_id: int, orders: list[Order]
) -> PayLaterRefused | None:
    product_ids = sorted(
        set(session.scalars(select(OrderLine.product_id).where(OrderLine.order_id.in_([o.id for o in orders]))))
    )
    return refusal(session, settings, shopper_id, product_ids, sum(o.total_fen for o in orders))


def check_pay_later(session: Session, clock: Clock, settings: Settings, shopper_id: int, orders: list[Order]) -> None:
    """May these orders be paid with pay later? Locks the shopper's profile (held to the end of the
    transaction that books them), then raises PayLaterRefused (409) naming why not."""
    lock_profile(session, settings, shopper_id, clock.now())
    found = refusal_for_orders(session, settings, shopper_id, orders)
    if found is not None:
        raise found


# --- bills -------------------------------------------------------------------------------------------------


def do_open_bill(session: Session, clock: Clock, order: Order) -> PayLaterBill:
    """A pay-later order was paid: its bill, open until delivery is confirmed (or N days after)."""
    bill = PayLaterBill(
        order_id=order.id,
        shopper_id=order.shopper_id,
        amount_fen=order.total_fen,
        currency=order.currency,
        status=BillStatus.OPEN,
        created_at=clock.now(),
        attempts=0,
    )
    session.add(bill)
    session.flush()
    return bill


def bill_of_order(session: Session, order_id: int) -> PayLaterBill | None:
    return session.scalar(select(PayLaterBill).where(PayLaterBill.order_id == order_id))


def _lock(session: Session, bill_id: int) -> tuple[Order, PayLaterBill]:
    """The bill's order, then the bill, locked and freshly read (the order first, as refunds take it)."""
    order_id = session.scalar(select(PayLaterBill.order_id).where(PayLaterBill.id == bill_id))
    order = session.get(Order, order_id, with_for_update=True, populate_existing=True)
    bill = session.get(PayLaterBill, bill_id, with_for_update=True, populate_existing=True)
    assert order is not None and bill is not None
    return order, bill


def _sync(session: Session, clock: Clock, bill: PayLaterBill) -> None:
    """An unpaid bill's amount follows the order's receivable in the ledger (refunds lower it)."""
    if bill.status not in UNPAID_BILL:
        return
    bill.amount_fen = money.receivable_of(session, bill.order_id)
    if bill.amount_fen == 0:
        was_overdue = bill.status == BillStatus.OVERDUE
        bill.status = BillStatus.CANCELLED
        bill.next_attempt_at = None
        session.flush()
        if was_overdue:
            _clear_overdue(session, clock, bill.shopper_id)
    session.flush()


def on_refunded(session: Session, clock: Clock, order_id: int) -> None:
    """After a refund of a pay-later order: lower its bill (cancelled at 0)."""
    bill = bill_of_order(session, order_id)
    if bill is not None:
        session.refresh(bill, with_for_update=True)
        _sync(session, clock, bill)


def _attempt(
    session: Session, clock: Clock, settings: Settings, gateway: PaymentGateway, bill_id: int, *, manual: bool
) -> PayLaterBill:
    order, bill = _lock(session, bill_id)
    _sync(session, clock, bill)
    if bill.status not in UNPAID_BILL:
        return bill
    now = clock.now()
    bill.attempts += 1
    bill.due_at = bill.due_at or now
    bill.gateway_key = f"pay_later_bill:{bill.id}:{bill.attempts}"
    bill.status = BillStatus.OVERDUE if bill.status == BillStatus.OVERDUE else BillStatus.BILLED
    session.flush()
    result = gateway.charge(bill.gateway_key, bill.amount_fen, bill.currency, "card")
    _answer(session, clock, settings, order, bill, result, manual=manual)
    return bill


def _answer(
    session: Session,
    clock: Clock,
    settings: Settings,
    order: Order,
    bill: PayLaterBill,
    result: GatewayResult,
    *,
    manual: bool,
) -> None:
    now = clock.now()
    bill.gateway_ref = result.reference
    if result.outcome == "pending":  # billed: `run_billing` asks the gateway again next round
        bill.next_attempt_at = now
        session.flush()
        return
    if result.outcome == "succeeded":
        was_overdue = bill.status == BillStatus.OVERDUE
        bill.status, bill.paid_at, bill.next_attempt_at, bill.failure_reason = BillStatus.PAID, now, None, None
        money.book_bill_paid(session, order, bill.id, bill.amount_fen, now)
        session.flush()
        profile = lock_profile(session, settings, bill.shopper_id, now)
        if not was_overdue:
            profile.bills_on_time += 1
            profile.score = min(1000, profile.score + SCORE_ON_TIME)
            grown = settings.pay_later_new_limit_fen + settings.pay_later_limit_step_fen * profile.bills_on_time
            profile.limit_fen = max(profile.limit_fen, min(settings.pay_later_limit_cap_fen, grown))
            profile.updated_at = now
        else:
            _clear_overdue(session, clock, bill.shopper_id)
        emit(session, clock, "PayLaterBillPaid", "order", order.id, {"bill_id": bill.id, "amount_fen": bill.amount_fen})
        session.flush()
        return
    bill.failure_reason = (result.reason or "declined")[:200]
    if bill.status == BillStatus.OVERDUE or (not manual and bill.attempts >= settings.pay_later_max_attempts):
        becomes_overdue = bill.status != BillStatus.OVERDUE
        bill.status, bill.next_attempt_at = BillStatus.OVERDUE, None
        if becomes_overdue:
            profile = lock_profile(session, settings, bill.shopper_id, now)
            profile.standing = Standing.OVERDUE
            profile.bills_overdue += 1
            profile.score = max(0, profile.score - SCORE_OVERDUE)
            profile.updated_at = now
            emit(session, clock, "PayLaterBillOverdue", "order", order.id, {"bill_id": bill.id})
    else:
        bill.status = BillStatus.FAILED
        bill.next_attempt_at = now + timedelta(days=settings.pay_later_retry_days)
    session.flush()


def _clear_overdue(session: Session, clock: Clock, shopper_id: int) -> None:
    """Standing back to good once no bill of the shopper is overdue (the profile exists: a bill was)."""
    still = session.scalar(
        select(func.count()).where(PayLaterBill.shopper_id == shopper_id, PayLaterBill.status == BillStatus.OVERDUE)
    )
    profile = session.get(CreditProfile, shopper_id, with_for_update=True, populate_existing=True)
    if not still and profile is not None:
        profile.standing = Standing.GOOD
        profile.updated_at = clock.now()


def do_bill_order(
    session: Session, clock: Clock, settings: Settings, gateway: PaymentGateway, order: Order
) -> PayLaterBill | None:
    """Delivery confirmed: bill the order if it was paid with pay later (None if not). A decline is not
    an error here: the bill moves into dunning and the confirmation stands."""
    bill = bill_of_order(session, order.id)
    if bill is None or bill.status != BillStatus.OPEN:
        return bill
    return _attempt(session, clock, settings, gateway, bill.id, manual=False)


def do_pay_bill(
    session: Session, clock: Clock, settings: Settings, gateway: PaymentGateway, actor: Actor | None, bill_id: int
) -> PayLaterBill:
    """The shopper pays a declined or overdue bill now. Another shopper's bill is a 404. The answer is
    recorded either way (the caller commits, then reports a decline as 402)."""
    actor = require_actor(actor)
    bill = session.get(PayLaterBill, bill_id)
    if bill is None or bill.shopper_id != actor.user_id:
        raise NotFound(f"no bill {bill_id}", field="bill_id")
    if bill.status not in (BillStatus.FAILED, BillStatus.OVERDUE):
        raise Conflict(
            f"this bill is {bill.status}: only a declined or overdue bill is paid here", code="bill_not_payable"
        )
    return _attempt(session, clock, settings, gateway, bill_id, manual=True)


@dataclass
class BillingReport:
    billed: int = 0  # open bills billed N days after delivery
    retried: int = 0  # declined bills charged again
    synced: int = 0  # bills of refunded orders brought to their receivable


def run_billing(
    session: Session, clock: Clock, settings: Settings, gateway: PaymentGateway, limit: int = 200
) -> BillingReport:
    """The jobs' part: bill open bills `pay_later_bill_after_days` after delivery, retry declined ones
    whose time has come, ask the gateway about billed ones, and bring bills of refunded orders (refunds
    that did not go through `on_refunded`, e.g. stranded escrow returned) to their receivable."""
    now = clock.now()
    report = BillingReport()
    delivered_before = now - timedelta(days=settings.pay_later_bill_after_days)
    due = session.scalars(
        select(PayLaterBill.id)
        .join(Order, Order.id == PayLaterBill.order_id)
        .where(PayLaterBill.status == BillStatus.OPEN, Order.delivered_at <= delivered_before)
        .order_by(PayLaterBill.id)
        .limit(limit)
    ).all()
    for bill_id in due:
        _attempt(session, clock, settings, gateway, bill_id, manual=False)
        report.billed += 1
    retry = session.scalars(
        select(PayLaterBill.id)
        .where(PayLaterBill.status == BillStatus.FAILED, PayLaterBill.next_attempt_at <= now)
        .order_by(PayLaterBill.id)
        .limit(limit)
    ).all()
    for bill_id in retry:
        _attempt(session, clock, settings, gateway, bill_id, manual=False)
        report.retried += 1
    for bill_id in session.scalars(
        select(PayLaterBill.id).where(PayLaterBill.status == BillStatus.BILLED).limit(limit)
    ).all():
        order, bill = _lock(session, bill_id)
        result = gateway.lookup(bill.gateway_key or "")
        if result is None:
            result = GatewayResult("failed", "", "never reached the gateway")
        if result.outcome != "pending":
            _answer(session, clock, settings, order, bill, result, manual=False)
    refunded = session.scalars(
        select(PayLaterBill)
        .join(Order, Order.id == PayLaterBill.order_id)
        .where(PayLaterBill.status.in_([s.value for s in UNPAID_BILL]), Order.refunded_fen > 0)
        .limit(limit)
    ).all()
    for bill in refunded:
        before = bill.amount_fen
        _sync(session, clock, bill)
        report.synced += bill.amount_fen != before
    session.flush()
    return report


# --- what the shopper sees, reports --------------------------------------------------------------------


@dataclass
class CreditView:
    limit_fen: int
    room_fen: int
    owed_fen: int
    standing: str
    score: int
    available: bool
    reason: str | None
    bills: list[PayLaterBill]


def credit_view(session: Session, settings: Settings, actor: Actor | None) -> CreditView:
    actor = require_actor(actor)
    profile = profile_of(session, actor.user_id)
    why = standing_refusal(session, settings, actor.user_id)
    bills = list(
        session.scalars(
            select(PayLaterBill)
            .where(PayLaterBill.shopper_id == actor.user_id)
            .order_by(PayLaterBill.id.desc())
            .limit(50)
        )
    )
    return CreditView(
        limit_fen=limit_of(session, settings, actor.user_id),
        room_fen=room(session, settings, actor.user_id),
        owed_fen=owed(session, actor.user_id),
        standing=profile.standing if profile else Standing.GOOD,
        score=profile.score if profile else NEW_SCORE,
        available=why is None,
        reason=why.detail if why else None,
        bills=bills,
    )


def ops_totals(session: Session) -> dict[str, int]:
    """Pay later in the ledger: advanced at checkout, billed, cancelled by refunds, still receivable
    (the platform funds what is receivable: the merchant was, or will be, settled from escrow)."""
    kinds = money.totals_by_kind(session)
    return {
        "pay_later_advanced_fen": kinds[money.KIND_CAPTURE],
        "pay_later_billed_fen": kinds[money.KIND_BILL],
        "pay_later_cancelled_fen": kinds[money.KIND_CANCEL],
        "pay_later_receivable_fen": ledger.balance(session, ledger.PAY_LATER_RECEIVABLE),
        "pay_later_overdue_fen": int(
            session.scalar(
                select(func.coalesce(func.sum(PayLaterBill.amount_fen), 0)).where(
                    PayLaterBill.status == BillStatus.OVERDUE
                )
            )
            or 0
        ),
    }


def store_costs(session: Session, store_id: int) -> dict[str, int]:
    """Pay later costs the store nothing: it is settled as for a card; the platform carries the credit.
    `pay_later_sales_fen`: the store's orders paid with pay later."""
    sales = session.scalar(
        select(func.coalesce(func.sum(Order.total_fen), 0))
        .join(PayLaterBill, PayLaterBill.order_id == Order.id)
        .where(Order.store_id == store_id)
    )
    return {"pay_later_cost_fen": 0, "pay_later_sales_fen": int(sales or 0)}


__all__ = [
    "PayLaterRefused",
    "check_pay_later",
    "credit_view",
    "do_bill_order",
    "do_open_bill",
    "do_pay_bill",
    "on_refunded",
    "ops_totals",
    "refusal",
    "room",
    "run_billing",
    "shopper_room",
    "store_costs",
]
