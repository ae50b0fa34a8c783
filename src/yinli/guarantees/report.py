"""What the shopper guarantees cost and who paid, for the ops console (platform-wide) and the merchant
console (one store). Every figure comes from the ledger (by journal kind and account) through each
guarantee's own `ops_totals` / `store_costs`; this module only puts them side by side."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from yinli.guarantees import credit, price_protection, return_cover


@dataclass(frozen=True)
class GuaranteeTotals:
    """One guarantee platform-wide: what reached shoppers and who funded it (fen)."""

    guarantee: str  # price_protection | return_shipping_cover
    payouts: int
    paid_fen: int
    merchant_funded_fen: int
    platform_funded_fen: int


@dataclass(frozen=True)
class PayLaterTotals:
    """Pay later platform-wide: the credit the platform advanced and where it stands (fen)."""

    advanced_fen: int  # orders paid with pay later (merchants are settled as for a card)
    billed_fen: int  # collected from shoppers
    cancelled_fen: int  # refunds of unbilled orders: receivable cancelled, no cash moved
    receivable_fen: int  # still owed by shoppers, carried by the platform
    overdue_fen: int  # of which bills past their dunning


@dataclass(frozen=True)
class OpsReport:
    payouts: list[GuaranteeTotals]
    pay_later: PayLaterTotals

    @property
    def paid_fen(self) -> int:
        return sum(g.paid_fen for g in self.payouts)

    @property
    def platform_funded_fen(self) -> int:
        return sum(g.platform_funded_fen for g in self.payouts)


def ops_report(session: Session) -> OpsReport:
    pp = price_protection.ops_totals(session)
    rc = return_cover.ops_totals(session)
    pl = credit.ops_totals(session)
    return OpsReport(
        payouts=[
            GuaranteeTotals(
                "price_protection",
                pp["payouts"],
                pp["paid_fen"],
                pp["merchant_funded_fen"],
                pp["platform_net_fen"],  # less what later refunds of protected units gave back
            ),
            GuaranteeTotals(
                "return_shipping_cover",
                rc["payouts"],
                rc["payouts_fen"],
                rc["funded_by_merchants_fen"],
                rc["funded_by_platform_fen"],
            ),
        ],
        pay_later=PayLaterTotals(
            pl["pay_later_advanced_fen"],
            pl["pay_later_billed_fen"],
            pl["pay_later_cancelled_fen"],
            pl["pay_later_receivable_fen"],
            pl["pay_later_overdue_fen"],
        ),
    )


@dataclass(frozen=True)
class StoreCost:
    """One guarantee for one store: what the store paid, what the platform paid for its shoppers."""

    guarantee: str  # price_protection | return_shipping_cover | pay_later
    cost_fen: int  # borne by the store
    platform_fen: int  # borne by the platform on the store's orders
    count: int  # payouts (price protection, cover) or pay-later orders
    note_fen: int  # price protection: given back by later refunds; cover: postage paid to its shoppers;
    # pay later: the store's sales paid with pay later


def store_report(session: Session, store_id: int) -> list[StoreCost]:
    pp = price_protection.store_costs(session, store_id)
    rc = return_cover.store_costs(session, store_id)
    pl = credit.store_costs(session, store_id)
    return [
        StoreCost(
            "price_protection",
            pp["price_protection_fen"] - pp["clawed_back_fen"],
            pp["platform_funded_fen"],
            pp["payouts"],
            pp["clawed_back_fen"],
        ),
        StoreCost("return_shipping_cover", rc["fees_fen"], rc["platform_funded_fen"], rc["payouts"], rc["payouts_fen"]),
        StoreCost("pay_later", pl["pay_later_cost_fen"], 0, 0, pl["pay_later_sales_fen"]),
    ]
