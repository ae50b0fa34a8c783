from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from yinli.core.db import Base, BigId, UTCDateTime


class Category(Base):
    """One node of the 3-level tree. Products hang on leaves (level 3)."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("categories.id"), nullable=True, index=True)
    level: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(40))
    path: Mapped[str] = mapped_column(String(200), unique=True)  # "本地生活 > 游戏充值 > QQ充值"
    # listings seen per leaf in the source crawl (sum of children for inner nodes): a realistic prior
    listing_count: Mapped[int] = mapped_column(Integer, default=0)
    # platform technical fee on sales in this category (basis points); null: the configured default
    fee_rate_bps: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (
        UniqueConstraint("parent_id", "name"),
        CheckConstraint("level between 1 and 3", name="level"),
    )


class Brand(Base):
    __tablename__ = "brands"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    # brands are one per name whatever the case ("Nike" and "nike" are one brand), as the service checks
    __table_args__ = (Index("uq_brands_lower_name", text("lower(name)"), unique=True),)


class ProductStatus(StrEnum):
    DRAFT = "draft"
    LISTED = "listed"
    DELISTED = "delisted"


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(BigId, ForeignKey("stores.id"))
    category_id: Mapped[int] = mapped_column(BigId, ForeignKey("categories.id"))
    brand_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("brands.id"), nullable=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))
    cover_url: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    images: Mapped[list[str]] = mapped_column(JSON, default=list)
    # guarantees the merchant offers on this product (shown on the card)
    seven_day_returns: Mapped[bool] = mapped_column(Boolean, default=True)
    return_shipping_cover: Mapped[bool] = mapped_column(Boolean, default=True)
    price_protection: Mapped[bool] = mapped_column(Boolean, default=True)
    pay_later: Mapped[bool] = mapped_column(Boolean, default=True)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    # Lowest active SKU price, kept by the catalog service so lists filter and sort without a join.
    price_min_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # Counters kept by orders and reviews (Transactions); read by cards and ranking.
    sales_count: Mapped[int] = mapped_column(BigInteger, default=0)
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    rating_sum: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    listed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        CheckConstraint("status in ('draft','listed','delisted')", name="status"),
        Index("ix_products_store_status", "store_id", "status"),
        Index("ix_products_status_category", "status", "category_id"),
        Index("ix_products_status_price", "status", "price_min_fen"),
    )


class Sku(Base):
    """A purchasable variant of a product: its attributes (colour, size...) and its price."""

    __tablename__ = "skus"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    price_fen: Mapped[int] = mapped_column(BigInteger)
    # The merchant's reference ("was") price; the marketing-noise penalty later checks it isn't inflated.
    list_price_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("product_id", "code"),
        CheckConstraint("price_fen > 0", name="price_positive"),
        CheckConstraint("list_price_fen is null or list_price_fen >= price_fen", name="list_price"),
    )


class SkuPriceHistory(Base):
    """Append-only: every price a SKU has had, from when, set by whom.

    Price protection and "lowest price in 30 days" depend on it, so it is never updated or deleted:
    the ORM refuses (see `catalog.price_history`) and database triggers refuse (see the migration).
    """

    __tablename__ = "sku_price_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    sku_id: Mapped[int] = mapped_column(BigId, ForeignKey("skus.id"))
    price_fen: Mapped[int] = mapped_column(BigInteger)  # the merchant's selling price
    list_price_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # the final price then (catalog.pricing): selling price − the platform subsidy in force
    final_price_fen: Mapped[int] = mapped_column(BigInteger)
    platform_subsidy_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    currency: Mapped[str] = mapped_column(String(3))
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime())
    changed_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), nullable=True)
    reason: Mapped[str] = mapped_column(String(32))  # created | merchant | operator | hosting | ...

    __table_args__ = (
        Index("ix_sku_price_history_sku_time", "sku_id", "effective_at"),
        CheckConstraint(
            "final_price_fen = price_fen - platform_subsidy_fen and final_price_fen > 0", name="final_price"
        ),
    )
