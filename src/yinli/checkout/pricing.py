"""Shipping: what a store charges per order, free from a threshold of goods. Unit prices come from
`catalog.pricing` (one final price for every surface)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ShippingPolicy:
    fee: int  # fen per order
    free_over: int | None  # items total (fen) from which shipping is free

    def fee_for(self, items_total: int) -> int:
        if self.free_over is not None and items_total >= self.free_over:
            return 0
        return self.fee
