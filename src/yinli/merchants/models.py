from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Integer, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from yinli.core.db import Base, BigId, UTCDateTime


class StoreStatus(StrEnum):
    APPLIED = "applied"  # waiting for an operator's review
    REJECTED = "rejected"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class Store(Base):
    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    logo_url: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    contact_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    main_category_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("categories.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    owner_user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    # What the platform asked as a deposit when the store applied (0 under 0-yuan opening).
    deposit_required_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reviewed_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), nullable=True)
    review_note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The new-merchant window starts at the first listing, not at approval (a store with nothing on sale
    # has not started).
    first_listed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    status_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # shipping charged per order from this store, free from `free_shipping_over_fen` of goods
    shipping_fee_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    free_shipping_over_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # store-wide opt-ins of guarantees; a product offers one only if its store does too (guarantees/)
    pay_later: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    price_protection: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    return_shipping_cover: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    __table_args__ = (
        CheckConstraint("status in ('applied','rejected','active','suspended','closed')", name="status"),
        CheckConstraint("deposit_required_fen >= 0", name="deposit"),
        CheckConstraint("shipping_fee_fen >= 0", name="shipping_fee"),
    )


class StoreStaff(Base):
    """A merchant account works for exactly one store (the unique user_id)."""

    __tablename__ = "store_staff"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(BigId, ForeignKey("stores.id"), index=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), unique=True)
    staff_role: Mapped[str] = mapped_column(String(16))  # owner | staff
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint("staff_role in ('owner','staff')", name="staff_role"),)


class PlatformPolicy(Base):
    """Platform-wide merchant policy, one row (id=1), changed by operators at run time."""

    __tablename__ = "platform_policy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    zero_deposit_opening: Mapped[bool] = mapped_column(Boolean)
    store_deposit_fen: Mapped[int] = mapped_column(BigInteger)
    new_merchant_days: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), nullable=True)

    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("store_deposit_fen >= 0", name="deposit"),
        CheckConstraint("new_merchant_days between 1 and 365", name="new_merchant_days"),
    )
