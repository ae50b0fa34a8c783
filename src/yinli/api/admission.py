"""Admission: at most N requests in flight per process, a short bounded wait for the rest, then a 503.

Why: sync endpoints and dependencies run on anyio's worker threads and each needs a database connection.
When more requests are inside than there are threads or connections, they wait on each other (the
classic FastAPI + SQLAlchemy pile-up: threads full of requests waiting for a connection held by requests
waiting for a thread) until the 30 s pool timeout, and answer 500. Here the process admits at most
`max_in_flight` requests; the threads (`Settings.threads`) and the pool are sized so that every admitted
request has both at once. A request over the limit waits up to `queue_wait_seconds` for a slot, in
arrival order, then gets `503 overloaded` with `Retry-After` (problem+json for the API, an HTML page for
the web), as does one arriving while `max_queued` others already wait.

Database errors that are worth trying again (connection lost, pool timeout, SQLite locked, PostgreSQL
serialization failure or deadlock) are answered 503 by `problems.py`, which marks the request; a request
that is safe to run again — GET/HEAD, or one carrying an `Idempotency-Key` (its effect and its stored
answer commit together, so a second run replays or redoes, never doubles) — is run once more before the
503 goes out. Static files, health checks and event streams (long-lived, they would hold a slot for
minutes) are not counted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import anyio
from anyio.lowlevel import RunVar
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("yinli.api")

# Set on the ASGI scope by the database-error handler (problems.py): this 503 may go away if run again.
TRANSIENT_FLAG = "yinli.transient_db_error"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RETRY_PAUSE_SECONDS = 0.1


def exempt(path: str) -> bool:
    return path.startswith("/static/") or path == "/api/v1/health" or path.endswith("/stream")


class Admission:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_in_flight: int,
        queue_wait_seconds: float,
        max_queued: int,
        refuse: Callable[[Request], Response],
        retries: int = 1,
    ) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.queue_wait_seconds = queue_wait_seconds
        self.max_queued = max_queued
        self.refuse = refuse
        self.retries = retries
        self.in_flight = 0
        self.waiting = 0
        # One set of slots per event loop (as anyio keeps its thread limiter): `yinli serve` has one loop;
        # tests that drive the app from many threads with a TestClient each have one per thread.
        self._slots: RunVar[anyio.Semaphore] = RunVar(f"yinli_admission_{id(self)}")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        try:
            slots = self._slots.get()
        except LookupError:
            slots = anyio.Semaphore(self.max_in_flight)
            self._slots.set(slots)
        if not await self._admit(slots):
            await self.refuse(Request(scope))(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self._run(scope, receive, send)
        finally:
            self.in_flight -= 1
            slots.release()

    async def _admit(self, slots: anyio.Semaphore) -> bool:
        try:
            slots.acquire_nowait()
            return True
        except anyio.WouldBlock:
            pass
        if self.waiting >= self.max_queued or self.queue_wait_seconds <= 0:
            return False
        self.waiting += 1
        try:
            with anyio.move_on_after(self.queue_wait_seconds):
                await slots.acquire()
                return True
            return False
        finally:
            self.waiting -= 1

    async def _run(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or [])
        retryable = scope["method"] in SAFE_METHODS or b"idempotency-key" in headers
        if not retryable or self.retries <= 0:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        for attempt in range(self.retries + 1):
            scope.pop(TRANSIENT_FLAG, None)
            last = attempt == self.retries
            await self.app(scope, _replay(body, receive), send if last else _Held(scope, send))
            if last or not scope.get(TRANSIENT_FLAG):
                return
            log.info("retrying %s %s after a transient database error", scope["method"], scope["path"])
            await anyio.sleep(RETRY_PAUSE_SECONDS)


class _Held:
    """A `send` that passes the response through unless it is a transient-database-error 503 (flagged on
    the scope by the handler before it answers): that one is dropped, so the request can run again."""

    def __init__(self, scope: Scope, send: Send) -> None:
        self.scope, self.send, self.dropping = scope, send, False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 503 and self.scope.get(TRANSIENT_FLAG):
            self.dropping = True
        if not self.dropping:
            await self.send(message)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect, as the server would say it

    return replay
