"""The guarantees' tables. One section per guarantee; see the package docstring."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from yinli.core.db import Base, BigId, UTCDateTime

# ---------------------------------------------------------------------------------------------------
# pay later (credit)
# ---------------------------------------------------------------------------------------------------


class Standing(StrEnum):
    GOOD = "good"
    OVERDUE = "overdue"  # a bill is overdue: no pay later until every overdue bill is paid


class CreditProfile(Base):
    """A shopper's pay-later credit (guarantees.credit). Created on first use; the row is also the lock
    pay-later checkouts of one shopper queue on, so two at once cannot both pass the limit."""

    __tablename__ = "credit_profiles"

    shopper_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), primary_key=True)
    score: Mapped[int] = mapped_column(Integer)  # 0..1000; 600 for a new shopper
    limit_fen: Mapped[int] = mapped_column(BigInteger)
    standing: Mapped[str] = mapped_column(String(16))
    bills_on_time: Mapped[int] = mapped_column(Integer, default=0)
    bills_overdue: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("standing in ('good','overdue')", name="standing"),
        CheckConstraint("limit_fen >= 0", name="limit_not_negative"),
    )


class BillStatus(StrEnum):
    OPEN = "open"  # the order is paid with pay later; not billed yet (delivery not confirmed)
    BILLED = "billed"  # charged at the gateway, its answer awaited
    PAID = "paid"
    FAILED = "failed"  # declined; retried at next_attempt_at
    OVERDUE = "overdue"  # declined pay_later_max_attempts times; the shopper must pay it
    CANCELLED = "cancelled"  # refunded before it was billed (amount 0)


UNPAID_BILL = (BillStatus.OPEN, BillStatus.BILLED, BillStatus.FAILED, BillStatus.OVERDUE)


class PayLaterBill(Base):
    """One bill per pay-later order: what the shopper owes for it and its dunning."""

    __tablename__ = "pay_later_bills"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), unique=True)
    shopper_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)  # still owed: the order's total less refunds
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)  # when it was first billed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    gateway_key: Mapped[str | None] = mapped_column(String(64), nullable=True)  # of the last attempt
    gateway_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        CheckConstraint("amount_fen >= 0", name="amount_not_negative"),
        CheckConstraint("status in ('open','billed','paid','failed','overdue','cancelled')", name="status"),
        Index("ix_pay_later_bills_status_next", "status", "next_attempt_at"),
    )


# ---------------------------------------------------------------------------------------------------
# price protection
# ---------------------------------------------------------------------------------------------------


class PriceProtectionPayout(Base):
    """A line's price-protection payout (价保): the largest drop of its SKU's final price within the window,
    times the units not refunded then, paid once per line (`order_line_id` is unique). `merchant_fen` came
    out of the order's escrow (or the store's payable once settled), `platform_fen` out of the platform's
    `price_protection_platform` account; both went back to the shopper's payment (`refund_id`). A later
    refund of the line's units claws the payout back (`clawed_back_fen`, of which
    `clawed_back_platform_fen` returned to the platform); all units refunded: `clawed_back`."""

    __tablename__ = "price_protection_payouts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_line_id: Mapped[int] = mapped_column(BigId, ForeignKey("order_lines.id"), unique=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), index=True)
    store_id: Mapped[int] = mapped_column(BigId, ForeignKey("stores.id"), index=True)
    shopper_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    refund_id: Mapped[int] = mapped_column(BigId, ForeignKey("refunds.id"))
    unit_paid_fen: Mapped[int] = mapped_column(BigInteger)
    lowest_fen: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)  # units covered: not refunded when paid
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    merchant_fen: Mapped[int] = mapped_column(BigInteger)
    platform_fen: Mapped[int] = mapped_column(BigInteger)
    via: Mapped[str] = mapped_column(String(8))  # auto (the job at window close) | claim (the shopper)
    status: Mapped[str] = mapped_column(String(16))  # paid | clawed_back
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime())
    clawed_back_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    clawed_back_platform_fen: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        CheckConstraint("via in ('auto','claim')", name="via"),
        CheckConstraint("status in ('paid','clawed_back')", name="status"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("amount_fen > 0 and amount_fen = merchant_fen + platform_fen", name="amount"),
        CheckConstraint("merchant_fen >= 0 and platform_fen >= 0", name="parts"),
        CheckConstraint("lowest_fen < unit_paid_fen", name="a_drop"),
        CheckConstraint("clawed_back_fen >= 0 and clawed_back_fen <= amount_fen", name="clawed_back"),
        CheckConstraint(
            "clawed_back_platform_fen >= 0 and clawed_back_platform_fen <= platform_fen", name="clawed_back_platform"
        ),
    )


# ---------------------------------------------------------------------------------------------------
# return-shipping cover
# ---------------------------------------------------------------------------------------------------


class ReturnCover(Base):
    """An order that carries return-shipping cover (退货补运费): at least one line was promised it at
    checkout (`order_lines.guarantees`). Written with the order, with its terms fixed then: who funds
    the cover (the platform for a new merchant, else the merchant), the per-order cover fee, and the
    postage a received return of the order is paid. The fee is booked at settlement (`fee_booked_at`)."""

    __tablename__ = "return_covers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), unique=True)
    store_id: Mapped[int] = mapped_column(BigId, ForeignKey("stores.id"), index=True)
    funded_by: Mapped[str] = mapped_column(String(16))  # merchant | platform
    fee_fen: Mapped[int] = mapped_column(BigInteger)  # the cover fee, booked at settlement
    payout_fen: Mapped[int] = mapped_column(BigInteger)  # postage paid per received return
    fee_booked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("funded_by in ('merchant','platform')", name="funded_by"),
        CheckConstraint("fee_fen >= 0", name="fee"),
        CheckConstraint("payout_fen >= 0", name="payout"),
    )


class ReturnCoverPayout(Base):
    """The postage paid to the shopper for one received return (once per after-sale: the unique key)."""

    __tablename__ = "return_cover_payouts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    after_sale_id: Mapped[int] = mapped_column(BigId, ForeignKey("after_sales.id"), unique=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    gateway_key: Mapped[str] = mapped_column(String(64))
    gateway_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)
