from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from yinli.core.db import Base, BigId, UTCDateTime


class OrderStatus(StrEnum):
    CREATED = "created"  # waiting for payment; stock is held until `pay_by`
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"  # after-sale window over; the merchant is settled
    CANCELLED = "cancelled"  # before payment (by the shopper, payment failure or expiry)
    REFUNDED = "refunded"  # every line refunded after payment


class Surface(StrEnum):
    """Where a line was sold: GMV splits by format from this."""

    FEED = "feed"
    LIVE = "live"
    SHORT_VIDEO = "short_video"
    MALL = "mall"
    SEARCH = "search"
    STORE_PAGE = "store_page"
    PRODUCT_PAGE = "product_page"


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    shopper_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    store_id: Mapped[int] = mapped_column(BigId, ForeignKey("stores.id"))
    payment_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("payments.id"), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    list_total_fen: Mapped[int] = mapped_column(BigInteger)
    merchant_discount_fen: Mapped[int] = mapped_column(BigInteger)
    platform_subsidy_fen: Mapped[int] = mapped_column(BigInteger)
    items_total_fen: Mapped[int] = mapped_column(BigInteger)  # what the shopper pays for the goods
    shipping_fee_fen: Mapped[int] = mapped_column(BigInteger)
    total_fen: Mapped[int] = mapped_column(BigInteger)  # items + shipping: the amount charged
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # platform technical fee, fixed at settlement
    address: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    pay_by: Mapped[datetime] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    carrier: Mapped[str | None] = mapped_column(String(40), nullable=True)
    tracking_no: Mapped[str | None] = mapped_column(String(64), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)

    __table_args__ = (
        CheckConstraint(
            "status in ('created','paid','shipped','delivered','completed','cancelled','refunded')", name="status"
        ),
        CheckConstraint("refunded_fen >= 0 and refunded_fen <= total_fen", name="refund_within_total"),
        CheckConstraint("total_fen = items_total_fen + shipping_fee_fen", name="total"),
        Index("ix_orders_store_status", "store_id", "status"),
        Index("ix_orders_status_created", "status", "created_at"),
    )


class OrderLine(Base):
    """A snapshot of what was bought, at what price, sold by which surface (and creator)."""

    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"), index=True)
    sku_id: Mapped[int] = mapped_column(BigId, ForeignKey("skus.id"))
    category_id: Mapped[int] = mapped_column(BigId, ForeignKey("categories.id"))
    title: Mapped[str] = mapped_column(String(120))
    sku_attributes: Mapped[dict[str, Any]] = mapped_column(JSON)
    quantity: Mapped[int] = mapped_column(Integer)
    list_price_fen: Mapped[int] = mapped_column(BigInteger)  # per unit
    merchant_discount_fen: Mapped[int] = mapped_column(BigInteger)  # per unit
    platform_subsidy_fen: Mapped[int] = mapped_column(BigInteger)  # per unit
    unit_price_fen: Mapped[int] = mapped_column(BigInteger)  # final, per unit
    line_total_fen: Mapped[int] = mapped_column(BigInteger)
    fee_rate_bps: Mapped[int] = mapped_column(Integer)  # the category's technical fee when bought
    seven_day_returns: Mapped[bool] = mapped_column(Boolean)
    # the guarantees that applied when bought (guarantees.badges): the promise the platform keeps
    guarantees: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    surface: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[int | None] = mapped_column(BigId, nullable=True)  # live session, video, ...
    creator_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), nullable=True)
    # the affiliate plan and rate in force when bought (content.affiliate); null: no commission
    affiliate_plan_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    commission_rate_bps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    refunded_quantity: Mapped[int] = mapped_column(Integer, default=0)
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price_fen >= 0", name="unit_price"),
        CheckConstraint("line_total_fen = unit_price_fen * quantity", name="line_total"),
        CheckConstraint(
            "unit_price_fen = list_price_fen - merchant_discount_fen - platform_subsidy_fen", name="breakdown"
        ),
        CheckConstraint("refunded_quantity >= 0 and refunded_quantity <= quantity", name="refunded_quantity"),
        CheckConstraint("refunded_fen >= 0 and refunded_fen <= line_total_fen", name="refunded_fen"),
    )


class AfterSaleKind(StrEnum):
    REFUND_ONLY = "refund_only"  # before shipping
    RETURN_REFUND = "return_refund"  # after delivery, goods come back


class AfterSaleStatus(StrEnum):
    REQUESTED = "requested"
    AWAITING_RETURN = "awaiting_return"  # approved return: the shopper sends the goods back
    RETURN_SHIPPED = "return_shipped"
    REFUNDED = "refunded"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class AfterSale(Base):
    __tablename__ = "after_sales"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), index=True)
    store_id: Mapped[int] = mapped_column(BigId, ForeignKey("stores.id"), index=True)
    shopper_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500))
    lines: Mapped[list[dict[str, int]]] = mapped_column(JSON)  # [{"order_line_id", "quantity", "amount_fen"}]
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    shipping_refund_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    auto_approved: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decision_note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    return_carrier: Mapped[str | None] = mapped_column(String(40), nullable=True)
    return_tracking_no: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        CheckConstraint("kind in ('refund_only','return_refund')", name="kind"),
        CheckConstraint(
            "status in ('requested','awaiting_return','return_shipped','refunded','rejected','withdrawn')",
            name="status",
        ),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
    )


class Review(Base):
    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_line_id: Mapped[int] = mapped_column(BigId, ForeignKey("order_lines.id"), unique=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"), index=True)
    store_id: Mapped[int] = mapped_column(BigId, ForeignKey("stores.id"), index=True)
    shopper_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    rating: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint("rating between 1 and 5", name="rating"),)


class ComplaintCategory(StrEnum):
    QUALITY = "quality"
    DELIVERY = "delivery"
    SERVICE = "service"
    MISLEADING_MARKETING = "misleading_marketing"


class Complaint(Base):
    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(BigId, ForeignKey("stores.id"), index=True)
    shopper_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("orders.id"), nullable=True)
    category: Mapped[str] = mapped_column(String(24))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolution: Mapped[str | None] = mapped_column(String(500), nullable=True)

    __table_args__ = (
        CheckConstraint("category in ('quality','delivery','service','misleading_marketing')", name="category"),
        CheckConstraint("status in ('open','resolved')", name="status"),
    )
