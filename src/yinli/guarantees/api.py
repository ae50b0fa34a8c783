"""/api/v1/guarantees: pay-later credit, price-protection claims, return-shipping cover."""

from __future__ import annotations

from fastapi import APIRouter

from yinli.api.deps import DB, ActorDep, ClockDep, GatewayDep, ReadDB, SettingsDep, id_path
from yinli.guarantees import credit
from yinli.guarantees.schemas import BillOut, CreditOut, bill_out, credit_out
from yinli.payments.service import PaymentFailed

router = APIRouter(tags=["guarantees"])


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
