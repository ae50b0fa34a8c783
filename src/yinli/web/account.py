"""The storefront's account pages: sign up, sign in and out, profile and password (`/signup`, `/signin`,
`/signout`, `/account`). Split from storefront.py; same rules: resolve the caller, call services, render."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from yinli.accounts import service as accounts
from yinli.accounts.schemas import ProfileIn, SignUpIn, TokenIn
from yinli.api.deps import (
    DB,
    SESSION_COOKIE,
    ClockDep,
    ReadDB,
    SettingsDep,
    client_address,
    set_session_cookie,
    sign_in_limits,
)
from yinli.core.auth import Role
from yinli.core.clock import Clock
from yinli.core.errors import DomainError, TooManyRequests
from yinli.core.parsing import number_or_text
from yinli.core.settings import Settings
from yinli.guarantees import credit
from yinli.web.core import FormDep, FormErrors, Web, WebDep, WebRoute, field_errors, require_signed_in, safe_next

router = APIRouter(route_class=WebRoute, include_in_schema=False)


# --- account -------------------------------------------------------------------------------------------------


def _render_account(
    web: Web,
    db: Session,
    clock: Clock,
    errors: FormErrors | None = None,
    pw_errors: FormErrors | None = None,
    status_code: int = 200,
    bill_errors: FormErrors | None = None,
) -> Response:
    actor = require_signed_in(web)
    user = accounts.get_user(db, actor, actor.user_id)
    settings: Settings = web.request.app.state.settings
    return web.render(
        "shop/account.html",
        status_code=status_code,
        user=user,
        cohort=accounts.cohort_of(user, clock.now().year),
        errors=errors or FormErrors(),
        pw_errors=pw_errors or FormErrors(),
        # pay later (guarantees.credit): limit, room, standing and bills, each declined one payable here
        credit=credit.credit_view(db, settings, actor) if actor.role is Role.SHOPPER else None,
        bill_errors=bill_errors or FormErrors(),
        tab="account",
    )


@router.get("/account", response_class=HTMLResponse)
def account(web: WebDep, db: ReadDB, clock: ClockDep) -> Response:
    return _render_account(web, db, clock)


@router.post("/account", response_class=HTMLResponse)
def update_account(form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    actor = require_signed_in(web)
    data: dict[str, Any] = {"display_name": form.text("display_name")}
    birth_year = form.text("birth_year")
    if actor.role is Role.SHOPPER:
        data["birth_year"] = number_or_text(birth_year)
    try:
        body = ProfileIn.model_validate(data)
        fields = body.model_dump(exclude_unset=True)
        accounts.do_update_profile(
            db,
            clock,
            actor,
            display_name=fields.get("display_name"),
            birth_year=fields.get("birth_year"),
            clear_birth_year="birth_year" in fields and fields["birth_year"] is None,
        )
        db.commit()
    except (DomainError, ValidationError) as exc:
        db.rollback()
        return _render_account(web, db, clock, errors=field_errors(web, exc), status_code=422)
    return web.redirect("/account", flash="saved")


@router.post("/account/credit/bills/{bill_id}/pay", response_class=HTMLResponse)
def pay_bill(
    bill_id: int, request: Request, form: FormDep, web: WebDep, db: DB, clock: ClockDep, settings: SettingsDep
) -> Response:
    """Pay a declined or overdue pay-later bill now (the attempt is kept whether or not it goes through)."""
    require_signed_in(web)
    try:
        bill = credit.do_pay_bill(db, clock, settings, request.app.state.gateway, web.actor, bill_id)
    except DomainError as exc:
        db.rollback()
        return _render_account(web, db, clock, bill_errors=field_errors(web, exc), status_code=exc.status)
    db.commit()
    if bill.status != "paid":
        errors = FormErrors()
        errors.general = web.t("还款被拒绝，请稍后再试")
        return _render_account(web, db, clock, bill_errors=errors, status_code=422)
    return web.redirect("/account", flash="bill_paid")


@router.post("/account/password", response_class=HTMLResponse)
def change_password(form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    actor = require_signed_in(web)
    try:
        body = ProfileIn.model_validate(
            {"password": form.get("password", ""), "current_password": form.get("current_password", "")}
        )
        accounts.do_update_profile(db, clock, actor, password=body.password, current_password=body.current_password)
        db.commit()
    except (DomainError, ValidationError) as exc:
        db.rollback()
        return _render_account(web, db, clock, pw_errors=field_errors(web, exc), status_code=422)
    response = web.redirect("/signin", flash="password")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- signing in and out ----------------------------------------------------------------------------------


def _home_of(role: str) -> str:
    return {"merchant": "/merchant", "operator": "/ops"}.get(role, "/")


def _open_session(
    web: Web,
    db: Session,
    clock: Clock,
    settings: Settings,
    email: str,
    password: str,
    target: str | None,
    flash: str,
    *,
    count: bool = True,
) -> Response:
    """Sign in and go to `next` (or the role's home). `count`: throttle this as a sign-in attempt (not
    after signing up, where the password was just chosen, not guessed)."""
    attempt = None
    if count:
        attempt = accounts.do_count_sign_in_attempt(
            db, clock, sign_in_limits(settings), email=email, address=client_address(web.request)
        )
        db.commit()  # the count outlives a wrong password's rollback
    secret, _, user = accounts.do_issue_token(
        db,
        clock,
        email=email,
        password=password,
        kind="session",
        ttl=timedelta(hours=settings.token_ttl_hours),
        attempt=attempt,
    )
    db.commit()
    response = web.redirect(safe_next(target, _home_of(user.role)), flash=flash)
    set_session_cookie(response, secret, settings, web.request)
    return response


@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request, web: WebDep) -> Response:
    form = {"next": safe_next(request.query_params.get("next"), "")}
    return web.render("shop/signin.html", form=form, errors=FormErrors())


@router.post("/signin", response_class=HTMLResponse)
def signin(form: FormDep, web: WebDep, db: DB, clock: ClockDep, settings: SettingsDep) -> Response:
    try:
        body = TokenIn.model_validate({"email": form.text("email"), "password": form.get("password", "")})
        return _open_session(web, db, clock, settings, body.email, body.password, form.get("next"), "signed_in")
    except (DomainError, ValidationError) as exc:
        db.rollback()
        errors = field_errors(web, exc)
        if isinstance(exc, TooManyRequests):
            errors.general = web.t("登录失败次数过多，请 {n} 分钟后再试", n=-(-exc.retry_after // 60))
        response = web.render(
            "shop/signin.html",
            status_code=422 if isinstance(exc, ValidationError) else exc.status,
            form={"email": form.text("email"), "next": safe_next(form.get("next"), "")},
            errors=errors,
        )
        if isinstance(exc, TooManyRequests):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response


@router.get("/signup", response_class=HTMLResponse)
def signup_page(request: Request, web: WebDep) -> Response:
    role = request.query_params.get("role", "shopper")
    form = {
        "role": role if role in ("shopper", "merchant") else "shopper",
        "next": safe_next(request.query_params.get("next"), ""),
    }
    return web.render("shop/signup.html", form=form, errors=FormErrors())


@router.post("/signup", response_class=HTMLResponse)
def signup(form: FormDep, web: WebDep, db: DB, clock: ClockDep, settings: SettingsDep) -> Response:
    data: dict[str, Any] = {
        "email": form.text("email"),
        "password": form.get("password", ""),
        "display_name": form.text("display_name"),
        "role": form.text("role") or "shopper",
    }
    birth_year = form.text("birth_year")
    if birth_year:
        data["birth_year"] = number_or_text(birth_year)
    try:
        body = SignUpIn.model_validate(data)
        accounts.do_sign_up(
            db,
            clock,
            email=body.email,
            password=body.password,
            display_name=body.display_name,
            role=Role(body.role),
            birth_year=body.birth_year,
        )
        db.flush()
        return _open_session(
            web, db, clock, settings, body.email, body.password, form.get("next"), "signed_up", count=False
        )
    except (DomainError, ValidationError) as exc:
        db.rollback()
        shown = {k: v for k, v in form.items() if k != "password"}
        shown["next"] = safe_next(form.get("next"), "")
        return web.render(
            "shop/signup.html",
            status_code=422 if isinstance(exc, ValidationError) else exc.status,
            form=shown,
            errors=field_errors(web, exc),
        )


@router.post("/signout", response_class=HTMLResponse)
def signout(request: Request, form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        accounts.do_revoke_token(db, clock, secret, "session")
        db.commit()
    response = web.redirect("/", flash="signed_out")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


__all__ = ["router"]
