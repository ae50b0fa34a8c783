"""Guaranteed delivery for the launch plan: forecast supply, size quotas, plan the allocation, serve from it.

Each launch enrolment is a delivery contract — `quota` quality impressions inside its window — the way
guaranteed display advertising treats a booked campaign (SHALE, Bharadwaj et al., KDD 2012; the HWM
"compact allocation plan", Chen et al., EC 2012). Every background round (plans.run_launch_round):

1. **Forecast** (`forecast`): from the last `FORECAST_DAYS` of the impression log, feed page requests per
   shopper per day, times the launch slots a page carries (round(page size × share)). A request counts
   for the top-level categories its shopper is interested in, split by the shopper's interest weights,
   so the segments partition the supply (a shopper interested in two categories is not counted twice;
   online they are eligible for both, so the plan errs on the safe side). Requests from shoppers with no
   known interest (cold, or visitors) are supply no contract can use: such an impression is never a
   quality one (`quality.py`).
2. **Size** (`size_quota`, admission control): a new enrolment asks for the plan's `quota`; it gets what
   the supply left by the contracts already booked can carry over its window at `fill` (0.7: forecasts
   err) and no more than arrive with 99% probability when slots arrive as a Poisson stream (small
   segments), and less of a forecast from a young log (fill × √(span / 7 days)); it leaves its share to
   the stores expected to enrol in its segments during its window (1 / (1 + expected arrivals), from the
   last 7 days' enrolments), never more than asked; where its own top-level categories carry less than
   `warn_below`, shoppers of similar categories (step 3's widest level) are counted too —
   the way guaranteed delivery books only what the inventory holds. A quota below `warn_below` is flagged
   in its plan note (its category's interested traffic is too thin to carry a meaningful quota), so
   operators see it when it is booked, not when the window closes; a store for which the forecast
   carries not even one free slot is booked a thin quota over the booked ones if its categories'
   interested traffic carries it at all (a new merchant is owed a start, and the booked contracts finish
   early), else it is not booked yet: it is held ("no interested traffic"), re-sized every
   round, and booked as soon as interested shoppers appear — a search for its category is interest
   enough (features.QUERY_AFFINITY) —; held to the end of its window, it is a miss.
3. **Plan** (`plan`, HWM): contracts ordered by eligible supply, least first (the least flexible choose
   first); each takes the fraction `alpha` of its segments' remaining supply rate that meets its
   remaining need (quota − delivered) over the expected traffic left in its window. A contract whose
   alpha passes `alpha_max` at its targeting level is **widened** one level — leaf category → top-level
   category → similar shoppers (top-level categories that shoppers with these interests also browse,
   lift ≥ `SIMILAR_LIFT`) — and planned again; widening never narrows back.
4. **Serve** (`plans.Board.pick_planned`, online, no database): for a launch slot, the contracts this
   shopper is eligible for (interest at each contract's level, window open, quota not met, not ahead of
   its paced target) are tried in plan order; each takes the slot with probability alpha × value — or
   surely while it is behind its paced target (a small quota cannot afford the variance), where value =
   clip(EV of its best item for this shopper / the contract's running mean EV, 0.5, 2) prefers the slots
   where the item is worth most to the shopper — which keeps the plan's GMV cost small. A slot nobody
   takes goes back to the ranking.

The plan is a few numbers per enrolment (alpha, order, level, forecast supply), kept on the enrolment row
(`plan`), shown to operators, and re-solved every round from what has been delivered.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from scipy.stats import poisson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yinli.traffic.models import TrafficEvent

LEVELS = ("category", "top_category", "similar")
FORECAST_DAYS = 7
MIN_SPAN_DAYS = 0.25  # a younger log is extrapolated from at least six hours
SIMILAR_LIFT = 1.25
SIMILAR_MIN_SHOPPERS = 3
CONFIDENCE = 0.99  # a sized quota is delivered with at least this probability if the forecast is right
NO_FORECAST = "no supply forecast yet"
NO_TRAFFIC = "no interested traffic"  # the forecast carries not even one slot: not booked, re-sized each round
SHORT = "thin interested traffic"  # how a plan note flags a quota below warn_below


def level_of(targeting: str | None) -> int:
    return LEVELS.index(targeting) if targeting in LEVELS else 0


@dataclass(frozen=True)
class Forecast:
    """Launch slots per day by segment (compact snapshot indices), forecast from the log."""

    span_days: float
    requests_per_day: float
    warm_requests_per_day: float  # from shoppers with a known interest
    slots_per_request: float
    root_rate: np.ndarray  # per compact root: slots/day, requests split by interest weight
    cat_rate: np.ndarray  # per compact leaf category: slots/day, likewise
    similar: np.ndarray  # bool [root, root]: shoppers interested in the row also browse the column

    @classmethod
    def empty(cls, n_roots: int, n_cats: int) -> Forecast:
        return cls(0.0, 0.0, 0.0, 0.0, np.zeros(n_roots), np.zeros(n_cats), np.zeros((n_roots, n_roots), bool))

    @property
    def known(self) -> bool:
        return self.span_days > 0

    def widened(self, roots: np.ndarray) -> np.ndarray:
        """The roots plus their similar roots (compact indices)."""
        if not len(roots):
            return roots
        return np.unique(np.concatenate([roots, np.flatnonzero(self.similar[roots].any(axis=0))]))


def interest_roots(snap: object, interests: dict[int, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(compact cats, their weights, compact roots of those cats) of one shopper's interests."""
    category_ids: np.ndarray = snap.category_ids  # type: ignore[attr-defined]
    cat_root: np.ndarray = snap.cat_root  # type: ignore[attr-defined]
    if not interests or not len(category_ids):
        empty = np.zeros(0, np.int64)
        return empty, np.zeros(0), empty
    keys = np.fromiter(interests.keys(), np.int64, len(interests))
    weights = np.fromiter(interests.values(), np.float64, len(interests))
    pos = np.minimum(np.searchsorted(category_ids, keys), len(category_ids) - 1)
    ok = (category_ids[pos] == keys) & (weights > 0)
    return pos[ok], weights[ok], cat_root[pos[ok]]


