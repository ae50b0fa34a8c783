"""search: search log (queries, interactions) and the PostgreSQL backend's documents and vocabulary

PostgreSQL-only parts are dialect-guarded so the same history runs on SQLite: the pg_trgm extension is
created when missing (the trigram index on search_terms needs it), `all_terms` is a tsvector there and
plain text on SQLite, and the GIN/GiST index options only apply on PostgreSQL.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 16:54:18.413749
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import yinli.core.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Needed by ix_search_terms_trgm. Left in place on downgrade: other schemas may use it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "search_terms",
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.Column("doc_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("term", name=op.f("pk_search_terms")),
    )
    with op.batch_alter_table("search_terms", schema=None) as batch_op:
        batch_op.create_index(
            "ix_search_terms_trgm",
            ["term"],
            unique=False,
            postgresql_using="gist",
            postgresql_ops={"term": "gist_trgm_ops"},
        )

    op.create_table(
        "search_queries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("shopper_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("query", sa.String(length=256), nullable=False),
        sa.Column("normalized", sa.String(length=256), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("sort", sa.String(length=16), nullable=False),
        sa.Column("page_offset", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("shown", sa.JSON(), nullable=False),
        sa.Column("backend", sa.String(length=16), nullable=False),
        sa.Column("relaxed", sa.String(length=16), nullable=True),
        sa.Column("took_us", sa.Integer(), nullable=False),
        sa.Column("created_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["shopper_id"], ["users.id"], name=op.f("fk_search_queries_shopper_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_queries")),
    )
    with op.batch_alter_table("search_queries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_search_queries_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_search_queries_normalized"), ["normalized"], unique=False)
        batch_op.create_index(batch_op.f("ix_search_queries_shopper_id"), ["shopper_id"], unique=False)

    op.create_table(
        "search_documents",
        sa.Column("product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("store_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("cat1", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("cat2", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("cat3", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("brand_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("price_fen", sa.BigInteger(), nullable=False),
        sa.Column("sales_count", sa.BigInteger(), nullable=False),
        sa.Column("listed_seconds", sa.BigInteger(), nullable=False),
        sa.Column("in_stock", sa.Boolean(), nullable=False),
        sa.Column("pay_later", sa.Boolean(), nullable=False),
        sa.Column("price_protection", sa.Boolean(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("title_text", sa.Text(), nullable=False),
        sa.Column("brand_text", sa.Text(), nullable=False),
        sa.Column("category_text", sa.Text(), nullable=False),
        sa.Column("detail_text", sa.Text(), nullable=False),
        sa.Column("latin_terms", sa.Text(), nullable=False),
        sa.Column("all_terms", sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql"), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_search_documents_product_id_products")),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_search_documents")),
    )
    with op.batch_alter_table("search_documents", schema=None) as batch_op:
        batch_op.create_index("ix_search_documents_all_terms", ["all_terms"], unique=False, postgresql_using="gin")
        batch_op.create_index(batch_op.f("ix_search_documents_cat3"), ["cat3"], unique=False)
        batch_op.create_index(batch_op.f("ix_search_documents_store_id"), ["store_id"], unique=False)

    op.create_table(
        "search_product_stats",
        sa.Column("product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("impressions", sa.BigInteger(), nullable=False),
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        sa.Column("carts", sa.BigInteger(), nullable=False),
        sa.Column("orders", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_search_product_stats_product_id_products")
        ),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_search_product_stats")),
    )
    op.create_table(
        "search_interactions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("search_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("created_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("action in ('click','add_to_cart','order')", name=op.f("ck_search_interactions_action")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_search_interactions_order_id_orders")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_search_interactions_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["search_id"], ["search_queries.id"], name=op.f("fk_search_interactions_search_id_search_queries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_interactions")),
    )
    with op.batch_alter_table("search_interactions", schema=None) as batch_op:
        batch_op.create_index("ix_search_interactions_order", ["order_id", "product_id", "action"], unique=True)
        batch_op.create_index(batch_op.f("ix_search_interactions_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_search_interactions_search_id"), ["search_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("search_interactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_interactions_search_id"))
        batch_op.drop_index(batch_op.f("ix_search_interactions_product_id"))
        batch_op.drop_index("ix_search_interactions_order")

    op.drop_table("search_interactions")
    op.drop_table("search_product_stats")
    with op.batch_alter_table("search_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_documents_store_id"))
        batch_op.drop_index(batch_op.f("ix_search_documents_cat3"))
        batch_op.drop_index("ix_search_documents_all_terms", postgresql_using="gin")

    op.drop_table("search_documents")
    with op.batch_alter_table("search_queries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_queries_shopper_id"))
        batch_op.drop_index(batch_op.f("ix_search_queries_normalized"))
        batch_op.drop_index(batch_op.f("ix_search_queries_created_at"))

    op.drop_table("search_queries")
    with op.batch_alter_table("search_terms", schema=None) as batch_op:
        batch_op.drop_index("ix_search_terms_trgm", postgresql_using="gist", postgresql_ops={"term": "gist_trgm_ops"})

    op.drop_table("search_terms")
