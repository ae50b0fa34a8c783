"""money: a payment whose orders all expired or were cancelled is `closed`

A pending payment used to stay pending forever once its orders expired; it now moves to `closed` in the
same transaction, so the payment status CHECK gains that value.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

OLD = "status in ('pending','processing','succeeded','failed')"
NEW = "status in ('pending','processing','succeeded','failed','closed')"


def upgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_payments_status"), type_="check")
        batch_op.create_check_constraint("status", NEW)


def downgrade() -> None:
    op.execute("UPDATE payments SET status = 'failed' WHERE status = 'closed'")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_payments_status"), type_="check")
        batch_op.create_check_constraint("status", OLD)