def similar_roots(snap: object) -> np.ndarray:
    """Lookalike top-level categories: B is similar to A when shoppers interested in A are at least
    SIMILAR_LIFT times as likely as the average shopper with known interests to be interested in B (and at
    least SIMILAR_MIN_SHOPPERS share both)."""
    n = len(snap.root_ids)  # type: ignore[attr-defined]
    rows = []
    for interests in snap.affinities.values():  # type: ignore[attr-defined]
        _, _, roots = interest_roots(snap, interests)
        if len(roots):
            row = np.zeros(n, bool)
            row[roots] = True
            rows.append(row)
    if not rows or n == 0:
        return np.zeros((n, n), bool)
    m = np.asarray(rows, np.float64)
    both = m.T @ m
    alone = np.diag(both)
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = (both / np.maximum(alone[:, None], 1)) / np.maximum(alone[None, :] / len(rows), 1e-12)
    similar = (lift >= SIMILAR_LIFT) & (both >= SIMILAR_MIN_SHOPPERS)
    np.fill_diagonal(similar, False)
    return similar


def forecast(session: Session, now: datetime, snap: object, share: float) -> Forecast:
    """Forecast launch-slot supply per segment from the last FORECAST_DAYS of feed impressions."""
    since = now - timedelta(days=FORECAST_DAYS)
    rows = session.execute(
        select(TrafficEvent.shopper_id, func.count(func.distinct(TrafficEvent.request_id)), func.count())
        .where(TrafficEvent.kind == "impression", TrafficEvent.occurred_at >= since)
        .group_by(TrafficEvent.shopper_id)
    ).all()
    first = session.scalar(
        select(func.min(TrafficEvent.occurred_at)).where(
            TrafficEvent.kind == "impression", TrafficEvent.occurred_at >= since
        )
    )
    if not rows or first is None:
        return Forecast.empty(len(snap.root_ids), len(snap.category_ids))  # type: ignore[attr-defined]
    requests = {int(shopper or 0): int(n) for shopper, n, _ in rows}
    impressions = sum(int(i) for _, _, i in rows)
    page = impressions / max(sum(requests.values()), 1)
    return forecast_from(snap, requests, (now - first) / timedelta(days=1), float(round(page * share)))


def forecast_from(snap: object, requests: dict[int, int], span_days: float, slots_per_request: float) -> Forecast:
    """The forecast from feed requests per shopper (0: visitors) over `span_days`: a request counts for
    the categories its shopper is interested in, split by interest weight (the module doc, step 1)."""
    n_roots, n_cats = len(snap.root_ids), len(snap.category_ids)  # type: ignore[attr-defined]
    if not requests:
        return Forecast.empty(n_roots, n_cats)
    span = max(MIN_SPAN_DAYS, span_days)
    root_rate, cat_rate = np.zeros(n_roots), np.zeros(n_cats)
    warm = 0
    affinities: dict[int, dict[int, float]] = snap.affinities  # type: ignore[attr-defined]
    for shopper, n_requests in requests.items():
        cats, weights, roots = interest_roots(snap, affinities.get(shopper, {}))
        if not len(cats):
            continue
        warm += n_requests
        per_day = n_requests * slots_per_request / span
        np.add.at(cat_rate, cats, per_day * weights / weights.sum())
        np.add.at(root_rate, roots, per_day * weights / weights.sum())
    total = sum(requests.values())
    return Forecast(span, total / span, warm / span, slots_per_request, root_rate, cat_rate, similar_roots(snap))


