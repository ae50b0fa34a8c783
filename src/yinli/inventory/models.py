from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from yinli.core.db import Base, BigId, UTCDateTime


class Stock(Base):
    """`on_hand` units in the warehouse, of which `reserved` are held for unpaid orders.

    The CHECKs are the last line of defence; the service never relies on them to refuse a sale (it uses
    conditional updates), but a bug can never make stock negative or over-reserved.
    """

    __tablename__ = "stock"

    sku_id: Mapped[int] = mapped_column(BigId, ForeignKey("skus.id"), primary_key=True)
    on_hand: Mapped[int] = mapped_column(BigInteger, default=0)
    reserved: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0 and reserved <= on_hand", name="reserved_within_on_hand"),
    )


class ReservationStatus:
    HELD = "held"  # counted in stock.reserved until paid, released or expired
    COMMITTED = "committed"  # paid: left on_hand for good
    RELEASED = "released"  # cancelled, payment failed, or expired


class Reservation(Base):
    __tablename__ = "reservations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    sku_id: Mapped[int] = mapped_column(BigId, ForeignKey("skus.id"))
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("status in ('held','committed','released')", name="status"),
        Index("ix_reservations_held_expiry", "status", "expires_at"),
    )


class StockMovement(Base):
    """Append-only journal of every change to on_hand (restock, sale, return, correction)."""

    __tablename__ = "stock_movements"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    sku_id: Mapped[int] = mapped_column(BigId, ForeignKey("skus.id"), index=True)
    delta: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(16))  # set | sale | return | adjust
    ref_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    actor_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
