"""A simulated marketplace bound to a real yinli database: configuration, world state, set-up.

`Market` owns the agents (see `world.py`) and the handles into the platform (database, settings, the
simulated clock, the payment gateway, the search and traffic engines). Everything the agents do goes
through the platform's services in-process, exactly as the API would call them; the simulator never
writes a table itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import select

from yinli.accounts import service as accounts
from yinli.catalog import service as catalog
from yinli.catalog.models import Category
from yinli.content import affiliate, creators, live
from yinli.core.auth import Actor, Role
from yinli.core.clock import SimulatedClock
from yinli.core.db import Database
from yinli.core.settings import Settings
from yinli.guarantees.models import PayLaterBill
from yinli.inventory import service as inventory
from yinli.merchants import service as merchants
from yinli.payments.gateway import GatewayResult, SimulatedGateway
from yinli.search.service import SearchEngine
from yinli.search.service import engine_for as search_engine_for
from yinli.sim import world
from yinli.sim.world import Creator, Leaf, Merchant, Shoppers, SimProduct
from yinli.traffic import experiments, plans
from yinli.traffic.service import TrafficEngine
from yinli.traffic.service import engine_for as traffic_engine_for

if TYPE_CHECKING:
    from yinli.sim.workers import ShopperPool

# Named policies a run can use: the ranking policy and whether the launch plan (cold-start traffic) runs.
POLICIES: dict[str, tuple[str, bool]] = {
    "user_first": ("user_first", True),
    "gmv_only": ("gmv_only", True),
    "user_first_no_launch": ("user_first", False),
    "gmv_only_no_launch": ("gmv_only", False),
}
SIM_START = datetime(2026, 11, 1, tzinfo=UTC)
HISTORY = timedelta(days=120)  # the starting merchants opened 120 to 31 days before day 0


@dataclass(frozen=True)
class SimConfig:
    days: int = 14
    shoppers: int = 2_000
    merchants: int = 100
    creators: int | None = None  # default: one per 10 merchants
    seed: int = 7
    policy: str = "user_first"
    start: datetime = SIM_START
    new_merchants_per_day: float | None = None  # default: 3% of the starting merchants
    launch_quota: int = 60  # quality impressions per new merchant (sized to the world, not production's 200)
    launch_days: int = 3
    jobs_per_day: int = 4  # background job rounds per simulated day
    workers: int = 1  # processes running a day's visits (see sim/workers.py for how a run is split)
    epoch_minutes: int = 30  # with workers: the parent's events and the workers' visits alternate this often

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ValueError(f"policy is one of {', '.join(POLICIES)}")
        if self.days < 1 or self.shoppers < 1 or self.merchants < 1:
            raise ValueError("days, shoppers and merchants must be at least 1")
        if not 1 <= self.workers <= 64:
            raise ValueError("workers must be between 1 and 64")
        if not 1 <= self.epoch_minutes <= 24 * 60:
            raise ValueError("epoch_minutes must be between 1 and 1440")

    @property
    def creator_count(self) -> int:
        return self.creators if self.creators is not None else max(1, self.merchants // 10)

    @property
    def daily_new_merchants(self) -> float:
        return self.new_merchants_per_day if self.new_merchants_per_day is not None else 0.03 * self.merchants


@dataclass
class DayStats:
    """What the simulator saw happen on one day (the platform's own records are the KPIs' source)."""

    sessions: int = 0
    sessions_by_entry: dict[str, int] = field(default_factory=dict)
    purchases: int = 0
    declined: int = 0
    pay_later_refused: int = 0  # chose pay later, refused at payment (credit used meanwhile): paid by card
    sold_out: int = 0
    new_merchants: int = 0
    closed_merchants: int = 0
    live_sessions: int = 0
    videos: int = 0


LATE_DECLINE = 0.6  # a late payer's pay-later bill is declined this often (each attempt)


@dataclass
class ShoppersBanks(SimulatedGateway):
    """The payment provider as seen through the simulated shoppers' banks: like `SimulatedGateway`, and a
    pay-later bill of a shopper who pays late is declined `LATE_DECLINE` of the time (short of money
    that day). Which bills go overdue, and what that does to pay later, is left to the platform."""

    database: Database | None = None
    late_payers: set[int] = field(default_factory=set)  # user ids
    _late_rng: np.random.Generator = field(init=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        self._late_rng = np.random.default_rng(self.seed + 1)

    def charge(self, key: str, amount_fen: int, currency: str, method: str) -> GatewayResult:
        if key.startswith("pay_later_bill:") and self.lookup(key) is None and self._shopper_short(key):
            self.fail_next()
        return super().charge(key, amount_fen, currency, method)

    def _shopper_short(self, key: str) -> bool:
        if self.database is None or not self.late_payers:
            return False
        bill_id = int(key.split(":")[1])
        with self.database.read_sessions() as s:
            shopper = s.scalar(select(PayLaterBill.shopper_id).where(PayLaterBill.id == bill_id))
        return shopper in self.late_payers and bool(self._late_rng.random() < LATE_DECLINE)


class Market:
    def __init__(self, database: Database, settings: Settings, config: SimConfig) -> None:
        self.database, self.settings, self.config = database, settings, config
        # the clock starts months early: the starting merchants opened then, so they are not "new" at day 0
        self.clock = SimulatedClock(config.start - HISTORY)
        # Separate streams, so that under two policies the same seed gives the same world: who exists, who
        # joins when, and who visits when do not shift because shoppers clicked differently.
        world_seq, arrival_seq, visit_seq, merchant_seq, behaviour_seq = np.random.SeedSequence(config.seed).spawn(5)
        self.world_rng = np.random.default_rng(world_seq)  # the starting world
        self.arrival_rng = np.random.default_rng(arrival_seq)  # merchants joining during the run
        self.visit_rng = np.random.default_rng(visit_seq)  # who comes when
        self.merchant_rng = np.random.default_rng(merchant_seq)  # merchants' and creators' daily decisions
        self.rng = np.random.default_rng(behaviour_seq)  # shoppers' choices
        self.gateway: SimulatedGateway = ShoppersBanks(failure_rate=0.02, seed=config.seed, database=database)
        self.leaves: list[Leaf] = []
        self.tops: list[str] = []
        self.top_ids: list[int] = []
        self.top_weight = np.zeros(0)
        self.leaf_weight_by_top: dict[int, tuple[list[Leaf], np.ndarray]] = {}
        self.merchants: list[Merchant] = []
        self.creators: list[Creator] = []
        self.shoppers: Shoppers = world.draw_shoppers(self.world_rng, 0, 1, np.ones(1))
        self.products: dict[int, SimProduct] = {}
        self.store_merchant: dict[int, int] = {}
        self.operator = Actor(0, Role.OPERATOR)
        self.days: list[DayStats] = []
        self.active_days: list[set[int]] = []  # shopper indexes with a session, per day
        self.host_charisma: dict[int, float] = {}  # live session -> its host's pull (0.5: an ordinary host)
        self.leaving: list[tuple[datetime, Actor, int]] = []  # live viewers due to leave (real-clock mode)
        self.jobs_rounds = 0  # background job rounds run so far (workers reload their engines after one)
        self.pool: ShopperPool | None = None  # worker processes for the visits, when config.workers > 1
        self._search: SearchEngine | None = None
        self._traffic: TrafficEngine | None = None

    # --- engines (one per process and database, as the app has) ----------------------------------------

    @property
    def search(self) -> SearchEngine:
        if self._search is None:
            self._search = search_engine_for(self.settings, self.database, self.clock)
        return self._search

    @property
    def traffic(self) -> TrafficEngine:
        if self._traffic is None:
            self._traffic = traffic_engine_for(self.settings, self.database, self.clock)
        return self._traffic

    def merchant_actor(self, m: Merchant) -> Actor:
        return Actor(m.owner_id, Role.MERCHANT, m.store_id)

    def shopper_actor(self, i: int) -> Actor:
        return Actor(int(self.shoppers.user_id[i]), Role.SHOPPER)

    @property
    def day(self) -> int:
        return (self.clock.now() - self.config.start) // timedelta(days=1)

    # --- set-up ------------------------------------------------------------------------------------------

    def set_up(self) -> None:
        """Platform policy, the category tree's leaves, then the starting merchants, creators, shoppers."""
        self._load_leaves()
        with self.database.session() as s:
            op = accounts.do_sign_up(
                s, self.clock, email="ops@sim.yinli", password=None, display_name="运营", role=Role.OPERATOR,
                allow_operator=True,
            )  # fmt: skip
            self.operator = Actor(op.id, Role.OPERATOR)
            policy, launch = POLICIES[self.config.policy]
            plans.do_set_launch_config(
                s, self.clock, self.settings, self.operator,
                {"quota": self.config.launch_quota, "window_days": self.config.launch_days},
            )  # fmt: skip
            # The whole run under one policy: an A/A experiment (two identical buckets) carries it.
            variant = {"policy": policy, "launch_plan": launch, "boost_plan": True, "weight": 1}
            experiments.do_create(
                s, self.clock, self.operator, f"sim-{self.config.policy}",
                [{"name": "a", **variant}, {"name": "b", **variant}],
            )  # fmt: skip
        # the starting merchants opened over the previous months
        first = self.clock.now()
        for k in range(self.config.merchants):
            self.clock.set(first + (HISTORY - timedelta(days=31)) * k / self.config.merchants)
            self.add_merchant(-1, self.world_rng)
        self.clock.set(self.config.start - timedelta(days=1))
        self._add_creators()
        self._add_shoppers(self.config.shoppers)
        self.clock.set(self.config.start)

    def _load_leaves(self) -> None:
        with self.database.read_sessions() as s:
            rows = list(s.scalars(select(Category).order_by(Category.id)))
        by_id = {c.id: c for c in rows}
        if not rows:
            raise LookupError("the category tree is not loaded; run `yinli catalog load-categories` first")
        tops = [c for c in rows if c.level == 1]
        top_index = {c.id: i for i, c in enumerate(tops)}
        self.tops = [c.name for c in tops]
        self.top_ids = [c.id for c in tops]
        for c in rows:
            if c.level != 3 or c.listing_count <= 0:
                continue
            parent = by_id[c.parent_id]  # type: ignore[index]
            self.leaves.append(Leaf(c.id, c.path, c.name, top_index[parent.parent_id], float(c.listing_count)))  # type: ignore[index]
        weight = np.zeros(len(tops))
        for leaf in self.leaves:
            weight[leaf.top] += leaf.weight
        self.top_weight = weight / weight.sum()
        for t in range(len(tops)):
            leaves = [leaf for leaf in self.leaves if leaf.top == t]
            if leaves:
                w = np.array([leaf.weight for leaf in leaves])
                self.leaf_weight_by_top[t] = (leaves, w / w.sum())

    def leaf_in(self, top: int, rng: np.random.Generator) -> Leaf:
        leaves, w = self.leaf_weight_by_top[top]
        return leaves[int(rng.choice(len(leaves), p=w))]

    def add_merchant(self, day: int, rng: np.random.Generator) -> Merchant:
        """A merchant joins: account, store application, approval, first listings and stock."""
        m = world.draw_merchant(rng, len(self.merchants), day, self.top_weight)
        while m.top not in self.leaf_weight_by_top:
            m.top = int(rng.choice(len(self.top_weight), p=self.top_weight))
        with self.database.session() as s:
            owner = accounts.do_sign_up(
                s, self.clock, email=f"merchant{m.index}@sim.yinli", password=None,
                display_name=f"商家{m.index}", role=Role.MERCHANT,
            )  # fmt: skip
            store = merchants.do_apply_for_store(
                s, self.clock, self.settings, Actor(owner.id, Role.MERCHANT),
                name=f"{self.tops[m.top][:10]}小店{m.index}", description="模拟商家",
            )  # fmt: skip
            merchants.do_review_store(s, self.clock, self.operator, store.id, approve=True, note="模拟审核")
            m.owner_id, m.store_id = owner.id, store.id
            for _ in range(int(rng.integers(3, 8))):
                self.list_product(s, m, rng)
            if "live" in m.formats:
                m.room_id = live.do_open_room(s, self.clock, self.merchant_actor(m), title=f"小店{m.index}直播间").id
            if rng.random() < 0.5:  # half the merchants invite creators to sell for a commission
                for pid in m.product_ids[:2]:
                    rate = int(rng.integers(10, 26)) * 100
                    affiliate.do_open_plan(
                        s, self.clock, self.merchant_actor(m), product_id=pid, rate_bps=rate, settings=self.settings
                    )
        self.merchants.append(m)
        self.store_merchant[m.store_id] = m.index
        return m

    def list_product(self, s: object, m: Merchant, rng: np.random.Generator) -> None:
        leaf = self.leaf_in(m.top, rng)
        # a market price per leaf, heavy-tailed across leaves, then this offer around it
        base = float(np.exp(np.log(3_000) + (hash_unit(leaf.id) * 2.6)))
        market = int(base * rng.lognormal(0.0, 0.25))
        price = max(100, int(market * m.markup) // 10 * 10)
        inflate = rng.uniform(1.8, 3.0) if m.noisy else rng.uniform(1.0, 1.3)
        skus = []
        for k in range(int(rng.integers(1, 4))):
            p = price + k * max(100, price // 10) // 10 * 10
            skus.append({"code": f"M{m.index}-{len(m.product_ids)}-{k}", "attributes": {"规格": f"款{k + 1}"},
                         "price_fen": p, "list_price_fen": max(p, int(p * inflate) // 100 * 100)})  # fmt: skip
        title = world.product_title(rng, leaf, m.noisy, len(m.product_ids) + 1)
        actor = self.merchant_actor(m)
        product = catalog.do_create_product(
            s, self.clock, actor, store_id=m.store_id, category_id=leaf.id, title=title, skus=skus,  # type: ignore[arg-type]
            description=f"{title}。", return_shipping_cover=bool(m.service > 0.6),
        )  # fmt: skip
        catalog.do_list_product(s, self.clock, actor, product.id)  # type: ignore[arg-type]
        sku_ids = [sku.id for sku in catalog.skus_of(s, product.id)]  # type: ignore[arg-type]
        for sku_id in sku_ids:
            inventory.do_set_on_hand(s, sku_id, int(rng.integers(30, 300)), self.clock.now(), m.owner_id)  # type: ignore[arg-type]
        quality = float(np.clip(m.quality + rng.normal(0, 0.08), 0.0, 1.0))
        self.products[product.id] = SimProduct(product.id, m.index, leaf, market, sku_ids, quality)
        m.product_ids.append(product.id)

    def _add_creators(self) -> None:
        n = self.config.creator_count
        with self.database.session() as s:
            for c in range(n):
                user = accounts.do_sign_up(
                    s, self.clock, email=f"creator{c}@sim.yinli", password=None, display_name=f"达人{c}",
                    role=Role.CREATOR,
                )  # fmt: skip
                actor = Actor(user.id, Role.CREATOR)
                creators.do_save_profile(
                    s, self.clock, actor, handle=f"sim_creator_{c}", bio="模拟达人", avatar_url=None
                )
                top = int(self.world_rng.choice(len(self.top_weight), p=self.top_weight))
                creator = Creator(c, user.id, top, float(self.world_rng.beta(3.0, 3.0)))
                creator.room_id = live.do_open_room(s, self.clock, actor, title=f"达人{c}的直播间").id
                self.creators.append(creator)

    def _add_shoppers(self, n: int) -> None:
        self.shoppers = world.draw_shoppers(self.world_rng, n, len(self.tops), self.top_weight)
        with self.database.session() as s:
            for i in range(n):
                user = accounts.do_sign_up(
                    s, self.clock, email=f"shopper{i}@sim.yinli", password=None, display_name=f"买家{i}",
                    role=Role.SHOPPER, birth_year=int(self.shoppers.birth_year[i]),
                )  # fmt: skip
                self.shoppers.user_id[i] = user.id
                if self.shoppers.pays_late[i] and isinstance(self.gateway, ShoppersBanks):
                    self.gateway.late_payers.add(user.id)
            # audiences: each creator is followed by shoppers who like their category (heavy-tailed sizes)
            for creator in self.creators:
                size = min(n, int(self.world_rng.pareto(1.5) * n * 0.01) + 5)
                w = self.shoppers.taste[:, creator.top] + 1e-6
                picks = self.world_rng.choice(n, size=size, replace=False, p=w / w.sum())
                creator.followers = [int(i) for i in picks]
                for i in creator.followers:
                    creators.do_follow(s, self.clock, self.shopper_actor(i), "creator", creator.user_id)


def hash_unit(key: int) -> float:
    """A stable number in [0, 1) for a key (the same leaf has the same market price level in every run)."""
    return ((key * 2654435761) % 2**32) / 2**32
