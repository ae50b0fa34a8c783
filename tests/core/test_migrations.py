"""Migrations run up from empty and back down on both databases, and match the models exactly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from tests.conftest import reset_postgres_schema
from yinli.core import migrate
from yinli.core.db import Database
from yinli.models import Base


@pytest.fixture
def empty_url(tmp_path: Path) -> str:
    """A brand-new empty database: a fresh SQLite file, or (on PostgreSQL) a scratch schema database."""
    pg = os.environ.get("YINLI_TEST_DATABASE_URL")
    if not pg:
        return f"sqlite:///{tmp_path / 'empty.db'}"
    admin = Database(pg)
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("DROP DATABASE IF EXISTS yinli_migration_test"))
        conn.execute(text("CREATE DATABASE yinli_migration_test"))
    admin.dispose()
    return pg.rsplit("/", 1)[0] + "/yinli_migration_test"


def test_upgrade_from_empty_downgrade_and_upgrade_again(empty_url: str):
    migrate.upgrade(empty_url)
    db = Database(empty_url)
    tables = set(inspect(db.engine).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"
    migrate.downgrade(empty_url, "base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(empty_url)
    assert {t.name for t in Base.metadata.sorted_tables} <= set(inspect(db.engine).get_table_names())
    db.dispose()
    if not empty_url.startswith("sqlite"):
        reset_postgres_schema(empty_url)


def test_price_history_is_append_only_in_the_database(database, world):
    m = world.merchant()
    world.product(m)
    statements = ["UPDATE sku_price_history SET price_fen = 1", "DELETE FROM sku_price_history"]
    for sql in statements:
        with pytest.raises(Exception, match="append-only"), database.engine.begin() as conn:
            conn.execute(text(sql))
    with database.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM sku_price_history WHERE price_fen = 1")).scalar() == 0
