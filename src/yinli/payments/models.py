from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yinli.core.db import Base, BigId, UTCDateTime


class PaymentStatus(StrEnum):
    PENDING = "pending"  # created at checkout, not yet attempted
    PROCESSING = "processing"  # sent to the gateway; the answer (or callback) is awaited
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    # never attempted, and nothing is left to pay: every order of it expired or was cancelled. Final: a
    # late attempt to pay gets a 409 (payment_closed).
    CLOSED = "closed"


class Payment(Base):
    """One charge covering every order of a checkout."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    shopper_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    method: Mapped[str | None] = mapped_column(String(16), nullable=True)
    gateway: Mapped[str] = mapped_column(String(32))
    gateway_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # sent to the gateway with the charge: a retried or duplicated attempt cannot charge twice
    gateway_key: Mapped[str] = mapped_column(String(64), unique=True)
    failure_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("status in ('pending','processing','succeeded','failed','closed')", name="status"),
        Index("ix_payments_status_attempted", "status", "attempted_at"),
    )


class Refund(Base):
    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    payment_id: Mapped[int] = mapped_column(BigId, ForeignKey("payments.id"), index=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), index=True)
    after_sale_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("after_sales.id"), nullable=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(32))  # after_sale | unfulfillable | ...
    gateway_key: Mapped[str] = mapped_column(String(64), unique=True)
    gateway_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)


class LedgerAccount(Base):
    """An account of the double-entry ledger, e.g. `gateway_cash`, `escrow`, `merchant_payable:12`."""

    __tablename__ = "ledger_accounts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    currency: Mapped[str] = mapped_column(String(3))


class JournalTransaction(Base):
    """A set of entries that sums to zero. (kind, ref) is unique: the same event cannot be booked twice."""

    __tablename__ = "journal_transactions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))  # payment | refund | settlement | ...
    ref: Mapped[str] = mapped_column(String(64))  # e.g. "order:12", "refund:7"
    memo: Mapped[str] = mapped_column(String(200), default="")
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("kind", "ref"),)


class JournalEntry(Base):
    """Debit positive, credit negative. Never updated or deleted: corrections are new transactions."""

    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    transaction_id: Mapped[int] = mapped_column(BigId, ForeignKey("journal_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("ledger_accounts.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))

    __table_args__ = (CheckConstraint("amount_fen <> 0", name="nonzero"),)
