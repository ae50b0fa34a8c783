"""Return-shipping cover (退货补运费): a covered return's postage is paid to the shopper automatically.

Rule. An order is covered iff one of its lines was promised the cover at checkout
(`"return_shipping_cover" in line.guarantees`: product and store opted in, `catalog.cards.offered`).
Its `return_covers` row is written with the order (`do_open_cover`, called by checkout, where the
snapshot is taken and the settings are at hand) and fixes the terms then: who funds it, the cover fee
and the postage. It only matters once the order is paid: fees are booked at settlement and payouts made
for received returns, both of which only paid orders reach.

Funder. The platform for a new merchant (store opened less than `return_cover_new_merchant_days` before
the order, or never opened), otherwise the merchant, who pays a per-order cover fee
(`return_cover_fee_fen`), like freight insurance.

Fee (`book_fee`, from `flows.settle.settle`, after `payments.do_settle`): merchant-funded, kind
`return_cover_fee`: `merchant_payable:<store>` → `return_cover_pool`, never more than the settlement
paid the merchant for the order (any remainder is the platform's, `return_cover_platform`, in the same
transaction), so the merchant's net for an order is settlement − cover fee and never negative;
platform-funded, kind `return_cover_platform`: `return_cover_platform` → `return_cover_pool`. Both use
ref `order:<id>`: `ledger.order_escrow` sums only escrow entries, and these transactions have none. An
order refunded in full never completes, so it pays no fee.

Payout (`pay_out`): when a covered return (an after-sale of kind return_refund) reaches refunded,
`flows.refund.receive_return` pays the postage in the same transaction (in a savepoint: a failed payout
never undoes the refund) — kind `return_cover_payout`, ref `after_sale:<id>`: `return_cover_pool` →
`gateway_cash`, with a gateway refund against the order's charge under the key `return-cover-<case id>`
(a real provider would use its transfer-to-user call; the key makes a retry move money once). The
amount is flat (`return_cover_fen`, default ¥8, fixed on the cover row at checkout); bands by weight
or quantity are not built. `run_catch_up` (jobs.run_once, every round) pays any covered received return
not yet paid, so the postage arrives within one job round even when the inline payout failed — far
inside the promised 72 h. One payout per case: the unique `after_sale_id`, the case's row lock and the
ledger's (kind, ref).

Pool. The pool never goes negative: before a payout larger than what the pool holds, the platform tops
it up (kind `return_cover_topup`, ref `after_sale:<id>`: `return_cover_platform` → pool), under a lock
on the pool's ledger account so two payouts cannot both count the same funds. (Wholly returned orders
pay no fee, so early on most postage is the platform's.)

Display: `order_covered` (is this order covered), `case_cover` (the case page and the API: ¥8 pending
or paid at); reports: `ops_totals`, `store_costs`, read from the ledger by kind and account.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yinli.core.clock import Clock
from yinli.core.settings import Settings
from yinli.guarantees.models import ReturnCover, ReturnCoverPayout
from yinli.merchants.models import Store
from yinli.orders.models import AfterSale, AfterSaleKind, AfterSaleStatus, Order
from yinli.payments import ledger
from yinli.payments.gateway import PaymentGateway
from yinli.payments.models import JournalEntry, JournalTransaction, LedgerAccount, Payment
from yinli.payments.service import PaymentFailed

log = logging.getLogger("yinli.guarantees")

GUARANTEE = "return_shipping_cover"
MERCHANT, PLATFORM = "merchant", "platform"
KIND_FEE = "return_cover_fee"
KIND_PLATFORM = "return_cover_platform"
KIND_TOPUP = "return_cover_topup"
KIND_PAYOUT = "return_cover_payout"


# --- the rule --------------------------------------------------------------------------------------------


def covered(line_guarantees: Iterable[Iterable[str]]) -> bool:
    """An order is covered iff any of its lines was promised the cover at checkout."""
    return any(GUARANTEE in g for g in line_guarantees)


def funder(store: Store, ordered_at: datetime, settings: Settings) -> str:
    """The platform funds the cover for a new merchant (opened less than the window before the order,
    or not opened at all), the merchant otherwise."""
    window = timedelta(days=settings.return_cover_new_merchant_days)
    if store.opened_at is None or ordered_at - store.opened_at < window:
        return PLATFORM
    return MERCHANT


def do_open_cover(
    session: Session, settings: Settings, order: Order, store: Store, line_guarantees: Iterable[Iterable[str]]
) -> ReturnCover | None:
    """The order's cover row, if one of its lines was promised the cover (checkout calls this)."""
    if not covered(line_guarantees):
        return None
    cover = ReturnCover(
        order_id=order.id,
        store_id=order.store_id,
        funded_by=funder(store, order.created_at, settings),
        fee_fen=settings.return_cover_fee_fen,
        payout_fen=settings.return_cover_fen,
        created_at=order.created_at,
    )
    session.add(cover)
    session.flush()
    return cover


