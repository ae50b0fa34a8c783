"""Traffic tables: the feed event log, plan configuration and state (launch, boost), experiments.

`traffic_events` is append-only (ORM hook + database triggers, like the price history): features, plan
progress, experiment metrics and model training are all derived from it and can be rebuilt from it. It
carries no foreign keys on purpose: it is written in batches at feed speed, ids are checked before they
are written (events.py), and a log must outlive the rows it mentions (a delisted product's history stays).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from yinli.core.db import Base, BigId, UTCDateTime, partial_unique


class EventKind(StrEnum):
    IMPRESSION = "impression"  # written by the server when it serves a feed page
    CLICK = "click"  # the rest of the feedback comes from the client in batches...
    WATCH = "watch"  # seconds watched in a live room or a video
    ADD_TO_CART = "add_to_cart"
    ORDER = "order"  # ...and these from the outbox (paid order lines, refunds, complaints)
    RETURN = "return"
    COMPLAINT = "complaint"


class ItemType(StrEnum):
    PRODUCT = "product"  # a product card
    VIDEO = "video"
    LIVE = "live"  # a live session


class Slot(StrEnum):
    """Who placed an item: the ranking, or a plan in one of its reserved slots."""

    ORGANIC = "organic"
    LAUNCH = "launch"
    BOOST = "boost"


class TrafficEvent(Base):
    __tablename__ = "traffic_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())  # when it happened (client time for feedback)
    logged_at: Mapped[datetime] = mapped_column(UTCDateTime())  # when we wrote it (readers' gap rule uses this)
    shopper_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # the feed page it belongs to
    surface: Mapped[str] = mapped_column(String(16))
    position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    item_type: Mapped[str | None] = mapped_column(String(8), nullable=True)
    item_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    product_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    store_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    creator_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    category_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    slot: Mapped[str | None] = mapped_column(String(8), nullable=True)
    quality: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # launch slot to an interested shopper
    policy: Mapped[str | None] = mapped_column(String(16), nullable=True)
    bucket: Mapped[str | None] = mapped_column(String(32), nullable=True)
    experiment_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    value_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # order / refund amount
    expected_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # impression: predicted GMV (pCTR·pCVR·price)
    watch_seconds: Mapped[int] = mapped_column(Integer, default=0)
    # The ranking features this impression was scored with (feature logging: training reads these, so
    # the model learns from exactly what serving saw).
    features: Mapped[dict[str, float] | None] = mapped_column(JSON, nullable=True)
    source: Mapped[str | None] = mapped_column(String(48), nullable=True, unique=True)  # dedupe key (outbox)

    __table_args__ = (
        CheckConstraint(
            "kind in ('impression','click','watch','add_to_cart','order','return','complaint')", name="kind"
        ),
        CheckConstraint("slot is null or slot in ('organic','launch','boost')", name="slot"),
        Index("ix_traffic_events_kind_time", "kind", "occurred_at"),
        Index("ix_traffic_events_request", "request_id"),
        Index("ix_traffic_events_store_kind", "store_id", "kind", "occurred_at"),
        Index("ix_traffic_events_slot_store", "slot", "store_id"),
        Index("ix_traffic_events_experiment", "experiment_id", "bucket"),
    )


@event.listens_for(Session, "before_flush")
def _refuse_log_rewrites(session: Session, _ctx: Any, _instances: Any) -> None:
    for obj in [*session.dirty, *session.deleted]:
        if isinstance(obj, TrafficEvent):
            raise RuntimeError("traffic_events is append-only")


class TrafficPlan(Base):
    """Operator-set configuration of one plan (`launch` or `boost`); absent: the configured defaults."""

    __tablename__ = "traffic_plans"

    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), nullable=True)

    __table_args__ = (CheckConstraint("name in ('launch','boost')", name="name"),)


class LaunchStatus(StrEnum):
    ACTIVE = "active"  # in its window, quota not reached yet
    REACHED = "reached"
    EXPIRED = "expired"  # the window ended before the quota was reached
    WITHHELD = "withheld"  # red flags: no guaranteed traffic (re-checked each round)


class LaunchEnrolment(Base):
    """A new merchant's launch plan: its quota of quality impressions within its window."""

    __tablename__ = "traffic_launch_enrolments"

    store_id: Mapped[int] = mapped_column(BigId, ForeignKey("stores.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(10), index=True)
    quota: Mapped[int] = mapped_column(Integer)
    delivered: Mapped[int] = mapped_column(Integer, default=0)  # recounted from the event log each round
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reached_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    withheld_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # guaranteed delivery (traffic/allocation.py): the quota the plan asked before sizing it to the
    # forecast supply, why it was sized so, the targeting level it is served at, and the round's plan
    asked_quota: Mapped[int | None] = mapped_column(Integer, nullable=True)
    plan_note: Mapped[str | None] = mapped_column(String(200), nullable=True)
    targeting: Mapped[str] = mapped_column(String(12), default="category", server_default="category")
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    __table_args__ = (
        CheckConstraint("status in ('active','reached','expired','withheld')", name="status"),
        CheckConstraint("quota > 0 and delivered >= 0", name="counts"),
    )


class BoostMembership(Base):
    """A store's current boost tier (no row: not boosted)."""

    __tablename__ = "traffic_boost_memberships"

    store_id: Mapped[int] = mapped_column(BigId, ForeignKey("stores.id"), primary_key=True)
    tier: Mapped[str] = mapped_column(String(16))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    measures: Mapped[dict[str, Any]] = mapped_column(JSON)  # what the last review saw


class BoostChange(Base):
    """Append-only history of tier entries and exits, with the measures that decided them."""

    __tablename__ = "traffic_boost_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(BigId, ForeignKey("stores.id"), index=True)
    from_tier: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_tier: Mapped[str | None] = mapped_column(String(16), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(300))
    measures: Mapped[dict[str, Any]] = mapped_column(JSON)


class Experiment(Base):
    __tablename__ = "traffic_experiments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    salt: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(10), index=True)
    # [{"name", "weight", "policy": user_first|gmv_only, "launch_plan": bool, "boost_plan": bool}]
    variants: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), nullable=True)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        CheckConstraint("status in ('active','stopped')", name="status"),
        # one experiment runs at a time
        partial_unique("uq_traffic_experiments_active", "status", where="status = 'active'"),
    )
