"""The merchant console's content pages: live sessions (/merchant/live), short videos (/merchant/videos)
and affiliate plans (/merchant/affiliate).

Everything goes through `yinli.content` (live, videos, affiliate). Pages are scoped to the signed-in
merchant's store: another store's session, video or plan is a 404 here, as if it did not exist, and the
services refuse to change it (they check the host / author / store themselves).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from yinli.api.deps import DB, ClockDep, ReadDB, SettingsDep
from yinli.catalog import cards
from yinli.catalog import service as catalog
from yinli.catalog.models import ProductStatus
from yinli.content import affiliate, creators, live, videos
from yinli.content.schemas import PlanIn, ProductIdsIn, RoomIn, SessionIn, VideoIn
from yinli.core.clock import Clock
from yinli.core.errors import DomainError, InvalidInput, NotFound
from yinli.core.parsing import parse_id
from yinli.web.core import (
    FormDep,
    FormErrors,
    Web,
    WebDep,
    WebRoute,
    field_errors,
    parse_int,
    parse_percent,
    parse_when,
    status_of,
)
from yinli.web.merchant import _store_id

router = APIRouter(prefix="/merchant", route_class=WebRoute, include_in_schema=False)


def _ids(values: list[str]) -> list[int]:
    return [n for v in values if (n := parse_id(v)) is not None]


def _products(web: Web, db: Session, store_id: int, *, listed: bool = True) -> list[Any]:
    status = ProductStatus.LISTED if listed else None
    return catalog.list_products(
        db, web.actor, catalog.ProductFilter(store_id=store_id, status=status), before_id=None, limit=200
    )


def _action_errors(web: Web, exc: DomainError | ValidationError) -> FormErrors:
    """A failed button (start, present, end, remove): what went wrong, shown at the top."""
    errors = field_errors(web, exc)
    errors.general = errors.general or next(iter(errors.values()), None)
    return errors


# --- live sessions -----------------------------------------------------------------------------------------


def _render_live(
    web: Web,
    db: Session,
    store_id: int,
    *,
    form: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
    room_form: dict[str, str] | None = None,
    room_errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    room = live.room_of_store(db, store_id)
    sessions = live.sessions_of_room(db, room.id) if room else []
    return web.render(
        "merchant/live.html",
        status_code=status_code,
        room=room,
        sessions=sessions,
        stats={s.id: live.stats(db, s) for s in sessions},
        products=_products(web, db, store_id),
        form=form or {"product_ids": []},
        errors=errors or FormErrors(),
        room_form=room_form or {},
        room_errors=room_errors or FormErrors(),
        section="live",
    )


@router.get("/live", response_class=HTMLResponse)
def live_page(web: WebDep, db: ReadDB) -> Response:
    return _render_live(web, db, _store_id(web))


@router.post("/live/room", response_class=HTMLResponse)
def open_room(form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    store_id = _store_id(web)
    try:
        body = RoomIn.model_validate({"title": form.text("title"), "cover_url": form.optional("cover_url")})
        live.do_open_room(db, clock, web.actor, title=body.title, cover_url=body.cover_url)
        db.commit()
    except (DomainError, ValidationError) as exc:
        db.rollback()
        errors = field_errors(web, exc)
        return _render_live(web, db, store_id, room_form=dict(form), room_errors=errors, status_code=status_of(exc))
    return web.redirect("/merchant/live", flash="room_opened")


@router.post("/live/sessions", response_class=HTMLResponse)
def schedule(form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    store_id = _store_id(web)
    errors, status = FormErrors(), 422
    when = parse_when(web, errors, "scheduled_at", form.get("scheduled_at", ""))
    product_ids = _ids(form.getlist("product_ids"))
    if not errors:
        try:
            room = live.room_of_store(db, store_id)
            if room is None:
                raise InvalidInput("open your live room first", field="title")
            body = SessionIn.model_validate(
                {"title": form.text("title"), "scheduled_at": when, "product_ids": product_ids}
            )
            session = live.do_schedule(
                db,
                clock,
                web.actor,
                room.id,
                title=body.title,
                scheduled_at=body.scheduled_at,
                product_ids=body.product_ids,
            )
            db.commit()
            return web.redirect(f"/merchant/live/{session.id}", flash="scheduled")
        except (DomainError, ValidationError) as exc:
            db.rollback()
            status = status_of(exc)
            errors = field_errors(web, exc, {f"product_ids.{i}": "product_ids" for i in range(100)})
            if "status" in errors:
                errors.general = errors.pop("status")
    shown = {**form, "product_ids": [str(i) for i in product_ids]}
    return _render_live(web, db, store_id, form=shown, errors=errors, status_code=status)


def _own_session(web: Web, db: Session, session_id: int) -> Any:
    """The session, if it is in this store's room (another store's: 404, as if it did not exist)."""
    store_id = _store_id(web)
    session = live.get_session(db, session_id)
    if live.get_room(db, session.room_id).store_id != store_id:
        raise NotFound(f"no live session {session_id}", field="session_id")
    return session


def _render_session(
    web: Web,
    db: Session,
    clock: Clock,
    session_id: int,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    session = _own_session(web, db, session_id)
    products = live.session_products(db, session.id)
    in_list = {p.id for p in products}
    return web.render(
        "merchant/live_session.html",
        status_code=status_code,
        session=session,
        products=products,
        cards={c.product_id: c for c in cards.build_cards(db, clock, products)},
        stats=live.stats(db, session),
        addable=[p for p in _products(web, db, _store_id(web)) if p.id not in in_list],
        errors=errors or FormErrors(),
        section="live",
    )


@router.get("/live/{session_id}", response_class=HTMLResponse)
def session_page(session_id: int, web: WebDep, db: ReadDB, clock: ClockDep) -> Response:
    return _render_session(web, db, clock, session_id)


def _session_action(
    web: Web, db: Session, clock: Clock, session_id: int, flash: str, action: Any, **fields: str
) -> Response:
    _own_session(web, db, session_id)
    try:
        action()
        db.commit()
    except (DomainError, ValidationError) as exc:
        db.rollback()
        errors = _action_errors(web, exc)
        return _render_session(web, db, clock, session_id, errors, status_of(exc))
    return web.redirect(f"/merchant/live/{session_id}", flash=flash)


@router.post("/live/{session_id}/start", response_class=HTMLResponse)
def start(session_id: int, form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    return _session_action(
        web, db, clock, session_id, "live_started", lambda: live.do_go_live(db, clock, web.actor, session_id)
    )


@router.post("/live/{session_id}/present", response_class=HTMLResponse)
def present(session_id: int, form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    product_id = parse_id(form.text("product_id")) or 0
    return _session_action(
        web, db, clock, session_id, "presented", lambda: live.do_present(db, clock, web.actor, session_id, product_id)
    )


@router.post("/live/{session_id}/end", response_class=HTMLResponse)
def end(session_id: int, form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    return _session_action(
        web, db, clock, session_id, "live_ended", lambda: live.do_end(db, clock, web.actor, session_id)
    )


@router.post("/live/{session_id}/products", response_class=HTMLResponse)
def add_products(session_id: int, form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    def add() -> None:
        body = ProductIdsIn.model_validate({"product_ids": _ids(form.getlist("product_ids"))})
        live.do_add_products(db, clock, web.actor, session_id, body.product_ids)

    return _session_action(web, db, clock, session_id, "products_added", add)


# --- short videos ------------------------------------------------------------------------------------------


def _render_videos(
    web: Web,
    db: Session,
    store_id: int,
    *,
    form: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    rows = videos.list_videos(db, store_id=store_id, creator_id=None, before_id=None, limit=100)
    return web.render(
        "merchant/videos.html",
        status_code=status_code,
        videos=rows,
        stats={v.id: videos.stats(db, v) for v in rows},
        linked={v.id: videos.linked_products(db, v.id) for v in rows},
        products=_products(web, db, store_id),
        form=form or {"product_ids": [], "duration_seconds": "30"},
        errors=errors or FormErrors(),
        section="videos",
    )


@router.get("/videos", response_class=HTMLResponse)
def videos_page(web: WebDep, db: ReadDB) -> Response:
    return _render_videos(web, db, _store_id(web))


@router.post("/videos", response_class=HTMLResponse)
def publish(form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    store_id = _store_id(web)
    errors, status = FormErrors(), 422
    duration = parse_int(web, errors, "duration_seconds", form.get("duration_seconds", ""))
    product_ids = _ids(form.getlist("product_ids"))
    if not errors:
        try:
            body = VideoIn.model_validate(
                {
                    "title": form.text("title"),
                    "duration_seconds": duration,
                    "cover_url": form.text("cover_url"),
                    "video_url": form.text("video_url"),
                    "product_ids": product_ids,
                }
            )
            videos.do_publish(db, clock, web.actor, **body.model_dump())
            db.commit()
            return web.redirect("/merchant/videos", flash="published")
        except (DomainError, ValidationError) as exc:
            db.rollback()
            status = status_of(exc)
            errors = field_errors(web, exc, {f"product_ids.{i}": "product_ids" for i in range(100)})
    shown = {**form, "product_ids": [str(i) for i in product_ids]}
    return _render_videos(web, db, store_id, form=shown, errors=errors, status_code=status)


@router.post("/videos/{video_id}/remove", response_class=HTMLResponse)
def remove_video(video_id: int, form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    store_id = _store_id(web)
    video = videos.get_video(db, video_id, web.actor)
    if video.store_id != store_id:
        raise NotFound(f"no video {video_id}", field="video_id")
    videos.do_remove(db, clock, web.actor, video_id)
    db.commit()
    return web.redirect("/merchant/videos", flash="removed")


# --- affiliate plans ---------------------------------------------------------------------------------------


def _render_affiliate(
    web: Web,
    db: Session,
    clock: Clock,
    store_id: int,
    *,
    form: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    plans = affiliate.plans_of_store(db, store_id)
    creator_ids = sorted({p.creator_id for p in plans if p.creator_id is not None})
    commissions = affiliate.commissions_of(db, web.actor, store_id=store_id, limit=50)  # type: ignore[arg-type]
    creator_ids = sorted(set(creator_ids) | {c.creator_id for c in commissions})
    return web.render(
        "merchant/affiliate.html",
        status_code=status_code,
        plans=plans,
        titles={p.id: p.title for p in _products(web, db, store_id, listed=False)},
        creators={c: creators.get_creator(db, clock, c) for c in creator_ids},
        commissions=commissions,
        products=_products(web, db, store_id),
        form=form or {},
        errors=errors or FormErrors(),
        section="affiliate",
    )


@router.get("/affiliate", response_class=HTMLResponse)
def affiliate_page(web: WebDep, db: ReadDB, clock: ClockDep) -> Response:
    return _render_affiliate(web, db, clock, _store_id(web))


@router.post("/affiliate", response_class=HTMLResponse)
def open_plan(form: FormDep, web: WebDep, db: DB, clock: ClockDep, settings: SettingsDep) -> Response:
    store_id = _store_id(web)
    errors, status = FormErrors(), 422
    product_id = parse_int(web, errors, "product_id", form.get("product_id", ""))
    rate = parse_percent(web, errors, "rate", form.get("rate", ""))
    creator_id = parse_int(web, errors, "creator_id", form.get("creator_id", ""), required=False)
    if not errors:
        try:
            body = PlanIn.model_validate({"product_id": product_id, "rate_bps": rate, "creator_id": creator_id})
            affiliate.do_open_plan(
                db,
                clock,
                web.actor,
                product_id=body.product_id,
                rate_bps=body.rate_bps,
                creator_id=body.creator_id,
                settings=settings,
            )
            db.commit()
            return web.redirect("/merchant/affiliate", flash="plan_opened")
        except (DomainError, ValidationError) as exc:
            db.rollback()
            status = status_of(exc)
            errors = field_errors(web, exc, {"rate_bps": "rate"})
    return _render_affiliate(web, db, clock, store_id, form=dict(form), errors=errors, status_code=status)


@router.post("/affiliate/{plan_id}/end", response_class=HTMLResponse)
def end_plan(plan_id: int, form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    store_id = _store_id(web)
    try:
        affiliate.do_end_plan(db, clock, web.actor, plan_id)  # another store's plan: 404
        db.commit()
    except DomainError as exc:
        db.rollback()
        if exc.status == 404:
            raise
        return _render_affiliate(web, db, clock, store_id, errors=_action_errors(web, exc), status_code=exc.status)
    return web.redirect("/merchant/affiliate", flash="plan_ended")


__all__ = ["router"]
