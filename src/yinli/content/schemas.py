from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from yinli.catalog.schemas import ProductCardOut
from yinli.core.schemas import IdInt, Input, Line, Moment, MoneyOut, Output, Paragraphs, Url

Handle = Annotated[str, StringConstraints(min_length=2, max_length=32, pattern=r"^[A-Za-z0-9_\u4e00-\u9fff]+$")]
ProductIds = Annotated[list[IdInt], Field(max_length=100)]


class CreatorProfileIn(Input):
    handle: Handle
    bio: Annotated[str, Paragraphs(500)] = ""
    avatar_url: Url | None = None


class CreatorOut(Output):
    user_id: int
    display_name: str
    handle: str | None
    bio: str
    avatar_url: str | None
    followers: int
    level: int = Field(description="0-5, from attributed GMV over the last 30 days.")
    gmv_30d: MoneyOut


class FollowIn(Input):
    target_type: Literal["creator", "store"]
    target_id: IdInt


class FollowOut(Output):
    target_type: str
    target_id: int
    created_at: datetime


class PlanIn(Input):
    product_id: IdInt
    rate_bps: int = Field(
        ge=0, le=8_000, description="Commission, basis points of the line's final price (at most 80%)."
    )
    creator_id: IdInt | None = Field(None, description="Targeted at this creator; leave out to open to all.")


class PlanOut(Output):
    id: int
    product_id: int
    store_id: int
    kind: str
    creator_id: int | None
    rate_bps: int
    status: str
    created_at: datetime


class CommissionOut(Output):
    id: int
    order_id: int
    order_line_id: int
    creator_id: int
    store_id: int
    rate_bps: int
    base_fen: int
    amount_fen: int
    platform_cut_fen: int
    status: str


class RoomIn(Input):
    title: Annotated[str, Line(60)]
    cover_url: Url | None = None


class RoomOut(Output):
    id: int
    store_id: int | None
    creator_id: int | None
    title: str
    cover_url: str | None


class SessionIn(Input):
    title: Annotated[str, Line(60)]
    scheduled_at: Moment | None = None
    product_ids: ProductIds = Field(default_factory=list)


class ProductIdsIn(Input):
    product_ids: Annotated[list[IdInt], Field(min_length=1, max_length=100)]


class PresentIn(Input):
    product_id: IdInt


class LikeIn(Input):
    count: int = Field(1, ge=1, le=100)


class SessionStatsOut(Output):
    peak_viewers: int
    cumulative_viewers: int
    views: int
    watch_seconds: int
    likes: int
    orders: int
    gmv: MoneyOut
    gpm: MoneyOut = Field(description="GMV per thousand views.")


class SessionOut(Output):
    id: int
    room_id: int
    title: str
    status: str
    scheduled_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    viewers_now: int
    presenting_product_id: int | None
    products: list[ProductCardOut]
    stats: SessionStatsOut


class VideoIn(Input):
    title: Annotated[str, Line(100)]
    duration_seconds: int = Field(ge=1, le=3600)
    cover_url: Url
    video_url: Url
    product_ids: Annotated[list[IdInt], Field(max_length=10)] = Field(default_factory=list)


class ViewIn(Input):
    watched_seconds: int = Field(ge=0, le=3600)
    liked: bool = False
    shared: bool = False


class VideoStatsOut(Output):
    views: int
    completed_views: int
    completion_rate: float | None
    likes: int
    shares: int
    orders: int
    gmv: MoneyOut
    gpm: MoneyOut


class VideoOut(Output):
    id: int
    store_id: int | None
    creator_id: int | None
    title: str
    duration_seconds: int
    cover_url: str
    video_url: str
    status: str
    published_at: datetime
    products: list[ProductCardOut]
    stats: VideoStatsOut


class VideosPage(Output):
    items: list[VideoOut]
    next_cursor: str | None


class StorePageOut(Output):
    store_id: int
    name: str
    description: str
    followers: int
    new_arrivals: list[ProductCardOut]
    best_sellers: list[ProductCardOut]
    videos: list[int]
    live_session_id: int | None


class ShelfOut(Output):
    """One page of a shelf (a store's or a category's products on sale, sorted)."""

    sort: Literal["relevance", "sales", "price_asc", "price_desc", "newest"]
    page: int
    pages: int
    total: int
    items: list[ProductCardOut]


class SalesSplitOut(Output):
    key: str
    gmv: MoneyOut
    orders: int
    buyers: int
    units: int


class SalesOut(Output):
    by: str
    items: list[SalesSplitOut]
    total: MoneyOut


class FavouriteOut(Output):
    product_id: int
    created_at: datetime
    state: Literal["on_sale", "sold_out", "off_sale"] = Field(
        description="on_sale; sold_out (no unit left of any active SKU); off_sale (delisted, or the store is closed)."
    )
    available: int = Field(description="Units left over the product's active SKUs.")
    card: ProductCardOut


class FollowedStoreOut(Output):
    store_id: int
    name: str
    logo_url: str | None
    is_open: bool
    products_on_sale: int
    followed_at: datetime
