"""The final price, computed in exactly one place (DESIGN: "one simple final price").

The number on the product card, in the cart and at checkout is the number the shopper pays. Each line
carries its breakdown — list price, merchant discount, platform subsidy — so the shopper can see *why*
without doing coupon arithmetic, and so the ledger can book who pays for what:

    final unit price = list price − merchant discount − platform subsidy

Today the merchant discount is the gap between the SKU's reference (list) price and its selling price,
and the platform subsidy is 0; promotions (campaigns, subsidies) plug in here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

from yinli.catalog.models import Sku
from yinli.core.money import Money


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


def unit_price(sku: Sku) -> UnitPrice:
    list_price = sku.list_price_fen if sku.list_price_fen is not None else sku.price_fen
    return UnitPrice(
        list_price=list_price,
        merchant_discount=list_price - sku.price_fen,
        platform_subsidy=0,
        currency=sku.currency,
    )


@dataclass(frozen=True)
class ShippingPolicy:
    fee: int  # fen per order
    free_over: int | None  # items total (fen) from which shipping is free

    def fee_for(self, items_total: int) -> int:
        if self.free_over is not None and items_total >= self.free_over:
            return 0
        return self.fee
