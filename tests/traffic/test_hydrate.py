"""Feed hydration (traffic.hydrate): ranked snapshot positions become tiles; items gone since the snapshot
keep their place with the missing parts empty."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
from sqlalchemy import delete

from tests.traffic.conftest import Market
from yinli.content.models import ShortVideo, VideoProduct
from yinli.traffic.experiments import DEFAULT
from yinli.traffic.feed import FeedPage, Placement, ServingState
from yinli.traffic.hydrate import hydrate
from yinli.traffic.snapshot import LIVE, PRODUCT, VIDEO


def _page(items: list[tuple[int, int, int]]) -> tuple[FeedPage, ServingState]:
    """A page over a stand-in snapshot: per item (kind, id, index of the product it sells)."""
    snap = SimpleNamespace(
        kind=np.array([k for k, _, _ in items]),
        item_id=np.array([i for _, i, _ in items], np.int64),
        product=np.array([p for _, _, p in items], np.int64),
    )
    placements = [Placement(i, i, "organic", 1, 1.0, 0.1, 0.1, 1.0, {}, {}) for i in range(len(items))]
    fp = FeedPage("r1", 1, 1, 7, placements, DEFAULT, None, False)
    return fp, ServingState(snapshot=snap)  # type: ignore[arg-type]


def _video(market: Market, merchant: Any, product_id: int) -> int:
    r = market.client.post(
        "/api/v1/videos",
        json={
            "title": "开箱",
            "duration_seconds": 30,
            "cover_url": "https://img.example/c.jpg",
            "video_url": "https://v.example/v.mp4",
            "product_ids": [product_id],
        },
        headers=merchant.headers,
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_tiles_carry_cards_and_content_in_placement_order(market: Market) -> None:
    m, (a, b) = market.store(2)
    video = _video(market, m, b["id"])
    live = market.content.live_session(m, [a["id"]])
    fp, state = _page([(PRODUCT, a["id"], 0), (PRODUCT, b["id"], 1), (VIDEO, video, 1), (LIVE, live["id"], 0)])
    with market.world.database.read_sessions() as db:
        tiles = hydrate(db, market.clock, fp, state)
    assert [(t.kind, t.item_id, t.product_id) for t in tiles] == [
        ("product", a["id"], a["id"]),
        ("product", b["id"], b["id"]),
        ("video", video, b["id"]),
        ("live", live["id"], a["id"]),
    ]
    assert [t.card.product_id for t in tiles if t.card] == [a["id"], b["id"], b["id"], a["id"]]
    assert tiles[2].video is not None and tiles[2].video.product_ids == [b["id"]] and tiles[2].live is None
    assert tiles[3].live is not None and tiles[3].live.session_id == live["id"] and tiles[3].video is None
    assert tiles[0].video is None and tiles[0].live is None


def test_items_gone_since_the_snapshot_keep_their_place_empty(market: Market) -> None:
    m, (a,) = market.store(1)
    video = _video(market, m, a["id"])
    with market.world.database.sessions() as db:
        db.execute(delete(VideoProduct).where(VideoProduct.video_id == video))
        db.execute(delete(ShortVideo).where(ShortVideo.id == video))
        db.commit()
    missing = a["id"] + 1000  # a product (and a live session) that no longer exists
    fp, state = _page([(PRODUCT, missing, 0), (VIDEO, video, 2), (PRODUCT, a["id"], 2), (LIVE, 999999, 2)])
    with market.world.database.read_sessions() as db:
        tiles = hydrate(db, market.clock, fp, state)
    assert [t.placement.position for t in tiles] == [0, 1, 2, 3]
    assert tiles[0].card is None and tiles[0].product_id == missing
    assert tiles[1].kind == "video" and tiles[1].video is None and tiles[1].card is not None
    assert tiles[3].kind == "live" and tiles[3].live is None


def test_an_empty_page_needs_no_query(market: Market) -> None:
    fp, state = _page([])
    with market.world.database.read_sessions() as db:
        assert hydrate(db, market.clock, fp, state) == []
