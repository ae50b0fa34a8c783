from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from yinli.core.db import Base, BigId, UTCDateTime, partial_unique


class User(Base):
    """Anyone who signs in. `role` decides what they may do; staff's store is in `merchants.StoreStaff`."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-cased
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    # Shoppers give a birth year so analytics can group cohorts (Gen Z / Y / 40+); never a full date.
    birth_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("role in ('shopper','merchant','creator','operator')", name="role"),
        CheckConstraint("birth_year is null or (birth_year >= 1900 and birth_year <= 2100)", name="birth_year"),
    )


class AccessToken(Base):
    """A bearer token (`kind='api'`) or a web session (`kind='session'`). Only the SHA-256 is stored."""

    __tablename__ = "access_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (CheckConstraint("kind in ('api','session')", name="kind"),)


class SignInThrottle(Base):
    """Sign-in attempts counted in the current window, per account or per client address.

    One row per key, changed only by atomic upserts (`accounts.service.do_count_sign_in_attempt`), so the
    count holds across server processes sharing the database and under concurrent attempts. `key` is the
    SHA-256 of "<scope>|<email or address>": the table never holds the emails people typed."""

    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(String(8))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    failures: Mapped[int] = mapped_column(Integer)

    __table_args__ = (CheckConstraint("scope in ('account','address')", name="scope"),)


class PasswordReset(Base):
    """A password-reset link sent by e-mail. Only the SHA-256 of its secret is stored; it works once,
    until `expires_at`, and asking for a new one retires the earlier ones (`accounts.password_reset`)."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ShippingAddress(Base):
    """A shopper's saved shipping address (the address book). At most one per shopper is the default
    (a partial unique index keeps it; `accounts.addresses` changes it under the shopper's row lock).
    Orders copy the address they ship to (`orders.address`), so editing the book changes no order."""

    __tablename__ = "shipping_addresses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    shopper_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(String(20))  # normalised: 11 mainland digits or +E.164
    region: Mapped[str] = mapped_column(String(80))  # province / city / district
    line: Mapped[str] = mapped_column(String(200))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (partial_unique("uq_shipping_addresses_default", "shopper_id", where="is_default"),)
