"""flows.charge_applied: a captured charge pays the orders, books the ledger and fans out once — also
when the same answer arrives again (a gateway callback after the synchronous answer, reconciliation)."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.factories import buy, stock
from yinli.catalog.models import Product
from yinli.core.auth import Actor, Role
from yinli.core.outbox import OutboxEvent
from yinli.flows import charge
from yinli.orders.models import Order, OrderStatus
from yinli.payments import ledger
from yinli.payments import service as payments
from yinli.payments.gateway import GatewayResult
from yinli.payments.models import Payment, PaymentStatus


def _claimed(world, database, clock, app, units: int = 2) -> tuple[int, int, int]:
    m = world.merchant()
    product = world.product(m, price_fen=3900)
    sku = product["skus"][0]["id"]
    stock(world, m, sku, 5)
    s = world.shopper()
    payment_id = buy(world, s, [{"sku_id": sku, "quantity": units}])["id"]
    with database.session() as session:
        payments.do_claim_payment(session, clock, app.state.gateway, Actor(s.id, Role.SHOPPER), payment_id, "card")
    return payment_id, product["id"], units


def _paid_events(session, order_id: int) -> int:
    query = select(func.count()).where(OutboxEvent.type == "OrderPaid", OutboxEvent.aggregate_id == order_id)
    return session.scalar(query) or 0


def test_charge_applied_pays_books_and_fans_out_once(world, database, clock, app):
    payment_id, product_id, units = _claimed(world, database, clock, app)
    result = GatewayResult("succeeded", "ref-1", "")
    for _ in range(3):  # the answer, then the callback, then reconciliation with the same answer
        with database.session() as session:
            payment = charge.charge_applied(session, clock, app.state.gateway, payment_id, result)
            assert payment.status == PaymentStatus.SUCCEEDED
            session.commit()
    with database.session() as session:
        order = session.scalars(select(Order).where(Order.payment_id == payment_id)).one()
        assert order.status == OrderStatus.PAID and order.paid_at is not None
        assert _paid_events(session, order.id) == 1
        product = session.get(Product, product_id)
        assert product is not None and product.sales_count == units
        assert -ledger.order_escrow(session, order.id) == order.total_fen + order.platform_subsidy_fen
        assert ledger.unbalanced_transactions(session) == []
        assert sum(ledger.balances(session).values()) == 0


def test_declined_charge_cancels_and_fans_out_nothing(world, database, clock, app):
    payment_id, product_id, _ = _claimed(world, database, clock, app)
    for _ in range(2):
        with database.session() as session:
            charge.charge_applied(session, clock, app.state.gateway, payment_id, GatewayResult("failed", "", "no"))
            session.commit()
    with database.session() as session:
        payment = session.get(Payment, payment_id)
        assert payment is not None and payment.status == PaymentStatus.FAILED
        order = session.scalars(select(Order).where(Order.payment_id == payment_id)).one()
        assert order.status == OrderStatus.CANCELLED
        assert _paid_events(session, order.id) == 0
        product = session.get(Product, product_id)
        assert product is not None and product.sales_count == 0
        assert ledger.order_escrow(session, order.id) == 0
