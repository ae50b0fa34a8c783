"""The home page's feed: live rooms on air, the newest short videos, then product cards. The traffic
domain's ranked feed (`GET /feed`, `traffic/hydrate.py`) is the API's; this is the web home page's
order until the page renders the ranked one. The page only renders FeedItems.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from yinli.catalog import service as catalog
from yinli.catalog.cards import ProductCard, build_cards
from yinli.catalog.models import Product, ProductStatus
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


def home_feed(
    session: Session, clock: Clock, limit: int = 30, *, with_live: bool = True, pay_later_room: int = 0
) -> list[FeedItem]:
    """Live rooms on air first (busiest first), then the newest short videos and product cards
    (`pay_later_room`: the looking shopper's unused pay-later credit, for the cards' badge)."""
    on_air = live.live_now(session, limit=LIVE_TILES) if with_live else []
    clips = (
        videos.list_videos(session, store_id=None, creator_id=None, before_id=None, limit=VIDEO_TILES)
        if with_live
        else []
    )
    covers: list[Product | None] = []
    for s in on_air:
        shown = live.session_products(session, s.id)
        covers.append(next((p for p in shown if p.id == s.presenting_product_id), shown[0] if shown else None))
    firsts = [
        next((p for p in videos.linked_products(session, v.id) if p.status == ProductStatus.LISTED.value), None)
        for v in clips
    ]
    products = catalog.list_products(session, None, catalog.ProductFilter(), before_id=None, limit=limit)
    # every card the page shows, built at once (one set of price and store lookups, not one per tile)
    wanted = {p.id: p for p in [*covers, *firsts, *products] if p is not None}
    cards = {c.product_id: c for c in build_cards(session, clock, list(wanted.values()), pay_later_room=pay_later_room)}

    def card(p: Product | None) -> ProductCard | None:
        return cards.get(p.id) if p is not None else None

    return (
        [FeedItem("live", live=s, live_cover=card(c)) for s, c in zip(on_air, covers, strict=True)]
        + [FeedItem("video", video=v, video_product=card(f)) for v, f in zip(clips, firsts, strict=True)]
        + [FeedItem("product", cards[p.id]) for p in products if p.id in cards]
    )
