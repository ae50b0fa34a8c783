"""Browsing (no words, relevance order): answered from ordered lists precomputed over the feature
arrays, not from the index.

Without words every searchable product matches and the text score is 0 for all, so the relevance
order is the ranking blend alone (ranking.py, with no text and no category intent): the same for every
browse request. A `BrowseSnapshot` holds it once for the whole catalog and once per category at each
level of the tree (a stable regrouping of the global order), so a category is a slice of positions; the
filter fields are copied in browse order, so the other filters (store, brand, price, stock, pay later,
price protection) are sequential vectorised passes over the category's slice, and a page is found in
the first chunks of it. No index scan and no re-ranking of hundreds of thousands of matches; totals
are exact (for the snapshot).

Facet counts of a browse request are computed over the same slice and kept with the snapshot (category
pages repeat), until the snapshot is replaced.

Freshness: the snapshot is rebuilt by the index consumer after each round that changed anything
(`SearchEngine.sync`), and by a rebuild; a request never rebuilds one that exists, so a request does not
pay for a catalog-wide sort. Browse answers as of the last consumer round, like the index itself:
products listed, changed or removed since show up at the end of the round that indexes them, and the
order reflects the features and the clock of the snapshot's time. (The API still drops a product that
is no longer listed from the page it shows.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from yinli.search.backends.base import PRICE_BUCKETS, Facets, Filters
from yinli.search.ranking import FeatureStore, Ranked

FACET_CACHE = 512  # browse facet results kept per snapshot (distinct filter combinations)
CATEGORY_FACETS, STORE_FACETS = 20, 10  # as many buckets as the backends return
FLAG_BITS = {"in_stock": 1, "pay_later": 2, "price_protection": 4}
FIRST_CHUNK = 4096  # a page is looked for in growing chunks of the ordered list, not over all of it


@dataclass
class BrowseSnapshot:
    """The catalog in browse order, with the filter fields laid out in that order (so filtering is a
    sequential pass, no random gathers), and per tree level the positions of each category's products."""

    version: int  # the feature store's version it was built from
    now_day: float
    order: np.ndarray  # every searchable product id, best first
    price: np.ndarray  # the filter fields, aligned with `order`
    store: np.ndarray
    brand: np.ndarray
    leaf: np.ndarray
    flags: np.ndarray  # FLAG_BITS
    levels: list[tuple[np.ndarray, np.ndarray]]  # per level: (category ids sorted, positions in `order`)
    facets: dict[Filters, Facets] = field(default_factory=dict)

    def positions(self, filters: Filters) -> np.ndarray | None:
        """Positions (ascending, so best first) of the filter's category; None: the whole list."""
        if filters.category_id is None:
            return None
        keys, positions = self.levels[(filters.category_level or 3) - 1]
        lo, hi = np.searchsorted(keys, [filters.category_id, filters.category_id + 1])
        return positions[int(lo) : int(hi)]

    def mask(self, filters: Filters, positions: np.ndarray | None) -> np.ndarray | None:
        """Which of the (category's) products pass the other filters; None: all of them."""

        def column(values: np.ndarray) -> np.ndarray:
            return values if positions is None else values[positions]

        mask: np.ndarray | None = None

        def narrow(condition: np.ndarray) -> None:
            nonlocal mask
            mask = condition if mask is None else mask & condition

        if filters.store_id is not None:
            narrow(column(self.store) == filters.store_id)
        if filters.brand_id is not None:
            narrow(column(self.brand) == filters.brand_id)
        if filters.min_price is not None or filters.max_price is not None:
            prices = column(self.price)
            if filters.min_price is not None:
                narrow(prices >= filters.min_price)
            if filters.max_price is not None:
                narrow(prices <= filters.max_price)
        bits = want = 0
        for name, bit in FLAG_BITS.items():
            value = getattr(filters, name)
            if value is not None:
                bits |= bit
                want |= bit if value else 0
        if bits:
            narrow((column(self.flags) & bits) == want)
        return mask


