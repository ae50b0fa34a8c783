"""The traffic engine: one per process and database (`engine_for`), shared by the feed API and the
background jobs, holding the feature store and the serving state they refresh.

A background round (`TrafficEngine.refresh`, from `yinli.jobs.run_once`):
1. outbox → event log (orders, returns, complaints), tagged with the shopper's experiment bucket;
2. launch plan round (enrol, recount delivery from the log, close windows, red flags) and boost review;
3. features follow the log; the catalog arrays are reloaded at most every YINLI_TRAFFIC_REFRESH_SECONDS;
4. a new snapshot, co-engagement neighbours, plan boards, model and experiment are swapped in whole
   (steps 3-4 at most every YINLI_TRAFFIC_REFRESH_SECONDS; the features follow the log every round).

Each step is idempotent and commits on its own, so a failed round is simply retried by the next one.
"""

from __future__ import annotations

import logging
import threading
import weakref
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from yinli.accounts.models import User
from yinli.catalog.categories import subtree_leaf_ids
from yinli.catalog.models import Category
from yinli.core.auth import Actor, Role, require_actor
from yinli.core.clock import Clock
from yinli.core.db import Database
from yinli.core.errors import Forbidden, InvalidInput, NotFound
from yinli.core.ids import decode_cursor, encode_cursor
from yinli.core.settings import Settings
from yinli.merchants.service import get_policy
from yinli.traffic import allocation, board, candidates, events, experiments, model, plans
from yinli.traffic.experiments import ActiveExperiment, Assignment
from yinli.traffic.features import FeatureStore
from yinli.traffic.feed import FeedPage, ServingState, serve
from yinli.traffic.models import BoostMembership, LaunchEnrolment, LaunchStatus
from yinli.traffic.snapshot import Catalog, Snapshot, assemble, load_catalog

log = logging.getLogger("yinli.traffic")

MAX_LIMIT = 50
VISITOR = 0  # the shopper id a visitor's page is ranked for: no shopper has it, so no interests or follows