def cover_of(session: Session, order_id: int) -> ReturnCover | None:
    return session.scalar(select(ReturnCover).where(ReturnCover.order_id == order_id))


def order_covered(session: Session, order_id: int) -> bool:
    """For shopper-facing display: does this order carry return-shipping cover."""
    return cover_of(session, order_id) is not None


# --- the fee, at settlement -------------------------------------------------------------------------------


def _settled_to_merchant(session: Session, order: Order) -> int:
    """What the order's settlement made payable to its store (0 if it was not settled)."""
    paid = session.scalar(
        select(func.coalesce(func.sum(JournalEntry.amount_fen), 0))
        .join(JournalTransaction, JournalTransaction.id == JournalEntry.transaction_id)
        .join(LedgerAccount, LedgerAccount.id == JournalEntry.account_id)
        .where(
            JournalTransaction.kind == "settlement",
            JournalTransaction.ref == f"order:{order.id}",
            LedgerAccount.code == ledger.merchant_payable(order.store_id),
        )
    )
    return max(0, -int(paid or 0))


def book_fee(session: Session, clock: Clock, order: Order) -> int:
    """Book a settled covered order's cover fee into the pool; returns what the merchant paid of it.
    Idempotent: a second call books nothing."""
    cover = session.scalar(select(ReturnCover).where(ReturnCover.order_id == order.id).with_for_update())
    if cover is None or cover.fee_booked_at is not None:
        return 0
    now = clock.now()
    ref = f"order:{order.id}"
    merchant_part = 0
    if cover.fee_fen > 0:
        if cover.funded_by == MERCHANT:
            merchant_part = min(cover.fee_fen, _settled_to_merchant(session, order))
            entries = [
                (ledger.merchant_payable(order.store_id), merchant_part),
                (ledger.RETURN_COVER_PLATFORM, cover.fee_fen - merchant_part),
                (ledger.RETURN_COVER_POOL, -cover.fee_fen),
            ]
            memo = f"store {order.store_id}: return-shipping cover fee"
            ledger.post(session, kind=KIND_FEE, ref=ref, at=now, currency=order.currency, memo=memo, entries=entries)
        else:
            entries = [(ledger.RETURN_COVER_PLATFORM, cover.fee_fen), (ledger.RETURN_COVER_POOL, -cover.fee_fen)]
            memo = f"store {order.store_id}: a new merchant's cover fee, the platform's"
            ledger.post(
                session, kind=KIND_PLATFORM, ref=ref, at=now, currency=order.currency, memo=memo, entries=entries
            )
    cover.fee_booked_at = now
    session.flush()
    return merchant_part


# --- the payout ---------------------------------------------------------------------------------------------


def gateway_key(after_sale_id: int) -> str:
    return f"return-cover-{after_sale_id}"


def _lock_pool(session: Session, currency: str) -> None:
    """Lock the pool's ledger account row (created if it is not there yet): payouts, which read the
    pool to size a top-up, run one at a time. NO KEY UPDATE: fees booked meanwhile (their entries take
    KEY SHARE on the account) are not blocked."""
    query = select(LedgerAccount.id).where(LedgerAccount.code == ledger.RETURN_COVER_POOL)
    if session.scalar(query.with_for_update(key_share=True)) is not None:
        return
    try:
        with session.begin_nested():
            session.add(LedgerAccount(code=ledger.RETURN_COVER_POOL, currency=currency))
            session.flush()
    except IntegrityError:  # created concurrently
        pass
    session.scalar(query.with_for_update(key_share=True))