@dataclass
class Contract:
    """An enrolment as the planner sees it."""

    key: int  # store id
    need: float  # impressions still owed
    days_left: float  # expected traffic-days (hour-of-day weighted) until it should finish
    cats: np.ndarray  # compact leaf categories of its products
    cat_roots: np.ndarray  # the root of each of `cats`
    level: int = 0  # index into LEVELS

    @property
    def roots(self) -> np.ndarray:
        return np.unique(self.cat_roots)


@dataclass(frozen=True)
class Allocation:
    key: int
    alpha: float  # share of its eligible segments' slots it takes
    order: int  # position in the serving order (least flexible first)
    level: int
    supply_per_day: float  # eligible slots/day at its level
    feasible: bool  # alpha <= alpha_max at its level (the widest level may still be infeasible)


def eligible_rates(fc: Forecast, c: Contract) -> tuple[np.ndarray, np.ndarray]:
    """(root segments, slots/day from each) this contract may use at its level. At the leaf level a root
    segment offers only the share of its supply that comes from the contract's leaves."""
    if c.level == 0:
        rates = np.zeros(len(fc.root_rate))
        np.add.at(rates, c.cat_roots, fc.cat_rate[c.cats])
        segs = np.flatnonzero(rates > 0)
        return segs, rates[segs]
    segs = c.roots if c.level == 1 else fc.widened(c.roots)
    return segs, fc.root_rate[segs]


def _take(remaining: np.ndarray, segs: np.ndarray, rates: np.ndarray, need_rate: float) -> float:
    """Smallest alpha with sum(min(remaining, alpha × rate)) >= need_rate (inf when unreachable)."""
    if need_rate <= 0:
        return 0.0
    if not len(segs) or remaining[segs].sum() < need_rate - 1e-12:
        return float("inf")
    lo, hi = 0.0, 1.0
    while np.minimum(remaining[segs], hi * rates).sum() < need_rate:
        hi *= 2.0
        if hi > 1e6:
            return float("inf")
    for _ in range(40):
        mid = (lo + hi) / 2
        if np.minimum(remaining[segs], mid * rates).sum() >= need_rate:
            hi = mid
        else:
            lo = mid
    return hi


def plan(fc: Forecast, contracts: Sequence[Contract], alpha_max: float = 0.8) -> list[Allocation]:
    """HWM over rates: order by eligible supply, least first; each contract takes alpha of its segments'
    remaining rate; an infeasible contract (alpha > alpha_max) is widened one level and the plan solved
    again (at most len(LEVELS) passes). Mutates the contracts' `level`."""
    for _ in range(len(LEVELS)):
        out = _solve(fc, contracts, alpha_max)
        widen = [c for c, a in zip(contracts, out, strict=True) if not a.feasible and c.level < len(LEVELS) - 1]
        if not widen:
            return out
        for c in widen:
            c.level += 1
    return _solve(fc, contracts, alpha_max)


def _solve(fc: Forecast, contracts: Sequence[Contract], alpha_max: float) -> list[Allocation]:
    eligible = [eligible_rates(fc, c) for c in contracts]
    supply = np.asarray([rates.sum() for _, rates in eligible])
    order = np.argsort(supply, kind="stable")
    remaining = fc.root_rate.copy()
    result: dict[int, Allocation] = {}
    for rank, k in enumerate(order):
        c, (segs, rates) = contracts[k], eligible[k]
        need_rate = c.need / max(c.days_left, 1e-3)
        alpha = _take(remaining, segs, rates, need_rate)
        used = alpha if np.isfinite(alpha) else 1.0
        if len(segs):
            remaining[segs] -= np.minimum(remaining[segs], min(used, 1.0) * rates)
        result[k] = Allocation(
            c.key,
            float(min(alpha, 1e6)),
            rank,
            c.level,
            float(supply[k]),
            bool(np.isfinite(alpha) and alpha <= alpha_max),
        )
    return [result[k] for k in range(len(contracts))]


