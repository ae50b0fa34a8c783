"""Explanations: why an item is where it is in a feed, and why a store got the traffic it got.

For a feed item: the slot that placed it (organic ranking, launch plan, boost plan), the candidate
sources that proposed it, pCTR/pCVR and where they came from (model version or heuristic), expected GMV,
and each score component with its weight and contribution under the shopper's policy.

For a merchant: its impressions over a period split by slot and format, clicks and orders from the feed,
its launch-plan progress (or why it is withheld), its boost tier (or which thresholds it misses), and
its components against the platform's average — with plain reasons ("titles carry promotional words",
"refunds lower the experience score").
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yinli.core.auth import Actor, require_store_manager
from yinli.merchants.service import get_store
from yinli.traffic import candidates, plans
from yinli.traffic.feed import Placement
from yinli.traffic.models import BoostChange, BoostMembership, LaunchEnrolment, TrafficEvent
from yinli.traffic.ranking import GMV_ONLY, WEIGHTS

COMPONENTS = ("value", "engagement", "experience", "relevance", "noise")
SAMPLE = 5000  # impressions read per side to average components


def item(p: Placement, policy: str, model_version: str | None) -> dict[str, Any]:
    weights = {"value": 1.0} if policy == GMV_ONLY else WEIGHTS
    parts = [
        {
            "name": name,
            "value": p.components[name],
            "weight": weights.get(name, 0.0),
            "contribution": round(weights.get(name, 0.0) * p.components[name], 4),
        }
        for name in COMPONENTS
        if name in p.components
    ]
    return {
        "slot": p.slot,
        "placed_by": {"organic": "ranking", "launch": "launch plan", "boost": "boost plan"}[p.slot],
        "sources": candidates.source_names(p.sources),
        "policy": policy,
        "score": round(p.score, 4),
        "pctr": round(p.pctr, 5),
        "pcvr": round(p.pcvr, 5),
        "expected_gmv_fen": round(p.ev_fen, 2),
        "predicted_by": model_version or "heuristic",
        "components": parts,
        "plan": p.plan,
    }


def _mean_components(session: Session, since: datetime, store_id: int | None) -> tuple[dict[str, float], int]:
    query = (
        select(TrafficEvent.features)
        .where(TrafficEvent.kind == "impression", TrafficEvent.occurred_at >= since, TrafficEvent.slot == "organic")
        .order_by(TrafficEvent.id.desc())
        .limit(SAMPLE)
    )
    if store_id is not None:
        query = query.where(TrafficEvent.store_id == store_id)
    sums: dict[str, float] = {}
    n = 0
    for features in session.scalars(query):
        if not features:
            continue
        n += 1
        for key in ("experience", "noise", "affinity", "item_ctr", "item_cvr"):
            sums[key] = sums.get(key, 0.0) + float(features.get(key, 0.0))
    return ({k: round(v / n, 4) for k, v in sums.items()} if n else {}), n


def store_traffic(session: Session, actor: Actor | None, store_id: int, now: datetime, days: int) -> dict[str, Any]:
    require_store_manager(actor, store_id)
    get_store(session, actor, store_id)  # 404 for a store the caller cannot see
    since = now - timedelta(days=days)
    e = TrafficEvent
    rows = session.execute(
        select(e.kind, e.slot, e.item_type, func.count(), func.sum(e.value_fen))
        .where(e.store_id == store_id, e.occurred_at >= since)
        .group_by(e.kind, e.slot, e.item_type)
    ).all()
    by_slot: dict[str, int] = {"organic": 0, "launch": 0, "boost": 0}
    by_format: dict[str, int] = {"product": 0, "video": 0, "live": 0}
    totals: dict[str, int] = {}
    gmv = 0
    for kind, slot, item_type, n, value in rows:
        totals[kind] = totals.get(kind, 0) + int(n)
        if kind == "impression":
            by_slot[slot or "organic"] = by_slot.get(slot or "organic", 0) + int(n)
            by_format[item_type or "product"] = by_format.get(item_type or "product", 0) + int(n)
        if kind == "order":
            gmv += int(value or 0)
    mine, n_mine = _mean_components(session, since, store_id)
    platform, _ = _mean_components(session, since, None)
    impressions = totals.get("impression", 0)
    return {
        "store_id": store_id,
        "days": days,
        "impressions": impressions,
        "impressions_by_slot": by_slot,
        "impressions_by_format": by_format,
        "clicks": totals.get("click", 0),
        "ctr": round(totals.get("click", 0) / impressions, 4) if impressions else None,
        "orders": totals.get("order", 0),
        "gmv_fen": gmv,
        "components": mine,
        "platform_components": platform,
        "reasons": _reasons(mine, platform, n_mine, by_slot),
        "launch_plan": _launch_of(session, store_id),
        "boost_plan": _boost(session, store_id, now),
    }


def _reasons(mine: dict[str, float], platform: dict[str, float], n: int, by_slot: dict[str, int]) -> list[str]:
    out = []
    if by_slot.get("launch"):
        out.append(f"{by_slot['launch']} impressions came from the launch plan's reserved slots for new merchants")
    if by_slot.get("boost"):
        out.append(f"{by_slot['boost']} impressions came from your boost-plan tier")
    if not n:
        out.append("no organic impressions yet: the ranking has little evidence about your products")
        return out
    out.append(
        f"{n} organic impressions (latest sampled), ranked on expected value, experience "
        f"{mine.get('experience', 0):.2f}, shopper interest {mine.get('affinity', 0):.2f} and "
        f"marketing noise {mine.get('noise', 0):.2f}"
    )
    if mine.get("noise", 0) > 0.2:
        out.append(
            f"marketing-noise penalty {mine['noise']:.2f}: titles with promotional words or reference prices far "
            "above the price rank lower"
        )
    if mine.get("experience", 1) < platform.get("experience", 0) - 0.05:
        out.append(
            f"experience score {mine['experience']:.2f} vs platform {platform['experience']:.2f}: refunds, "
            "complaints, late shipping or low ratings lower your ranking"
        )
    elif mine.get("experience", 0) > platform.get("experience", 1) + 0.02:
        out.append(f"experience score {mine['experience']:.2f} above the platform's: good service ranks you higher")
    if mine.get("item_ctr", 0) > platform.get("item_ctr", 1):
        out.append("your items are clicked more than average, which raises their predicted value")
    if mine.get("affinity", 0) < 0.05:
        out.append("your items were mostly shown to shoppers without a known interest in their categories")
    return out


def _launch_of(session: Session, store_id: int) -> dict[str, Any] | None:
    e = session.get(LaunchEnrolment, store_id)
    if e is None:
        return None
    return {
        "status": e.status,
        "quota": e.quota,
        "delivered": e.delivered,
        "started_at": e.started_at.isoformat(),
        "ends_at": e.ends_at.isoformat(),
        "reached_at": e.reached_at.isoformat() if e.reached_at else None,
        "withheld_reason": e.withheld_reason,
        # why the quota is what it is (sized to the forecast supply of interested shoppers) and whom it goes to
        "asked_quota": e.asked_quota,
        "quota_reason": e.plan_note,
        "targeting": e.targeting,
    }


def _boost(session: Session, store_id: int, now: datetime) -> dict[str, Any]:
    config = plans.get_boost_config(session)
    member = session.get(BoostMembership, store_id)
    measures = plans.store_measures(session, store_id, now)
    names = [t.name for t in config.tiers]
    nxt = None
    if member is None and config.tiers:
        nxt = config.tiers[0]
    elif member is not None and member.tier in names and names.index(member.tier) + 1 < len(names):
        nxt = config.tiers[names.index(member.tier) + 1]
    last = session.scalar(
        select(BoostChange).where(BoostChange.store_id == store_id).order_by(BoostChange.id.desc()).limit(1)
    )
    return {
        "tier": member.tier if member else None,
        "measures": measures,
        "next_tier": nxt.name if nxt else None,
        "missing_for_next_tier": plans.unmet(nxt, measures) if nxt else [],
        "last_change": {"from": last.from_tier, "to": last.to_tier, "at": last.at.isoformat(), "reason": last.reason}
        if last
        else None,
    }