def build_snapshot(features: FeatureStore, now_day: float) -> BrowseSnapshot:
    f = features
    version = f.version
    ids = np.flatnonzero(f.known).astype(np.int64)
    ranked = f.rank(ids, np.zeros(len(ids)), frozenset(), now_day, reorder=True)
    order = ranked.product_ids
    flags = np.zeros(len(order), np.uint8)
    for name, bit in FLAG_BITS.items():
        flags |= np.where(getattr(f, name)[order], bit, 0).astype(np.uint8)
    levels = []
    for level in range(3):
        keys = f.cat[order, level]
        positions = np.argsort(keys, kind="stable")  # stable: within a category, still best first
        levels.append((keys[positions], positions))
    return BrowseSnapshot(
        version, now_day, order, f.price[order], f.store[order], f.brand[order], f.cat[order, 2], flags, levels
    )


def _selection(snapshot: BrowseSnapshot, filters: Filters) -> tuple[np.ndarray | None, np.ndarray | None, int]:
    positions = snapshot.positions(filters)
    mask = snapshot.mask(filters, positions)
    size = len(snapshot.order) if positions is None else len(positions)
    total = size if mask is None else int(np.count_nonzero(mask))
    return positions, mask, total


def _first(mask: np.ndarray, count: int) -> np.ndarray:
    """Indices of the first `count` true values, looking at growing chunks (a page is near the front)."""
    found: list[np.ndarray] = []
    have, start, chunk = 0, 0, FIRST_CHUNK
    while have < count and start < len(mask):
        part = np.flatnonzero(mask[start : start + chunk]) + start
        found.append(part)
        have += len(part)
        start += chunk
        chunk *= 4
    return np.concatenate(found)[:count] if found else np.zeros(0, np.int64)


def page(
    snapshot: BrowseSnapshot, features: FeatureStore, filters: Filters, offset: int, limit: int
) -> tuple[Ranked, int]:
    """The page at `offset` (scores and components as of the snapshot's time) and the exact total."""
    positions, mask, total = _selection(snapshot, filters)
    # every product of the slice passes: the page is a range; else look for it near the front
    chosen = np.arange(offset, min(offset + limit, total)) if mask is None else _first(mask, offset + limit)[offset:]
    if positions is not None:
        chosen = positions[chosen]
    shown = snapshot.order[chosen]
    ranked = features.rank(shown, np.zeros(len(shown)), frozenset(), snapshot.now_day, reorder=False)
    return ranked, total


def facets(snapshot: BrowseSnapshot, filters: Filters) -> Facets:
    cached = snapshot.facets.get(filters)
    if cached is not None:
        return cached
    positions, mask, _ = _selection(snapshot, filters)

    def column(values: np.ndarray) -> np.ndarray:
        values = values if positions is None else values[positions]
        return values if mask is None else values[mask]

    def top(values: np.ndarray, size: int) -> list[tuple[int, int]]:
        counts = np.bincount(values)
        nonzero = np.flatnonzero(counts)
        best = nonzero[np.lexsort((nonzero, -counts[nonzero]))][:size]  # most first, then by id
        return [(int(k), int(counts[k])) for k in best]

    bounds = list(zip(PRICE_BUCKETS, (*PRICE_BUCKETS[1:], None), strict=True))
    prices = np.searchsorted(np.asarray(PRICE_BUCKETS), column(snapshot.price), side="right")
    bucket = np.bincount(prices, minlength=len(bounds) + 1)
    flags = column(snapshot.flags)
    result = Facets(
        categories=top(column(snapshot.leaf), CATEGORY_FACETS),
        stores=top(column(snapshot.store), STORE_FACETS),
        prices=[(lo, hi, int(bucket[i + 1])) for i, (lo, hi) in enumerate(bounds)],
        flags={name: int(np.count_nonzero(flags & bit)) for name, bit in FLAG_BITS.items()},
    )
    if len(snapshot.facets) >= FACET_CACHE:
        snapshot.facets.pop(next(iter(snapshot.facets)))
    snapshot.facets[filters] = result
    return result
