"""Which store a merchant account works for. Read on every authenticated merchant request."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from yinli.merchants.models import StoreStaff


def store_of(session: Session, user_id: int) -> int | None:
    return session.scalar(select(StoreStaff.store_id).where(StoreStaff.user_id == user_id))
