"""Transactional outbox (DESIGN rule 3).

A state change that other parts of yinli care about appends an `OutboxEvent` in the *same* transaction
as the change, so an event exists if and only if the change committed. Consumers (search indexing,
features, price protection, analytics) read events after a cursor they keep in `outbox_cursors`, and
can rebuild their state by reading from 0.

Ordering caveat: ids come from a sequence, and on PostgreSQL a transaction that took id 11 may commit
after one that took id 12. `read_after` therefore stops at the first gap younger than `gap_grace`
(the missing id may still commit); an older gap is a rolled-back transaction and is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from yinli.core.clock import Clock
from yinli.core.db import Base, BigId, UTCDateTime


class OutboxEvent(Base):
    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(64))
    aggregate_type: Mapped[str] = mapped_column(String(32))
    aggregate_id: Mapped[int] = mapped_column(BigId)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), nullable=True)

    __table_args__ = (Index("ix_outbox_events_aggregate", "aggregate_type", "aggregate_id"),)


class OutboxCursor(Base):
    """How far a named consumer has read."""

    __tablename__ = "outbox_cursors"

    consumer: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(BigId, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


def emit(
    session: Session,
    clock: Clock,
    type: str,
    aggregate_type: str,
    aggregate_id: int,
    payload: dict[str, Any] | None = None,
    actor_id: int | None = None,
) -> OutboxEvent:
    """Append an event to the current transaction. The caller commits (or rolls back) both together."""
    event = OutboxEvent(
        type=type,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        payload=payload or {},
        occurred_at=clock.now(),
        actor_id=actor_id,
    )
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class EventBatch:
    events: list[OutboxEvent]
    cursor: int  # pass back as `after` for the next batch


def read_after(
    session: Session,
    after: int,
    *,
    clock: Clock,
    limit: int = 500,
    types: list[str] | None = None,
    gap_grace: timedelta = timedelta(seconds=5),
) -> EventBatch:
    """Events with id > `after` in id order, stopping before a recent gap (see module docstring).

    The cursor advances over filtered-out types too, so a consumer of a few types still moves forward.
    """
    rows = list(
        session.scalars(select(OutboxEvent).where(OutboxEvent.id > after).order_by(OutboxEvent.id).limit(limit))
    )
    horizon = clock.now() - gap_grace
    cursor = after
    taken: list[OutboxEvent] = []
    for row in rows:
        if row.id != cursor + 1 and row.occurred_at > horizon:
            break  # an earlier id may still be in flight; come back for it
        cursor = row.id
        if types is None or row.type in types:
            taken.append(row)
    return EventBatch(taken, cursor)


def get_cursor(session: Session, consumer: str) -> int:
    row = session.get(OutboxCursor, consumer)
    return row.position if row else 0


def save_cursor(session: Session, clock: Clock, consumer: str, position: int) -> None:
    """Record progress; never moves backwards (a slow duplicate consumer cannot rewind a fast one)."""
    row = session.get(OutboxCursor, consumer, with_for_update=True)
    if row is None:
        session.add(OutboxCursor(consumer=consumer, position=position, updated_at=clock.now()))
    elif position > row.position:
        row.position = position
        row.updated_at = clock.now()
    session.flush()