def pay_out(session: Session, clock: Clock, gateway: PaymentGateway, after_sale_id: int) -> ReturnCoverPayout | None:
    """Pay a covered received return's postage, once. None if the case is not a covered received return
    or was paid before. Raises PaymentFailed if the gateway refuses (the caller's transaction, or
    savepoint, rolls back)."""
    case = session.scalar(
        select(AfterSale)
        .where(AfterSale.id == after_sale_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if case is None or case.kind != AfterSaleKind.RETURN_REFUND or case.status != AfterSaleStatus.REFUNDED:
        return None
    cover = cover_of(session, case.order_id)
    if cover is None or cover.payout_fen <= 0:
        return None
    if session.scalar(select(ReturnCoverPayout.id).where(ReturnCoverPayout.after_sale_id == case.id)) is not None:
        return None
    order = session.get(Order, case.order_id)
    assert order is not None
    payment = session.get(Payment, order.payment_id) if order.payment_id is not None else None
    now, amount, ref = clock.now(), cover.payout_fen, f"after_sale:{case.id}"
    payout = ReturnCoverPayout(
        after_sale_id=case.id, order_id=order.id, amount_fen=amount, gateway_key=gateway_key(case.id), paid_at=now
    )
    session.add(payout)
    session.flush()
    _lock_pool(session, order.currency)
    held = -ledger.balance(session, ledger.RETURN_COVER_POOL)
    if held < amount:  # the platform covers the shortfall: the pool never goes negative
        short = amount - max(held, 0)
        entries = [(ledger.RETURN_COVER_PLATFORM, short), (ledger.RETURN_COVER_POOL, -short)]
        memo = f"order {order.id}: pool top-up"
        ledger.post(session, kind=KIND_TOPUP, ref=ref, at=now, currency=order.currency, memo=memo, entries=entries)
    entries = [(ledger.RETURN_COVER_POOL, amount), (ledger.GATEWAY_CASH, -amount)]
    memo = f"order {order.id}: return postage"
    ledger.post(session, kind=KIND_PAYOUT, ref=ref, at=now, currency=order.currency, memo=memo, entries=entries)
    # Last, so a refusal rolls the rows above back; the key makes a retry (the catch-up job) move money once.
    charge = (payment.gateway_ref if payment else None) or ""
    result = gateway.refund(payout.gateway_key, charge, amount, order.currency)
    if result.outcome != "succeeded":
        raise PaymentFailed(f"the gateway refused the postage payout: {result.reason}", code="payout_failed")
    payout.gateway_ref = result.reference
    session.flush()
    return payout


def pay_out_inline(session: Session, clock: Clock, gateway: PaymentGateway, after_sale_id: int) -> bool:
    """`pay_out` in a savepoint, as the return is received: if it fails, the refund stands and the
    catch-up job pays the postage next round. True if paid now."""
    try:
        with session.begin_nested():
            return pay_out(session, clock, gateway, after_sale_id) is not None
    except Exception:  # never undo the refund for the postage: the job retries
        log.exception("return-shipping cover: paying after-sale %s failed; left to the catch-up job", after_sale_id)
        return False


def unpaid_cases(session: Session, limit: int) -> list[int]:
    """Covered received returns whose postage has not been paid, oldest first."""
    paid = select(ReturnCoverPayout.id).where(ReturnCoverPayout.after_sale_id == AfterSale.id).exists()
    query = (
        select(AfterSale.id)
        .join(ReturnCover, ReturnCover.order_id == AfterSale.order_id)
        .where(
            AfterSale.kind == AfterSaleKind.RETURN_REFUND.value,
            AfterSale.status == AfterSaleStatus.REFUNDED.value,
            ReturnCover.payout_fen > 0,
            ~paid,
        )
        .order_by(AfterSale.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def run_catch_up(session: Session, clock: Clock, gateway: PaymentGateway, limit: int = 200) -> int:
    """Background job: pay every covered received return not paid yet (each in its own savepoint, so one
    refusal does not stop the rest). Idempotent and safe to run concurrently with itself and with
    receiving returns. Returns how many it paid."""
    return sum(pay_out_inline(session, clock, gateway, case_id) for case_id in unpaid_cases(session, limit))


# --- display -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseCover:
    """Return-shipping cover on one after-sale, as the shopper sees it."""

    after_sale_id: int
    order_id: int
    amount_fen: int
    funded_by: str
    status: str  # pending (not received, or being paid) | paid | void (the return was rejected or withdrawn)
    paid_at: datetime | None


def case_cover(session: Session, case: AfterSale) -> CaseCover | None:
    """The cover on an after-sale, or None when there is none (not a return, or the order not covered)."""
    if case.kind != AfterSaleKind.RETURN_REFUND:
        return None
    cover = cover_of(session, case.order_id)
    if cover is None or cover.payout_fen <= 0:
        return None
    payout = session.scalar(select(ReturnCoverPayout).where(ReturnCoverPayout.after_sale_id == case.id))
    if payout is not None:
        status, amount = "paid", payout.amount_fen
    else:
        void = case.status in (AfterSaleStatus.REJECTED, AfterSaleStatus.WITHDRAWN)
        status, amount = ("void" if void else "pending"), cover.payout_fen
    return CaseCover(case.id, case.order_id, amount, cover.funded_by, status, payout.paid_at if payout else None)


# --- reports --------------------------------------------------------------------------------------------------


def _sums(session: Session, kinds: tuple[str, ...], refs: list[str] | None = None) -> dict[tuple[str, str], int]:
    """(kind, account code) → sum of entries, over the transactions of `kinds` (and `refs`, if given)."""
    query = (
        select(JournalTransaction.kind, LedgerAccount.code, func.sum(JournalEntry.amount_fen))
        .join(JournalEntry, JournalEntry.transaction_id == JournalTransaction.id)
        .join(LedgerAccount, LedgerAccount.id == JournalEntry.account_id)
        .where(JournalTransaction.kind.in_(kinds))
        .group_by(JournalTransaction.kind, LedgerAccount.code)
    )
    if refs is not None:
        if not refs:
            return {}
        query = query.where(JournalTransaction.ref.in_(refs))
    return {(kind, code): int(total) for kind, code, total in session.execute(query).all()}


def _count(session: Session, kind: str, refs: list[str] | None = None) -> int:
    query = select(func.count()).select_from(JournalTransaction).where(JournalTransaction.kind == kind)
    if refs is not None:
        if not refs:
            return 0
        query = query.where(JournalTransaction.ref.in_(refs))
    return int(session.scalar(query) or 0)


def ops_totals(session: Session) -> dict[str, int]:
    """Platform-wide: what cover cost and who funded it (fen), from the ledger."""
    sums = _sums(session, (KIND_FEE, KIND_PLATFORM, KIND_TOPUP, KIND_PAYOUT))
    merchants = sum(v for (kind, code), v in sums.items() if kind == KIND_FEE and code.startswith("merchant_payable:"))
    platform_fees = sums.get((KIND_FEE, ledger.RETURN_COVER_PLATFORM), 0) + sums.get(
        (KIND_PLATFORM, ledger.RETURN_COVER_PLATFORM), 0
    )
    topups = sums.get((KIND_TOPUP, ledger.RETURN_COVER_PLATFORM), 0)
    return {
        "payouts_fen": sums.get((KIND_PAYOUT, ledger.RETURN_COVER_POOL), 0),
        "payouts": _count(session, KIND_PAYOUT),
        "fees_merchant_fen": merchants,
        "fees_platform_fen": platform_fees,
        "topups_platform_fen": topups,
        "funded_by_merchants_fen": merchants,
        "funded_by_platform_fen": platform_fees + topups,
        "pool_fen": -ledger.balance(session, ledger.RETURN_COVER_POOL),
    }


def store_costs(session: Session, store_id: int) -> dict[str, int]:
    """What cover cost one store (the fees it paid) and what it gave its shoppers (postage paid out of
    the pool for its returns, and the fees the platform paid for it as a new merchant), from the ledger."""
    paid = session.scalar(
        select(func.coalesce(func.sum(JournalEntry.amount_fen), 0))
        .join(JournalTransaction, JournalTransaction.id == JournalEntry.transaction_id)
        .join(LedgerAccount, LedgerAccount.id == JournalEntry.account_id)
        .where(JournalTransaction.kind == KIND_FEE, LedgerAccount.code == ledger.merchant_payable(store_id))
    )
    order_refs = [
        f"order:{o}" for o in session.scalars(select(ReturnCover.order_id).where(ReturnCover.store_id == store_id))
    ]
    case_refs = [
        f"after_sale:{a}"
        for a in session.scalars(
            select(ReturnCoverPayout.after_sale_id)
            .join(ReturnCover, ReturnCover.order_id == ReturnCoverPayout.order_id)
            .where(ReturnCover.store_id == store_id)
        )
    ]
    platform = _sums(session, (KIND_FEE, KIND_PLATFORM), order_refs)
    payouts = _sums(session, (KIND_PAYOUT,), case_refs)
    return {
        "fees_fen": int(paid or 0),
        "fees": _count(session, KIND_FEE, order_refs),
        "platform_funded_fen": platform.get((KIND_FEE, ledger.RETURN_COVER_PLATFORM), 0)
        + platform.get((KIND_PLATFORM, ledger.RETURN_COVER_PLATFORM), 0),
        "payouts_fen": payouts.get((KIND_PAYOUT, ledger.RETURN_COVER_POOL), 0),
        "payouts": _count(session, KIND_PAYOUT, case_refs),
    }
