"""Scoring feed candidates, and laying a page out with per-store and per-format diversity.

Components, each in [0, 1] and computed over numpy arrays of candidates (no per-candidate query):

- value: expected GMV of one impression, `pCTR × pCVR × price` (for a video or live room the price of the
  product it sells), mapped as ev / (ev + median ev of the catalog): 0.5 is a typical item.
- engagement: for content, expected watching: pCTR × watch seconds per click, mapped the same way; for a
  product card pCTR alone against the platform CTR.
- experience (user-experience score): the store's service quality (good reviews, on-time shipping,
  refunds, complaints, shrunk toward platform priors so one review does not decide) and the product's
  own rating and return rate.
- relevance: the shopper's interest in the item's category (and its top-level category), plus 0.5 for a
  store or creator they follow.
- noise (marketing-noise penalty): titles stuffed with promotional words and symbols, and reference
  ("was") prices inflated far above the price.

Policies:
    user_first = 0.30 value + 0.15 engagement + 0.25 experience + 0.30 relevance − 0.35 noise
    gmv_only   = value

A little seeded exploration noise (Gumbel, scale 0.02) keeps feeds from freezing; the seed comes from the
request, so a request id replays the same page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

USER_FIRST = "user_first"
GMV_ONLY = "gmv_only"
POLICIES = (USER_FIRST, GMV_ONLY)
WEIGHTS = {"value": 0.30, "engagement": 0.15, "experience": 0.25, "relevance": 0.30, "noise": -0.35}
EXPLORATION = 0.02

# Words that promise rather than describe. A title may carry one honestly; four is stuffing.
PROMO_WORDS = (
    "全网最低", "最低价", "秒杀", "爆款", "限时", "特价", "清仓", "包邮", "跳楼价", "亏本", "史上最", "第一",
    "顶级", "必买", "抢购", "疯抢", "狂欢", "巨划算", "超值", "低价", "福利", "限量", "火爆", "热卖", "惊爆",
    "白菜价", "血亏", "免费送", "0元", "1元", "买一送", "最后一天", "错过", "抢到", "神价",
)  # fmt: skip
PROMO_SYMBOLS = re.compile(r"[!！【】🔥💥⚡★☆✨❗‼]")
STUFFED_AT = 4.0  # promo words (symbols count half) at which the title penalty is full
INFLATED_FROM, INFLATED_FULL = 1.5, 3.0  # list/price ratio where the price penalty starts / is full


def title_noise(title: str) -> float:
    words = sum(title.count(w) for w in PROMO_WORDS)
    symbols = len(PROMO_SYMBOLS.findall(title))
    return min(1.0, (words + 0.5 * symbols) / STUFFED_AT)


def price_inflation(price_fen: np.ndarray, list_price_fen: np.ndarray) -> np.ndarray:
    """0 for an honest reference price (or none), 1 when "was" is ≥ 3× the price."""
    ratio = np.where(price_fen > 0, list_price_fen / np.maximum(price_fen, 1), 1.0)
    return np.clip((ratio - INFLATED_FROM) / (INFLATED_FULL - INFLATED_FROM), 0.0, 1.0)


def noise(title_scores: np.ndarray, inflation: np.ndarray) -> np.ndarray:
    return 1.0 - (1.0 - title_scores) * (1.0 - inflation)


# --- service quality ---------------------------------------------------------------------------------

STORE_PRIOR_ORDERS = 20.0
PRIORS = {"good_review": 0.9, "on_time": 0.9, "refund": 0.05, "complaint": 0.01}


def store_experience(
    orders: np.ndarray,
    good_reviews: np.ndarray,
    reviews: np.ndarray,
    shipped_on_time: np.ndarray,
    shipped: np.ndarray,
    refunds: np.ndarray,
    complaints: np.ndarray,
) -> np.ndarray:
    """Service quality per store in [0, 1], each rate shrunk toward the platform prior by 20 orders."""
    w = STORE_PRIOR_ORDERS
    good = (good_reviews + PRIORS["good_review"] * w) / (reviews + w)
    on_time = (shipped_on_time + PRIORS["on_time"] * w) / (shipped + w)
    refund = (refunds + PRIORS["refund"] * w) / (orders + w)
    complaint = (complaints + PRIORS["complaint"] * w) / (orders + w)
    parts = np.stack([good, on_time, np.clip(1 - 5 * refund, 0, 1), np.clip(1 - 20 * complaint, 0, 1)])
    return np.clip(parts.mean(axis=0), 0.0, 1.0)


def product_experience(rating_sum: np.ndarray, rating_count: np.ndarray, return_rate: np.ndarray) -> np.ndarray:
    stars = (rating_sum + 4.5 * 10) / (rating_count + 10)  # 10 reviews' worth of a 4.5-star prior
    return np.clip((stars - 1) / 4 - 2 * return_rate, 0.0, 1.0)


# --- scores -----------------------------------------------------------------------------------------


@dataclass
class Scored:
    """Candidates (global item indices) with their score components, aligned."""

    items: np.ndarray
    score: np.ndarray
    pctr: np.ndarray
    pcvr: np.ndarray
    ev_fen: np.ndarray
    components: dict[str, np.ndarray]


def combine(
    policy: str,
    *,
    pctr: np.ndarray,
    pcvr: np.ndarray,
    price_fen: np.ndarray,
    watch_per_click: np.ndarray,
    is_content: np.ndarray,
    experience: np.ndarray,
    relevance: np.ndarray,
    noise_scores: np.ndarray,
    ev_ref: float,
    ctr_ref: float,
    watch_ref: float,
    rng: np.random.Generator | None,
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """(score, expected GMV in fen, components) for one policy."""
    ev = pctr * pcvr * price_fen
    value = ev / (ev + ev_ref)
    watch = pctr * watch_per_click
    engagement = np.where(is_content, watch / (watch + watch_ref), pctr / (pctr + ctr_ref))
    components = {
        "value": value,
        "engagement": engagement,
        "experience": experience,
        "relevance": relevance,
        "noise": noise_scores,
    }
    # gmv_only ranks by expected GMV alone: the baseline user_first is measured against
    score = value.copy() if policy == GMV_ONLY else sum(WEIGHTS[k] * v for k, v in components.items())
    if rng is not None:
        score = score + EXPLORATION * rng.gumbel(size=len(score))
    return np.asarray(score), ev, components


# --- page layout -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Diversity rules for one page of `limit` items."""

    limit: int

    @property
    def per_store(self) -> int:
        return max(1, self.limit // 5)  # 2 of 10

    def format_cap(self, fmt: int) -> int:
        share = (0.6, 0.4, 0.2)[fmt]  # product cards, videos, live rooms
        return max(1, int(np.ceil(self.limit * share)))


def _fits(
    c: int,
    store: np.ndarray,
    fmt: np.ndarray,
    layout: Layout,
    caps: list[int],
    page: list[int],
    stores: dict[int, int],
    formats: list[int],
) -> bool:
    """May candidate `c` go next on `page` without breaking a cap (per store, per format, store twice in a row)?"""
    s, f = int(store[c]), int(fmt[c])
    return not (
        (s >= 0 and stores.get(s, 0) >= layout.per_store)
        or formats[f] >= caps[f]
        or (bool(page) and s >= 0 and int(store[page[-1]]) == s)
    )


def _place(
    c: int, store: np.ndarray, fmt: np.ndarray, page: list[int], stores: dict[int, int], formats: list[int]
) -> None:
    page.append(c)
    s = int(store[c])
    stores[s] = stores.get(s, 0) + 1
    formats[int(fmt[c])] += 1


def lay_out(
    order: np.ndarray, store: np.ndarray, fmt: np.ndarray, layout: Layout, pages: int, open_slots: list[int]
) -> list[list[int]]:
    """Fill `pages` pages from candidates in score order (`order` holds positions into `store`/`fmt`).

    `open_slots[p]` is how many organic places page p has (the rest are reserved for plans). A candidate
    that would break a cap (items per store, share per format, same store twice in a row) waits for a later
    page; when nothing eligible is left the caps relax rather than leave a page short.
    """
    waiting = order.tolist()
    caps = [layout.format_cap(f) for f in range(3)]
    out: list[list[int]] = []
    for p in range(pages):
        page: list[int] = []
        stores: dict[int, int] = {}
        formats = [0, 0, 0]
        rest = []
        for k, c in enumerate(waiting):
            if len(page) >= open_slots[p]:
                rest.extend(waiting[k:])  # the page is full: the rest wait for the next one, in order
                break
            if _fits(c, store, fmt, layout, caps, page, stores, formats):
                _place(c, store, fmt, page, stores, formats)
            else:
                rest.append(c)
        # a candidate skipped only for following its own store may fit now that others came between
        while len(page) < open_slots[p]:
            c = next((c for c in rest if _fits(c, store, fmt, layout, caps, page, stores, formats)), None)
            if c is None:
                break
            rest.remove(c)
            _place(c, store, fmt, page, stores, formats)
        if len(page) < open_slots[p]:  # not enough diverse candidates: fill, diversity second
            extra = rest[: open_slots[p] - len(page)]
            page.extend(extra)
            taken = set(extra)
            rest = [c for c in rest if c not in taken]
        waiting = rest
        out.append(page)
    return out
