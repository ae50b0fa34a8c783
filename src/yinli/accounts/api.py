"""Sign-up, sign-in (bearer tokens for the API, a session cookie for the web), the caller's account."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from yinli.accounts import service
from yinli.accounts.models import User
from yinli.accounts.schemas import ProfileIn, SignUpIn, TokenIn, TokenOut, UserOut, UsersPage
from yinli.api.deps import (
    DB,
    SESSION_COOKIE,
    ActorDep,
    ClockDep,
    Cursor,
    IdempotencyDep,
    Limit,
    ReadDB,
    SettingsDep,
    bearer_token,
    cursor_value,
    id_path,
    page,
    set_session_cookie,
)
from yinli.core.auth import Actor, Role, require_actor
from yinli.core.clock import Clock
from yinli.merchants import staff

router = APIRouter(tags=["accounts"])


def user_out(session, clock: Clock, user: User) -> UserOut:  # type: ignore[no-untyped-def]
    out = UserOut.model_validate(user)
    out.age_cohort = service.age_cohort(user.birth_year, clock.now().year) if user.role == "shopper" else None
    out.store_id = staff.store_of(session, user.id) if user.role == "merchant" else None
    return out


@router.post("/accounts", status_code=201, response_model=UserOut, summary="Sign up")
def sign_up(body: SignUpIn, db: DB, clock: ClockDep, idem: IdempotencyDep) -> JSONResponse:
    def action() -> tuple[int, object]:
        user = service.do_sign_up(
            db,
            clock,
            email=body.email,
            password=body.password,
            display_name=body.display_name,
            role=Role(body.role),
            birth_year=body.birth_year,
        )
        return 201, user_out(db, clock, user).model_dump(mode="json")

    return idem.respond(db, action)


@router.post("/auth/token", response_model=TokenOut, summary="Get an API bearer token")
def issue_token(body: TokenIn, db: DB, clock: ClockDep, settings: SettingsDep) -> TokenOut:
    secret, token, user = service.do_issue_token(
        db,
        clock,
        email=body.email,
        password=body.password,
        kind="api",
        ttl=timedelta(hours=settings.token_ttl_hours),
    )
    db.commit()
    return TokenOut(access_token=secret, expires_at=token.expires_at, user=user_out(db, clock, user))


@router.post("/auth/session", response_model=TokenOut, summary="Sign in to the web (sets a session cookie)")
def open_session(body: TokenIn, response: Response, db: DB, clock: ClockDep, settings: SettingsDep) -> TokenOut:
    secret, token, user = service.do_issue_token(
        db,
        clock,
        email=body.email,
        password=body.password,
        kind="session",
        ttl=timedelta(hours=settings.token_ttl_hours),
    )
    db.commit()
    set_session_cookie(response, secret, settings)
    return TokenOut(access_token=secret, expires_at=token.expires_at, user=user_out(db, clock, user))


@router.post("/auth/logout", status_code=204, summary="Revoke the token or session in use")
def logout(request: Request, response: Response, db: DB, clock: ClockDep, actor: ActorDep) -> Response:
    require_actor(actor)
    secret = bearer_token(request) or request.cookies.get(SESSION_COOKIE)
    if secret:
        service.do_revoke_token(db, clock, secret)
        db.commit()
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", response_model=UserOut, summary="The signed-in account")
def me(db: ReadDB, clock: ClockDep, actor: ActorDep) -> UserOut:
    actor = require_actor(actor)
    return user_out(db, clock, service.get_user(db, actor, actor.user_id))


@router.patch("/me", response_model=UserOut, summary="Change display name, birth year or password")
def update_me(body: ProfileIn, db: DB, clock: ClockDep, actor: ActorDep) -> UserOut:
    actor = require_actor(actor)
    fields = body.model_dump(exclude_unset=True)
    user = service.do_update_profile(
        db,
        clock,
        actor,
        display_name=fields.get("display_name"),
        birth_year=fields.get("birth_year"),
        clear_birth_year="birth_year" in fields and fields["birth_year"] is None,
        password=fields.get("password"),
        current_password=fields.get("current_password"),
    )
    db.commit()
    return user_out(db, clock, user)


@router.get("/accounts", response_model=UsersPage, summary="List accounts (operators)")
def list_accounts(
    db: ReadDB,
    clock: ClockDep,
    actor: ActorDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    role: Role | None = Query(None),
) -> UsersPage:
    actor = require_actor(actor)
    rows = service.list_users(db, actor, role=role, after_id=cursor_value(cursor), limit=limit + 1)
    rows, next_cursor = page(rows, limit)
    return UsersPage(items=[user_out(db, clock, u) for u in rows], next_cursor=next_cursor)


@router.get("/accounts/{user_id}", response_model=UserOut, summary="An account (its owner or an operator)")
def get_account(db: ReadDB, clock: ClockDep, actor: ActorDep, user_id: int = id_path()) -> UserOut:
    actor: Actor = require_actor(actor)  # type: ignore[no-redef]
    return user_out(db, clock, service.get_user(db, actor, user_id))
