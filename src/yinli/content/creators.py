"""Creator profiles, follows (of creators and stores) and the creator level derived from results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yinli.accounts.models import User
from yinli.content.attribution import SOLD
from yinli.content.models import CreatorProfile, Follow
from yinli.core.auth import Actor, Role, require_actor, require_role
from yinli.core.clock import Clock
from yinli.core.db import unique_or
from yinli.core.errors import Conflict, InvalidInput, NotFound
from yinli.core.outbox import emit
from yinli.merchants.models import Store, StoreStatus
from yinli.orders.models import Order, OrderLine

# Level from attributed GMV (paid, less refunds) over the last 30 days, in fen.
LEVELS = [(0, 0), (1, 100_000), (2, 1_000_000), (3, 10_000_000), (4, 100_000_000), (5, 1_000_000_000)]
LEVEL_WINDOW = timedelta(days=30)


def do_save_profile(
    session: Session, clock: Clock, actor: Actor | None, *, handle: str, bio: str, avatar_url: str | None
) -> CreatorProfile:
    actor = require_role(actor, Role.CREATOR)
    profile = session.get(CreatorProfile, actor.user_id)

    def check_handle_free() -> None:
        taken = session.scalar(
            select(CreatorProfile.user_id).where(
                CreatorProfile.handle == handle, CreatorProfile.user_id != actor.user_id
            )
        )
        if taken is not None:
            raise Conflict("this handle is taken", field="handle", code="handle_taken")

    check_handle_free()
    with unique_or(session, check_handle_free):  # creator_profiles.handle is unique
        if profile is None:
            profile = CreatorProfile(user_id=actor.user_id, handle=handle, created_at=clock.now())
            session.add(profile)
        profile.handle, profile.bio, profile.avatar_url = handle, bio, avatar_url
    return profile


@dataclass(frozen=True)
class CreatorView:
    user_id: int
    display_name: str
    handle: str | None
    bio: str
    avatar_url: str | None
    followers: int
    level: int
    gmv_30d_fen: int


def followers(session: Session, target_type: str, target_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Follow)
            .where(Follow.target_type == target_type, Follow.target_id == target_id)
        )
        or 0
    )


def level_for(gmv_fen: int) -> int:
    return max(level for level, threshold in LEVELS if gmv_fen >= threshold)


def get_creator(session: Session, clock: Clock, creator_id: int) -> CreatorView:
    user = session.get(User, creator_id)
    if user is None or user.role != Role.CREATOR:
        raise NotFound(f"no creator {creator_id}", field="creator_id")
    profile = session.get(CreatorProfile, creator_id)
    gmv = int(
        session.scalar(
            select(func.coalesce(func.sum(OrderLine.line_total_fen - OrderLine.refunded_fen), 0))
            .join(Order, Order.id == OrderLine.order_id)
            .where(
                OrderLine.creator_id == creator_id,
                Order.status.in_([s.value for s in SOLD]),
                Order.paid_at >= clock.now() - LEVEL_WINDOW,
            )
        )
        or 0
    )
    return CreatorView(
        creator_id,
        user.display_name,
        profile.handle if profile else None,
        profile.bio if profile else "",
        profile.avatar_url if profile else None,
        followers(session, "creator", creator_id),
        level_for(gmv),
        gmv,
    )


def _check_target(session: Session, target_type: str, target_id: int) -> None:
    if target_type == "creator":
        user = session.get(User, target_id)
        if user is None or user.role != Role.CREATOR:
            raise InvalidInput(f"no creator {target_id}", field="target_id")
    elif target_type == "store":
        store = session.get(Store, target_id)
        if store is None or store.status != StoreStatus.ACTIVE:
            raise InvalidInput(f"no store {target_id}", field="target_id")
    else:
        raise InvalidInput("follow a creator or a store", field="target_type")


def _follow_of(session: Session, follower_id: int, target_type: str, target_id: int) -> Follow | None:
    return session.scalar(
        select(Follow).where(
            Follow.follower_id == follower_id, Follow.target_type == target_type, Follow.target_id == target_id
        )
    )


def do_follow(
    session: Session, clock: Clock, actor: Actor | None, target_type: str, target_id: int
) -> tuple[Follow, bool]:
    """Follow a creator or an active store; (the follow, whether it is new). Idempotent: following
    again changes nothing and emits nothing (a concurrent duplicate loses on the unique constraint and
    finds the winner's row). `Followed` is emitted once, by the call that made the row."""
    actor = require_actor(actor)
    _check_target(session, target_type, target_id)
    if target_type == "creator" and target_id == actor.user_id:
        raise InvalidInput("you cannot follow yourself", field="target_id")
    existing = _follow_of(session, actor.user_id, target_type, target_id)
    if existing is not None:
        return existing, False
    follow = Follow(follower_id=actor.user_id, target_type=target_type, target_id=target_id, created_at=clock.now())
    try:
        with session.begin_nested():
            session.add(follow)
            session.flush()
    except IntegrityError:
        winner = _follow_of(session, actor.user_id, target_type, target_id)
        if winner is None:
            raise Conflict("you follow this already", code="already_following") from None
        return winner, False
    emit(session, clock, "Followed", target_type, target_id, {"follower_id": actor.user_id}, actor_id=actor.user_id)
    return follow, True


def do_unfollow(
    session: Session, actor: Actor | None, target_type: str, target_id: int, *, missing_ok: bool = False
) -> None:
    """Stop following. Not following is a 404, or nothing with `missing_ok` (the web's button, which a
    double click or a second tab may press twice)."""
    actor = require_actor(actor)
    follow = _follow_of(session, actor.user_id, target_type, target_id)
    if follow is None and missing_ok:
        return
    if follow is None:
        raise NotFound("you do not follow this", field="target_id")
    session.delete(follow)
    session.flush()


def following(session: Session, actor: Actor | None) -> list[Follow]:
    actor = require_actor(actor)
    return list(session.scalars(select(Follow).where(Follow.follower_id == actor.user_id).order_by(Follow.id)))
