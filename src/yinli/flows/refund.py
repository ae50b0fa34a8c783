"""Refund an after-sale: `orders.aftersales` decides it (the case and its lines refunded, the units
restocked) and hands back a `RefundDue`; here, in the same transaction, the money goes back to the
shopper (`payments.do_refund`: never more than was paid, the gateway called last so its refusal rolls
everything back) and the commission on fully refunded lines is reversed (`content.affiliate`).

The three after-sale actions that can refund (a request approved at once, a merchant approving a
refund only, a merchant receiving a return) are wrapped here with the signatures they had in
`orders.aftersales`; the ones that move no money (shipping a return, withdrawing) stay there."""

from __future__ import annotations

from sqlalchemy.orm import Session

from yinli.content import affiliate
from yinli.core.auth import Actor
from yinli.core.clock import Clock
from yinli.core.settings import Settings
from yinli.guarantees import credit, price_protection, return_cover
from yinli.orders import aftersales
from yinli.orders.aftersales import RefundDue
from yinli.orders.models import AfterSale, AfterSaleKind
from yinli.payments import service as payments
from yinli.payments.gateway import PaymentGateway


def refund_after_sale(session: Session, clock: Clock, gateway: PaymentGateway, due: RefundDue) -> None:
    """Pay a refunded after-sale's money back and reverse the commission on its fully refunded lines."""
    refunded = payments.do_refund(
        session, clock, gateway, due.order, due.amount, "after_sale", due.after_sale_id, due.subsidy
    )
    credit.on_refunded(session, clock, due.order.id)  # a pay-later bill not yet paid is lowered
    affiliate.on_lines_refunded(session, clock, due.order_line_ids)
    # price protection (价保): the refund was already reduced by a payout on these lines; record the
    # clawback and return the platform's part of it from escrow to the platform
    price_protection.on_refund(session, clock, refunded, due.order_line_ids)


def request_after_sale(
    session: Session,
    clock: Clock,
    settings: Settings,
    gateway: PaymentGateway,
    actor: Actor | None,
    order_id: int,
    *,
    kind: AfterSaleKind,
    reason: str,
    lines: list[tuple[int, int]] | None,
) -> AfterSale:
    """`aftersales.do_request`, and the refund if it was approved at once."""
    case, due = aftersales.do_request(session, clock, settings, actor, order_id, kind=kind, reason=reason, lines=lines)
    if due is not None:
        refund_after_sale(session, clock, gateway, due)
    return case


def decide_after_sale(
    session: Session,
    clock: Clock,
    gateway: PaymentGateway,
    actor: Actor | None,
    after_sale_id: int,
    *,
    approve: bool,
    note: str | None,
) -> AfterSale:
    """`aftersales.do_decide`, and the refund if approving a refund only refunded."""
    case, due = aftersales.do_decide(session, clock, actor, after_sale_id, approve=approve, note=note)
    if due is not None:
        refund_after_sale(session, clock, gateway, due)
    return case


def receive_return(
    session: Session, clock: Clock, gateway: PaymentGateway, actor: Actor | None, after_sale_id: int
) -> AfterSale:
    """`aftersales.do_receive_return`, its refund, and — for a covered order — the return's postage
    (`return_cover.pay_out_inline`: in a savepoint, a failure left to the catch-up job)."""
    case, due = aftersales.do_receive_return(session, clock, actor, after_sale_id)
    refund_after_sale(session, clock, gateway, due)
    return_cover.pay_out_inline(session, clock, gateway, case.id)
    return case
