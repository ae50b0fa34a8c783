"""7-day price protection (价保): if the final price of the SKU a shopper bought falls within the window,
the shopper gets the difference back, once per line.

The rule
- A line is *protected* iff its checkout snapshot promised it (`"price_protection" in line.guarantees`:
  the product and its store opted in when it was bought) and its order is paid (paid, shipped,
  delivered or completed; not cancelled, not fully refunded).
- The window runs `settings.price_protection_days` (default 7) from the order's `paid_at`.
- The payout = (unit price paid − the lowest FINAL price of the same SKU in effect at any moment of
  [paid_at, min(now, window end)]) × the units not refunded, never more than what was paid for the line
  less what was already refunded on it. The lowest price is the largest drop: drops never add up.
- Once per line: `price_protection_payouts.order_line_id` is unique, and both ways in take the order's row
  lock first, so two tabs, the job and a claim, or a claim and a refund of the same line queue.
- Automatically: the job (`run_job`, in `jobs.run_once`) pays every protected line whose window has
  closed with a drop (`via='auto'`). Earlier, the shopper may claim (`check_claim` answers eligible and
  how much, or why not; `do_claim` pays the drop so far, `via='claim'`, and the line is done).
- Not while an after-sale of the order is open (`after_sale_open`): the case's refund amounts were fixed
  when it was asked for. The job pays such a line once the case is closed, if it is still due.

Money (`payments.ledger`, kind `price_protection`, ref `refund:<refund id>`)
- The payout reaches the shopper like a refund does: a `refunds` row (reason `price_protection`) and the
  gateway's refund for the whole amount, booked to `gateway_cash`. It counts on the order's and the
  line's `refunded_fen` (money given back), which is what keeps the after-sale rules right: a later
  refund of the line pays what was paid less what was given back already (`aftersales._line_amount`),
  the shipping rule and "a refunded order was refunded exactly what was paid" still hold.
- Who funds it: the platform, for the part of the drop that is platform subsidy (subsidy in the lowest
  history row − the line's own subsidy, at least 0, at most the drop), from `price_protection_platform`;
  the merchant, for the rest (its own price cut): from `escrow` while the order is unsettled (the ref is
  a refund of the order, so `ledger.order_escrow` counts it and settlement releases the right net), from
  `merchant_payable:<store>` once it is completed.
- Clawback (`on_refund`, called by `flows.refund`): a refund of protected units is already reduced by
  the payout (above); the platform's part of the payout on those units is still in escrow and goes back to
  `price_protection_platform` (kind `price_protection_back`, ref the refund's). The payout records
  `clawed_back_fen` (and its platform share); all its units refunded: `status='clawed_back'`.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, cast, exists, func, select, update
from sqlalchemy.orm import Session

from yinli.catalog.models import Product, SkuPriceHistory
from yinli.core.auth import Actor, require_actor
from yinli.core.clock import Clock
from yinli.core.db import Database, unique_or
from yinli.core.errors import Conflict, DomainError, Forbidden, NotFound
from yinli.core.outbox import emit
from yinli.core.settings import Settings
from yinli.guarantees import credit
from yinli.guarantees.models import PriceProtectionPayout
from yinli.merchants.models import Store
from yinli.orders import service as orders
from yinli.orders.aftersales import Refusal
from yinli.orders.models import AfterSale, Order, OrderLine, OrderStatus
from yinli.orders.service import OPEN_AFTER_SALE
from yinli.payments import ledger, pay_later
from yinli.payments.gateway import PaymentGateway
from yinli.payments.models import JournalEntry, JournalTransaction, LedgerAccount, Payment, Refund
from yinli.payments.service import PaymentFailed

log = logging.getLogger("yinli.guarantees.price_protection")

GUARANTEE = "price_protection"  # the name in `order_lines.guarantees`
KIND = "price_protection"  # journal kind of a payout
BACK_KIND = "price_protection_back"  # journal kind of the platform's part returned on a refund
REFUND_REASON = "price_protection"
# statuses in which a line's price is protected (paid, not cancelled; `refunded` means every line was)
PROTECTED_STATUSES = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.COMPLETED)


def shows_badge(product: Product, store: Store) -> bool:
    """Whether a product card / page may promise 价保: the product and its store opted in. The promise is
    snapshotted per line at checkout and kept by this module (claims and the job), so the badge shows
    exactly where the mechanism runs."""
    return bool(product.price_protection and store.price_protection)


def window_ends(order: Order, settings: Settings) -> datetime | None:
    """When the order's protection window closes (None: never paid)."""
    return order.paid_at + timedelta(days=settings.price_protection_days) if order.paid_at else None


