"""price protection (价保): one payout per order line

`price_protection_payouts`: what a line's price protection paid (the largest drop of its SKU's final
price within the window), who funded it (merchant / platform), the refund that carried it to the
shopper, and what a later refund of the line clawed back. `order_line_id` is unique: once per line.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 14:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import yinli.core.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TABLE = "price_protection_payouts"


def _id(name: str, autoincrement: bool = False) -> sa.Column[int]:
    return sa.Column(
        name, sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, autoincrement=autoincrement
    )


def upgrade() -> None:
    op.create_table(
        TABLE,
        _id("id", autoincrement=True),
        _id("order_line_id"),
        _id("order_id"),
        _id("store_id"),
        _id("shopper_id"),
        _id("refund_id"),
        sa.Column("unit_paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("lowest_fen", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("merchant_fen", sa.BigInteger(), nullable=False),
        sa.Column("platform_fen", sa.BigInteger(), nullable=False),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("paid_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("clawed_back_fen", sa.BigInteger(), nullable=False),
        sa.Column("clawed_back_platform_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("via in ('auto','claim')", name=op.f("ck_price_protection_payouts_via")),
        sa.CheckConstraint("status in ('paid','clawed_back')", name=op.f("ck_price_protection_payouts_status")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_price_protection_payouts_quantity_positive")),
        sa.CheckConstraint(
            "amount_fen > 0 and amount_fen = merchant_fen + platform_fen",
            name=op.f("ck_price_protection_payouts_amount"),
        ),
        sa.CheckConstraint("merchant_fen >= 0 and platform_fen >= 0", name=op.f("ck_price_protection_payouts_parts")),
        sa.CheckConstraint("lowest_fen < unit_paid_fen", name=op.f("ck_price_protection_payouts_a_drop")),
        sa.CheckConstraint(
            "clawed_back_fen >= 0 and clawed_back_fen <= amount_fen",
            name=op.f("ck_price_protection_payouts_clawed_back"),
        ),
        sa.CheckConstraint(
            "clawed_back_platform_fen >= 0 and clawed_back_platform_fen <= platform_fen",
            name=op.f("ck_price_protection_payouts_clawed_back_platform"),
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"], ["order_lines.id"], name=op.f(f"fk_{TABLE}_order_line_id_order_lines")
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f(f"fk_{TABLE}_order_id_orders")),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f(f"fk_{TABLE}_store_id_stores")),
        sa.ForeignKeyConstraint(["shopper_id"], ["users.id"], name=op.f(f"fk_{TABLE}_shopper_id_users")),
        sa.ForeignKeyConstraint(["refund_id"], ["refunds.id"], name=op.f(f"fk_{TABLE}_refund_id_refunds")),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE}")),
        sa.UniqueConstraint("order_line_id", name=op.f(f"uq_{TABLE}_order_line_id")),
    )
    for column in ("order_id", "store_id", "shopper_id"):
        op.create_index(op.f(f"ix_{TABLE}_{column}"), TABLE, [column], unique=False)


def downgrade() -> None:
    for column in ("order_id", "store_id", "shopper_id"):
        op.drop_index(op.f(f"ix_{TABLE}_{column}"), table_name=TABLE)
    op.drop_table(TABLE)
