"""The feed's hot path: candidates → features → pCTR/pCVR → policy score → diverse layout → plan slots.

Pure computation over a `Snapshot` and the plan boards: no database access, so a request costs the same
whatever the catalogue's size in rows (the bench serves 1M SKUs this way). The caller logs the returned
impressions (service.py writes them in one batch with the response; the benchmark keeps them in memory).

Reserved slots: in a page of `limit`, round(limit × share) places belong to the launch plan and to the
boost plan (2 and 1 of 10 by default), spread over the page. When a plan has nobody to place for this
shopper the place goes back to the ranking. The organic items a plan displaces are the page's lowest
scored; their expected GMV is logged with the plan's impression, which is how the plan's GMV cost is
measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from yinli.traffic import candidates, model, ranking
from yinli.traffic.board import Board
from yinli.traffic.experiments import Assignment
from yinli.traffic.model import FEATURES, F, Ranker
from yinli.traffic.snapshot import FORMATS, PRODUCT, Profile, Snapshot

MAX_PAGES = 20
MODEL_RERANK = 200  # the model re-scores the heuristic's best this many
PLAN_OPTIONS = 5  # a plan slot picks the best of this many of the store's matching products


@dataclass
class Placement:
    item: int
    position: int
    slot: str
    sources: int
    score: float
    pctr: float
    pcvr: float
    ev_fen: float
    components: dict[str, float]
    features: dict[str, float]
    plan: dict[str, Any] | None = None
    quality: bool | None = None


@dataclass
class FeedPage:
    request_id: str
    shopper_id: int
    page: int
    seed: int
    placements: list[Placement]
    assignment: Assignment
    model_version: str | None
    has_more: bool


@dataclass
class ServingState:
    """Everything a request reads, swapped in whole by the background refresh."""

    snapshot: Snapshot
    ranker: Ranker | None = None
    launch: Board | None = None
    boost: Board | None = None
    launch_share: float = 0.2
    boost_share: float = 0.1
    launch_enabled: bool = True
    boost_enabled: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Interests:
    """A shopper's interests spread over dense per-category arrays, computed once per request."""

    affinity: np.ndarray  # per compact category: w / (w + 3)
    root_affinity: np.ndarray  # per compact root: w / (w + 5)
    follow_stores: np.ndarray
    follow_creators: np.ndarray

    @classmethod
    def of(cls, snap: Snapshot, profile: Profile) -> Interests:
        aff = np.zeros(len(snap.category_ids))
        if len(profile.cats):
            aff[profile.cats] = profile.cat_weight / (profile.cat_weight + 3.0)
        return cls(
            aff, profile.root_weight / (profile.root_weight + 5.0), profile.follow_stores, profile.follow_creators
        )


def feature_matrix(snap: Snapshot, profile: Profile | Interests, items: np.ndarray) -> np.ndarray:
    ctx = profile if isinstance(profile, Interests) else Interests.of(snap, profile)
    x = np.empty((len(items), len(FEATURES)))
    cat, root = snap.cat[items], snap.root[items]
    follows = np.zeros(len(items), bool)
    if len(ctx.follow_stores):
        follows |= np.isin(snap.store[items], ctx.follow_stores)
    if len(ctx.follow_creators):
        creators = snap.creator[items]
        follows |= np.isin(creators, ctx.follow_creators) & (creators > 0)
    x[:, F["fmt"]] = snap.kind[items]
    x[:, F["log_price"]] = np.log1p(snap.price[items] / 100.0)
    x[:, F["item_ctr"]] = snap.ctr[items]
    x[:, F["item_cvr"]] = snap.cvr[items]
    x[:, F["log_impressions"]] = np.log1p(snap.impressions[items])
    x[:, F["experience"]] = snap.experience[items]
    x[:, F["noise"]] = snap.noise[items]
    x[:, F["affinity"]] = np.where(cat >= 0, ctx.affinity[np.maximum(cat, 0)], 0.0)
    if len(ctx.root_affinity):
        x[:, F["root_affinity"]] = np.where(root >= 0, ctx.root_affinity[np.maximum(root, 0)], 0.0)
    else:
        x[:, F["root_affinity"]] = 0.0
    x[:, F["follows"]] = follows
    x[:, F["is_new"]] = snap.is_new[items]
    x[:, F["engagement"]] = snap.engagement_prior[items]
    x[:, F["position"]] = 0.0
    return x


