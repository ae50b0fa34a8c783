from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from yinli.core.db import Base, BigId, UTCDateTime, partial_unique


class CreatorProfile(Base):
    """A creator's public profile (the account itself is a `users` row with role creator)."""

    __tablename__ = "creator_profiles"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), primary_key=True)
    handle: Mapped[str] = mapped_column(String(32), unique=True)
    bio: Mapped[str] = mapped_column(Text, default="")
    avatar_url: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Follow(Base):
    __tablename__ = "follows"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    follower_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    target_type: Mapped[str] = mapped_column(String(8))  # creator | store
    target_id: Mapped[int] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("follower_id", "target_type", "target_id"),
        CheckConstraint("target_type in ('creator','store')", name="target_type"),
        Index("ix_follows_target", "target_type", "target_id"),
    )


class Favourite(Base):
    """A product a shopper keeps (我的收藏). One per shopper and product: favouriting again is a no-op."""

    __tablename__ = "favourites"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    shopper_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("shopper_id", "product_id"),)


class AffiliatePlan(Base):
    """A product opened to creators: to all (`open`) or to one named creator (`targeted`)."""

    __tablename__ = "affiliate_plans"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"), index=True)
    store_id: Mapped[int] = mapped_column(BigId, ForeignKey("stores.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    creator_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), nullable=True)
    rate_bps: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(8))  # active | ended
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        CheckConstraint("kind in ('open','targeted')", name="kind"),
        CheckConstraint("rate_bps between 0 and 10000", name="rate"),
        CheckConstraint("status in ('active','ended')", name="status"),
        CheckConstraint("(kind = 'open') = (creator_id is null)", name="creator_iff_targeted"),
        # one active open plan per product, one active targeted plan per product and creator
        partial_unique("uq_affiliate_plans_open", "product_id", where="status = 'active' AND kind = 'open'"),
        partial_unique(
            "uq_affiliate_plans_targeted", "product_id", "creator_id", where="status = 'active' AND kind = 'targeted'"
        ),
    )


class AffiliateCommission(Base):
    """A creator's commission on one order line: pending at payment, payable at completion (on what
    was not refunded), reversed if the line is refunded in full."""

    __tablename__ = "affiliate_commissions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_line_id: Mapped[int] = mapped_column(BigId, ForeignKey("order_lines.id"), unique=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), index=True)
    plan_id: Mapped[int] = mapped_column(BigId, ForeignKey("affiliate_plans.id"))
    creator_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    store_id: Mapped[int] = mapped_column(BigId, ForeignKey("stores.id"))
    rate_bps: Mapped[int] = mapped_column(Integer)
    base_fen: Mapped[int] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)  # to the creator
    platform_cut_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (CheckConstraint("status in ('pending','payable','reversed')", name="status"),)


class LiveRoom(Base):
    """A store's or a creator's room; it hosts one session at a time."""

    __tablename__ = "live_rooms"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stores.id"), nullable=True, unique=True)
    creator_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), nullable=True, unique=True)
    title: Mapped[str] = mapped_column(String(60))
    cover_url: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint("(store_id is null) <> (creator_id is null)", name="one_owner"),)


class LiveSession(Base):
    __tablename__ = "live_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    room_id: Mapped[int] = mapped_column(BigId, ForeignKey("live_rooms.id"), index=True)
    title: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(10))
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    presenting_product_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("products.id"), nullable=True)
    viewers_now: Mapped[int] = mapped_column(Integer, default=0)
    peak_viewers: Mapped[int] = mapped_column(Integer, default=0)
    cumulative_viewers: Mapped[int] = mapped_column(Integer, default=0)  # distinct viewers
    views: Mapped[int] = mapped_column(Integer, default=0)  # joins
    watch_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    likes: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        CheckConstraint("status in ('scheduled','live','ended')", name="status"),
        CheckConstraint("viewers_now >= 0", name="viewers_now"),
        # a room hosts one session at a time: one scheduled or live
        partial_unique("uq_live_sessions_room_open", "room_id", where="status IN ('scheduled', 'live')"),
    )


class LiveSessionProduct(Base):
    """The room's product list ("the cart of the room") for one session."""

    __tablename__ = "live_session_products"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(BigId, ForeignKey("live_sessions.id"), index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"))
    position: Mapped[int] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("session_id", "product_id"),)


class LiveVisit(Base):
    """One viewer's stay in a session: open until they leave."""

    __tablename__ = "live_visits"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(BigId, ForeignKey("live_sessions.id"))
    viewer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        Index("ix_live_visits_session_viewer", "session_id", "viewer_id"),
        # a viewer is in a session once at a time (viewers_now counts open visits)
        partial_unique("uq_live_visits_open", "session_id", "viewer_id", where="left_at IS NULL"),
    )


class ShortVideo(Base):
    __tablename__ = "short_videos"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stores.id"), nullable=True, index=True)
    creator_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), nullable=True, index=True)
    title: Mapped[str] = mapped_column(String(100))
    duration_seconds: Mapped[int] = mapped_column(Integer)
    cover_url: Mapped[str] = mapped_column(String(1000))
    video_url: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(10))  # published | removed
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    views: Mapped[int] = mapped_column(BigInteger, default=0)
    completed_views: Mapped[int] = mapped_column(BigInteger, default=0)
    watch_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    likes: Mapped[int] = mapped_column(BigInteger, default=0)
    shares: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        CheckConstraint("(store_id is null) <> (creator_id is null)", name="one_author"),
        CheckConstraint("duration_seconds between 1 and 3600", name="duration"),
        CheckConstraint("status in ('published','removed')", name="status"),
    )


class VideoProduct(Base):
    __tablename__ = "video_products"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    video_id: Mapped[int] = mapped_column(BigId, ForeignKey("short_videos.id"), index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"))
    position: Mapped[int] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("video_id", "product_id"),)
