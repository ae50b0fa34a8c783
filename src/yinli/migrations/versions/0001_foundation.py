"""foundation: accounts, stores, catalog, outbox

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-24 16:08:31.613648
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import yinli.core.db
from yinli.core.migrate import append_only, drop_append_only

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "brands",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("created_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brands")),
        sa.UniqueConstraint("name", name=op.f("uq_brands_name")),
    )
    op.create_table(
        "categories",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("parent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("listing_count", sa.Integer(), nullable=False),
        sa.CheckConstraint("level between 1 and 3", name=op.f("ck_categories_level")),
        sa.ForeignKeyConstraint(["parent_id"], ["categories.id"], name=op.f("fk_categories_parent_id_categories")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("parent_id", "name", name=op.f("uq_categories_parent_id_name")),
        sa.UniqueConstraint("path", name=op.f("uq_categories_path")),
    )
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_categories_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=512), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_idempotency_keys_scope_key")),
    )
    op.create_table(
        "outbox_cursors",
        sa.Column("consumer", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("updated_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("consumer", name=op.f("pk_outbox_cursors")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("role in ('shopper','merchant','creator','operator')", name=op.f("ck_users_role")),
        sa.CheckConstraint(
            "birth_year is null or (birth_year >= 1900 and birth_year <= 2100)",
            name=op.f("ck_users_birth_year"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "access_tokens",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", yinli.core.db.UTCDateTime(), nullable=True),
        sa.CheckConstraint("kind in ('api','session')", name=op.f("ck_access_tokens_kind")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_access_tokens_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_tokens")),
        sa.UniqueConstraint("digest", name=op.f("uq_access_tokens_digest")),
    )
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "outbox_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("aggregate_type", sa.String(length=32), nullable=False),
        sa.Column("aggregate_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("occurred_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_outbox_events_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_events")),
    )
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_events_aggregate", ["aggregate_type", "aggregate_id"], unique=False)

    op.create_table(
        "platform_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("zero_deposit_opening", sa.Boolean(), nullable=False),
        sa.Column("store_deposit_fen", sa.BigInteger(), nullable=False),
        sa.Column("new_merchant_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_platform_policy_single_row")),
        sa.CheckConstraint("new_merchant_days between 1 and 365", name=op.f("ck_platform_policy_new_merchant_days")),
        sa.CheckConstraint("store_deposit_fen >= 0", name=op.f("ck_platform_policy_deposit")),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"], name=op.f("fk_platform_policy_updated_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_policy")),
    )
    op.create_table(
        "stores",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("logo_url", sa.String(length=1000), nullable=True),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("main_category_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("owner_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("deposit_required_fen", sa.BigInteger(), nullable=False),
        sa.Column("applied_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("reviewed_at", yinli.core.db.UTCDateTime(), nullable=True),
        sa.Column("reviewed_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("review_note", sa.String(length=500), nullable=True),
        sa.Column("opened_at", yinli.core.db.UTCDateTime(), nullable=True),
        sa.Column("first_listed_at", yinli.core.db.UTCDateTime(), nullable=True),
        sa.Column("closed_at", yinli.core.db.UTCDateTime(), nullable=True),
        sa.Column("status_reason", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "status in ('applied','rejected','active','suspended','closed')", name=op.f("ck_stores_status")
        ),
        sa.CheckConstraint("deposit_required_fen >= 0", name=op.f("ck_stores_deposit")),
        sa.ForeignKeyConstraint(
            ["main_category_id"], ["categories.id"], name=op.f("fk_stores_main_category_id_categories")
        ),
        sa.ForeignKeyConstraint(["owner_user_id"], ["users.id"], name=op.f("fk_stores_owner_user_id_users")),
        sa.ForeignKeyConstraint(["reviewed_by"], ["users.id"], name=op.f("fk_stores_reviewed_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stores")),
        sa.UniqueConstraint("name", name=op.f("uq_stores_name")),
    )
    with op.batch_alter_table("stores", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stores_status"), ["status"], unique=False)

    op.create_table(
        "products",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("category_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("brand_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cover_url", sa.String(length=1000), nullable=True),
        sa.Column("images", sa.JSON(), nullable=False),
        sa.Column("seven_day_returns", sa.Boolean(), nullable=False),
        sa.Column("return_shipping_cover", sa.Boolean(), nullable=False),
        sa.Column("price_protection", sa.Boolean(), nullable=False),
        sa.Column("pay_later", sa.Boolean(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("price_min_fen", sa.BigInteger(), nullable=True),
        sa.Column("sales_count", sa.BigInteger(), nullable=False),
        sa.Column("rating_count", sa.Integer(), nullable=False),
        sa.Column("rating_sum", sa.Integer(), nullable=False),
        sa.Column("created_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("listed_at", yinli.core.db.UTCDateTime(), nullable=True),
        sa.CheckConstraint("status in ('draft','listed','delisted')", name=op.f("ck_products_status")),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], name=op.f("fk_products_brand_id_brands")),
        sa.ForeignKeyConstraint(["category_id"], ["categories.id"], name=op.f("fk_products_category_id_categories")),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_products_store_id_stores")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index("ix_products_status_category", ["status", "category_id"], unique=False)
        batch_op.create_index("ix_products_status_price", ["status", "price_min_fen"], unique=False)
        batch_op.create_index("ix_products_store_status", ["store_id", "status"], unique=False)

    op.create_table(
        "store_staff",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("staff_role", sa.String(length=16), nullable=False),
        sa.Column("added_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("staff_role in ('owner','staff')", name=op.f("ck_store_staff_staff_role")),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_store_staff_store_id_stores")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_store_staff_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_staff")),
        sa.UniqueConstraint("user_id", name=op.f("uq_store_staff_user_id")),
    )
    with op.batch_alter_table("store_staff", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_store_staff_store_id"), ["store_id"], unique=False)

    op.create_table(
        "skus",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("price_fen", sa.BigInteger(), nullable=False),
        sa.Column("list_price_fen", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("list_price_fen is null or list_price_fen >= price_fen", name=op.f("ck_skus_list_price")),
        sa.CheckConstraint("price_fen > 0", name=op.f("ck_skus_price_positive")),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_skus_product_id_products")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skus")),
        sa.UniqueConstraint("product_id", "code", name=op.f("uq_skus_product_id_code")),
    )
    with op.batch_alter_table("skus", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_skus_product_id"), ["product_id"], unique=False)

    op.create_table(
        "sku_price_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("sku_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("price_fen", sa.BigInteger(), nullable=False),
        sa.Column("list_price_fen", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("effective_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("changed_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["changed_by"], ["users.id"], name=op.f("fk_sku_price_history_changed_by_users")),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_sku_price_history_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sku_price_history")),
    )
    with op.batch_alter_table("sku_price_history", schema=None) as batch_op:
        batch_op.create_index("ix_sku_price_history_sku_time", ["sku_id", "effective_at"], unique=False)

    # price protection and "lowest price in 30 days" must be able to trust the price history
    append_only(op, "sku_price_history")


def downgrade() -> None:
    drop_append_only(op, "sku_price_history")
    with op.batch_alter_table("sku_price_history", schema=None) as batch_op:
        batch_op.drop_index("ix_sku_price_history_sku_time")

    op.drop_table("sku_price_history")
    with op.batch_alter_table("skus", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_skus_product_id"))

    op.drop_table("skus")
    with op.batch_alter_table("store_staff", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_store_staff_store_id"))

    op.drop_table("store_staff")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index("ix_products_store_status")
        batch_op.drop_index("ix_products_status_price")
        batch_op.drop_index("ix_products_status_category")

    op.drop_table("products")
    with op.batch_alter_table("stores", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stores_status"))

    op.drop_table("stores")
    op.drop_table("platform_policy")
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_events_aggregate")

    op.drop_table("outbox_events")
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_tokens_user_id"))

    op.drop_table("access_tokens")
    op.drop_table("users")
    op.drop_table("outbox_cursors")
    op.drop_table("idempotency_keys")
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_categories_parent_id"))

    op.drop_table("categories")
    op.drop_table("brands")