def _predict(state: ServingState, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pctr, pcvr = model.heuristic_pctr(x), model.heuristic_pcvr(x)
    if state.ranker is not None and len(x):
        top = np.argsort(-(pctr * pcvr))[:MODEL_RERANK]
        pctr, pcvr = pctr.copy(), pcvr.copy()
        pctr[top] = state.ranker.pctr(x[top])
        pcvr[top] = state.ranker.pcvr(x[top])
    return pctr, pcvr


def reserved_positions(limit: int, launch: int, boost: int) -> tuple[list[int], list[int]]:
    """Where plan slots go on a page: boost mid-page, launch spread around it, never at the very top."""
    taken: set[int] = set()
    boost_at = []
    for i in range(boost):
        p = min(limit - 1, max(1, (limit * (2 * i + 1)) // (2 * boost)))
        while p in taken and p < limit - 1:
            p += 1
        taken.add(p)
        boost_at.append(p)
    launch_at = []
    for i in range(launch):
        p = min(limit - 1, max(1, (limit * (4 * i + 1)) // (4 * launch) + 1))
        while p in taken and p < limit - 1:
            p += 1
        while p in taken and p > 1:
            p -= 1
        taken.add(p)
        launch_at.append(p)
    return sorted(launch_at), sorted(boost_at)


def serve(
    state: ServingState,
    shopper_id: int,
    assignment: Assignment,
    *,
    page: int,
    limit: int,
    seed: int,
    now: float,
    request_id: str,
    scope: np.ndarray | None = None,
) -> FeedPage:
    """`scope`: a mask over the compact categories (True: allowed) that keeps the page, plan slots
    included, within them (a category shelf's ranked section); None: the whole catalogue."""
    snap = state.snapshot
    profile = snap.profile(shopper_id)
    rng = np.random.default_rng([seed, 0])
    items, sources = candidates.gather(snap, profile, rng)
    if scope is not None:  # cat -1 (no category) is out of every scope
        keep = (snap.cat[items] >= 0) & scope[snap.cat[items]]
        items, sources = items[keep], sources[keep]
    interests = Interests.of(snap, profile)
    x = feature_matrix(snap, interests, items)
    pctr, pcvr = _predict(state, x)
    relevance = np.clip(0.7 * x[:, F["affinity"]] + 0.3 * x[:, F["root_affinity"]] + 0.5 * x[:, F["follows"]], 0.0, 1.0)
    score, ev, comps = ranking.combine(
        assignment.policy,
        pctr=pctr,
        pcvr=pcvr,
        price_fen=snap.price[items],
        watch_per_click=snap.watch_per_click[items],
        is_content=snap.kind[items] != PRODUCT,
        experience=snap.experience[items],
        relevance=relevance,
        noise_scores=snap.noise[items],
        ev_ref=snap.ev_ref,
        ctr_ref=snap.ctr_ref,
        watch_ref=snap.watch_ref,
        rng=rng,
    )
    order = np.argsort(-score, kind="stable")
    layout = ranking.Layout(limit)
    pages = ranking.lay_out(order, snap.store[items], snap.kind[items], layout, page, [limit] * page)
    organic = pages[-1]
    has_more = page < MAX_PAGES and len(organic) == limit and len(items) > page * limit

    n_launch = round(limit * state.launch_share) if state.launch_enabled and assignment.launch_plan else 0
    n_boost = round(limit * state.boost_share) if state.boost_enabled and assignment.boost_plan else 0
    launch_at, boost_at = reserved_positions(limit, n_launch, n_boost)
    plan_rng = np.random.default_rng([seed, page])
    on_page = {int(snap.store[items[c]]) for c in organic}
    plans: dict[int, Placement] = {}
    for slot, board, positions in (("boost", state.boost, boost_at), ("launch", state.launch, launch_at)):
        for p in positions:
            placed = _plan_item(snap, state, board, slot, profile, interests, now, plan_rng, on_page, scope)
            if placed is not None:
                placed.position = p
                plans[p] = placed
                on_page.add(int(snap.store[placed.item]))
    displaced = organic[len(organic) - len(plans) :] if plans else []
    kept = organic[: len(organic) - len(plans)]
    displaced_ev = [float(ev[c]) for c in displaced]
    placements: list[Placement] = []
    organic_iter = iter(kept)
    for pos in range(min(limit, len(kept) + len(plans))):
        if pos in plans:
            placed = plans[pos]
            placed.features["displaced_ev_fen"] = round(displaced_ev.pop(0), 2) if displaced_ev else 0.0
            placements.append(placed)
            continue
        c = next(organic_iter, None)
        if c is None:
            continue
        placements.append(
            Placement(
                item=int(items[c]),
                position=pos,
                slot="organic",
                sources=int(sources[c]),
                score=float(score[c]),
                pctr=float(pctr[c]),
                pcvr=float(pcvr[c]),
                ev_fen=float(ev[c]),
                components={k: round(float(v[c]), 4) for k, v in comps.items()},
                features=_features(x[c]),
            )
        )
    for i, placed in enumerate(placements):
        placed.position = i
    if n_launch and state.launch is not None and len(state.launch):
        _count_organic(snap, state.launch, placements, now, profile)
    return FeedPage(
        request_id,
        shopper_id,
        page,
        seed,
        placements,
        assignment,
        state.ranker.version if state.ranker else None,
        has_more,
    )


def _count_organic(snap: Snapshot, board: Board, placements: list[Placement], now: float, profile: Profile) -> None:
    """An enrolled store's item that the ranking itself showed to an interested shopper is a quality
    impression too (`quality_level`): it counts toward the store's quota (the plan tops up what the
    ranking does not give)."""
    roots = np.flatnonzero(profile.root_weight > 0)
    for p in placements:
        if p.slot != "organic" or quality_level(snap, profile.cats, roots, board.similar, p.item) is None:
            continue
        store = int(snap.store[p.item])
        pos = int(board.position_of[store]) if 0 <= store < len(board.position_of) else -1
        if pos < 0 or not (board.start[pos] <= now < board.end[pos]) or board.delivered[pos] >= board.quota[pos]:
            continue
        board.delivered[pos] += 1
        p.quality = True
        p.plan = {
            "plan": "launch",
            "store_id": int(board.store_ids[pos]),
            "delivered": int(board.delivered[pos]),
            "quota": int(board.quota[pos]),
            "counted": "organic impression to an interested shopper",
        }


def quality_level(
    snap: Snapshot, cats: np.ndarray, roots: np.ndarray, similar: np.ndarray | None, item: int
) -> str | None:
    """The one definition of a quality impression (API, ops console and simulator all count these): an
    item shown to a shopper with a known interest in its category — its leaf category ("category"), its
    top-level category ("top_category"), or a top-level category that shoppers with this one's interests
    also browse ("similar", allocation.similar_roots). A shopper with no known interest (cold, a visitor)
    never makes one. Returns the narrowest level that holds, None when none does."""
    if not len(roots):
        return None
    if int(snap.cat[item]) in set(cats.tolist()):
        return "category"
    root = int(snap.root[item])
    if root in set(roots.tolist()):
        return "top_category"
    if similar is not None and bool(similar[roots, root].any()):
        return "similar"
    return None


def _features(row: np.ndarray) -> dict[str, float]:
    return dict(zip(FEATURES, np.round(row, 5).tolist(), strict=True))


def _plan_item(
    snap: Snapshot,
    state: ServingState,
    board: Board | None,
    slot: str,
    profile: Profile,
    interests: Interests,
    now: float,
    rng: np.random.Generator,
    exclude: set[int],
    scope: np.ndarray | None = None,
) -> Placement | None:
    if board is None or not len(board) or profile.cold:
        return None
    if scope is not None:  # a store with nothing within the page's scope cannot take its slot
        inside = np.zeros(len(board), bool)
        for c in np.flatnonzero(scope):
            inside[board.by_cat.get(int(c), [])] = True
        exclude = exclude | set(board.store[~inside].tolist())

    def products_of(pos: int) -> np.ndarray:  # the store's products within the page's scope
        products = board.products[pos]
        return products if scope is None else products[(snap.cat[products] >= 0) & scope[snap.cat[products]]]

    if slot == "launch":
        # the allocation plan (allocation.py): every interest of the shopper, each store at its level
        roots = np.flatnonzero(profile.root_weight > 0)
        best_of: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]] = {}

        def value_of(positions: np.ndarray) -> np.ndarray:
            values = []
            for pos in positions:
                got = _best_item(snap, state, interests, products_of(int(pos)), profile.cats, roots, board.similar)
                best_of[int(pos)] = got
                values.append(float(got[3][0]))
            return np.asarray(values)

        picked = board.pick_planned(profile.cats, roots, now, rng, exclude, value_of)
        if picked is None:
            return None
        pos, match = picked
        chosen_arr, x, pctr_arr, ev_arr, _ = best_of[pos]
        chosen, pctr, pcvr, ev = int(chosen_arr[0]), pctr_arr[:1], pctr_arr[1:2], float(ev_arr[0])
    else:
        roots = np.argsort(-profile.root_weight)[:3]
        roots = roots[profile.root_weight[roots] > 0]
        picked = board.pick(profile.cats[:8], roots, now, rng, exclude)
        if picked is None:
            return None
        pos, match = picked
        chosen_arr, x, pctr_arr, ev_arr, _ = _best_item(
            snap,
            state,
            interests,
            products_of(pos),
            profile.cats[:8] if match == "category" else profile.cats[:0],
            roots,
            None,
        )
        chosen, pctr, pcvr, ev = int(chosen_arr[0]), pctr_arr[:1], pctr_arr[1:2], float(ev_arr[0])
    target = float(board.target(np.asarray([pos]), now)[0])
    board.delivered[pos] += 1  # counted now, so concurrent requests see the store move toward its target
    plan: dict[str, Any] = {
        "plan": slot,
        "store_id": int(board.store_ids[pos]),
        "delivered": int(board.delivered[pos]),
        "quota": int(board.quota[pos]),
        "target_now": round(target, 1),
        "match": match,
    }
    if board.tiers:
        plan["tier"] = board.tiers[pos]
    features = _features(x[0])
    features["plan_target"], features["plan_delivered"] = plan["target_now"], plan["delivered"]
    return Placement(
        item=int(chosen),
        position=0,
        slot=slot,
        sources=0,
        score=0.0,
        pctr=float(pctr[0]),
        pcvr=float(pcvr[0]),
        ev_fen=ev,
        components={},
        features=features,
        plan=plan,
        quality=True if slot == "launch" else None,
    )


def _best_item(
    snap: Snapshot,
    state: ServingState,
    interests: Interests,
    products: np.ndarray,
    cats: np.ndarray,
    roots: np.ndarray,
    similar: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """Of a store's (best few) products, the one worth most to this shopper among those matching their
    narrowest interest (leaf, then top-level, then similar top-level category; any if none): a plan slot
    costs the page less expected GMV that way. Returns ([item], features row, [pctr, pcvr], [ev], match)."""
    hits, match = products[:0], "any"
    if len(cats):
        hits, match = products[np.isin(snap.cat[products], cats)], "category"
    if not len(hits) and len(roots):
        hits, match = products[np.isin(snap.root[products], roots)], "top_category"
    if not len(hits) and similar is not None and len(roots):
        wide = np.flatnonzero(similar[roots].any(axis=0))
        hits, match = products[np.isin(snap.root[products], wide)], "similar"
    options = (hits if len(hits) else products)[:PLAN_OPTIONS]
    x_all = feature_matrix(snap, interests, options)
    pctr_all, pcvr_all = _predict(state, x_all)
    ev_all = pctr_all * pcvr_all * snap.price[options]
    best = int(np.argmax(ev_all))
    return (
        options[best : best + 1],
        x_all[best : best + 1],
        np.asarray([pctr_all[best], pcvr_all[best]]),
        ev_all[best : best + 1],
        match,
    )


def format_of(snap: Snapshot, item: int) -> str:
    return FORMATS[int(snap.kind[item])]
