"""The simulated world: who the agents are and what they secretly are.

Agents carry *latent* traits the platform never sees (a merchant's real product quality, a shopper's
price sensitivity). The platform sees only what they do through its services. Every draw comes from one
seeded `numpy.random.Generator`, so the same seed builds the same world.

Money is integer fen everywhere here too; prices are drawn as floats and rounded to whole fen once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

# Age cohorts by birth year. Gen X (1965-1980) are all over 40 in 2026; "40+" in the KPIs is Gen X plus
# older shoppers — the reference platform gets over 47% of its GMV from them.
COHORTS = ("gen_z", "gen_y", "gen_x", "older")
COHORT_YEARS = {"gen_z": (1997, 2008), "gen_y": (1981, 1996), "gen_x": (1965, 1980), "older": (1950, 1964)}
COHORT_SHARE = np.array([0.24, 0.34, 0.27, 0.15])
# What each cohort spends on an order (median fen) and how its sessions start: feed, search, mall, live, video.
COHORT_BUDGET_FEN = np.array([9_000, 14_000, 17_000, 15_000])
COHORT_ENTRY = np.array(
    [
        [0.34, 0.20, 0.06, 0.14, 0.26],
        [0.32, 0.26, 0.10, 0.14, 0.18],
        [0.28, 0.18, 0.10, 0.28, 0.16],
        [0.26, 0.12, 0.10, 0.36, 0.16],
    ]
)
ENTRIES = ("feed", "search", "mall", "live", "video")
FORMATS = ("shelf", "live", "video")

# Titles: honest words, and the promotional stuffing some merchants add (the ranking penalises it).
HONEST_WORDS = ("新款", "经典", "加厚", "轻薄", "耐用", "简约", "家用", "便携", "原装", "升级款", "大容量", "舒适")
PROMO_TITLE_WORDS = ("爆款", "秒杀", "限时", "特价", "全网最低", "疯抢", "巨划算", "清仓", "惊爆")


@dataclass(frozen=True)
class Leaf:
    id: int
    path: str
    name: str
    top: int  # index into the world's top-level list
    weight: float  # listing share in the source crawl


@dataclass
class Merchant:
    index: int
    joined_day: int  # -1: open before the run started; else the day it joined
    quality: float  # latent product quality 0..1: drives returns, ratings, complaints
    service: float  # latent service 0..1: shipping speed, how returns are handled
    cost_ratio: float  # unit cost / price
    markup: float  # price / market price
    noisy: bool  # stuffs titles with promo words and inflates list prices
    formats: tuple[str, ...]
    top: int  # main top-level category
    capital_fen: int
    owner_id: int = 0
    store_id: int = 0
    room_id: int | None = None
    product_ids: list[int] = field(default_factory=list)
    open: bool = True
    closed_day: int | None = None
    days_without_order: int = 0

    @property
    def fixed_cost_fen(self) -> int:
        """Daily running cost: more formats cost more (hosts, studio, editing)."""
        return 2_000 + (6_000 if "live" in self.formats else 0) + (2_500 if "video" in self.formats else 0)


@dataclass
class Creator:
    index: int
    user_id: int
    top: int
    charisma: float  # how long people watch and how readily they buy
    room_id: int | None = None
    followers: list[int] = field(default_factory=list)  # shopper indexes


@dataclass
class SimProduct:
    id: int
    merchant: int
    leaf: Leaf
    market_price_fen: int  # what the same thing costs elsewhere
    sku_ids: list[int]
    quality: float  # latent, around the merchant's


LATE_PAYER_SHARE = 0.1  # shoppers whose pay-later bills are often declined (assumption, sim-results.md)


@dataclass
class Shoppers:
    """Shopper traits as arrays (a world has up to hundreds of thousands)."""

    user_id: np.ndarray  # int64
    cohort: np.ndarray  # index into COHORTS
    birth_year: np.ndarray
    taste: np.ndarray  # (n, tops) Dirichlet: which top-level categories they shop
    price_sensitivity: np.ndarray  # 0..1
    budget_fen: np.ndarray  # typical order value they are comfortable with
    patience: np.ndarray  # items looked at per session
    activity: np.ndarray  # base chance of a session per day
    entry: np.ndarray  # (n, len(ENTRIES)) how sessions start
    trust: np.ndarray  # 0..1, moves with experience
    churned: np.ndarray  # bool: trust fell too low, they stopped coming
    pays_late: np.ndarray  # bool: short of money at times, so pay-later bills are often declined

    def __len__(self) -> int:
        return len(self.user_id)


def draw_shoppers(rng: np.random.Generator, n: int, tops: int, top_weight: np.ndarray) -> Shoppers:
    cohort = rng.choice(len(COHORTS), size=n, p=COHORT_SHARE)
    lo = np.array([COHORT_YEARS[c][0] for c in COHORTS])[cohort]
    hi = np.array([COHORT_YEARS[c][1] for c in COHORTS])[cohort]
    birth = rng.integers(lo, hi + 1)
    taste = rng.dirichlet(np.maximum(top_weight * tops * 0.5, 0.05), size=n)
    sensitivity = np.clip(rng.beta(2.0, 2.0, size=n) + np.where(cohort == 0, 0.1, 0.0), 0.0, 1.0)
    budget = COHORT_BUDGET_FEN[cohort] * rng.lognormal(0.0, 0.5, size=n)
    entry = np.vstack([rng.dirichlet(COHORT_ENTRY[c] * 12) for c in cohort]) if n else np.zeros((0, len(ENTRIES)))
    return Shoppers(
        user_id=np.zeros(n, np.int64),
        cohort=cohort,
        birth_year=birth,
        taste=taste,
        price_sensitivity=sensitivity,
        budget_fen=budget.astype(np.int64),
        patience=3 + rng.poisson(5, size=n),
        activity=rng.beta(2.0, 7.0, size=n),
        entry=entry,
        trust=np.full(n, 0.6),
        churned=np.zeros(n, bool),
        pays_late=rng.random(n) < LATE_PAYER_SHARE,
    )


def draw_merchant(rng: np.random.Generator, index: int, day: int, top_weight: np.ndarray) -> Merchant:
    quality = float(rng.beta(4.0, 2.0))
    formats = ["shelf"]
    if rng.random() < 0.35:
        formats.append("live")
    if rng.random() < 0.45:
        formats.append("video")
    return Merchant(
        index=index,
        joined_day=day,
        quality=quality,
        service=float(np.clip(0.5 * quality + 0.5 * rng.beta(4.0, 2.0), 0.0, 1.0)),
        # better goods cost more to make
        cost_ratio=float(np.clip(rng.uniform(0.45, 0.7) + 0.15 * (quality - 0.6), 0.3, 0.9)),
        markup=float(rng.lognormal(0.02, 0.12)),
        noisy=bool(rng.random() < 0.15 + 0.4 * (1.0 - quality) ** 2),
        formats=tuple(formats),
        top=int(rng.choice(len(top_weight), p=top_weight)),
        capital_fen=int(rng.integers(150_000, 1_200_000)),
    )


def product_title(rng: np.random.Generator, leaf: Leaf, noisy: bool, n: int) -> str:
    words = [str(w) for w in rng.choice(HONEST_WORDS, size=2, replace=False)]
    title = f"{words[0]}{leaf.name} {words[1]} {n}号"
    if noisy:
        promo = [str(w) for w in rng.choice(PROMO_TITLE_WORDS, size=int(rng.integers(2, 5)), replace=False)]
        title = f"【{promo[0]}】{title} {' '.join(promo[1:])}!!"
    return title[:60]


def start_of(day: int, start: datetime) -> datetime:
    from datetime import timedelta

    return (start + timedelta(days=day)).astimezone(UTC)
