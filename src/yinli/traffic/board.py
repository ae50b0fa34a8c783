"""Plan boards: the serving side of the launch and boost plans, in memory, read by the feed's hot path.

A board holds the stores owed paced impressions (launch enrolments, or boost tiers' daily budgets) by
store index of a snapshot, with their products indexed by category. Pacing: a store's target by time t is
quota × (share of its window's expected traffic before t), finishing `lead` early, where expected traffic
follows the hour-of-day profile of logged impressions; a store ahead of its target waits, so its
impressions spread through the day instead of landing in the first hour.

The boost plan picks the most-behind store the shopper cares about (`pick`). The launch plan serves from
the round's allocation plan (`pick_planned`, see `allocation.py`): per store an `alpha`, an order and a
targeting level.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from yinli.traffic.allocation import LEVELS
from yinli.traffic.models import TrafficEvent

HOUR = 3600.0
DAY = 86400.0
PLANNED_TRIES = 16  # a launch slot considers at most this many eligible stores, in plan order


def cumulative_traffic(t: np.ndarray | float, profile: np.ndarray, cum: np.ndarray | None = None) -> np.ndarray:
    """Expected share of a day's traffic from epoch to `t`, in days (1.0 per whole day)."""
    t = np.asarray(t, dtype=np.float64)
    if cum is None:
        cum = np.concatenate([[0.0], np.cumsum(profile)])
    days, rest = np.divmod(t, DAY)
    hour = np.minimum((rest // HOUR).astype(np.int64), 23)
    return days + cum[hour] + profile[hour] * (rest - hour * HOUR) / HOUR


@dataclass
class Board:
    """Stores owed paced impressions, by store index of a snapshot.

    `delivered` is mutable: each quality impression served increments it; the background round resets it
    from the event log (the durable count). `alpha`, `rank` and `level` are the launch plan's allocation
    (absent on the boost board); `similar` is the forecast's lookalike matrix over compact roots."""

    store: np.ndarray  # snapshot store indices
    store_ids: np.ndarray
    quota: np.ndarray
    delivered: np.ndarray
    start: np.ndarray  # epoch seconds
    end: np.ndarray
    by_cat: dict[int, np.ndarray]  # compact category -> board positions
    by_root: dict[int, np.ndarray]
    products: list[np.ndarray]  # per board position: the store's products, best first
    profile: np.ndarray  # 24 hourly traffic shares
    lead: float = 0.0
    tiers: list[str] = field(default_factory=list)
    position_of: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # store index -> position
    alpha: np.ndarray | None = None
    rank: np.ndarray | None = None
    level: np.ndarray | None = None
    similar: np.ndarray | None = None
    ev_mean: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __len__(self) -> int:
        return len(self.store)

    def __post_init__(self) -> None:
        self._cum = np.concatenate([[0.0], np.cumsum(self.profile)])
        finish = self.start + (self.end - self.start) * (1 - self.lead)
        self._c_start = cumulative_traffic(self.start, self.profile, self._cum)
        self._c_finish = cumulative_traffic(finish, self.profile, self._cum)
        self._finish = finish
        if len(self.ev_mean) != len(self.store):
            self.ev_mean = np.zeros(len(self.store))

    def target(self, positions: np.ndarray, now: float) -> np.ndarray:
        """Impressions a store should have had by `now`: its quota times the share of its window's expected
        traffic (hour-of-day profile) that has passed, the window shortened by `lead`."""
        done = cumulative_traffic(np.minimum(now, self._finish[positions]), self.profile, self._cum)
        span = self._c_finish[positions] - self._c_start[positions]
        share = (done - self._c_start[positions]) / np.maximum(span, 1e-9)
        return self.quota[positions] * np.clip(share, 0.0, 1.0)

    def days_left(self, positions: np.ndarray, now: float) -> np.ndarray:
        """Expected traffic-days (hour-of-day weighted) from `now` until each store should finish."""
        start = cumulative_traffic(np.minimum(now, self._finish[positions]), self.profile, self._cum)
        return np.maximum(self._c_finish[positions] - start, 0.0)

    def _open(self, positions: np.ndarray, now: float, exclude: set[int]) -> np.ndarray:
        live = (self.start[positions] <= now) & (now < self.end[positions])
        positions = positions[live & (self.delivered[positions] < self.quota[positions])]
        if exclude:
            positions = positions[~np.isin(self.store[positions], list(exclude))]
        return positions

    def _deficit(self, positions: np.ndarray, now: float) -> np.ndarray:
        burst = np.maximum(1.0, 0.01 * self.quota[positions])  # lets a store start at once
        return (self.target(positions, now) + burst - self.delivered[positions]) / self.quota[positions]

    def pick(
        self, cats: np.ndarray, roots: np.ndarray, now: float, rng: np.random.Generator, exclude: set[int]
    ) -> tuple[int, str] | None:
        """The most-behind store the shopper cares about: (board position, 'category' | 'top_category')."""
        for match, keys, index in (("category", cats, self.by_cat), ("top_category", roots, self.by_root)):
            found = [index[int(k)] for k in keys if int(k) in index]
            if not found:
                continue
            positions = self._open(np.unique(np.concatenate(found)), now, exclude)
            if not len(positions):
                continue
            deficit = self._deficit(positions, now)
            behind = deficit > 0
            if behind.any():
                scores = np.where(behind, deficit, -np.inf) + rng.random(len(positions)) * 1e-6
                return int(positions[int(np.argmax(scores))]), match
        return None

    def matches(self, cats: np.ndarray, roots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions, narrowest interest level of this shopper in each) among the stores whose targeting
        level admits this shopper: a leaf interest, a top-level one, or a similar top-level category."""
        n = len(self.store)
        level = np.full(n, len(LEVELS), np.int64)
        for c in cats:
            hit = self.by_cat.get(int(c))
            if hit is not None:
                level[hit] = 0
        for r in roots:
            hit = self.by_root.get(int(r))
            if hit is not None:
                level[hit] = np.minimum(level[hit], 1)
        if self.similar is not None and len(roots):
            for r in np.flatnonzero(self.similar[np.asarray(roots, np.int64)].any(axis=0)):
                hit = self.by_root.get(int(r))
                if hit is not None:
                    level[hit] = np.minimum(level[hit], 2)
        allowed = self.level if self.level is not None else np.ones(n, np.int64)
        positions = np.flatnonzero(level <= allowed)
        return positions, level[positions]

    def pick_planned(
        self,
        cats: np.ndarray,
        roots: np.ndarray,
        now: float,
        rng: np.random.Generator,
        exclude: set[int],
        value_of: Callable[[np.ndarray], np.ndarray],
    ) -> tuple[int, str] | None:
        """The launch slot's store by the allocation plan (module doc of allocation.py): eligible stores in
        plan order, each taking the slot with probability alpha × value, or surely while behind its paced
        target. `value_of(positions)`: the
        expected GMV of each store's best item for this shopper."""
        positions, levels = self.matches(cats, roots)
        keep = np.isin(positions, self._open(positions, now, exclude))
        positions, levels = positions[keep], levels[keep]
        if not len(positions):
            return None
        deficit = self._deficit(positions, now)
        positions, levels, deficit = positions[deficit > 0], levels[deficit > 0], deficit[deficit > 0]
        if not len(positions):
            return None
        rank = self.rank[positions] if self.rank is not None else np.zeros(len(positions))
        order = np.lexsort((rng.random(len(positions)), rank))[:PLANNED_TRIES]
        positions, levels, deficit = positions[order], levels[order], deficit[order]
        alpha = self.alpha[positions] if self.alpha is not None else np.ones(len(positions))
        # behind its paced target since the round: take every eligible slot until back on target (the plan's
        # alpha is a rate; a small quota cannot afford the variance of sampling it)
        behind = self.delivered[positions] < self.target(positions, now)
        ev = np.asarray(value_of(positions), np.float64)
        fresh = self.ev_mean[positions] <= 0
        self.ev_mean[positions] = np.where(fresh, ev, 0.9 * self.ev_mean[positions] + 0.1 * ev)
        value = np.clip(ev / np.maximum(self.ev_mean[positions], 1e-9), 0.5, 2.0)
        p = np.where(behind, 1.0, np.minimum(alpha * value, 1.0))
        u, mass = rng.random(), 0.0
        for k in range(len(positions)):
            take = min(float(p[k]), 1.0 - mass)
            if u < mass + take:
                return int(positions[k]), LEVELS[int(levels[k])]
            mass += take
            if mass >= 1.0:
                break
        return None


def build_board(
    snap: Any,
    store_ids: np.ndarray,
    quota: np.ndarray,
    delivered: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    profile: np.ndarray,
    lead: float,
    tiers: list[str] | None = None,
    plan: dict[str, np.ndarray] | None = None,
    similar: np.ndarray | None = None,
) -> Board:
    """Index the stores' products by category for the controller (only stores the snapshot can show).
    `plan`: the launch plan's per-store "alpha", "rank" and "level" arrays, aligned with `store_ids`."""
    idx = snap.store_index(np.asarray(store_ids, np.int64)) if len(store_ids) else np.zeros(0, np.int64)
    keep = np.flatnonzero(idx >= 0)
    keep = np.asarray([k for k in keep if snap.store_ptr[idx[k] + 1] > snap.store_ptr[idx[k]]], np.int64)
    by_cat: dict[int, list[int]] = {}
    by_root: dict[int, list[int]] = {}
    products = []
    for pos, k in enumerate(keep):
        s = idx[k]
        items = snap.store_items[snap.store_ptr[s] : snap.store_ptr[s + 1]]
        products.append(items)
        for c in np.unique(snap.cat[items]):
            by_cat.setdefault(int(c), []).append(pos)
        for r in np.unique(snap.root[items]):
            by_root.setdefault(int(r), []).append(pos)
    position_of = np.full(len(snap.store_ids), -1, np.int64)
    position_of[idx[keep]] = np.arange(len(keep))
    planned = {k: np.asarray(v)[keep] for k, v in plan.items()} if plan else {}
    return Board(
        position_of=position_of,
        store=idx[keep].astype(np.int64),
        store_ids=np.asarray(store_ids, np.int64)[keep],
        quota=np.asarray(quota, np.float64)[keep],
        delivered=np.asarray(delivered, np.float64)[keep].copy(),
        start=np.asarray(start, np.float64)[keep],
        end=np.asarray(end, np.float64)[keep],
        by_cat={k: np.asarray(v, np.int64) for k, v in by_cat.items()},
        by_root={k: np.asarray(v, np.int64) for k, v in by_root.items()},
        products=products,
        profile=profile,
        lead=lead,
        tiers=[tiers[k] for k in keep] if tiers else [],
        alpha=planned.get("alpha"),
        rank=planned.get("rank"),
        level=planned.get("level"),
        similar=similar,
    )


def traffic_profile(session: Session, now: datetime) -> np.ndarray:
    """Hour-of-day shares of the last 7 days' feed impressions (flat until there is a day of data)."""
    hours = np.ones(24)
    times = session.scalars(
        select(TrafficEvent.occurred_at).where(
            TrafficEvent.kind == "impression", TrafficEvent.occurred_at >= now - timedelta(days=7)
        )
    ).all()
    if len(times) >= 24 * 20:
        for t in times:
            hours[t.hour] += 1
    return hours / hours.sum()