def free_supply(fc: Forecast, booked: Sequence[Contract]) -> np.ndarray:
    """Slots/day per root segment left once the booked contracts take their plan's share."""
    remaining = fc.root_rate.copy()
    for a, c in zip(_solve(fc, booked, float("inf")), booked, strict=True):
        segs, rates = eligible_rates(fc, c)
        if len(segs):
            remaining[segs] -= np.minimum(remaining[segs], min(a.alpha, 1.0) * rates)
    return remaining


def size_quota(
    fc: Forecast,
    free: np.ndarray,
    new: Contract,
    asked: int,
    *,
    fill: float,
    warn_below: int,
    confidence: float = CONFIDENCE,
    share: float = 1.0,
) -> tuple[int, str]:
    """(quota, note) for a new enrolment: what the free supply (`free_supply`) can carry over its window
    at `fill` — and no more than arrive with probability `confidence` when slots arrive as a Poisson
    stream — at its widest direct-interest level (top-level category), or counting similar shoppers too
    when that carries less than `warn_below`, never more than asked, at least 1.
    Admission control, as guaranteed delivery books only what the inventory holds: a quota below
    `warn_below` is flagged SHORT in the note (the category's interested traffic is too thin), so
    operators see it before the window. `share` (≤ 1) keeps the rest of the free supply for the stores
    expected to enrol in the same segments during the window. Takes the booked quota out of `free`."""
    if not fc.known:
        return asked, f"{NO_FORECAST} (empty log): asked quota kept until a round has one"
    quota, segs, expected = _carried(fc, free, new, asked, 1, fill, confidence, share)
    via = ""
    if quota < warn_below:
        # thin at its own top-level categories: similar shoppers count as quality traffic too (the plan
        # would widen to them anyway), so size on them rather than book a token quota
        wide, wide_segs, wide_expected = _carried(fc, free, new, asked, 2, fill, confidence, share)
        if wide > quota:
            quota, segs, expected, via = wide, wide_segs, wide_expected, ", with similar shoppers"
    if quota < 1:
        # what is free is booked by the stores that came first; a new merchant is still owed a start: book
        # a thin quota over them when the interested traffic itself (booked or not) carries it (the booked
        # contracts are paced to finish early, so slots come free as they are met)
        over, over_segs, over_expected = _carried(
            fc, fc.root_rate, new, min(asked, max(warn_below, 1)), 2, fill, confidence, share
        )
        if over >= 1:
            quota, segs, expected = over, over_segs, over_expected
            note = f"{SHORT}: its categories' supply is booked; {quota} over it ({expected:.0f} slots in the window)"
            _book(free, segs, quota, new.days_left)
            return quota, note
        return 1, f"{NO_TRAFFIC}: forecast {expected:.1f} slots free in the window; not booked"

    _book(free, segs, quota, new.days_left)
    if quota >= asked:
        return asked, f"forecast supply carries the asked quota ({expected:.0f} slots free in the window{via})"
    if quota < warn_below:
        return quota, f"{SHORT}: forecast {expected:.0f} slots free in the window{via} (quota {quota})"
    return quota, f"sized to forecast supply: {quota} of {asked} asked ({expected:.0f} slots free in the window{via})"


def _book(free: np.ndarray, segs: np.ndarray, quota: int, days_left: float) -> None:
    """Take a booked quota's rate out of the free supply."""
    if len(segs) and days_left > 0:
        alpha = _take(free, segs, free[segs], quota / days_left)
        if np.isfinite(alpha):
            free[segs] -= np.minimum(free[segs], alpha * free[segs])


def _carried(
    fc: Forecast,
    free: np.ndarray,
    new: Contract,
    asked: int,
    level: int,
    fill: float,
    confidence: float,
    share: float,
) -> tuple[int, np.ndarray, float]:
    """(quota the free supply carries at `level`, its segments, expected free slots in the window)."""
    segs, _ = eligible_rates(fc, Contract(new.key, 0.0, new.days_left, new.cats, new.cat_roots, level=level))
    # `share`: what is left for the stores expected to enrol in these segments during the window is kept
    # for them (guaranteed delivery reserves inventory for bookings to come)
    expected = float(free[segs].sum()) * new.days_left * share if len(segs) else 0.0
    # a forecast from a young log (a new platform, a first week) errs more: book less of it
    carry = expected * fill * min(1.0, math.sqrt(fc.span_days / FORECAST_DAYS))
    # Shoppers arrive at random: with few expected slots, fill alone books more than arrives too often.
    # Count arrivals as Poisson(expected) and book no more than arrive with probability `confidence`.
    sure = int(poisson.ppf(1.0 - confidence, expected)) if expected > 0 else 0  # P(arrivals >= sure) >= confidence
    return min(asked, int(carry + 1e-6), sure), segs, expected  # (+1e-6: the bisection errs up by a hair)
