"""The feed's serving snapshot: the catalog, content and shoppers as numpy arrays (DESIGN rule 9).

Built in the background (`load_catalog` reads the database in a few bulk queries, `assemble` joins it
with the decayed features) and swapped in whole, so a feed request reads one consistent, immutable
snapshot and never queries per candidate.

Every feed item — product card, video, live session — has a *global index* into the same arrays:
products first, then videos, then live sessions. Content items carry the product they sell (for price,
category and store), so one scoring code path serves all three formats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yinli.catalog.models import Category, Product, ProductStatus, Sku
from yinli.catalog.pricing import unit_prices
from yinli.content.models import Follow, LiveRoom, LiveSession, LiveSessionProduct, ShortVideo, VideoProduct
from yinli.inventory.models import Stock
from yinli.merchants.models import Store, StoreStatus
from yinli.merchants.service import Policy, is_new_merchant
from yinli.orders.metrics import StoreMetrics
from yinli.traffic import ranking
from yinli.traffic.features import FeatureStore, Priors, rates

PRODUCT, VIDEO, LIVE = 0, 1, 2
FORMATS = ("product", "video", "live")
RECENT_VIDEO_DAYS = 14
TRENDING = 300
CONTENT_POOL = 200


@dataclass
class Catalog:
    """Raw catalog arrays, from the database (`load_catalog`) or built directly (benchmarks, simulators)."""

    product_ids: np.ndarray  # int64, ascending
    product_store: np.ndarray  # store id
    product_category: np.ndarray  # leaf category id
    price_fen: np.ndarray  # the one final price of the cheapest SKU
    list_price_fen: np.ndarray  # its reference price (= price when none)
    title_noise: np.ndarray  # ranking.title_noise of the title
    rating_sum: np.ndarray
    rating_count: np.ndarray
    sales: np.ndarray
    listed_at: np.ndarray  # epoch seconds
    store_ids: np.ndarray  # active stores, ascending
    store_new: np.ndarray  # bool: in the new-merchant window
    store_experience: np.ndarray  # ranking.store_experience
    category_ids: np.ndarray  # every category id, ascending
    category_root: np.ndarray  # its level-1 ancestor
    video_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    video_store: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # 0: by a creator
    video_creator: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    video_product: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    video_published: np.ndarray = field(default_factory=lambda: np.zeros(0))
    video_completion: np.ndarray = field(default_factory=lambda: np.zeros(0))
    live_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    live_store: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    live_creator: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    live_product: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    live_viewers: np.ndarray = field(default_factory=lambda: np.zeros(0))
    follows: dict[int, tuple[list[int], list[int]]] = field(default_factory=dict)  # shopper -> (stores, creators)


def _arr(values: list, dtype: type) -> np.ndarray:
    return np.asarray(values, dtype=dtype)


def load_catalog(session: Session, now: datetime, policy: Policy) -> Catalog:
    """What the feed may show, in bulk queries: listed in-stock products of active stores, live sessions,
    recent videos, follows, store quality and the category tree."""
    cats = session.execute(select(Category.id, Category.parent_id).order_by(Category.id)).all()
    parent = {c: p for c, p in cats}

    def root(c: int) -> int:
        while parent.get(c) is not None:
            c = parent[c]  # type: ignore[assignment]
        return c

    stores = list(session.scalars(select(Store).where(Store.status == StoreStatus.ACTIVE.value).order_by(Store.id)))
    metrics = {m.store_id: m for m in session.scalars(select(StoreMetrics))}
    m = [metrics.get(s.id) for s in stores]

    def col(name: str) -> np.ndarray:
        return np.asarray([getattr(x, name) if x is not None else 0 for x in m], dtype=float)

    experience = ranking.store_experience(
        col("orders_paid"),
        col("good_reviews"),
        col("reviews"),
        col("shipped_on_time"),
        col("orders_shipped"),
        col("refunds"),
        col("complaints"),
    )
    in_stock = set(
        session.scalars(
            select(Sku.product_id)
            .join(Stock, Stock.sku_id == Sku.id)
            .where(Sku.is_active.is_(True), Stock.on_hand - Stock.reserved > 0)
            .distinct()
        )
    )
    active = {s.id for s in stores}
    rows = session.execute(
        select(
            Product.id,
            Product.store_id,
            Product.category_id,
            Product.title,
            Product.rating_sum,
            Product.rating_count,
            Product.sales_count,
            Product.listed_at,
        )
        .where(Product.status == ProductStatus.LISTED.value)
        .order_by(Product.id)
    ).all()
    rows = [r for r in rows if r.store_id in active and r.id in in_stock]
    cheapest: dict[int, tuple[int, int]] = {}  # product: (final price, list price) of its cheapest SKU
    skus = session.execute(
        select(Sku.id, Sku.product_id, Sku.price_fen, Sku.list_price_fen, Sku.currency).where(Sku.is_active.is_(True))
    ).all()
    prices = unit_prices(session, now, skus)
    for sku in skus:
        unit = prices[sku.id]
        if sku.product_id not in cheapest or unit.final < cheapest[sku.product_id][0]:
            cheapest[sku.product_id] = (unit.final, unit.list_price)
    rows = [r for r in rows if r.id in cheapest]
    listed = {r.id for r in rows}
    videos = _videos(session, now, listed)
    lives = _lives(session, listed)
    follows: dict[int, tuple[list[int], list[int]]] = {}
    for follower, kind, target in session.execute(select(Follow.follower_id, Follow.target_type, Follow.target_id)):
        entry = follows.setdefault(follower, ([], []))
        entry[0 if kind == "store" else 1].append(target)
    return Catalog(
        product_ids=_arr([r.id for r in rows], np.int64),
        product_store=_arr([r.store_id for r in rows], np.int64),
        product_category=_arr([r.category_id for r in rows], np.int64),
        price_fen=_arr([cheapest[r.id][0] for r in rows], np.float64),
        list_price_fen=_arr([cheapest[r.id][1] for r in rows], np.float64),
        title_noise=_arr([ranking.title_noise(r.title) for r in rows], np.float64),
        rating_sum=_arr([r.rating_sum for r in rows], np.float64),
        rating_count=_arr([r.rating_count for r in rows], np.float64),
        sales=_arr([r.sales_count for r in rows], np.float64),
        listed_at=_arr([r.listed_at.timestamp() if r.listed_at else 0.0 for r in rows], np.float64),
        store_ids=_arr([s.id for s in stores], np.int64),
        store_new=_arr([is_new_merchant(s, policy, now) for s in stores], bool),
        store_experience=experience,
        category_ids=_arr([c for c, _ in cats], np.int64),
        category_root=_arr([root(c) for c, _ in cats], np.int64),
        follows=follows,
        **videos,
        **lives,
    )


def _videos(session: Session, now: datetime, listed: set[int]) -> dict[str, np.ndarray]:
    first = (
        select(VideoProduct.video_id, func.min(VideoProduct.position).label("pos"))
        .group_by(VideoProduct.video_id)
        .subquery()
    )
    found = session.execute(
        select(ShortVideo, VideoProduct.product_id)
        .join(first, first.c.video_id == ShortVideo.id)
        .join(VideoProduct, (VideoProduct.video_id == ShortVideo.id) & (VideoProduct.position == first.c.pos))
        .where(ShortVideo.status == "published", ShortVideo.published_at >= now - timedelta(days=RECENT_VIDEO_DAYS))
        .order_by(ShortVideo.id)
    ).all()
    rows = [(v, pid) for v, pid in found if pid in listed]
    return {
        "video_ids": _arr([v.id for v, _ in rows], np.int64),
        "video_store": _arr([v.store_id or 0 for v, _ in rows], np.int64),
        "video_creator": _arr([v.creator_id or 0 for v, _ in rows], np.int64),
        "video_product": _arr([pid for _, pid in rows], np.int64),
        "video_published": _arr([v.published_at.timestamp() for v, _ in rows], np.float64),
        "video_completion": _arr([(v.completed_views + 1) / (v.views + 3) for v, _ in rows], np.float64),
    }


def _lives(session: Session, listed: set[int]) -> dict[str, np.ndarray]:
    rows = session.execute(
        select(LiveSession, LiveRoom)
        .join(LiveRoom, LiveRoom.id == LiveSession.room_id)
        .where(LiveSession.status == "live")
    ).all()
    products: dict[int, list[int]] = {}
    ids = [s.id for s, _ in rows]
    if ids:
        for sid, product_id in session.execute(
            select(LiveSessionProduct.session_id, LiveSessionProduct.product_id)
            .where(LiveSessionProduct.session_id.in_(ids))
            .order_by(LiveSessionProduct.position)
        ):
            products.setdefault(sid, []).append(product_id)
    kept: list[tuple[LiveSession, LiveRoom, int]] = []
    for s, room in rows:
        shown = [s.presenting_product_id] if s.presenting_product_id else []
        sold = next((p for p in [*shown, *products.get(s.id, [])] if p in listed), None)
        if sold is not None:
            kept.append((s, room, sold))
    return {
        "live_ids": _arr([s.id for s, _, _ in kept], np.int64),
        "live_store": _arr([room.store_id or 0 for _, room, _ in kept], np.int64),
        "live_creator": _arr([room.creator_id or 0 for _, room, _ in kept], np.int64),
        "live_product": _arr([pid for _, _, pid in kept], np.int64),
        "live_viewers": _arr([s.viewers_now for s, _, _ in kept], np.float64),
    }


# --- the snapshot ------------------------------------------------------------------------------------


@dataclass
class Profile:
    """One shopper as the feed sees them: interests, follows, recent products (compact indices)."""

    shopper_id: int
    cats: np.ndarray  # compact category indices, strongest interest first
    cat_weight: np.ndarray
    root_weight: np.ndarray  # per compact root index
    follow_stores: np.ndarray  # store indices
    follow_creators: np.ndarray  # creator ids
    recent: np.ndarray  # product indices

    @property
    def cold(self) -> bool:
        return len(self.cats) == 0


@dataclass
class Snapshot:
    version: int
    built_at: float
    n_products: int
    kind: np.ndarray  # int8 PRODUCT | VIDEO | LIVE per global item
    item_id: np.ndarray
    product: np.ndarray  # global index of the product the item sells
    store: np.ndarray  # store index (-1: none)
    creator: np.ndarray  # creator id (0: none)
    cat: np.ndarray  # compact leaf category index
    root: np.ndarray  # compact root index
    price: np.ndarray
    ctr: np.ndarray
    cvr: np.ndarray
    impressions: np.ndarray
    watch_per_click: np.ndarray
    engagement_prior: np.ndarray  # sales (cards), completion (videos), viewers (live), in [0, 1]
    experience: np.ndarray
    noise: np.ndarray
    is_new: np.ndarray
    prior: np.ndarray  # shopper-free quality, orders the per-category and per-store lists
    store_ids: np.ndarray
    store_new: np.ndarray
    category_ids: np.ndarray
    root_ids: np.ndarray
    cat_root: np.ndarray  # compact category -> compact root
    cat_ptr: np.ndarray  # products of compact category c: cat_items[cat_ptr[c]:cat_ptr[c+1]], best first
    cat_items: np.ndarray
    root_ptr: np.ndarray
    root_items: np.ndarray
    store_ptr: np.ndarray
    store_items: np.ndarray
    trending: np.ndarray
    content: np.ndarray  # live sessions and the best recent videos
    new_pool: np.ndarray  # products of new merchants
    creator_content: dict[int, np.ndarray]
    follows: dict[int, tuple[np.ndarray, np.ndarray]]
    affinities: dict[int, dict[int, float]]  # shopper -> category id -> decayed interest
    recent: dict[int, list[int]]  # shopper -> product ids
    cf_ptr: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))  # co-engagement neighbours
    cf_items: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    ev_ref: float = 1.0
    ctr_ref: float = Priors.ctr
    watch_ref: float = 1.0

    @property
    def n(self) -> int:
        return len(self.kind)

    def product_index(self, product_ids: np.ndarray) -> np.ndarray:
        """Global indices of product ids (-1 where not in the snapshot)."""
        ids = self.item_id[: self.n_products]
        pos = np.searchsorted(ids, product_ids)
        pos = np.minimum(pos, max(len(ids) - 1, 0))
        found = (len(ids) > 0) & (ids[pos] == product_ids) if len(ids) else np.zeros(len(product_ids), bool)
        return np.where(found, pos, -1)

    def store_index(self, store_ids: np.ndarray) -> np.ndarray:
        pos = np.minimum(np.searchsorted(self.store_ids, store_ids), max(len(self.store_ids) - 1, 0))
        if not len(self.store_ids):
            return np.full(len(store_ids), -1)
        return np.where(self.store_ids[pos] == store_ids, pos, -1)

    def profile(self, shopper_id: int) -> Profile:
        interests = self.affinities.get(shopper_id, {})
        keys = np.fromiter(interests.keys(), np.int64, len(interests))
        cat_pos = np.minimum(np.searchsorted(self.category_ids, keys), max(len(self.category_ids) - 1, 0))
        weights = np.fromiter(interests.values(), np.float64, len(interests))
        ok = self.category_ids[cat_pos] == keys if len(self.category_ids) else np.zeros(len(keys), bool)
        cat_pos, weights = cat_pos[ok], weights[ok]
        order = np.argsort(-weights, kind="stable")
        cats, weights = cat_pos[order], weights[order]
        roots = np.zeros(len(self.root_ids))
        np.add.at(roots, self.cat_root[cats], weights)
        stores, creators = self.follows.get(shopper_id, (np.zeros(0, np.int64), np.zeros(0, np.int64)))
        recent_ids = np.asarray(self.recent.get(shopper_id, []), dtype=np.int64)
        recent = self.product_index(recent_ids) if len(recent_ids) else recent_ids
        return Profile(shopper_id, cats, weights, roots, stores, creators, recent[recent >= 0])


def _csr(
    groups: np.ndarray, n_groups: int, order_key: np.ndarray, members: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Members grouped by `groups` (0..n_groups-1), best `order_key` first within a group."""
    ok = groups >= 0
    members, groups, key = members[ok], groups[ok], order_key[ok]
    order = np.lexsort((-key, groups))
    counts = np.bincount(groups, minlength=n_groups)
    ptr = np.zeros(n_groups + 1, np.int64)
    np.cumsum(counts, out=ptr[1:])
    return ptr, members[order]


