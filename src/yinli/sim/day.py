"""One simulated day, in time order: merchants' morning, live rooms going on and off air, shopper
visits spread over the day, fulfilment (shipping, delivery, returns, reviews, complaints), background
jobs, and each merchant's accounts at midnight (who can no longer pay their way leaves).

Purchases are followed to the end of their life here because what happens after delivery — returns,
ratings, complaints — is what moves shoppers' trust and the store scores the ranking reads.
"""

from __future__ import annotations

import contextlib
import heapq
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select

from yinli.catalog import service as catalog
from yinli.content import affiliate, live, videos
from yinli.core.auth import Actor, Role
from yinli.core.errors import DomainError
from yinli.flows import deliver, refund
from yinli.guarantees import credit
from yinli.guarantees.models import BillStatus, PayLaterBill, PriceProtectionPayout, ReturnCoverPayout
from yinli.inventory import service as inventory
from yinli.inventory.models import Stock
from yinli.jobs import run_once
from yinli.merchants import service as merchants
from yinli.orders import aftersales, feedback
from yinli.orders import service as orders
from yinli.orders.models import AfterSaleKind, AfterSaleStatus, ComplaintCategory, Order
from yinli.sim.market import DayStats, Market
from yinli.sim.shoppers import Purchase, ShopperVisit
from yinli.sim.workers import merge_stats
from yinli.sim.world import Merchant

FEE_BPS = 200  # what a merchant budgets for platform fees in its own accounts
KEPT_PROMISE_TRUST = 0.03  # trust gained per guarantee payout received (assumption, simulator-results.md)
OVERDUE_PAY_CHANCE = 0.3  # a shopper with an overdue bill pays it on a given evening


@dataclass
class Parcel:
    """A purchase on its way through fulfilment (the simulator's memory of what it must do next)."""

    purchase: Purchase
    ship_at: datetime
    deliver_at: datetime | None = None
    late: bool = False
    case_id: int | None = None
    receive_at: datetime | None = None


@dataclass
class Timeline:
    """Things that happen at a time of day, run in time order."""

    items: list[tuple[datetime, int, str, Any]] = field(default_factory=list)
    _n: int = 0

    def add(self, at: datetime, kind: str, payload: Any = None) -> None:
        self._n += 1
        heapq.heappush(self.items, (at, self._n, kind, payload))

    def pop(self) -> tuple[datetime, str, Any]:
        at, _, kind, payload = heapq.heappop(self.items)
        return at, kind, payload


