"""The guarantees' tables. One section per guarantee; see the package docstring."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from yinli.core.db import Base, BigId, UTCDateTime

# ---------------------------------------------------------------------------------------------------
# pay later (credit)
# ---------------------------------------------------------------------------------------------------


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
