"""Feed hydration: the ranked page (`do_serve_feed`: positions in the serving snapshot) turned into what a
shopper sees: each placement's kind and id, the card of the product it sells, and the video's or the live
session's own fields.

Read after the impressions are committed, from the read database, in a few bulk queries (no query per
item). The snapshot lags the catalog, so an item may be gone by now: a product that no longer exists has
no card, a deleted video or live session has no details; the placement is still answered (its position
and id were served and logged), with those parts empty.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from yinli.catalog.cards import ProductCard, build_cards
from yinli.catalog.models import Product
from yinli.content.models import LiveRoom, LiveSession, ShortVideo, VideoProduct
from yinli.core.clock import Clock
from yinli.traffic.feed import FeedPage, Placement, ServingState
from yinli.traffic.snapshot import FORMATS


@dataclass(frozen=True)
class FeedVideo:
    id: int
    title: str
    cover_url: str
    duration_seconds: int
    views: int
    store_id: int | None
    creator_id: int | None
    product_ids: list[int]  # linked products, in the video's order


@dataclass(frozen=True)
class FeedLive:
    session_id: int
    room_id: int
    title: str
    viewers_now: int
    store_id: int | None
    creator_id: int | None
    presenting_product_id: int | None


@dataclass(frozen=True)
class FeedTile:
    placement: Placement
    kind: str  # of snapshot.FORMATS: product | video | live
    item_id: int  # the product's, video's or live session's id
    product_id: int  # the product shown (for content: what it sells)
    card: ProductCard | None
    video: FeedVideo | None = None
    live: FeedLive | None = None


def placement_ids(state: ServingState, placement: Placement) -> tuple[str, int, int]:
    """(kind, item id, product id) of a placement, read from the snapshot it was ranked in."""
    snap = state.snapshot
    item = placement.item
    return FORMATS[int(snap.kind[item])], int(snap.item_id[item]), int(snap.item_id[snap.product[item]])


def hydrate(db: Session, clock: Clock, fp: FeedPage, state: ServingState, *, pay_later_room: int = 0) -> list[FeedTile]:
    """The page's tiles in placement order (`pay_later_room`: the reader's unused pay-later credit, for
    the cards' badge; guarantees.credit.shopper_room)."""
    ids = [placement_ids(state, p) for p in fp.placements]
    product_ids = sorted({product for _, _, product in ids})
    products = list(db.scalars(select(Product).where(Product.id.in_(product_ids)))) if product_ids else []
    cards = {c.product_id: c for c in build_cards(db, clock, products, pay_later_room=pay_later_room)}
    videos = _videos(db, [item for kind, item, _ in ids if kind == "video"])
    lives = _lives(db, [item for kind, item, _ in ids if kind == "live"])
    return [
        FeedTile(
            p,
            kind,
            item,
            product,
            cards.get(product),
            videos.get(item) if kind == "video" else None,
            lives.get(item) if kind == "live" else None,
        )
        for p, (kind, item, product) in zip(fp.placements, ids, strict=True)
    ]


def _videos(db: Session, ids: list[int]) -> dict[int, FeedVideo]:
    if not ids:
        return {}
    linked: dict[int, list[int]] = {}
    for vid, pid in db.execute(
        select(VideoProduct.video_id, VideoProduct.product_id)
        .where(VideoProduct.video_id.in_(ids))
        .order_by(VideoProduct.position)
    ):
        linked.setdefault(vid, []).append(pid)
    return {
        v.id: FeedVideo(
            id=v.id,
            title=v.title,
            cover_url=v.cover_url,
            duration_seconds=v.duration_seconds,
            views=v.views,
            store_id=v.store_id,
            creator_id=v.creator_id,
            product_ids=linked.get(v.id, []),
        )
        for v in db.scalars(select(ShortVideo).where(ShortVideo.id.in_(ids)))
    }


def _lives(db: Session, ids: list[int]) -> dict[int, FeedLive]:
    if not ids:
        return {}
    return {
        s.id: FeedLive(
            session_id=s.id,
            room_id=room.id,
            title=s.title,
            viewers_now=s.viewers_now,
            store_id=room.store_id,
            creator_id=room.creator_id,
            presenting_product_id=s.presenting_product_id,
        )
        for s, room in db.execute(
            select(LiveSession, LiveRoom)
            .join(LiveRoom, LiveRoom.id == LiveSession.room_id)
            .where(LiveSession.id.in_(ids))
        )
    }