class TrafficEngine:
    def __init__(self, settings: Settings, clock: Clock, seed: int = 20261124) -> None:
        self.settings, self.clock = settings, clock
        self.features = FeatureStore(settings.traffic_half_life_hours)
        self.state: ServingState | None = None
        self.active: ActiveExperiment | None = None
        self._catalog: Catalog | None = None
        self._catalog_at = float("-inf")
        self._version = 0
        self._model_stamp: tuple[str, float] | None = None
        self._ranker: model.Ranker | None = None
        self._lock = threading.Lock()  # one refresh at a time per process
        self._rng = np.random.default_rng(seed)
        self._rng_lock = threading.Lock()

    # --- assignment and ids ---------------------------------------------------------------------------

    def assign(self, shopper_id: int) -> tuple[int | None, str, str]:
        a = experiments.assign(self.active, shopper_id)
        return a.experiment_id, a.bucket, a.policy

    def assignment(self, shopper_id: int) -> Assignment:
        return experiments.assign(self.active, shopper_id)

    def new_request(self) -> tuple[str, int]:
        """A request id (32 hex) and a page-chain seed from the engine's seeded generator."""
        with self._rng_lock:
            raw = self._rng.integers(0, 2**63, size=2, dtype=np.int64)
        return f"{int(raw[0]):016x}{int(raw[1]):016x}", int(raw[0]) % (2**53)

    # --- refreshing ---------------------------------------------------------------------------------

    def ensure_ready(self, session: Session) -> ServingState:
        if self.state is None:
            with self._lock:
                if self.state is None:
                    self.features.follow(session, self.clock)
                    self._build(session, force=True)
        assert self.state is not None
        return self.state

    def refresh(self, database: Database, *, force_catalog: bool = False) -> int:
        with self._lock:
            with database.session() as session:
                self.active = experiments.load_active(session)
                seen = events.consume_outbox(session, self.clock, assign=self.assign)
            if self.state is None:  # the launch round forecasts from the serving snapshot: have one
                with database.read_sessions() as session:
                    self.features.follow(session, self.clock)
                    self._build(session, force=True)
            assert self.state is not None
            with database.session() as session:
                plans.run_launch_round(session, self.clock, self.settings, self.state.snapshot)
                plans.run_boost_round(session, self.clock)
            with database.read_sessions() as session:
                seen += self.features.follow(session, self.clock)
                self._build(session, force=force_catalog)
            return seen

    def follow(self, database: Database) -> None:
        """For a process that serves pages while another runs the jobs (the simulator's workers): read
        what the log and the plans have gained and rebuild the serving state, writing nothing."""
        with self._lock, database.read_sessions() as session:
            self.features.follow(session, self.clock)
            self._build(session, force=True)

    def invalidate_experiment(self, session: Session) -> None:
        self.active = experiments.load_active(session)

    def _build(self, session: Session, *, force: bool) -> None:
        now = self.clock.now()
        ts = now.timestamp()
        stale = ts - self._catalog_at >= self.settings.traffic_refresh_seconds
        if not (force or stale or self._catalog is None or self.state is None):
            return  # between reloads serving keeps its state; plan counters move in memory meanwhile
        self._catalog = load_catalog(session, now, get_policy(session, self.settings))
        self._catalog_at = ts
        self._version += 1
        snap = assemble(self._catalog, self.features, ts, self._version)
        snap.cf_ptr, snap.cf_items = candidates.fit_co_engagement(snap.n_products, snap.product_index, snap.recent)
        self.active = experiments.load_active(session)
        launch_cfg = plans.get_launch_config(session, self.settings)
        boost_cfg = plans.get_boost_config(session)
        profile = board.traffic_profile(session, now)
        self.state = ServingState(
            snapshot=snap,
            ranker=self._load_model(),
            launch=self._launch_board(session, snap, profile, launch_cfg.lead),
            boost=self._boost_board(session, snap, profile, boost_cfg, now),
            launch_share=launch_cfg.share,
            boost_share=boost_cfg.share,
            launch_enabled=launch_cfg.enabled,
            boost_enabled=boost_cfg.enabled,
        )

    def _launch_board(self, session: Session, snap: Snapshot, profile: np.ndarray, lead: float) -> board.Board:
        rows = list(session.scalars(select(LaunchEnrolment).where(LaunchEnrolment.status == LaunchStatus.ACTIVE.value)))
        # the round's allocation plan (allocation.py); an enrolment not planned yet is served first, greedily
        planned = [e.plan or {} for e in rows]
        alpha = [p.get("alpha") for p in planned]
        return board.build_board(
            snap,
            np.asarray([e.store_id for e in rows], np.int64),
            np.asarray([e.quota for e in rows]),
            np.asarray([e.delivered for e in rows]),
            np.asarray([e.started_at.timestamp() for e in rows]),
            np.asarray([e.ends_at.timestamp() for e in rows]),
            profile,
            lead,
            plan={
                "alpha": np.asarray([1.0 if a is None else float(a) for a in alpha]),
                "rank": np.asarray([int(p.get("order", -1)) for p in planned]),
                "level": np.asarray([allocation.level_of(e.targeting) for e in rows], np.int64),
            },
            similar=allocation.similar_roots(snap),
        )

    def _boost_board(
        self, session: Session, snap: Snapshot, profile: np.ndarray, config: plans.BoostConfig, now: Any
    ) -> board.Board:
        budget = {t.name: t.daily_impressions for t in config.tiers}
        rows = [m for m in session.scalars(select(BoostMembership)) if m.tier in budget]
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        done = plans.boost_delivered_today(session, [m.store_id for m in rows], day)
        return board.build_board(
            snap,
            np.asarray([m.store_id for m in rows], np.int64),
            np.asarray([budget[m.tier] for m in rows]),
            np.asarray([done.get(m.store_id, 0) for m in rows]),
            np.full(len(rows), day.timestamp()),
            np.full(len(rows), (day + timedelta(days=1)).timestamp()),
            profile,
            0.0,
            [m.tier for m in rows],
        )

    def _load_model(self) -> model.Ranker | None:
        current = model.models_dir(self.settings.data_dir) / "CURRENT"
        stamp = (current.read_text().strip(), current.stat().st_mtime) if current.exists() else None
        if stamp != self._model_stamp:
            try:
                self._ranker = model.load_current(self.settings.data_dir) if stamp else None
            except model.ModelMismatch as mismatch:
                # Serving keeps answering: a stale model after a feature change ranks by the heuristic
                # (loudly) until `yinli train ranker` publishes one trained on today's features.
                log.warning("ranking by the heuristic: %s", mismatch)
                self._ranker = None
            self._model_stamp = stamp
        return self._ranker


