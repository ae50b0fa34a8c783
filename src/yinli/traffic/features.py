"""Rolling, exponentially decayed counters per product, store, creator, video, live session and shopper,
kept from the event log, and the rates ranking reads from them (CTR, CVR, GPM, refund and complaint rates).

Decay: a counter is `sum(x_i * 2^-((t - t_i) / half_life))`. Each entity keeps its sums *as of* the latest
event time it has seen; an event at `t` either decays the sums forward to `t` and adds `x`, or (if it is
older, e.g. a late client batch) adds `x * 2^-((as_of - t) / half_life)`. Both give the same sums whatever
the order of arrival, which is why `FeatureStore.rebuild` (the whole log from the start) equals the
incrementally kept store (`follow`, run by the background jobs) up to float rounding.

Shopper interests are counters too: per (shopper, category) affinity (click 1, add-to-cart 3, order 5,
a minute of watching 1, a search query ½ for each category it names), and the last few products each
shopper engaged with (for co-purchase candidates).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import numpy as np
from sqlalchemy.orm import Session

from yinli.core.clock import Clock

COUNTERS = ("impressions", "clicks", "watch_seconds", "carts", "orders", "gmv_fen", "returns", "complaints")
C = {name: i for i, name in enumerate(COUNTERS)}
ENTITIES = ("product", "store", "creator", "video", "live", "shopper")
AFFINITY_WEIGHTS = {"click": 1.0, "add_to_cart": 3.0, "order": 5.0}
WATCH_AFFINITY_PER_SECOND = 1 / 60
# What a shopper does off the engine's surfaces (a search result clicked, a video watched on its page)
# tells the feed what they care about but is not a feed measure: such events (events.consume_outbox) feed
# the shopper's interests only, never an item's CTR or watch time, and carry no experiment bucket.
SEARCH_QUERY = "search_query"  # the surface of a query's interest events (events.consume_outbox)
INTEREST_ONLY = ("search", "video_page", SEARCH_QUERY)
# A search query names what the shopper wants, found or not: half a click's interest in each category it
# names (catalog.categories.CategoryNames), so a category's first merchant has interested shoppers to meet.
QUERY_AFFINITY = 0.5
RECENT_PRODUCTS = 10


class EventLike(Protocol):
    id: int
    kind: str
    occurred_at: datetime
    shopper_id: int | None
    item_type: str | None
    item_id: int | None
    product_id: int | None
    store_id: int | None
    creator_id: int | None
    category_id: int | None
    value_fen: int
    watch_seconds: int
    surface: str


class DecayedCounters:
    """Decayed sums of `COUNTERS` per entity key, in one growing float64 matrix."""

    def __init__(self, half_life_seconds: float, width: int = len(COUNTERS)) -> None:
        self.rate = math.log(2) / half_life_seconds
        self.index: dict[Any, int] = {}
        self.values = np.zeros((64, width))
        self.as_of = np.zeros(64)

    def __len__(self) -> int:
        return len(self.index)

    def _row(self, key: Any) -> int:
        i = self.index.get(key)
        if i is None:
            i = len(self.index)
            if i >= len(self.as_of):
                self.values = np.vstack([self.values, np.zeros_like(self.values)])
                self.as_of = np.concatenate([self.as_of, np.zeros_like(self.as_of)])
            self.index[key] = i
        return i

    def add(self, key: Any, t: float, column: int, amount: float) -> None:
        i = self._row(key)
        if self.as_of[i] == 0.0 and not self.values[i].any():
            self.as_of[i] = t
        elif t > self.as_of[i]:
            self.values[i] *= math.exp(-self.rate * (t - self.as_of[i]))
            self.as_of[i] = t
        elif t < self.as_of[i]:
            amount *= math.exp(-self.rate * (self.as_of[i] - t))
        self.values[i, column] += amount

    def at(self, key: Any, t: float) -> np.ndarray:
        """One entity's sums decayed to `t` (zeros if unseen)."""
        i = self.index.get(key)
        if i is None:
            return np.zeros(self.values.shape[1])
        return self.values[i] * math.exp(-self.rate * max(0.0, t - self.as_of[i]))

    def gather(self, keys: np.ndarray | list[Any], t: float) -> np.ndarray:
        """Sums for many keys decayed to `t`, one row per key (zeros for unseen keys)."""
        n = len(self.index)
        rows = np.fromiter((self.index.get(k, n) for k in keys), dtype=np.int64, count=len(keys))
        values = np.vstack([self.values[:n], np.zeros((1, self.values.shape[1]))])
        as_of = np.append(self.as_of[:n], t)
        return values[rows] * np.exp(-self.rate * np.maximum(0.0, t - as_of[rows]))[:, None]

    def snapshot(self, t: float) -> dict[Any, np.ndarray]:
        n = len(self.index)
        decayed = self.values[:n] * np.exp(-self.rate * np.maximum(0.0, t - self.as_of[:n]))[:, None]
        return {key: decayed[i] for key, i in self.index.items()}


