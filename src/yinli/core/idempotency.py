"""`Idempotency-Key` support for creating POSTs (DESIGN: interfaces; rule 7).

The response of the first request with a key is stored *in the same transaction* as the change it
made. A retry with the same key and body gets the stored response (the body compared as parsed JSON, so
a re-serialised retry is the same request); the same key with a different body is a 422; a concurrent
duplicate loses the race for the key (claimed before the change is made), rolls back, and gets the
winner's response. Keys are scoped per caller, so two users can never see each other's responses.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from yinli.core.clock import Clock
from yinli.core.db import Base, BigId, UTCDateTime
from yinli.core.errors import Conflict, InvalidInput

MAX_KEY_LENGTH = 200


class IdempotentResponse(Base):
    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(64))  # "user:<id>" or "anonymous"
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(512))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("scope", "key"),)


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
        raise InvalidInput(
            f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable ASCII characters", field="Idempotency-Key"
        )
    return key


def canonical_json(body: Any) -> bytes:
    """A parsed JSON body written one way only: sorted keys, no whitespace, non-ASCII escaped (so even a
    lone surrogate a JSON escape can carry encodes). The same request re-serialised by another client
    library (key order, spacing, escapes) is the same request."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=True).encode()


def parse_body(raw: bytes) -> Any:
    """What a request's raw body says, for its fingerprint: the parsed JSON, or (not JSON: no route with a
    body model lets one through) the bytes themselves, kept apart from any JSON by their type."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return {"raw_body_sha256": hashlib.sha256(raw).hexdigest(), "not_json": True}


def request_fingerprint(method: str, path: str, body: Any) -> str:
    """Over the method, the path and the *parsed* body (see `canonical_json`), never its raw bytes."""
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical_json(body)).hexdigest()


def _stored(session: Session, scope: str, key: str) -> IdempotentResponse | None:
    return session.scalar(
        select(IdempotentResponse).where(IdempotentResponse.scope == scope, IdempotentResponse.key == key)
    )


def run_idempotent(
    session: Session,
    clock: Clock,
    *,
    scope: str,
    key: str | None,
    method: str,
    path: str,
    body: Any,
    action: Callable[[], tuple[int, Any]],
) -> tuple[int, Any, bool]:
    """Run `action` (which returns status and a JSON-able body) at most once per (scope, key).

    `body` is the request as parsed (JSON-able: a dict from a JSON body or a form), not its bytes.

    Commits the session. Returns (status, body, replayed).
    """
    if key is None:
        status, payload = action()
        session.commit()
        return status, payload, False
    check_key(key)
    fingerprint = request_fingerprint(method, path, body)
    previous = _stored(session, scope, key)
    if previous is not None:
        session.rollback()
        return _replay(previous, fingerprint)
    # Claim the key before acting: a concurrent duplicate blocks on the unique index (PostgreSQL) or on
    # the write lock (SQLite) until we commit, then finds our response instead of acting twice.
    claim = IdempotentResponse(
        scope=scope,
        key=key,
        method=method,
        path=path,
        request_hash=fingerprint,
        status_code=0,
        body=None,
        created_at=clock.now(),
    )
    session.add(claim)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        winner = _stored(session, scope, key)
        session.rollback()
        if winner is None:  # pragma: no cover - the row whose insert won exists once committed
            raise Conflict("a request with this Idempotency-Key is in progress", field="Idempotency-Key")
        return _replay(winner, fingerprint)
    status, payload = action()  # if it raises, the claim rolls back with everything else
    claim.status_code, claim.body = status, payload
    session.commit()
    return status, payload, False


def _replay(previous: IdempotentResponse, fingerprint: str) -> tuple[int, Any, bool]:
    if previous.request_hash != fingerprint:
        raise InvalidInput("this Idempotency-Key was already used for a different request", field="Idempotency-Key")
    return previous.status_code, previous.body, True