def lowest_row(session: Session, sku_id: int, start: datetime, end: datetime) -> SkuPriceHistory | None:
    """The price-history row with the lowest FINAL price in effect at any moment of [start, end]: the
    price in effect at `start` or any set after it up to `end` (the first such row on a tie).

    Like `catalog.price_history.lowest_prices_since`, but bounded by the window's end and returning the
    row itself: its platform subsidy says who funded the drop."""
    in_effect = session.scalars(
        select(SkuPriceHistory)
        .where(SkuPriceHistory.sku_id == sku_id, SkuPriceHistory.effective_at <= start)
        .order_by(SkuPriceHistory.effective_at.desc(), SkuPriceHistory.id.desc())
        .limit(1)
    ).first()
    later = session.scalars(
        select(SkuPriceHistory)
        .where(
            SkuPriceHistory.sku_id == sku_id,
            SkuPriceHistory.effective_at > start,
            SkuPriceHistory.effective_at <= end,
        )
        .order_by(SkuPriceHistory.final_price_fen, SkuPriceHistory.effective_at, SkuPriceHistory.id)
        .limit(1)
    ).first()
    rows = [r for r in (in_effect, later) if r is not None]
    return min(rows, key=lambda r: (r.final_price_fen, r.effective_at, r.id)) if rows else None


@dataclass(frozen=True)
class ClaimAnswer:
    """Price protection of one line, now: covered?, the window, the paid and lowest prices, what a claim
    would pay (split by funder) or why not (`refusal`), and the payout if there is one."""

    order_line_id: int
    order_id: int
    covered: bool
    window_ends: datetime | None
    unit_paid_fen: int
    lowest_fen: int | None
    units: int  # not refunded: the units a payout covers
    amount_fen: int
    merchant_fen: int
    platform_fen: int
    refusal: Refusal | None
    payout: PriceProtectionPayout | None

    @property
    def eligible(self) -> bool:
        return self.refusal is None

    def enforce(self) -> None:
        if self.refusal is not None:
            self.refusal.raise_()


def _refusal(code: str, message: str, error: type[DomainError] = Conflict) -> Refusal:
    return Refusal(code, message, error)


def _evaluate(
    session: Session,
    order: Order,
    line: OrderLine,
    payout: PriceProtectionPayout | None,
    open_case: bool,
    user_id: int | None,
    now: datetime,
    settings: Settings,
    *,
    at_close: bool = False,
) -> ClaimAnswer:
    """The rule, for a claim by `user_id` now, or (`at_close`) for the job once the window has closed."""
    covered = GUARANTEE in (line.guarantees or [])
    ends = window_ends(order, settings)
    lowest: SkuPriceHistory | None = None
    if order.paid_at is not None and ends is not None:
        lowest = lowest_row(session, line.sku_id, order.paid_at, min(now, ends))
    units = line.quantity - line.refunded_quantity
    drop = max(0, line.unit_price_fen - lowest.final_price_fen) if lowest is not None else 0
    amount = max(0, min(drop * units, line.line_total_fen - line.refunded_fen))
    platform_unit = min(drop, max(0, (lowest.platform_subsidy_fen if lowest else 0) - line.platform_subsidy_fen))
    platform = min(platform_unit * units, amount)
    refusal: Refusal | None = None
    if not at_close and user_id != order.shopper_id:
        refusal = _refusal("not_shopper", "only the shopper who bought can claim price protection", Forbidden)
    elif payout is not None:
        refusal = _refusal("already_protected", "this line's price protection has been paid")
    elif not covered:
        refusal = _refusal("not_covered", "this item was not bought with price protection")
    elif order.status == OrderStatus.REFUNDED or (order.status in PROTECTED_STATUSES and units <= 0):
        refusal = _refusal("refunded", "this item has been refunded")
    elif order.status not in PROTECTED_STATUSES or ends is None:
        refusal = _refusal("not_paid", "price protection starts when the order is paid")
    elif open_case:
        refusal = _refusal("after_sale_open", "an after-sale of this order is open; price protection waits for it")
    elif not at_close and now > ends:
        refusal = _refusal("window_closed", "the price protection window has closed")
    elif at_close and now < ends:
        refusal = _refusal("window_open", "the price protection window is still open")
    elif amount <= 0:
        refusal = _refusal("no_drop", "the price has not dropped below what was paid")
    return ClaimAnswer(
        order_line_id=line.id,
        order_id=order.id,
        covered=covered,
        window_ends=ends,
        unit_paid_fen=line.unit_price_fen,
        lowest_fen=lowest.final_price_fen if lowest is not None else None,
        units=max(0, units),
        amount_fen=amount if refusal is None else 0,
        merchant_fen=amount - platform if refusal is None else 0,
        platform_fen=platform if refusal is None else 0,
        refusal=refusal,
        payout=payout,
    )


