"""Short videos on the storefront (/v/{video_id}): the video with its plays, likes and shares, the
products it links with their one final price, and buying without leaving the video — the same checkout
sheet as a live room, attributed to surface `short_video` with the video as its source.

Plays, likes and shares are recorded through `yinli.content.videos.do_record_view` (one call is one
play): the player reports a finished play by HTMX; the like and share buttons are plain forms (a like
or share is recorded as a play carrying that flag). Without JavaScript, "buy" goes to the checkout page
with the same attribution.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from yinli.api.deps import DB, ClockDep, ReadDB, SettingsDep
from yinli.catalog import cards
from yinli.catalog import service as catalog
from yinli.catalog.pricing import unit_prices
from yinli.content import creators, videos
from yinli.content.schemas import ViewIn
from yinli.core.clock import Clock
from yinli.core.errors import DomainError
from yinli.core.parsing import number_or_text
from yinli.inventory import service as inventory
from yinli.merchants.models import Store
from yinli.orders.models import Surface
from yinli.web.core import FormDep, FormErrors, Web, WebDep, WebRoute, field_errors, require_signed_in
from yinli.web.live import BUYERS, open_sheet, place_and_pay, sheet_line

router = APIRouter(prefix="/v", route_class=WebRoute, include_in_schema=False)


def _page(web: Web, db: Session, clock: Clock, video_id: int) -> dict[str, Any]:
    video = videos.get_video(db, video_id, web.actor)
    products = [p for p in videos.linked_products(db, video.id) if catalog.can_see_product(db, web.actor, p)]
    skus = {p.id: [s for s in catalog.skus_of(db, p.id) if s.is_active] for p in products}
    author: dict[str, Any] = {}
    if video.store_id is not None:
        store = db.get(Store, video.store_id)
        author = {"name": store.name if store else "", "url": f"/s/{video.store_id}"}
    elif video.creator_id is not None:
        creator = creators.get_creator(db, clock, video.creator_id)
        author = {"name": creator.display_name + (f" @{creator.handle}" if creator.handle else ""), "url": None}
    more = [
        v
        for v in videos.list_videos(db, store_id=video.store_id, creator_id=video.creator_id, before_id=None, limit=7)
        if v.id != video.id
    ][:6]
    return {
        "video": video,
        "stats": videos.stats(db, video),
        "author": author,
        "products": products,
        "cards": {
            c.product_id: c for c in cards.build_cards(db, clock, products, pay_later_room=web.pay_later_room(db))
        },
        "skus": skus,
        "stock": inventory.available(db, [s.id for ss in skus.values() for s in ss]) if products else {},
        "prices": unit_prices(db, clock.now(), (s for ss in skus.values() for s in ss)),
        "more": more,
        "tab": "feed",
    }


@router.get("/{video_id}", response_class=HTMLResponse)
def video_page(video_id: int, web: WebDep, db: ReadDB, clock: ClockDep) -> Response:
    return web.render("shop/video.html", errors=FormErrors(), **_page(web, db, clock, video_id))


@router.post("/{video_id}/view", response_class=HTMLResponse)
def record_view(video_id: int, form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    """One play (the player, when it ends; the like and share buttons). Anonymous viewers just watch."""
    if web.actor is None:
        if web.is_htmx:
            return Response(status_code=204)
        require_signed_in(web)  # a like without an account: sign in first (then back to the video)
    liked, shared = form.get("liked") == "on", form.get("shared") == "on"
    try:
        body = ViewIn.model_validate(
            {"watched_seconds": number_or_text(form.text("watched_seconds") or "0"), "liked": liked, "shared": shared}
        )
        videos.do_record_view(
            db, clock, web.actor, video_id, watched_seconds=body.watched_seconds, liked=body.liked, shared=body.shared
        )
        db.commit()
    except (DomainError, ValidationError) as exc:
        db.rollback()
        errors = field_errors(web, exc)  # a 404 (no such video) is raised again: the error page
        if web.is_htmx:
            return web.render("shop/_toast.html", errors=errors)
        errors.general = errors.general or next(iter(errors.values()), None)
        return web.render("shop/video.html", status_code=422, errors=errors, **_page(web, db, clock, video_id))
    if web.is_htmx:
        return Response(status_code=204)
    flash = "liked" if liked else "shared" if shared else None
    return web.redirect(f"/v/{video_id}", flash=flash)


@router.post("/{video_id}/buy", response_class=HTMLResponse)
def buy(video_id: int, form: FormDep, web: WebDep, db: ReadDB, settings: SettingsDep) -> Response:
    videos.get_video(db, video_id, web.actor)
    return open_sheet(web, db, settings, f"/v/{video_id}", sheet_line(form, Surface.SHORT_VIDEO, video_id))


@router.post("/{video_id}/order", response_class=HTMLResponse)
def order(
    video_id: int, request: Request, form: FormDep, web: WebDep, db: DB, clock: ClockDep, settings: SettingsDep
) -> Response:
    line = sheet_line(form, Surface.SHORT_VIDEO, video_id)
    return place_and_pay(request, web, form, db, clock, settings, f"/v/{video_id}", line)


__all__ = ["BUYERS", "router"]
