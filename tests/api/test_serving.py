"""Serving degrades, never fails: saturation and database errors are 503 + Retry-After, never 500, and a
charge the gateway took is never reported to the shopper as a failure."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import anyio
import httpx
import pytest
from sqlalchemy import event, select, text

from tests.conftest import PG_URL
from tests.factories import ADDRESS, World, buy, serving, stock
from yinli.api import admission
from yinli.api.app import create_app
from yinli.core import db as core_db
from yinli.core.db import Database
from yinli.core.settings import Settings
from yinli.flows import charge
from yinli.orders.models import Order, OrderStatus
from yinli.payments import ledger
from yinli.payments.gateway import GatewayResult, SimulatedGateway
from yinli.payments.models import Payment, PaymentStatus

# --- admission, at the ASGI level (deterministic: the admitted requests are held on an event) ------------


def test_requests_over_the_limit_wait_briefly_then_get_503_with_retry_after(app: Any) -> None:
    release: list[anyio.Event] = []
    entered = 0
    downstream_calls: list[str] = []

    async def slow_app(scope: Any, receive: Any, send: Any) -> None:
        nonlocal entered
        downstream_calls.append(scope["path"])
        if scope["path"] != "/api/v1/health":
            entered += 1
            await release[0].wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    gate = admission.Admission(
        slow_app, max_in_flight=2, queue_wait_seconds=0.05, max_queued=10, refuse=lambda r: _refused(app, r)
    )

    async def call(path: str) -> tuple[int, dict[str, str], bytes]:
        sent: list[Any] = []

        async def receive() -> Any:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Any) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "GET", "path": path, "headers": [], "query_string": b"", "app": app}
        await gate(scope, receive, send)
        start = next(m for m in sent if m["type"] == "http.response.start")
        headers = {k.decode(): v.decode() for k, v in start["headers"]}
        return start["status"], headers, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")

    async def scenario() -> list[tuple[int, dict[str, str], bytes]]:
        release.append(anyio.Event())
        results: list[tuple[int, dict[str, str], bytes]] = []
        async with anyio.create_task_group() as tg:

            async def run(path: str) -> None:
                results.append(await call(path))

            tg.start_soon(run, "/api/v1/cart")
            tg.start_soon(run, "/api/v1/cart")
            while entered < 2:
                await anyio.sleep(0)
            results.append(await call("/api/v1/cart"))  # over the limit: waits 0.05 s, then 503
            results.append(await call("/api/v1/health"))  # not counted: passes while the slots are full
            release[0].set()
        return results

    results = anyio.run(scenario)
    refused = [r for r in results if r[0] == 503]
    assert len(refused) == 1 and sorted(r[0] for r in results) == [200, 200, 200, 503]
    _status, headers, body = refused[0]
    assert headers["retry-after"] == "1" and headers["content-type"] == "application/problem+json"
    assert b'"code":"overloaded"' in body
    assert downstream_calls.count("/api/v1/cart") == 2  # the refused one never reached the app
    assert gate.in_flight == 0 and gate.waiting == 0


def _refused(app: Any, request: Any) -> Any:
    from yinli.api import problems

    request.scope["app"] = app
    return problems.overloaded(request)


# --- a burst against a live server -----------------------------------------------------------------------


@pytest.fixture
def live(database: Database, settings: Settings, tmp_path: Any) -> Iterator[str]:
    tight = settings.model_copy(update={"max_in_flight": 2, "queue_wait_seconds": 0.02, "max_queued": 4})
    with serving(create_app(tight, db=database)) as base:
        yield base


def test_a_burst_well_over_the_limit_gets_only_2xx_or_503_and_the_server_recovers(live: str, world: World) -> None:
    shopper = world.shopper()

    async def burst(n: int) -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=live, timeout=30, limits=limits, headers=shopper.headers) as c:
            return list(await asyncio.gather(*(c.get("/api/v1/cart") for _ in range(n))))

    answers = asyncio.run(burst(120))
    statuses = sorted({r.status_code for r in answers})
    assert set(statuses) <= {200, 503}, statuses
    assert any(r.status_code == 200 for r in answers)
    for r in answers:
        if r.status_code == 503:
            assert r.headers["retry-after"] == "1"
            assert r.headers["content-type"] == "application/problem+json"
            assert r.json()["code"] == "overloaded"
    after = httpx.get(f"{live}/api/v1/cart", headers=shopper.headers, timeout=10)
    assert after.status_code == 200 and after.json()["stores"] == []
    page = httpx.get(f"{live}/", timeout=10)
    assert page.status_code == 200


# --- database errors -------------------------------------------------------------------------------------


def test_the_web_gets_an_html_503_page_when_saturated(app: Any) -> None:
    from starlette.requests import Request

    scope = {"type": "http", "method": "GET", "path": "/cart", "headers": [], "query_string": b"", "app": app}
    request = Request(scope)
    from yinli.api import problems

    page = problems.overloaded(request)
    assert page.status_code == 503 and page.headers["retry-after"] == "1"
    assert page.headers["content-type"].startswith("text/html")
    assert "访问的人太多" in page.body.decode()


@pytest.fixture
def sqlite_only(database: Database) -> None:
    if not database.is_sqlite:
        pytest.skip("the in-process SQLite write lock")


def test_a_locked_sqlite_database_is_a_503_problem_not_a_500(
    sqlite_only: None, client: Any, world: World, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    merchant, shopper = world.merchant(), world.shopper()
    sku = world.product(merchant)["skus"][0]["id"]
    stock(world, merchant, sku, 5)
    monkeypatch.setattr(core_db, "SQLITE_WRITE_WAIT_SECONDS", 0.05)
    other = Database(database.url)  # another engine on the same file: shares this process's write lock
    try:
        with other.session() as held:
            held.execute(text("SELECT 1"))  # its write transaction holds the lock for the whole block
            r = client.post("/api/v1/cart/items", json={"sku_id": sku, "quantity": 1}, headers=shopper.headers)
            assert r.status_code == 503, r.text
            assert r.headers["retry-after"] == "1" and r.headers["content-type"] == "application/problem+json"
            assert r.json()["code"] == "database_unavailable"
            page = client.post("/cart/items", data={"sku_id": sku}, headers={"cookie": ""})
            assert page.status_code != 500
            reads = client.get("/api/v1/cart", headers=shopper.headers)  # readers never queue behind writers
            assert reads.status_code == 200
    finally:
        other.dispose()
    r = client.post("/api/v1/cart/items", json={"sku_id": sku, "quantity": 1}, headers=shopper.headers)
    assert r.status_code == 200 and len(r.json()["stores"]) == 1  # nothing was half-written before


@pytest.mark.postgres
def test_a_postgres_lock_timeout_is_a_503_problem_and_terminated_connections_recover(
    client: Any, world: World, database: Database
) -> None:
    if database.is_sqlite:
        pytest.skip("PostgreSQL only (YINLI_TEST_DATABASE_URL)")
    shopper = world.shopper()

    @event.listens_for(database.engine, "checkout")
    def _short_lock_wait(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        with dbapi_conn.cursor() as cur:
            cur.execute("SET lock_timeout = '100ms'")

    try:
        blocker = Database(PG_URL or database.url)
        with blocker.engine.connect() as conn:
            conn.execute(text("BEGIN"))
            conn.execute(text("LOCK TABLE cart_items IN ACCESS EXCLUSIVE MODE"))
            r = client.get("/api/v1/cart", headers=shopper.headers)  # retried once, still locked: 503
            assert r.status_code == 503, r.text
            assert r.headers["retry-after"] == "1" and r.json()["code"] == "database_unavailable"
            page = client.get("/cart", headers=shopper.headers)
            assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
            conn.execute(text("ROLLBACK"))
        # every connection of the app's pool is killed: the next requests still answer (pre-ping, retry)
        with blocker.engine.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        blocker.dispose()
        for _ in range(3):
            assert client.get("/api/v1/cart", headers=shopper.headers).status_code == 200
    finally:
        event.remove(database.engine, "checkout", _short_lock_wait)


# --- a charge is never reported as a failure -------------------------------------------------------------


class _HoldsTheDatabase(SimulatedGateway):
    """Charges like the simulated gateway, then takes the database away from yinli's apply step: SQLite's
    write lock held by another engine until `release` (a real lock, not a mock)."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.other: Database | None = None
        self.held: Any = None

    def charge(self, key: str, amount_fen: int, currency: str, method: str) -> GatewayResult:
        result = super().charge(key, amount_fen, currency, method)
        self.other = Database(self.url)
        self.held = self.other.sessions()
        self.held.begin()
        self.held.execute(text("SELECT 1"))
        return result

    def release(self) -> None:
        if self.held is not None:
            self.held.rollback()
            self.held.close()
            self.held = None
        if self.other is not None:
            self.other.dispose()


