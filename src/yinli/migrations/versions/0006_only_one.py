"""only one: the database enforces the "only one" rules the services check

Unique indexes (partial where the rule is about some rows only), on SQLite and PostgreSQL:
- live_sessions: one scheduled-or-live session per room (`uq_live_sessions_room_open`);
- live_visits: one open visit per viewer and session (`uq_live_visits_open`), so `viewers_now` counts
  each viewer once;
- affiliate_plans: one active open plan per product, one active targeted plan per product and creator;
- traffic_experiments: one active experiment (`uq_traffic_experiments_active`);
- brands: one brand per name whatever its case (`uq_brands_lower_name`), as the service always checked.

Existing rows may break these rules (that is what the races did), so upgrade ends the duplicates first:
- of a room's open sessions the live one (else the newest scheduled) is kept; the others are ended
  (ended_at = started_at, else scheduled_at; nobody in them: their open visits close as they opened);
- of a viewer's open visits to a session the first is kept, the later ones close as they opened (no watch
  time); then `viewers_now` of every session is recounted from its open visits;
- of duplicate active plans the newest is kept (as opening a plan replaces the previous one); the others
  end when the newest was opened;
- of several active experiments the oldest is kept (it is the one `load_active` assigned shoppers to
  and events were tagged with); the others are stopped, stopped_at = their own created_at (they never
  really ran: no shopper was assigned to them);
- brands differing only in case merge into the oldest: products move to it, the others are deleted.

Downgrade drops the indexes (the data changes are not undone: they only ended what broke the rules).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 22:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OPEN_SESSION = "status IN ('scheduled', 'live')"
ACTIVE_OPEN_PLAN = "status = 'active' AND kind = 'open'"
ACTIVE_TARGETED_PLAN = "status = 'active' AND kind = 'targeted'"

# Portable SQL (correlated subqueries, no window functions, no UPDATE ... FROM): runs on both databases.
END_DUPLICATES = [
    # sessions: x is ended when another open session of its room beats it (live beats scheduled, then newer)
    """
    UPDATE live_sessions SET status = 'ended', ended_at = COALESCE(started_at, scheduled_at),
        viewers_now = 0, presenting_product_id = NULL
    WHERE status IN ('scheduled', 'live') AND EXISTS (
        SELECT 1 FROM live_sessions k
        WHERE k.room_id = live_sessions.room_id AND k.status IN ('scheduled', 'live')
          AND ((k.status = 'live' AND live_sessions.status = 'scheduled')
               OR (k.status = live_sessions.status AND k.id > live_sessions.id)))
    """,
    # visits left open in sessions that are over
    """
    UPDATE live_visits SET left_at = joined_at
    WHERE left_at IS NULL AND EXISTS (
        SELECT 1 FROM live_sessions s WHERE s.id = live_visits.session_id AND s.status = 'ended')
    """,
    # a viewer's later open visits to the same session
    """
    UPDATE live_visits SET left_at = joined_at
    WHERE left_at IS NULL AND EXISTS (
        SELECT 1 FROM live_visits k
        WHERE k.session_id = live_visits.session_id AND k.viewer_id = live_visits.viewer_id
          AND k.left_at IS NULL AND k.id < live_visits.id)
    """,
    """
    UPDATE live_sessions SET viewers_now = (
        SELECT COUNT(*) FROM live_visits v WHERE v.session_id = live_sessions.id AND v.left_at IS NULL)
    """,
    # plans: older duplicates end when the newest was opened
    """
    UPDATE affiliate_plans SET status = 'ended', ended_at = (
        SELECT MAX(k.created_at) FROM affiliate_plans k
        WHERE k.product_id = affiliate_plans.product_id AND k.kind = affiliate_plans.kind
          AND COALESCE(k.creator_id, 0) = COALESCE(affiliate_plans.creator_id, 0)
          AND k.status = 'active' AND k.id > affiliate_plans.id)
    WHERE status = 'active' AND EXISTS (
        SELECT 1 FROM affiliate_plans k
        WHERE k.product_id = affiliate_plans.product_id AND k.kind = affiliate_plans.kind
          AND COALESCE(k.creator_id, 0) = COALESCE(affiliate_plans.creator_id, 0)
          AND k.status = 'active' AND k.id > affiliate_plans.id)
    """,
    # experiments: the oldest active one keeps running
    """
    UPDATE traffic_experiments SET status = 'stopped', stopped_at = created_at
    WHERE status = 'active' AND EXISTS (
        SELECT 1 FROM traffic_experiments k WHERE k.status = 'active' AND k.id < traffic_experiments.id)
    """,
    # brands: products move to the oldest brand of the same name (any case), the others go
    """
    UPDATE products SET brand_id = (
        SELECT MIN(k.id) FROM brands k, brands b WHERE b.id = products.brand_id AND lower(k.name) = lower(b.name))
    WHERE brand_id IS NOT NULL
    """,
    """
    DELETE FROM brands WHERE EXISTS (
        SELECT 1 FROM brands k WHERE lower(k.name) = lower(brands.name) AND k.id < brands.id)
    """,
]


def _partial_unique(name: str, table: str, columns: list[str], where: str) -> None:
    op.create_index(name, table, columns, unique=True, sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def upgrade() -> None:
    for statement in END_DUPLICATES:
        op.execute(statement)
    _partial_unique("uq_live_sessions_room_open", "live_sessions", ["room_id"], OPEN_SESSION)
    _partial_unique("uq_live_visits_open", "live_visits", ["session_id", "viewer_id"], "left_at IS NULL")
    _partial_unique("uq_affiliate_plans_open", "affiliate_plans", ["product_id"], ACTIVE_OPEN_PLAN)
    _partial_unique(
        "uq_affiliate_plans_targeted", "affiliate_plans", ["product_id", "creator_id"], ACTIVE_TARGETED_PLAN
    )
    _partial_unique("uq_traffic_experiments_active", "traffic_experiments", ["status"], "status = 'active'")
    op.create_index("uq_brands_lower_name", "brands", [sa.text("lower(name)")], unique=True)


def downgrade() -> None:
    op.drop_index("uq_brands_lower_name", table_name="brands")
    op.drop_index("uq_traffic_experiments_active", table_name="traffic_experiments")
    op.drop_index("uq_affiliate_plans_targeted", table_name="affiliate_plans")
    op.drop_index("uq_affiliate_plans_open", table_name="affiliate_plans")
    op.drop_index("uq_live_visits_open", table_name="live_visits")
    op.drop_index("uq_live_sessions_room_open", table_name="live_sessions")
