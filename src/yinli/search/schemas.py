from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from yinli.catalog.schemas import ProductCardOut
from yinli.core.schemas import IdInt, Input, Output


class ComponentOut(Output):
    value: float = Field(description="The component, 0..1.")
    weight: float
    contribution: float = Field(description="value × weight: its share of the score.")


class SearchHitOut(Output):
    position: int = Field(description="0-based rank in the whole result list.")
    score: float
    product: ProductCardOut
    explain: dict[str, ComponentOut] | None = Field(
        None,
        description="With explain=true: text, conversion, store_quality, price, new_merchant, category_intent, "
        "out_of_stock.",
    )


class CountOut(Output):
    id: int
    name: str
    count: int


class PriceRangeOut(Output):
    min_fen: int
    max_fen: int | None = Field(description="Exclusive; null: no upper bound.")
    count: int


class FacetsOut(Output):
    categories: list[CountOut] = Field(description="Leaf categories of the matches, most first.")
    stores: list[CountOut]
    prices: list[PriceRangeOut]
    in_stock: int
    pay_later: int
    price_protection: int


class CategoryRefOut(Output):
    id: int
    name: str


class SearchOut(Output):
    search_id: int = Field(description="Report clicks with it, and buy with surface=search, source_id=search_id.")
    query: str
    normalized: str
    match: Literal["all", "typo", "partial"] | None = Field(
        description="all: every word matched; typo: with spelling tolerance; partial: some words; "
        "null: no words (browse) or none searchable."
    )
    total: int = Field(description="Products matching (before paging); an estimate when total_is_estimate.")
    total_is_estimate: bool = Field(
        False,
        description="total is estimated, not counted: a one-word query with more exact title matches than "
        "are re-ranked (tantivy backend; show it as 'about N'). Exact otherwise.",
    )
    items: list[SearchHitOut]
    facets: FacetsOut | None
    intent: list[CategoryRefOut] = Field(description="Categories the query names; their products rank higher.")
    next_cursor: str | None
    backend: str
    took_ms: float


class InteractionIn(Input):
    search_id: IdInt
    product_id: IdInt
    action: Literal["click", "add_to_cart"] = "click"


class InteractionOut(Output):
    id: int
    search_id: int
    product_id: int
    action: str
    position: int | None
    created_at: datetime


class QueryCountOut(Output):
    query: str
    searches: int


class AnalyticsOut(Output):
    since: datetime
    until: datetime
    search_pv: int = Field(description="Search page views.")
    searches_with_results: int
    zero_result_searches: int
    impressions: int = Field(description="Results shown.")
    clicks: int
    add_to_carts: int
    orders: int = Field(description="Paid order lines attributed to a search.")
    gmv_fen: int
    searches_clicked: int
    searches_converted: int
    ctr: float | None = Field(description="Searches with a click / searches with results.")
    item_ctr: float | None = Field(description="Clicks / results shown.")
    conversion_rate: float | None = Field(description="Searches that led to a paid order / search PV.")
    top_queries: list[QueryCountOut]
    zero_result_queries: list[QueryCountOut]
