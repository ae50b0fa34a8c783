"""A run's KPIs, read back from the platform's own records (orders, refunds, complaints, stores, the
traffic log, the search log, the launch plan) plus what only the simulator knows (who an agent is:
cohort, formats, when it joined). Where the platform defines a measure (the shelf, search conversion,
launch coverage) the simulator reads the platform's definition rather than restating it.

Money stays integer fen; rates are plain floats (they are not money). A rate with no subjects (no new
merchant old enough, no order, no search) is None — null in kpis.json, "n/a" in reports — never 0.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yinli.guarantees import report
from yinli.guarantees.models import BillStatus, CreditProfile, PayLaterBill
from yinli.orders.models import Complaint, Order, OrderLine
from yinli.orders.reports import format_of, shelf_share
from yinli.search import log as search_log
from yinli.sim.market import Market
from yinli.sim.world import COHORTS
from yinli.traffic.plans import launch_kpi

UNDER_PRICE_FEN = 5_000  # ¥50: units sold below this unit price are the "sub-¥50" share
# the KPIs `compare` puts side by side (higher is better for all but the rates of refunds and complaints
# and the launch plan's GMV cost)
HEADLINE = (
    "gmv_fen",
    "net_gmv_fen",
    "orders",
    "refund_rate",
    "complaint_rate",
    "new_merchant_coverage",
    "launch_gmv_cost_share",
    "new_merchant_first_order_7d",
    "new_merchant_survival",
    "merchant_retention",
    "shopper_retention",
    "gmv_share_40_plus",
    "shelf_share",
    "units_share_under_50",
    "conversion",
    "search_conversion",
    "search_conversion_vs_average",
)


def ratio(a: float, b: float) -> float | None:
    """a / b; None when b is 0 (a measure with no subjects has no value, it is not 0)."""
    return a / b if b else None


def ratio_of(a: float | None, b: float | None) -> float | None:
    """a / b where either may be missing."""
    return None if a is None or b is None else ratio(a, b)


def share(value: float | None, digits: int = 0) -> str:
    """A share as a percentage for the text reports; "n/a" for a measure with no subjects."""
    return "n/a" if value is None else f"{value:.{digits}%}"


def compute(mk: Market) -> dict[str, Any]:
    cfg = mk.config
    start = cfg.start
    cohort_of = {int(u): COHORTS[int(c)] for u, c in zip(mk.shoppers.user_id, mk.shoppers.cohort, strict=True)}
    new = [m for m in mk.merchants if m.joined_day >= 0]
    with mk.database.read_sessions() as s:
        lines = paid_lines(s)
        complaints = s.scalar(select(func.count()).select_from(Complaint)) or 0
        kept = guarantee_kpis(s)
        launch = launch_kpi(s)  # the platform's own count (its fields only: the plan's internals may change)
        searched = search_log.analytics(s, mk.operator, start, start + timedelta(days=cfg.days), now=mk.clock.now())
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
        by_format[format_of(r.surface)] += r.line_total_fen
        by_surface[r.surface] += r.line_total_fen
        cohort = cohort_of.get(r.shopper_id)
        if cohort:
            by_cohort[cohort] += r.line_total_fen
        if r.store_id not in first_order or r.paid_at < first_order[r.store_id]:
            first_order[r.store_id] = r.paid_at

    units = sum(r.quantity for r in lines)
    units_under_50 = sum(r.quantity for r in lines if r.unit_price_fen < UNDER_PRICE_FEN)

    # new merchants: first order within 7 days (of those a week old), survival; coverage is the launch plan's
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
    conversion = ratio(purchases, sessions)
    judged = launch.reached + launch.expired
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
        "aov_fen": gmv // len(order_ids) if order_ids else None,
        "refund_rate": ratio(refunded, gmv),
        "complaints": complaints,
        "complaint_rate": ratio(complaints, len(order_ids)),
        "gmv_by_day_fen": by_day,
        "gmv_by_format_fen": dict(sorted(by_format.items())),
        "gmv_by_surface_fen": dict(sorted(by_surface.items())),
        "gmv_by_cohort_fen": by_cohort,
        "gmv_share_40_plus": ratio(by_cohort["gen_x"] + by_cohort["older"], gmv),
        "shelf_share": shelf_share(by_surface),
        "units_sold": units,
        "units_share_under_50": ratio(units_under_50, units),
        "new_merchants": len(new),
        # the launch plan as the platform counts it: reached / (reached + expired) among closed windows
        "new_merchant_coverage": launch.coverage,
        "new_merchant_coverage_judged": judged,
        "launch_withheld": launch.withheld,
        "launch_impressions": launch.launch_impressions,
        "launch_gmv_cost_fen": launch.gmv_cost_fen,
        "launch_gmv_cost_share": ratio(launch.gmv_cost_fen, gmv),
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
        "conversion": conversion,
        # the platform's search analytics over the run: searches that led to a paid order / search PV
        "search_pv": searched.search_pv,
        "search_orders": searched.orders,
        "search_gmv_fen": searched.gmv_fen,
        "search_conversion": searched.conversion_rate,
        "search_conversion_vs_average": ratio_of(searched.conversion_rate, conversion),
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
                OrderLine.unit_price_fen,
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
