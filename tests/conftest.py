"""Fixtures: a real database per test (SQLite by default, PostgreSQL with YINLI_TEST_DATABASE_URL).

SQLite: the schema (migrated by Alembic, categories loaded) is built once into a template file that each
test copies. PostgreSQL: migrated once per run; each test starts from truncated tables (the category
tree, loaded once, is kept).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text

from tests.factories import World
from tests.matrix import SceneBuilder
from yinli.api.app import create_app
from yinli.catalog.categories import do_load_categories
from yinli.core import migrate
from yinli.core.auth import set_hasher
from yinli.core.clock import SimulatedClock
from yinli.core.db import Database
from yinli.core.settings import Settings
from yinli.models import Base

pytest_plugins = ["tests.mailbox", "tests.bad_input"]  # `inbox` (a real SMTP server), `shop` (the bad-input scene)

PG_URL = os.environ.get("YINLI_TEST_DATABASE_URL")
KEEP_ON_RESET = {"alembic_version", "categories"}

# Hypothesis: `default` for local runs; `ci` (HYPOTHESIS_PROFILE=ci, set by .ci/run) tries more examples in
# a fixed order, so a CI failure reproduces. No deadline in either: the machine is shared and a slow
# example is not a wrong one. Tests that set max_examples themselves keep it (explicit beats profile).
hypothesis_settings.register_profile("default", deadline=None)
hypothesis_settings.register_profile(
    "ci", deadline=None, max_examples=200, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# Passwords are hashed with argon2id in production; tests use the cheapest parameters for speed.
set_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def reset_postgres_schema(url: str) -> None:
    db = Database(url)
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    db.dispose()


@pytest.fixture(scope="session")
def template_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if PG_URL:
        reset_postgres_schema(PG_URL)
        url = PG_URL
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('template') / 'template.db'}"
    migrate.upgrade(url)
    db = Database(url)
    with db.session() as session:
        do_load_categories(session)
    db.dispose()  # closing SQLite's last connection checkpoints the WAL into the file we copy
    return url


@pytest.fixture(scope="session")
def _pg_database(template_url: str) -> Iterator[Database | None]:
    if not PG_URL:
        yield None
        return
    db = Database(template_url)
    yield db
    db.dispose()


@pytest.fixture
def database(template_url: str, _pg_database: Database | None, tmp_path: Path) -> Iterator[Database]:
    if _pg_database is not None:
        tables = [t.name for t in Base.metadata.sorted_tables if t.name not in KEEP_ON_RESET]
        with _pg_database.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            # the seeded tree is kept, but what tests may change on it goes back to the seed
            conn.execute(text("UPDATE categories SET fee_rate_bps = NULL WHERE fee_rate_bps IS NOT NULL"))
        yield _pg_database
        return
    source = Path(template_url.removeprefix("sqlite:///"))
    target = tmp_path / "test.db"
    shutil.copyfile(source, target)
    db = Database(f"sqlite:///{target}")
    yield db
    db.dispose()


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(datetime(2026, 11, 24, 8, 0, tzinfo=UTC))


@pytest.fixture
def settings(database: Database, tmp_path: Path) -> Settings:
    # background jobs off: tests run them explicitly (yinli.jobs.run_once) at the moments they choose
    return Settings(_env_file=None, data_dir=tmp_path, database_url=database.url, jobs_interval_seconds=0)  # type: ignore[call-arg]


@pytest.fixture
def app(settings: Settings, database: Database, clock: SimulatedClock):  # type: ignore[no-untyped-def]
    return create_app(settings, db=database, clock=clock)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def world(client: TestClient, database: Database) -> World:
    return World(client, database)


@pytest.fixture
def build(world: World, clock: SimulatedClock, settings: Settings) -> SceneBuilder:
    """The authorisation matrix's scenes (tests/matrix.py)."""
    return SceneBuilder(world, clock, settings)
