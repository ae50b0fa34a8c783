"""Paying, and the ledger (operators)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from yinli.api.deps import ActorDep, ClockDep, GatewayDep, ReadDB, SettingsDep, id_path
from yinli.core.auth import Role, require_role
from yinli.flows import charge
from yinli.payments import ledger, service
from yinli.payments.schemas import LedgerOut, PayIn, PaymentOut, payment_out

router = APIRouter(tags=["payments"])


@router.get("/payments/{payment_id}", response_model=PaymentOut, summary="A payment and its orders")
def get_payment(db: ReadDB, actor: ActorDep, payment_id: int = id_path()) -> PaymentOut:
    return payment_out(db, service.get_payment(db, actor, payment_id))


@router.post(
    "/payments/{payment_id}/pay",
    response_model=PaymentOut,
    summary="Pay (once): 402 if declined; a pending answer completes by the gateway's callback",
)
def pay(
    body: PayIn,
    request: Request,
    clock: ClockDep,
    settings: SettingsDep,
    gateway: GatewayDep,
    actor: ActorDep,
    payment_id: int = id_path(),
) -> PaymentOut:
    database = request.app.state.db
    charge.pay(database, clock, gateway, actor, payment_id, body.method, settings)
    with database.read_sessions() as session:
        return payment_out(session, service.get_payment(session, actor, payment_id))


@router.get("/ledger/balances", response_model=LedgerOut, summary="Every ledger account's balance (operators)")
def ledger_balances(db: ReadDB, actor: ActorDep) -> LedgerOut:
    require_role(actor, Role.OPERATOR)
    return LedgerOut(balances=ledger.balances(db), unbalanced_transactions=ledger.unbalanced_transactions(db))
