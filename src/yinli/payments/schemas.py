"""Payments' I/O: a payment as the API shows it (checkout answers with it too), paying, the ledger."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field
from sqlalchemy.orm import Session

from yinli.core.schemas import Input, MoneyOut, Output
from yinli.payments import service
from yinli.payments.models import Payment


class PaymentOut(Output):
    id: int
    status: str
    amount: MoneyOut
    method: str | None
    failure_reason: str | None
    created_at: datetime
    order_ids: list[int]


class PayIn(Input):
    method: str = Field("card", pattern="^(card|balance|pay_later)$")


class LedgerOut(Output):
    balances: dict[str, int]
    unbalanced_transactions: list[int]


def payment_out(session: Session, payment: Payment) -> PaymentOut:
    return PaymentOut(
        id=payment.id,
        status=payment.status,
        amount=MoneyOut.fen(payment.amount_fen, payment.currency),
        method=payment.method,
        failure_reason=payment.failure_reason,
        created_at=payment.created_at,
        order_ids=[o.id for o in service.orders_of(session, payment.id)],
    )
