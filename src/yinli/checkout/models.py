from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yinli.core.db import Base, BigId, UTCDateTime


class CartItem(Base):
    """A SKU in a shopper's cart, remembering where the shopper found it (for attribution)."""

    __tablename__ = "cart_items"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    shopper_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    sku_id: Mapped[int] = mapped_column(BigId, ForeignKey("skus.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    surface: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    creator_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), nullable=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("shopper_id", "sku_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )
