"""Traffic plans: the launch plan (起航计划, guaranteed cold-start traffic for new merchants) and the boost
plan (扶摇计划, extra impressions for good, growing merchants).

Launch plan. Every new merchant (merchants.service.is_new_merchant) is enrolled when it first lists: it is
owed `quota` *quality* impressions — shown to a shopper interested in the item's category (leaf or
top-level) — within `window_days`. Such impressions count whether the ranking placed the item or the
plan did: the plan tops up, in the feed's reserved launch slots, what the ranking does not give.
Stores with red flags (complaints, refunds, a catalogue of promotional noise) are withheld, re-checked
every round. Delivery is paced by a controller: a store's target by time t is quota × (share of the
window's expected traffic before t), finishing `lead` early, where expected traffic follows the
hour-of-day profile of logged impressions. A launch slot goes to the most-behind store (deficit / quota)
that the shopper cares about; a store ahead of its target waits, so its impressions spread through the
day instead of landing in the first hour. KPI: reached / (reached + expired) among enrolments whose
window closed. A store withheld for cause (red flags) is not owed the quota and counts in neither; a store
held for want of interested traffic (admission control, allocation.NO_TRAFFIC) whose window closes
unbooked is a miss (expired): the promise is to every new merchant, not to the ones easy to serve.

Boost plan. Stores are reviewed against tiers (thresholds on orders, good reviews, refunds, complaints,
on-time shipping and order growth week on week). Entry needs every threshold; a member leaves its tier
only when it misses the *exit* thresholds (entry relaxed by `exit_margin`), so a store on the line does
not flap. A tier grants a daily impression budget in the boost slot, paced through the day like the
launch plan. Every change is kept in `traffic_boost_changes` with the measures that decided it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yinli.catalog.models import Product, ProductStatus
from yinli.core.auth import Actor, Role, require_role
from yinli.core.clock import Clock
from yinli.core.errors import InvalidInput
from yinli.core.settings import Settings
from yinli.merchants.models import Store, StoreStatus
from yinli.merchants.service import get_policy, is_new_merchant
from yinli.orders.metrics import StoreMetrics, rates
from yinli.traffic import allocation, ranking
from yinli.traffic import board as board_mod
from yinli.traffic.models import BoostChange, BoostMembership, LaunchEnrolment, LaunchStatus, TrafficEvent, TrafficPlan
from yinli.traffic.snapshot import Snapshot

NO_TRAFFIC_REASON = "no interested shoppers forecast for its categories in the window (re-checked each round)"


@dataclass
class LaunchConfig:
    enabled: bool = True
    quota: int = 200
    window_days: int = 3
    share: float = 0.2  # of each feed page reserved for launch slots
    lead: float = 0.15  # aim to finish this share of the window early
    max_complaints: int = 3  # in the last 30 days
    max_complaint_rate: float = 0.05
    max_refund_rate: float = 0.3
    min_orders_for_rates: int = 10
    max_noise: float = 0.6  # mean marketing noise of listed titles
    # guaranteed delivery (allocation.py): quotas sized to forecast supply, the HWM plan, widening
    sizing: bool = True  # size a new enrolment's quota to what the forecast supply can carry
    fill: float = 0.7  # share of the forecast free supply a sized quota may use (forecasts err)
    warn_below: int = 10  # a sized quota below this is flagged: the category's interested traffic is too thin
    alpha_max: float = 0.8  # a contract needing more of its segments' slots than this is widened
    behind_widen: float = 0.5  # ...and so is one delivered below this share of its paced target


@dataclass
class BoostTier:
    name: str
    min_orders_30d: int
    min_good_review_rate: float
    max_refund_rate: float
    max_complaint_rate: float
    min_on_time_rate: float
    min_growth: float  # orders in the last 7 days / the 7 before
    daily_impressions: int


def _default_tiers() -> list[BoostTier]:
    return [
        BoostTier("rising", 10, 0.80, 0.15, 0.03, 0.80, 1.10, 300),
        BoostTier("growing", 50, 0.85, 0.10, 0.02, 0.85, 1.20, 1000),
        BoostTier("star", 200, 0.90, 0.08, 0.01, 0.90, 1.20, 3000),
    ]


@dataclass
class BoostConfig:
    enabled: bool = True
    share: float = 0.1
    exit_margin: float = 0.05
    tiers: list[BoostTier] = field(default_factory=_default_tiers)


def get_launch_config(session: Session, settings: Settings) -> LaunchConfig:
    row = session.get(TrafficPlan, "launch")
    base = LaunchConfig(quota=settings.traffic_launch_quota, window_days=settings.traffic_launch_days)
    return LaunchConfig(**{**asdict(base), **(row.config if row else {})})


def get_boost_config(session: Session) -> BoostConfig:
    row = session.get(TrafficPlan, "boost")
    if row is None:
        return BoostConfig()
    config = dict(row.config)
    tiers = [BoostTier(**t) for t in config.pop("tiers", [asdict(t) for t in _default_tiers()])]
    return BoostConfig(**config, tiers=tiers)


def _save(session: Session, clock: Clock, actor: Actor, name: str, config: dict[str, Any]) -> None:
    row = session.get(TrafficPlan, name, with_for_update=True)
    if row is None:
        row = TrafficPlan(name=name)
        session.add(row)
    row.config, row.updated_at, row.updated_by = config, clock.now(), actor.user_id
    session.flush()


def do_set_launch_config(
    session: Session, clock: Clock, settings: Settings, actor: Actor | None, changes: dict[str, Any]
) -> LaunchConfig:
    actor = require_role(actor, Role.OPERATOR)
    new = LaunchConfig(**{**asdict(get_launch_config(session, settings)), **changes})
    if new.share + get_boost_config(session).share > 0.5:
        raise InvalidInput("plans may reserve at most half of a page (launch + boost share)", field="share")
    _save(session, clock, actor, "launch", asdict(new))
    return new


def do_set_boost_config(session: Session, clock: Clock, actor: Actor | None, changes: dict[str, Any]) -> BoostConfig:
    actor = require_role(actor, Role.OPERATOR)
    current = asdict(get_boost_config(session))
    merged = {**current, **changes}
    tiers = [BoostTier(**t) if isinstance(t, dict) else t for t in merged.pop("tiers")]
    if len({t.name for t in tiers}) != len(tiers):
        raise InvalidInput("tier names must differ", field="tiers")
    new = BoostConfig(**merged, tiers=tiers)
    row = session.get(TrafficPlan, "launch")  # the launch share does not depend on settings
    launch_share = float((row.config if row else {}).get("share", LaunchConfig.share))
    if new.share + launch_share > 0.5:
        raise InvalidInput("plans may reserve at most half of a page (launch + boost share)", field="share")
    _save(session, clock, actor, "boost", asdict(new))
    return new


# --- background rounds (database side) -----------------------------------------------------------------


def red_flags(session: Session, store_ids: list[int], config: LaunchConfig, now: datetime) -> dict[int, str]:
    """Why each of these stores gets no guaranteed traffic (stores without a flag are absent)."""
    if not store_ids:
        return {}
    flags: dict[int, str] = {}
    complaints = dict(
        session.execute(
            select(TrafficEvent.store_id, func.count())
            .where(
                TrafficEvent.kind == "complaint",
                TrafficEvent.store_id.in_(store_ids),
                TrafficEvent.occurred_at >= now - timedelta(days=30),
            )
            .group_by(TrafficEvent.store_id)
        ).all()
    )
    metrics = {m.store_id: m for m in session.scalars(select(StoreMetrics).where(StoreMetrics.store_id.in_(store_ids)))}
    titles: dict[int, list[str]] = {}
    for store_id, title in session.execute(
        select(Product.store_id, Product.title).where(
            Product.store_id.in_(store_ids), Product.status == ProductStatus.LISTED.value
        )
    ):
        titles.setdefault(store_id, []).append(title)
    for store_id in store_ids:
        n = complaints.get(store_id, 0)
        r = rates(metrics.get(store_id))
        noise = [ranking.title_noise(t) for t in titles.get(store_id, [])]
        if n >= config.max_complaints:
            flags[store_id] = f"{n} complaints in 30 days (limit {config.max_complaints - 1})"
        elif r.orders_paid >= config.min_orders_for_rates and (r.complaint_rate or 0) > config.max_complaint_rate:
            flags[store_id] = f"complaint rate {r.complaint_rate:.0%} above {config.max_complaint_rate:.0%}"
        elif r.orders_paid >= config.min_orders_for_rates and (r.refund_rate or 0) > config.max_refund_rate:
            flags[store_id] = f"refund rate {r.refund_rate:.0%} above {config.max_refund_rate:.0%}"
        elif noise and sum(noise) / len(noise) >= config.max_noise:
            flags[store_id] = f"listed titles are stuffed with promotional words (noise {sum(noise) / len(noise):.2f})"
    return flags


def run_launch_round(
    session: Session, clock: Clock, settings: Settings, snap: Snapshot | None = None
) -> dict[str, int]:
    """Enrol new merchants (quota sized to the forecast supply), recount delivery from the log, close
    windows, (re)check red flags, and solve the allocation plan for the open enrolments (allocation.py).
    `snap`: the serving snapshot (interests and categories) the forecast reads; without one (the very
    first round) quotas are not sized and the plan serves greedily in enrolment order."""
    now = clock.now()
    config = get_launch_config(session, settings)
    policy = get_policy(session, settings)
    enrolled = {e.store_id: e for e in session.scalars(select(LaunchEnrolment).with_for_update())}
    window = timedelta(days=config.window_days)
    profile = board_mod.traffic_profile(session, now)
    fc = allocation.forecast(session, now, snap, config.share) if snap is not None else None
    contracts = _Contracts(session, snap, profile, config.lead, now)
    free: np.ndarray | None = None  # forecast supply not yet booked (computed on the first new enrolment)
    arrivals = _Arrivals(contracts, list(enrolled.values()), now, len(snap.root_ids) if snap is not None else 0)
    created = 0
    for store in session.scalars(
        select(Store).where(Store.status == StoreStatus.ACTIVE.value, Store.first_listed_at.is_not(None))
    ):
        assert store.first_listed_at is not None
        if store.id in enrolled or not is_new_merchant(store, policy, now) or store.first_listed_at + window <= now:
            continue
        e = LaunchEnrolment(
            store_id=store.id,
            status=LaunchStatus.ACTIVE.value,
            quota=config.quota,
            asked_quota=config.quota,
            delivered=0,
            started_at=store.first_listed_at,
            ends_at=store.first_listed_at + window,
            updated_at=now,
            targeting=allocation.LEVELS[0],
        )
        if fc is not None and config.sizing:
            if free is None:
                free = allocation.free_supply(
                    fc, contracts.of([b for b in enrolled.values() if b.status == LaunchStatus.ACTIVE])
                )
            new = contracts.of([e])[0]
            e.quota, e.plan_note = allocation.size_quota(
                fc,
                free,
                new,
                config.quota,
                fill=config.fill,
                warn_below=config.warn_below,
                share=arrivals.share(new, config.window_days),
            )
        session.add(e)
        enrolled[store.id] = e
        created += 1
    session.flush()
    open_ids = [s for s, e in enrolled.items() if e.status in (LaunchStatus.ACTIVE, LaunchStatus.WITHHELD)]
    counts = _delivered(session, open_ids)
    for store_id in open_ids:
        enrolled[store_id].delivered = counts.get(store_id, 0)
    if fc is not None and fc.known and config.sizing:
        # sized again each round until booked: enrolled before there was a forecast (a new platform's
        # first hours), or held for want of interested traffic (the supply may have come since)
        waiting = [enrolled[s] for s in open_ids if _resizable(enrolled[s]) and now < enrolled[s].ends_at]
        booked = [b for b in enrolled.values() if b.status == LaunchStatus.ACTIVE and not _resizable(b)]
        spare = allocation.free_supply(fc, contracts.of(booked)) if waiting else fc.root_rate
        for e in waiting:
            again = contracts.of([e])[0]
            quota, note = allocation.size_quota(
                fc,
                spare,
                again,
                e.asked_quota or e.quota,
                fill=config.fill,
                warn_below=config.warn_below,
                share=arrivals.share(again, config.window_days),
            )
            e.quota, e.plan_note = max(quota, min(e.quota, e.delivered + 1)), note
    flags = red_flags(session, open_ids, config, now)
    active = set(
        session.scalars(select(Store.id).where(Store.id.in_(open_ids), Store.status == StoreStatus.ACTIVE.value))
    )
    for store_id in open_ids:
        e = enrolled[store_id]
        if e.delivered >= e.quota and not _no_traffic(e):
            e.status, e.reached_at = LaunchStatus.REACHED.value, now
        elif now >= e.ends_at:
            # withheld for cause to the end stays withheld (never owed the quota); held for want of traffic
            # to the end is a miss
            if e.status != LaunchStatus.WITHHELD or e.withheld_reason == NO_TRAFFIC_REASON:
                e.status = LaunchStatus.EXPIRED.value
        else:
            flag = flags.get(store_id) if store_id in active else "the store is not active"
            if flag is None and _no_traffic(e):
                # admission control: no contract the supply cannot carry even once (re-sized each round)
                flag = NO_TRAFFIC_REASON
            e.status = LaunchStatus.WITHHELD.value if flag else LaunchStatus.ACTIVE.value
            e.withheld_reason = flag
        e.updated_at = now
    if fc is not None and fc.known:  # no forecast yet: the boards serve greedily (alpha 1, enrolment order)
        _plan(fc, [e for e in enrolled.values() if e.status == LaunchStatus.ACTIVE], contracts, config, now)
    session.flush()
    return {"enrolled": created, "open": len(open_ids)}


class _Arrivals:
    """How many new stores enrol per day in each top-level category (the last 7 days' enrolments)."""

    def __init__(self, contracts: _Contracts, rows: list[LaunchEnrolment], now: datetime, n_roots: int) -> None:
        self.rate = np.zeros(n_roots)
        recent = [e for e in rows if e.started_at >= now - timedelta(days=allocation.FORECAST_DAYS)]
        for c in contracts.of(recent):
            roots = c.roots
            if len(roots):
                self.rate[roots] += 1.0 / len(roots) / allocation.FORECAST_DAYS

    def share(self, c: allocation.Contract, window_days: float) -> float:
        """1 / (1 + stores expected to enrol in this contract's segments during its window)."""
        roots = c.roots
        return 1.0 / (1.0 + float(self.rate[roots].sum()) * window_days) if len(roots) else 1.0


def _resizable(e: LaunchEnrolment) -> bool:
    return (e.plan_note or "").startswith((allocation.NO_FORECAST, allocation.NO_TRAFFIC))


def _no_traffic(e: LaunchEnrolment) -> bool:
    return (e.plan_note or "").startswith(allocation.NO_TRAFFIC)


class _Contracts:
    """Enrolments as the planner's contracts: their products' categories (compact snapshot indices, from
    the catalog so a store listed since the snapshot counts) and the traffic left in their windows."""

    def __init__(self, session: Session, snap: Snapshot | None, profile: np.ndarray, lead: float, now: datetime):
        self.session, self.snap, self.profile, self.lead, self.now = session, snap, profile, lead, now

    def of(self, rows: list[LaunchEnrolment]) -> list[allocation.Contract]:
        snap = self.snap
        if snap is None or not rows:
            return []
        cats: dict[int, set[int]] = {}
        for store_id, category_id in self.session.execute(
            select(Product.store_id, Product.category_id).where(
                Product.store_id.in_([e.store_id for e in rows]), Product.status == ProductStatus.LISTED.value
            )
        ):
            cats.setdefault(store_id, set()).add(category_id)
        start = np.asarray([e.started_at.timestamp() for e in rows])
        end = np.asarray([e.ends_at.timestamp() for e in rows])
        finish = start + (end - start) * (1 - self.lead)
        now = self.now.timestamp()
        left = board_mod.cumulative_traffic(finish, self.profile) - board_mod.cumulative_traffic(
            np.minimum(now, finish), self.profile
        )
        out = []
        for e, days in zip(rows, left, strict=True):
            ids = np.asarray(sorted(cats.get(e.store_id, ())), np.int64)
            pos = np.minimum(np.searchsorted(snap.category_ids, ids), max(len(snap.category_ids) - 1, 0))
            pos = pos[snap.category_ids[pos] == ids] if len(ids) and len(snap.category_ids) else pos[:0]
            level = allocation.level_of(e.targeting)
            need = max(float(e.quota - (e.delivered or 0)), 0.0)
            out.append(allocation.Contract(e.store_id, need, float(max(days, 0.0)), pos, snap.cat_root[pos], level))
        return out


def _plan(
    fc: allocation.Forecast,
    rows: list[LaunchEnrolment],
    contracts: _Contracts,
    config: LaunchConfig,
    now: datetime,
) -> None:
    """Solve the round's allocation plan and keep it on the enrolments (the boards serve from it)."""
    planned = contracts.of(rows)
    for e, c in zip(rows, planned, strict=True):
        span = (e.ends_at - e.started_at).total_seconds() * (1 - config.lead)
        elapsed = min(max((now - e.started_at).total_seconds() / max(span, 1.0), 0.0), 1.0)
        # a contract far behind its (linear) target a third of the way in gets wider targeting at once
        if elapsed >= 0.3 and e.delivered < config.behind_widen * e.quota * elapsed:
            c.level = min(c.level + 1, len(allocation.LEVELS) - 1)
    for e, c, a in zip(rows, planned, allocation.plan(fc, planned, config.alpha_max), strict=True):
        e.targeting = allocation.LEVELS[c.level]
        e.plan = {
            "alpha": round(a.alpha, 4) if a.alpha < 1e6 else None,
            "order": a.order,
            "supply_per_day": round(a.supply_per_day, 1),
            "need": round(c.need, 1),
            "days_left": round(c.days_left, 3),
            "feasible": a.feasible,
            "planned_at": now.isoformat(),
        }


def _delivered(session: Session, store_ids: list[int]) -> dict[int, int]:
    if not store_ids:
        return {}
    rows = session.execute(
        select(TrafficEvent.store_id, func.count())
        .where(
            TrafficEvent.kind == "impression",
            TrafficEvent.quality.is_(True),
            TrafficEvent.store_id.in_(store_ids),
        )
        .group_by(TrafficEvent.store_id)
    ).all()
    return {int(s or 0): int(n) for s, n in rows}


@dataclass(frozen=True)
class LaunchKpi:
    enrolled: int
    active: int
    withheld: int
    reached: int
    expired: int
    coverage: float | None  # reached / (reached + expired): THE coverage (API, ops console, simulator);
    # expired includes stores held for want of interested traffic to the end of their window
    launch_impressions: int
    quality_impressions: int  # feed.quality_level impressions of enrolled stores, launch slots and organic
    gmv_cost_fen: int  # expected GMV of the organic items the launch slots displaced, less theirs
    sized_down: int  # quota sized below the asked one to fit the forecast supply
    supply_short: int  # sized below warn_below, or not booked: its categories' interested traffic is thin


def launch_kpi(session: Session) -> LaunchKpi:
    counts = dict(session.execute(select(LaunchEnrolment.status, func.count()).group_by(LaunchEnrolment.status)).all())
    reached, expired = counts.get("reached", 0), counts.get("expired", 0)
    impressions, cost = 0, 0
    for features, expected in session.execute(
        select(TrafficEvent.features, TrafficEvent.expected_fen).where(
            TrafficEvent.slot == "launch", TrafficEvent.kind == "impression"
        )
    ):
        impressions += 1
        cost += int((features or {}).get("displaced_ev_fen", 0)) - int(expected)
    quality = session.scalar(
        select(func.count()).where(
            TrafficEvent.kind == "impression",
            TrafficEvent.quality.is_(True),
            TrafficEvent.store_id.in_(select(LaunchEnrolment.store_id)),
        )
    )
    sized_down = session.scalar(
        select(func.count()).where(
            LaunchEnrolment.asked_quota.is_not(None), LaunchEnrolment.quota < LaunchEnrolment.asked_quota
        )
    )
    short = session.scalar(
        select(func.count()).where(
            LaunchEnrolment.plan_note.like(f"{allocation.SHORT}%")
            | LaunchEnrolment.plan_note.like(f"{allocation.NO_TRAFFIC}%")
        )
    )
    return LaunchKpi(
        quality_impressions=int(quality or 0),
        sized_down=int(sized_down or 0),
        supply_short=int(short or 0),
        enrolled=sum(counts.values()),
        active=counts.get("active", 0),
        withheld=counts.get("withheld", 0),
        reached=reached,
        expired=expired,
        coverage=round(reached / (reached + expired), 4) if reached + expired else None,
        launch_impressions=impressions,
        gmv_cost_fen=max(cost, 0),
    )


# --- boost reviews ---------------------------------------------------------------------------------------


def store_measures(session: Session, store_id: int, now: datetime) -> dict[str, float]:
    def orders(since: timedelta, until: timedelta = timedelta(0)) -> int:
        return int(
            session.scalar(
                select(func.count()).where(
                    TrafficEvent.kind == "order",
                    TrafficEvent.store_id == store_id,
                    TrafficEvent.occurred_at >= now - since,
                    TrafficEvent.occurred_at < now - until,
                )
            )
            or 0
        )

    r = rates(session.get(StoreMetrics, store_id))
    last, before = orders(timedelta(days=7)), orders(timedelta(days=14), timedelta(days=7))
    return {
        "orders_30d": orders(timedelta(days=30)),
        "good_review_rate": r.good_review_rate if r.good_review_rate is not None else 0.0,
        "refund_rate": r.refund_rate or 0.0,
        "complaint_rate": r.complaint_rate or 0.0,
        "on_time_rate": r.on_time_shipping_rate if r.on_time_shipping_rate is not None else 0.0,
        "growth": round(last / max(before, 1), 3),
    }


def unmet(tier: BoostTier, m: dict[str, float], margin: float = 0.0) -> list[str]:
    """Thresholds of `tier` that the measures miss (relaxed by `margin` for exit checks)."""
    misses = []
    if m["orders_30d"] < tier.min_orders_30d * (1 - margin * 4):
        misses.append(f"orders in 30 days {m['orders_30d']:.0f} < {tier.min_orders_30d}")
    if m["good_review_rate"] < tier.min_good_review_rate - margin:
        misses.append(f"good-review rate {m['good_review_rate']:.2f} < {tier.min_good_review_rate}")
    if m["refund_rate"] > tier.max_refund_rate + margin:
        misses.append(f"refund rate {m['refund_rate']:.2f} > {tier.max_refund_rate}")
    if m["complaint_rate"] > tier.max_complaint_rate + margin / 5:
        misses.append(f"complaint rate {m['complaint_rate']:.3f} > {tier.max_complaint_rate}")
    if m["on_time_rate"] < tier.min_on_time_rate - margin:
        misses.append(f"on-time shipping {m['on_time_rate']:.2f} < {tier.min_on_time_rate}")
    if m["growth"] < tier.min_growth - margin * 2:
        misses.append(f"order growth {m['growth']:.2f} < {tier.min_growth}")
    return misses


def decide_tier(config: BoostConfig, current: str | None, m: dict[str, float]) -> tuple[str | None, str]:
    """(new tier, reason): highest tier whose entry thresholds pass; a member keeps a higher tier while it
    passes that tier's exit thresholds."""
    names = [t.name for t in config.tiers]
    entry = None
    for tier in config.tiers:
        if not unmet(tier, m):
            entry = tier.name
    if current in names:
        rank = names.index(current)
        tier = config.tiers[rank]
        misses = unmet(tier, m, config.exit_margin)
        if not misses and (entry is None or names.index(entry) <= rank):
            return current, "keeps its tier"
        if misses and (entry is None or names.index(entry) < rank):
            return entry, "left " + current + ": " + "; ".join(misses)
    if entry is None:
        return None, "not eligible: " + "; ".join(unmet(config.tiers[0], m)) if config.tiers else "no tiers"
    return entry, f"met every {entry} threshold"


def run_boost_round(session: Session, clock: Clock) -> int:
    """Review every active store's tier; returns how many changed."""
    config = get_boost_config(session)
    now = clock.now()
    members = {b.store_id: b for b in session.scalars(select(BoostMembership).with_for_update())}
    changed = 0
    for store_id in session.scalars(select(Store.id).where(Store.status == StoreStatus.ACTIVE.value)):
        member = members.get(store_id)
        if member is None and not session.scalar(
            select(StoreMetrics.orders_paid).where(StoreMetrics.store_id == store_id)
        ):
            continue  # no orders ever: cannot qualify (skip the measuring queries)
        m = store_measures(session, store_id, now)
        tier, reason = decide_tier(config, member.tier if member else None, m)
        if member is not None and tier == member.tier:
            member.reviewed_at, member.measures = now, m
            continue
        if member is None and tier is None:
            continue
        session.add(
            BoostChange(
                store_id=store_id,
                from_tier=member.tier if member else None,
                to_tier=tier,
                at=now,
                reason=reason[:300],
                measures=m,
            )
        )
        if tier is None:
            session.delete(member)
        elif member is None:
            session.add(BoostMembership(store_id=store_id, tier=tier, entered_at=now, reviewed_at=now, measures=m))
        else:
            member.tier, member.entered_at, member.reviewed_at, member.measures = tier, now, now, m
        changed += 1
    for store_id, member in members.items():  # stores no longer active leave at once
        if session.get(Store, store_id) is not None and session.get(Store, store_id).status != StoreStatus.ACTIVE:  # type: ignore[union-attr]
            session.add(
                BoostChange(
                    store_id=store_id,
                    from_tier=member.tier,
                    to_tier=None,
                    at=now,
                    reason="store not active",
                    measures={},
                )
            )
            session.delete(member)
            changed += 1
    session.flush()
    return changed


def boost_delivered_today(session: Session, store_ids: list[int], day_start: datetime) -> dict[int, int]:
    if not store_ids:
        return {}
    rows = session.execute(
        select(TrafficEvent.store_id, func.count())
        .where(
            TrafficEvent.slot == "boost",
            TrafficEvent.kind == "impression",
            TrafficEvent.store_id.in_(store_ids),
            TrafficEvent.occurred_at >= day_start,
        )
        .group_by(TrafficEvent.store_id)
    ).all()
    return {int(s or 0): int(n) for s, n in rows}


# --- operators' views ------------------------------------------------------------------------------------


def launch_overview(
    session: Session, settings: Settings, actor: Actor | None, *, status: str | None, limit: int
) -> tuple[LaunchConfig, LaunchKpi, list[LaunchEnrolment]]:
    require_role(actor, Role.OPERATOR)
    query = select(LaunchEnrolment).order_by(LaunchEnrolment.started_at.desc()).limit(limit)
    if status is not None:
        query = query.where(LaunchEnrolment.status == status)
    return get_launch_config(session, settings), launch_kpi(session), list(session.scalars(query))


def boost_overview(
    session: Session, actor: Actor | None
) -> tuple[BoostConfig, list[BoostMembership], list[BoostChange]]:
    require_role(actor, Role.OPERATOR)
    members = list(session.scalars(select(BoostMembership).order_by(BoostMembership.store_id)))
    changes = list(session.scalars(select(BoostChange).order_by(BoostChange.id.desc()).limit(50)))
    return get_boost_config(session), members, changes
