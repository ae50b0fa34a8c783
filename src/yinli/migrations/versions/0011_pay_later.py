"""pay later: shoppers' credit profiles and one bill per pay-later order (guarantees.credit)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import yinli.core.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "credit_profiles",
        sa.Column("shopper_id", ID, nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("limit_fen", sa.BigInteger(), nullable=False),
        sa.Column("standing", sa.String(length=16), nullable=False),
        sa.Column("bills_on_time", sa.Integer(), nullable=False),
        sa.Column("bills_overdue", sa.Integer(), nullable=False),
        sa.Column("updated_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("standing in ('good','overdue')", name=op.f("ck_credit_profiles_standing")),
        sa.CheckConstraint("limit_fen >= 0", name=op.f("ck_credit_profiles_limit_not_negative")),
        sa.ForeignKeyConstraint(["shopper_id"], ["users.id"], name=op.f("fk_credit_profiles_shopper_id_users")),
        sa.PrimaryKeyConstraint("shopper_id", name=op.f("pk_credit_profiles")),
    )
    op.create_table(
        "pay_later_bills",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("order_id", ID, nullable=False),
        sa.Column("shopper_id", ID, nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("due_at", yinli.core.db.UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", yinli.core.db.UTCDateTime(), nullable=True),
        sa.Column("gateway_key", sa.String(length=64), nullable=True),
        sa.Column("gateway_ref", sa.String(length=64), nullable=True),
        sa.Column("failure_reason", sa.String(length=200), nullable=True),
        sa.Column("paid_at", yinli.core.db.UTCDateTime(), nullable=True),
        sa.CheckConstraint("amount_fen >= 0", name=op.f("ck_pay_later_bills_amount_not_negative")),
        sa.CheckConstraint(
            "status in ('open','billed','paid','failed','overdue','cancelled')", name=op.f("ck_pay_later_bills_status")
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_pay_later_bills_order_id_orders")),
        sa.ForeignKeyConstraint(["shopper_id"], ["users.id"], name=op.f("fk_pay_later_bills_shopper_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_later_bills")),
        sa.UniqueConstraint("order_id", name=op.f("uq_pay_later_bills_order_id")),
    )
    op.create_index(op.f("ix_pay_later_bills_shopper_id"), "pay_later_bills", ["shopper_id"], unique=False)
    op.create_index("ix_pay_later_bills_status_next", "pay_later_bills", ["status", "next_attempt_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_pay_later_bills_status_next", table_name="pay_later_bills")
    op.drop_index(op.f("ix_pay_later_bills_shopper_id"), table_name="pay_later_bills")
    op.drop_table("pay_later_bills")
    op.drop_table("credit_profiles")
