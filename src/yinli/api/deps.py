"""FastAPI dependencies: sessions, the clock, settings, the calling Actor, paging and idempotency."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BeforeValidator
from sqlalchemy.orm import Session

from yinli.accounts.service import SignInLimits, resolve_actor
from yinli.core.auth import Actor
from yinli.core.clock import Clock
from yinli.core.db import Database
from yinli.core.errors import Forbidden, NotAuthenticated
from yinli.core.idempotency import parse_body, run_idempotent
from yinli.core.ids import MAX_ID, decode_cursor, encode_cursor
from yinli.core.parsing import digits_only
from yinli.core.settings import Settings
from yinli.payments.gateway import PaymentGateway

SESSION_COOKIE = "yinli_session"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def cookie_secure(request: Request, settings: Settings) -> bool:
    """Cookies are Secure when the request came over HTTPS — the scheme uvicorn reports, which honours
    X-Forwarded-Proto only from the proxies it trusts (--proxy-headers, --forwarded-allow-ips) — and
    always with YINLI_SESSION_COOKIE_SECURE=true."""
    return settings.session_cookie_secure or request.url.scheme == "https"


def set_session_cookie(response: Response, secret: str, settings: Settings, request: Request) -> None:
    """The web session cookie for a freshly issued session token (API sign-in and the web form alike)."""
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=settings.token_ttl_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request, settings),
        path="/",
    )


def own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}".lower()


def is_same_origin(request: Request) -> bool:
    """Did the browser say this request comes from one of our own pages? `Origin` when it is sent (every
    browser sends it on a POST, PUT, PATCH or DELETE, cross-site ones included); without it, a same-origin
    `Sec-Fetch-Site` or `Referer`. A request that proves nothing (curl, a bare HTTP client) is not."""
    origin = request.headers.get("origin")
    own = own_origin(request)
    if origin is not None:
        return origin.strip().lower() == own
    if request.headers.get("sec-fetch-site") == "same-origin":
        return True
    referer = (request.headers.get("referer") or "").lower()
    return referer == own or referer.startswith(own + "/")


def client_address(request: Request) -> str | None:
    """The caller's address as uvicorn reports it (the proxy's X-Forwarded-For only from trusted proxies)."""
    return request.client.host if request.client else None


def sign_in_limits(settings: Settings) -> SignInLimits:
    return SignInLimits(
        per_account=settings.sign_in_max_failures_per_account,
        per_address=settings.sign_in_max_failures_per_address,
        window=timedelta(seconds=settings.sign_in_window_seconds),
    )


def _database(request: Request) -> Database:
    return request.app.state.db


def get_db(request: Request) -> Iterator[Session]:
    """A read-write session. Routers commit explicitly; leaving without a commit rolls back."""
    with _database(request).sessions() as session:
        yield session


def get_read_db(request: Request) -> Iterator[Session]:
    """A read-only session (SQLite: a deferred transaction that never queues behind writers)."""
    with _database(request).read_sessions() as session:
        yield session


def get_clock(request: Request) -> Clock:
    return request.app.state.clock


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_gateway(request: Request) -> PaymentGateway:
    return request.app.state.gateway


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise NotAuthenticated("Authorization must be 'Bearer <token>'", field="Authorization")
        return value.strip()
    return None


def get_actor(request: Request) -> Actor | None:
    """The signed-in caller, or None. A bad bearer token is a 401; a stale session cookie is ignored.

    `Authorization: Bearer` takes only API tokens and the cookie only web sessions. A state-changing API
    request the cookie authenticates must come from our own pages (`is_same_origin`), else 403
    `cross_origin_request`: the cookie rides along on cross-site requests, a bearer token never does.
    (Web pages check their per-session CSRF token instead, in web/core.py.)"""
    token = bearer_token(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    if token is None and not cookie:
        return None
    with _database(request).read_sessions() as session:
        if token is not None:
            actor = resolve_actor(session, request.app.state.clock, token, "api")
        else:
            actor = resolve_actor(session, request.app.state.clock, cookie or "", "session")
    if actor is None and token is not None:
        raise NotAuthenticated("the token is unknown, expired or revoked", code="bad_token")
    if (
        actor is not None
        and token is None
        and request.method in UNSAFE_METHODS
        and request.url.path.startswith("/api/")
        and not is_same_origin(request)
    ):
        raise Forbidden(
            "a change signed in by the session cookie must come from this site's pages (Origin); "
            "programs use Authorization: Bearer <token>",
            code="cross_origin_request",
        )
    return actor


# scope="function": the session (and its pooled connection) is closed as soon as the endpoint and its
# serialisation are done, before the response is sent, not after a slow client has read it.
DB = Annotated[Session, Depends(get_db, scope="function")]
ReadDB = Annotated[Session, Depends(get_read_db, scope="function")]
ClockDep = Annotated[Clock, Depends(get_clock)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
GatewayDep = Annotated[PaymentGateway, Depends(get_gateway)]
ActorDep = Annotated[Actor | None, Depends(get_actor)]


def _digits_only(field: Any) -> Any:
    # pydantic parses ' 5', '+5', '1_000' and '5.0' from text as ints; ids and sizes are plain digits
    field.metadata.append(BeforeValidator(digits_only))
    return field


def id_path() -> Any:
    """A path id parameter. A fresh FieldInfo per parameter: FastAPI keeps state on it."""
    return _digits_only(Path(ge=1, le=MAX_ID))


def id_query(description: str | None = None) -> Any:
    """An optional id in the query string (1..2**53, ASCII digits)."""
    return _digits_only(Query(None, ge=1, le=MAX_ID, description=description))


Limit = Annotated[int, Query(ge=1, le=200, description="Page size."), BeforeValidator(digits_only)]
Cursor = Annotated[str | None, Query(max_length=200, description="From a previous page's `next_cursor`.")]


def cursor_value(cursor: str | None, key: str = "id") -> int | None:
    return None if cursor is None else int(decode_cursor(cursor, (key,))[key])


def page(rows: list[Any], limit: int, key: Callable[[Any], int] = lambda r: r.id) -> tuple[list[Any], str | None]:
    """Rows fetched with `limit + 1`: the page, and the cursor to the next one if there is more."""
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_cursor({"id": key(rows[-1])})
    return rows, None


class Idempotency:
    """Reads `Idempotency-Key` and the body (parsed: a retry is compared by content, not by bytes);
    `respond` runs a creating action at most once."""

    def __init__(self, request: Request, key: str | None, body: Any, actor: Actor | None) -> None:
        self.request, self.key, self.body, self.actor = request, key, body, actor

    def respond(self, db: Session, action: Callable[[], tuple[int, Any]]) -> JSONResponse:
        scope = f"user:{self.actor.user_id}" if self.actor else "anonymous"
        status, body, replayed = run_idempotent(
            db,
            self.request.app.state.clock,
            scope=scope,
            key=self.key,
            method=self.request.method,
            path=self.request.url.path,
            body=self.body,
            action=action,
        )
        headers = {"Idempotent-Replayed": "true"} if replayed else None
        return JSONResponse(body, status_code=status, headers=headers)


async def get_idempotency(
    request: Request,
    actor: ActorDep,
    idempotency_key: Annotated[
        str | None,
        Header(max_length=200, description="Retry-safe creation: the same key returns the first response."),
    ] = None,
) -> Idempotency:
    return Idempotency(request, idempotency_key, parse_body(await request.body()), actor)


IdempotencyDep = Annotated[Idempotency, Depends(get_idempotency)]