class _ReleaseOnFirstRetry(logging.Handler):
    def __init__(self, gateway: _HoldsTheDatabase) -> None:
        super().__init__()
        self.gateway = gateway

    def emit(self, record: logging.LogRecord) -> None:
        if "retrying" in record.getMessage():
            self.gateway.release()


def _paid_world(client: Any, world: World) -> tuple[Any, dict[str, Any]]:
    merchant, shopper = world.merchant(), world.shopper()
    sku = world.product(merchant)["skus"][0]["id"]
    stock(world, merchant, sku, 3)
    return shopper, buy(world, shopper, [{"sku_id": sku, "quantity": 1}])


def _books_balanced(database: Database) -> None:
    with database.session() as s:
        assert ledger.unbalanced_transactions(s) == []
        assert sum(ledger.balances(s).values()) == 0


@pytest.mark.parametrize("recovers", [True, False], ids=["retry-succeeds", "left-to-reconciliation"])
def test_a_charge_whose_recording_fails_is_confirming_never_failed_and_ends_applied(
    sqlite_only: None,
    database: Database,
    settings: Settings,
    clock: Any,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    recovers: bool,
) -> None:
    from fastapi.testclient import TestClient

    monkeypatch.setattr(core_db, "SQLITE_WRITE_WAIT_SECONDS", 0.05)
    monkeypatch.setattr(charge, "APPLY_RETRY_PAUSES", (0.01, 0.01))
    gateway = _HoldsTheDatabase(database.url)
    handler = _ReleaseOnFirstRetry(gateway)
    if recovers:
        logging.getLogger("yinli.payments").addHandler(handler)
    app = create_app(settings, db=database, clock=clock, gateway=gateway)
    try:
        with TestClient(app, raise_server_exceptions=False) as c:
            shopper, payment = _paid_world(world.client, world)
            r = c.post(f"/api/v1/payments/{payment['id']}/pay", json={"method": "card"}, headers=shopper.headers)
            if recovers:
                assert r.status_code == 200 and r.json()["status"] == "succeeded", r.text
            else:
                assert r.status_code == 503, r.text
                assert r.json()["code"] == "payment_confirming" and r.headers["retry-after"] == "1"
                gateway.release()
                with database.session() as s:
                    assert s.get(Payment, payment["id"]).status == PaymentStatus.PROCESSING  # type: ignore[union-attr]
                    assert charge.reconcile_processing(s, clock, gateway, timedelta(0)) == 1
            shown = c.get(f"/api/v1/payments/{payment['id']}", headers=shopper.headers)
            assert shown.json()["status"] == "succeeded"
    finally:
        gateway.release()
        logging.getLogger("yinli.payments").removeHandler(handler)
    with database.session() as s:
        order = s.scalars(select(Order).where(Order.payment_id == payment["id"])).one()
        assert order.status == OrderStatus.PAID
    assert gateway.captured_fen == order.total_fen
    _books_balanced(database)


