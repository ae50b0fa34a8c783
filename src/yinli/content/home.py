"""The home page's live strip: rooms on air, shown above the ranked feed when the feed's page has no live
tile of its own. The feed itself (product cards, videos, live sessions, plan slots) is the traffic
engine's (`traffic.service.do_serve_storefront`, hydrated by `traffic/hydrate.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from yinli.catalog.cards import ProductCard, build_cards
from yinli.catalog.models import Product
from yinli.content import live
from yinli.content.models import LiveSession
from yinli.core.clock import Clock

LIVE_TILES = 4


@dataclass(frozen=True)
class OnAir:
    """A live session on air and the card of what it is presenting (or its first product)."""

    session: LiveSession
    cover: ProductCard | None


def on_air(session: Session, clock: Clock, *, limit: int = LIVE_TILES, pay_later_room: int = 0) -> list[OnAir]:
    """Sessions live now, busiest first (`pay_later_room`: the looking shopper's unused pay-later credit,
    for the cards' badge)."""
    rooms = live.live_now(session, limit=limit)
    covers: list[Product | None] = []
    for s in rooms:
        shown = live.session_products(session, s.id)
        covers.append(next((p for p in shown if p.id == s.presenting_product_id), shown[0] if shown else None))
    wanted = [p for p in covers if p is not None]
    cards = {c.product_id: c for c in build_cards(session, clock, wanted, pay_later_room=pay_later_room)}
    return [OnAir(s, cards.get(c.id) if c is not None else None) for s, c in zip(rooms, covers, strict=True)]
