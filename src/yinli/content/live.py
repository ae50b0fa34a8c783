"""Live rooms: scheduled → live → ended sessions, the room's product list, the product presented
now, viewers joining and leaving, likes, and session stats (viewers, watch time, orders, GMV, GPM).

Every state change a viewer's screen cares about is an outbox event on the session (LiveStarted,
ProductPresented, ViewerJoined, ViewerLeft, LivePurchase, LiveEnded): the SSE stream replays them in
order, so a client sees exactly what was committed, in commit order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import distinct, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yinli.catalog.models import Product, ProductStatus
from yinli.content import affiliate
from yinli.content.attribution import SOLD
from yinli.content.models import LiveRoom, LiveSession, LiveSessionProduct, LiveVisit
from yinli.core.auth import Actor, Role, require_actor, require_role
from yinli.core.clock import Clock
from yinli.core.db import is_unique_violation, unique_or
from yinli.core.errors import Conflict, Forbidden, InvalidInput, InvalidTransition, NotFound
from yinli.core.outbox import emit
from yinli.merchants.models import Store, StoreStatus
from yinli.orders.models import Order, OrderLine

MAX_SESSION_PRODUCTS = 100


def _session_event(
    session: Session, clock: Clock, live: LiveSession, type: str, actor_id: int | None = None, **payload: object
) -> None:
    emit(
        session,
        clock,
        type,
        "live_session",
        live.id,
        {"viewers_now": live.viewers_now, "presenting_product_id": live.presenting_product_id, **payload},
        actor_id=actor_id,
    )


# --- rooms ------------------------------------------------------------------------------------------------


def do_open_room(
    session: Session, clock: Clock, actor: Actor | None, *, title: str, cover_url: str | None = None
) -> LiveRoom:
    """The caller's room: a store's (staff) or a creator's. One each."""
    actor = require_role(actor, Role.MERCHANT, Role.CREATOR)
    owner = {"store_id": actor.store_id} if actor.role is Role.MERCHANT else {"creator_id": actor.user_id}
    if actor.role is Role.MERCHANT:
        store = session.get(Store, actor.store_id) if actor.store_id else None
        if store is None or store.status != StoreStatus.ACTIVE:
            raise Conflict("only an active store opens a live room", code="store_inactive")

    def check_no_room() -> None:
        existing = session.scalar(select(LiveRoom).filter_by(**owner))
        if existing is not None:
            raise Conflict(f"you have a room already ({existing.id})", code="room_exists")

    check_no_room()
    room = LiveRoom(title=title, cover_url=cover_url, created_at=clock.now(), **owner)
    with unique_or(session, check_no_room):  # live_rooms.store_id / creator_id are unique
        session.add(room)
    return room


def get_room(session: Session, room_id: int) -> LiveRoom:
    room = session.get(LiveRoom, room_id)
    if room is None:
        raise NotFound(f"no live room {room_id}", field="room_id")
    return room


def _require_host(actor: Actor | None, room: LiveRoom) -> Actor:
    actor = require_actor(actor)
    if room.store_id is not None and actor.manages_store(room.store_id):
        return actor
    if room.creator_id is not None and (actor.user_id == room.creator_id or actor.is_operator):
        return actor
    raise Forbidden("only the room's host runs its sessions")


# --- sessions ---------------------------------------------------------------------------------------------


def get_session(session: Session, live_session_id: int) -> LiveSession:
    live = session.get(LiveSession, live_session_id)
    if live is None:
        raise NotFound(f"no live session {live_session_id}", field="session_id")
    return live


def check_room_free(session: Session, room_id: int) -> None:
    """A room hosts one session at a time: none may be scheduled or live when another is scheduled."""
    if session.scalar(
        select(LiveSession.id).where(LiveSession.room_id == room_id, LiveSession.status.in_(["scheduled", "live"]))
    ):
        raise Conflict("this room has a session scheduled or live already", code="session_open")


