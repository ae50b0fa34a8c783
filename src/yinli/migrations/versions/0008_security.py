"""security: sign-in throttle counters

One row per account (hashed email) or client address: failed sign-ins in the current window.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 22:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import yinli.core.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_throttle",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("window_start", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.CheckConstraint("scope in ('account','address')", name=op.f("ck_sign_in_throttle_scope")),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_throttle")),
    )
    op.create_index(op.f("ix_sign_in_throttle_window_start"), "sign_in_throttle", ["window_start"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_sign_in_throttle_window_start"), table_name="sign_in_throttle")
    op.drop_table("sign_in_throttle")
