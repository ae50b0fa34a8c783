"""Favourites (我的收藏) and followed stores (关注的店铺), as a shopper keeps them.

- Favouriting is idempotent: favouriting a product twice is one favourite (one row per shopper and
  product, kept by a unique constraint; a concurrent duplicate finds the winner's row). Unfavouriting
  what is not a favourite is not an error either. Only buyers (shoppers, creators) keep favourites, and
  only of products they can see (a draft or a closed store's product is a 404).
- A favourite stays when its product is delisted or sold out: the list says so (`state`) rather than
  letting it vanish, as a shopper expects of a wish list.
- Followed stores are the `follows` rows of `content.creators` (`do_follow`, also idempotent); this
  module lists them with what a shopper wants to see: the store, whether it is open, its products on sale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from yinli.catalog import service as catalog
from yinli.catalog.cards import ProductCard, build_cards
from yinli.catalog.models import Product, ProductStatus, Sku
from yinli.content.models import Favourite, Follow
from yinli.core.auth import Actor, Role, require_role
from yinli.core.clock import Clock
from yinli.core.db import unique_or
from yinli.core.errors import Conflict
from yinli.inventory import service as inventory
from yinli.merchants.models import Store, StoreStatus

BUYER_ROLES = (Role.SHOPPER, Role.CREATOR)
MAX_LISTED = 200  # favourites and followed stores a page lists (newest first)

FavouriteState = Literal["on_sale", "sold_out", "off_sale"]


def _buyer(actor: Actor | None) -> Actor:
    return require_role(actor, *BUYER_ROLES)


def favourite_ids(session: Session, shopper_id: int) -> list[int]:
    """The shopper's favourite products' ids (the hearts on cards and product pages)."""
    return list(session.scalars(select(Favourite.product_id).where(Favourite.shopper_id == shopper_id)))


def _find(session: Session, shopper_id: int, product_id: int) -> Favourite | None:
    return session.scalar(
        select(Favourite).where(Favourite.shopper_id == shopper_id, Favourite.product_id == product_id)
    )


def do_favourite(session: Session, clock: Clock, actor: Actor | None, product_id: int) -> tuple[Favourite, bool]:
    """Keep a product; (the favourite, whether it is new). Favouriting again changes nothing."""
    actor = _buyer(actor)
    catalog.get_product(session, actor, product_id)  # one the caller can see, else 404
    existing = _find(session, actor.user_id, product_id)
    if existing is not None:
        return existing, False
    favourite = Favourite(shopper_id=actor.user_id, product_id=product_id, created_at=clock.now())
    try:
        with unique_or(session):
            session.add(favourite)
    except Conflict:  # a concurrent favourite of the same product won: that one is ours too
        winner = _find(session, actor.user_id, product_id)
        if winner is None:
            raise
        return winner, False
    return favourite, True


def do_unfavourite(session: Session, actor: Actor | None, product_id: int) -> bool:
    """Stop keeping a product; whether it was a favourite (not being one is no error)."""
    actor = _buyer(actor)
    result = session.execute(
        delete(Favourite).where(Favourite.shopper_id == actor.user_id, Favourite.product_id == product_id)
    )
    session.flush()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def is_favourite(session: Session, actor: Actor | None, product_id: int) -> bool:
    if actor is None or actor.role not in BUYER_ROLES:
        return False
    return _find(session, actor.user_id, product_id) is not None


@dataclass(frozen=True)
class FavouriteView:
    favourite: Favourite
    card: ProductCard
    state: FavouriteState  # on sale, sold out (every active SKU), or no longer on sale
    available: int  # units left over the product's active SKUs


def list_favourites(
    session: Session, clock: Clock, actor: Actor | None, *, pay_later_room: int = 0, product_id: int | None = None
) -> list[FavouriteView]:
    """The caller's favourites (or the one of `product_id`), newest first, each with its card (the one
    final price), whether it is still on sale and how many units are left."""
    actor = _buyer(actor)
    query = select(Favourite).where(Favourite.shopper_id == actor.user_id)
    if product_id is not None:
        query = query.where(Favourite.product_id == product_id)
    rows = list(session.scalars(query.order_by(Favourite.id.desc()).limit(MAX_LISTED)))
    if not rows:
        return []
    products = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_([r.product_id for r in rows])))}
    ordered = [products[r.product_id] for r in rows]
    cards = {c.product_id: c for c in build_cards(session, clock, ordered, pay_later_room=pay_later_room)}
    skus = list(session.execute(select(Sku.id, Sku.product_id).where(Sku.product_id.in_(products), Sku.is_active)))
    left = inventory.available(session, [s for s, _ in skus]) if skus else {}
    units: dict[int, int] = {}
    for sku_id, product_id in skus:
        units[product_id] = units.get(product_id, 0) + max(0, left.get(sku_id, 0))
    stores = dict(
        session.execute(select(Store.id, Store.status).where(Store.id.in_({p.store_id for p in ordered}))).all()
    )
    views = []
    for row in rows:
        product = products[row.product_id]
        on_sale = product.status == ProductStatus.LISTED and stores.get(product.store_id) == StoreStatus.ACTIVE
        available = units.get(product.id, 0)
        state: FavouriteState = "off_sale" if not on_sale else "on_sale" if available > 0 else "sold_out"
        views.append(FavouriteView(row, cards[product.id], state, available))
    return views


@dataclass(frozen=True)
class FollowedStoreView:
    store: Store
    follow: Follow
    is_open: bool
    products_on_sale: int


def list_followed_stores(session: Session, actor: Actor | None) -> list[FollowedStoreView]:
    """The stores the caller follows, newest first, with whether each is open and how many products
    it has on sale."""
    actor = _buyer(actor)
    follows = list(
        session.scalars(
            select(Follow)
            .where(Follow.follower_id == actor.user_id, Follow.target_type == "store")
            .order_by(Follow.id.desc())
            .limit(MAX_LISTED)
        )
    )
    if not follows:
        return []
    ids = [f.target_id for f in follows]
    stores = {s.id: s for s in session.scalars(select(Store).where(Store.id.in_(ids)))}
    counts = dict(
        session.execute(
            select(Product.store_id, func.count())
            .where(Product.store_id.in_(ids), Product.status == ProductStatus.LISTED)
            .group_by(Product.store_id)
        ).all()
    )
    views = []
    for f in follows:
        store = stores.get(f.target_id)
        if store is not None:
            views.append(FollowedStoreView(store, f, store.status == StoreStatus.ACTIVE, counts.get(store.id, 0)))
    return views


def follows_store(session: Session, actor: Actor | None, store_id: int) -> bool:
    if actor is None:
        return False
    found = session.scalar(
        select(Follow.id).where(
            Follow.follower_id == actor.user_id, Follow.target_type == "store", Follow.target_id == store_id
        )
    )
    return found is not None


__all__ = [
    "FavouriteView",
    "FollowedStoreView",
    "do_favourite",
    "do_unfavourite",
    "favourite_ids",
    "follows_store",
    "is_favourite",
    "list_favourites",
    "list_followed_stores",
]