def do_schedule(
    session: Session,
    clock: Clock,
    actor: Actor | None,
    room_id: int,
    *,
    title: str,
    scheduled_at: datetime | None,
    product_ids: list[int],
) -> LiveSession:
    actor = require_actor(actor)  # 401 before any lookup, as everywhere
    room = get_room(session, room_id)
    actor = _require_host(actor, room)
    check_room_free(session, room.id)
    live = LiveSession(
        room_id=room.id,
        title=title,
        status="scheduled",
        scheduled_at=scheduled_at or clock.now(),
        viewers_now=0,
        peak_viewers=0,
        cumulative_viewers=0,
        views=0,
        watch_seconds=0,
        likes=0,
    )
    with unique_or(session, lambda: check_room_free(session, room.id)):  # uq_live_sessions_room_open
        session.add(live)
    _add_products(session, room, live, product_ids)
    emit(session, clock, "LiveScheduled", "live_session", live.id, {"room_id": room.id}, actor_id=actor.user_id)
    return live


def _check_sellable(session: Session, room: LiveRoom, product_ids: list[int]) -> None:
    """A store's room sells its own listed products; a creator's room, products open to that creator."""
    for i, product_id in enumerate(product_ids):
        product = session.get(Product, product_id)
        field = f"product_ids.{i}"
        if product is None or product.status != ProductStatus.LISTED:
            raise InvalidInput(f"product {product_id} is not on sale", field=field)
        if room.store_id is not None and product.store_id != room.store_id:
            raise Forbidden(f"product {product_id} belongs to another store", field=field)
        if room.creator_id is not None:
            affiliate.require_plan(session, product_id, room.creator_id, field)


def _add_products(session: Session, room: LiveRoom, live: LiveSession, product_ids: list[int]) -> None:
    if len(set(product_ids)) != len(product_ids):
        raise InvalidInput("a product is listed twice", field="product_ids")
    have = list(session.scalars(select(LiveSessionProduct.product_id).where(LiveSessionProduct.session_id == live.id)))
    new = [p for p in product_ids if p not in have]
    if len(have) + len(new) > MAX_SESSION_PRODUCTS:
        raise InvalidInput(f"a session sells at most {MAX_SESSION_PRODUCTS} products", field="product_ids")
    _check_sellable(session, room, new)
    for offset, product_id in enumerate(new):
        session.add(LiveSessionProduct(session_id=live.id, product_id=product_id, position=len(have) + offset + 1))
    session.flush()


def do_add_products(
    session: Session, clock: Clock, actor: Actor | None, live_session_id: int, product_ids: list[int]
) -> LiveSession:
    actor = require_actor(actor)
    live = get_session(session, live_session_id)
    room = get_room(session, live.room_id)
    _require_host(actor, room)
    # the session's lock: concurrent additions queue, so the cap and "listed twice" count them all
    session.refresh(live, with_for_update={"key_share": True})
    if live.status == "ended":
        raise InvalidTransition("the session has ended", field="status")
    _add_products(session, room, live, product_ids)
    _session_event(session, clock, live, "LiveProductsChanged", product_ids=product_ids)
    return live


def session_products(session: Session, live_session_id: int) -> list[Product]:
    return list(
        session.scalars(
            select(Product)
            .join(LiveSessionProduct, LiveSessionProduct.product_id == Product.id)
            .where(LiveSessionProduct.session_id == live_session_id)
            .order_by(LiveSessionProduct.position)
        )
    )


