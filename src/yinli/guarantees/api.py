"""/api/v1/guarantees: pay-later credit, price-protection claims, return-shipping cover."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import Field

from yinli.api.deps import ActorDep, ReadDB, id_path
from yinli.core.schemas import MoneyOut, Output
from yinli.guarantees import return_cover
from yinli.orders import aftersales

router = APIRouter(tags=["guarantees"])


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
