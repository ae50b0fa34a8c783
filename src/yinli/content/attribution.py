"""Attribution: which surface and source sold a line, and which creator earns on it.

The client says where the shopper found the product (surface + source id). For live rooms and short
videos the source is checked (the session or video exists and carries the product) and the creator is
taken from it — never from the client — so commission cannot be claimed by naming a creator.
Splits of GMV by format and by creator are read from order lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from yinli.content import affiliate
from yinli.content.models import LiveRoom, LiveSession, LiveSessionProduct, ShortVideo, VideoProduct
from yinli.core.auth import Actor, Role, require_actor
from yinli.core.errors import Forbidden, InvalidInput
from yinli.orders.models import Order, OrderLine, OrderStatus, Surface

SOLD = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.COMPLETED, OrderStatus.REFUNDED)


@dataclass(frozen=True)
class Attribution:
    surface: Surface
    source_id: int | None
    creator_id: int | None
    plan_id: int | None
    commission_rate_bps: int | None


def resolve(
    session: Session,
    surface: Surface,
    source_id: int | None,
    claimed_creator: int | None,
    product_id: int,
    field: str,
    buyer_id: int | None = None,
) -> Attribution:
    """Where a line was sold and who earns on it. A creator buying through their own live room or video
    keeps the attribution (the sale did happen there: GMV splits count it) but no affiliate plan or
    rate is attached, so no commission is ever recorded for it (no self-commission)."""
    creator_id: int | None = None
    if surface is Surface.LIVE:
        if source_id is None:
            raise InvalidInput("a live purchase names its live session", field=f"{field}.source_id")
        live = session.get(LiveSession, source_id)
        if (
            live is None
            or live.status == "scheduled"
            or session.scalar(
                select(LiveSessionProduct.id).where(
                    LiveSessionProduct.session_id == source_id, LiveSessionProduct.product_id == product_id
                )
            )
            is None
        ):
            raise InvalidInput("that live session does not sell this product", field=f"{field}.source_id")
        room = session.get(LiveRoom, live.room_id)
        creator_id = room.creator_id if room else None
    elif surface is Surface.SHORT_VIDEO:
        if source_id is None:
            raise InvalidInput("a video purchase names its video", field=f"{field}.source_id")
        video = session.get(ShortVideo, source_id)
        if (
            video is None
            or video.status != "published"
            or session.scalar(
                select(VideoProduct.id).where(VideoProduct.video_id == source_id, VideoProduct.product_id == product_id)
            )
            is None
        ):
            raise InvalidInput("that video does not link this product", field=f"{field}.source_id")
        creator_id = video.creator_id
    if claimed_creator is not None and claimed_creator != creator_id:
        raise InvalidInput(
            "the creator comes from the live session or video that sold the product", field=f"{field}.creator_id"
        )
    own = buyer_id is not None and creator_id == buyer_id
    plan = affiliate.plan_for(session, product_id, creator_id) if creator_id is not None and not own else None
    return Attribution(surface, source_id, creator_id, plan.id if plan else None, plan.rate_bps if plan else None)


# --- splits -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    key: str
    gmv_fen: int  # paid, less refunds
    orders: int
    buyers: int
    units: int


def split(
    session: Session,
    actor: Actor | None,
    *,
    by: str,
    since: datetime | None,
    until: datetime | None,
    store_id: int | None = None,
    creator_id: int | None = None,
) -> list[Split]:
    """GMV, orders and buyers by `surface` or by `creator`. Staff see their store, creators their own
    sales, operators everything (optionally one store or creator)."""
    actor = require_actor(actor)  # anonymous: 401, as everywhere (was a 403)
    if actor.is_operator:
        pass
    elif actor.role is Role.MERCHANT and actor.store_id is not None:
        if store_id not in (None, actor.store_id):
            raise Forbidden("staff see their own store's sales", field="store_id")
        store_id = actor.store_id
    elif actor.role is Role.CREATOR:
        if creator_id not in (None, actor.user_id):
            raise Forbidden("creators see their own sales", field="creator_id")
        creator_id = actor.user_id
    else:
        raise Forbidden("only staff, creators and operators see sales")
    if by not in ("surface", "creator"):
        raise InvalidInput("group by surface or creator", field="by")
    key = OrderLine.surface if by == "surface" else OrderLine.creator_id
    query = (
        select(
            key,
            func.sum(OrderLine.line_total_fen - OrderLine.refunded_fen),
            func.count(distinct(Order.id)),
            func.count(distinct(Order.shopper_id)),
            func.sum(OrderLine.quantity - OrderLine.refunded_quantity),
        )
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.status.in_([s.value for s in SOLD]))
        .group_by(key)
    )
    if by == "creator":
        query = query.where(OrderLine.creator_id.is_not(None))
    if store_id is not None:
        query = query.where(Order.store_id == store_id)
    if creator_id is not None:
        query = query.where(OrderLine.creator_id == creator_id)
    if since is not None:
        query = query.where(Order.paid_at >= since)
    if until is not None:
        query = query.where(Order.paid_at < until)
    rows = session.execute(query).all()
    return sorted(
        (Split(str(k), int(g or 0), int(o), int(b), int(u or 0)) for k, g, o, b, u in rows),
        key=lambda s: (-s.gmv_fen, s.key),
    )
