"""The ops console (/ops): platform KPIs with charts, store applications, merchant policy. Operators only."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from yinli.api.deps import DB, ClockDep, ReadDB, SettingsDep
from yinli.core.auth import Role
from yinli.core.errors import DomainError
from yinli.core.settings import Settings
from yinli.merchants import service as merchants
from yinli.merchants.models import StoreStatus
from yinli.merchants.schemas import PolicyIn, StoreReviewIn
from yinli.orders import reports
from yinli.traffic import coverage
from yinli.web import charts, i18n
from yinli.web.core import (
    FormDep,
    FormErrors,
    Web,
    WebDep,
    WebRoute,
    field_errors,
    parse_int,
    parse_yuan,
    require_roles,
)

router = APIRouter(prefix="/ops", route_class=WebRoute, include_in_schema=False)

REPORT_DAYS = 30


def _operator(web: Web) -> None:
    require_roles(web, Role.OPERATOR)


@router.get("", response_class=HTMLResponse)
def home(request: Request, web: WebDep, db: ReadDB, clock: ClockDep, settings: SettingsDep) -> Response:
    _operator(web)
    days = REPORT_DAYS if request.query_params.get("days") != "7" else 7
    until = clock.now()
    since = until - timedelta(days=days)
    by_surface = reports.gmv_by_surface(db, web.actor, store_id=None, since=since, until=until)
    by_day = reports.gmv_by_day(db, web.actor, store_id=None, since=since, until=until)
    summary = reports.summary(db, web.actor, store_id=None, since=since, until=until)
    applied = merchants.list_stores(db, web.actor, status=StoreStatus.APPLIED, after_id=None, limit=200)
    cover = coverage.launch_coverage(db, clock, settings, web.actor)
    return web.render(
        "ops/home.html",
        days=days,
        summary=summary,
        by_surface=by_surface,
        by_day=by_day,
        shelf_share=reports.shelf_share(by_surface),
        surface_chart=charts.hbars(
            web.t("按渠道的成交额（近 {n} 天）", n=days),
            [charts.Bar(i18n.label(web.lang, "surface", s), v, web.money(v)) for s, v in by_surface.items()],
        ),
        day_chart=charts.columns(
            web.t("每日成交额（近 {n} 天）", n=days),
            [charts.Bar(d.strftime("%m-%d"), v, web.money(v)) for d, v in by_day],
            axis_label="¥",
        ),
        applied=len(applied),
        active=cover.active_stores,
        new_merchants=cover.new_merchants,
        section="home",
    )


def _render_stores(
    web: Web,
    db: Session,
    settings: Settings,
    status: str,
    errors: dict[int, FormErrors] | None = None,
    status_code: int = 200,
) -> Response:
    stores = merchants.list_stores(db, web.actor, status=StoreStatus(status), after_id=None, limit=200)
    return web.render(
        "ops/stores.html",
        status_code=status_code,
        stores=stores,
        status=status,
        tabs=[s.value for s in StoreStatus],
        errors=errors or {},
        policy=merchants.get_policy(db, settings),
        section="stores",
    )


@router.get("/stores", response_class=HTMLResponse)
def stores(request: Request, web: WebDep, db: ReadDB, settings: SettingsDep) -> Response:
    _operator(web)
    status = request.query_params.get("status", StoreStatus.APPLIED.value)
    return _render_stores(web, db, settings, status if status in {s.value for s in StoreStatus} else "applied")


@router.post("/stores/{store_id}/review", response_class=HTMLResponse)
def review(store_id: int, form: FormDep, web: WebDep, db: DB, clock: ClockDep, settings: SettingsDep) -> Response:
    _operator(web)
    try:
        body = StoreReviewIn.model_validate({"decision": form.text("decision"), "note": form.optional("note")})
        merchants.do_review_store(db, clock, web.actor, store_id, approve=body.decision == "approve", note=body.note)
        db.commit()
    except (DomainError, ValidationError) as exc:
        db.rollback()
        errors = field_errors(web, exc)
        if "status" in errors:
            errors.general = errors.pop("status")
        return _render_stores(web, db, settings, "applied", {store_id: errors}, 422)
    return web.redirect("/ops/stores", flash="approved" if body.decision == "approve" else "rejected")


def _render_policy(
    web: Web,
    db: Session,
    settings: Settings,
    form: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    policy = merchants.get_policy(db, settings)
    if form is None:
        form = {
            "zero_deposit_opening": "on" if policy.zero_deposit_opening else "",
            "store_deposit": web.yuan(policy.store_deposit_fen),
            "new_merchant_days": str(policy.new_merchant_days),
        }
    return web.render(
        "ops/policy.html",
        status_code=status_code,
        policy=policy,
        form=form,
        errors=errors or FormErrors(),
        section="policy",
    )


@router.get("/policy", response_class=HTMLResponse)
def policy_page(web: WebDep, db: ReadDB, settings: SettingsDep) -> Response:
    _operator(web)
    return _render_policy(web, db, settings)


@router.post("/policy", response_class=HTMLResponse)
def set_policy(form: FormDep, web: WebDep, db: DB, clock: ClockDep, settings: SettingsDep) -> Response:
    _operator(web)
    errors = FormErrors()
    deposit = parse_yuan(web, errors, "store_deposit", form.get("store_deposit", ""))
    days = parse_int(web, errors, "new_merchant_days", form.get("new_merchant_days", ""))
    if not errors:
        try:
            body = PolicyIn.model_validate(
                {
                    "zero_deposit_opening": form.get("zero_deposit_opening") == "on",
                    "store_deposit_fen": deposit,
                    "new_merchant_days": days,
                }
            )
            merchants.do_set_policy(db, clock, settings, web.actor, **body.model_dump(exclude_unset=True))
            db.commit()
            return web.redirect("/ops/policy", flash="saved")
        except (DomainError, ValidationError) as exc:
            db.rollback()
            errors = field_errors(web, exc, {"store_deposit_fen": "store_deposit"})
    return _render_policy(web, db, settings, dict(form), errors, 422)


__all__ = ["router"]
