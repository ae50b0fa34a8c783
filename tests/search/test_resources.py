"""Per-database search resources are released: a process that searches many databases (the test suite,
a tool that opens one after another) must not keep an open index, and its OS thread, for each."""

from __future__ import annotations

import gc
import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import PG_URL
from tests.factories import World
from tests.search.conftest import CASES, product
from yinli.core.db import Database
from yinli.core.settings import Settings
from yinli.search import service
from yinli.search.service import engine_for, run_jobs

TASKS = Path("/proc/self/task")


def tantivy_threads() -> int:
    """Native threads tantivy started in this process (each open index keeps a meta-file watcher)."""
    count = 0
    for task in TASKS.iterdir():
        try:
            if (task / "comm").read_text().startswith(("thread-tantivy", "thrd-tantivy")):
                count += 1
        except FileNotFoundError:  # the thread ended while we looked
            pass
    return count


def settle(limit: int) -> int:
    """Collect garbage and give released indexes' threads their polling interval (0.5 s) to end."""
    deadline = time.monotonic() + 10
    while True:
        gc.collect()
        n = tantivy_threads()
        if n <= limit or time.monotonic() > deadline:
            return n
        time.sleep(0.1)


@pytest.mark.skipif(not TASKS.is_dir(), reason="counts native threads through /proc")
def test_indexing_many_databases_keeps_a_bounded_number_of_threads(world: World, database, clock, tmp_path):
    m = world.merchant()
    product(world, m, "防摔手机壳 透明", CASES)
    before = settle(0)
    databases: list[Database] = []
    if PG_URL:
        sources = [database] * 12  # one database, twelve index directories: twelve engines all the same
    else:
        database.dispose()  # checkpoints the WAL into the file we copy
        source = Path(database.url.removeprefix("sqlite:///"))
        for i in range(12):
            target = tmp_path / f"copy-{i}.db"
            shutil.copyfile(source, target)
            databases.append(Database(f"sqlite:///{target}"))
        sources = databases
    for i, db in enumerate(sources):
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, data_dir=tmp_path / f"data-{i}", database_url=db.url, jobs_interval_seconds=0
        )
        assert run_jobs(db, clock, settings) > 0  # the product's events were consumed: an index was written
        assert engine_for(settings, db, clock).backend.count(None) == 1
    for db in databases:
        db.dispose()

    # the registry keeps only the few engines used last; the others' indexes are closed
    assert settle(before + service.RECENT_ENGINES) <= before + service.RECENT_ENGINES


def test_an_engine_in_use_is_the_one_the_jobs_get(app, settings, database, clock):
    """An app holds its engine; the jobs must find that one, however many others were used since."""
    held = app.state.search
    for i in range(service.RECENT_ENGINES + 2):
        other = settings.model_copy(update={"data_dir": settings.data_dir / f"other-{i}"})
        engine_for(other, database, clock)
    gc.collect()
    assert engine_for(settings, database, clock) is held


@pytest.mark.skipif(not TASKS.is_dir(), reason="counts native threads through /proc")
def test_releasing_a_database_closes_its_index(database, clock, tmp_path):
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, database_url=database.url, jobs_interval_seconds=0
    )
    engine = engine_for(settings, database, clock)
    assert engine.backend.count(None) == 0  # opens the index
    before = settle(0)
    assert before >= 1
    service.release(database)
    assert settle(before - 1) <= before - 1
    assert engine_for(settings, database, clock) is not engine  # a fresh one after release
