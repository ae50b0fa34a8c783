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


# uq_brands_lower_name indexes lower(name): SQLite cannot reflect expression indexes, so it is not compared
@pytest.mark.filterwarnings("ignore:.*expression-based index")
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


def test_0006_ends_the_duplicates_the_races_left_before_indexing(database, world, client):
    """Rows breaking the "only one" rules (made at 0005, where nothing stopped them) are ended by 0006:
    the live session, the first open visit, the newest plan, the oldest experiment, the oldest brand stay."""
    m, viewer = world.merchant(), world.shopper()
    product = world.product(m)
    room = client.post("/api/v1/live/rooms", json={"title": "间"}, headers=m.headers).json()
    body = {"title": "场", "product_ids": [product["id"]]}
    sid = client.post(f"/api/v1/live/rooms/{room['id']}/sessions", json=body, headers=m.headers).json()["id"]
    assert client.post(f"/api/v1/live/sessions/{sid}/start", headers=m.headers).status_code == 200
    assert client.post(f"/api/v1/live/sessions/{sid}/join", headers=viewer.headers).status_code == 200
    plan = client.post(
        "/api/v1/affiliate-plans", json={"product_id": product["id"], "rate_bps": 500}, headers=m.headers
    )
    variants = [{"name": "a", "weight": 1}, {"name": "b", "weight": 1}]
    op = world.operator.headers
    experiment = client.post("/api/v1/traffic/experiments", json={"name": "e", "variants": variants}, headers=op)
    brand = client.post("/api/v1/brands", json={"name": "Yinli"}, headers=m.headers).json()["id"]
    assert plan.status_code == experiment.status_code == 201
    copies = [
        "INSERT INTO live_sessions (room_id, title, status, scheduled_at, viewers_now, peak_viewers, "
        "cumulative_viewers, views, watch_seconds, likes) SELECT room_id, title, 'scheduled', scheduled_at, "
        f"0, 0, 0, 0, 0, 0 FROM live_sessions WHERE id = {sid}",
        f"INSERT INTO live_visits (session_id, viewer_id, joined_at) SELECT session_id, viewer_id, joined_at "
        f"FROM live_visits WHERE session_id = {sid}",
        f"UPDATE live_sessions SET viewers_now = 7 WHERE id = {sid}",
        "INSERT INTO affiliate_plans (product_id, store_id, kind, rate_bps, status, created_at) "
        "SELECT product_id, store_id, kind, rate_bps + 1, status, created_at FROM affiliate_plans",
        "INSERT INTO traffic_experiments (name, salt, status, variants, created_at) "
        "SELECT 'e2', salt, status, variants, created_at FROM traffic_experiments",
        "INSERT INTO brands (name, created_at) SELECT 'YINLI', created_at FROM brands",
        f"UPDATE products SET brand_id = (SELECT MAX(id) FROM brands) WHERE id = {product['id']}",
    ]
    migrate.downgrade(database.url, "0005")
    try:
        with database.engine.begin() as conn:
            for sql in copies:
                conn.execute(text(sql))
        migrate.upgrade(database.url)
    finally:
        migrate.upgrade(database.url)  # a PostgreSQL test database is shared: leave it at head
    with database.engine.connect() as conn:

        def rows(sql: str) -> list[tuple]:
            return [tuple(r) for r in conn.execute(text(sql))]

        assert rows("SELECT id, status FROM live_sessions ORDER BY id") == [(sid, "live"), (sid + 1, "ended")]
        assert rows(f"SELECT viewers_now FROM live_sessions WHERE id = {sid}") == [(1,)]
        assert rows("SELECT COUNT(*) FROM live_visits WHERE left_at IS NULL") == [(1,)]
        newest = rows("SELECT MAX(id) FROM affiliate_plans")[0][0]
        assert rows("SELECT id FROM affiliate_plans WHERE status = 'active'") == [(newest,)]
        assert rows("SELECT id FROM traffic_experiments WHERE status = 'active'") == [(experiment.json()["id"],)]
        assert rows("SELECT id FROM brands") == [(brand,)]
        assert rows(f"SELECT brand_id FROM products WHERE id = {product['id']}") == [(brand,)]
