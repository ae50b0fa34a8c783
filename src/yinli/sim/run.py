"""Running a simulation: a fresh database, the world, the days, the KPIs and the run folder.

The embedded default puts the database inside the run folder (`DIR/yinli.db`, search index and models
under `DIR/var`), so a run can be served afterwards (`YINLI_DATABASE_URL=sqlite:///DIR/yinli.db yinli serve`).
On PostgreSQL pass an empty database; the simulator refuses one that already has accounts in it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from yinli.accounts.models import User
from yinli.catalog.categories import do_load_categories
from yinli.core import migrate
from yinli.core.db import Database
from yinli.core.settings import Settings, get_settings
from yinli.jobs import run_once
from yinli.search import log as search_log
from yinli.sim import kpis as kpi
from yinli.sim.day import Day, Parcel
from yinli.sim.market import DayStats, Market, SimConfig
from yinli.sim.report import write_run
from yinli.sim.workers import ShopperPool

Progress = Callable[[int, DayStats], None]


class NotEmpty(RuntimeError):
    pass


@dataclass
class RunResult:
    kpis: dict[str, Any]
    seconds: float
    sessions_per_second: float
    database_url: str


def run_settings(data_dir: Path, database_url: str) -> Settings:
    """The platform's settings for a simulated run: background jobs are driven by the day, not a thread."""
    return get_settings().model_copy(
        update={"data_dir": data_dir, "database_url": database_url, "jobs_interval_seconds": 0.0}
    )


def prepare(database_url: str) -> Database:
    migrate.upgrade(database_url)
    database = Database(database_url)
    with database.session() as s:
        if (s.scalar(select(func.count()).select_from(User)) or 0) > 0:
            database.dispose()
            raise NotEmpty("the database has accounts in it already: give the simulator an empty one")
        do_load_categories(s)
    return database


def simulate(
    config: SimConfig,
    out: Path | None,
    *,
    database_url: str | None = None,
    data_dir: Path | None = None,
    progress: Progress | None = None,
    keep_open: bool = False,
) -> tuple[RunResult, Market]:
    """Build the world, run `config.days` days, write the run folder (when `out` is given).

    `data_dir` (search index, models) defaults to `out/var`; the demo passes the server's own."""
    base = out if out is not None else Path(get_settings().data_dir) / "sim"
    base.mkdir(parents=True, exist_ok=True)
    url = database_url or f"sqlite:///{(base / 'yinli.db').as_posix()}"
    if database_url is None:
        for stale in ("yinli.db", "yinli.db-wal", "yinli.db-shm"):
            (base / stale).unlink(missing_ok=True)
    settings = run_settings(data_dir or base / "var", url)
    database = prepare(url)
    mk = Market(database, settings, config)
    began = time.perf_counter()
    mk.set_up()
    run_once(database, mk.clock, settings, mk.gateway)  # index the starting catalog, build the feed
    set_up = time.perf_counter() - began
    parcels: list[Parcel] = []
    try:
        if config.workers > 1:
            mk.pool = ShopperPool(mk, config.workers)
        for d in range(config.days):
            stats = Day(mk, parcels, d).run()
            if progress is not None:
                progress(d, stats)
    finally:
        if mk.pool is not None:
            mk.pool.close()
            mk.pool = None
    seconds = time.perf_counter() - began
    # the search log's OrderPaid consumer takes the orders paid since the last jobs round (the next round
    # would), so the search figures count every order of the run
    with database.session() as s:
        search_log.attribute_orders(s, mk.clock)
    kpis = kpi.compute(mk)
    sessions = kpis["sessions"]
    # visits per second over the simulated days (merchants, fulfilment and jobs included; set-up not)
    per_second = sessions / max(1e-9, seconds - set_up)
    kpis["run"] = {
        "workers": config.workers,
        "seconds": round(seconds, 1),
        "set_up_seconds": round(set_up, 1),
        "sessions_per_second": round(per_second, 2),
    }
    if out is not None:
        write_run(mk, kpis, out)
    if not keep_open:
        database.dispose()
    return RunResult(kpis, seconds, per_second, url), mk