def assemble(catalog: Catalog, features: FeatureStore, now: float, version: int, priors: Priors = Priors()) -> Snapshot:
    """Join the catalog with the features into the serving arrays (background work, seconds at 1M items)."""
    c = catalog
    n_p, n_v, n_l = len(c.product_ids), len(c.video_ids), len(c.live_ids)
    store_pos = np.searchsorted(c.store_ids, c.product_store)
    cat_pos = np.searchsorted(c.category_ids, c.product_category)
    root_ids = np.unique(c.category_root)
    cat_root = np.searchsorted(root_ids, c.category_root)

    def product_of(ids: np.ndarray) -> np.ndarray:
        return np.searchsorted(c.product_ids, ids) if len(ids) else np.zeros(0, np.int64)

    vp, lp = product_of(c.video_product), product_of(c.live_product)
    linked = np.concatenate([np.arange(n_p), vp, lp]).astype(np.int64)
    kind = np.concatenate([np.zeros(n_p), np.ones(n_v), np.full(n_l, 2)]).astype(np.int8)
    item_id = np.concatenate([c.product_ids, c.video_ids, c.live_ids]).astype(np.int64)
    creator = np.concatenate([np.zeros(n_p, np.int64), c.video_creator, c.live_creator])
    store = store_pos[linked] if n_p else np.zeros(0, np.int64)

    sums = np.vstack(
        [
            features.counters["product"].gather(c.product_ids, now),
            features.counters["video"].gather(c.video_ids, now),
            features.counters["live"].gather(c.live_ids, now),
        ]
    )
    r = rates(sums, priors)
    base_ctr = np.where(kind == PRODUCT, priors.ctr, priors.ctr * 1.4)  # content is clicked (opened) more
    ctr = (sums[:, 1] + base_ctr * priors.ctr_weight) / (sums[:, 0] + priors.ctr_weight)
    product_cvr = r["cvr"][:n_p]
    cvr = np.where(kind == PRODUCT, r["cvr"], product_cvr[linked] * 0.8 + r["cvr"] * 0.2)
    watch = np.where(kind == PRODUCT, 0.0, np.maximum(r["watch_per_click"], 15.0))
    engagement = np.concatenate(
        [
            np.log1p(c.sales) / np.log1p(c.sales.max() + 1.0) if n_p else np.zeros(0),
            c.video_completion,
            np.minimum(1.0, np.log1p(c.live_viewers) / 8.0),
        ]
    )
    product_ux = ranking.product_experience(c.rating_sum, c.rating_count, r["refund_rate"][:n_p])
    experience = (0.6 * c.store_experience[store_pos] + 0.4 * product_ux)[linked] if n_p else np.zeros(0)
    noise = (
        ranking.noise(c.title_noise, ranking.price_inflation(c.price_fen, c.list_price_fen))[linked]
        if n_p
        else np.zeros(0)
    )
    price = c.price_fen[linked] if n_p else np.zeros(0)
    is_new = c.store_new[store] if n_p else np.zeros(0, bool)
    ev = ctr * cvr * price
    ev_ref = float(np.median(ev)) if len(ev) else 1.0
    prior = 0.35 * ev / (ev + max(ev_ref, 1e-9)) + 0.25 * experience + 0.15 * engagement - 0.35 * noise
    cat = cat_pos[linked] if n_p else np.zeros(0, np.int64)
    root = cat_root[cat] if n_p else np.zeros(0, np.int64)

    products = np.arange(n_p)
    cat_ptr, cat_items = _csr(cat[:n_p], len(c.category_ids), prior[:n_p], products)
    root_ptr, root_items = _csr(root[:n_p], len(root_ids), prior[:n_p], products)
    store_ptr, store_items = _csr(store[:n_p], len(c.store_ids), prior[:n_p], products)
    activity = sums[:, 4] * 5 + sums[:, 1]  # recent orders and clicks
    trending = np.argsort(-(activity + 1e-6 * prior))[:TRENDING]
    content_idx = np.arange(n_p, n_p + n_v + n_l)
    content = content_idx[np.argsort(-prior[content_idx])][:CONTENT_POOL] if len(content_idx) else content_idx
    creator_content: dict[int, list[int]] = {}
    for i in content_idx:
        if creator[i]:
            creator_content.setdefault(int(creator[i]), []).append(int(i))

    def store_positions(ids: list[int]) -> np.ndarray:
        wanted = np.asarray(ids, np.int64)
        pos = np.minimum(np.searchsorted(c.store_ids, wanted), max(len(c.store_ids) - 1, 0))
        return pos[c.store_ids[pos] == wanted] if len(c.store_ids) else np.zeros(0, np.int64)

    follows = {
        shopper: (store_positions(stores), np.asarray(creators, np.int64))
        for shopper, (stores, creators) in c.follows.items()
    }
    return Snapshot(
        version=version,
        built_at=now,
        n_products=n_p,
        kind=kind,
        item_id=item_id,
        product=linked,
        store=store.astype(np.int64),
        creator=creator,
        cat=cat,
        root=root,
        price=price,
        ctr=ctr,
        cvr=cvr,
        impressions=sums[:, 0],
        watch_per_click=watch,
        engagement_prior=engagement,
        experience=experience,
        noise=noise,
        is_new=is_new,
        prior=prior,
        store_ids=c.store_ids,
        store_new=c.store_new,
        category_ids=c.category_ids,
        root_ids=root_ids,
        cat_root=cat_root,
        cat_ptr=cat_ptr,
        cat_items=cat_items,
        root_ptr=root_ptr,
        root_items=root_items,
        store_ptr=store_ptr,
        store_items=store_items,
        trending=trending,
        content=content,
        new_pool=np.flatnonzero(is_new[:n_p]),
        creator_content={k: np.asarray(v) for k, v in creator_content.items()},
        follows=follows,
        affinities=features.all_affinities(now),
        recent={k: list(v) for k, v in features.recent.items()},
        ev_ref=max(ev_ref, 1.0),
        watch_ref=float(np.median(ctr[n_p:] * watch[n_p:])) if n_v + n_l else 1.0,
    )
