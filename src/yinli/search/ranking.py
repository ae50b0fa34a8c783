"""Re-ranking lexical candidates over in-memory numpy arrays (DESIGN rule 9: no per-candidate query).

The blend, each component in [0, 1]:

    score = 0.45 text + 0.15 conversion + 0.12 store_quality + 0.10 price + 0.10 new_merchant
            + 0.08 category_intent − 0.10 out_of_stock

- text: the backend's text score over the query's best possible one (every concept matched exactly in
  the title): how well the words match.
- conversion: search orders / impressions of the product, smoothed toward the platform's search
  conversion rate with 100 impressions' worth of prior, mapped as cvr / (cvr + platform): 0.5 is average.
- store_quality: the store's service metrics (orders.metrics): good-review rate, on-time shipping, and
  refund and complaint rates (penalised ×5 and ×20), averaged, then shrunk toward 0.5 by 20 orders' worth
  of prior so one review does not make or break a store.
- price: competitiveness against the median price of listed products in the same leaf category:
  0.5 − 0.5·log2(price / median), clipped: half the median scores 1, twice the median 0.
- new_merchant: the cold-start allowance. A store in its new-merchant window (platform policy, days
  since its first listing) gets 1 − age/window, times how little evidence the product has yet
  (1 − impressions/200): new products of new merchants are lifted until their own numbers speak.
- category_intent: 1 when the product sits under a category the query names (手机壳 → 手机保护套).
- out_of_stock: 1 when no SKU has stock; such products sink but stay findable.

Ties break by text score, then product id. `explain` returns every component, its weight and its
contribution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from yinli.catalog.models import Product, ProductStatus, Sku
from yinli.core.settings import Settings
from yinli.inventory.models import Stock
from yinli.merchants.models import Store, StoreStatus
from yinli.merchants.service import get_policy
from yinli.orders.metrics import StoreMetrics, rates
from yinli.search.documents import CategoryIndex, SearchDoc
from yinli.search.models import SearchProductStats

WEIGHTS = {
    "text": 0.45,
    "conversion": 0.15,
    "store_quality": 0.12,
    "price": 0.10,
    "new_merchant": 0.10,
    "category_intent": 0.08,
    "out_of_stock": -0.10,
}
CONVERSION_PRIOR_IMPRESSIONS = 100.0
DEFAULT_PLATFORM_CVR = 0.02
STORE_PRIOR_ORDERS = 20.0
EVIDENCE_IMPRESSIONS = 200.0
DAY = 86400.0


def _grow(array: np.ndarray, size: int, fill: float | int | bool) -> np.ndarray:
    if size <= len(array):
        return array
    grown = np.full(max(size, len(array) * 2, 1024), fill, dtype=array.dtype)
    grown[: len(array)] = array
    return grown


@dataclass
class Ranked:
    product_ids: np.ndarray
    scores: np.ndarray
    components: dict[str, np.ndarray]  # aligned with product_ids


class FeatureStore:
    """Ranking features of searchable products, dense arrays indexed by product / store / category id.

    Product rows are kept current by the index consumer (`upsert`, `remove`), so the index and the
    features move together; store quality, search counters and category medians are refreshed by jobs.
    """

    def __init__(self) -> None:
        self.known = np.zeros(0, bool)
        self.store = np.zeros(0, np.int64)
        self.cat = np.zeros((0, 3), np.int64)
        self.price = np.zeros(0, np.int64)
        self.in_stock = np.zeros(0, bool)
        # filter fields, so browsing (no words) is answered from these arrays (see browse.py)
        self.brand = np.zeros(0, np.int64)  # 0: none
        self.pay_later = np.zeros(0, bool)
        self.price_protection = np.zeros(0, bool)
        self.version = 0  # bumped on every change: snapshots derived from these arrays know they are stale
        self.impressions = np.zeros(0, np.float64)
        self.orders = np.zeros(0, np.float64)
        self.store_quality = np.zeros(0, np.float64)  # by store id; 0.5 = unknown
        self.store_first_listed_day = np.zeros(0, np.float64)  # by store id; NaN = never listed
        self.median_price = np.zeros(0, np.float64)  # by leaf id; NaN = none
        self.platform_cvr = DEFAULT_PLATFORM_CVR
        self.new_merchant_days = 30.0
        self._ensure_products(0)  # never empty: scoring gathers without bounds checks
        self._ensure_stores(0)
        self.median_price = _grow(self.median_price, 1, math.nan)

    # --- maintenance ----------------------------------------------------------------------------------

    def _ensure_products(self, max_id: int) -> None:
        n = max_id + 1
        self.known = _grow(self.known, n, False)
        self.store = _grow(self.store, n, 0)
        self.price = _grow(self.price, n, 0)
        self.in_stock = _grow(self.in_stock, n, False)
        self.brand = _grow(self.brand, n, 0)
        self.pay_later = _grow(self.pay_later, n, False)
        self.price_protection = _grow(self.price_protection, n, False)
        self.impressions = _grow(self.impressions, n, 0.0)
        self.orders = _grow(self.orders, n, 0.0)
        if len(self.cat) < len(self.known):
            cat = np.zeros((len(self.known), 3), np.int64)
            cat[: len(self.cat)] = self.cat
            self.cat = cat

    def _ensure_stores(self, max_id: int) -> None:
        self.store_quality = _grow(self.store_quality, max_id + 1, 0.5)
        self.store_first_listed_day = _grow(self.store_first_listed_day, max_id + 1, math.nan)

    def set_products(
        self,
        ids: np.ndarray,
        store: np.ndarray,
        cats: np.ndarray,
        price: np.ndarray,
        in_stock: np.ndarray,
        brand: np.ndarray | None = None,
        pay_later: np.ndarray | None = None,
        price_protection: np.ndarray | None = None,
    ) -> None:
        if len(ids) == 0:
            return
        self._ensure_products(int(ids.max()))
        self._ensure_stores(int(store.max()))
        self.known[ids] = True
        self.store[ids] = store
        self.cat[ids] = cats
        self.price[ids] = price
        self.in_stock[ids] = in_stock
        self.brand[ids] = 0 if brand is None else brand
        self.pay_later[ids] = False if pay_later is None else pay_later
        self.price_protection[ids] = False if price_protection is None else price_protection
        self.version += 1

    def forget_products(self) -> None:
        """Before re-adding every product (a rebuild); the refreshed parts stay as they are."""
        self.known[:] = False
        self.version += 1

    def upsert(self, docs: list[SearchDoc], medians: bool = True) -> None:
        if not docs:
            return
        self.set_products(
            np.array([d.product_id for d in docs], np.int64),
            np.array([d.store_id for d in docs], np.int64),
            np.array([(d.cat1, d.cat2, d.cat3) for d in docs], np.int64),
            np.array([d.price_fen for d in docs], np.int64),
            np.array([d.in_stock for d in docs], bool),
            np.array([d.brand_id or 0 for d in docs], np.int64),
            np.array([d.pay_later for d in docs], bool),
            np.array([d.price_protection for d in docs], bool),
        )
        if medians:
            self.recompute_medians({d.cat3 for d in docs})

    def remove(self, product_ids: list[int]) -> None:
        ids = np.array([i for i in product_ids if i < len(self.known)], np.int64)
        if len(ids):
            cats = set(self.cat[ids, 2].tolist())
            self.known[ids] = False
            self.version += 1
            self.recompute_medians(cats)

    def recompute_medians(self, leaves: set[int] | None = None) -> None:
        """Median price of known products per leaf (all leaves, or only `leaves`)."""
        self.version += 1
        known = np.flatnonzero(self.known)
        leaf_of = self.cat[known, 2]
        top = int(leaf_of.max()) if len(known) else 0
        self.median_price = _grow(self.median_price, top + 1, math.nan)
        if leaves is None:
            self.median_price[:] = math.nan
            if not len(known):
                return
            order = np.lexsort((self.price[known], leaf_of))
            leaf_sorted, price_sorted = leaf_of[order], self.price[known][order].astype(np.float64)
            starts = np.flatnonzero(np.r_[True, leaf_sorted[1:] != leaf_sorted[:-1]])
            ends = np.r_[starts[1:], len(leaf_sorted)]
            for s, e in zip(starts, ends, strict=True):
                self.median_price[leaf_sorted[s]] = float(np.median(price_sorted[s:e]))
            return
        for leaf in leaves:
            if leaf >= len(self.median_price):
                self.median_price = _grow(self.median_price, leaf + 1, math.nan)
            prices = self.price[known[leaf_of == leaf]]
            self.median_price[leaf] = float(np.median(prices)) if len(prices) else math.nan

    def load(self, session: Session, settings: Settings, categories: CategoryIndex) -> None:
        """Every searchable product's row, then the refreshed parts."""
        active = select(Store.id).where(Store.status == StoreStatus.ACTIVE.value)
        rows = session.execute(
            select(
                Product.id,
                Product.store_id,
                Product.category_id,
                Product.price_min_fen,
                Product.brand_id,
                Product.pay_later,
                Product.price_protection,
            ).where(Product.status == ProductStatus.LISTED.value, Product.store_id.in_(active))
        ).all()
        stocked = set(
            session.scalars(
                select(Sku.product_id)
                .join(Stock, Stock.sku_id == Sku.id)
                .where(Sku.is_active.is_(True), Stock.on_hand - Stock.reserved > 0)
                .distinct()
            )
        )
        if rows:
            self.set_products(
                np.array([r[0] for r in rows], np.int64),
                np.array([r[1] for r in rows], np.int64),
                np.array([categories.path(r[2]) for r in rows], np.int64),
                np.array([r[3] or 0 for r in rows], np.int64),
                np.array([r[0] in stocked for r in rows], bool),
                np.array([r[4] or 0 for r in rows], np.int64),
                np.array([bool(r[5]) for r in rows], bool),
                np.array([bool(r[6]) for r in rows], bool),
            )
        self.refresh(session, settings)

    def refresh(self, session: Session, settings: Settings) -> None:
        """Store quality, store windows, search counters, platform conversion and category medians."""
        self.version += 1
        self.new_merchant_days = float(get_policy(session, settings).new_merchant_days)
        stores = session.execute(select(Store.id, Store.first_listed_at)).all()
        if stores:
            self._ensure_stores(max(s[0] for s in stores))
            for store_id, first_listed in stores:
                self.store_first_listed_day[store_id] = first_listed.timestamp() / DAY if first_listed else math.nan
        for metrics in session.scalars(select(StoreMetrics)):
            self._ensure_stores(metrics.store_id)
            self.store_quality[metrics.store_id] = store_quality(metrics)
        stats = session.execute(
            select(SearchProductStats.product_id, SearchProductStats.impressions, SearchProductStats.orders)
        ).all()
        total_impressions = total_orders = 0.0
        if stats:
            self._ensure_products(max(s[0] for s in stats))
            for product_id, impressions, orders in stats:
                self.impressions[product_id] = impressions
                self.orders[product_id] = orders
                total_impressions += impressions
                total_orders += orders
        # the platform rate itself is smoothed: a young log should not swing every product's score
        self.platform_cvr = (total_orders + DEFAULT_PLATFORM_CVR * 1000) / (total_impressions + 1000)
        self.recompute_medians()

    # --- scoring --------------------------------------------------------------------------------------

    def components(
        self, product_ids: np.ndarray, text: np.ndarray, intent: frozenset[int], now_day: float
    ) -> dict[str, np.ndarray]:
        # The sync thread grows arrays one by one while requests read them: bound by the shortest.
        rows = min(len(a) for a in (self.known, self.store, self.cat, self.price, self.in_stock, self.impressions))
        rows = min(rows, len(self.orders))
        valid = product_ids < rows
        ids = np.where(valid, product_ids, 0)
        known = valid & self.known[ids]  # a product the features have not caught up with: neutral values
        stores = np.where(known, self.store[ids], 0)
        known &= stores < min(len(self.store_quality), len(self.store_first_listed_day))
        stores = np.where(known, stores, 0)

        impressions = np.where(known, self.impressions[ids], 0.0)
        orders = np.where(known, self.orders[ids], 0.0)
        p = self.platform_cvr
        cvr = (orders + CONVERSION_PRIOR_IMPRESSIONS * p) / (impressions + CONVERSION_PRIOR_IMPRESSIONS)
        conversion = cvr / (cvr + p)

        quality = np.where(known, self.store_quality[stores], 0.5)

        leaves = np.where(known, self.cat[ids, 2], 0)
        medians = self.median_price[np.clip(leaves, 0, len(self.median_price) - 1)]
        prices = np.where(known, self.price[ids], 0).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            price = np.clip(0.5 - 0.5 * np.log2(prices / medians), 0.0, 1.0)
        price = np.where(np.isfinite(price) & (prices > 0) & (leaves < len(self.median_price)), price, 0.5)

        first = np.where(known, self.store_first_listed_day[stores], np.nan)
        age = np.where(np.isnan(first), 0.0, now_day - first)
        window = np.where(known, np.clip(1.0 - age / self.new_merchant_days, 0.0, 1.0), 0.0)
        evidence = np.clip(impressions / EVIDENCE_IMPRESSIONS, 0.0, 1.0)
        new_merchant = window * (1.0 - evidence)

        if intent:
            hits = np.isin(self.cat[ids], np.fromiter(intent, np.int64)).any(axis=1)
            category_intent = (known & hits).astype(np.float64)
        else:
            category_intent = np.zeros(len(ids))
        out_of_stock = (known & ~self.in_stock[ids]).astype(np.float64)

        return {
            "text": np.nan_to_num(text, nan=0.0),
            "conversion": conversion,
            "store_quality": quality,
            "price": price,
            "new_merchant": new_merchant,
            "category_intent": category_intent,
            "out_of_stock": out_of_stock,
        }

    def rank(
        self, product_ids: np.ndarray, text: np.ndarray, intent: frozenset[int], now_day: float, *, reorder: bool
    ) -> Ranked:
        """Blend; with `reorder` sort by the blend (relevance), else keep the backend's order (a sort)."""
        parts = self.components(product_ids, text, intent, now_day)
        scores = np.zeros(len(product_ids))
        for name, weight in WEIGHTS.items():
            scores += weight * parts[name]
        scores = np.round(scores, 6)
        if reorder and len(product_ids):
            order = np.lexsort((product_ids, -parts["text"], -scores))
            product_ids, scores = product_ids[order], scores[order]
            parts = {k: v[order] for k, v in parts.items()}
        return Ranked(product_ids, scores, parts)


def store_quality(m: StoreMetrics) -> float:
    r = rates(m)
    signals = []
    if r.good_review_rate is not None:
        signals.append(r.good_review_rate)
    if r.on_time_shipping_rate is not None:
        signals.append(r.on_time_shipping_rate)
    if r.refund_rate is not None:
        signals.append(1.0 - min(1.0, r.refund_rate * 5))
    if r.complaint_rate is not None:
        signals.append(1.0 - min(1.0, r.complaint_rate * 20))
    raw = sum(signals) / len(signals) if signals else 0.5
    evidence = m.orders_paid / (m.orders_paid + STORE_PRIOR_ORDERS)
    return evidence * raw + (1 - evidence) * 0.5


def explain(ranked: Ranked, i: int) -> dict[str, dict[str, float]]:
    return {
        name: {
            "value": round(float(ranked.components[name][i]), 4),
            "weight": weight,
            "contribution": round(float(weight * ranked.components[name][i]), 4),
        }
        for name, weight in WEIGHTS.items()
    }
