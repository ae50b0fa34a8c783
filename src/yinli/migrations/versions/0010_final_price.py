"""final price: price history in final prices, stores' guarantee opt-ins, order lines' guarantees

- `sku_price_history` gains `final_price_fen` (what the shopper paid at that moment: selling price −
  platform subsidy) and `platform_subsidy_fen`; existing rows had no subsidy, so final = selling price.
  The table is append-only: its guard triggers are dropped for the backfill and put back.
- `stores` gains the store-wide opt-ins of three guarantees (`pay_later`, `price_protection`,
  `return_shipping_cover`); a product offers one only if its store does too.
- `order_lines.guarantees`: which guarantees applied to the line when it was bought (a JSON list).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from yinli.core.migrate import append_only, drop_append_only

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

STORE_FLAGS = ("pay_later", "price_protection", "return_shipping_cover")


def upgrade() -> None:
    drop_append_only(op, "sku_price_history")
    with op.batch_alter_table("sku_price_history") as batch_op:
        batch_op.add_column(sa.Column("final_price_fen", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("platform_subsidy_fen", sa.BigInteger(), nullable=False, server_default="0"))
    op.execute("UPDATE sku_price_history SET final_price_fen = price_fen")
    with op.batch_alter_table("sku_price_history") as batch_op:
        batch_op.alter_column("final_price_fen", existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_check_constraint(
            "final_price", "final_price_fen = price_fen - platform_subsidy_fen and final_price_fen > 0"
        )
    append_only(op, "sku_price_history")
    # plain ADD COLUMN: rebuilding these tables (SQLite batch mode) would trip the foreign keys onto them
    for flag in STORE_FLAGS:
        op.add_column("stores", sa.Column(flag, sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column("order_lines", sa.Column("guarantees", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    # plain DROP COLUMN (SQLite >= 3.35), for the same reason
    op.execute("ALTER TABLE order_lines DROP COLUMN guarantees")
    for flag in STORE_FLAGS:
        op.execute(f"ALTER TABLE stores DROP COLUMN {flag}")
    drop_append_only(op, "sku_price_history")
    with op.batch_alter_table("sku_price_history") as batch_op:
        batch_op.drop_constraint("final_price", type_="check")
        batch_op.drop_column("platform_subsidy_fen")
        batch_op.drop_column("final_price_fen")
    append_only(op, "sku_price_history")
