"""Forgotten password pages: `/password/forgot` (ask for a link by e-mail) and `/password/reset?token=`
(choose a new one). The rules are `accounts.password_reset`'s; these pages parse, call and render."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from yinli.accounts import password_reset
from yinli.accounts.schemas import PasswordResetConfirmIn, PasswordResetIn
from yinli.api.deps import DB, SESSION_COOKIE, ClockDep, ReadDB, SettingsDep, client_address, sign_in_limits
from yinli.core.clock import Clock
from yinli.core.errors import DomainError, TooManyRequests
from yinli.core.mail import send as send_mail
from yinli.web.core import FormDep, FormErrors, Web, WebDep, WebRoute, field_errors

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/password/forgot", response_class=HTMLResponse)
def forgot_page(request: Request, web: WebDep) -> Response:
    form = {"email": request.query_params.get("email", "")[:254]}
    return web.render("shop/password_forgot.html", form=form, errors=FormErrors(), sent=False)


@router.post("/password/forgot", response_class=HTMLResponse)
def forgot(
    request: Request,
    form: FormDep,
    background: BackgroundTasks,
    web: WebDep,
    db: DB,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    try:
        body = PasswordResetIn.model_validate({"email": form.text("email")})
        mail = password_reset.do_request_password_reset(
            db, clock, settings, sign_in_limits(settings), email=body.email, address=client_address(request)
        )
        db.commit()
    except (DomainError, ValidationError) as exc:
        db.rollback()
        errors = field_errors(web, exc)
        if isinstance(exc, TooManyRequests):
            errors.general = web.t("请求太频繁，请 {n} 分钟后再试", n=-(-exc.retry_after // 60))
        status = 422 if isinstance(exc, ValidationError) else exc.status
        response = web.render(
            "shop/password_forgot.html",
            status_code=status,
            form={"email": form.text("email")},
            errors=errors,
            sent=False,
        )
        if isinstance(exc, TooManyRequests):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if mail is not None:
        background.add_task(send_mail, settings, mail)  # after the answer: the same page, the same time
    return web.render(
        "shop/password_forgot.html",
        form={"email": body.email},
        errors=FormErrors(),
        sent=True,
        minutes=settings.password_reset_minutes,
    )


def _reset_form(web: Web, db: Session, clock: Clock, token: str, errors: FormErrors, status: int = 200) -> Response:
    """The new-password form for a link that works, else the page saying the link does not."""
    try:
        user = password_reset.check_reset_link(db, clock, token)
    except DomainError:
        return web.render("shop/password_reset.html", status_code=422, token=None, email=None, errors=FormErrors())
    return web.render("shop/password_reset.html", status_code=status, token=token, email=user.email, errors=errors)


@router.get("/password/reset", response_class=HTMLResponse)
def reset_page(request: Request, web: WebDep, db: ReadDB, clock: ClockDep) -> Response:
    return _reset_form(web, db, clock, request.query_params.get("token", ""), FormErrors())


@router.post("/password/reset", response_class=HTMLResponse)
def reset(form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    token = form.text("token")
    if form.get("password", "") != form.get("password_again", ""):
        errors = FormErrors()
        errors["password_again"] = web.t("两次输入的密码不一样")
        return _reset_form(web, db, clock, token, errors, 422)
    try:
        body = PasswordResetConfirmIn.model_validate({"token": token, "password": form.get("password", "")})
        password_reset.do_reset_password(db, clock, secret=body.token, password=body.password)
        db.commit()
    except (DomainError, ValidationError) as exc:
        db.rollback()
        errors = field_errors(web, exc) if isinstance(exc, ValidationError) else FormErrors()
        return _reset_form(web, db, clock, token, errors, 422)  # a malformed or used token: the link page
    response = web.redirect("/signin", flash="password_reset")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
