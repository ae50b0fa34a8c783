"""Launch coverage: how many active stores are new merchants, how many of those have listed, and how
many listed new merchants the launch plan has enrolled. One aggregate query (the console used to load
every active store into Python, up to 10,000 of them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from yinli.core.auth import Actor, Role, require_role
from yinli.core.clock import Clock
from yinli.core.settings import Settings
from yinli.merchants.models import Store, StoreStatus
from yinli.merchants.service import get_policy
from yinli.traffic.models import LaunchEnrolment


@dataclass(frozen=True)
class LaunchCoverage:
    active_stores: int
    new_merchants: int  # active, and not past `new_merchant_days` after the first listing
    new_listed: int  # new merchants with a first listing
    new_enrolled: int  # listed new merchants with a launch enrolment (any status)


def launch_coverage(session: Session, clock: Clock, settings: Settings, actor: Actor | None) -> LaunchCoverage:
    """Operators only. `merchants.is_new_merchant` in SQL: a store is new until `new_merchant_days` after
    its first listing (now < first_listed_at + days, i.e. first_listed_at > now − days)."""
    require_role(actor, Role.OPERATOR)
    since = clock.now() - timedelta(days=get_policy(session, settings).new_merchant_days)
    is_new = or_(Store.first_listed_at.is_(None), Store.first_listed_at > since)
    listed = and_(Store.first_listed_at.is_not(None), Store.first_listed_at > since)
    enrolled = and_(listed, exists().where(LaunchEnrolment.store_id == Store.id))

    def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    row = session.execute(
        select(func.count(Store.id), count(is_new), count(listed), count(enrolled)).where(
            Store.status == StoreStatus.ACTIVE.value
        )
    ).one()
    return LaunchCoverage(*(int(x) for x in row))
