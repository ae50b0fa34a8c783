"""A run's KPIs, read back from the platform's own records (orders, refunds, complaints, stores, the
traffic log) plus what only the simulator knows (who an agent is: cohort, formats, when it joined).

Money stays integer fen; rates are plain floats (they are not money).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from yinli.guarantees import report
from yinli.guarantees.models import BillStatus, CreditProfile, PayLaterBill
from yinli.orders.models import Complaint, Order, OrderLine
from yinli.sim.market import Market
from yinli.sim.world import COHORTS
from yinli.traffic.models import TrafficEvent

SHELF = ("feed", "mall", "search", "store_page", "product_page")
# the KPIs `compare` puts side by side (higher is better for all but the rates of refunds and complaints)
HEADLINE = (
    "gmv_fen",
    "net_gmv_fen",
    "orders",
    "refund_rate",
    "complaint_rate",
    "new_merchant_coverage",
    "new_merchant_first_order_7d",
    "new_merchant_survival",
    "merchant_retention",
    "shopper_retention",
    "gmv_share_40_plus",
    "conversion",
)


def fmt_of(surface: str) -> str:
    return "live" if surface == "live" else "short_video" if surface == "short_video" else "shelf"


def ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def compute(mk: Market) -> dict[str, Any]:
    cfg = mk.config
    start = cfg.start
    cohort_of = {int(u): COHORTS[int(c)] for u, c in zip(mk.shoppers.user_id, mk.shoppers.cohort, strict=True)}
    with mk.database.read_sessions() as s:
        lines = paid_lines(s)
        complaints = s.scalar(select(func.count()).select_from(Complaint)) or 0
        kept = guarantee_kpis(s)
        impressions = defaultdict(list)
        new = [m for m in mk.merchants if m.joined_day >= 0]
        if new:
            rows = s.execute(
                select(TrafficEvent.store_id, TrafficEvent.occurred_at).where(
                    and_(TrafficEvent.kind == "impression", TrafficEvent.store_id.in_([m.store_id for m in new]))
                )
            )
            for store_id, at in rows:
                impressions[store_id].append(at)
    gmv = sum(r.line_total_fen for r in lines)
    refunded = sum(r.refunded_fen for r in lines)
    order_ids = {r.id for r in lines}
    by_day = [0] * cfg.days
    by_format: dict[str, int] = defaultdict(int)
    by_surface: dict[str, int] = defaultdict(int)
    by_cohort: dict[str, int] = {c: 0 for c in COHORTS}
    first_order: dict[int, Any] = {}
    for r in lines:
        d = (r.paid_at - start) // timedelta(days=1)
        if 0 <= d < cfg.days:
            by_day[d] += r.line_total_fen
        by_format[fmt_of(r.surface)] += r.line_total_fen
        by_surface[r.surface] += r.line_total_fen
        cohort = cohort_of.get(r.shopper_id)
        if cohort:
            by_cohort[cohort] += r.line_total_fen
        if r.store_id not in first_order or r.paid_at < first_order[r.store_id]:
            first_order[r.store_id] = r.paid_at

    # new merchants: launch-plan coverage over windows that have fully passed, first order, survival
    window = timedelta(days=cfg.launch_days)
    judged = [m for m in new if m.joined_day + cfg.launch_days <= cfg.days]
    covered = 0
    for m in judged:
        opened = start + timedelta(days=m.joined_day)
        seen = sum(1 for at in impressions[m.store_id] if at < opened + window)
        covered += seen >= cfg.launch_quota
    week = [m for m in new if m.joined_day + 7 <= cfg.days]
    first_7d = sum(
        1
        for m in week
        if m.store_id in first_order and first_order[m.store_id] < start + timedelta(days=m.joined_day + 7)
    )
    starting = [m for m in mk.merchants if m.joined_day < 0]
    by_formats: dict[int, list[bool]] = defaultdict(list)
    for m in mk.merchants:
        by_formats[len(m.formats)].append(m.open)

    active = mk.active_days
    first_week = set().union(*active[:7]) if active else set()
    last_week = set().union(*active[-7:]) if active else set()
    sessions = sum(d.sessions for d in mk.days)
    purchases = sum(d.purchases for d in mk.days)
    return {
        "config": {
            "days": cfg.days,
            "shoppers": cfg.shoppers,
            "merchants": cfg.merchants,
            "creators": cfg.creator_count,
            "seed": cfg.seed,
            "policy": cfg.policy,
            "launch_quota": cfg.launch_quota,
            "launch_days": cfg.launch_days,
        },
        "gmv_fen": gmv,
        "refunded_fen": refunded,
        "net_gmv_fen": gmv - refunded,
        "orders": len(order_ids),
        "aov_fen": gmv // len(order_ids) if order_ids else 0,
        "refund_rate": ratio(refunded, gmv),
        "complaints": complaints,
        "complaint_rate": ratio(complaints, len(order_ids)),
        "gmv_by_day_fen": by_day,
        "gmv_by_format_fen": dict(sorted(by_format.items())),
        "gmv_by_surface_fen": dict(sorted(by_surface.items())),
        "gmv_by_cohort_fen": by_cohort,
        "gmv_share_40_plus": ratio(by_cohort["gen_x"] + by_cohort["older"], gmv),
        "new_merchants": len(new),
        "new_merchant_coverage": ratio(covered, len(judged)),
        "new_merchant_coverage_judged": len(judged),
        "new_merchant_first_order_7d": ratio(first_7d, len(week)),
        "new_merchant_survival": ratio(sum(m.open for m in new), len(new)),
        "merchant_retention": ratio(sum(m.open for m in starting), len(starting)),
        "merchant_retention_by_formats": {
            str(k): {"merchants": len(v), "retained": ratio(sum(v), len(v))} for k, v in sorted(by_formats.items())
        },
        "shopper_retention": ratio(len(first_week & last_week), len(first_week)),
        "shoppers_churned": int(mk.shoppers.churned.sum()),
        "sessions": sessions,
        "sessions_by_entry": _sum_dicts([d.sessions_by_entry for d in mk.days]),
        "purchases": purchases,
        "conversion": ratio(purchases, sessions),
        "declined_payments": sum(d.declined for d in mk.days),
        "unavailable_at_checkout": sum(d.sold_out for d in mk.days),
        "live_sessions": sum(d.live_sessions for d in mk.days),
        "videos": sum(d.videos for d in mk.days),
        "merchants_closed": sum(d.closed_merchants for d in mk.days),
        "pay_later_refused_at_payment": sum(d.pay_later_refused for d in mk.days),
        **kept,
        "pay_later_share": ratio(kept["pay_later_orders"], len(order_ids)),
    }


def guarantee_kpis(s: Session) -> dict[str, Any]:
    """The shopper guarantees as the platform kept them (ledger and bills): payouts per guarantee and who
    funded them, pay-later orders, and the share of billed pay-later bills that went overdue."""
    ops = report.ops_report(s)
    out: dict[str, Any] = {}
    for g in ops.payouts:
        out[f"{g.guarantee}_payouts"] = g.payouts
        out[f"{g.guarantee}_paid_fen"] = g.paid_fen
        out[f"{g.guarantee}_platform_funded_fen"] = g.platform_funded_fen
    bills = dict(s.execute(select(PayLaterBill.status, func.count()).group_by(PayLaterBill.status)).all())
    billed = sum(n for status, n in bills.items() if status not in (BillStatus.OPEN, BillStatus.CANCELLED))
    ever_overdue = s.scalar(select(func.coalesce(func.sum(CreditProfile.bills_overdue), 0))) or 0
    out |= {
        "guarantee_payouts_fen": ops.paid_fen,
        "pay_later_orders": sum(bills.values()),
        "pay_later_bills_billed": billed,
        "pay_later_bills_overdue_now": int(bills.get(BillStatus.OVERDUE, 0)),
        "pay_later_overdue_rate": ratio(int(ever_overdue), billed),
        "pay_later_receivable_fen": ops.pay_later.receivable_fen,
    }
    return out


def paid_lines(s: Session) -> list[Any]:
    """Every line of every paid order, oldest first: the rows GMV is made of."""
    return list(
        s.execute(
            select(
                Order.id,
                Order.paid_at,
                Order.shopper_id,
                Order.store_id,
                OrderLine.product_id,
                OrderLine.surface,
                OrderLine.quantity,
                OrderLine.line_total_fen,
                OrderLine.refunded_fen,
            )
            .join(OrderLine, OrderLine.order_id == Order.id)
            .where(Order.paid_at.is_not(None))
            .order_by(Order.id, OrderLine.id)
        ).all()
    )


def _sum_dicts(dicts: list[dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for d in dicts:
        for k, v in d.items():
            out[k] += v
    return dict(sorted(out.items()))
