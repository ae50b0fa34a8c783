"""The FastAPI application factory. Routers come from each domain's `api.py`, mounted under /api/v1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import APIRouter, FastAPI

import yinli
from yinli import domains, jobs
from yinli.api import docs, problems
from yinli.api.admission import Admission
from yinli.api.middleware import YinliApp
from yinli.core.clock import Clock, SystemClock
from yinli.core.db import Database, PoolSize
from yinli.core.settings import Settings, get_settings
from yinli.jobs import JobRunner
from yinli.payments.gateway import PaymentGateway, SimulatedGateway
from yinli.search.service import engine_for as search_engine_for
from yinli.web import install as install_web

API_PREFIX = "/api/v1"


def create_app(
    settings: Settings | None = None,
    *,
    db: Database | None = None,
    clock: Clock | None = None,
    gateway: PaymentGateway | None = None,
) -> FastAPI:
    """Build the app. Tests pass their own Database and Clock; `yinli serve` uses the configured ones.

    The schema is not created here: run `yinli db upgrade` (the CLI's serve and demo do it first).
    """
    settings = settings or get_settings()
    owns_db = db is None
    serving_pool = PoolSize(settings.db_pool_size, settings.db_max_overflow, settings.db_pool_timeout_seconds)
    database = db or Database(settings.resolved_database_url, echo=settings.sql_echo, pool=serving_pool)

    the_clock = clock or SystemClock()
    the_gateway = gateway or SimulatedGateway()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # One worker thread per admitted request (and a margin): admitted requests never queue for one.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        runner = jobs_db = None
        if settings.jobs_interval_seconds > 0:
            # The jobs' own small pool: a burst of requests cannot take every connection from them.
            if owns_db:  # tests hand in their own database: the jobs use it
                jobs_db = Database(settings.resolved_database_url, pool=PoolSize(settings.jobs_db_pool_size, 0, 30.0))
            jobs_database = jobs_db or database
            runner = JobRunner(
                settings.jobs_interval_seconds, lambda: jobs.run_once(jobs_database, the_clock, settings, the_gateway)
            )
            runner.start()
        yield
        if runner is not None:
            runner.stop()
        if jobs_db is not None:
            jobs_db.dispose()
        if owns_db:
            database.dispose()

    app = YinliApp(
        title="yinli",
        version=yinli.__version__,
        summary="Content-commerce platform: live rooms, short videos and shelves on one engine.",
        lifespan=lifespan,
        docs_url=None,  # served offline by api.docs
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = database
    app.state.clock = the_clock
    app.state.gateway = the_gateway
    app.state.search = search_engine_for(settings, database, the_clock)  # shared with the background jobs
    problems.install(app)
    docs.install(app)

    api = APIRouter(prefix=API_PREFIX, responses=problems.PROBLEM_RESPONSES)
    for domain in domains.DOMAINS:  # in registry order: see yinli.domains
        if domain.api is not None:
            api.include_router(domains.resolve(domain.api))

    @api.get("/health", tags=["platform"], summary="Liveness")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": yinli.__version__}

    app.include_router(api)
    install_web(app)
    app.add_middleware(
        Admission,
        max_in_flight=settings.max_in_flight,
        queue_wait_seconds=settings.queue_wait_seconds,
        max_queued=settings.max_queued,
        refuse=problems.overloaded,
    )
    return app
