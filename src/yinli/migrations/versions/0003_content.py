"""content

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 16:51:01.993617
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import yinli.core.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "creator_profiles",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("handle", sa.String(length=32), nullable=False),
        sa.Column("bio", sa.Text(), nullable=False),
        sa.Column("avatar_url", sa.String(length=1000), nullable=True),
        sa.Column("created_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_creator_profiles_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_creator_profiles")),
        sa.UniqueConstraint("handle", name=op.f("uq_creator_profiles_handle")),
    )
    op.create_table(
        "follows",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("follower_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("target_type", sa.String(length=8), nullable=False),
        sa.Column("target_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("target_type in ('creator','store')", name=op.f("ck_follows_target_type")),
        sa.ForeignKeyConstraint(["follower_id"], ["users.id"], name=op.f("fk_follows_follower_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follows")),
        sa.UniqueConstraint(
            "follower_id", "target_type", "target_id", name=op.f("uq_follows_follower_id_target_type_target_id")
        ),
    )
    with op.batch_alter_table("follows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_follows_follower_id"), ["follower_id"], unique=False)
        batch_op.create_index("ix_follows_target", ["target_type", "target_id"], unique=False)

    op.create_table(
        "live_rooms",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("creator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("title", sa.String(length=60), nullable=False),
        sa.Column("cover_url", sa.String(length=1000), nullable=True),
        sa.Column("created_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("(store_id is null) <> (creator_id is null)", name=op.f("ck_live_rooms_one_owner")),
        sa.ForeignKeyConstraint(["creator_id"], ["users.id"], name=op.f("fk_live_rooms_creator_id_users")),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_live_rooms_store_id_stores")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_rooms")),
        sa.UniqueConstraint("creator_id", name=op.f("uq_live_rooms_creator_id")),
        sa.UniqueConstraint("store_id", name=op.f("uq_live_rooms_store_id")),
    )
    op.create_table(
        "short_videos",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("creator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=False),
        sa.Column("cover_url", sa.String(length=1000), nullable=False),
        sa.Column("video_url", sa.String(length=1000), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("published_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("views", sa.BigInteger(), nullable=False),
        sa.Column("completed_views", sa.BigInteger(), nullable=False),
        sa.Column("watch_seconds", sa.BigInteger(), nullable=False),
        sa.Column("likes", sa.BigInteger(), nullable=False),
        sa.Column("shares", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("status in ('published','removed')", name=op.f("ck_short_videos_status")),
        sa.CheckConstraint("(store_id is null) <> (creator_id is null)", name=op.f("ck_short_videos_one_author")),
        sa.CheckConstraint("duration_seconds between 1 and 3600", name=op.f("ck_short_videos_duration")),
        sa.ForeignKeyConstraint(["creator_id"], ["users.id"], name=op.f("fk_short_videos_creator_id_users")),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_short_videos_store_id_stores")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_short_videos")),
    )
    with op.batch_alter_table("short_videos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_short_videos_creator_id"), ["creator_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_short_videos_store_id"), ["store_id"], unique=False)

    op.create_table(
        "affiliate_plans",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("store_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("creator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("rate_bps", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("ended_at", yinli.core.db.UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "(kind = 'open') = (creator_id is null)", name=op.f("ck_affiliate_plans_creator_iff_targeted")
        ),
        sa.CheckConstraint("kind in ('open','targeted')", name=op.f("ck_affiliate_plans_kind")),
        sa.CheckConstraint("status in ('active','ended')", name=op.f("ck_affiliate_plans_status")),
        sa.CheckConstraint("rate_bps between 0 and 10000", name=op.f("ck_affiliate_plans_rate")),
        sa.ForeignKeyConstraint(["creator_id"], ["users.id"], name=op.f("fk_affiliate_plans_creator_id_users")),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_affiliate_plans_product_id_products")),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_affiliate_plans_store_id_stores")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_affiliate_plans")),
    )
    with op.batch_alter_table("affiliate_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_affiliate_plans_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_affiliate_plans_store_id"), ["store_id"], unique=False)

    op.create_table(
        "live_sessions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("room_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("title", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("scheduled_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("started_at", yinli.core.db.UTCDateTime(), nullable=True),
        sa.Column("ended_at", yinli.core.db.UTCDateTime(), nullable=True),
        sa.Column("presenting_product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("viewers_now", sa.Integer(), nullable=False),
        sa.Column("peak_viewers", sa.Integer(), nullable=False),
        sa.Column("cumulative_viewers", sa.Integer(), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("watch_seconds", sa.BigInteger(), nullable=False),
        sa.Column("likes", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("status in ('scheduled','live','ended')", name=op.f("ck_live_sessions_status")),
        sa.CheckConstraint("viewers_now >= 0", name=op.f("ck_live_sessions_viewers_now")),
        sa.ForeignKeyConstraint(
            ["presenting_product_id"], ["products.id"], name=op.f("fk_live_sessions_presenting_product_id_products")
        ),
        sa.ForeignKeyConstraint(["room_id"], ["live_rooms.id"], name=op.f("fk_live_sessions_room_id_live_rooms")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_sessions")),
    )
    with op.batch_alter_table("live_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_live_sessions_room_id"), ["room_id"], unique=False)

    op.create_table(
        "video_products",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("video_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_video_products_product_id_products")),
        sa.ForeignKeyConstraint(
            ["video_id"], ["short_videos.id"], name=op.f("fk_video_products_video_id_short_videos")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_products")),
        sa.UniqueConstraint("video_id", "product_id", name=op.f("uq_video_products_video_id_product_id")),
    )
    with op.batch_alter_table("video_products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_video_products_video_id"), ["video_id"], unique=False)

    op.create_table(
        "live_session_products",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_live_session_products_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["live_sessions.id"], name=op.f("fk_live_session_products_session_id_live_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_session_products")),
        sa.UniqueConstraint("session_id", "product_id", name=op.f("uq_live_session_products_session_id_product_id")),
    )
    with op.batch_alter_table("live_session_products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_live_session_products_session_id"), ["session_id"], unique=False)

    op.create_table(
        "live_visits",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("viewer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("joined_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("left_at", yinli.core.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"], ["live_sessions.id"], name=op.f("fk_live_visits_session_id_live_sessions")
        ),
        sa.ForeignKeyConstraint(["viewer_id"], ["users.id"], name=op.f("fk_live_visits_viewer_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_visits")),
    )
    with op.batch_alter_table("live_visits", schema=None) as batch_op:
        batch_op.create_index("ix_live_visits_session_viewer", ["session_id", "viewer_id"], unique=False)

    op.create_table(
        "affiliate_commissions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("order_line_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("creator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("store_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("rate_bps", sa.Integer(), nullable=False),
        sa.Column("base_fen", sa.BigInteger(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("platform_cut_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("closed_at", yinli.core.db.UTCDateTime(), nullable=True),
        sa.CheckConstraint("status in ('pending','payable','reversed')", name=op.f("ck_affiliate_commissions_status")),
        sa.ForeignKeyConstraint(["creator_id"], ["users.id"], name=op.f("fk_affiliate_commissions_creator_id_users")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_affiliate_commissions_order_id_orders")),
        sa.ForeignKeyConstraint(
            ["order_line_id"], ["order_lines.id"], name=op.f("fk_affiliate_commissions_order_line_id_order_lines")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["affiliate_plans.id"], name=op.f("fk_affiliate_commissions_plan_id_affiliate_plans")
        ),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_affiliate_commissions_store_id_stores")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_affiliate_commissions")),
        sa.UniqueConstraint("order_line_id", name=op.f("uq_affiliate_commissions_order_line_id")),
    )
    with op.batch_alter_table("affiliate_commissions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_affiliate_commissions_creator_id"), ["creator_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_affiliate_commissions_order_id"), ["order_id"], unique=False)

    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("affiliate_plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
        )
        batch_op.add_column(sa.Column("commission_rate_bps", sa.Integer(), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_column("commission_rate_bps")
        batch_op.drop_column("affiliate_plan_id")

    with op.batch_alter_table("affiliate_commissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_affiliate_commissions_order_id"))
        batch_op.drop_index(batch_op.f("ix_affiliate_commissions_creator_id"))

    op.drop_table("affiliate_commissions")
    with op.batch_alter_table("live_visits", schema=None) as batch_op:
        batch_op.drop_index("ix_live_visits_session_viewer")

    op.drop_table("live_visits")
    with op.batch_alter_table("live_session_products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_live_session_products_session_id"))

    op.drop_table("live_session_products")
    with op.batch_alter_table("video_products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_video_products_video_id"))

    op.drop_table("video_products")
    with op.batch_alter_table("live_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_live_sessions_room_id"))

    op.drop_table("live_sessions")
    with op.batch_alter_table("affiliate_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_affiliate_plans_store_id"))
        batch_op.drop_index(batch_op.f("ix_affiliate_plans_product_id"))

    op.drop_table("affiliate_plans")
    with op.batch_alter_table("short_videos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_short_videos_store_id"))
        batch_op.drop_index(batch_op.f("ix_short_videos_creator_id"))

    op.drop_table("short_videos")
    op.drop_table("live_rooms")
    with op.batch_alter_table("follows", schema=None) as batch_op:
        batch_op.drop_index("ix_follows_target")
        batch_op.drop_index(batch_op.f("ix_follows_follower_id"))

    op.drop_table("follows")
    op.drop_table("creator_profiles")