# --- one engine per process and database ---------------------------------------------------------------

_engines: weakref.WeakKeyDictionary[Database, dict[str, TrafficEngine]] = weakref.WeakKeyDictionary()
_engines_lock = threading.Lock()


def engine_for(settings: Settings, database: Database, clock: Clock) -> TrafficEngine:
    key = str(Path(settings.data_dir).resolve())
    with _engines_lock:
        engines = _engines.setdefault(database, {})
        if key not in engines:
            engines[key] = TrafficEngine(settings, clock)
        return engines[key]


def run_jobs(database: Database, clock: Clock, settings: Settings) -> int:
    """Background work for traffic (see the module docstring); returns events consumed."""
    return engine_for(settings, database, clock).refresh(database)


# --- serving a page ------------------------------------------------------------------------------------


def resolve_shopper(session: Session, actor: Actor | None, shopper_id: int | None) -> int:
    """Whose feed: a shopper's own; an operator (simulators, support) names any shopper."""
    actor = require_actor(actor)
    if actor.role is Role.SHOPPER:
        if shopper_id is not None and shopper_id != actor.user_id:
            raise Forbidden("shoppers get their own feed", field="shopper_id")
        return actor.user_id
    if not actor.is_operator:
        raise Forbidden("the feed is for shoppers")
    if shopper_id is None:
        raise InvalidInput("operators name the shopper", field="shopper_id")
    role = session.scalar(select(User.role).where(User.id == shopper_id))
    if role != Role.SHOPPER.value:
        raise NotFound(f"no shopper {shopper_id}", field="shopper_id")
    return shopper_id


def page_and_seed(engine: TrafficEngine, page: int | None, cursor: str | None) -> tuple[int, int]:
    if page is not None and cursor is not None:
        raise InvalidInput("give page or cursor, not both", field="cursor")
    if cursor is not None:
        values = decode_cursor(cursor, ("p", "s"))
        if not 2 <= values["p"] <= 20 or values["s"] < 0:
            raise InvalidInput("cursor is not one this API issued", field="cursor")
        return int(values["p"]), int(values["s"])
    return page or 1, -1


def do_serve_feed(
    session: Session,
    engine: TrafficEngine,
    actor: Actor | None,
    *,
    shopper_id: int | None,
    limit: int,
    page: int | None,
    cursor: str | None,
    surface: str = events.FEED,
    category: Category | None = None,
) -> tuple[FeedPage, ServingState]:
    """Rank a page for the shopper and log its impressions in this transaction (the caller commits).
    `surface`: where the page is shown (events.FEED, WEB_HOME, MALL, CATEGORY), logged with each
    impression; `category`: keep the page (plan slots included) within that category's subtree."""
    shopper = resolve_shopper(session, actor, shopper_id)
    return _serve_page(session, engine, shopper, limit, page, cursor, surface, category)


def do_serve_visitor_feed(
    session: Session,
    engine: TrafficEngine,
    *,
    limit: int,
    page: int | None,
    cursor: str | None,
    surface: str,
    category: Category | None = None,
) -> tuple[FeedPage, ServingState]:
    """A page for someone who is not a signed-in shopper: a cold profile (no interests, so no plan slot,
    which go to interested shoppers), the default assignment (no experiment bucket), impressions logged
    with no shopper (the caller commits)."""
    return _serve_page(session, engine, None, limit, page, cursor, surface, category)


