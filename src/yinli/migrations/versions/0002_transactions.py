"""transactions: stock, cart, orders, payments, ledger, after-sales, reviews, metrics

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 16:25:46.261218
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import yinli.core.db
from yinli.core.migrate import append_only, drop_append_only

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journal_transactions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("memo", sa.String(length=200), nullable=False),
        sa.Column("occurred_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_transactions")),
        sa.UniqueConstraint("kind", "ref", name=op.f("uq_journal_transactions_kind_ref")),
    )
    op.create_table(
        "ledger_accounts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_accounts")),
        sa.UniqueConstraint("code", name=op.f("uq_ledger_accounts_code")),
    )
    op.create_table(
        "journal_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("transaction_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.CheckConstraint("amount_fen <> 0", name=op.f("ck_journal_entries_nonzero")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["ledger_accounts.id"], name=op.f("fk_journal_entries_account_id_ledger_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["journal_transactions.id"],
            name=op.f("fk_journal_entries_transaction_id_journal_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
    )
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_journal_entries_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_journal_entries_transaction_id"), ["transaction_id"], unique=False)

    op.create_table(
        "payments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("shopper_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=True),
        sa.Column("gateway", sa.String(length=32), nullable=False),
        sa.Column("gateway_ref", sa.String(length=64), nullable=True),
        sa.Column("gateway_key", sa.String(length=64), nullable=False),
        sa.Column("failure_reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("attempted_at", yinli.core.db.UTCDateTime(), nullable=True),
        sa.Column("settled_at", yinli.core.db.UTCDateTime(), nullable=True),
        sa.CheckConstraint("status in ('pending','processing','succeeded','failed')", name=op.f("ck_payments_status")),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_payments_amount_positive")),
        sa.ForeignKeyConstraint(["shopper_id"], ["users.id"], name=op.f("fk_payments_shopper_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("gateway_key", name=op.f("uq_payments_gateway_key")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_shopper_id"), ["shopper_id"], unique=False)
        batch_op.create_index("ix_payments_status_attempted", ["status", "attempted_at"], unique=False)

    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("shopper_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("store_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("payment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("list_total_fen", sa.BigInteger(), nullable=False),
        sa.Column("merchant_discount_fen", sa.BigInteger(), nullable=False),
        sa.Column("platform_subsidy_fen", sa.BigInteger(), nullable=False),
        sa.Column("items_total_fen", sa.BigInteger(), nullable=False),
        sa.Column("shipping_fee_fen", sa.BigInteger(), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("refunded_fen", sa.BigInteger(), nullable=False),
        sa.Column("fee_fen", sa.BigInteger(), nullable=False),
        sa.Column("address", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("pay_by", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("paid_at", yinli.core.db.UTCDateTime(), nullable=True),
        sa.Column("shipped_at", yinli.core.db.UTCDateTime(), nullable=True),
        sa.Column("carrier", sa.String(length=40), nullable=True),
        sa.Column("tracking_no", sa.String(length=64), nullable=True),
        sa.Column("delivered_at", yinli.core.db.UTCDateTime(), nullable=True),
        sa.Column("completed_at", yinli.core.db.UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", yinli.core.db.UTCDateTime(), nullable=True),
        sa.Column("cancel_reason", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "status in ('created','paid','shipped','delivered','completed','cancelled','refunded')",
            name=op.f("ck_orders_status"),
        ),
        sa.CheckConstraint(
            "refunded_fen >= 0 and refunded_fen <= total_fen", name=op.f("ck_orders_refund_within_total")
        ),
        sa.CheckConstraint("total_fen = items_total_fen + shipping_fee_fen", name=op.f("ck_orders_total")),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"], name=op.f("fk_orders_payment_id_payments")),
        sa.ForeignKeyConstraint(["shopper_id"], ["users.id"], name=op.f("fk_orders_shopper_id_users")),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_orders_store_id_stores")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_payment_id"), ["payment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_shopper_id"), ["shopper_id"], unique=False)
        batch_op.create_index("ix_orders_status_created", ["status", "created_at"], unique=False)
        batch_op.create_index("ix_orders_store_status", ["store_id", "status"], unique=False)

    op.create_table(
        "store_metrics",
        sa.Column("store_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("orders_paid", sa.Integer(), nullable=False),
        sa.Column("orders_shipped", sa.Integer(), nullable=False),
        sa.Column("shipped_on_time", sa.Integer(), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("delivery_seconds", sa.BigInteger(), nullable=False),
        sa.Column("refunds", sa.Integer(), nullable=False),
        sa.Column("complaints", sa.Integer(), nullable=False),
        sa.Column("reviews", sa.Integer(), nullable=False),
        sa.Column("good_reviews", sa.Integer(), nullable=False),
        sa.Column("updated_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_store_metrics_store_id_stores")),
        sa.PrimaryKeyConstraint("store_id", name=op.f("pk_store_metrics")),
    )
    op.create_table(
        "after_sales",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("store_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shopper_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("shipping_refund_fen", sa.BigInteger(), nullable=False),
        sa.Column("auto_approved", sa.Boolean(), nullable=False),
        sa.Column("decided_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("decided_at", yinli.core.db.UTCDateTime(), nullable=True),
        sa.Column("decision_note", sa.String(length=500), nullable=True),
        sa.Column("return_carrier", sa.String(length=40), nullable=True),
        sa.Column("return_tracking_no", sa.String(length=64), nullable=True),
        sa.Column("created_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("refunded_at", yinli.core.db.UTCDateTime(), nullable=True),
        sa.CheckConstraint("kind in ('refund_only','return_refund')", name=op.f("ck_after_sales_kind")),
        sa.CheckConstraint(
            "status in ('requested','awaiting_return','return_shipped','refunded','rejected','withdrawn')",
            name=op.f("ck_after_sales_status"),
        ),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_after_sales_amount_positive")),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"], name=op.f("fk_after_sales_decided_by_users")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_after_sales_order_id_orders")),
        sa.ForeignKeyConstraint(["shopper_id"], ["users.id"], name=op.f("fk_after_sales_shopper_id_users")),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_after_sales_store_id_stores")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_after_sales")),
    )
    with op.batch_alter_table("after_sales", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_after_sales_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_after_sales_store_id"), ["store_id"], unique=False)

    op.create_table(
        "complaints",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shopper_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("resolved_at", yinli.core.db.UTCDateTime(), nullable=True),
        sa.Column("resolution", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "category in ('quality','delivery','service','misleading_marketing')", name=op.f("ck_complaints_category")
        ),
        sa.CheckConstraint("status in ('open','resolved')", name=op.f("ck_complaints_status")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_complaints_order_id_orders")),
        sa.ForeignKeyConstraint(["shopper_id"], ["users.id"], name=op.f("fk_complaints_shopper_id_users")),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_complaints_store_id_stores")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
    )
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaints_store_id"), ["store_id"], unique=False)

    op.create_table(
        "cart_items",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("shopper_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sku_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("surface", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("creator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("added_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_cart_items_quantity_positive")),
        sa.ForeignKeyConstraint(["creator_id"], ["users.id"], name=op.f("fk_cart_items_creator_id_users")),
        sa.ForeignKeyConstraint(["shopper_id"], ["users.id"], name=op.f("fk_cart_items_shopper_id_users")),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_cart_items_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cart_items")),
        sa.UniqueConstraint("shopper_id", "sku_id", name=op.f("uq_cart_items_shopper_id_sku_id")),
    )
    with op.batch_alter_table("cart_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cart_items_shopper_id"), ["shopper_id"], unique=False)

    op.create_table(
        "order_lines",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sku_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("category_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("sku_attributes", sa.JSON(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("list_price_fen", sa.BigInteger(), nullable=False),
        sa.Column("merchant_discount_fen", sa.BigInteger(), nullable=False),
        sa.Column("platform_subsidy_fen", sa.BigInteger(), nullable=False),
        sa.Column("unit_price_fen", sa.BigInteger(), nullable=False),
        sa.Column("line_total_fen", sa.BigInteger(), nullable=False),
        sa.Column("fee_rate_bps", sa.Integer(), nullable=False),
        sa.Column("seven_day_returns", sa.Boolean(), nullable=False),
        sa.Column("surface", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("creator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("refunded_quantity", sa.Integer(), nullable=False),
        sa.Column("refunded_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("line_total_fen = unit_price_fen * quantity", name=op.f("ck_order_lines_line_total")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_order_lines_quantity_positive")),
        sa.CheckConstraint(
            "refunded_fen >= 0 and refunded_fen <= line_total_fen", name=op.f("ck_order_lines_refunded_fen")
        ),
        sa.CheckConstraint(
            "refunded_quantity >= 0 and refunded_quantity <= quantity", name=op.f("ck_order_lines_refunded_quantity")
        ),
        sa.CheckConstraint(
            "unit_price_fen = list_price_fen - merchant_discount_fen - platform_subsidy_fen",
            name=op.f("ck_order_lines_breakdown"),
        ),
        sa.CheckConstraint("unit_price_fen >= 0", name=op.f("ck_order_lines_unit_price")),
        sa.ForeignKeyConstraint(["category_id"], ["categories.id"], name=op.f("fk_order_lines_category_id_categories")),
        sa.ForeignKeyConstraint(["creator_id"], ["users.id"], name=op.f("fk_order_lines_creator_id_users")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_order_lines_order_id_orders")),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_order_lines_product_id_products")),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_order_lines_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_lines")),
    )
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_lines_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_lines_product_id"), ["product_id"], unique=False)

    op.create_table(
        "refunds",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("payment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("after_sale_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("gateway_key", sa.String(length=64), nullable=False),
        sa.Column("gateway_ref", sa.String(length=64), nullable=True),
        sa.Column("created_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_refunds_amount_positive")),
        sa.ForeignKeyConstraint(
            ["after_sale_id"], ["after_sales.id"], name=op.f("fk_refunds_after_sale_id_after_sales")
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_refunds_order_id_orders")),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"], name=op.f("fk_refunds_payment_id_payments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint("gateway_key", name=op.f("uq_refunds_gateway_key")),
    )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refunds_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_refunds_payment_id"), ["payment_id"], unique=False)

    op.create_table(
        "reservations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("sku_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("created_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.Column("closed_at", yinli.core.db.UTCDateTime(), nullable=True),
        sa.CheckConstraint("status in ('held','committed','released')", name=op.f("ck_reservations_status")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_reservations_quantity_positive")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_reservations_order_id_orders")),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_reservations_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservations")),
    )
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.create_index("ix_reservations_held_expiry", ["status", "expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_reservations_order_id"), ["order_id"], unique=False)

    op.create_table(
        "stock",
        sa.Column("sku_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("on_hand", sa.BigInteger(), nullable=False),
        sa.Column("reserved", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("on_hand >= 0", name=op.f("ck_stock_on_hand_not_negative")),
        sa.CheckConstraint("reserved >= 0 and reserved <= on_hand", name=op.f("ck_stock_reserved_within_on_hand")),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_stock_sku_id_skus")),
        sa.PrimaryKeyConstraint("sku_id", name=op.f("pk_stock")),
    )
    op.create_table(
        "stock_movements",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("sku_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("delta", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("ref_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("actor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_stock_movements_actor_id_users")),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_stock_movements_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_movements")),
    )
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stock_movements_sku_id"), ["sku_id"], unique=False)

    op.create_table(
        "reviews",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("order_line_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("store_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shopper_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", yinli.core.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("rating between 1 and 5", name=op.f("ck_reviews_rating")),
        sa.ForeignKeyConstraint(
            ["order_line_id"], ["order_lines.id"], name=op.f("fk_reviews_order_line_id_order_lines")
        ),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_reviews_product_id_products")),
        sa.ForeignKeyConstraint(["shopper_id"], ["users.id"], name=op.f("fk_reviews_shopper_id_users")),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_reviews_store_id_stores")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("order_line_id", name=op.f("uq_reviews_order_line_id")),
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reviews_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reviews_store_id"), ["store_id"], unique=False)

    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fee_rate_bps", sa.Integer(), nullable=True))

    with op.batch_alter_table("stores", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shipping_fee_fen", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("free_shipping_over_fen", sa.BigInteger(), nullable=True))

    # money and stock journals are corrected by new entries, never by rewriting old ones
    for table in ("journal_transactions", "journal_entries", "stock_movements"):
        append_only(op, table)


def downgrade() -> None:
    for table in ("journal_transactions", "journal_entries", "stock_movements"):
        drop_append_only(op, table)
    with op.batch_alter_table("stores", schema=None) as batch_op:
        batch_op.drop_column("free_shipping_over_fen")
        batch_op.drop_column("shipping_fee_fen")

    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.drop_column("fee_rate_bps")

    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviews_store_id"))
        batch_op.drop_index(batch_op.f("ix_reviews_product_id"))

    op.drop_table("reviews")
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stock_movements_sku_id"))

    op.drop_table("stock_movements")
    op.drop_table("stock")
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reservations_order_id"))
        batch_op.drop_index("ix_reservations_held_expiry")

    op.drop_table("reservations")
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refunds_payment_id"))
        batch_op.drop_index(batch_op.f("ix_refunds_order_id"))

    op.drop_table("refunds")
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_lines_product_id"))
        batch_op.drop_index(batch_op.f("ix_order_lines_order_id"))

    op.drop_table("order_lines")
    with op.batch_alter_table("cart_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cart_items_shopper_id"))

    op.drop_table("cart_items")
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaints_store_id"))

    op.drop_table("complaints")
    with op.batch_alter_table("after_sales", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_after_sales_store_id"))
        batch_op.drop_index(batch_op.f("ix_after_sales_order_id"))

    op.drop_table("after_sales")
    op.drop_table("store_metrics")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_store_status")
        batch_op.drop_index("ix_orders_status_created")
        batch_op.drop_index(batch_op.f("ix_orders_shopper_id"))
        batch_op.drop_index(batch_op.f("ix_orders_payment_id"))

    op.drop_table("orders")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_status_attempted")
        batch_op.drop_index(batch_op.f("ix_payments_shopper_id"))

    op.drop_table("payments")
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journal_entries_transaction_id"))
        batch_op.drop_index(batch_op.f("ix_journal_entries_account_id"))

    op.drop_table("journal_entries")
    op.drop_table("ledger_accounts")
    op.drop_table("journal_transactions")