def _payout_of(session: Session, line_id: int) -> PriceProtectionPayout | None:
    return session.scalars(
        select(PriceProtectionPayout)
        .where(PriceProtectionPayout.order_line_id == line_id)
        .execution_options(populate_existing=True)
    ).first()


def _case_open(session: Session, order_id: int) -> bool:
    return (
        session.scalar(
            select(AfterSale.id)
            .where(AfterSale.order_id == order_id, AfterSale.status.in_([s.value for s in OPEN_AFTER_SALE]))
            .limit(1)
        )
        is not None
    )


def _line_and_order(session: Session, actor: Actor, line_id: int) -> tuple[OrderLine, Order]:
    line = session.get(OrderLine, line_id)
    order = session.get(Order, line.order_id) if line is not None else None
    if line is None or order is None or not orders.can_see(actor, order):
        raise NotFound(f"no order line {line_id}", field="line_id")
    return line, order


# --- asking ------------------------------------------------------------------------------------------------


def check_claim(session: Session, clock: Clock, settings: Settings, actor: Actor | None, line_id: int) -> ClaimAnswer:
    """May the actor claim price protection on this line now, and for how much? 404 for a line the actor
    may not see (another shopper's); otherwise an answer, with the refusal if not eligible. Unlocked:
    `do_claim` decides again under the order's lock."""
    actor = require_actor(actor)
    line, order = _line_and_order(session, actor, line_id)
    return _evaluate(
        session,
        order,
        line,
        _payout_of(session, line.id),
        _case_open(session, order.id),
        actor.user_id,
        clock.now(),
        settings,
    )


def order_view(
    session: Session, clock: Clock, settings: Settings, actor: Actor | None, order_id: int
) -> list[ClaimAnswer]:
    """Every line of an order the actor may see, with its price-protection answer (for the order page and
    `GET /orders/{id}/price-protection`)."""
    actor = require_actor(actor)
    order = orders.get_order(session, actor, order_id)
    return answers_for(session, clock, settings, actor, order, orders.lines_of(session, [order.id])[order.id])


def answers_for(
    session: Session, clock: Clock, settings: Settings, actor: Actor, order: Order, lines: list[OrderLine]
) -> list[ClaimAnswer]:
    """`order_view` for an order (and its lines) already read through `orders.get_order`."""
    payouts = {
        p.order_line_id: p
        for p in session.scalars(select(PriceProtectionPayout).where(PriceProtectionPayout.order_id == order.id))
    }
    open_case, now = _case_open(session, order.id), clock.now()
    return [
        _evaluate(session, order, line, payouts.get(line.id), open_case, actor.user_id, now, settings) for line in lines
    ]


# --- paying -------------------------------------------------------------------------------------------------


def _lock(session: Session, order_id: int, line_id: int) -> tuple[Order, OrderLine]:
    """The order row locked (after-sale requests and refunds lock it too) and both freshly read."""
    order = session.get(Order, order_id, with_for_update=True, populate_existing=True)
    line = session.get(OrderLine, line_id, populate_existing=True)
    assert order is not None and line is not None
    return order, line


