"""return-shipping cover (退货补运费): the covered orders and the postage paid out

- `return_covers`: one row per order that carries the cover (order_id unique), with its terms fixed at
  checkout: funded_by (merchant | platform), the cover fee, the postage per received return, and when
  the fee was booked (settlement).
- `return_cover_payouts`: the postage paid for one received return (after_sale_id unique).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 14:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import yinli.core.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "return_covers",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("order_id", BIG_ID, nullable=False),
        sa.Column("store_id", BIG_ID, nullable=False),
        sa.Column("funded_by", sa.String(length=16), nullable=False),
        sa.Column("fee_fen", sa.BigInteger(), nullable=False),
        sa.Column("payout_fen", sa.BigInteger(), nullable=False),
        sa.Column("fee_booked_at", yinli.core.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("funded_by in ('merchant','platform')", name=op.f("ck_return_covers_funded_by")),
        sa.CheckConstraint("fee_fen >= 0", name=op.f("ck_return_covers_fee")),
        sa.CheckConstraint("payout_fen >= 0", name=op.f("ck_return_covers_payout")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_return_covers_order_id_orders")),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_return_covers_store_id_stores")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_covers")),
        sa.UniqueConstraint("order_id", name=op.f("uq_return_covers_order_id")),
    )
    op.create_index(op.f("ix_return_covers_store_id"), "return_covers", ["store_id"], unique=False)
    op.create_table(
        "return_cover_payouts",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("after_sale_id", BIG_ID, nullable=False),
        sa.Column("order_id", BIG_ID, nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("gateway_key", sa.String(length=64), nullable=False),
        sa.Column("gateway_ref", sa.String(length=64), nullable=True),
        sa.Column("paid_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_return_cover_payouts_amount_positive")),
        sa.ForeignKeyConstraint(
            ["after_sale_id"], ["after_sales.id"], name=op.f("fk_return_cover_payouts_after_sale_id_after_sales")
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_return_cover_payouts_order_id_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_cover_payouts")),
        sa.UniqueConstraint("after_sale_id", name=op.f("uq_return_cover_payouts_after_sale_id")),
    )
    op.create_index(op.f("ix_return_cover_payouts_order_id"), "return_cover_payouts", ["order_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_return_cover_payouts_order_id"), table_name="return_cover_payouts")
    op.drop_table("return_cover_payouts")
    op.drop_index(op.f("ix_return_covers_store_id"), table_name="return_covers")
    op.drop_table("return_covers")
