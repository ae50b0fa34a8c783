"""A served feed page as the API answers it: shared by the feed router and the storefront's ranked
sections (the mall's and category shelves' `recommended`), so routers do not import one another."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import Request
from sqlalchemy.orm import Session

from yinli.catalog.schemas import card_out
from yinli.core.clock import Clock
from yinli.traffic import explain
from yinli.traffic.feed import FeedPage, ServingState
from yinli.traffic.hydrate import hydrate
from yinli.traffic.schemas import ExplainOut, FeedItemOut, FeedLiveOut, FeedOut, FeedVideoOut
from yinli.traffic.service import VISITOR, TrafficEngine, engine_for, next_cursor


def engine_of(request: Request) -> TrafficEngine:
    state = request.app.state
    return engine_for(state.settings, state.db, state.clock)


def feed_out(
    db: Session, clock: Clock, fp: FeedPage, state: ServingState, with_explain: bool, *, pay_later_room: int = 0
) -> FeedOut:
    """A served page as the API answers it (also the mall's and category shelves' recommended sections);
    `pay_later_room`: the reader's unused pay-later credit, for the cards' badge."""
    items = [
        FeedItemOut(
            position=t.placement.position,
            type=t.kind,
            item_id=t.item_id,
            slot=t.placement.slot,
            product=card_out(t.card) if t.card is not None else None,
            video=FeedVideoOut(**asdict(t.video)) if t.video is not None else None,
            live=FeedLiveOut(**asdict(t.live)) if t.live is not None else None,
            explain=ExplainOut(**explain.item(t.placement, fp.assignment.policy, fp.model_version))
            if with_explain
            else None,
        )
        for t in hydrate(db, clock, fp, state, pay_later_room=pay_later_room)
    ]
    a = fp.assignment
    return FeedOut(
        request_id=fp.request_id,
        shopper_id=fp.shopper_id if fp.shopper_id != VISITOR else None,
        page=fp.page,
        policy=a.policy,
        bucket=a.bucket,
        experiment_id=a.experiment_id,
        model=fp.model_version or "heuristic",
        items=items,
        next_cursor=next_cursor(fp),
    )