class Day:
    def __init__(self, mk: Market, parcels: list[Parcel], day: int) -> None:
        self.mk, self.parcels, self.index = mk, parcels, day
        self.start = mk.config.start + timedelta(days=day)
        self.stats = DayStats()
        self.purchases: list[Purchase] = []
        self.timeline = Timeline()
        self.active: set[int] = set()
        self.margin_fen: dict[int, int] = {}  # merchant index -> today's gross margin less refunds
        self.visits: list[tuple[datetime, int]] = []  # with worker processes: today's visits, for them

    def at(self, hours: float) -> datetime:
        return self.start + timedelta(hours=hours)

    def run(self) -> DayStats:
        mk = self.mk
        mk.clock.set(max(mk.clock.now(), self.at(6)))
        self.merchants_morning()
        self.plan_visits()
        for h in np.linspace(0, 24, mk.config.jobs_per_day, endpoint=False) + 3:
            self.timeline.add(self.at(float(h)), "jobs")
        for h in (9.0, 17.0):
            self.timeline.add(self.at(h), "fulfil")
        if mk.pool is None:
            self.run_until(None)
        else:
            self.run_in_epochs()
        mk.clock.set(max(mk.clock.now(), self.at(23.99)))
        self.accounts()
        mk.days.append(self.stats)
        mk.active_days.append(self.active)
        return self.stats

    def run_until(self, end: datetime | None) -> None:
        """Run the timeline's events before `end` (all of them: None) in time order."""
        mk = self.mk
        while self.timeline.items and (end is None or self.timeline.items[0][0] < end):
            at, kind, payload = self.timeline.pop()
            mk.clock.set(max(mk.clock.now(), at))
            getattr(self, f"on_{kind}")(payload)

    def run_in_epochs(self) -> None:
        """With worker processes: per epoch, this process's events, then the workers' visits (workers.py)."""
        mk = self.mk
        assert mk.pool is not None
        step = timedelta(minutes=mk.config.epoch_minutes)
        visits = sorted(self.visits)
        k, t0 = 0, self.start
        while t0 < self.start + timedelta(days=1):
            t1 = t0 + step
            self.run_until(t1)
            first = k
            while k < len(visits) and visits[k][0] < t1:
                k += 1
            if k > first:
                seen = mk.pool.run(self.index, visits[first:k])
                merge_stats(self.stats, seen.stats)
                for outcome in seen.outcomes:
                    mk.clock.set(max(mk.clock.now(), outcome.ended))
                    self.active.add(outcome.shopper)
                    self.purchases.extend(outcome.purchases)
                    self.take_purchases(outcome.purchases, outcome.ended)
            t0 = t1
        self.run_until(None)

    # --- merchants and creators -------------------------------------------------------------------------

    def merchants_morning(self) -> None:
        mk, rng = self.mk, self.mk.merchant_rng
        for _ in range(int(mk.arrival_rng.poisson(mk.config.daily_new_merchants))):
            mk.add_merchant(self.index, mk.arrival_rng)
            self.stats.new_merchants += 1
        for m in mk.merchants:
            if not m.open:
                continue
            with mk.database.session() as s:
                self._restock(s, m)
                if rng.random() < 0.08:
                    self._reprice(s, m)
                if rng.random() < 0.04:
                    mk.list_product(s, m, rng)
                if "video" in m.formats and rng.random() < 0.3:
                    self._publish(s, mk.merchant_actor(m), m.product_ids, m.index)
            if "live" in m.formats and m.room_id is not None and rng.random() < 0.5:
                self._schedule_live(mk.merchant_actor(m), m.room_id, m.product_ids)
        for c in mk.creators:
            actor = Actor(c.user_id, Role.CREATOR)
            with mk.database.read_sessions() as s:
                offered = [
                    p.product_id
                    for p in affiliate.plans_open_to(s, c.user_id, limit=100)
                    if p.product_id in mk.products and mk.merchants[mk.products[p.product_id].merchant].open
                ]
            if not offered:
                continue
            mine = [p for p in offered if mk.products[p].leaf.top == c.top] or offered
            if rng.random() < 0.4 and c.room_id is not None:
                self._schedule_live(actor, c.room_id, mine, charisma=c.charisma)
            if rng.random() < 0.4:
                with mk.database.session() as s:
                    self._publish(s, actor, mine, c.index)

    def _restock(self, s: Any, m: Merchant) -> None:
        for pid in m.product_ids:
            for sku_id in self.mk.products[pid].sku_ids:
                stock = s.get(Stock, sku_id)
                if stock is not None and stock.on_hand - stock.reserved < 20:
                    refill = stock.on_hand + int(self.mk.merchant_rng.integers(50, 200))
                    inventory.do_set_on_hand(s, sku_id, refill, self.mk.clock.now(), m.owner_id)

    def _reprice(self, s: Any, m: Merchant) -> None:
        """Nudge one product's prices: sell better and costs rise — both happen."""
        mk = self.mk
        pid = m.product_ids[int(mk.merchant_rng.integers(len(m.product_ids)))]
        factor = float(mk.merchant_rng.choice([0.9, 0.95, 1.05, 1.1]))
        for sku in catalog.skus_of(s, pid):
            price = max(100, int(sku.price_fen * factor) // 10 * 10)
            changes: dict[str, int] = {"price_fen": price}
            if sku.list_price_fen is not None and sku.list_price_fen < price:
                changes["list_price_fen"] = price
            catalog.do_update_sku(s, mk.clock, mk.merchant_actor(m), sku.id, reason="sim", **changes)

    def _publish(self, s: Any, actor: Actor, product_ids: list[int], who: int) -> None:
        if not product_ids:
            return
        mk = self.mk
        rng = mk.merchant_rng
        k = min(len(product_ids), int(rng.integers(1, 3)))
        picks = [int(p) for p in rng.choice(product_ids, size=k, replace=False)]
        title, seconds = f"{mk.products[picks[0]].leaf.name} 开箱实测", int(rng.integers(15, 90))
        try:
            videos.do_publish(
                s, mk.clock, actor, title=title, duration_seconds=seconds,
                # no media exists for simulated videos: an empty cover lets the pages draw their placeholder
                cover_url="", video_url=f"https://media.invalid/sim/{who}.mp4", product_ids=picks,
            )  # fmt: skip
            self.stats.videos += 1
        except DomainError:
            pass  # a product sold out of plans or was delisted since: no video today

    def _schedule_live(self, actor: Actor, room_id: int, product_ids: list[int], charisma: float = 0.5) -> None:
        mk = self.mk
        if not product_ids:
            return
        rng = mk.merchant_rng
        start = self.at(float(rng.uniform(10, 21)))
        hours = float(rng.uniform(1.5, 3.0))
        picks = [int(p) for p in rng.choice(product_ids, size=min(8, len(product_ids)), replace=False)]
        try:
            with mk.database.session() as s:
                sid = live.do_schedule(
                    s, mk.clock, actor, room_id, title="今晚直播", scheduled_at=start, product_ids=picks
                ).id
        except DomainError:
            return  # a session is still open in this room
        self.mk.host_charisma[sid] = charisma
        self.timeline.add(start, "live_start", (actor, sid, picks[0]))
        for n, pid in enumerate(picks[1:], start=1):
            at = start + timedelta(hours=hours * n / len(picks))
            self.timeline.add(at, "present", (actor, sid, pid))
        self.timeline.add(start + timedelta(hours=hours), "live_end", (actor, sid))
        self.stats.live_sessions += 1

    def on_live_start(self, payload: tuple[Actor, int, int]) -> None:
        actor, sid, first = payload
        with self.mk.database.session() as s:
            live.do_go_live(s, self.mk.clock, actor, sid)
            live.do_present(s, self.mk.clock, actor, sid, first)

    def on_present(self, payload: tuple[Actor, int, int]) -> None:
        actor, sid, pid = payload
        try:
            with self.mk.database.session() as s:
                live.do_present(s, self.mk.clock, actor, sid, pid)
        except DomainError:
            pass  # delisted since the schedule

    def on_live_end(self, payload: tuple[Actor, int]) -> None:
        actor, sid = payload
        with self.mk.database.session() as s:
            live.do_end(s, self.mk.clock, actor, sid)

    # --- shoppers ---------------------------------------------------------------------------------------

    def plan_visits(self) -> None:
        """Who comes today and when: trust brings people back; most visits are in the evening."""
        mk, sh = self.mk, self.mk.shoppers
        p = np.clip(sh.activity * (0.4 + 1.2 * sh.trust), 0.0, 0.95)
        p[sh.churned] = 0.0
        coming = np.flatnonzero(mk.visit_rng.random(len(sh)) < p)
        hours = np.clip(mk.visit_rng.normal(17.5, 4.5, size=len(coming)), 7.0, 23.9)
        for i, h in zip(coming, hours, strict=True):
            if mk.pool is None:
                self.timeline.add(self.at(float(h)), "visit", int(i))
            else:
                self.visits.append((self.at(float(h)), int(i)))

    def on_visit(self, shopper: int) -> None:
        self.active.add(shopper)
        before = len(self.purchases)
        ShopperVisit(self.mk, shopper, self.stats, self.purchases).run()
        self.take_purchases(self.purchases[before:], self.mk.clock.now())

    def take_purchases(self, purchases: list[Purchase], at: datetime) -> None:
        """Purchases made by a visit that ended `at` go into fulfilment; the merchants' books count their margin."""
        for purchase in purchases:
            m = self.mk.merchants[self.mk.products[purchase.product_id].merchant]
            delay = timedelta(hours=4 + float(self.mk.rng.exponential(6 + 60 * (1 - m.service) ** 2)))
            self.parcels.append(Parcel(purchase, at + delay, late=delay > timedelta(hours=48)))
            cost = math.ceil(purchase.amount_fen * (m.cost_ratio + FEE_BPS / 10_000))
            self.margin_fen[m.index] = self.margin_fen.get(m.index, 0) + purchase.amount_fen - cost
            m.days_without_order = -1  # reset at midnight

    def on_jobs(self, _: None) -> None:
        mk = self.mk
        run_once(mk.database, mk.clock, mk.settings, mk.gateway)
        mk.jobs_rounds += 1

    # --- after the sale ---------------------------------------------------------------------------------

    def on_fulfil(self, _: None) -> None:
        now = self.mk.clock.now()
        keep = []
        for parcel in self.parcels:
            try:
                done = self._advance(parcel, now)
            except DomainError:
                done = True  # the platform moved it on by itself (expiry, auto-delivery): nothing left to do
            if not done:
                keep.append(parcel)
        self.parcels[:] = keep

    def _advance(self, parcel: Parcel, now: datetime) -> bool:
        """Move a parcel one step if its time has come; True when nothing is left to do for it."""
        mk, p = self.mk, parcel.purchase
        product = mk.products[p.product_id]
        m = mk.merchants[product.merchant]
        if parcel.deliver_at is None:
            if now < parcel.ship_at:
                return False
            with mk.database.session() as s:
                orders.do_ship(s, mk.clock, mk.merchant_actor(m), p.order_id, "模拟快递", f"SIM{p.order_id:09d}")
            parcel.deliver_at = now + timedelta(days=float(mk.rng.uniform(1, 3)))
            return False
        if parcel.case_id is None:
            if now < parcel.deliver_at:
                return False
            return self._delivered(parcel, m, product.quality)
        if parcel.receive_at is not None and now >= parcel.receive_at:
            with mk.database.session() as s:
                refund.receive_return(s, mk.clock, mk.gateway, mk.merchant_actor(m), parcel.case_id)
            self._refunded(m, p.amount_fen)
            return True
        return False

    def _delivered(self, parcel: Parcel, m: Merchant, quality: float) -> bool:
        mk, p, rng = self.mk, parcel.purchase, self.mk.rng
        sh, i = mk.shoppers, p.shopper
        shopper = mk.shopper_actor(i)
        with mk.database.session() as s:
            deliver.confirm_delivery(s, mk.clock, mk.settings, mk.gateway, shopper, p.order_id)
        felt = float(np.clip(quality + rng.normal(0, 0.12), 0, 1))
        p_return = 0.02 + 0.55 * (1 - felt) ** 2 + 0.04 * float(sh.price_sensitivity[i])
        trust = 0.12 * (felt - 0.55) - (0.06 if parcel.late else 0.0)
        with mk.database.session() as s:
            if rng.random() < 0.35:
                rating = int(np.clip(round(1 + 4 * felt + rng.normal(0, 0.5)), 1, 5))
                feedback.do_review(s, mk.clock, shopper, p.line_id, rating, "好评" if rating >= 4 else "一般")
            complaint = None
            if felt < 0.35 and rng.random() < 0.4:
                complaint = ComplaintCategory.QUALITY
            elif parcel.late and rng.random() < 0.3:
                complaint = ComplaintCategory.DELIVERY
            elif m.noisy and rng.random() < 0.08:
                complaint = ComplaintCategory.MISLEADING_MARKETING
            if complaint is not None:
                feedback.do_complain(
                    s, mk.clock, shopper, store_id=m.store_id, order_id=p.order_id, category=complaint, text="模拟投诉"
                )
                trust -= 0.05
        done = True
        if rng.random() < p_return:
            done = self._return(parcel, m)
            trust -= 0.03 if done is False else 0.1  # a refused return hurts more than a smooth one
        sh.trust[i] = float(np.clip(sh.trust[i] + trust, 0.02, 1.0))
        if sh.trust[i] < 0.15:
            sh.churned[i] = True
        return done

    def _return(self, parcel: Parcel, m: Merchant) -> bool:
        mk, p, rng = self.mk, parcel.purchase, self.mk.rng
        shopper = mk.shopper_actor(p.shopper)
        with mk.database.session() as s:
            case = refund.request_after_sale(
                s, mk.clock, mk.settings, mk.gateway, shopper, p.order_id, kind=AfterSaleKind.RETURN_REFUND,
                reason="不满意", lines=[(p.line_id, 1)],
            )  # fmt: skip
            case_id, status = case.id, case.status
        if status == AfterSaleStatus.REQUESTED:
            approve = rng.random() < 0.55 + 0.45 * m.service
            with mk.database.session() as s:
                refund.decide_after_sale(
                    s, mk.clock, mk.gateway, mk.merchant_actor(m), case_id, approve=approve,
                    note=None if approve else "商品无质量问题",
                )  # fmt: skip
            if not approve:
                if rng.random() < 0.5:
                    with mk.database.session() as s:
                        feedback.do_complain(
                            s, mk.clock, shopper, store_id=m.store_id, order_id=p.order_id,
                            category=ComplaintCategory.SERVICE, text="退货被拒",
                        )  # fmt: skip
                return True
        with mk.database.session() as s:
            aftersales.do_ship_return(s, mk.clock, shopper, case_id, "模拟快递", f"RT{case_id:09d}")
        parcel.case_id = case_id
        parcel.receive_at = mk.clock.now() + timedelta(days=float(rng.uniform(1, 3)))
        return False

    def _refunded(self, m: Merchant, amount_fen: int) -> None:
        # the goods come back (resellable), the margin and the return postage are lost
        lost = math.floor(amount_fen * (1 - m.cost_ratio)) + 800
        self.margin_fen[m.index] = self.margin_fen.get(m.index, 0) - lost

    # --- the merchant's books at midnight ---------------------------------------------------------------

    def guarantees_kept(self) -> None:
        """Shoppers feel the platform's promises kept: a price-protection refund or return postage paid
        today raises the shopper's trust a little (assumption, docs/simulator-results.md); who was paid is
        the platform's record, not the simulator's guess."""
        mk = self.mk
        since, until = self.at(0), self.at(24)
        with mk.database.read_sessions() as s:
            protected = s.scalars(
                select(PriceProtectionPayout.shopper_id).where(
                    PriceProtectionPayout.paid_at >= since, PriceProtectionPayout.paid_at < until
                )
            ).all()
            covered = s.scalars(
                select(Order.shopper_id)
                .join(ReturnCoverPayout, ReturnCoverPayout.order_id == Order.id)
                .where(ReturnCoverPayout.paid_at >= since, ReturnCoverPayout.paid_at < until)
            ).all()
        index = {int(u): i for i, u in enumerate(mk.shoppers.user_id)}
        for user_id in [*protected, *covered]:
            i = index.get(int(user_id))
            if i is not None:
                mk.shoppers.trust[i] = float(min(1.0, mk.shoppers.trust[i] + KEPT_PROMISE_TRUST))

    def late_payers_pay(self) -> None:
        """A shopper with an overdue pay-later bill pays it from the account page some evening (the bank
        may decline again): pay later comes back once nothing is overdue — the platform's rule."""
        mk = self.mk
        with mk.database.read_sessions() as s:
            overdue = s.execute(
                select(PayLaterBill.id, PayLaterBill.shopper_id).where(PayLaterBill.status == BillStatus.OVERDUE)
            ).all()
        for bill_id, shopper_id in overdue:
            if mk.rng.random() >= OVERDUE_PAY_CHANCE:
                continue
            with mk.database.session() as s:
                credit.do_pay_bill(s, mk.clock, mk.settings, mk.gateway, Actor(shopper_id, Role.SHOPPER), bill_id)

    def accounts(self) -> None:
        mk, rng = self.mk, self.mk.rng
        self.guarantees_kept()
        self.late_payers_pay()
        for m in mk.merchants:
            if not m.open:
                continue
            m.capital_fen += self.margin_fen.get(m.index, 0) - m.fixed_cost_fen
            m.days_without_order += 1
            broke = m.capital_fen < 0
            discouraged = m.days_without_order >= 10 and rng.random() < 0.15
            if broke or discouraged:
                self._close(m, "资金不足" if broke else "没有订单")

    def _close(self, m: Merchant, reason: str) -> None:
        mk = self.mk
        with mk.database.session() as s:
            for pid in m.product_ids:
                with contextlib.suppress(DomainError):  # delisted already
                    catalog.do_delist_product(s, mk.clock, mk.merchant_actor(m), pid)
            merchants.do_close_store(s, mk.clock, mk.merchant_actor(m), m.store_id, reason)
        m.open, m.closed_day = False, self.index
        self.stats.closed_merchants += 1
