"""Sign-up, sign-in (bearer tokens for the API, a session cookie for the web), the caller's account."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from yinli.accounts import addresses, password_reset, service
from yinli.accounts.models import AccessToken, ShippingAddress, User
from yinli.accounts.schemas import (
    AddressIn,
    AddressOut,
    PasswordResetConfirmIn,
    PasswordResetIn,
    PasswordResetOut,
    ProfileIn,
    SignUpIn,
    TokenIn,
    TokenOut,
    UserOut,
    UsersPage,
)
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
    client_address,
    cursor_value,
    id_path,
    page,
    set_session_cookie,
    sign_in_limits,
)
from yinli.api.docs import OAuth2PasswordFormRoute, token_form_openapi
from yinli.core.auth import Role, require_actor
from yinli.core.clock import Clock
from yinli.core.mail import send as send_mail
from yinli.core.settings import Settings
from yinli.merchants import staff

router = APIRouter(tags=["accounts"])


def user_out(session: Session, clock: Clock, user: User) -> UserOut:
    out = UserOut.model_validate(user)
    out.age_cohort = service.cohort_of(user, clock.now().year)
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


SIGN_IN_RESPONSES: dict[int | str, dict[str, object]] = {
    429: {
        "description": "Too many attempts for this account or from this address; see Retry-After",
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        "headers": {
            "Retry-After": {"description": "Seconds until it may be tried again", "schema": {"type": "integer"}}
        },
    }
}


def sign_in(
    request: Request, db: Session, clock: Clock, settings: Settings, body: TokenIn, kind: str
) -> tuple[str, AccessToken, User]:
    """Count the attempt (committed, so a wrong password's 401 keeps it), then check the password."""
    attempt = service.do_count_sign_in_attempt(
        db, clock, sign_in_limits(settings), email=body.email, address=client_address(request)
    )
    db.commit()
    issued = service.do_issue_token(
        db,
        clock,
        email=body.email,
        password=body.password,
        kind=kind,
        ttl=timedelta(hours=settings.token_ttl_hours),
        attempt=attempt,
    )
    db.commit()
    return issued


def issue_token(request: Request, body: TokenIn, db: DB, clock: ClockDep, settings: SettingsDep) -> TokenOut:
    """JSON `{email, password}`, or the OAuth2 password form (`username` = the e-mail), as the docs'
    Authorize button sends it."""
    secret, token, user = sign_in(request, db, clock, settings, body, "api")
    return TokenOut(access_token=secret, expires_at=token.expires_at, user=user_out(db, clock, user))


router.add_api_route(
    "/auth/token",
    issue_token,
    methods=["POST"],
    response_model=TokenOut,
    summary="Get an API bearer token",
    responses=SIGN_IN_RESPONSES,
    route_class_override=OAuth2PasswordFormRoute,
    openapi_extra=token_form_openapi(),
)


@router.post(
    "/auth/session",
    response_model=TokenOut,
    summary="Sign in to the web (sets a session cookie)",
    responses=SIGN_IN_RESPONSES,
)
def open_session(
    request: Request, body: TokenIn, response: Response, db: DB, clock: ClockDep, settings: SettingsDep
) -> TokenOut:
    secret, token, user = sign_in(request, db, clock, settings, body, "session")
    set_session_cookie(response, secret, settings, request)
    return TokenOut(access_token=secret, expires_at=token.expires_at, user=user_out(db, clock, user))


@router.post(
    "/auth/password-reset",
    status_code=202,
    response_model=PasswordResetOut,
    summary="E-mail a password-reset link (the same answer whether the address has an account or not)",
    responses=SIGN_IN_RESPONSES,
)
def request_password_reset(
    request: Request, body: PasswordResetIn, background: BackgroundTasks, db: DB, clock: ClockDep, settings: SettingsDep
) -> PasswordResetOut:
    mail = password_reset.do_request_password_reset(
        db, clock, settings, sign_in_limits(settings), email=body.email, address=client_address(request)
    )
    db.commit()
    if mail is not None:
        background.add_task(send_mail, settings, mail)  # after the answer: its timing tells nothing
    return PasswordResetOut(expires_minutes=settings.password_reset_minutes)


@router.post(
    "/auth/password-reset/confirm",
    status_code=204,
    summary="Choose a new password with the e-mailed link's token (signs the account out everywhere)",
)
def confirm_password_reset(body: PasswordResetConfirmIn, db: DB, clock: ClockDep) -> Response:
    password_reset.do_reset_password(db, clock, secret=body.token, password=body.password)
    db.commit()
    return Response(status_code=204)


@router.post("/auth/logout", status_code=204, summary="Revoke the token or session in use")
def logout(request: Request, response: Response, db: DB, clock: ClockDep, actor: ActorDep) -> Response:
    require_actor(actor)
    token = bearer_token(request)
    secret, kind = (token, "api") if token else (request.cookies.get(SESSION_COOKIE), "session")
    if secret:
        service.do_revoke_token(db, clock, secret, kind)
        db.commit()
    response = Response(status_code=204)
    if kind == "session":  # a program's bearer logout leaves a browser session on the same client alone
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
    return user_out(db, clock, service.get_user(db, require_actor(actor), user_id))


# --- the address book (buyers only; another shopper's address is a 404) -----------------------------------


def _fields(body: AddressIn) -> addresses.AddressFields:
    return addresses.AddressFields(body.name, body.phone, body.region, body.line)


def address_out(address: ShippingAddress) -> AddressOut:
    return AddressOut.model_validate(address)


@router.get("/me/addresses", response_model=list[AddressOut], summary="The caller's address book, default first")
def list_addresses(db: ReadDB, actor: ActorDep) -> list[AddressOut]:
    return [address_out(a) for a in addresses.list_addresses(db, actor)]


@router.post("/me/addresses", status_code=201, response_model=AddressOut, summary="Save a shipping address")
def add_address(body: AddressIn, db: DB, clock: ClockDep, actor: ActorDep, idem: IdempotencyDep) -> JSONResponse:
    def action() -> tuple[int, object]:
        address = addresses.do_add_address(db, clock, actor, _fields(body), make_default=body.is_default)
        return 201, address_out(address).model_dump(mode="json")

    return idem.respond(db, action)


@router.get("/me/addresses/{address_id}", response_model=AddressOut, summary="One of the caller's addresses")
def get_address(db: ReadDB, actor: ActorDep, address_id: int = id_path()) -> AddressOut:
    return address_out(addresses.get_address(db, actor, address_id))


@router.put(
    "/me/addresses/{address_id}",
    response_model=AddressOut,
    summary="Change an address (orders already placed keep their copy)",
)
def update_address(
    body: AddressIn, db: DB, clock: ClockDep, actor: ActorDep, address_id: int = id_path()
) -> AddressOut:
    address = addresses.do_update_address(db, clock, actor, address_id, _fields(body))
    if body.is_default:
        address = addresses.do_set_default(db, clock, actor, address_id)
    db.commit()
    return address_out(address)


@router.post("/me/addresses/{address_id}/default", response_model=AddressOut, summary="Make this address the default")
def set_default_address(db: DB, clock: ClockDep, actor: ActorDep, address_id: int = id_path()) -> AddressOut:
    address = addresses.do_set_default(db, clock, actor, address_id)
    db.commit()
    return address_out(address)


@router.delete("/me/addresses/{address_id}", status_code=204, summary="Delete an address")
def delete_address(db: DB, actor: ActorDep, address_id: int = id_path()) -> Response:
    addresses.do_delete_address(db, actor, address_id)
    db.commit()
    return Response(status_code=204)