class FeatureStore:
    """Every decayed counter the feed uses, and the log position it has read up to."""

    def __init__(self, half_life_hours: float) -> None:
        self.half_life_hours = half_life_hours
        seconds = half_life_hours * 3600
        self.counters = {entity: DecayedCounters(seconds) for entity in ENTITIES}
        self.affinity = DecayedCounters(seconds, width=1)  # (shopper, category) -> interest
        self.interests: dict[int, set[int]] = {}  # shopper -> categories with an affinity counter
        self.recent: dict[int, list[int]] = {}
        self.position = 0
        self.latest = 0.0  # newest event time seen (epoch seconds)

    def apply(self, events: Iterable[EventLike]) -> int:
        n = 0
        for e in events:
            self._apply(e)
            self.position = max(self.position, e.id)
            n += 1
        return n

    def _apply(self, e: EventLike) -> None:
        t = e.occurred_at.timestamp()
        self.latest = max(self.latest, t)
        if e.surface in INTEREST_ONLY:  # a search click, a video-page view: the shopper's interests only
            self._learn_interest(e, t)
            return
        column, amount = _measure(e)
        targets = (
            ("product", e.product_id),
            ("store", e.store_id),
            ("creator", e.creator_id),
            ("video", e.item_id if e.item_type == "video" else None),
            ("live", e.item_id if e.item_type == "live" else None),
            ("shopper", e.shopper_id),
        )
        for entity, key in targets:
            if key is not None:
                self.counters[entity].add(key, t, column, amount)
        if column == C["orders"]:  # GMV rides along with the order count
            for entity, key in targets:
                if key is not None:
                    self.counters[entity].add(key, t, C["gmv_fen"], float(e.value_fen))
        self._learn_interest(e, t)

    def _learn_interest(self, e: EventLike, t: float) -> None:
        if e.shopper_id is None:
            return
        weight = QUERY_AFFINITY if e.surface == SEARCH_QUERY else AFFINITY_WEIGHTS.get(e.kind, 0.0)
        if e.kind == "watch":
            weight = min(5.0, e.watch_seconds * WATCH_AFFINITY_PER_SECOND)
        if weight and e.category_id is not None:
            self.affinity.add((e.shopper_id, e.category_id), t, 0, weight)
            self.interests.setdefault(e.shopper_id, set()).add(e.category_id)
        if weight and e.product_id is not None and e.kind != "watch":
            recent = self.recent.setdefault(e.shopper_id, [])
            if e.product_id in recent:
                recent.remove(e.product_id)
            recent.append(e.product_id)
            del recent[:-RECENT_PRODUCTS]

    def follow(self, session: Session, clock: Clock, max_batches: int = 50) -> int:
        """Apply what the log has gained since the last call (bounded; the next round continues)."""
        from yinli.traffic.events import read_log_after

        applied = 0
        for _ in range(max_batches):
            page = read_log_after(session, self.position, clock=clock)
            applied += self.apply(page.events)
            if page.cursor == self.position:
                break
            self.position = page.cursor
        return applied

    @classmethod
    def rebuild(cls, session: Session, half_life_hours: float) -> FeatureStore:
        """Recompute everything from the whole log (what `follow` keeps incrementally)."""
        from yinli.traffic.events import iter_log

        store = cls(half_life_hours)
        for chunk in iter_log(session):
            store.apply(chunk)
        return store

    def shopper_affinity(self, shopper_id: int, t: float) -> dict[int, float]:
        """The shopper's interest per category, decayed to `t` (categories they never engaged with: absent)."""
        return {c: float(self.affinity.at((shopper_id, c), t)[0]) for c in self.interests.get(shopper_id, ())}

    def all_affinities(self, t: float) -> dict[int, dict[int, float]]:
        out: dict[int, dict[int, float]] = {}
        for (shopper, category), values in self.affinity.snapshot(t).items():
            out.setdefault(shopper, {})[category] = float(values[0])
        return out


def _measure(e: EventLike) -> tuple[int, float]:
    if e.kind == "impression":
        return C["impressions"], 1.0
    if e.kind == "click":
        return C["clicks"], 1.0
    if e.kind == "watch":
        return C["watch_seconds"], float(e.watch_seconds)
    if e.kind == "add_to_cart":
        return C["carts"], 1.0
    if e.kind == "order":
        return C["orders"], 1.0
    if e.kind == "return":
        return C["returns"], 1.0
    return C["complaints"], 1.0


# --- rates ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Priors:
    """Platform-wide rates new items are shrunk toward, with the evidence (in events) a prior is worth."""

    ctr: float = 0.05
    cvr: float = 0.03
    ctr_weight: float = 50.0  # impressions
    cvr_weight: float = 20.0  # clicks


def rates(sums: np.ndarray, priors: Priors = Priors()) -> dict[str, np.ndarray]:
    """Smoothed CTR and CVR, GPM (fen per 1000 impressions), refund and complaint rates, per row of sums."""
    imps, clicks, orders = sums[:, C["impressions"]], sums[:, C["clicks"]], sums[:, C["orders"]]
    return {
        "ctr": (clicks + priors.ctr * priors.ctr_weight) / (imps + priors.ctr_weight),
        "cvr": (orders + priors.cvr * priors.cvr_weight) / (clicks + priors.cvr_weight),
        "gpm_fen": np.where(imps > 0, sums[:, C["gmv_fen"]] * 1000 / np.maximum(imps, 1e-9), 0.0),
        "refund_rate": sums[:, C["returns"]] / np.maximum(orders, 1.0),
        "complaint_rate": sums[:, C["complaints"]] / np.maximum(orders, 1.0),
        "impressions": imps,
        "watch_per_click": sums[:, C["watch_seconds"]] / np.maximum(clicks, 1.0),
    }
