"""Experiments: deterministic bucketing of shoppers into policy variants, and per-bucket metrics.

A shopper's bucket is `sha256(salt:shopper_id) mod 10000` against the variants' cumulative weights: the
same shopper always lands in the same variant of an experiment, with no state to store, and different
experiments (different salts) shuffle shoppers independently. A variant sets the ranking policy
(`user_first` or `gmv_only`) and whether the launch and boost plans run for its shoppers. One experiment
runs at a time; without one every shopper gets the default (user-first, both plans on).

Every event the shopper causes — impressions, clicks, orders, returns, complaints — is tagged with the
experiment and bucket when it is logged, so the metrics are plain aggregates over the event log.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from yinli.core.auth import Actor, Role, require_role
from yinli.core.clock import Clock
from yinli.core.db import unique_or
from yinli.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from yinli.traffic.models import Experiment, LaunchEnrolment, TrafficEvent
from yinli.traffic.ranking import POLICIES, USER_FIRST

BUCKETS = 10_000


@dataclass(frozen=True)
class Variant:
    name: str
    weight: int
    policy: str = USER_FIRST
    launch_plan: bool = True
    boost_plan: bool = True


@dataclass(frozen=True)
class Assignment:
    experiment_id: int | None
    bucket: str
    policy: str
    launch_plan: bool
    boost_plan: bool


DEFAULT = Assignment(None, "default", USER_FIRST, True, True)


@dataclass(frozen=True)
class ActiveExperiment:
    id: int
    salt: str
    variants: tuple[Variant, ...]

    def assign(self, shopper_id: int) -> Assignment:
        point = int(hashlib.sha256(f"{self.salt}:{shopper_id}".encode()).hexdigest()[:12], 16) % BUCKETS
        total = sum(v.weight for v in self.variants)
        edge = 0
        for v in self.variants:
            edge += v.weight
            if point < edge * BUCKETS // total:
                return Assignment(self.id, v.name, v.policy, v.launch_plan, v.boost_plan)
        v = self.variants[-1]
        return Assignment(self.id, v.name, v.policy, v.launch_plan, v.boost_plan)


def assign(active: ActiveExperiment | None, shopper_id: int) -> Assignment:
    return active.assign(shopper_id) if active is not None else DEFAULT


def load_active(session: Session) -> ActiveExperiment | None:
    row = session.scalar(select(Experiment).where(Experiment.status == "active").order_by(Experiment.id).limit(1))
    if row is None:
        return None
    return ActiveExperiment(row.id, row.salt, tuple(Variant(**v) for v in row.variants))


def check_variants(variants: list[dict[str, Any]]) -> list[Variant]:
    if not 2 <= len(variants) <= 10:
        raise InvalidInput("an experiment has 2 to 10 variants", field="variants")
    out = []
    for i, v in enumerate(variants):
        if v.get("policy", USER_FIRST) not in POLICIES:
            raise InvalidInput(f"policy is one of {', '.join(POLICIES)}", field=f"variants.{i}.policy")
        out.append(Variant(**v))
    if len({v.name for v in out}) != len(out):
        raise InvalidInput("variant names must differ", field="variants")
    return out


def check_can_start(session: Session, name: str) -> None:
    """One experiment runs at a time, and names are not reused."""
    if session.scalar(select(Experiment.id).where(Experiment.status == "active")) is not None:
        raise Conflict("an experiment is running; stop it first", code="experiment_running")
    if session.scalar(select(Experiment.id).where(Experiment.name == name)) is not None:
        raise Conflict("an experiment with this name exists", field="name", code="experiment_name_taken")


def do_create(
    session: Session, clock: Clock, actor: Actor | None, name: str, variants: list[dict[str, Any]]
) -> Experiment:
    """Start an experiment (operators). One at a time: stop the running one first."""
    actor = require_role(actor, Role.OPERATOR)
    checked = check_variants(variants)
    check_can_start(session, name)
    row = Experiment(
        name=name,
        salt=secrets.token_hex(8),
        status="active",
        variants=[v.__dict__ for v in checked],
        created_at=clock.now(),
        created_by=actor.user_id,
    )
    # uq_traffic_experiments_active (and the unique name): of concurrent starts one wins, the others
    # get the same 409 as if they had come after it
    with unique_or(session, lambda: check_can_start(session, name)):
        session.add(row)
    return row


def get(session: Session, actor: Actor | None, experiment_id: int) -> Experiment:
    require_role(actor, Role.OPERATOR)
    row = session.get(Experiment, experiment_id)
    if row is None:
        raise NotFound(f"no experiment {experiment_id}", field="experiment_id")
    return row


def do_stop(session: Session, clock: Clock, actor: Actor | None, experiment_id: int) -> Experiment:
    row = get(session, actor, experiment_id)
    if row.status != "active":
        raise InvalidTransition("the experiment has stopped already", field="status")
    row.status, row.stopped_at = "stopped", clock.now()
    session.flush()
    return row


def list_all(session: Session, actor: Actor | None) -> list[Experiment]:
    require_role(actor, Role.OPERATOR)
    return list(session.scalars(select(Experiment).order_by(Experiment.id.desc()).limit(100)))


def metrics(session: Session, actor: Actor | None, experiment_id: int) -> dict[str, dict[str, Any]]:
    """Per bucket: reach, engagement, GMV (all and from the feed), service KPIs and new-merchant traffic."""
    row = get(session, actor, experiment_id)
    new_store = select(LaunchEnrolment.store_id).scalar_subquery()
    e = TrafficEvent

    def count(kind: str) -> Any:
        return func.sum(case((e.kind == kind, 1), else_=0))

    rows = session.execute(
        select(
            e.bucket,
            func.count(func.distinct(e.shopper_id)),
            count("impression"),
            count("click"),
            count("add_to_cart"),
            count("order"),
            func.sum(case((e.kind == "order", e.value_fen), else_=0)),
            func.sum(case(((e.kind == "order") & (e.surface == "feed"), e.value_fen), else_=0)),
            count("return"),
            count("complaint"),
            func.sum(case((e.kind == "watch", e.watch_seconds), else_=0)),
            func.sum(case(((e.kind == "impression") & (e.slot == "launch"), 1), else_=0)),
            func.sum(case(((e.kind == "impression") & e.store_id.in_(new_store), 1), else_=0)),
            func.sum(case((e.kind == "impression", e.expected_fen), else_=0)),
        )
        .where(e.experiment_id == experiment_id)
        .group_by(e.bucket)
    ).all()
    out: dict[str, dict[str, Any]] = {v["name"]: _empty() for v in row.variants}
    for r in rows:
        (bucket, shoppers, imps, clicks, carts, orders, gmv, feed_gmv, returns, complaints, watch, launch, new, exp) = r
        imps, orders = int(imps or 0), int(orders or 0)
        out[str(bucket)] = {
            "shoppers": int(shoppers or 0),
            "impressions": imps,
            "clicks": int(clicks or 0),
            "ctr": round(int(clicks or 0) / imps, 4) if imps else None,
            "add_to_cart": int(carts or 0),
            "orders": orders,
            "gmv_fen": int(gmv or 0),
            "feed_gmv_fen": int(feed_gmv or 0),
            "gpm_fen": int(int(feed_gmv or 0) * 1000 // imps) if imps else 0,
            "expected_gmv_fen": int(exp or 0),
            "returns": int(returns or 0),
            "return_rate": round(int(returns or 0) / orders, 4) if orders else None,
            "complaints": int(complaints or 0),
            "watch_seconds": int(watch or 0),
            "launch_impressions": int(launch or 0),
            "new_merchant_share": round(int(new or 0) / imps, 4) if imps else None,
        }
    return out


def _empty() -> dict[str, Any]:
    return {
        "shoppers": 0,
        "impressions": 0,
        "clicks": 0,
        "ctr": None,
        "add_to_cart": 0,
        "orders": 0,
        "gmv_fen": 0,
        "feed_gmv_fen": 0,
        "gpm_fen": 0,
        "expected_gmv_fen": 0,
        "returns": 0,
        "return_rate": None,
        "complaints": 0,
        "watch_seconds": 0,
        "launch_impressions": 0,
        "new_merchant_share": None,
    }
