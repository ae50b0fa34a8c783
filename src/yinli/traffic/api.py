"""Feed (goods find people), feedback events, traffic plans and experiments (operators), and a store's
traffic explanation (merchants)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from yinli.api.deps import DB, ActorDep, ClockDep, Cursor, ReadDB, SettingsDep, id_path, id_query
from yinli.traffic import coverage, events, experiments, explain, plans
from yinli.traffic.pages import engine_of, feed_out
from yinli.traffic.schemas import (
    BoostChangeOut,
    BoostConfigIn,
    BoostConfigOut,
    BoostOut,
    EnrolmentOut,
    ExperimentIn,
    ExperimentMetricsOut,
    ExperimentOut,
    FeedbackIn,
    FeedbackOut,
    FeedOut,
    LaunchConfigIn,
    LaunchConfigOut,
    LaunchCoverageOut,
    LaunchKpiOut,
    LaunchOut,
    MembershipOut,
    RejectionOut,
    StoreTrafficOut,
)
from yinli.traffic.service import MAX_LIMIT, do_serve_feed

router = APIRouter(tags=["traffic"])


def _id() -> Any:
    return id_path()


# --- the feed ----------------------------------------------------------------------------------------------


@router.get("/feed", response_model=FeedOut, summary="The shopper's feed: live rooms, videos and product cards")
def feed(
    request: Request,
    db: DB,
    rdb: ReadDB,
    clock: ClockDep,
    actor: ActorDep,
    limit: int = Query(10, ge=1, le=MAX_LIMIT, description="Items per page."),
    page: int | None = Query(None, ge=1, le=20, description="Page number (or use `cursor`)."),
    cursor: Cursor = None,
    shopper_id: int | None = id_query(description="Operators only: whose feed."),
    explain_items: bool = Query(False, alias="explain", description="Add score components and plan per item."),
) -> FeedOut:
    engine = engine_of(request)
    fp, state = do_serve_feed(db, engine, actor, shopper_id=shopper_id, limit=limit, page=page, cursor=cursor)
    db.commit()  # the impressions are logged with the page: what was shown is what was served
    return feed_out(rdb, clock, fp, state, explain_items)  # cards etc. outside the write transaction


@router.post(
    "/feed/events",
    response_model=FeedbackOut,
    summary="Report clicks, watch time and add-to-cart on feed items (batch; bad events refused with reasons)",
    responses={422: {"description": "Malformed batch, or no event in it acceptable (each refusal listed)"}},
)
def feedback(body: FeedbackIn, db: DB, clock: ClockDep, actor: ActorDep) -> FeedbackOut:
    result = events.do_record_feedback(db, clock, actor, body.events)
    db.commit()
    return FeedbackOut(accepted=result.accepted, rejected=[RejectionOut(**asdict(r)) for r in result.rejected])


# --- plans (operators) ---------------------------------------------------------------------------------------


@router.get("/traffic/launch", response_model=LaunchOut, summary="Launch plan: configuration, KPI, enrolments")
def launch(
    db: ReadDB,
    settings: SettingsDep,
    actor: ActorDep,
    status: Literal["active", "reached", "expired", "withheld"] | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> LaunchOut:
    config, kpi, rows = plans.launch_overview(db, settings, actor, status=status, limit=limit)
    return LaunchOut(
        config=LaunchConfigOut(**asdict(config)),
        kpi=LaunchKpiOut(**asdict(kpi)),
        enrolments=[EnrolmentOut.model_validate(r) for r in rows],
    )


@router.patch("/traffic/launch", response_model=LaunchConfigOut, summary="Change the launch plan")
def set_launch(
    body: LaunchConfigIn, db: DB, clock: ClockDep, settings: SettingsDep, actor: ActorDep
) -> LaunchConfigOut:
    config = plans.do_set_launch_config(db, clock, settings, actor, body.model_dump(exclude_none=True))
    db.commit()
    return LaunchConfigOut(**asdict(config))


@router.get(
    "/traffic/launch/coverage",
    response_model=LaunchCoverageOut,
    summary="Launch plan coverage: active stores, new merchants, listed, enrolled (operators)",
)
def launch_coverage(db: ReadDB, clock: ClockDep, settings: SettingsDep, actor: ActorDep) -> LaunchCoverageOut:
    return LaunchCoverageOut(**asdict(coverage.launch_coverage(db, clock, settings, actor)))


def _boost_config_out(config: plans.BoostConfig) -> BoostConfigOut:
    return BoostConfigOut(
        enabled=config.enabled,
        share=config.share,
        exit_margin=config.exit_margin,
        tiers=[asdict(t) for t in config.tiers],
    )


@router.get("/traffic/boost", response_model=BoostOut, summary="Boost plan: tiers, members, recent changes")
def boost(db: ReadDB, actor: ActorDep) -> BoostOut:
    config, members, changes = plans.boost_overview(db, actor)
    return BoostOut(
        config=_boost_config_out(config),
        members=[MembershipOut.model_validate(m) for m in members],
        recent_changes=[BoostChangeOut.model_validate(c) for c in changes],
    )


@router.patch("/traffic/boost", response_model=BoostConfigOut, summary="Change the boost plan (tiers lowest first)")
def set_boost(body: BoostConfigIn, db: DB, clock: ClockDep, actor: ActorDep) -> BoostConfigOut:
    config = plans.do_set_boost_config(db, clock, actor, body.model_dump(exclude_none=True))
    db.commit()
    return _boost_config_out(config)


# --- experiments (operators) ---------------------------------------------------------------------------------


@router.post("/traffic/experiments", status_code=201, response_model=ExperimentOut, summary="Start an experiment")
def create_experiment(request: Request, body: ExperimentIn, db: DB, clock: ClockDep, actor: ActorDep) -> JSONResponse:
    row = experiments.do_create(db, clock, actor, body.name, [v.model_dump() for v in body.variants])
    out = ExperimentOut.model_validate(row)
    db.commit()
    engine_of(request).invalidate_experiment(db)
    return JSONResponse(out.model_dump(mode="json"), status_code=201)


@router.get("/traffic/experiments", response_model=list[ExperimentOut], summary="Experiments, newest first")
def list_experiments(db: ReadDB, actor: ActorDep) -> list[ExperimentOut]:
    return [ExperimentOut.model_validate(r) for r in experiments.list_all(db, actor)]


@router.post("/traffic/experiments/{experiment_id}/stop", response_model=ExperimentOut, summary="Stop an experiment")
def stop_experiment(
    request: Request, db: DB, clock: ClockDep, actor: ActorDep, experiment_id: int = _id()
) -> ExperimentOut:
    out = ExperimentOut.model_validate(experiments.do_stop(db, clock, actor, experiment_id))
    db.commit()
    engine_of(request).invalidate_experiment(db)
    return out


@router.get(
    "/traffic/experiments/{experiment_id}/metrics",
    response_model=ExperimentMetricsOut,
    summary="Per-bucket metrics: CTR, orders, GMV, GPM, returns, complaints, new-merchant traffic",
)
def experiment_metrics(db: ReadDB, actor: ActorDep, experiment_id: int = _id()) -> ExperimentMetricsOut:
    buckets = experiments.metrics(db, actor, experiment_id)
    return ExperimentMetricsOut(
        experiment=ExperimentOut.model_validate(experiments.get(db, actor, experiment_id)), buckets=buckets
    )


# --- merchants -------------------------------------------------------------------------------------------------


@router.get(
    "/stores/{store_id}/traffic",
    response_model=StoreTrafficOut,
    summary="Why the store's products got the traffic they got (its staff, operators)",
)
def store_traffic(
    db: ReadDB, clock: ClockDep, actor: ActorDep, store_id: int = _id(), days: int = Query(7, ge=1, le=90)
) -> StoreTrafficOut:
    return StoreTrafficOut(**explain.store_traffic(db, actor, store_id, clock.now(), days))
