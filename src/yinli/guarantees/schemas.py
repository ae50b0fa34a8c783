"""The guarantees' I/O: a shopper's pay-later credit and bills."""

from __future__ import annotations

from datetime import datetime

from yinli.core.schemas import MoneyOut, Output
from yinli.guarantees.credit import CreditView
from yinli.guarantees.models import PayLaterBill


class BillOut(Output):
    id: int
    order_id: int
    amount: MoneyOut
    status: str
    attempts: int
    due_at: datetime | None
    next_attempt_at: datetime | None
    paid_at: datetime | None
    failure_reason: str | None


class CreditOut(Output):
    limit: MoneyOut
    room: MoneyOut
    owed: MoneyOut
    standing: str
    score: int
    available: bool
    reason: str | None
    bills: list[BillOut]


def bill_out(bill: PayLaterBill) -> BillOut:
    return BillOut(
        id=bill.id,
        order_id=bill.order_id,
        amount=MoneyOut.fen(bill.amount_fen, bill.currency),
        status=bill.status,
        attempts=bill.attempts,
        due_at=bill.due_at,
        next_attempt_at=bill.next_attempt_at,
        paid_at=bill.paid_at,
        failure_reason=bill.failure_reason,
    )


def credit_out(view: CreditView) -> CreditOut:
    return CreditOut(
        limit=MoneyOut.fen(view.limit_fen),
        room=MoneyOut.fen(view.room_fen),
        owed=MoneyOut.fen(view.owed_fen),
        standing=view.standing,
        score=view.score,
        available=view.available,
        reason=view.reason,
        bills=[bill_out(b) for b in view.bills],
    )
