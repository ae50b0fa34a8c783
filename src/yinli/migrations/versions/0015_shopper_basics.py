"""shopper basics: the address book and favourites

- `shipping_addresses`: a shopper's saved addresses; at most one default per shopper (partial unique
  index `uq_shipping_addresses_default`). Orders keep their own copy (`orders.address`).
- `favourites`: products a shopper keeps (one row per shopper and product). Followed stores are the
  existing `follows` rows.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import yinli.core.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "shipping_addresses",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("shopper_id", BIG_ID, nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("region", sa.String(length=80), nullable=False),
        sa.Column("line", sa.String(length=200), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["shopper_id"], ["users.id"], name=op.f("fk_shipping_addresses_shopper_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipping_addresses")),
    )
    op.create_index(op.f("ix_shipping_addresses_shopper_id"), "shipping_addresses", ["shopper_id"], unique=False)
    op.create_index(
        "uq_shipping_addresses_default",
        "shipping_addresses",
        ["shopper_id"],
        unique=True,
        sqlite_where=sa.text("is_default"),
        postgresql_where=sa.text("is_default"),
    )
    op.create_table(
        "favourites",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("shopper_id", BIG_ID, nullable=False),
        sa.Column("product_id", BIG_ID, nullable=False),
        sa.Column("created_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["shopper_id"], ["users.id"], name=op.f("fk_favourites_shopper_id_users")),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_favourites_product_id_products")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_favourites")),
        sa.UniqueConstraint("shopper_id", "product_id", name=op.f("uq_favourites_shopper_id_product_id")),
    )
    op.create_index(op.f("ix_favourites_product_id"), "favourites", ["product_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_favourites_product_id"), table_name="favourites")
    op.drop_table("favourites")
    op.drop_index("uq_shipping_addresses_default", table_name="shipping_addresses")
    op.drop_index(op.f("ix_shipping_addresses_shopper_id"), table_name="shipping_addresses")
    op.drop_table("shipping_addresses")
