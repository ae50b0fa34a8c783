"""FastAPI dependencies: sessions, the clock, settings, the calling Actor, paging and idempotency."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from yinli.accounts.service import resolve_actor
from yinli.core.auth import Actor
from yinli.core.clock import Clock
from yinli.core.db import Database
from yinli.core.errors import NotAuthenticated
from yinli.core.idempotency import run_idempotent
from yinli.core.ids import decode_cursor, encode_cursor
from yinli.core.settings import Settings
from yinli.payments.gateway import PaymentGateway

SESSION_COOKIE = "yinli_session"


def set_session_cookie(response: Response, secret: str, settings: Settings) -> None:
    """The web session cookie for a freshly issued session token (API sign-in and the web form alike)."""
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=settings.token_ttl_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.session_cookie_secure,
        path="/",
    )


def _database(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


def get_db(request: Request) -> Iterator[Session]:
    """A read-write session. Routers commit explicitly; leaving without a commit rolls back."""
    with _database(request).sessions() as session:
        yield session


def get_read_db(request: Request) -> Iterator[Session]:
    """A read-only session (SQLite: a deferred transaction that never queues behind writers)."""
    with _database(request).read_sessions() as session:
        yield session


def get_clock(request: Request) -> Clock:
    return request.app.state.clock  # type: ignore[no-any-return]


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_gateway(request: Request) -> PaymentGateway:
    return request.app.state.gateway  # type: ignore[no-any-return]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise NotAuthenticated("Authorization must be 'Bearer <token>'", field="Authorization")
        return value.strip()
    return None


def get_actor(request: Request) -> Actor | None:
    """The signed-in caller, or None. A bad bearer token is a 401; a stale session cookie is ignored."""
    token = bearer_token(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    if token is None and not cookie:
        return None
    with _database(request).read_sessions() as session:
        actor = resolve_actor(session, request.app.state.clock, token or cookie or "")
    if actor is None and token is not None:
        raise NotAuthenticated("the token is unknown, expired or revoked", code="bad_token")
    return actor


# scope="function": the session (and its pooled connection) is closed as soon as the endpoint and its
# serialisation are done, before the response is sent, not after a slow client has read it.
DB = Annotated[Session, Depends(get_db, scope="function")]
ReadDB = Annotated[Session, Depends(get_read_db, scope="function")]
ClockDep = Annotated[Clock, Depends(get_clock)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
GatewayDep = Annotated[PaymentGateway, Depends(get_gateway)]
ActorDep = Annotated[Actor | None, Depends(get_actor)]


def id_path() -> Any:
    """A path id parameter. A fresh FieldInfo per parameter: FastAPI keeps state on it."""
    return Path(ge=1, le=2**53)


Limit = Annotated[int, Query(ge=1, le=200, description="Page size.")]
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
    """Reads `Idempotency-Key` and the raw body; `respond` runs a creating action at most once."""

    def __init__(self, request: Request, key: str | None, body: bytes, actor: Actor | None) -> None:
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
    return Idempotency(request, idempotency_key, await request.body(), actor)


IdempotencyDep = Annotated[Idempotency, Depends(get_idempotency)]
