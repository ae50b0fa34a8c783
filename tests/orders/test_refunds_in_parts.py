"""Issue 21: money never stuck in escrow. Shipping comes back by one rule — with the refund that
covers the last unrefunded units — whether the order is refunded whole or in parts, before shipping or
after delivery; a partly refunded order completes and settles what is left."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import buy, money_back, pay, ship_and_deliver, stock
from yinli.jobs import run_once
from yinli.orders.models import Order, OrderLine
from yinli.payments import ledger
from yinli.payments.models import Refund

SHIPPING = 800


@pytest.fixture
def shop(world, client):
    """A store charging ¥8 shipping, a product with two SKUs at ¥99 and ¥104, and a shopper."""
    m = world.merchant()
    r = client.patch(
        f"/api/v1/stores/{m.store_id}", json={"shipping_fee_fen": SHIPPING, "free_shipping_over_fen": None},
        headers=m.headers,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    skus = [s["id"] for s in world.product(m, price_fen=9900)["skus"]]
    for sku in skus:
        stock(world, m, sku, 20)
    return m, skus, world.shopper()


def paid_order(world, shopper, skus, quantities=(2, 1)):
    payment = pay(
        world,
        shopper,
        buy(world, shopper, [{"sku_id": k, "quantity": q} for k, q in zip(skus, quantities, strict=True)])["id"],
    )
    order_id = payment["order_ids"][0]
    with world.database.session() as s:
        lines = [
            line.id
            for line in s.scalars(select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.id))
        ]
    return order_id, lines


def money_of(world, order_id):
    with world.database.session() as s:
        order = s.get(Order, order_id)
        refunds = sorted(r.amount_fen for r in s.scalars(select(Refund).where(Refund.order_id == order_id)))
        assert ledger.unbalanced_transactions(s) == [] and sum(ledger.balances(s).values()) == 0
        assert ledger.final_orders_holding_escrow(s) == {}
        return order.status, order.total_fen, order.refunded_fen, refunds, ledger.order_escrow(s, order_id)


def test_refund_only_in_parts_returns_shipping_like_the_whole_refund(world, shop):
    m, skus, s = shop
    whole, _ = paid_order(world, s, skus)
    money_back(world, s, m, whole, "refund_only", None)
    parts, (a, b) = paid_order(world, s, skus)
    money_back(world, s, m, parts, "refund_only", [(a, 1)])
    money_back(world, s, m, parts, "refund_only", [(a, 1)])
    money_back(world, s, m, parts, "refund_only", [(b, 1)])  # the last part carries the shipping
    total = 9900 * 2 + 10400 + SHIPPING
    assert money_of(world, whole) == ("refunded", total, total, [total], 0)
    assert money_of(world, parts) == ("refunded", total, total, [9900, 9900, 10400 + SHIPPING], 0)


def test_returns_in_parts_after_delivery_return_shipping_with_the_last(world, shop):
    m, skus, s = shop
    order_id, (a, b) = paid_order(world, s, skus)
    money_back(world, s, m, order_id, "refund_only", [(b, 1)])  # before shipping: keeps the shipping fee
    ship_and_deliver(world, s, m, order_id)
    money_back(world, s, m, order_id, "return_refund", [(a, 2)])
    total = 9900 * 2 + 10400 + SHIPPING
    assert money_of(world, order_id) == ("refunded", total, total, [10400, 9900 * 2 + SHIPPING], 0)


def test_a_partly_refunded_order_completes_and_settles_the_rest(world, shop, database, clock, settings, app):
    m, skus, s = shop
    order_id, (a, b) = paid_order(world, s, skus)
    money_back(world, s, m, order_id, "refund_only", [(a, 1)])
    ship_and_deliver(world, s, m, order_id)
    money_back(world, s, m, order_id, "return_refund", [(b, 1)])
    clock.advance(timedelta(days=settings.return_window_days + 1))
    run_once(database, clock, settings, app.state.gateway)
    total = 9900 * 2 + 10400 + SHIPPING
    assert money_of(world, order_id) == ("completed", total, 9900 + 10400, [9900, 10400], 0)
    kept = 9900
    fee = kept * settings.default_fee_rate_bps // 10000
    with database.session() as session:
        assert session.get(Order, order_id).fee_fen == fee
        # the merchant is paid the kept goods and the shipping fee, less the fee on the goods only
        assert ledger.balance(session, ledger.merchant_payable(m.store_id)) == -(kept + SHIPPING - fee)


def test_refunded_orders_left_from_before_the_rule_get_their_shipping_back(world, shop, database, clock, settings, app):
    """The 21 orders found: refunded in parts, every line refunded, shipping left in escrow. The jobs
    give the shopper the rest of what was paid."""
    from yinli.orders import service as orders
    from yinli.orders.models import OrderStatus
    from yinli.payments import service as payments

    _, skus, s = shop
    order_id, _ = paid_order(world, s, skus)
    with database.session() as session:  # what the old rule left: lines refunded, shipping not
        order = session.get(Order, order_id)
        payments.do_refund(session, clock, app.state.gateway, order, order.items_total_fen, "after_sale")
        for line in session.scalars(select(OrderLine).where(OrderLine.order_id == order_id)):
            line.refunded_quantity, line.refunded_fen = line.quantity, line.line_total_fen
        orders.move(session, order, OrderStatus.REFUNDED)
    with database.session() as session:
        assert ledger.final_orders_holding_escrow(session) == {order_id: -SHIPPING}
    report = run_once(database, clock, settings, app.state.gateway)
    assert report.escrow_returned == 1
    total = 9900 * 2 + 10400 + SHIPPING
    assert money_of(world, order_id) == ("refunded", total, total, sorted([total - SHIPPING, SHIPPING]), 0)
    assert run_once(database, clock, settings, app.state.gateway).escrow_returned == 0  # idempotent
    assert app.state.gateway.captured_fen - app.state.gateway.refunded_fen == 0
