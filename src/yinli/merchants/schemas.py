from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import EmailStr, Field

from yinli.core.schemas import Amount, IdInt, Input, Line, MoneyOut, Output, Paragraphs, Url


class StoreApplyIn(Input):
    name: Annotated[str, Line(60)]
    description: Annotated[str, Paragraphs(2000)] = ""
    logo_url: Url | None = None
    contact_email: EmailStr | None = Field(None, max_length=254)
    main_category_id: IdInt | None = None


class StoreUpdateIn(Input):
    name: Annotated[str, Line(60)] = None  # type: ignore[assignment]
    description: Annotated[str, Paragraphs(2000)] = None  # type: ignore[assignment]
    logo_url: Url | None = None
    contact_email: EmailStr | None = Field(None, max_length=254)
    main_category_id: IdInt | None = None
    shipping_fee_fen: Amount = Field(None, description="Shipping charged per order, in fen.")  # type: ignore[assignment]
    free_shipping_over_fen: Amount | None = Field(None, description="Goods total (fen) from which shipping is free.")
    # store-wide opt-ins: a product offers one of these guarantees only if its store does too
    pay_later: bool = None  # type: ignore[assignment]
    price_protection: bool = None  # type: ignore[assignment]
    return_shipping_cover: bool = None  # type: ignore[assignment]


class StoreReviewIn(Input):
    decision: Literal["approve", "reject"]
    note: Annotated[str, Line(500)] | None = None


class StoreReasonIn(Input):
    reason: Annotated[str, Line(500)] | None = None


class StoreSuspendIn(Input):
    reason: Annotated[str, Line(500)]


class StoreOut(Output):
    id: int
    name: str
    description: str
    logo_url: str | None
    main_category_id: int | None
    status: str
    opened_at: datetime | None
    first_listed_at: datetime | None
    is_new_merchant: bool
    new_merchant_until: datetime | None = Field(description="Null until the first listing starts the window.")
    shipping_fee: MoneyOut
    free_shipping_over: MoneyOut | None
    pay_later: bool = Field(description="The store offers pay later (先用后付) on products that do.")
    price_protection: bool = Field(description="The store offers price protection (价保) on products that do.")
    return_shipping_cover: bool = Field(description="The store offers return-shipping cover on products that do.")
    # only for the store's own staff and operators (null for everyone else)
    owner_user_id: int | None = None
    contact_email: str | None = None
    deposit_required: MoneyOut | None = None
    applied_at: datetime | None = None
    review_note: str | None = None
    status_reason: str | None = None


class StoresPage(Output):
    items: list[StoreOut]
    next_cursor: str | None


class PolicyOut(Output):
    zero_deposit_opening: bool = Field(description="0-yuan opening: new stores pay no deposit.")
    store_deposit: MoneyOut = Field(description="Deposit asked when 0-yuan opening is off.")
    new_merchant_days: int = Field(description="Days after its first listing that a store is a new merchant.")


class PolicyIn(Input):
    zero_deposit_opening: bool = None  # type: ignore[assignment]
    store_deposit_fen: Amount = None  # type: ignore[assignment]
    new_merchant_days: int = Field(None, ge=1, le=365)  # type: ignore[assignment]