def do_serve_storefront(
    session: Session,
    engine: TrafficEngine,
    actor: Actor | None,
    *,
    surface: str,
    limit: int,
    cursor: str | None = None,
    category: Category | None = None,
) -> tuple[FeedPage, ServingState]:
    """The ranked page of a storefront surface (web home, mall, category shelf): a signed-in shopper's
    own feed; anyone else browsing the storefront (a visitor, a merchant, an operator, a creator) the
    visitor feed. Impressions are logged in this transaction (the caller commits)."""
    if actor is not None and actor.role is Role.SHOPPER:
        return do_serve_feed(
            session,
            engine,
            actor,
            shopper_id=None,
            limit=limit,
            page=None,
            cursor=cursor,
            surface=surface,
            category=category,
        )
    return do_serve_visitor_feed(
        session, engine, limit=limit, page=None, cursor=cursor, surface=surface, category=category
    )


def category_scope(session: Session, snap: Snapshot, category: Category) -> np.ndarray:
    """The feed's scope for a category: a mask over the snapshot's compact categories, True for the leaves
    of the category's subtree."""
    leaves = np.fromiter(session.scalars(subtree_leaf_ids(session, category)), np.int64)
    return np.isin(snap.category_ids, leaves)


def _serve_page(
    session: Session,
    engine: TrafficEngine,
    shopper: int | None,
    limit: int,
    page: int | None,
    cursor: str | None,
    surface: str,
    category: Category | None,
) -> tuple[FeedPage, ServingState]:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit is 1 to {MAX_LIMIT}", field="limit")
    number, seed = page_and_seed(engine, page, cursor)
    state = engine.ensure_ready(session)
    request_id, fresh_seed = engine.new_request()
    fp = serve(
        state,
        shopper if shopper is not None else VISITOR,
        engine.assignment(shopper) if shopper is not None else experiments.DEFAULT,
        page=number,
        limit=limit,
        seed=fresh_seed if seed < 0 else seed,
        now=engine.clock.now().timestamp(),
        request_id=request_id,
        scope=category_scope(session, state.snapshot, category) if category is not None else None,
    )
    rows = impression_rows(state.snapshot, fp, shopper, engine.clock.now(), surface)
    events.append(session, engine.clock, rows)
    return fp, state


def next_cursor(fp: FeedPage) -> str | None:
    """The cursor of the page after `fp` (the same seed, so the chain never repeats an item), if any."""
    return encode_cursor({"p": fp.page + 1, "s": fp.seed}) if fp.has_more else None


def impression_rows(
    snap: Snapshot, fp: FeedPage, shopper: int | None, now: Any, surface: str = events.FEED
) -> list[dict[str, Any]]:
    a = fp.assignment
    rows = []
    for p in fp.placements:
        product = int(snap.product[p.item])
        store = int(snap.store[p.item])
        cat = int(snap.cat[p.item])
        rows.append(
            events.row(
                kind="impression",
                occurred_at=now,
                shopper_id=shopper,
                request_id=fp.request_id,
                surface=surface,
                position=p.position,
                item_type=("product", "video", "live")[int(snap.kind[p.item])],
                item_id=int(snap.item_id[p.item]),
                product_id=int(snap.item_id[product]),
                store_id=int(snap.store_ids[store]) if store >= 0 else None,
                creator_id=int(snap.creator[p.item]) or None,
                category_id=int(snap.category_ids[cat]) if cat >= 0 else None,
                slot=p.slot,
                quality=p.quality,
                policy=a.policy,
                bucket=a.bucket,
                experiment_id=a.experiment_id,
                expected_fen=round(p.ev_fen),
                features={**p.features, "position": float(p.position)},
            )
        )
    return rows
