"""Feed, feedback, plans, experiments and traffic explanations: request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, Strict

from yinli.catalog.schemas import ProductCardOut
from yinli.core.schemas import Input, Line, Output

Share = Annotated[float, Field(ge=0.0, le=0.5)]
Rate = Annotated[float, Field(ge=0.0, le=1.0)]
Count = Annotated[int, Strict(), Field(ge=0, le=10_000_000)]


class ComponentOut(Output):
    name: str
    value: float
    weight: float
    contribution: float


class ExplainOut(Output):
    slot: str = Field(description="organic | launch | boost: who placed the item.")
    placed_by: str
    sources: list[str] = Field(description="Candidate sources that proposed the item.")
    policy: str
    score: float
    pctr: float
    pcvr: float
    expected_gmv_fen: float
    predicted_by: str = Field(description="Model version, or `heuristic`.")
    components: list[ComponentOut]
    plan: dict[str, Any] | None = Field(None, description="For plan slots: store, delivered, quota, target, match.")


class FeedVideoOut(Output):
    id: int
    title: str
    cover_url: str
    duration_seconds: int
    views: int
    store_id: int | None
    creator_id: int | None
    product_ids: list[int]


class FeedLiveOut(Output):
    session_id: int
    room_id: int
    title: str
    viewers_now: int
    store_id: int | None
    creator_id: int | None
    presenting_product_id: int | None


class FeedItemOut(Output):
    position: int
    type: Literal["product", "video", "live"]
    item_id: int
    slot: Literal["organic", "launch", "boost"]
    product: ProductCardOut | None = Field(None, description="The card (for a product, or what content sells).")
    video: FeedVideoOut | None = None
    live: FeedLiveOut | None = None
    explain: ExplainOut | None = None


class FeedOut(Output):
    request_id: str = Field(description="Send back with feedback events about this page.")
    shopper_id: int | None = Field(description="Whose page; null: a visitor's (no interests, not logged to a shopper).")
    page: int
    policy: str
    bucket: str
    experiment_id: int | None
    model: str = Field(description="pCTR/pCVR model version, or `heuristic`.")
    items: list[FeedItemOut]
    next_cursor: str | None


class FeedbackIn(Input):
    # Items are validated one by one by the service so one bad event does not sink the batch.
    events: list[Any] = Field(min_length=1, max_length=500)


class RejectionOut(Output):
    index: int
    field: str
    reason: str


class FeedbackOut(Output):
    accepted: int
    rejected: list[RejectionOut] = Field(description="Events not recorded, each with the field at fault and why.")


class LaunchConfigIn(Input):
    enabled: bool | None = None
    quota: Annotated[int, Strict(), Field(ge=1, le=1_000_000)] | None = None
    window_days: Annotated[int, Strict(), Field(ge=1, le=30)] | None = None
    share: Share | None = None
    lead: Annotated[float, Field(ge=0.0, le=0.5)] | None = None
    max_complaints: Annotated[int, Strict(), Field(ge=1, le=1000)] | None = None
    max_complaint_rate: Rate | None = None
    max_refund_rate: Rate | None = None
    min_orders_for_rates: Count | None = None
    max_noise: Rate | None = None
    sizing: bool | None = Field(None, description="Size each new quota to what the forecast supply can carry.")
    fill: Annotated[float, Field(gt=0.0, le=1.0)] | None = Field(
        None, description="Share of the forecast free supply a sized quota may use."
    )
    warn_below: Annotated[int, Strict(), Field(ge=1, le=1_000_000)] | None = Field(
        None, description="A sized quota below this is flagged: its category's interested traffic is too thin."
    )
    alpha_max: Annotated[float, Field(gt=0.0, le=1.0)] | None = Field(
        None, description="An enrolment needing more than this share of its segments' slots is widened."
    )
    behind_widen: Rate | None = None


class LaunchConfigOut(Output):
    enabled: bool
    quota: int
    window_days: int
    share: float
    lead: float
    max_complaints: int
    max_complaint_rate: float
    max_refund_rate: float
    min_orders_for_rates: int
    max_noise: float
    sizing: bool
    fill: float
    warn_below: int
    alpha_max: float
    behind_widen: float


class BoostTierIO(Input):
    name: Annotated[str, Line(16)]
    min_orders_30d: Count
    min_good_review_rate: Rate
    max_refund_rate: Rate
    max_complaint_rate: Rate
    min_on_time_rate: Rate
    min_growth: Annotated[float, Field(ge=0.0, le=100.0)]
    daily_impressions: Count


class BoostConfigIn(Input):
    enabled: bool | None = None
    share: Share | None = None
    exit_margin: Annotated[float, Field(ge=0.0, le=0.5)] | None = None
    tiers: list[BoostTierIO] | None = Field(None, min_length=1, max_length=10, description="Lowest tier first.")


class BoostConfigOut(Output):
    enabled: bool
    share: float
    exit_margin: float
    tiers: list[dict[str, Any]]


class LaunchKpiOut(Output):
    enrolled: int
    active: int
    withheld: int
    reached: int
    expired: int
    coverage: float | None = Field(description="Reached / (reached + expired): the share that got its quota in time.")
    launch_impressions: int
    quality_impressions: int = Field(
        description="Quality impressions of enrolled stores in their windows, launch slots and organic alike."
    )
    gmv_cost_fen: int = Field(description="Expected GMV of the organic items displaced, less the launch items'.")
    sized_down: int = Field(description="Enrolments whose quota was sized below the asked one to fit forecast supply.")
    supply_short: int = Field(description="Enrolments whose sized quota is below warn_below (thin interested traffic).")


class EnrolmentOut(Output):
    store_id: int
    status: str
    quota: int
    delivered: int
    started_at: datetime
    ends_at: datetime
    reached_at: datetime | None
    withheld_reason: str | None
    asked_quota: int | None = Field(description="The plan's quota before sizing to forecast supply.")
    plan_note: str | None = Field(description="Why the quota is what it is (forecast supply, minimum).")
    targeting: str = Field(description="category | top_category | similar: which shoppers it is served to.")
    plan: dict[str, Any] | None = Field(
        description="The round's allocation: alpha, order, supply_per_day, need, days_left, feasible."
    )


class LaunchCoverageOut(Output):
    active_stores: int
    new_merchants: int = Field(
        description="Active stores within new_merchant_days of their first listing (or unlisted)."
    )
    new_listed: int = Field(description="New merchants that have listed.")
    new_enrolled: int = Field(description="Listed new merchants with a launch enrolment (any status).")


class LaunchOut(Output):
    config: LaunchConfigOut
    kpi: LaunchKpiOut
    enrolments: list[EnrolmentOut]


class MembershipOut(Output):
    store_id: int
    tier: str
    entered_at: datetime
    measures: dict[str, Any]


class BoostChangeOut(Output):
    store_id: int
    from_tier: str | None
    to_tier: str | None
    at: datetime
    reason: str


class BoostOut(Output):
    config: BoostConfigOut
    members: list[MembershipOut]
    recent_changes: list[BoostChangeOut]


class VariantIn(Input):
    name: Annotated[str, Line(32)]
    weight: Annotated[int, Strict(), Field(ge=1, le=10_000)]
    policy: Literal["user_first", "gmv_only"] = "user_first"
    launch_plan: bool = True
    boost_plan: bool = True


class ExperimentIn(Input):
    name: Annotated[str, Line(60)]
    variants: list[VariantIn] = Field(min_length=2, max_length=10)


class ExperimentOut(Output):
    id: int
    name: str
    status: str
    variants: list[dict[str, Any]]
    created_at: datetime
    stopped_at: datetime | None


class ExperimentMetricsOut(Output):
    experiment: ExperimentOut
    buckets: dict[str, dict[str, Any]]


class StoreTrafficOut(Output):
    store_id: int
    days: int
    impressions: int
    impressions_by_slot: dict[str, int]
    impressions_by_format: dict[str, int]
    clicks: int
    ctr: float | None
    orders: int
    gmv_fen: int
    components: dict[str, float] = Field(description="Mean ranking features of the store's organic impressions.")
    platform_components: dict[str, float]
    reasons: list[str]
    launch_plan: dict[str, Any] | None
    boost_plan: dict[str, Any]
