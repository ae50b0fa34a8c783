"""Process configuration, read from `YINLI_*` environment variables (and an optional `.env`).

Platform *policy* that operators change at run time (0-yuan opening, new-merchant window) lives in the
database (`merchants.models.PlatformPolicy`); the values here are only the defaults it starts from.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YINLI_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("var"), description="Database, search indexes, models and run outputs.")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL. Default: SQLite file <data_dir>/yinli.db. "
        "PostgreSQL: postgresql+psycopg://user@host:5432/db",
    )
    secret_key: str = Field("dev-only-secret-change-me", description="Signs web session cookies; set it in production.")
    token_ttl_hours: int = Field(24 * 30, ge=1, description="Lifetime of API tokens and web sessions.")
    session_cookie_secure: bool = Field(
        False,
        description="Always mark cookies Secure (they are anyway on requests that arrive over HTTPS).",
    )
    sign_in_max_failures_per_account: int = Field(
        10, ge=1, description="Sign-in: failed attempts on one account per window before it answers 429."
    )
    sign_in_max_failures_per_address: int = Field(
        50, ge=1, description="Sign-in: failed attempts from one client address per window before it answers 429."
    )
    sign_in_window_seconds: int = Field(
        900, ge=1, le=7 * 86400, description="Sign-in: the window failures are counted in (seconds)."
    )
    public_url: str = Field(
        "http://127.0.0.1:8000",
        description="The site's address as shoppers reach it; links in e-mails start with it (never with the "
        "request's Host header, which a caller chooses).",
    )
    password_reset_minutes: int = Field(30, ge=5, le=24 * 60, description="How long a password-reset link works.")
    smtp_host: str | None = Field(
        None,
        description="SMTP server for e-mail (password reset). Unset: e-mails are written to <data_dir>/mail/ "
        "as .eml files instead (the embedded default).",
    )
    smtp_port: int = Field(25, ge=1, le=65535, description="SMTP port (587 with STARTTLS, 465 is not supported).")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS before sending.")
    smtp_user: str | None = Field(None, description="SMTP user name, when the server wants one.")
    smtp_password: str | None = Field(None, description="SMTP password.")
    mail_from: str = Field("引力 yinli <no-reply@yinli.invalid>", description="The From of the e-mails yinli sends.")
    max_body_bytes: int = Field(
        1024 * 1024, ge=1024, description="Largest request body accepted (413 past it), API and web alike."
    )
    default_new_merchant_days: int = Field(
        30, ge=1, le=365, description="Initial platform policy: days a store counts as a new merchant."
    )
    default_zero_deposit_opening: bool = Field(
        True, description="Initial platform policy: stores open without a deposit (0-yuan opening)."
    )
    default_store_deposit_fen: int = Field(
        200_000, ge=0, description="Initial platform policy: deposit when 0-yuan opening is off (fen)."
    )
    payment_window_minutes: int = Field(15, ge=1, le=24 * 60, description="Stock is held this long for payment.")
    auto_deliver_days: int = Field(10, ge=1, le=60, description="Shipped orders count as delivered after this.")
    return_window_days: int = Field(7, ge=0, le=30, description="No-reason return window after delivery.")
    auto_refund_max_fen: int = Field(
        5000,
        ge=0,
        description="After-sale requests up to this amount are approved at once for shoppers in good standing.",
    )
    auto_refund_max_recent: int = Field(
        2, ge=0, description="Good standing: at most this many refunds in the last 30 days."
    )
    default_fee_rate_bps: int = Field(
        200, ge=0, le=10_000, description="Platform technical fee for categories without their own rate."
    )
    affiliate_platform_cut_bps: int = Field(
        1000, ge=0, le=10_000, description="The platform's share of each creator commission (basis points)."
    )
    # return-shipping cover (退货补运费, guarantees.return_cover): a covered order's received return is paid
    # its postage, funded by a per-order cover fee (the merchant's; the platform's for new merchants)
    return_cover_fen: int = Field(
        800, ge=1, le=100_000, description="Return-shipping cover: postage paid per received covered return (fen)."
    )
    return_cover_fee_fen: int = Field(
        150,
        ge=0,
        le=100_000,
        description="Return-shipping cover: the cover fee per covered order, booked at settlement.",
    )
    return_cover_new_merchant_days: int = Field(
        90,
        ge=0,
        le=3650,
        description="Return-shipping cover: stores opened less than this many days before the "
        "order have the platform pay its cover fee.",
    )
    search_backend: Literal["tantivy", "postgres"] = Field(
        "tantivy", description="Search index: tantivy (embedded, under <data_dir>/search) or postgres (main DB)."
    )
    jobs_interval_seconds: float = Field(
        5.0, ge=0, description="How often background jobs run inside `yinli serve` (0: never)."
    )
    traffic_launch_quota: int = Field(
        200, ge=1, le=1_000_000, description="Initial launch plan: quality impressions guaranteed per new merchant."
    )
    traffic_launch_days: int = Field(3, ge=1, le=30, description="Initial launch plan: days to deliver the quota in.")
    traffic_half_life_hours: float = Field(
        72.0, gt=0, le=24 * 365, description="Feed features: half-life of the decayed counters."
    )
    traffic_refresh_seconds: float = Field(
        30.0, ge=0, description="Feed snapshot: rebuild the catalog arrays at most this often (background jobs)."
    )
    traffic_min_training_impressions: int = Field(
        5000, ge=100, description="`yinli train ranker` refuses to train (heuristic stays) below this many."
    )
    # price protection (价保, guarantees.price_protection)
    price_protection_days: int = Field(
        7, ge=1, le=30, description="Price protection: a paid line's final price is watched this many days."
    )
    price_protection_scan_days: int = Field(
        30,
        ge=1,
        le=365,
        description="Price protection: the job still pays lines whose window closed up to this many days ago "
        "(a line with an open after-sale at window close is paid once the case closes, if still due).",
    )
    # --- pay later (先用后付, guarantees/credit.py): credit limits, billing and dunning -----------------
    pay_later_new_limit_fen: int = Field(
        50_000, ge=0, description="Pay later: the credit limit of a shopper with no bill paid yet (fen)."
    )
    pay_later_limit_step_fen: int = Field(
        20_000, ge=0, description="Pay later: how much the limit grows per bill paid on time (fen)."
    )
    pay_later_limit_cap_fen: int = Field(500_000, ge=0, description="Pay later: the highest limit (fen).")
    pay_later_bill_after_days: int = Field(
        7, ge=0, le=60, description="Pay later: bill automatically this many days after delivery if not confirmed."
    )
    pay_later_retry_days: int = Field(1, ge=0, le=30, description="Pay later: a declined bill is retried after this.")
    pay_later_max_attempts: int = Field(
        3, ge=1, le=20, description="Pay later: after this many declined attempts a bill is overdue."
    )
    pay_later_refund_recent_orders: int = Field(
        10, ge=1, le=1000, description="Pay later: the frequent-refunder rule looks at this many recent paid orders."
    )
    pay_later_refund_min_orders: int = Field(
        4, ge=1, le=1000, description="Pay later: the frequent-refunder rule needs at least this many of them."
    )
    pay_later_refund_share_bps: int = Field(
        5000, ge=0, le=10_000, description="Pay later: lost when more than this share of them were refunded (bps)."
    )
    sql_echo: bool = Field(False, description="Log every SQL statement.")
    # Serving under load (api/admission.py, core/db.py): these are sized together. Every request admitted
    # gets a worker thread at once (threads = max_in_flight + a margin) and, at its busiest, a database
    # connection (pool_size + max_overflow >= max_in_flight + a margin), so nothing admitted waits on
    # the other; what is not admitted waits briefly and then gets a 503 with Retry-After.
    max_in_flight: int = Field(
        32, ge=1, le=1000, description="Requests handled at once per process; more wait for a slot, then get 503."
    )
    queue_wait_seconds: float = Field(
        2.0, ge=0, le=60, description="How long a request over the in-flight limit waits for a slot before 503."
    )
    max_queued: int = Field(
        512, ge=0, description="Requests allowed to wait for a slot at once; beyond this, 503 at once."
    )
    retry_after_seconds: int = Field(
        1, ge=1, le=600, description="The Retry-After a 503 (saturated, database) carries."
    )
    db_pool_size: int = Field(10, ge=1, le=1000, description="Database connections kept open for requests.")
    db_pool_timeout_seconds: float = Field(
        5.0, gt=0, le=60, description="How long a request waits for a database connection before 503."
    )
    jobs_db_pool_size: int = Field(
        2, ge=1, le=20, description="Background jobs' own connections (a separate pool requests cannot starve)."
    )

    @property
    def threads(self) -> int:
        """Worker threads for sync endpoints and dependencies: one per admitted request, plus a margin
        for what is not admitted (static files, health, event streams' polls)."""
        return self.max_in_flight + 8

    @property
    def db_max_overflow(self) -> int:
        """Connections opened beyond the pool when busy: enough for every worker thread to hold one."""
        return max(0, self.threads - self.db_pool_size)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'yinli.db').as_posix()}"


@lru_cache
def get_settings() -> Settings:
    return Settings()  # pydantic-settings fills the fields from the environment
