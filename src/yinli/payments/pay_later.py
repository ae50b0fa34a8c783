"""Pay later (先用后付), the money side. Payments is below guarantees, so what the ledger does for a
pay-later order lives here; credit profiles, bills and dunning are `guarantees.credit`.

- Paying with `pay_later` captures nothing at the gateway (`flows.charge.pay` skips the charge). The
  order's money is booked as a receivable instead of gateway cash — kind `pay_later_capture`, ref
  `order:<id>`: `pay_later_receivable` (+ the platform subsidy) debit / `escrow` credit. Escrow holds
  the order's share exactly as for a card payment, so `ledger.order_escrow` and settlement
  (`payments.do_settle`, on the usual schedule) are unchanged: when the merchant is settled before the
  shopper's bill is paid, the platform has advanced the merchant's money (the receivable is still open).
- The bill, once the gateway captured it — kind `pay_later_bill`, ref `order:<id>`: `gateway_cash`
  debit / `pay_later_receivable` credit (no escrow entry: the order's escrow share is untouched).
- A refund of an order whose bill is not paid cancels (part of) the receivable instead of paying cash —
  kind `pay_later_cancel`, ref `refund:<refund id>`: `escrow` debit / `pay_later_receivable` credit
  (+ the refunded units' subsidy back to the platform); the gateway is not called.

What an order still owes is read from the ledger (`receivable_of`): the receivable entries of its
`order:<id>` and `refund:<id>` transactions. So the refund path needs nothing from guarantees.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yinli.orders.models import Order
from yinli.payments import ledger
from yinli.payments.models import JournalEntry, JournalTransaction, LedgerAccount, Payment, Refund

METHOD = "pay_later"
KIND_CAPTURE = "pay_later_capture"
KIND_BILL = "pay_later_bill"
KIND_CANCEL = "pay_later_cancel"
KINDS = (KIND_CAPTURE, KIND_BILL, KIND_CANCEL)


def is_pay_later(payment: Payment) -> bool:
    return payment.method == METHOD


def book_capture(session: Session, payment: Payment, order: Order, at: datetime) -> None:
    """A pay-later order paid: the shopper owes its total (instead of gateway cash, as `book_payment`)."""
    ledger.post(
        session,
        kind=KIND_CAPTURE,
        ref=f"order:{order.id}",
        at=at,
        currency=order.currency,
        memo=f"payment {payment.id} (pay later)",
        entries=[
            (ledger.PAY_LATER_RECEIVABLE, order.total_fen),
            (ledger.SUBSIDY, order.platform_subsidy_fen),
            (ledger.ESCROW, -(order.total_fen + order.platform_subsidy_fen)),
        ],
    )


def book_bill_paid(session: Session, order: Order, bill_id: int, amount: int, at: datetime) -> None:
    """The shopper's bill captured at the gateway: the receivable becomes gateway cash."""
    ledger.post(
        session,
        kind=KIND_BILL,
        ref=f"order:{order.id}",
        at=at,
        currency=order.currency,
        memo=f"pay-later bill {bill_id}",
        entries=[(ledger.GATEWAY_CASH, amount), (ledger.PAY_LATER_RECEIVABLE, -amount)],
    )


def book_cancel(session: Session, order: Order, refund: Refund, amount: int, subsidy: int, at: datetime) -> None:
    """A refund of an unbilled pay-later order: `amount` of the receivable cancelled against escrow."""
    ledger.post(
        session,
        kind=KIND_CANCEL,
        ref=f"refund:{refund.id}",
        at=at,
        currency=order.currency,
        memo=f"order {order.id}: {refund.reason} (pay later, not billed)",
        entries=[
            (ledger.ESCROW, amount + subsidy),
            (ledger.PAY_LATER_RECEIVABLE, -amount),
            (ledger.SUBSIDY, -subsidy),
        ],
    )


def receivable_of(session: Session, order_id: int) -> int:
    """What the shopper still owes for a pay-later order (0 once billed, refunded or never pay later)."""
    refunds = [f"refund:{r}" for r in session.scalars(select(Refund.id).where(Refund.order_id == order_id))]
    total = session.scalar(
        select(func.coalesce(func.sum(JournalEntry.amount_fen), 0))
        .join(JournalTransaction, JournalTransaction.id == JournalEntry.transaction_id)
        .join(LedgerAccount, LedgerAccount.id == JournalEntry.account_id)
        .where(
            LedgerAccount.code == ledger.PAY_LATER_RECEIVABLE,
            JournalTransaction.ref.in_([f"order:{order_id}", *refunds]),
        )
    )
    return int(total or 0)


def totals_by_kind(session: Session) -> dict[str, int]:
    """Per pay-later kind, the receivable moved (capture positive, bill and cancel as positive amounts)."""
    rows = session.execute(
        select(JournalTransaction.kind, func.sum(JournalEntry.amount_fen))
        .join(JournalEntry, JournalEntry.transaction_id == JournalTransaction.id)
        .join(LedgerAccount, LedgerAccount.id == JournalEntry.account_id)
        .where(LedgerAccount.code == ledger.PAY_LATER_RECEIVABLE, JournalTransaction.kind.in_(KINDS))
        .group_by(JournalTransaction.kind)
    ).all()
    got = {kind: abs(int(total)) for kind, total in rows}
    return {kind: got.get(kind, 0) for kind in KINDS}
