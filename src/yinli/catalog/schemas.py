from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints
from sqlalchemy.orm import Session

from yinli.catalog import cards
from yinli.catalog.models import Product
from yinli.core.clock import Clock
from yinli.core.money import Money
from yinli.core.schemas import IdInt, Input, Line, MoneyOut, Output, Paragraphs, PositiveAmount, Url

SkuCode = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-/]+$")
]
AttributeName = Annotated[str, Line(32)]
AttributeValue = Annotated[str, Line(64)]
Attributes = Annotated[dict[AttributeName, AttributeValue], Field(max_length=10)]


class CategoryOut(Output):
    id: int
    parent_id: int | None
    level: int
    name: str
    path: str
    listing_count: int
    fee_rate_bps: int | None = Field(None, description="Technical fee; null: the platform default.")


class CategoryFeeIn(Input):
    fee_rate_bps: int | None = Field(ge=0, le=10_000, description="Basis points; null for the platform default.")


class CategoryDetailOut(CategoryOut):
    ancestors: list[CategoryOut]
    children: list[CategoryOut]


class BrandIn(Input):
    name: Annotated[str, Line(80)]


class BrandOut(Output):
    id: int
    name: str


class BrandsPage(Output):
    items: list[BrandOut]
    next_cursor: str | None


class SkuIn(Input):
    code: SkuCode = Field(description="The merchant's code, unique within the product.")
    attributes: Attributes = Field(default_factory=dict, description='e.g. {"颜色": "红", "尺码": "M"}')
    price_fen: PositiveAmount = Field(description="Selling price in fen.")
    list_price_fen: PositiveAmount | None = Field(None, description="Reference price in fen, not below the price.")
    is_active: bool = True


class SkuUpdateIn(Input):
    attributes: Attributes = None  # type: ignore[assignment]
    price_fen: PositiveAmount = None  # type: ignore[assignment]
    list_price_fen: PositiveAmount | None = None
    is_active: bool = None  # type: ignore[assignment]


class ProductIn(Input):
    store_id: IdInt | None = Field(None, description="Defaults to the caller's store; operators must give it.")
    category_id: IdInt = Field(description="A leaf (level 3) category.")
    brand_id: IdInt | None = None
    title: Annotated[str, Line(120)]
    description: Annotated[str, Paragraphs(5000)] = ""
    cover_url: Url | None = None
    images: list[Url] = Field(default_factory=list, max_length=9)
    seven_day_returns: bool = True
    return_shipping_cover: bool = True
    price_protection: bool = True
    pay_later: bool = True
    skus: list[SkuIn] = Field(min_length=1, max_length=100)


class ProductUpdateIn(Input):
    category_id: IdInt = None  # type: ignore[assignment]
    brand_id: IdInt | None = None
    title: Annotated[str, Line(120)] = None  # type: ignore[assignment]
    description: Annotated[str, Paragraphs(5000)] = None  # type: ignore[assignment]
    cover_url: Url | None = None
    images: list[Url] = Field(None, max_length=9)  # type: ignore[arg-type]  # None: not changed
    seven_day_returns: bool = None  # type: ignore[assignment]
    return_shipping_cover: bool = None  # type: ignore[assignment]
    price_protection: bool = None  # type: ignore[assignment]
    pay_later: bool = None  # type: ignore[assignment]


class SkuOut(Output):
    id: int
    product_id: int
    code: str
    attributes: dict[str, str]
    price: MoneyOut
    list_price: MoneyOut | None
    is_active: bool


class ProductOut(Output):
    id: int
    store_id: int
    category_id: int
    brand_id: int | None
    title: str
    description: str
    status: str
    cover_url: str | None
    images: list[str]
    seven_day_returns: bool
    return_shipping_cover: bool
    price_protection: bool
    pay_later: bool
    price_min: MoneyOut | None
    sales_count: int
    created_at: datetime
    updated_at: datetime
    listed_at: datetime | None
    skus: list[SkuOut]


class ProductsPage(Output):
    items: list[ProductOut]
    next_cursor: str | None


class PriceHistoryOut(Output):
    id: int
    sku_id: int
    price: MoneyOut = Field(description="The merchant's selling price.")
    list_price: MoneyOut | None
    platform_subsidy: MoneyOut
    final_price: MoneyOut = Field(description="What the shopper paid then: selling price − platform subsidy.")
    effective_at: datetime
    changed_by: int | None
    reason: str


class PriceHistoryPage(Output):
    items: list[PriceHistoryOut]
    next_cursor: str | None


class StoreRef(Output):
    id: int
    name: str


class ProductCardOut(Output):
    product_id: int
    title: str
    cover_url: str | None
    category_id: int
    final_price: MoneyOut | None = Field(description="The one price the shopper pays.")
    list_price: MoneyOut | None = Field(description="The merchant's reference price, if any.")
    lowest_price_30d: MoneyOut | None = Field(description="Lowest price in effect over the last 30 days.")
    sku_count: int
    sales_count: int
    rating: float | None = Field(description="Mean stars, 1 decimal.")
    rating_count: int
    store: StoreRef
    guarantees: list[str] = Field(
        description="Any of seven_day_returns, return_shipping_cover, price_protection, pay_later."
    )


class CardsPage(Output):
    items: list[ProductCardOut]
    next_cursor: str | None


# Shapers shared by every router that shows product cards (catalog, search, content, traffic).


def card_out(card: cards.ProductCard) -> ProductCardOut:
    def money(m: Money | None) -> MoneyOut | None:
        return MoneyOut.of(m) if m is not None else None

    return ProductCardOut(
        product_id=card.product_id,
        title=card.title,
        cover_url=card.cover_url,
        category_id=card.category_id,
        final_price=money(card.final_price),
        list_price=money(card.list_price),
        lowest_price_30d=money(card.lowest_price_30d),
        sku_count=card.sku_count,
        sales_count=card.sales_count,
        rating=card.rating,
        rating_count=card.rating_count,
        store=StoreRef(id=card.store_id, name=card.store_name),
        guarantees=card.guarantees,
    )


def cards_for(
    session: Session, clock: Clock, products: list[Product], *, pay_later_room: int = 0
) -> list[ProductCardOut]:
    """`pay_later_room`: the caller's unused pay-later credit (guarantees.credit.room), for the badge."""
    return [card_out(c) for c in cards.build_cards(session, clock, products, pay_later_room=pay_later_room)]
