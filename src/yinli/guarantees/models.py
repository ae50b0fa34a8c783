"""The guarantees' tables. One section per guarantee; see the package docstring."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from yinli.core.db import Base, BigId, UTCDateTime

# ---------------------------------------------------------------------------------------------------
# pay later (credit)
# ---------------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------------
# price protection
# ---------------------------------------------------------------------------------------------------


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
