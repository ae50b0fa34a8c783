"""The final price, computed in exactly one place (DESIGN: "one simple final price").

The number on the product card, in search, the feed, a live room, a video, the cart and at checkout is
the number the shopper pays, and all of them get it from `unit_prices`. Each price carries its
breakdown — list price, merchant discount, platform subsidy — so the shopper can see *why* without
doing coupon arithmetic, and so the ledger can book who pays for what:

    final unit price = list price − merchant discount − platform subsidy

The merchant discount is the gap between the SKU's reference (list) price and its selling price. The
platform subsidy comes from `platform_subsidies`, the one place promotions (campaigns, platform
subsidies) plug in; no promotion exists yet, so every subsidy is 0 and final = selling price. Price
history (`catalog.price_history`) records the final price and the subsidy in it, so a drop from any
cause is seen by price protection and "lowest in 30 days".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from yinli.core.money import Money


class PricedSku(Protocol):
    """What pricing reads of a SKU: a `catalog.models.Sku`, or a row selecting these columns (the feed
    snapshot prices every active SKU without loading them as objects)."""

    @property
    def id(self) -> int: ...
    @property
    def price_fen(self) -> int: ...
    @property
    def list_price_fen(self) -> int | None: ...
    @property
    def currency(self) -> str: ...


@dataclass(frozen=True)
class UnitPrice:
    list_price: int
    merchant_discount: int
    platform_subsidy: int
    currency: str

    @property
    def final(self) -> int:
        return self.list_price - self.merchant_discount - self.platform_subsidy

    def money(self) -> Money:
        return Money(self.final, self.currency)


def platform_subsidies(session: Session, at: datetime, skus: Iterable[PricedSku]) -> dict[int, int]:
    """Per SKU id, the platform's subsidy per unit at `at` (absent: none). Promotions plug in here.

    No promotion mechanism exists yet, so nothing is subsidised; `session` and `at` are the inputs a
    campaign lookup needs, kept in the signature so no caller changes when one arrives."""
    del session, at, skus
    return {}


def unit_price(sku: PricedSku, subsidy: int) -> UnitPrice:
    """One SKU's price given its subsidy (from `platform_subsidies`); never below one fen."""
    list_price = sku.list_price_fen if sku.list_price_fen is not None else sku.price_fen
    return UnitPrice(
        list_price=list_price,
        merchant_discount=list_price - sku.price_fen,
        platform_subsidy=max(0, min(subsidy, sku.price_fen - 1)),
        currency=sku.currency,
    )


def unit_prices(session: Session, at: datetime, skus: Iterable[PricedSku]) -> dict[int, UnitPrice]:
    """The price of each SKU at `at`, by SKU id: the one function every surface calls."""
    skus = list(skus)
    subsidy = platform_subsidies(session, at, skus)
    return {s.id: unit_price(s, subsidy.get(s.id, 0)) for s in skus}