@pytest.mark.postgres
def test_a_charge_after_the_connections_were_dropped_is_applied_on_postgres(
    database: Database, settings: Settings, clock: Any, world: World
) -> None:
    if database.is_sqlite:
        pytest.skip("PostgreSQL only (YINLI_TEST_DATABASE_URL)")
    from fastapi.testclient import TestClient

    class Terminates(SimulatedGateway):
        def charge(self, key: str, amount_fen: int, currency: str, method: str) -> GatewayResult:
            result = super().charge(key, amount_fen, currency, method)
            killer = Database(database.url)
            with killer.engine.connect() as conn:  # every other connection to the database, the app's too
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
            killer.dispose()
            return result

    gateway = Terminates()
    app = create_app(settings, db=database, clock=clock, gateway=gateway)
    with TestClient(app, raise_server_exceptions=False) as c:
        shopper, payment = _paid_world(world.client, world)
        r = c.post(f"/api/v1/payments/{payment['id']}/pay", json={"method": "card"}, headers=shopper.headers)
        assert r.status_code in (200, 503), r.text
        if r.status_code == 503:
            assert r.json()["code"] == "payment_confirming"
            with database.session() as s:
                charge.reconcile_processing(s, clock, gateway, timedelta(0))
        assert c.get(f"/api/v1/payments/{payment['id']}", headers=shopper.headers).json()["status"] == "succeeded"
    assert gateway.captured_fen > 0
    _books_balanced(database)


def test_sqlite_engines_on_one_file_share_one_write_lock(sqlite_only: None, database: Database) -> None:
    other = Database(database.url)
    try:
        assert core_db._sqlite_writer(database.engine.url.database) is core_db._sqlite_writer(other.engine.url.database)
    finally:
        other.dispose()
    assert isinstance(sqlite3.OperationalError("database is locked"), Exception)


def test_the_pool_and_threads_are_sized_together() -> None:
    s = Settings(_env_file=None, max_in_flight=50, db_pool_size=10)  # type: ignore[call-arg]
    assert s.threads > s.max_in_flight  # every admitted request gets a thread at once
    assert s.db_pool_size + s.db_max_overflow >= s.threads  # and every thread a connection
    _ = ADDRESS
