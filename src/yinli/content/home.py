"""The home page's feed: live rooms on air, the newest short videos, then product cards. The traffic
domain's ranked feed (`GET /feed`, `traffic/hydrate.py`) is the API's; this is the web home page's
order until the page renders the ranked one. The page only renders FeedItems.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from yinli.catalog import service as catalog
from yinli.catalog.cards import ProductCard, build_cards
from yinli.catalog.models import ProductStatus
from yinli.content import live, videos
from yinli.content.models import LiveSession, ShortVideo
from yinli.core.clock import Clock

LIVE_TILES = VIDEO_TILES = 4


@dataclass(frozen=True)
class FeedItem:
    """One tile of the home feed: a product card, a live session or a short video."""

    kind: str  # "product" | "live" | "video"
    card: ProductCard | None = None
    live: LiveSession | None = None
    live_cover: ProductCard | None = None  # what the room is presenting (or its first product)
    video: ShortVideo | None = None
    video_product: ProductCard | None = None  # the video's first linked product on sale


def home_feed(session: Session, clock: Clock, limit: int = 30, *, with_live: bool = True) -> list[FeedItem]:
    """Live rooms on air first (busiest first), then the newest short videos and product cards."""
    items: list[FeedItem] = []
    if with_live:
        for s in live.live_now(session, limit=LIVE_TILES):
            products = live.session_products(session, s.id)
            shown = next((p for p in products if p.id == s.presenting_product_id), products[0] if products else None)
            cover = build_cards(session, clock, [shown])[0] if shown is not None else None
            items.append(FeedItem("live", live=s, live_cover=cover))
        for v in videos.list_videos(session, store_id=None, creator_id=None, before_id=None, limit=VIDEO_TILES):
            linked = [p for p in videos.linked_products(session, v.id) if p.status == ProductStatus.LISTED.value]
            first = build_cards(session, clock, linked[:1])
            items.append(FeedItem("video", video=v, video_product=first[0] if first else None))
    products = catalog.list_products(session, None, catalog.ProductFilter(), before_id=None, limit=limit)
    return items + [FeedItem("product", c) for c in build_cards(session, clock, products)]