def do_claim(
    session: Session, clock: Clock, settings: Settings, gateway: PaymentGateway, actor: Actor | None, line_id: int
) -> PriceProtectionPayout:
    """The shopper claims: the drop so far is paid now and the line's protection is done. Refused (a
    problem+json 4xx, nothing changed) unless `check_claim` says eligible."""
    answer = check_claim(session, clock, settings, actor, line_id)  # 404 / not_shopper before any lock
    assert actor is not None
    if answer.refusal is not None and answer.refusal.code == "not_shopper":
        answer.enforce()
    order, line = _lock(session, answer.order_id, line_id)

    def decide() -> ClaimAnswer:
        return _evaluate(
            session,
            order,
            line,
            _payout_of(session, line.id),
            _case_open(session, order.id),
            actor.user_id,
            clock.now(),
            settings,
        )

    answer = decide()
    answer.enforce()
    return _pay(session, clock, gateway, order, line, answer, "claim", lambda: decide().enforce())


def _pay(
    session: Session,
    clock: Clock,
    gateway: PaymentGateway,
    order: Order,
    line: OrderLine,
    answer: ClaimAnswer,
    via: str,
    recheck: object,
) -> PriceProtectionPayout:
    """Pay an eligible answer (the order locked by the caller): refund row, payout row (unique per line),
    the order's and line's refunded amounts, the journal, then the gateway (last: its refusal rolls
    everything back; the refund's key makes a retry safe)."""
    now = clock.now()
    amount = answer.amount_fen
    assert amount > 0 and order.payment_id is not None and answer.lowest_fen is not None
    payment = session.get(Payment, order.payment_id)
    assert payment is not None
    refund = Refund(
        payment_id=payment.id,
        order_id=order.id,
        after_sale_id=None,
        amount_fen=amount,
        reason=REFUND_REASON,
        gateway_key=secrets.token_hex(16),
        created_at=now,
    )
    session.add(refund)
    session.flush()
    payout = PriceProtectionPayout(
        order_line_id=line.id,
        order_id=order.id,
        store_id=order.store_id,
        shopper_id=order.shopper_id,
        refund_id=refund.id,
        unit_paid_fen=line.unit_price_fen,
        lowest_fen=answer.lowest_fen,
        quantity=answer.units,
        amount_fen=amount,
        merchant_fen=answer.merchant_fen,
        platform_fen=answer.platform_fen,
        via=via,
        status="paid",
        paid_at=now,
        clawed_back_fen=0,
        clawed_back_platform_fen=0,
    )
    with unique_or(session, recheck if callable(recheck) else None):
        session.add(payout)
    orders.do_record_refund(session, order, amount)
    moved = session.execute(
        update(OrderLine)
        .where(OrderLine.id == line.id, OrderLine.refunded_fen + amount <= OrderLine.line_total_fen)
        .values(refunded_fen=OrderLine.refunded_fen + amount)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("that is more than is left to refund on this line", code="over_refund")
    settled = order.status == OrderStatus.COMPLETED
    source = ledger.merchant_payable(order.store_id) if settled else ledger.ESCROW
    # paid with pay later and not yet billed: the difference comes off what the shopper owes (the bill is
    # lowered), not paid back in cash — as a refund of an unbilled order cancels the receivable
    owed = min(amount, pay_later.receivable_of(session, order.id)) if pay_later.is_pay_later(payment) else 0
    cash = amount - owed
    ledger.post(
        session,
        kind=KIND,
        ref=f"refund:{refund.id}",
        at=now,
        currency=order.currency,
        memo=f"order {order.id} line {line.id} ({via})",
        entries=[
            (source, answer.merchant_fen),
            (ledger.PRICE_PROTECTION_PLATFORM, answer.platform_fen),
            (ledger.PAY_LATER_RECEIVABLE, -owed),
            (ledger.GATEWAY_CASH, -cash),
        ],
    )
    if owed:
        credit.on_refunded(session, clock, order.id)
        refund.gateway_ref = "pay_later_cancel"
    if cash:
        result = gateway.refund(refund.gateway_key, payment.gateway_ref or "", cash, order.currency)
        if result.outcome != "succeeded":
            raise PaymentFailed(f"the gateway refused the refund: {result.reason}", code="refund_failed")
        refund.gateway_ref = result.reference
    emit(
        session,
        clock,
        "PriceProtectionPaid",
        "order",
        order.id,
        {
            "store_id": order.store_id,
            "order_line_id": line.id,
            "amount_fen": amount,
            "merchant_fen": answer.merchant_fen,
            "platform_fen": answer.platform_fen,
            "via": via,
        },
    )
    session.flush()
    session.refresh(line)
    return payout


def due_line_ids(session: Session, clock: Clock, settings: Settings, limit: int = 500) -> list[int]:
    """Protected lines whose window has closed (within the last `price_protection_scan_days`), not paid,
    not fully refunded, whose SKU has a lower final price on record since the order was placed."""
    now = clock.now()
    closed_before = now - timedelta(days=settings.price_protection_days)
    since = closed_before - timedelta(days=settings.price_protection_scan_days)
    paid = exists().where(PriceProtectionPayout.order_line_id == OrderLine.id)
    dropped = exists().where(
        SkuPriceHistory.sku_id == OrderLine.sku_id,
        SkuPriceHistory.effective_at >= Order.created_at,
        SkuPriceHistory.final_price_fen < OrderLine.unit_price_fen,
    )
    rows = session.execute(
        select(OrderLine.id, OrderLine.guarantees)
        .join(Order, Order.id == OrderLine.order_id)
        .where(
            Order.paid_at <= closed_before,
            Order.paid_at > since,
            Order.status.in_([s.value for s in PROTECTED_STATUSES]),
            OrderLine.refunded_quantity < OrderLine.quantity,
            cast(OrderLine.guarantees, String).like(f'%"{GUARANTEE}"%'),
            ~paid,
            dropped,
        )
        .order_by(OrderLine.order_id, OrderLine.id)
        .limit(limit)
    ).all()
    return [line_id for line_id, guarantees in rows if GUARANTEE in (guarantees or [])]


def do_pay_at_close(
    session: Session, clock: Clock, settings: Settings, gateway: PaymentGateway, line_id: int
) -> PriceProtectionPayout | None:
    """The job's payout for one line whose window has closed: the largest drop over the whole window
    (None if nothing is due, e.g. no drop, paid already, an after-sale open)."""
    found = session.get(OrderLine, line_id)
    if found is None:
        return None
    order, line = _lock(session, found.order_id, line_id)

    def decide() -> ClaimAnswer:
        return _evaluate(
            session,
            order,
            line,
            _payout_of(session, line.id),
            _case_open(session, order.id),
            None,
            clock.now(),
            settings,
            at_close=True,
        )

    answer = decide()
    if answer.refusal is not None:
        return None
    return _pay(session, clock, gateway, order, line, answer, "auto", lambda: decide().enforce())


def run_job(database: Database, clock: Clock, settings: Settings, gateway: PaymentGateway) -> int:
    """Pay every protected line whose window has closed with a drop; one transaction per line, so one
    refusal (the gateway's) does not hold up the rest. Idempotent: a paid line is never paid again."""
    with database.session() as session:
        line_ids = due_line_ids(session, clock, settings)
    paid = 0
    for line_id in line_ids:
        try:
            with database.session() as session:
                paid += do_pay_at_close(session, clock, settings, gateway, line_id) is not None
        except DomainError:
            log.warning("price protection of order line %s not paid this round", line_id, exc_info=True)
    return paid


# --- clawback -------------------------------------------------------------------------------------------------


def on_refund(session: Session, clock: Clock, refund: Refund, line_ids: list[int]) -> int:
    """A refund of units of protected lines (in the transaction that refunded them): the refund was already
    reduced by the payout (the lines' `refunded_fen` includes it); record the payout's share on the
    refunded units as clawed back and return the platform's share of it from escrow to the platform.
    Returns the platform's amount returned."""
    if not line_ids:
        return 0
    payouts = list(
        session.scalars(
            select(PriceProtectionPayout)
            .where(PriceProtectionPayout.order_line_id.in_(line_ids), PriceProtectionPayout.status == "paid")
            .order_by(PriceProtectionPayout.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    back = 0
    for payout in payouts:
        line = session.get(OrderLine, payout.order_line_id, populate_existing=True)
        assert line is not None
        gone = max(0, min(payout.quantity, payout.quantity - (line.quantity - line.refunded_quantity)))
        clawed = payout.amount_fen * gone // payout.quantity
        clawed_platform = payout.platform_fen * gone // payout.quantity
        back += clawed_platform - payout.clawed_back_platform_fen
        payout.clawed_back_fen, payout.clawed_back_platform_fen = clawed, clawed_platform
        if gone == payout.quantity:
            payout.status = "clawed_back"
    if back:
        order = session.get(Order, refund.order_id)
        assert order is not None
        ledger.post(
            session,
            kind=BACK_KIND,
            ref=f"refund:{refund.id}",
            at=clock.now(),
            currency=order.currency,
            memo=f"order {refund.order_id}: protected units refunded",
            entries=[(ledger.ESCROW, back), (ledger.PRICE_PROTECTION_PLATFORM, -back)],
        )
    session.flush()
    return back


# --- reports ----------------------------------------------------------------------------------------------------


def _sums_by_account(
    session: Session, kinds: tuple[str, ...], refs: list[str] | None = None
) -> dict[tuple[str, str], int]:
    query = (
        select(JournalTransaction.kind, LedgerAccount.code, func.sum(JournalEntry.amount_fen))
        .join(JournalEntry, JournalEntry.transaction_id == JournalTransaction.id)
        .join(LedgerAccount, LedgerAccount.id == JournalEntry.account_id)
        .where(JournalTransaction.kind.in_(kinds))
        .group_by(JournalTransaction.kind, LedgerAccount.code)
    )
    if refs is not None:
        query = query.where(JournalTransaction.ref.in_(refs))
    return {(kind, code): int(total) for kind, code, total in session.execute(query).all()}


def ops_totals(session: Session) -> dict[str, int]:
    """Price protection across the platform, from the ledger: paid to shoppers, funded by merchants and by
    the platform, the platform's part returned by later refunds, and the platform's net cost."""
    sums = _sums_by_account(session, (KIND, BACK_KIND))
    # to the shopper's payment, or off a pay-later bill not yet paid
    paid = -sums.get((KIND, ledger.GATEWAY_CASH), 0) - sums.get((KIND, ledger.PAY_LATER_RECEIVABLE), 0)
    platform = sums.get((KIND, ledger.PRICE_PROTECTION_PLATFORM), 0)
    merchant = sum(
        v
        for (k, code), v in sums.items()
        if k == KIND and (code == ledger.ESCROW or code.startswith("merchant_payable:"))
    )
    returned = -sums.get((BACK_KIND, ledger.PRICE_PROTECTION_PLATFORM), 0)
    count = session.scalar(select(func.count()).select_from(JournalTransaction).where(JournalTransaction.kind == KIND))
    return {
        "payouts": int(count or 0),
        "paid_fen": paid,
        "merchant_funded_fen": merchant,
        "platform_funded_fen": platform,
        "platform_returned_fen": returned,
        "platform_net_fen": platform - returned,
    }


def store_costs(session: Session, store_id: int) -> dict[str, int]:
    """What price protection cost one store, from the ledger: its part of the payouts on its orders
    (escrow before settlement, its payable after), next to what the platform funded on them. A refund of
    protected units later pays the shopper less by the same amount, so the store's part of a payout whose
    units all came back cost it nothing in the end (`clawed_back_fen`, from the payouts)."""
    refund_ids = session.scalars(
        select(Refund.id)
        .join(Order, Order.id == Refund.order_id)
        .where(Order.store_id == store_id, Refund.reason == REFUND_REASON)
    )
    refs = [f"refund:{r}" for r in refund_ids]
    sums = _sums_by_account(session, (KIND,), refs) if refs else {}
    merchant = sum(v for (_, code), v in sums.items() if code == ledger.ESCROW or code.startswith("merchant_payable:"))
    clawed_merchant = session.scalar(
        select(
            func.coalesce(
                func.sum(PriceProtectionPayout.clawed_back_fen - PriceProtectionPayout.clawed_back_platform_fen), 0
            )
        ).where(PriceProtectionPayout.store_id == store_id)
    )
    return {
        "payouts": len(refs),
        "price_protection_fen": merchant,
        "platform_funded_fen": sums.get((KIND, ledger.PRICE_PROTECTION_PLATFORM), 0),
        "clawed_back_fen": int(clawed_merchant or 0),
    }
