"""A shopper's session: open the feed, search, browse the mall, enter a live room or watch a video —
through the real traffic engine, search engine and content services — then perhaps click and buy
through the real checkout and payment.

What a shopper sees is what the platform shows (the product card's final price, rating and sales); what
they decide comes from their latent traits (taste, price sensitivity, budget, trust). Nothing about
outcomes is scripted: a merchant sells because shoppers who were shown its goods wanted them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from sqlalchemy import select

from yinli.catalog.cards import ProductCard, build_cards
from yinli.catalog.models import Product
from yinli.checkout import service as checkout
from yinli.content import live, videos
from yinli.content.models import LiveSessionProduct, VideoProduct
from yinli.core.clock import SimulatedClock
from yinli.core.errors import DomainError
from yinli.flows import charge
from yinli.guarantees import credit
from yinli.guarantees.credit import PayLaterRefused
from yinli.orders.models import Surface
from yinli.orders.service import lines_of
from yinli.search.backends.base import Filters, Sort
from yinli.search.log import do_record_interaction, do_record_search
from yinli.search.service import SearchRequest
from yinli.sim.market import DayStats, Market
from yinli.sim.world import ENTRIES
from yinli.traffic import events
from yinli.traffic.feed import format_of
from yinli.traffic.service import do_serve_feed

ADDRESS = {"name": "模拟买家", "phone": "13800000000", "region": "浙江省 杭州市", "line": "模拟路 1 号"}
FEED_PAGE = 10
PAY_LATER_LIKING = 0.3  # offered pay later, this share of shoppers take it (assumption, sim-results.md)


@dataclass
class Offer:
    """One thing the shopper was shown and may act on."""

    product_id: int
    surface: Surface
    source_id: int | None = None
    feed: tuple[str, str, int] | None = None  # (request id, item type, item id) for feed feedback
    search_id: int | None = None
    impulse: float = 0.0  # a host presenting it live, a video demonstrating it


@dataclass
class Purchase:
    order_id: int
    line_id: int
    shopper: int
    product_id: int
    amount_fen: int


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


class ShopperVisit:
    """One shopper's visit; `run()` returns the purchase made, if any (at most one per visit)."""

    def __init__(
        self,
        mk: Market,
        shopper: int,
        stats: DayStats,
        purchases: list[Purchase],
        rng: np.random.Generator | None = None,
    ) -> None:
        self.mk, self.i, self.stats, self.purchases = mk, shopper, stats, purchases
        # one process: the market's behaviour stream; split across workers: a stream of the visit's own
        self.rng = rng if rng is not None else mk.rng
        self.actor = mk.shopper_actor(shopper)
        self.feedback: list[dict[str, object]] = []

    def run(self) -> None:
        sh = self.mk.shoppers
        entry = ENTRIES[int(self.rng.choice(len(ENTRIES), p=sh.entry[self.i]))]
        self.stats.sessions += 1
        self.stats.sessions_by_entry[entry] = self.stats.sessions_by_entry.get(entry, 0) + 1
        offers = getattr(self, f"_{entry}")()
        self._consider(offers)
        if self.feedback:
            with self.mk.database.session() as s:
                events.do_record_feedback(s, self.mk.clock, self.mk.operator, self.feedback)

    # --- where the session starts ---------------------------------------------------------------------

    def _feed(self) -> list[Offer]:
        mk = self.mk
        with mk.database.session() as s:
            fp, state = do_serve_feed(
                s, mk.traffic, mk.operator, shopper_id=self.actor.user_id, limit=FEED_PAGE, page=None, cursor=None
            )
        snap = state.snapshot
        offers = []
        for p in fp.placements:
            kind = format_of(snap, p.item)
            item_id = int(snap.item_id[p.item])
            product_id = int(snap.item_id[snap.product[p.item]])
            if kind == "live":
                offers.append(Offer(product_id, Surface.LIVE, item_id, (fp.request_id, "live", item_id), impulse=0.5))
            elif kind == "video":
                offers.append(
                    Offer(product_id, Surface.SHORT_VIDEO, item_id, (fp.request_id, "video", item_id), impulse=0.3)
                )
            else:
                offers.append(Offer(product_id, Surface.FEED, None, (fp.request_id, "product", item_id)))
        return offers

    def _search(self) -> list[Offer]:
        mk = self.mk
        leaf = mk.leaf_in(self._favourite_top(), self.rng)
        return self._searched(leaf.name, Filters(), Surface.SEARCH)

    def _mall(self) -> list[Offer]:
        top = self._favourite_top()
        sort = Sort.SALES if self.rng.random() < 0.5 else Sort.RELEVANCE
        return self._searched("", Filters(category_id=self.mk.top_ids[top]), Surface.MALL, sort)

    def _searched(self, q: str, filters: Filters, surface: Surface, sort: Sort = Sort.RELEVANCE) -> list[Offer]:
        mk = self.mk
        with mk.database.read_sessions() as s:
            result = mk.search.search(s, SearchRequest(q=q, filters=filters, sort=sort, limit=10, facets=False))
        shown = [h.product_id for h in result.hits if h.product_id in mk.products]
        search_id = None
        if surface is Surface.SEARCH:  # logged as the search API logs it: PV, CTR, zero results
            with mk.database.session() as s:
                search_id = do_record_search(
                    s, mk.clock, self.actor, query=q, normalized=result.normalized, filters={}, sort=sort.value,
                    offset=0, total=result.total, shown=shown, backend=result.backend, relaxed=None,
                    took_us=result.took_us,
                ).id  # fmt: skip
        # a result bought from carries its search as the line's source (`surface=search, source_id=<search
        # id>`, as the storefront's result link does): the search log's OrderPaid consumer attributes it
        return [Offer(pid, surface, search_id, search_id=search_id) for pid in shown]

    def _live(self) -> list[Offer]:
        mk = self.mk
        with mk.database.read_sessions() as s:
            rooms = [(r.id, r.presenting_product_id) for r in live.live_now(s, limit=50)]
        if not rooms:
            return self._feed()
        # people go where what is on sale suits them
        w = np.array([self._taste(pid) if pid in mk.products else 0.2 for _, pid in rooms]) + 0.05
        room, presenting = rooms[int(self.rng.choice(len(rooms), p=w / w.sum()))]
        with mk.database.read_sessions() as s:
            listed = list(
                s.scalars(
                    select(LiveSessionProduct.product_id)
                    .where(LiveSessionProduct.session_id == room)
                    .order_by(LiveSessionProduct.product_id)
                )
            )
        first = [presenting] if presenting in listed else []
        return [Offer(pid, Surface.LIVE, room, impulse=0.8 if pid == presenting else 0.3) for pid in first + listed][:4]

    def _video(self) -> list[Offer]:
        mk = self.mk
        with mk.database.read_sessions() as s:
            recent = list(videos.list_videos(s, store_id=None, creator_id=None, before_id=None, limit=30))
            if not recent:
                return self._feed()
            links = {
                v: p
                for v, p in s.execute(
                    select(VideoProduct.video_id, VideoProduct.product_id)
                    .where(VideoProduct.video_id.in_([v.id for v in recent]))
                    .order_by(VideoProduct.video_id, VideoProduct.product_id)
                )
            }
        choices = [(v.id, links[v.id]) for v in recent if v.id in links and links[v.id] in mk.products]
        if not choices:
            return self._feed()
        w = np.array([self._taste(pid) for _, pid in choices]) + 0.05
        vid, pid = choices[int(self.rng.choice(len(choices), p=w / w.sum()))]
        return [Offer(pid, Surface.SHORT_VIDEO, vid, impulse=0.4)]

    # --- deciding -----------------------------------------------------------------------------------------

    def _favourite_top(self) -> int:
        taste = self.mk.shoppers.taste[self.i]
        top = int(self.rng.choice(len(taste), p=taste))
        return top if top in self.mk.leaf_weight_by_top else next(iter(self.mk.leaf_weight_by_top))

    def _taste(self, product_id: int) -> float:
        """How much this shopper likes the product's category, relative to an average shopper (1.0)."""
        mk = self.mk
        return float(mk.shoppers.taste[self.i, mk.products[product_id].leaf.top] * len(mk.tops))

    def _consider(self, offers: list[Offer]) -> None:
        mk, sh, i = self.mk, self.mk.shoppers, self.i
        offers = [o for o in offers if o.product_id in mk.products][: int(sh.patience[i])]
        if not offers:
            return
        with mk.database.read_sessions() as s:
            rows = list(s.scalars(select(Product).where(Product.id.in_({o.product_id for o in offers}))))
            room = credit.room(s, mk.settings, int(sh.user_id[i]))
            cards = {c.product_id: c for c in build_cards(s, mk.clock, rows, pay_later_room=room)}
        for offer in offers:
            card = cards.get(offer.product_id)
            if card is None or card.final_price is None or card.status != "listed":
                continue
            appeal = self._appeal(offer, card)
            if self.rng.random() >= sigmoid(appeal - 1.6):
                continue
            self._clicked(offer)
            if self.rng.random() < sigmoid(self._desire(offer, card, appeal)):
                self._buy(offer, card)
                return  # one purchase a visit

    def _appeal(self, offer: Offer, card: ProductCard) -> float:
        """Click appetite from what the card shows. Promo-stuffed titles draw clicks (clickbait works)."""
        product = self.mk.products[offer.product_id]
        sens = float(self.mk.shoppers.price_sensitivity[self.i])
        ratio = card.final_price.amount / product.market_price_fen  # type: ignore[union-attr]
        rating = (card.rating - 4.3) * 0.5 if card.rating is not None else 0.0
        noisy = 0.3 if self.mk.merchants[product.merchant].noisy else 0.0
        return (
            0.9 * math.log(self._taste(offer.product_id) + 0.05)
            - 3.0 * sens * math.log(ratio)
            + rating
            + 0.12 * math.log1p(card.sales_count)
            + noisy
            + offer.impulse
            + self._host_pull(offer)
            + float(self.rng.gumbel(0.0, 0.6))
        )

    def _host_pull(self, offer: Offer) -> float:
        """A charismatic host makes a room's goods more appealing (creators differ; a store's host is 0.5)."""
        if offer.surface is not Surface.LIVE or offer.source_id is None:
            return 0.0
        return self.mk.host_charisma.get(offer.source_id, 0.5) - 0.5

    def _desire(self, offer: Offer, card: ProductCard, appeal: float) -> float:
        sh, i = self.mk.shoppers, self.i
        price = card.final_price.amount  # type: ignore[union-attr]
        over_budget = max(0.0, math.log(price / max(1, int(sh.budget_fen[i]))))
        return -4.0 + 0.5 * appeal + 2.0 * (float(sh.trust[i]) - 0.5) - 1.5 * over_budget + offer.impulse

    def _clicked(self, offer: Offer) -> None:
        mk = self.mk
        if offer.feed is not None:
            request_id, item_type, item_id = offer.feed
            self.feedback.append(
                {
                    "event_id": f"sim{mk.config.seed}x{int(self.rng.integers(1 << 62)):x}"[:40],
                    "kind": "click",
                    "request_id": request_id,
                    "item_type": item_type,
                    "item_id": item_id,
                    "occurred_at": mk.clock.now(),
                    "shopper_id": self.actor.user_id,
                }
            )
        if offer.search_id is not None:
            with mk.database.session() as s:
                do_record_interaction(
                    s, mk.clock, self.actor, search_id=offer.search_id, product_id=offer.product_id, action="click"
                )
        if offer.surface is Surface.SHORT_VIDEO and offer.source_id is not None:
            with mk.database.session() as s:
                length = videos.get_video(s, offer.source_id).duration_seconds
                watched = min(length, int(3 + self.rng.exponential(length * 0.6)))
                videos.do_record_view(
                    s, mk.clock, self.actor, offer.source_id, watched_seconds=watched,
                    liked=bool(self.rng.random() < 0.1), shared=bool(self.rng.random() < 0.02),
                )  # fmt: skip
        if offer.surface is Surface.LIVE and offer.source_id is not None:
            self._watch_live(offer.source_id)

    def _watch_live(self, live_session_id: int) -> None:
        mk = self.mk
        try:
            with mk.database.session() as s:
                live.do_join(s, mk.clock, self.actor, live_session_id)
            stay = timedelta(seconds=int(30 + self.rng.exponential(240.0)))
            if isinstance(mk.clock, SimulatedClock):
                mk.clock.advance(stay)
                with mk.database.session() as s:
                    live.do_leave(s, mk.clock, self.actor, live_session_id)
            else:  # on the real clock (the living demo) the viewer stays while others act; see LiveMarket
                mk.leaving.append((mk.clock.now() + stay, self.actor, live_session_id))
        except DomainError:
            pass  # the room ended between the feed and the tap: the shopper just sees it closed

    def _buy(self, offer: Offer, card: ProductCard) -> None:
        mk, i = self.mk, self.i
        product = mk.products[offer.product_id]
        sku = int(product.sku_ids[int(self.rng.integers(len(product.sku_ids)))])
        quantity = 2 if self.rng.random() < 0.08 else 1
        # pay later when the platform offers it to this shopper on this product (the card's badge: opt-ins
        # and the shopper's credit room); a refusal at payment (the room was used meanwhile) falls back to card
        offered = "pay_later" in card.guarantees
        method = "pay_later" if offered and self.rng.random() < PAY_LATER_LIKING else "card"
        line = checkout.LineRequest(sku, quantity, offer.surface, offer.source_id)
        try:
            with mk.database.session() as s:
                payment, orders = checkout.do_checkout(
                    s, mk.clock, mk.settings, self.actor, lines=[line], address=ADDRESS
                )
                payment_id, order_id = payment.id, orders[0].id
                line_row = lines_of(s, [order_id])[order_id][0]
                line_id, amount = line_row.id, line_row.line_total_fen
        except DomainError:
            self.stats.sold_out += 1  # out of stock, delisted or the room ended: nothing was created
            return
        try:
            try:
                charge.pay(mk.database, mk.clock, mk.gateway, self.actor, payment_id, method, mk.settings)
            except PayLaterRefused:
                self.stats.pay_later_refused += 1
                charge.pay(mk.database, mk.clock, mk.gateway, self.actor, payment_id, "card", mk.settings)
        except DomainError:
            self.stats.declined += 1  # declined: the order waits unpaid and the expiry job releases the stock
            return
        self.stats.purchases += 1
        self.purchases.append(Purchase(order_id, line_id, i, offer.product_id, amount))
