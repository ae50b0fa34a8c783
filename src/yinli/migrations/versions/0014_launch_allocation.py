"""launch plan as guaranteed delivery: each enrolment keeps its asked quota, why it was sized, its
targeting level and the round's allocation plan (traffic/allocation.py)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 19:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TABLE = "traffic_launch_enrolments"


def upgrade() -> None:
    op.add_column(TABLE, sa.Column("asked_quota", sa.Integer(), nullable=True))
    op.add_column(TABLE, sa.Column("plan_note", sa.String(length=200), nullable=True))
    op.add_column(TABLE, sa.Column("targeting", sa.String(length=12), server_default="category", nullable=False))
    op.add_column(TABLE, sa.Column("plan", sa.JSON(), nullable=True))


def downgrade() -> None:
    for column in ("plan", "targeting", "plan_note", "asked_quota"):
        op.execute(f"ALTER TABLE {TABLE} DROP COLUMN {column}")
