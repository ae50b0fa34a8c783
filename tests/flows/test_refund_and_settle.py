"""flows.refund and flows.settle: an after-sale refund pays the money back (order, refund row, ledger)
with the after-sale's state in one transaction; completion settles the merchant and keeps the fee on
the order. The ledger sums to zero after each."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.factories import buy, pay, ship_and_deliver, stock
from yinli.core.auth import Actor, Role
from yinli.core.outbox import OutboxEvent
from yinli.flows import refund, settle
from yinli.orders.models import AfterSaleKind, AfterSaleStatus, Order, OrderStatus
from yinli.payments import ledger
from yinli.payments.models import Refund


def _paid_order(world, units: int = 2):  # type: ignore[no-untyped-def]
    m = world.merchant()
    product = world.product(m, price_fen=3900)
    sku = product["skus"][0]["id"]
    stock(world, m, sku, 5)
    s = world.shopper()
    payment = buy(world, s, [{"sku_id": sku, "quantity": units}])
    pay(world, s, payment["id"])
    with world.database.session() as session:
        order_id = session.scalars(select(Order.id).where(Order.payment_id == payment["id"])).one()
    return m, s, order_id


def _balanced(session) -> None:  # type: ignore[no-untyped-def]
    assert ledger.unbalanced_transactions(session) == []
    assert sum(ledger.balances(session).values()) == 0


def test_refund_only_approved_pays_everything_back(world, database, clock, settings, app):
    m, s, order_id = _paid_order(world)
    shopper, merchant = Actor(s.id, Role.SHOPPER), Actor(m.id, Role.MERCHANT, m.store_id)
    with database.session() as session:
        case = refund.request_after_sale(
            session, clock, settings, app.state.gateway, shopper, order_id,
            kind=AfterSaleKind.REFUND_ONLY, reason="不想要了", lines=None,
        )  # fmt: skip
        if case.status == AfterSaleStatus.REQUESTED:
            case = refund.decide_after_sale(
                session, clock, app.state.gateway, merchant, case.id, approve=True, note=None
            )
        case_id = case.id
        session.commit()
    with database.session() as session:
        order = session.get(Order, order_id)
        assert order is not None
        assert order.status == OrderStatus.REFUNDED and order.refunded_fen == order.total_fen
        refunds = list(session.scalars(select(Refund).where(Refund.order_id == order_id)))
        assert [(r.after_sale_id, r.amount_fen, r.reason) for r in refunds] == [
            (case_id, order.total_fen, "after_sale")
        ]
        assert ledger.order_escrow(session, order_id) == 0  # shopper's money and the subsidy both left escrow
        issued = select(func.count()).where(OutboxEvent.type == "RefundIssued", OutboxEvent.aggregate_id == order_id)
        assert session.scalar(issued) == 1
        _balanced(session)


def test_over_refund_moves_no_money_and_changes_nothing(world, database, clock, settings, app):
    _, s, order_id = _paid_order(world)
    shopper = Actor(s.id, Role.SHOPPER)
    with database.session() as session:
        order = session.get(Order, order_id)
        assert order is not None
        # an earlier refund (e.g. goodwill) already took everything: the after-sale's money is refused
        order.refunded_fen = order.total_fen
        session.commit()
    with database.session() as session:
        try:
            case = refund.request_after_sale(
                session, clock, settings.model_copy(update={"auto_refund_max_fen": 10**9}), app.state.gateway,
                shopper, order_id, kind=AfterSaleKind.REFUND_ONLY, reason="不想要了", lines=None,
            )  # fmt: skip
        except Exception as exc:
            assert getattr(exc, "code", None) == "over_refund", exc
            session.rollback()
        else:
            raise AssertionError(f"refunded {case.amount_fen} past what was paid")
    with database.session() as session:
        order = session.get(Order, order_id)
        assert order is not None and order.status == OrderStatus.PAID
        assert session.scalar(select(func.count()).select_from(Refund)) == 0
        _balanced(session)


def test_settle_completes_and_settles_the_merchant(world, database, clock, settings, app):
    m, s, order_id = _paid_order(world)
    ship_and_deliver(world, s, m, order_id)
    with database.session() as session:
        report = settle.run_order_jobs(session, clock, settings)
        assert report.completed == 0  # still inside the after-sale window
        session.commit()
    clock.advance(timedelta(days=settings.return_window_days, minutes=1))
    with database.session() as session:
        report = settle.run_order_jobs(session, clock, settings)
        assert report.completed == 1
        session.commit()
    with database.session() as session:
        order = session.get(Order, order_id)
        assert order is not None and order.status == OrderStatus.COMPLETED and order.completed_at is not None
        assert order.fee_fen > 0
        assert ledger.order_escrow(session, order_id) == 0
        assert -ledger.balance(session, ledger.FEE_REVENUE) == order.fee_fen
        paid_to_merchant = -ledger.balance(session, ledger.merchant_payable(order.store_id))
        assert paid_to_merchant == order.total_fen + order.platform_subsidy_fen - order.fee_fen
        done = select(func.count()).where(OutboxEvent.type == "OrderCompleted", OutboxEvent.aggregate_id == order_id)
        assert session.scalar(done) == 1
        _balanced(session)
    with database.session() as session:  # a second run finds nothing left to do
        assert settle.run_order_jobs(session, clock, settings).completed == 0
