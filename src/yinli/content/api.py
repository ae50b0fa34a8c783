"""Creators, follows, affiliate plans, live rooms (with an SSE stream), short videos, shelf pages and
sales split by format and creator."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BeforeValidator, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from yinli.api.deps import (
    DB,
    ActorDep,
    ClockDep,
    Cursor,
    IdempotencyDep,
    Limit,
    ReadDB,
    SettingsDep,
    cursor_value,
    id_path,
    id_query,
    page,
)
from yinli.catalog import categories
from yinli.catalog.models import Category
from yinli.catalog.schemas import ProductCardOut, card_out, cards_for
from yinli.content import affiliate, attribution, creators, favourites_api, live, shelves, videos
from yinli.content.models import LiveSession, ShortVideo
from yinli.content.schemas import (
    CommissionOut,
    CreatorOut,
    CreatorProfileIn,
    FollowIn,
    FollowOut,
    LikeIn,
    PlanIn,
    PlanOut,
    PresentIn,
    ProductIdsIn,
    RoomIn,
    RoomOut,
    SalesOut,
    SalesSplitOut,
    SessionIn,
    SessionOut,
    SessionStatsOut,
    ShelfOut,
    StorePageOut,
    VideoIn,
    VideoOut,
    VideosPage,
    VideoStatsOut,
    ViewIn,
)
from yinli.core.auth import Actor, require_actor
from yinli.core.clock import Clock
from yinli.core.outbox import OutboxEvent
from yinli.core.parsing import digits_only, parse_id
from yinli.core.schemas import MoneyOut, Output, QueryTime
from yinli.guarantees import credit
from yinli.merchants import service as merchants
from yinli.traffic import events
from yinli.traffic import service as traffic
from yinli.traffic.pages import engine_of, feed_out
from yinli.traffic.schemas import FeedOut

router = APIRouter(tags=["content"])
router.include_router(favourites_api.router)  # /me/favourites, /me/followed-stores (kept apart: size)


# The storefront's ranked sections carry a traffic page: these two shapes live with the router, since the
# content domain sits below traffic (the domain's own schemas cannot import traffic's).
class MallOut(Output):
    categories: list[dict[str, object]]
    recommended: FeedOut = Field(
        description="Ranked for the caller by the traffic engine (a visitor's page unless a shopper asks); "
        "send feedback events with its `request_id`."
    )
    new_arrivals: list[ProductCardOut]
    best_sellers: list[ProductCardOut]


class CategoryShelfOut(ShelfOut):
    recommended: FeedOut | None = Field(
        description="Page 1 of a category holding more than one page: ranked for the caller by the traffic "
        "engine within the category's subtree (null otherwise)."
    )


# --- creators and follows ---------------------------------------------------------------------------------


def creator_out(view: creators.CreatorView) -> CreatorOut:
    return CreatorOut(**{**view.__dict__, "gmv_30d": MoneyOut.fen(view.gmv_30d_fen)})


@router.put("/creators/me", response_model=CreatorOut, summary="Save the caller's creator profile")
def save_profile(body: CreatorProfileIn, db: DB, clock: ClockDep, actor: ActorDep) -> CreatorOut:
    profile = creators.do_save_profile(db, clock, actor, handle=body.handle, bio=body.bio, avatar_url=body.avatar_url)
    db.commit()
    return creator_out(creators.get_creator(db, clock, profile.user_id))


@router.get("/creators/{creator_id}", response_model=CreatorOut, summary="A creator: profile, followers, level")
def get_creator(db: ReadDB, clock: ClockDep, creator_id: int = id_path()) -> CreatorOut:
    return creator_out(creators.get_creator(db, clock, creator_id))


@router.post(
    "/follows",
    status_code=201,
    response_model=FollowOut,
    summary="Follow a creator or a store (idempotent: 200 with the existing follow when already following)",
)
def follow(body: FollowIn, db: DB, clock: ClockDep, actor: ActorDep) -> JSONResponse:
    f, created = creators.do_follow(db, clock, actor, body.target_type, body.target_id)
    db.commit()
    return JSONResponse(FollowOut.model_validate(f).model_dump(mode="json"), status_code=201 if created else 200)


@router.delete("/follows/{target_type}/{target_id}", status_code=204, summary="Stop following")
def unfollow(
    db: DB, actor: ActorDep, target_type: str = Path(pattern="^(creator|store)$"), target_id: int = id_path()
) -> Response:
    creators.do_unfollow(db, actor, target_type, target_id)
    db.commit()
    return Response(status_code=204)


@router.get("/me/follows", response_model=list[FollowOut], summary="Who the caller follows")
def my_follows(db: ReadDB, actor: ActorDep) -> list[FollowOut]:
    return [FollowOut.model_validate(f) for f in creators.following(db, actor)]


# --- affiliate --------------------------------------------------------------------------------------------


@router.post(
    "/affiliate-plans",
    status_code=201,
    response_model=PlanOut,
    summary="Open a product to creators (all, or one named creator)",
)
def open_plan(
    body: PlanIn, db: DB, clock: ClockDep, settings: SettingsDep, actor: ActorDep, idem: IdempotencyDep
) -> JSONResponse:
    return idem.respond(
        db,
        lambda: (
            201,
            PlanOut.model_validate(
                affiliate.do_open_plan(
                    db,
                    clock,
                    actor,
                    product_id=body.product_id,
                    rate_bps=body.rate_bps,
                    creator_id=body.creator_id,
                    settings=settings,
                )
            ).model_dump(mode="json"),
        ),
    )


@router.post("/affiliate-plans/{plan_id}/end", response_model=PlanOut, summary="End a plan (the store's staff)")
def end_plan(db: DB, clock: ClockDep, actor: ActorDep, plan_id: int = id_path()) -> PlanOut:
    plan = affiliate.do_end_plan(db, clock, actor, plan_id)
    db.commit()
    return PlanOut.model_validate(plan)


@router.get("/products/{product_id}/affiliate-plans", response_model=list[PlanOut], summary="A product's plans")
def product_plans(db: ReadDB, actor: ActorDep, product_id: int = id_path()) -> list[PlanOut]:
    from yinli.catalog import service as catalog

    catalog.get_product(db, actor, product_id)
    return [PlanOut.model_validate(p) for p in affiliate.plans_visible_to(db, actor, product_id)]


@router.get(
    "/affiliate-plans/available",
    response_model=list[PlanOut],
    summary="Products the calling creator may sell, with the best plan for each",
)
def available_plans(db: ReadDB, actor: ActorDep) -> list[PlanOut]:
    actor = require_actor(actor)
    return [PlanOut.model_validate(p) for p in affiliate.plans_open_to(db, actor.user_id)]


@router.get(
    "/affiliate-commissions",
    response_model=list[CommissionOut],
    summary="Commissions (creators: their own; staff: their store's)",
)
def list_commissions(db: ReadDB, actor: ActorDep) -> list[CommissionOut]:
    actor = require_actor(actor)
    return [CommissionOut.model_validate(c) for c in affiliate.commissions_of(db, actor)]


# --- live -------------------------------------------------------------------------------------------------


@router.post("/live/rooms", status_code=201, response_model=RoomOut, summary="Open the caller's live room")
def open_room(body: RoomIn, db: DB, clock: ClockDep, actor: ActorDep, idem: IdempotencyDep) -> JSONResponse:
    return idem.respond(
        db,
        lambda: (
            201,
            RoomOut.model_validate(
                live.do_open_room(db, clock, actor, title=body.title, cover_url=body.cover_url)
            ).model_dump(mode="json"),
        ),
    )


@router.get("/live/rooms/{room_id}", response_model=RoomOut, summary="A live room")
def get_room(db: ReadDB, room_id: int = id_path()) -> RoomOut:
    return RoomOut.model_validate(live.get_room(db, room_id))


def session_out(session: Session, clock: Clock, s: LiveSession, pay_later_room: int = 0) -> SessionOut:
    """`pay_later_room`: the reader's unused pay-later credit, for the cards' 先用后付 badge (0: none)."""
    st = live.stats(session, s)
    return SessionOut(
        id=s.id,
        room_id=s.room_id,
        title=s.title,
        status=s.status,
        scheduled_at=s.scheduled_at,
        started_at=s.started_at,
        ended_at=s.ended_at,
        viewers_now=s.viewers_now,
        presenting_product_id=s.presenting_product_id,
        products=cards_for(session, clock, live.session_products(session, s.id), pay_later_room=pay_later_room),
        stats=SessionStatsOut(**{**st.__dict__, "gmv": MoneyOut.fen(st.gmv_fen), "gpm": MoneyOut.fen(st.gpm_fen)}),
    )


@router.post(
    "/live/rooms/{room_id}/sessions",
    status_code=201,
    response_model=SessionOut,
    summary="Schedule a session with its product list",
)
def schedule(
    body: SessionIn, db: DB, clock: ClockDep, actor: ActorDep, idem: IdempotencyDep, room_id: int = id_path()
) -> JSONResponse:
    return idem.respond(
        db,
        lambda: (
            201,
            session_out(
                db,
                clock,
                live.do_schedule(
                    db,
                    clock,
                    actor,
                    room_id,
                    title=body.title,
                    scheduled_at=body.scheduled_at,
                    product_ids=body.product_ids,
                ),
            ).model_dump(mode="json"),
        ),
    )


@router.get("/live/now", response_model=list[SessionOut], summary="Sessions live now, busiest first")
def live_now(
    db: ReadDB, clock: ClockDep, settings: SettingsDep, actor: ActorDep, limit: Limit = 20
) -> list[SessionOut]:
    room = credit.shopper_room(db, settings, actor)
    return [session_out(db, clock, s, room) for s in live.live_now(db, limit)]


@router.get("/live/sessions/{session_id}", response_model=SessionOut, summary="A session: state, products, stats")
def get_live_session(
    db: ReadDB, clock: ClockDep, settings: SettingsDep, actor: ActorDep, session_id: int = id_path()
) -> SessionOut:
    room = credit.shopper_room(db, settings, actor)
    return session_out(db, clock, live.get_session(db, session_id), room)


def _session_action(fn: Any) -> Any:
    def endpoint(db: DB, clock: ClockDep, actor: ActorDep, session_id: int = id_path()) -> SessionOut:
        s = fn(db, clock, actor, session_id)
        db.commit()
        return session_out(db, clock, s)

    return endpoint


router.post("/live/sessions/{session_id}/start", response_model=SessionOut, summary="Go live (host)")(
    _session_action(live.do_go_live)
)
router.post("/live/sessions/{session_id}/end", response_model=SessionOut, summary="End the session (host)")(
    _session_action(live.do_end)
)
router.post("/live/sessions/{session_id}/join", response_model=SessionOut, summary="A viewer enters")(
    _session_action(live.do_join)
)
router.post("/live/sessions/{session_id}/leave", response_model=SessionOut, summary="A viewer leaves")(
    _session_action(live.do_leave)
)


@router.post("/live/sessions/{session_id}/products", response_model=SessionOut, summary="Add products (host)")
def add_products(
    body: ProductIdsIn, db: DB, clock: ClockDep, actor: ActorDep, session_id: int = id_path()
) -> SessionOut:
    s = live.do_add_products(db, clock, actor, session_id, body.product_ids)
    db.commit()
    return session_out(db, clock, s)


@router.post(
    "/live/sessions/{session_id}/present", response_model=SessionOut, summary="Present a product from the list (host)"
)
def present(body: PresentIn, db: DB, clock: ClockDep, actor: ActorDep, session_id: int = id_path()) -> SessionOut:
    s = live.do_present(db, clock, actor, session_id, body.product_id)
    db.commit()
    return session_out(db, clock, s)


@router.post("/live/sessions/{session_id}/like", response_model=SessionOut, summary="Like")
def like(body: LikeIn, db: DB, clock: ClockDep, actor: ActorDep, session_id: int = id_path()) -> SessionOut:
    s = live.do_like(db, clock, actor, session_id, body.count)
    db.commit()
    return session_out(db, clock, s)


STREAM_POLL_SECONDS = 0.25


def _events_after(request: Request, session_id: int, after: int) -> list[tuple[int, str, dict[str, Any]]]:
    with request.app.state.db.read_sessions() as s:
        rows = s.execute(
            select(OutboxEvent.id, OutboxEvent.type, OutboxEvent.payload)
            .where(
                OutboxEvent.aggregate_type == "live_session",
                OutboxEvent.aggregate_id == session_id,
                OutboxEvent.id > after,
            )
            .order_by(OutboxEvent.id)
            .limit(200)
        ).all()
    return [(r.id, r.type, r.payload) for r in rows]


@router.get(
    "/live/sessions/{session_id}/stream",
    summary="Server-sent events: the room's live state",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "An event stream"}},
)
async def stream(
    request: Request,
    session_id: int = id_path(),
    max_seconds: float = Query(300, gt=0, le=3600, description="Close the stream after this long."),
) -> StreamingResponse:
    """First a `state` event (the session now), then every change in commit order: ViewerJoined,
    ViewerLeft, ProductPresented, LivePurchase, LiveStarted, LiveEnded (the stream closes after it).
    Reconnect with `Last-Event-ID` to resume where you were."""

    def snapshot() -> tuple[dict[str, Any], int, str]:
        with request.app.state.db.read_sessions() as s:
            live_session = live.get_session(s, session_id)
            last = (
                s.scalar(
                    select(OutboxEvent.id)
                    .where(OutboxEvent.aggregate_type == "live_session", OutboxEvent.aggregate_id == session_id)
                    .order_by(OutboxEvent.id.desc())
                    .limit(1)
                )
                or 0
            )
            state = {
                "status": live_session.status,
                "viewers_now": live_session.viewers_now,
                "presenting_product_id": live_session.presenting_product_id,
            }
            return state, last, live_session.status

    state, last, status = await run_in_threadpool(snapshot)
    resume = request.headers.get("last-event-id")
    resumed_at = parse_id(resume)  # not an event id ('²', 5,000 digits): start from now, as without one
    if resumed_at is not None:
        last = resumed_at

    async def events() -> AsyncIterator[str]:
        cursor = last
        yield f"event: state\ndata: {json.dumps(state, ensure_ascii=False)}\n\n"
        if status == "ended" and not resume:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max_seconds
        while loop.time() < deadline and not await request.is_disconnected():
            for event_id, kind, payload in await run_in_threadpool(_events_after, request, session_id, cursor):
                cursor = event_id
                yield f"id: {event_id}\nevent: {kind}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"
                if kind == "LiveEnded":
                    return
            await asyncio.sleep(STREAM_POLL_SECONDS)

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


# --- videos -----------------------------------------------------------------------------------------------


def video_out(session: Session, clock: Clock, v: ShortVideo, pay_later_room: int = 0) -> VideoOut:
    """`pay_later_room`: as for `session_out`."""
    st = videos.stats(session, v)
    return VideoOut(
        id=v.id,
        store_id=v.store_id,
        creator_id=v.creator_id,
        title=v.title,
        duration_seconds=v.duration_seconds,
        cover_url=v.cover_url,
        video_url=v.video_url,
        status=v.status,
        published_at=v.published_at,
        products=cards_for(session, clock, videos.linked_products(session, v.id), pay_later_room=pay_later_room),
        stats=VideoStatsOut(**{**st.__dict__, "gmv": MoneyOut.fen(st.gmv_fen), "gpm": MoneyOut.fen(st.gpm_fen)}),
    )


@router.post("/videos", status_code=201, response_model=VideoOut, summary="Publish a short video linking products")
def publish(body: VideoIn, db: DB, clock: ClockDep, actor: ActorDep, idem: IdempotencyDep) -> JSONResponse:
    return idem.respond(
        db,
        lambda: (
            201,
            video_out(
                db,
                clock,
                videos.do_publish(
                    db,
                    clock,
                    actor,
                    title=body.title,
                    duration_seconds=body.duration_seconds,
                    cover_url=body.cover_url,
                    video_url=body.video_url,
                    product_ids=body.product_ids,
                ),
            ).model_dump(mode="json"),
        ),
    )


@router.get("/videos", response_model=VideosPage, summary="Published videos, newest first")
def list_videos(
    db: ReadDB,
    clock: ClockDep,
    settings: SettingsDep,
    actor: ActorDep,
    limit: Limit = 20,
    cursor: Cursor = None,
    store_id: int | None = id_query(),
    creator_id: int | None = id_query(),
) -> VideosPage:
    rows = videos.list_videos(
        db, store_id=store_id, creator_id=creator_id, before_id=cursor_value(cursor), limit=limit + 1
    )
    rows, next_cursor = page(rows, limit)
    room = credit.shopper_room(db, settings, actor)
    return VideosPage(items=[video_out(db, clock, v, room) for v in rows], next_cursor=next_cursor)


@router.get("/videos/{video_id}", response_model=VideoOut, summary="A video with its products and stats")
def get_video(
    db: ReadDB, clock: ClockDep, settings: SettingsDep, actor: ActorDep, video_id: int = id_path()
) -> VideoOut:
    room = credit.shopper_room(db, settings, actor)
    return video_out(db, clock, videos.get_video(db, video_id, actor), room)


@router.post("/videos/{video_id}/views", response_model=VideoOut, summary="Record one play")
def record_view(body: ViewIn, db: DB, clock: ClockDep, actor: ActorDep, video_id: int = id_path()) -> VideoOut:
    v = videos.do_record_view(
        db, clock, actor, video_id, watched_seconds=body.watched_seconds, liked=body.liked, shared=body.shared
    )
    db.commit()
    return video_out(db, clock, v)


@router.post("/videos/{video_id}/remove", response_model=VideoOut, summary="Take a video down (its author)")
def remove_video(db: DB, clock: ClockDep, actor: ActorDep, video_id: int = id_path()) -> VideoOut:
    v = videos.do_remove(db, clock, actor, video_id)
    db.commit()
    return video_out(db, clock, v)


# --- shelves and sales ------------------------------------------------------------------------------------


RECOMMENDED = 8  # items in the mall's and a category shelf's ranked section


def recommended_out(
    request: Request, db: Session, rdb: Session, clock: Clock, actor: Actor | None, room: int, category: Category | None
) -> FeedOut:
    """The ranked section: the traffic engine's page for the caller (a shopper's own, anyone else a
    visitor's), over the catalogue or the category's subtree, its impressions committed before the
    cards are read (surface `mall` or `category`)."""
    fp, state = traffic.do_serve_storefront(
        db,
        engine_of(request),
        actor,
        surface=events.MALL if category is None else events.CATEGORY,
        limit=RECOMMENDED,
        category=category,
    )
    db.commit()
    return feed_out(rdb, clock, fp, state, False, pay_later_room=room)


@router.get("/mall", response_model=MallOut, tags=["shelf"], summary="The mall tab: categories and sections")
def mall(request: Request, db: DB, rdb: ReadDB, clock: ClockDep, settings: SettingsDep, actor: ActorDep) -> MallOut:
    room = credit.shopper_room(rdb, settings, actor)  # the 先用后付 badge only within the caller's credit
    return MallOut(
        categories=[{"id": c.id, "name": c.name} for c in categories.children(rdb, None)],
        recommended=recommended_out(request, db, rdb, clock, actor, room, None),
        new_arrivals=cards_for(rdb, clock, shelves.new_arrivals(rdb), pay_later_room=room),
        best_sellers=cards_for(rdb, clock, shelves.best_sellers(rdb), pay_later_room=room),
    )


@router.get("/stores/{store_id}/page", response_model=StorePageOut, tags=["shelf"], summary="A store's page")
def store_page(
    db: ReadDB, clock: ClockDep, settings: SettingsDep, actor: ActorDep, store_id: int = id_path()
) -> StorePageOut:
    store = merchants.get_store(db, actor, store_id)
    room = credit.shopper_room(db, settings, actor)
    return StorePageOut(
        store_id=store.id,
        name=store.name,
        description=store.description,
        followers=creators.followers(db, "store", store.id),
        new_arrivals=cards_for(db, clock, shelves.new_arrivals(db, store.id), pay_later_room=room),
        best_sellers=cards_for(db, clock, shelves.best_sellers(db, store.id), pay_later_room=room),
        videos=[v.id for v in videos.list_videos(db, store_id=store.id, creator_id=None, before_id=None, limit=12)],
        live_session_id=live.on_air_in_store(db, store.id),
    )


ShelfSort = Literal["relevance", "sales", "price_asc", "price_desc", "newest"]
ShelfPage = Annotated[
    int, Query(ge=1, le=10_000, description="Page number (20 cards a page)."), BeforeValidator(digits_only)
]


def shelf_out(shelf: shelves.Shelf) -> ShelfOut:
    return ShelfOut(
        sort=shelf.sort,
        page=shelf.page,
        pages=shelf.pages,
        total=shelf.total,
        items=[card_out(c) for c in shelf.cards],
    )


@router.get("/stores/{store_id}/shelf", response_model=ShelfOut, tags=["shelf"], summary="A store's products, sorted")
def store_shelf(
    db: ReadDB,
    clock: ClockDep,
    actor: ActorDep,
    store_id: int = id_path(),
    sort: ShelfSort = "sales",
    page: ShelfPage = 1,
) -> ShelfOut:
    """What the store page lists below its sections; a page past the end is the last page."""
    store = merchants.get_store(db, actor, store_id)
    return shelf_out(shelves.shelf_page(db, clock, shelves.ShelfQuery(store_id=store.id, sort=sort, page=page)))


@router.get(
    "/categories/{category_id}/shelf",
    response_model=CategoryShelfOut,
    tags=["shelf"],
    summary="A category's products, sorted, and (page 1) a ranked section",
)
def category_shelf(
    request: Request,
    db: DB,
    rdb: ReadDB,
    clock: ClockDep,
    settings: SettingsDep,
    actor: ActorDep,
    category_id: int = id_path(),
    sort: ShelfSort = "sales",
    page: ShelfPage = 1,
) -> CategoryShelfOut:
    """The mall's category page: products on sale anywhere under the category (404 for an unknown one)."""
    node = categories.get_category(rdb, category_id)
    room = credit.shopper_room(rdb, settings, actor)
    shelf = shelves.shelf_page(
        rdb, clock, shelves.ShelfQuery(category_id=node.id, sort=sort, page=page), pay_later_room=room
    )
    return CategoryShelfOut(
        **shelf_out(shelf).model_dump(),
        recommended=recommended_out(request, db, rdb, clock, actor, room, node)
        if shelves.has_ranked_section(shelf)
        else None,
    )


@router.get(
    "/analytics/sales",
    response_model=SalesOut,
    tags=["analytics"],
    summary="GMV, orders and buyers by format (surface) or by creator",
)
def sales(
    db: ReadDB,
    actor: ActorDep,
    by: str = Query("surface", pattern="^(surface|creator)$"),
    store_id: int | None = id_query(),
    creator_id: int | None = id_query(),
    since: QueryTime | None = None,
    until: QueryTime | None = None,
) -> SalesOut:
    rows = attribution.split(db, actor, by=by, since=since, until=until, store_id=store_id, creator_id=creator_id)
    items = [
        SalesSplitOut(key=r.key, gmv=MoneyOut.fen(r.gmv_fen), orders=r.orders, buyers=r.buyers, units=r.units)
        for r in rows
    ]
    return SalesOut(by=by, items=items, total=MoneyOut.fen(sum(r.gmv_fen for r in rows)))
