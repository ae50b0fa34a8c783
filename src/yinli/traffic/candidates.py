"""Where feed candidates come from. Each source is a cheap slice of snapshot arrays; a request takes a few
hundred candidates from all of them and ranking decides.

Sources (bit flags, kept per candidate so explanations can say why an item was considered):
- live: sessions live now; video: the best recent videos (both also via followed creators);
- trending: most ordered and clicked lately;
- follow: the best products of followed stores, content of followed creators;
- affinity: the best (and a few random) products of the shopper's favourite categories, then of their
  favourite top-level categories;
- cf: co-engagement collaborative filtering — products engaged with by the same shoppers as the
  shopper's recent products (item-item cosine neighbours from the `implicit` library, fitted in the
  background on the shopper × product matrix of recent clicks, carts and orders);
- new: products of new merchants (organic exposure on top of the launch plan's reserved slots);
- explore: a few random products, so nothing is invisible forever.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from yinli.traffic.snapshot import Profile, Snapshot

log = logging.getLogger("yinli.traffic")

LIVE, VIDEO, TRENDING, FOLLOW, AFFINITY, CF, NEW, EXPLORE = (1 << i for i in range(8))
SOURCE_NAMES = {
    LIVE: "live_now",
    VIDEO: "recent_video",
    TRENDING: "trending",
    FOLLOW: "followed",
    AFFINITY: "category_affinity",
    CF: "co_engagement",
    NEW: "new_merchant_pool",
    EXPLORE: "exploration",
}
PER_CATEGORY = 60
RANDOM_PER_CATEGORY = 15
TOP_CATEGORIES = 5
PER_STORE = 8
NEW_SAMPLE = 30
EXPLORE_SAMPLE = 20
CF_NEIGHBOURS = 20


def source_names(bits: int) -> list[str]:
    return [name for flag, name in SOURCE_NAMES.items() if bits & flag]


def _slice(
    ptr: np.ndarray, items: np.ndarray, group: int, top: int, rng: np.random.Generator, extra: int
) -> np.ndarray:
    start, end = int(ptr[group]), int(ptr[group + 1])
    best = items[start : min(end, start + top)]
    if extra and end - start > top:
        more = items[start + top + rng.integers(0, end - start - top, size=min(extra, end - start - top))]
        return np.concatenate([best, more])
    return best


def gather(snap: Snapshot, profile: Profile, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Unique candidate global indices and, aligned, the OR of the sources that proposed each."""
    parts: list[np.ndarray] = []
    flags: list[int] = []

    def add(items: np.ndarray, flag: int) -> None:
        if len(items):
            parts.append(np.asarray(items, dtype=np.int64))
            flags.append(flag)

    content = snap.content
    add(content[snap.kind[content] == 2], LIVE)
    add(content[snap.kind[content] == 1], VIDEO)
    add(snap.trending, TRENDING)
    for s in profile.follow_stores[:10]:
        add(snap.store_items[snap.store_ptr[s] : snap.store_ptr[s] + PER_STORE], FOLLOW)
    for creator in profile.follow_creators[:10]:
        add(snap.creator_content.get(int(creator), np.zeros(0, np.int64)), FOLLOW)
    for c in profile.cats[:TOP_CATEGORIES]:
        add(_slice(snap.cat_ptr, snap.cat_items, int(c), PER_CATEGORY, rng, RANDOM_PER_CATEGORY), AFFINITY)
    if len(profile.cats) < TOP_CATEGORIES and profile.root_weight.any():
        for r in np.argsort(-profile.root_weight)[:2]:
            if profile.root_weight[r] > 0:
                add(_slice(snap.root_ptr, snap.root_items, int(r), PER_CATEGORY, rng, RANDOM_PER_CATEGORY), AFFINITY)
    for p in profile.recent[-5:]:
        add(snap.cf_items[snap.cf_ptr[p] : snap.cf_ptr[p + 1]] if p + 1 < len(snap.cf_ptr) else np.zeros(0), CF)
    if len(snap.new_pool):
        add(snap.new_pool[rng.integers(0, len(snap.new_pool), size=NEW_SAMPLE)], NEW)
    if snap.n_products:
        add(rng.integers(0, snap.n_products, size=EXPLORE_SAMPLE), EXPLORE)
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    every = np.concatenate(parts)
    bits = np.repeat(np.asarray(flags, np.int64), [len(p) for p in parts])
    items, inverse = np.unique(every, return_inverse=True)
    sources = np.zeros(len(items), np.int64)
    np.bitwise_or.at(sources, inverse, bits)
    return items, sources


def fit_co_engagement(
    n_products: int, product_index: Callable[[np.ndarray], np.ndarray], recent: dict[int, list[int]]
) -> tuple[np.ndarray, np.ndarray]:
    """Item-item neighbours over shoppers' recent products: (ptr, items) in CSR form over global product
    indices. `product_index` maps each product id in `recent` to its index (via the snapshot)."""
    rows, cols = [], []
    for u, (_, products) in enumerate(recent.items()):
        for p in products:
            rows.append(u)
            cols.append(p)
    empty = (np.zeros(n_products + 1, np.int64), np.zeros(0, np.int64))
    if not rows or n_products == 0:
        return empty
    idx = product_index(np.asarray(cols, np.int64))
    keep = idx >= 0
    if not keep.any():
        return empty
    matrix = sp.csr_matrix(
        (np.ones(int(keep.sum()), np.float32), (np.asarray(rows)[keep], idx[keep])),
        shape=(len(recent), n_products),
    )
    try:
        from implicit.nearest_neighbours import CosineRecommender

        model = CosineRecommender(K=CF_NEIGHBOURS + 1)
        with warnings.catch_warnings():  # it converts our CSR to its own layout and says so every time
            warnings.simplefilter("ignore")
            model.fit(matrix, show_progress=False)
        sim = model.similarity.tocsr()
    except Exception:  # pragma: no cover - implicit is a dependency; co-occurrence keeps CF alive without it
        log.exception("implicit failed; falling back to co-occurrence neighbours")
        sim = (matrix.T @ matrix).tocsr()
    coo = sim.tocoo()
    off_diagonal = (coo.row != coo.col) & (coo.data > 0)
    sim = sp.csr_matrix((coo.data[off_diagonal], (coo.row[off_diagonal], coo.col[off_diagonal])), shape=sim.shape)
    # the recommender keeps at most K neighbours per product already; their order within a row does not
    # matter (ranking decides), so the CSR arrays are the index as they are
    return sim.indptr.astype(np.int64), sim.indices.astype(np.int64)