def _move(session: Session, live: LiveSession, current: str, to: str, **values: object) -> None:
    moved = session.execute(
        update(LiveSession).where(LiveSession.id == live.id, LiveSession.status == current).values(status=to, **values)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(live)
        raise InvalidTransition(f"the session is {live.status}", field="status")
    session.refresh(live)


def do_go_live(session: Session, clock: Clock, actor: Actor | None, live_session_id: int) -> LiveSession:
    actor = require_actor(actor)
    live = get_session(session, live_session_id)
    actor = _require_host(actor, get_room(session, live.room_id))
    _move(session, live, "scheduled", "live", started_at=clock.now())
    _session_event(session, clock, live, "LiveStarted", actor.user_id, room_id=live.room_id)
    return live


def do_end(session: Session, clock: Clock, actor: Actor | None, live_session_id: int) -> LiveSession:
    actor = require_actor(actor)
    live = get_session(session, live_session_id)
    actor = _require_host(actor, get_room(session, live.room_id))
    # Lock the session before closing its visits: a join racing the end either commits first (and its
    # visit is closed here) or waits and then finds the room no longer live.
    session.refresh(live, with_for_update={"key_share": True})
    now = clock.now()
    for visit in session.scalars(select(LiveVisit).where(LiveVisit.session_id == live.id, LiveVisit.left_at.is_(None))):
        _close_visit(session, live, visit, now)
    _move(session, live, "live", "ended", ended_at=now, viewers_now=0, presenting_product_id=None)
    _session_event(session, clock, live, "LiveEnded", actor.user_id)
    return live


def do_present(
    session: Session, clock: Clock, actor: Actor | None, live_session_id: int, product_id: int
) -> LiveSession:
    actor = require_actor(actor)
    live = get_session(session, live_session_id)
    actor = _require_host(actor, get_room(session, live.room_id))
    if live.status != "live":
        raise InvalidTransition("present products while live", field="status")
    if (
        session.scalar(
            select(LiveSessionProduct.id).where(
                LiveSessionProduct.session_id == live.id, LiveSessionProduct.product_id == product_id
            )
        )
        is None
    ):
        raise InvalidInput("that product is not in this session's list", field="product_id")
    live.presenting_product_id = product_id
    session.flush()
    _session_event(session, clock, live, "ProductPresented", actor.user_id, product_id=product_id)
    return live


# --- viewers ----------------------------------------------------------------------------------------------


def do_join(session: Session, clock: Clock, actor: Actor | None, live_session_id: int) -> LiveSession:
    actor = require_actor(actor)
    live = get_session(session, live_session_id)
    if live.status != "live":
        raise InvalidTransition("the room is not live", field="status")
    if (
        session.scalar(
            select(LiveVisit.id).where(
                LiveVisit.session_id == live.id, LiveVisit.viewer_id == actor.user_id, LiveVisit.left_at.is_(None)
            )
        )
        is not None
    ):
        # already in the room: joining twice is one viewer. Re-read the counters: the visit seen here may
        # have been committed (with its count) by a concurrent join after `live` was loaded
        session.refresh(live)
        return live
    first_time = (
        session.scalar(
            select(LiveVisit.id).where(LiveVisit.session_id == live.id, LiveVisit.viewer_id == actor.user_id).limit(1)
        )
        is None
    )
    # uq_live_visits_open: of concurrent joins by one viewer one visit is inserted; the others wait for
    # it, are refused, and are the same viewer already in the room (counted once).
    try:
        with session.begin_nested():
            session.add(LiveVisit(session_id=live.id, viewer_id=actor.user_id, joined_at=clock.now()))
            session.flush()
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        session.refresh(live)
        return live
    counted = session.execute(
        update(LiveSession)
        .where(LiveSession.id == live.id, LiveSession.status == "live")  # not ended meanwhile
        .values(
            viewers_now=LiveSession.viewers_now + 1,
            views=LiveSession.views + 1,
            cumulative_viewers=LiveSession.cumulative_viewers + int(first_time),
        )
    )
    if counted.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidTransition("the room is not live", field="status")
    session.execute(
        update(LiveSession)
        .where(LiveSession.id == live.id, LiveSession.peak_viewers < LiveSession.viewers_now)
        .values(peak_viewers=LiveSession.viewers_now)
    )
    session.refresh(live)
    _session_event(session, clock, live, "ViewerJoined", actor.user_id)
    return live


def _close_visit(session: Session, live: LiveSession, visit: LiveVisit, now: datetime) -> bool:
    """Close an open visit, once: of concurrent leaves (or a leave racing the end) one closes it and
    decrements `viewers_now`; the others find it closed (False)."""
    closed = session.execute(
        update(LiveVisit).where(LiveVisit.id == visit.id, LiveVisit.left_at.is_(None)).values(left_at=now)
    )
    if closed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    seconds = max(0, int((now - visit.joined_at).total_seconds()))
    session.execute(
        update(LiveSession)
        .where(LiveSession.id == live.id)
        .values(viewers_now=LiveSession.viewers_now - 1, watch_seconds=LiveSession.watch_seconds + seconds)
    )
    session.flush()
    return True


def do_leave(session: Session, clock: Clock, actor: Actor | None, live_session_id: int) -> LiveSession:
    actor = require_actor(actor)
    live = get_session(session, live_session_id)
    visit = session.scalar(
        select(LiveVisit).where(
            LiveVisit.session_id == live.id, LiveVisit.viewer_id == actor.user_id, LiveVisit.left_at.is_(None)
        )
    )
    if visit is None or not _close_visit(session, live, visit, clock.now()):
        raise Conflict("you are not in this room", code="not_in_room")
    session.refresh(live)
    _session_event(session, clock, live, "ViewerLeft", actor.user_id)
    return live


def do_like(session: Session, clock: Clock, actor: Actor | None, live_session_id: int, count: int) -> LiveSession:
    require_actor(actor)
    live = get_session(session, live_session_id)
    if live.status != "live":
        raise InvalidTransition("the room is not live", field="status")
    if not 1 <= count <= 100:
        raise InvalidInput("1 to 100 likes at a time", field="count")
    session.execute(update(LiveSession).where(LiveSession.id == live.id).values(likes=LiveSession.likes + count))
    session.refresh(live)
    return live


def on_order_paid(session: Session, clock: Clock, order: Order, lines: list[OrderLine]) -> None:
    """Purchases from a room show up in its stream."""
    for line in lines:
        if line.surface == "live" and line.source_id is not None:
            # lock the session row: its events then commit in id order (the SSE stream relies on it)
            live = session.get(LiveSession, line.source_id, with_for_update=True)
            if live is not None:
                _session_event(
                    session,
                    clock,
                    live,
                    "LivePurchase",
                    product_id=line.product_id,
                    quantity=line.quantity,
                    amount_fen=line.line_total_fen,
                )


# --- stats ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionStats:
    peak_viewers: int
    cumulative_viewers: int
    views: int
    watch_seconds: int
    likes: int
    orders: int
    gmv_fen: int
    gpm_fen: int  # GMV per thousand views


def stats(session: Session, live: LiveSession) -> SessionStats:
    orders, gmv = session.execute(
        select(
            func.count(distinct(Order.id)),
            func.coalesce(func.sum(OrderLine.line_total_fen - OrderLine.refunded_fen), 0),
        )
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.surface == "live", OrderLine.source_id == live.id, Order.status.in_([s.value for s in SOLD]))
    ).one()
    gmv = int(gmv)
    return SessionStats(
        live.peak_viewers,
        live.cumulative_viewers,
        live.views,
        live.watch_seconds,
        live.likes,
        int(orders),
        gmv,
        gmv * 1000 // live.views if live.views else 0,
    )


def live_now(session: Session, limit: int = 50) -> list[LiveSession]:
    return list(
        session.scalars(
            select(LiveSession)
            .where(LiveSession.status == "live")
            .order_by(LiveSession.viewers_now.desc(), LiveSession.id)
            .limit(limit)
        )
    )


def room_of_store(session: Session, store_id: int) -> LiveRoom | None:
    """The store's live room, if it has opened one (the merchant console's live page)."""
    return session.scalar(select(LiveRoom).where(LiveRoom.store_id == store_id))


def on_air_in_store(session: Session, store_id: int) -> int | None:
    """The id of the store's session on air now, if its room is live (the store page links to it)."""
    return session.scalar(
        select(LiveSession.id)
        .join(LiveRoom, LiveRoom.id == LiveSession.room_id)
        .where(LiveRoom.store_id == store_id, LiveSession.status == "live")
        .order_by(LiveSession.id.desc())
        .limit(1)
    )


def sessions_of_room(session: Session, room_id: int, limit: int = 50) -> list[LiveSession]:
    """A room's sessions, newest first."""
    return list(
        session.scalars(
            select(LiveSession).where(LiveSession.room_id == room_id).order_by(LiveSession.id.desc()).limit(limit)
        )
    )
