"""Double-entry ledger: every movement of money is a journal transaction whose entries sum to zero.

Accounts (debit-positive amounts; a liability or revenue account normally has a negative balance):
- `gateway_cash`            money held at the payment provider (asset)
- `escrow`                  shoppers' payments held for orders until settlement (liability)
- `merchant_payable:<id>`   owed to a store after settlement (liability)
- `platform_fee_revenue`    technical fees earned (revenue)
- `platform_subsidy`        what the platform paid towards shoppers' prices (expense)
- `pay_later_receivable`    what shoppers owe for pay-later orders not yet billed (asset; see payments.pay_later)

Flows: payment (gateway_cash ← escrow), refund (escrow → gateway_cash, and the refunded units' subsidy
escrow → platform_subsidy), settlement (escrow → merchant payable + fee revenue + creator payable).
Balances are always derived by summing entries; nothing stores a balance.

`escrow` is one account for every order; an order's share of it is the sum of the escrow entries of the
transactions that reference the order: payment and settlement (ref `order:<id>`, also any other kind
booked against the order) and its refunds (ref `refund:<refund id>`). See `order_escrow`.
Entries and transactions are append-only (ORM hook here, triggers in migration 0002).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yinli.payments.models import JournalEntry, JournalTransaction, LedgerAccount, Refund

GATEWAY_CASH = "gateway_cash"
ESCROW = "escrow"
FEE_REVENUE = "platform_fee_revenue"
SUBSIDY = "platform_subsidy"

# --- pay later (先用后付, payments/pay_later.py) ---------------------------------------------------------
# What shoppers owe for pay-later orders not yet billed (asset). Booked at pay time instead of gateway
# cash (kind `pay_later_capture`), cleared by the paid bill (`pay_later_bill`, into gateway cash) or by a
# refund of the unbilled order (`pay_later_cancel`, back against escrow).
PAY_LATER_RECEIVABLE = "pay_later_receivable"


# --- price protection (价保, guarantees.price_protection) ---------------------------------------------
# The platform's share of price-protection payouts (drops it funded with a subsidy): an expense. Kinds
# `price_protection` (the payout) and `price_protection_back` (the platform's part returned from escrow
# when the protected units are refunded) are booked with ref `refund:<refund id>` — the payout's own
# refund row — so `order_escrow` counts their escrow entries with the order's refunds.
PRICE_PROTECTION_PLATFORM = "price_protection_platform"


# --- return-shipping cover (guarantees.return_cover) ----------------------------------------------------
# kinds: return_cover_fee (merchant_payable:<store> → pool, ref order:<id>, at settlement),
# return_cover_platform (platform → pool, ref order:<id>, a new merchant's fee), return_cover_topup
# (platform → pool, ref after_sale:<id>, any shortfall before a payout), return_cover_payout
# (pool → gateway_cash, ref after_sale:<id>). None has an escrow entry, so `order_escrow` is unaffected.
RETURN_COVER_POOL = "return_cover_pool"  # cover fees in, shoppers' postage out (liability)
RETURN_COVER_PLATFORM = "return_cover_platform"  # what cover costs the platform (expense)


def merchant_payable(store_id: int) -> str:
    return f"merchant_payable:{store_id}"


class Unbalanced(ValueError):
    pass


@event.listens_for(Session, "before_flush")
def _refuse_ledger_rewrites(session: Session, _ctx: Any, _instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, JournalEntry | JournalTransaction) and (obj in session.deleted or session.is_modified(obj)):
            raise RuntimeError("the ledger is append-only")


def _account_id(session: Session, code: str, currency: str) -> int:
    account_id = session.scalar(select(LedgerAccount.id).where(LedgerAccount.code == code))
    if account_id is not None:
        return account_id
    try:
        with session.begin_nested():
            account = LedgerAccount(code=code, currency=currency)
            session.add(account)
            session.flush()
            return account.id
    except IntegrityError:  # created concurrently: use that one
        return session.scalars(select(LedgerAccount.id).where(LedgerAccount.code == code)).one()


def post(
    session: Session,
    *,
    kind: str,
    ref: str,
    entries: list[tuple[str, int]],
    at: datetime,
    currency: str = "CNY",
    memo: str = "",
) -> JournalTransaction | None:
    """Book one balanced transaction. Returns None (and books nothing) if (kind, ref) was booked before.

    Zero amounts are dropped; the rest must sum to exactly zero or nothing is written.
    """
    lines = [(code, amount) for code, amount in entries if amount != 0]
    if sum(amount for _, amount in lines) != 0:
        raise Unbalanced(f"{kind} {ref}: entries sum to {sum(a for _, a in lines)}, not 0")
    if session.scalar(
        select(JournalTransaction.id).where(JournalTransaction.kind == kind, JournalTransaction.ref == ref)
    ):
        return None
    txn = JournalTransaction(kind=kind, ref=ref, memo=memo, occurred_at=at)
    session.add(txn)
    session.flush()
    for code, amount in lines:
        session.add(
            JournalEntry(
                transaction_id=txn.id,
                account_id=_account_id(session, code, currency),
                amount_fen=amount,
                currency=currency,
            )
        )
    session.flush()
    return txn


def balance(session: Session, code: str) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(JournalEntry.amount_fen), 0))
            .join(LedgerAccount, LedgerAccount.id == JournalEntry.account_id)
            .where(LedgerAccount.code == code)
        )
        or 0
    )


def balances(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(LedgerAccount.code, func.sum(JournalEntry.amount_fen))
        .join(JournalEntry, JournalEntry.account_id == LedgerAccount.id)
        .group_by(LedgerAccount.code)
    ).all()
    return {code: int(total) for code, total in rows}


def unbalanced_transactions(session: Session) -> list[int]:
    """Ids of journal transactions whose entries do not sum to zero (always empty unless a bug)."""
    return list(
        session.scalars(
            select(JournalEntry.transaction_id)
            .group_by(JournalEntry.transaction_id)
            .having(func.sum(JournalEntry.amount_fen) != 0)
        )
    )


def _escrow_by_ref(session: Session, refs: list[str] | None) -> dict[str, int]:
    query = (
        select(JournalTransaction.ref, func.sum(JournalEntry.amount_fen))
        .join(JournalEntry, JournalEntry.transaction_id == JournalTransaction.id)
        .join(LedgerAccount, LedgerAccount.id == JournalEntry.account_id)
        .where(LedgerAccount.code == ESCROW)
        .group_by(JournalTransaction.ref)
    )
    if refs is not None:
        query = query.where(JournalTransaction.ref.in_(refs))
    return {ref: int(total) for ref, total in session.execute(query).all()}


def order_escrow(session: Session, order_id: int) -> int:
    """What the escrow account holds for one order (debit-positive: money held is negative)."""
    refunds = session.scalars(select(Refund.id).where(Refund.order_id == order_id))
    refs = [f"order:{order_id}", *(f"refund:{r}" for r in refunds)]
    return sum(_escrow_by_ref(session, refs).values())


def escrow_by_order(session: Session) -> dict[int, int]:
    """Every order's share of escrow (orders with no escrow entries are absent). Reads the whole escrow
    account: for checks and repairs, not for request paths."""
    refund_order = {rid: oid for rid, oid in session.execute(select(Refund.id, Refund.order_id))}
    out: dict[int, int] = {}
    for ref, total in _escrow_by_ref(session, None).items():
        kind, _, key = ref.partition(":")
        if kind == "order":
            order_id = int(key)
        elif kind == "refund" and int(key) in refund_order:
            order_id = refund_order[int(key)]
        else:
            continue
        out[order_id] = out.get(order_id, 0) + total
    return out


def final_orders_holding_escrow(session: Session) -> dict[int, int]:
    """The invariant "no money stuck": orders in a final state (completed, refunded, cancelled) whose
    escrow share is not zero, with that share. Always empty unless a bug (or data from before the fix)."""
    from yinli.orders.models import Order  # payments' ledger below orders: imported late

    final = set(session.scalars(select(Order.id).where(Order.status.in_(("completed", "refunded", "cancelled")))))
    return {order_id: held for order_id, held in escrow_by_order(session).items() if held and order_id in final}
