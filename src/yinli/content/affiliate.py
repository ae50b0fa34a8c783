"""Affiliate plans and creator commission.

A merchant opens a product to all creators at a rate (`open`) or to named creators (`targeted`); a
targeted plan beats the open one for its creator. Checkout snapshots the plan and rate on the order
line. Commission then follows the order:
- paid: an `AffiliateCommission` row, pending (event AffiliateOrderPlaced);
- line fully refunded: reversed;
- order completed: payable on what was not refunded, booked in the ledger at settlement — from the
  merchant's side of the escrow to `creator_payable:<id>`, less the platform's cut (settings).
Bounds: a plan's rate is at most 80% and leaves the merchant ≥ 0 after the category's technical fee
(`check_rate`); per line, commission + fee never exceed the line's net amount (`line_commission` caps
the commission). A creator buying through their own room or video earns no commission.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from yinli.accounts.models import User
from yinli.catalog import service as catalog
from yinli.catalog.models import Category
from yinli.content.models import AffiliateCommission, AffiliatePlan
from yinli.core.auth import Actor, Role, require_actor, require_store_manager
from yinli.core.clock import Clock
from yinli.core.db import unique_or
from yinli.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from yinli.core.money import Money
from yinli.core.outbox import emit
from yinli.core.settings import Settings
from yinli.orders.models import Order, OrderLine


def creator_payable(creator_id: int) -> str:
    return f"creator_payable:{creator_id}"


# A creator's commission is at most 80% of the line's final price, and with the category's technical fee
# it must leave the merchant something: a plan that would make the merchant pay to sell is refused.
MAX_RATE_BPS = 8_000


def _fee_rate(session: Session, settings: Settings | None, category_id: int) -> int:
    """The technical fee rate checkout would snapshot for a product of this category."""
    rate = session.scalar(select(Category.fee_rate_bps).where(Category.id == category_id))
    if rate is not None:
        return rate
    return settings.default_fee_rate_bps if settings else int(Settings.model_fields["default_fee_rate_bps"].default)


def check_rate(rate_bps: int, fee_rate_bps: int) -> None:
    """May a plan pay `rate_bps` on a product whose technical fee is `fee_rate_bps`? InvalidInput if not."""
    if not 0 <= rate_bps <= MAX_RATE_BPS:
        raise InvalidInput(
            f"a commission rate is 0 to {MAX_RATE_BPS} basis points (0-{MAX_RATE_BPS // 100}%)", field="rate_bps"
        )
    if rate_bps + fee_rate_bps > 10_000:
        raise InvalidInput(
            f"with this category's technical fee ({fee_rate_bps} bps) the commission can be at most "
            f"{10_000 - fee_rate_bps} bps: the merchant would pay to sell",
            field="rate_bps",
        )


def line_commission(line: OrderLine, rate_bps: int, base: int) -> int:
    """Commission on `base` fen of a line, capped so commission + the line's technical fee never exceed
    `base`: if a plan's rate and a fee rate raised after it was opened add up to more than 100%, the
    commission is what is reduced (the fee is the platform's published price; the merchant keeps ≥ 0)."""
    fee = Money(base).bps(line.fee_rate_bps).amount
    return max(0, min(Money(base).bps(rate_bps).amount, base - fee))


def do_open_plan(
    session: Session,
    clock: Clock,
    actor: Actor | None,
    *,
    product_id: int,
    rate_bps: int,
    creator_id: int | None = None,
    settings: Settings | None = None,
) -> AffiliatePlan:
    """Open a product to creators (all, or one when `creator_id` is given). Replaces the same kind of
    active plan for that product (and creator).

    The rate is checked against `check_rate` (at most MAX_RATE_BPS, and rate + the category's fee rate
    ≤ 100%; `settings` gives the default fee rate). Own-store plans: an account has one role, and a
    store's staff are `merchant` accounts, so no creator is staff of the store whose plan this is — a
    targeted plan names a `creator` account, never a colleague. A creator buying through their own room
    or video earns nothing either way (see `attribution.resolve`)."""
    actor = require_actor(actor)  # 401 before any lookup: a draft's or a missing product's 404 would tell
    product = catalog.get_product(session, actor, product_id)
    actor = require_store_manager(actor, product.store_id)
    check_rate(rate_bps, _fee_rate(session, settings, product.category_id))
    if creator_id is not None:
        creator = session.get(User, creator_id)
        if creator is None or creator.role != Role.CREATOR:
            raise InvalidInput(f"no creator {creator_id}", field="creator_id")
    # The product's lock: concurrent openings queue, each replacing the one before, so one plan of a
    # kind stays active (uq_affiliate_plans_open / _targeted hold it in the database regardless).
    session.refresh(product, with_for_update={"key_share": True})
    now = clock.now()
    kind = "targeted" if creator_id is not None else "open"
    same = select(AffiliatePlan).where(
        AffiliatePlan.product_id == product_id,
        AffiliatePlan.status == "active",
        AffiliatePlan.kind == kind,
        AffiliatePlan.creator_id == creator_id if creator_id is not None else AffiliatePlan.creator_id.is_(None),
    )
    for old in session.scalars(same):
        old.status, old.ended_at = "ended", now
    plan = AffiliatePlan(
        product_id=product_id,
        store_id=product.store_id,
        kind=kind,
        creator_id=creator_id,
        rate_bps=rate_bps,
        status="active",
        created_at=now,
    )
    with unique_or(session):
        session.add(plan)
    emit(
        session,
        clock,
        "AffiliatePlanOpened",
        "product",
        product_id,
        {"plan_id": plan.id, "kind": kind, "creator_id": creator_id, "rate_bps": rate_bps},
        actor_id=actor.user_id,
    )
    return plan


def do_end_plan(session: Session, clock: Clock, actor: Actor | None, plan_id: int) -> AffiliatePlan:
    actor = require_actor(actor)
    plan = session.get(AffiliatePlan, plan_id)
    if plan is None or not actor.manages_store(plan.store_id):
        raise NotFound(f"no affiliate plan {plan_id}", field="plan_id")
    if plan.status != "active":
        raise InvalidTransition("this plan has ended", field="status")
    plan.status, plan.ended_at = "ended", clock.now()
    session.flush()
    return plan


def plans_for_product(session: Session, product_id: int) -> list[AffiliatePlan]:
    return list(
        session.scalars(
            select(AffiliatePlan)
            .where(AffiliatePlan.product_id == product_id, AffiliatePlan.status == "active")
            .order_by(AffiliatePlan.id)
        )
    )


def plans_visible_to(session: Session, actor: Actor | None, product_id: int) -> list[AffiliatePlan]:
    """A product's active plans as the actor may see them: staff and operators all; creators (and
    everyone else) the open plans and the targeted plans made for them."""
    plans = plans_for_product(session, product_id)
    if actor is not None and (actor.is_operator or actor.store_id is not None):
        return plans
    return [p for p in plans if p.kind == "open" or (actor is not None and p.creator_id == actor.user_id)]


def plans_open_to(session: Session, creator_id: int, *, limit: int = 100) -> list[AffiliatePlan]:
    """What a creator may sell: open plans and plans targeted at them (the best per product)."""
    rows = session.scalars(
        select(AffiliatePlan)
        .where(
            AffiliatePlan.status == "active",
            or_(AffiliatePlan.kind == "open", AffiliatePlan.creator_id == creator_id),
        )
        .order_by(AffiliatePlan.id.desc())
        .limit(limit * 2)
    )
    best: dict[int, AffiliatePlan] = {}
    for plan in rows:
        current = best.get(plan.product_id)
        if current is None or (plan.kind == "targeted" and current.kind == "open"):
            best[plan.product_id] = plan
    return list(best.values())[:limit]


def plan_for(session: Session, product_id: int, creator_id: int) -> AffiliatePlan | None:
    """The plan a creator sells `product_id` under: targeted at them if any, else the open plan."""
    plans = session.scalars(
        select(AffiliatePlan).where(
            AffiliatePlan.product_id == product_id,
            AffiliatePlan.status == "active",
            or_(AffiliatePlan.kind == "open", AffiliatePlan.creator_id == creator_id),
        )
    ).all()
    targeted = [p for p in plans if p.kind == "targeted"]
    return next(iter(targeted or plans), None)


def require_plan(session: Session, product_id: int, creator_id: int, field: str) -> AffiliatePlan:
    plan = plan_for(session, product_id, creator_id)
    if plan is None:
        raise Conflict(
            f"product {product_id} is not open to this creator (no affiliate plan)",
            field=field,
            code="no_affiliate_plan",
        )
    return plan


# --- following the order --------------------------------------------------------------------------------


def on_order_paid(session: Session, clock: Clock, order: Order, lines: list[OrderLine]) -> None:
    now = clock.now()
    for line in lines:
        if line.creator_id is None or line.affiliate_plan_id is None or line.commission_rate_bps is None:
            continue
        if line.creator_id == order.shopper_id:  # no self-commission (lines priced before the rule, too)
            continue
        amount = line_commission(line, line.commission_rate_bps, line.line_total_fen)
        session.add(
            AffiliateCommission(
                order_line_id=line.id,
                order_id=order.id,
                plan_id=line.affiliate_plan_id,
                creator_id=line.creator_id,
                store_id=order.store_id,
                rate_bps=line.commission_rate_bps,
                base_fen=line.line_total_fen,
                amount_fen=amount,
                platform_cut_fen=0,
                status="pending",
                created_at=now,
            )
        )
        emit(
            session,
            clock,
            "AffiliateOrderPlaced",
            "order",
            order.id,
            {
                "store_id": order.store_id,
                "creator_id": line.creator_id,
                "order_line_id": line.id,
                "commission_fen": amount,
                "rate_bps": line.commission_rate_bps,
            },
        )
    session.flush()


def on_lines_refunded(session: Session, clock: Clock, order_line_ids: list[int]) -> None:
    """A fully refunded line earns nothing: its pending commission is reversed."""
    now = clock.now()
    for line_id in order_line_ids:
        line = session.get(OrderLine, line_id)
        if line is None or line.refunded_quantity < line.quantity:
            continue
        reversed_ = session.execute(
            update(AffiliateCommission)
            .where(AffiliateCommission.order_line_id == line_id, AffiliateCommission.status == "pending")
            .values(status="reversed", amount_fen=0, base_fen=0, closed_at=now)
        )
        if reversed_.rowcount:  # type: ignore[attr-defined]
            emit(session, clock, "AffiliateCommissionReversed", "order", line.order_id, {"order_line_id": line_id})


@dataclass(frozen=True)
class Payable:
    creator_id: int
    to_creator: int
    platform_cut: int


def do_settle_commissions(session: Session, order: Order, cut_bps: int, at: datetime) -> list[Payable]:
    """At completion: commission on what was not refunded becomes payable. Returns what to book."""
    payables = []
    for c in session.scalars(
        select(AffiliateCommission).where(
            AffiliateCommission.order_id == order.id, AffiliateCommission.status == "pending"
        )
    ):
        line = session.get(OrderLine, c.order_line_id)
        assert line is not None
        # a creator's own purchase earns nothing (a commission recorded before that rule is reversed)
        base = line.line_total_fen - line.refunded_fen if c.creator_id != order.shopper_id else 0
        total = line_commission(line, c.rate_bps, base)
        cut = Money(total).bps(cut_bps).amount
        c.base_fen, c.amount_fen, c.platform_cut_fen = base, total - cut, cut
        c.status, c.closed_at = ("payable" if base > 0 else "reversed"), at
        if total:
            payables.append(Payable(c.creator_id, total - cut, cut))
    session.flush()
    return payables


def commissions_of(
    session: Session, actor: Actor, *, creator_id: int | None = None, store_id: int | None = None, limit: int = 100
) -> list[AffiliateCommission]:
    query = select(AffiliateCommission).order_by(AffiliateCommission.id.desc()).limit(limit)
    if not actor.is_operator:
        if actor.role is Role.CREATOR:
            creator_id = actor.user_id
        elif actor.store_id is not None:
            store_id = actor.store_id
        else:
            return []
    if creator_id is not None:
        query = query.where(AffiliateCommission.creator_id == creator_id)
    if store_id is not None:
        query = query.where(AffiliateCommission.store_id == store_id)
    return list(session.scalars(query))


def plans_of_store(
    session: Session, store_id: int, *, active: bool | None = None, limit: int = 200
) -> list[AffiliatePlan]:
    """A store's affiliate plans, newest first (`active`: only active or only ended ones)."""
    query = select(AffiliatePlan).where(AffiliatePlan.store_id == store_id)
    if active is not None:
        query = query.where(AffiliatePlan.status == ("active" if active else "ended"))
    return list(session.scalars(query.order_by(AffiliatePlan.id.desc()).limit(limit)))
