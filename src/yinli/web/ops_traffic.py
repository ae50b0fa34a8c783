"""The ops console's traffic and search pages (operators only):

- /ops/launch: the launch plan (起航计划) — its settings, coverage of new merchants, enrolments;
- /ops/boost: the boost plan (扶摇计划) — settings, tiers, members, the history of tier changes;
- /ops/experiments: experiments — start, stop, and per-bucket metrics (/ops/experiments/{id});
- /ops/search: search KPIs — PV, CTR, conversion, top and zero-result queries.

Reads and changes go through `yinli.traffic.plans`, `yinli.traffic.experiments` and `yinli.search.log`.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from yinli.api.deps import DB, ClockDep, ReadDB, SettingsDep
from yinli.core.auth import Role
from yinli.core.errors import DomainError
from yinli.merchants.models import Store
from yinli.search import log as search_log
from yinli.traffic import coverage, experiments, plans
from yinli.traffic.models import LaunchStatus
from yinli.traffic.ranking import POLICIES
from yinli.traffic.schemas import BoostConfigIn, ExperimentIn, LaunchConfigIn
from yinli.web import charts
from yinli.web.core import (
    FormDep,
    FormErrors,
    Web,
    WebDep,
    WebRoute,
    field_errors,
    parse_int,
    parse_percent,
    require_roles,
    status_of,
)

router = APIRouter(prefix="/ops", route_class=WebRoute, include_in_schema=False)

VARIANT_SLOTS = 3  # variant rows on the new-experiment form (the first two are required)


def _operator(web: Web) -> None:
    require_roles(web, Role.OPERATOR)


def _store_names(db: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.execute(select(Store.id, Store.name).where(Store.id.in_(ids))).all())


# --- launch plan ---------------------------------------------------------------------------------------------


def _render_launch(
    web: Web,
    db: Session,
    clock: Any,
    settings: Any,
    status: str | None,
    form: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    config, kpi, rows = plans.launch_overview(db, settings, web.actor, status=status, limit=200)
    if form is None:
        form = {
            "enabled": "on" if config.enabled else "",
            "quota": str(config.quota),
            "window_days": str(config.window_days),
            "share": f"{config.share * 100:g}",
        }
    cover = coverage.launch_coverage(db, clock, settings, web.actor)
    return web.render(
        "ops/launch.html",
        status_code=status_code,
        config=config,
        kpi=kpi,
        rows=rows,
        names=_store_names(db, {r.store_id for r in rows}),
        status=status,
        tabs=[s.value for s in LaunchStatus],
        new_merchants=cover.new_merchants,
        new_listed=cover.new_listed,
        new_enrolled=cover.new_enrolled,
        form=form,
        errors=errors or FormErrors(),
        section="launch",
    )


@router.get("/launch", response_class=HTMLResponse)
def launch_page(request: Request, web: WebDep, db: ReadDB, clock: ClockDep, settings: SettingsDep) -> Response:
    _operator(web)
    status = request.query_params.get("status")
    status = status if status in {s.value for s in LaunchStatus} else None
    return _render_launch(web, db, clock, settings, status)


@router.post("/launch", response_class=HTMLResponse)
def set_launch(form: FormDep, web: WebDep, db: DB, clock: ClockDep, settings: SettingsDep) -> Response:
    _operator(web)
    errors, status = FormErrors(), 422
    quota = parse_int(web, errors, "quota", form.get("quota", ""))
    days = parse_int(web, errors, "window_days", form.get("window_days", ""))
    share = parse_percent(web, errors, "share", form.get("share", ""))
    if not errors:
        try:
            body = LaunchConfigIn.model_validate(
                {
                    "enabled": form.get("enabled") == "on",
                    "quota": quota,
                    "window_days": days,
                    "share": (share or 0) / 10_000,
                }
            )
            plans.do_set_launch_config(db, clock, settings, web.actor, body.model_dump(exclude_none=True))
            db.commit()
            return web.redirect("/ops/launch", flash="saved")
        except (DomainError, ValidationError) as exc:
            db.rollback()
            status = status_of(exc)
            errors = field_errors(web, exc)
    return _render_launch(web, db, clock, settings, None, dict(form), errors, status)


# --- boost plan ----------------------------------------------------------------------------------------------


def _render_boost(
    web: Web, db: Session, form: dict[str, str] | None = None, errors: FormErrors | None = None, status_code: int = 200
) -> Response:
    config, members, changes = plans.boost_overview(db, web.actor)
    tiers = config.tiers
    if form is None:
        form = {
            "enabled": "on" if config.enabled else "",
            "share": f"{config.share * 100:g}",
            "exit_margin": f"{config.exit_margin * 100:g}",
            **{f"daily_{t.name}": str(t.daily_impressions) for t in tiers},
        }
    counts: dict[str, int] = {}
    for m in members:
        counts[m.tier] = counts.get(m.tier, 0) + 1
    return web.render(
        "ops/boost.html",
        status_code=status_code,
        config=config,
        members=members,
        changes=changes,
        counts=counts,
        form=form,
        errors=errors or FormErrors(),
        tier_chart=charts.hbars(
            web.t("各档位商家数"),
            [charts.Bar(web.label("tier", t.name), counts.get(t.name, 0), str(counts.get(t.name, 0))) for t in tiers],
        ),
        names=_store_names(db, {m.store_id for m in members} | {c.store_id for c in changes}),
        section="boost",
    )


@router.get("/boost", response_class=HTMLResponse)
def boost_page(web: WebDep, db: ReadDB) -> Response:
    _operator(web)
    return _render_boost(web, db)


@router.post("/boost", response_class=HTMLResponse)
def set_boost(form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    """Switch the plan, its page share, the exit margin and each tier's daily impressions (the tiers'
    thresholds stay as they are: `PATCH /api/v1/traffic/boost` changes those)."""
    _operator(web)
    errors, status = FormErrors(), 422
    share = parse_percent(web, errors, "share", form.get("share", ""))
    margin = parse_percent(web, errors, "exit_margin", form.get("exit_margin", ""))
    tiers = [asdict(t) for t in plans.get_boost_config(db).tiers]
    for tier in tiers:
        tier["daily_impressions"] = parse_int(
            web, errors, f"daily_{tier['name']}", form.get(f"daily_{tier['name']}", "")
        )
    if not errors:
        try:
            body = BoostConfigIn.model_validate(
                {
                    "enabled": form.get("enabled") == "on",
                    "share": (share or 0) / 10_000,
                    "exit_margin": (margin or 0) / 10_000,
                    "tiers": tiers,
                }
            )
            plans.do_set_boost_config(db, clock, web.actor, body.model_dump(exclude_none=True))
            db.commit()
            return web.redirect("/ops/boost", flash="saved")
        except (DomainError, ValidationError) as exc:
            db.rollback()
            status = status_of(exc)
            errors = field_errors(web, exc)
    return _render_boost(web, db, dict(form), errors, status)


# --- experiments ---------------------------------------------------------------------------------------------


def _blank_variants() -> list[dict[str, str]]:
    rows = [{"name": n, "weight": "50", "policy": "user_first", "launch_plan": "on", "boost_plan": "on"} for n in "AB"]
    return [*rows, {"name": "", "weight": "", "policy": "user_first", "launch_plan": "on", "boost_plan": "on"}]


def _render_experiments(
    web: Web,
    db: Session,
    form: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    rows = experiments.list_all(db, web.actor)
    return web.render(
        "ops/experiments.html",
        status_code=status_code,
        experiments=rows,
        running=next((r for r in rows if r.status == "active"), None),
        policies=POLICIES,
        form=form or {"name": "", "variants": _blank_variants()},
        errors=errors or FormErrors(),
        section="experiments",
    )


@router.get("/experiments", response_class=HTMLResponse)
def experiments_page(web: WebDep, db: ReadDB) -> Response:
    _operator(web)
    return _render_experiments(web, db)


@router.post("/experiments", response_class=HTMLResponse)
def start_experiment(form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    _operator(web)
    errors, status = FormErrors(), 422
    shown: list[dict[str, str]] = []
    variants: list[dict[str, Any]] = []
    for i in range(VARIANT_SLOTS):
        row = {k: form.text(f"v{i}_{k}") for k in ("name", "weight", "policy", "launch_plan", "boost_plan")}
        shown.append(row)
        if i >= 2 and not row["name"] and not row["weight"]:
            continue  # an optional row left empty
        weight = parse_int(web, errors, f"variants.{len(variants)}.weight", row["weight"])
        variants.append(
            {
                "name": row["name"],
                "weight": weight,
                "policy": row["policy"] or "user_first",
                "launch_plan": row["launch_plan"] == "on",
                "boost_plan": row["boost_plan"] == "on",
            }
        )
    if not errors:
        try:
            body = ExperimentIn.model_validate({"name": form.text("name"), "variants": variants})
            started = experiments.do_create(db, clock, web.actor, body.name, [v.model_dump() for v in body.variants])
            db.commit()
            return web.redirect(f"/ops/experiments/{started.id}", flash="experiment_started")
        except (DomainError, ValidationError) as exc:
            db.rollback()
            status = status_of(exc)
            errors = field_errors(web, exc)
    if "variants" in errors:
        errors.general = errors.pop("variants")
    return _render_experiments(web, db, {"name": form.text("name"), "variants": shown}, errors, status)


@router.get("/experiments/{experiment_id}", response_class=HTMLResponse)
def experiment_page(experiment_id: int, web: WebDep, db: ReadDB) -> Response:
    _operator(web)
    row = experiments.get(db, web.actor, experiment_id)
    buckets = experiments.metrics(db, web.actor, experiment_id)
    return web.render(
        "ops/experiment.html",
        experiment=row,
        buckets=buckets,
        gmv_chart=charts.hbars(
            web.t("各组成交额"),
            [charts.Bar(name, b["gmv_fen"], web.money(b["gmv_fen"])) for name, b in buckets.items()],
        ),
        section="experiments",
    )


@router.post("/experiments/{experiment_id}/stop", response_class=HTMLResponse)
def stop_experiment(experiment_id: int, form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    _operator(web)
    try:
        experiments.do_stop(db, clock, web.actor, experiment_id)
        db.commit()
    except DomainError as exc:
        db.rollback()
        if exc.status == 404:
            raise
        errors = field_errors(web, exc)
        errors.general = errors.general or next(iter(errors.values()), None)
        return _render_experiments(web, db, errors=errors, status_code=exc.status)
    return web.redirect(f"/ops/experiments/{experiment_id}", flash="experiment_stopped")


# --- search KPIs ---------------------------------------------------------------------------------------------


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, web: WebDep, db: ReadDB, clock: ClockDep) -> Response:
    _operator(web)
    days = {"1": 1, "7": 7, "30": 30}.get(request.query_params.get("days", "7"), 7)
    now = clock.now()
    a = search_log.analytics(db, web.actor, now - timedelta(days=days), now, now=now)
    return web.render(
        "ops/search.html",
        a=a,
        days=days,
        funnel=charts.hbars(
            web.t("搜索漏斗（近 {n} 天）", n=days),
            [
                charts.Bar(web.t(label), value, str(value))
                for label, value in (
                    ("搜索次数", a.search_pv),
                    ("有结果", a.searches_with_results),
                    ("有点击", a.searches_clicked),
                    ("有成交", a.searches_converted),
                )
            ],
        ),
        section="search",
    )


__all__ = ["router"]
