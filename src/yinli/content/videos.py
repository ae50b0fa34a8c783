"""Short videos: a store's or a creator's, linking products; views, completions, likes, shares;
purchases attributed to the video (order lines with surface short_video and the video's id)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import distinct, func, select, update
from sqlalchemy.orm import Session

from yinli.catalog.models import Product, ProductStatus
from yinli.content import affiliate
from yinli.content.attribution import SOLD
from yinli.content.models import ShortVideo, VideoProduct
from yinli.core.auth import Actor, Role, require_actor, require_role
from yinli.core.clock import Clock
from yinli.core.errors import Forbidden, InvalidInput, InvalidTransition, NotFound
from yinli.core.outbox import emit
from yinli.orders.models import Order, OrderLine

MAX_LINKED = 10


def do_publish(
    session: Session,
    clock: Clock,
    actor: Actor | None,
    *,
    title: str,
    duration_seconds: int,
    cover_url: str,
    video_url: str,
    product_ids: list[int],
) -> ShortVideo:
    actor = require_role(actor, Role.MERCHANT, Role.CREATOR)
    if actor.role is Role.MERCHANT and actor.store_id is None:
        raise Forbidden("open a store first")
    if len(product_ids) > MAX_LINKED or len(set(product_ids)) != len(product_ids):
        raise InvalidInput(f"link up to {MAX_LINKED} different products", field="product_ids")
    for i, product_id in enumerate(product_ids):
        product = session.get(Product, product_id)
        field = f"product_ids.{i}"
        if product is None or product.status != ProductStatus.LISTED:
            raise InvalidInput(f"product {product_id} is not on sale", field=field)
        if actor.role is Role.MERCHANT and product.store_id != actor.store_id:
            raise Forbidden(f"product {product_id} belongs to another store", field=field)
        if actor.role is Role.CREATOR:
            affiliate.require_plan(session, product_id, actor.user_id, field)
    author = {"store_id": actor.store_id} if actor.role is Role.MERCHANT else {"creator_id": actor.user_id}
    video = ShortVideo(
        title=title,
        duration_seconds=duration_seconds,
        cover_url=cover_url,
        video_url=video_url,
        status="published",
        published_at=clock.now(),
        views=0,
        completed_views=0,
        watch_seconds=0,
        likes=0,
        shares=0,
        **author,
    )
    session.add(video)
    session.flush()
    for position, product_id in enumerate(product_ids, start=1):
        session.add(VideoProduct(video_id=video.id, product_id=product_id, position=position))
    session.flush()
    emit(
        session,
        clock,
        "VideoPublished",
        "video",
        video.id,
        {"product_ids": product_ids, **author},
        actor_id=actor.user_id,
    )
    return video


def get_video(session: Session, video_id: int, actor: Actor | None = None) -> ShortVideo:
    video = session.get(ShortVideo, video_id)
    if video is None or (video.status != "published" and not _is_author(actor, video)):
        raise NotFound(f"no video {video_id}", field="video_id")
    return video


def _is_author(actor: Actor | None, video: ShortVideo) -> bool:
    if actor is None:
        return False
    if video.store_id is not None:
        return actor.manages_store(video.store_id)
    return actor.user_id == video.creator_id or actor.is_operator


def linked_products(session: Session, video_id: int) -> list[Product]:
    return list(
        session.scalars(
            select(Product)
            .join(VideoProduct, VideoProduct.product_id == Product.id)
            .where(VideoProduct.video_id == video_id)
            .order_by(VideoProduct.position)
        )
    )


def do_remove(session: Session, clock: Clock, actor: Actor | None, video_id: int) -> ShortVideo:
    actor = require_actor(actor)  # 401 before any lookup
    video = get_video(session, video_id, actor)
    if not _is_author(actor, video):
        raise Forbidden("only the author removes a video")
    if video.status != "published":
        raise InvalidTransition("already removed", field="status")
    video.status = "removed"
    session.flush()
    emit(session, clock, "VideoRemoved", "video", video.id, {})
    return video


def do_record_view(
    session: Session,
    clock: Clock,
    actor: Actor | None,
    video_id: int,
    *,
    watched_seconds: int,
    liked: bool = False,
    shared: bool = False,
) -> ShortVideo:
    """One play of the video: counts a view, a completion if watched to the end, optional like/share."""
    require_actor(actor)
    video = get_video(session, video_id)
    if not 0 <= watched_seconds <= video.duration_seconds:
        raise InvalidInput(f"watched 0 to {video.duration_seconds} seconds", field="watched_seconds")
    completed = watched_seconds >= video.duration_seconds
    session.execute(
        update(ShortVideo)
        .where(ShortVideo.id == video.id)
        .values(
            views=ShortVideo.views + 1,
            completed_views=ShortVideo.completed_views + int(completed),
            watch_seconds=ShortVideo.watch_seconds + watched_seconds,
            likes=ShortVideo.likes + int(liked),
            shares=ShortVideo.shares + int(shared),
        )
    )
    session.refresh(video)
    emit(
        session,
        clock,
        "VideoWatched",
        "video",
        video.id,
        {
            "watched_seconds": watched_seconds,
            "completed": completed,
            "liked": liked,
            "shared": shared,
            # what the video sells: the shopper's interest the feed learns from the view (traffic log)
            "product_id": session.scalar(
                select(VideoProduct.product_id)
                .where(VideoProduct.video_id == video.id)
                .order_by(VideoProduct.position)
                .limit(1)
            ),
        },
        actor_id=actor.user_id if actor else None,
    )
    return video


def list_videos(
    session: Session, *, store_id: int | None, creator_id: int | None, before_id: int | None, limit: int
) -> list[ShortVideo]:
    query = select(ShortVideo).where(ShortVideo.status == "published").order_by(ShortVideo.id.desc()).limit(limit)
    if store_id is not None:
        query = query.where(ShortVideo.store_id == store_id)
    if creator_id is not None:
        query = query.where(ShortVideo.creator_id == creator_id)
    if before_id is not None:
        query = query.where(ShortVideo.id < before_id)
    return list(session.scalars(query))


@dataclass(frozen=True)
class VideoStats:
    views: int
    completed_views: int
    completion_rate: float | None
    likes: int
    shares: int
    orders: int
    gmv_fen: int
    gpm_fen: int


def stats(session: Session, video: ShortVideo) -> VideoStats:
    orders, gmv = session.execute(
        select(
            func.count(distinct(Order.id)),
            func.coalesce(func.sum(OrderLine.line_total_fen - OrderLine.refunded_fen), 0),
        )
        .join(Order, Order.id == OrderLine.order_id)
        .where(
            OrderLine.surface == "short_video",
            OrderLine.source_id == video.id,
            Order.status.in_([s.value for s in SOLD]),
        )
    ).one()
    gmv = int(gmv)
    return VideoStats(
        video.views,
        video.completed_views,
        round(video.completed_views / video.views, 4) if video.views else None,
        video.likes,
        video.shares,
        int(orders),
        gmv,
        gmv * 1000 // video.views if video.views else 0,
    )
