"""Favourites and followed stores under the caller's account (/me/favourites, /me/followed-stores).
Mounted by `content.api`'s router (the domain's one router); following itself is `POST /follows`."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from yinli.api.deps import DB, ActorDep, ClockDep, ReadDB, SettingsDep, id_path
from yinli.catalog.schemas import card_out
from yinli.content import favourites
from yinli.content.schemas import FavouriteOut, FollowedStoreOut
from yinli.guarantees import credit

router = APIRouter(tags=["content"])


def favourite_out(view: favourites.FavouriteView) -> FavouriteOut:
    return FavouriteOut(
        product_id=view.favourite.product_id,
        created_at=view.favourite.created_at,
        state=view.state,
        available=view.available,
        card=card_out(view.card),
    )


@router.get("/me/favourites", response_model=list[FavouriteOut], summary="The caller's favourite products")
def list_favourites(db: ReadDB, clock: ClockDep, settings: SettingsDep, actor: ActorDep) -> list[FavouriteOut]:
    room = credit.shopper_room(db, settings, actor)
    return [favourite_out(v) for v in favourites.list_favourites(db, clock, actor, pay_later_room=room)]


@router.put(
    "/me/favourites/{product_id}",
    status_code=201,
    response_model=FavouriteOut,
    summary="Favourite a product (idempotent: 200 when it already is one)",
)
def favourite(db: DB, clock: ClockDep, actor: ActorDep, product_id: int = id_path()) -> JSONResponse:
    _, created = favourites.do_favourite(db, clock, actor, product_id)
    db.commit()
    view = favourites.list_favourites(db, clock, actor, product_id=product_id)[0]
    return JSONResponse(favourite_out(view).model_dump(mode="json"), status_code=201 if created else 200)


@router.delete(
    "/me/favourites/{product_id}", status_code=204, summary="Unfavourite a product (no error if it was not one)"
)
def unfavourite(db: DB, actor: ActorDep, product_id: int = id_path()) -> Response:
    favourites.do_unfavourite(db, actor, product_id)
    db.commit()
    return Response(status_code=204)


@router.get("/me/followed-stores", response_model=list[FollowedStoreOut], summary="The stores the caller follows")
def followed_stores(db: ReadDB, actor: ActorDep) -> list[FollowedStoreOut]:
    return [
        FollowedStoreOut(
            store_id=v.store.id,
            name=v.store.name,
            logo_url=v.store.logo_url,
            is_open=v.is_open,
            products_on_sale=v.products_on_sale,
            followed_at=v.follow.created_at,
        )
        for v in favourites.list_followed_stores(db, actor)
    ]
