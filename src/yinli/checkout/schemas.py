from __future__ import annotations

from typing import Annotated

from pydantic import Field

from yinli.core.schemas import Choice, IdInt, Input, Line, MoneyOut, Output
from yinli.orders.models import Surface

Quantity = Annotated[int, Field(ge=1, le=999)]


class Attribution(Input):
    surface: Choice[Surface] = Field(Surface.PRODUCT_PAGE, description="Where the shopper found it.")
    source_id: IdInt | None = Field(None, description="The live session, video, ... that sold it.")
    creator_id: IdInt | None = Field(None, description="The creator who sold it, if any.")


class CartItemIn(Attribution):
    sku_id: IdInt
    quantity: Quantity = 1


class CartQuantityIn(Input):
    quantity: Quantity


class PriceBreakdown(Output):
    list_price: MoneyOut
    merchant_discount: MoneyOut
    platform_subsidy: MoneyOut
    final_price: MoneyOut = Field(description="What one unit costs: list − merchant discount − platform subsidy.")


class CartLineOut(Output):
    item_id: int
    sku_id: int
    product_id: int
    title: str
    attributes: dict[str, str]
    quantity: int
    unit: PriceBreakdown
    line_total: MoneyOut
    on_sale: bool
    available: int
    surface: str


class CartStoreOut(Output):
    store_id: int
    store_name: str
    lines: list[CartLineOut]
    items_total: MoneyOut
    shipping_fee: MoneyOut
    total: MoneyOut


class CartOut(Output):
    stores: list[CartStoreOut]
    total: MoneyOut


class Address(Input):
    name: Annotated[str, Line(40)]
    phone: Annotated[str, Field(pattern=r"^\+?[0-9 \-]{5,20}$")] = Field(
        description="A mainland China mobile number (11 digits starting 13-19) or E.164 (+ and 8-15 digits)."
    )
    region: Annotated[str, Line(80)] = Field(description="Province / city / district.")
    line: Annotated[str, Line(200)]


class CheckoutLineIn(Attribution):
    sku_id: IdInt
    quantity: Quantity


class CheckoutIn(Input):
    items: list[CheckoutLineIn] | None = Field(
        None, max_length=50, description="Buy these now; leave out to buy from the cart."
    )
    cart_item_ids: list[IdInt] | None = Field(
        None,
        max_length=50,
        description="Without `items`: buy only these cart lines (the others stay in the cart); "
        "leave out to buy the whole cart.",
    )
    address: Address | None = Field(
        None, description="Where to ship; leave out (and `address_id`) to ship to the address book's default."
    )
    address_id: IdInt | None = Field(None, description="Ship to this saved address (GET /me/addresses).")
    note: Annotated[str, Line(200, min_length=0)] = ""
