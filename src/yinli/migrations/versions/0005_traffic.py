"""traffic: feed event log, launch and boost plans, experiments

`traffic_events` and `traffic_boost_changes` are append-only: database triggers refuse UPDATE and DELETE
(as for sku_price_history).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 17:13:45.241402
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import yinli.core.db
from yinli.core.migrate import append_only, drop_append_only

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "traffic_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("logged_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("shopper_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("request_id", sa.String(length=32), nullable=True),
        sa.Column("surface", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("item_type", sa.String(length=8), nullable=True),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("store_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("creator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("category_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("slot", sa.String(length=8), nullable=True),
        sa.Column("quality", sa.Boolean(), nullable=True),
        sa.Column("policy", sa.String(length=16), nullable=True),
        sa.Column("bucket", sa.String(length=32), nullable=True),
        sa.Column("experiment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("value_fen", sa.BigInteger(), nullable=False),
        sa.Column("expected_fen", sa.BigInteger(), nullable=False),
        sa.Column("watch_seconds", sa.Integer(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=True),
        sa.Column("source", sa.String(length=48), nullable=True),
        sa.CheckConstraint(
            "kind in ('impression','click','watch','add_to_cart','order','return','complaint')",
            name=op.f("ck_traffic_events_kind"),
        ),
        sa.CheckConstraint("slot is null or slot in ('organic','launch','boost')", name=op.f("ck_traffic_events_slot")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_traffic_events")),
        sa.UniqueConstraint("source", name=op.f("uq_traffic_events_source")),
    )
    with op.batch_alter_table("traffic_events", schema=None) as batch_op:
        batch_op.create_index("ix_traffic_events_experiment", ["experiment_id", "bucket"], unique=False)
        batch_op.create_index("ix_traffic_events_kind_time", ["kind", "occurred_at"], unique=False)
        batch_op.create_index("ix_traffic_events_request", ["request_id"], unique=False)
        batch_op.create_index("ix_traffic_events_slot_store", ["slot", "store_id"], unique=False)
        batch_op.create_index("ix_traffic_events_store_kind", ["store_id", "kind", "occurred_at"], unique=False)

    op.create_table(
        "traffic_experiments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("variants", sa.JSON(), nullable=False),
        sa.Column("created_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("stopped_at", yinli.core.db.UTCDateTime(), nullable=True),
        sa.CheckConstraint("status in ('active','stopped')", name=op.f("ck_traffic_experiments_status")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_traffic_experiments_created_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_traffic_experiments")),
        sa.UniqueConstraint("name", name=op.f("uq_traffic_experiments_name")),
    )
    with op.batch_alter_table("traffic_experiments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_traffic_experiments_status"), ["status"], unique=False)

    op.create_table(
        "traffic_plans",
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("updated_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.CheckConstraint("name in ('launch','boost')", name=op.f("ck_traffic_plans_name")),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"], name=op.f("fk_traffic_plans_updated_by_users")),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_traffic_plans")),
    )
    op.create_table(
        "traffic_boost_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("from_tier", sa.String(length=16), nullable=True),
        sa.Column("to_tier", sa.String(length=16), nullable=True),
        sa.Column("at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("measures", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_traffic_boost_changes_store_id_stores")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_traffic_boost_changes")),
    )
    with op.batch_alter_table("traffic_boost_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_traffic_boost_changes_store_id"), ["store_id"], unique=False)

    op.create_table(
        "traffic_boost_memberships",
        sa.Column("store_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("entered_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("reviewed_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("measures", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_traffic_boost_memberships_store_id_stores")),
        sa.PrimaryKeyConstraint("store_id", name=op.f("pk_traffic_boost_memberships")),
    )
    op.create_table(
        "traffic_launch_enrolments",
        sa.Column("store_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("quota", sa.Integer(), nullable=False),
        sa.Column("delivered", sa.Integer(), nullable=False),
        sa.Column("started_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("ends_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("reached_at", yinli.core.db.UTCDateTime(), nullable=True),
        sa.Column("withheld_reason", sa.String(length=200), nullable=True),
        sa.Column("updated_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "status in ('active','reached','expired','withheld')", name=op.f("ck_traffic_launch_enrolments_status")
        ),
        sa.CheckConstraint("quota > 0 and delivered >= 0", name=op.f("ck_traffic_launch_enrolments_counts")),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_traffic_launch_enrolments_store_id_stores")),
        sa.PrimaryKeyConstraint("store_id", name=op.f("pk_traffic_launch_enrolments")),
    )
    with op.batch_alter_table("traffic_launch_enrolments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_traffic_launch_enrolments_status"), ["status"], unique=False)
    append_only(op, "traffic_events")
    append_only(op, "traffic_boost_changes")


def downgrade() -> None:
    drop_append_only(op, "traffic_boost_changes")
    drop_append_only(op, "traffic_events")
    with op.batch_alter_table("traffic_launch_enrolments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_traffic_launch_enrolments_status"))

    op.drop_table("traffic_launch_enrolments")
    op.drop_table("traffic_boost_memberships")
    with op.batch_alter_table("traffic_boost_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_traffic_boost_changes_store_id"))

    op.drop_table("traffic_boost_changes")
    op.drop_table("traffic_plans")
    with op.batch_alter_table("traffic_experiments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_traffic_experiments_status"))

    op.drop_table("traffic_experiments")
    with op.batch_alter_table("traffic_events", schema=None) as batch_op:
        batch_op.drop_index("ix_traffic_events_store_kind")
        batch_op.drop_index("ix_traffic_events_slot_store")
        batch_op.drop_index("ix_traffic_events_request")
        batch_op.drop_index("ix_traffic_events_kind_time")
        batch_op.drop_index("ix_traffic_events_experiment")

    op.drop_table("traffic_events")
