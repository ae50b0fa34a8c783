"""/api/v1/guarantees: pay-later credit, price-protection claims, return-shipping cover."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import Field

from yinli.api.deps import DB, ActorDep, ClockDep, GatewayDep, IdempotencyDep, ReadDB, SettingsDep, id_path
from yinli.core.schemas import MoneyOut, Output
from yinli.guarantees import credit, price_protection, return_cover
from yinli.guarantees.models import PriceProtectionPayout
from yinli.guarantees.schemas import BillOut, CreditOut, bill_out, credit_out
from yinli.orders import aftersales
from yinli.payments.service import PaymentFailed

router = APIRouter(tags=["guarantees"])


# ---------------------------------------------------------------------------------------------------
# price protection (价保)
# ---------------------------------------------------------------------------------------------------


class RefusalOut(Output):
    code: str = Field(
        description="not_shopper · already_protected · not_covered · refunded · not_paid · "
        "after_sale_open · window_closed · no_drop"
    )
    message: str


class PriceProtectionPayoutOut(Output):
    id: int
    order_line_id: int
    order_id: int
    unit_paid: MoneyOut
    lowest: MoneyOut
    quantity: int
    amount: MoneyOut
    merchant_funded: MoneyOut
    platform_funded: MoneyOut
    via: str = Field(description="auto (at window close) | claim (by the shopper)")
    status: str = Field(description="paid | clawed_back (its units were refunded later)")
    paid_at: datetime
    clawed_back: MoneyOut


class PriceProtectionLineOut(Output):
    order_line_id: int
    covered: bool = Field(description="Bought with price protection (product and store opted in).")
    window_ends: datetime | None
    unit_paid: MoneyOut
    lowest_so_far: MoneyOut | None = Field(description="Lowest final price of the SKU in the window so far.")
    eligible: bool
    claimable: MoneyOut | None = Field(description="What a claim would pay now (null: see `refusal`).")
    refusal: RefusalOut | None
    payout: PriceProtectionPayoutOut | None


class PriceProtectionOut(Output):
    order_id: int
    lines: list[PriceProtectionLineOut]


def payout_out(p: PriceProtectionPayout) -> PriceProtectionPayoutOut:
    return PriceProtectionPayoutOut(
        id=p.id,
        order_line_id=p.order_line_id,
        order_id=p.order_id,
        unit_paid=MoneyOut.fen(p.unit_paid_fen),
        lowest=MoneyOut.fen(p.lowest_fen),
        quantity=p.quantity,
        amount=MoneyOut.fen(p.amount_fen),
        merchant_funded=MoneyOut.fen(p.merchant_fen),
        platform_funded=MoneyOut.fen(p.platform_fen),
        via=p.via,
        status=p.status,
        paid_at=p.paid_at,
        clawed_back=MoneyOut.fen(p.clawed_back_fen),
    )


def line_out(a: price_protection.ClaimAnswer) -> PriceProtectionLineOut:
    return PriceProtectionLineOut(
        order_line_id=a.order_line_id,
        covered=a.covered,
        window_ends=a.window_ends,
        unit_paid=MoneyOut.fen(a.unit_paid_fen),
        lowest_so_far=MoneyOut.fen(a.lowest_fen) if a.lowest_fen is not None else None,
        eligible=a.eligible,
        claimable=MoneyOut.fen(a.amount_fen) if a.eligible else None,
        refusal=RefusalOut(code=a.refusal.code, message=a.refusal.message) if a.refusal else None,
        payout=payout_out(a.payout) if a.payout is not None else None,
    )


@router.get(
    "/orders/{order_id}/price-protection",
    response_model=PriceProtectionOut,
    summary="Price protection of each line: covered, window, lowest price so far, claimable or why not",
)
def order_price_protection(
    db: ReadDB, clock: ClockDep, settings: SettingsDep, actor: ActorDep, order_id: int = id_path()
) -> PriceProtectionOut:
    answers = price_protection.order_view(db, clock, settings, actor, order_id)
    return PriceProtectionOut(order_id=order_id, lines=[line_out(a) for a in answers])


@router.post(
    "/order-lines/{line_id}/price-protection",
    status_code=201,
    response_model=PriceProtectionPayoutOut,
    summary="Claim price protection: the drop so far is refunded, once per line",
    responses={404: {"description": "No such line (or another shopper's)"}, 409: {"description": "Not eligible"}},
)
def claim_price_protection(
    db: DB,
    clock: ClockDep,
    settings: SettingsDep,
    gateway: GatewayDep,
    actor: ActorDep,
    idem: IdempotencyDep,
    line_id: int = id_path(),
) -> JSONResponse:
    def action() -> tuple[int, object]:
        payout = price_protection.do_claim(db, clock, settings, gateway, actor, line_id)
        return 201, payout_out(payout).model_dump(mode="json")

    return idem.respond(db, action)


# --- pay later ---------------------------------------------------------------------------------------------


@router.get("/me/credit", response_model=CreditOut, summary="My pay-later credit: limit, room, standing, bills")
def my_credit(db: ReadDB, settings: SettingsDep, actor: ActorDep) -> CreditOut:
    return credit_out(credit.credit_view(db, settings, actor))


@router.post(
    "/me/credit/bills/{bill_id}/pay",
    response_model=BillOut,
    summary="Pay a declined or overdue pay-later bill now (402 if declined; the attempt is kept)",
)
def pay_bill(
    db: DB, clock: ClockDep, settings: SettingsDep, gateway: GatewayDep, actor: ActorDep, bill_id: int = id_path()
) -> BillOut:
    bill = credit.do_pay_bill(db, clock, settings, gateway, actor, bill_id)
    db.commit()
    if bill.status != "paid":
        raise PaymentFailed(f"the bill was not paid: {bill.failure_reason}", code="payment_declined")
    return bill_out(bill)


# --- return-shipping cover (退货补运费) ----------------------------------------------------------------------


class ReturnCoverOut(Output):
    after_sale_id: int
    order_id: int
    covered: bool = Field(description="Whether the order carries return-shipping cover (and this is a return).")
    status: Literal["not_covered", "pending", "paid", "void"] = Field(
        description="pending: paid automatically once the return is received; void: the return was rejected "
        "or withdrawn."
    )
    amount: MoneyOut | None = Field(description="The postage paid (or to be paid) to the shopper.")
    funded_by: Literal["merchant", "platform"] | None
    paid_at: datetime | None


@router.get(
    "/after-sales/{after_sale_id}/return-cover",
    response_model=ReturnCoverOut,
    summary="Return-shipping cover on an after-sale: the postage, pending or paid (its shopper, store staff)",
)
def get_return_cover(db: ReadDB, actor: ActorDep, after_sale_id: int = id_path()) -> ReturnCoverOut:
    case = aftersales.get_after_sale(db, actor, after_sale_id)
    cover = return_cover.case_cover(db, case)
    if cover is None:
        return ReturnCoverOut(
            after_sale_id=case.id, order_id=case.order_id, covered=False, status="not_covered",
            amount=None, funded_by=None, paid_at=None,
        )  # fmt: skip
    return ReturnCoverOut(
        after_sale_id=case.id,
        order_id=case.order_id,
        covered=True,
        status=cover.status,
        amount=MoneyOut.fen(cover.amount_fen),
        funded_by=cover.funded_by,
        paid_at=cover.paid_at,
    )
