"""Favourites (我的收藏, /favourites) and followed stores (关注的店铺, /following), the heart on cards and
product pages, and the follow button on store pages. Rules: `content.favourites` (idempotent favourites,
what is still on sale) and `content.creators` (follows)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from yinli.api.deps import DB, ClockDep, ReadDB
from yinli.content import creators, favourites
from yinli.core.auth import Role
from yinli.merchants import service as merchants
from yinli.web.core import FormDep, WebDep, WebRoute, require_roles, safe_next

router = APIRouter(route_class=WebRoute, include_in_schema=False)

BUYERS = (Role.SHOPPER, Role.CREATOR)


@router.get("/favourites", response_class=HTMLResponse)
def favourites_page(web: WebDep, db: ReadDB, clock: ClockDep) -> Response:
    require_roles(web, *BUYERS)
    views = favourites.list_favourites(db, clock, web.actor, pay_later_room=web.pay_later_room(db))
    return web.render("shop/favourites.html", views=views, tab="account")


@router.get("/following", response_class=HTMLResponse)
def following_page(web: WebDep, db: ReadDB) -> Response:
    require_roles(web, *BUYERS)
    return web.render("shop/following.html", views=favourites.list_followed_stores(db, web.actor), tab="account")


@router.post("/p/{product_id}/favourite", response_class=HTMLResponse)
def favourite(product_id: int, form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    """`on=1` favourites, `on=0` unfavourites (both idempotent: a double click changes nothing more)."""
    actor = require_roles(web, *BUYERS)
    on = form.get("on") != "0"
    if on:
        favourites.do_favourite(db, clock, actor, product_id)
    else:
        favourites.do_unfavourite(db, actor, product_id)
    db.commit()
    if web.is_htmx:
        return web.render("shop/_fav.html", product_id=product_id, on=on, inline=form.get("inline") == "1")
    return web.redirect(safe_next(form.get("next"), "/favourites"), flash="favourited" if on else "unfavourited")


def _follow_answer(web: WebDep, db: DB, store_id: int, following: bool, form: FormDep) -> Response:
    if web.is_htmx:
        return web.render("shop/_follow.html", store=merchants.get_store(db, web.actor, store_id), following=following)
    return web.redirect(safe_next(form.get("next"), f"/s/{store_id}"), flash="followed" if following else "unfollowed")


@router.post("/s/{store_id}/follow", response_class=HTMLResponse)
def follow(store_id: int, form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    actor = require_roles(web, *BUYERS)
    merchants.get_store(db, actor, store_id)  # one the caller can see, else the 404 page
    creators.do_follow(db, clock, actor, "store", store_id)
    db.commit()
    return _follow_answer(web, db, store_id, True, form)


@router.post("/s/{store_id}/unfollow", response_class=HTMLResponse)
def unfollow(store_id: int, form: FormDep, web: WebDep, db: DB) -> Response:
    actor = require_roles(web, *BUYERS)
    creators.do_unfollow(db, actor, "store", store_id, missing_ok=True)
    db.commit()
    return _follow_answer(web, db, store_id, False, form)


__all__ = ["router"]
