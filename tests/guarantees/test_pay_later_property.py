"""Property: whatever sequence of pay-later orders, refunds (before and after billing) and bills (paid or
declined) a shopper goes through, the ledger and the bills agree — pay-later totals = receivable still
open + billed + cancelled by refunds; the receivable is exactly the unpaid bills; an unpaid bill is its
order's total less refunds; cash moves at the gateway only for paid bills and refunds after them; the
journal sums to zero. Examples share the test's database, so the checks are over all of it."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.factories import buy, money_back, stock
from yinli.guarantees.models import UNPAID_BILL, BillStatus, PayLaterBill
from yinli.orders.models import Order, OrderLine
from yinli.payments import ledger
from yinli.payments import pay_later as money

STEP = st.one_of(
    st.tuples(st.just("order"), st.integers(1, 3)),
    st.tuples(st.just("refund"), st.integers(0, 3), st.integers(1, 2)),
    st.tuples(st.just("deliver"), st.integers(0, 3), st.booleans()),  # booleans: the bill is declined
)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(price=st.sampled_from([1200, 9900]), steps=st.lists(STEP, min_size=1, max_size=7))
def test_receivable_plus_billed_plus_cancelled_is_what_was_sold_on_pay_later(world, database, app, price, steps):
    c, gateway = world.client, app.state.gateway
    m = world.merchant()
    sku = world.product(m, price_fen=price)["skus"][0]["id"]
    stock(world, m, sku, 50)
    s = world.shopper()
    orders: list[int] = []
    for step in steps:
        if step[0] == "order":
            payment = buy(world, s, [{"sku_id": sku, "quantity": step[1]}])
            r = c.post(f"/api/v1/payments/{payment['id']}/pay", json={"method": "pay_later"}, headers=s.headers)
            assert r.status_code in (200, 409), r.text
            if r.status_code == 200:
                orders.append(payment["order_ids"][0])
            else:
                assert r.json()["code"] == "pay_later_over_limit"
            continue
        if not orders:
            continue
        order_id = orders[step[1] % len(orders)]
        with database.session() as session:
            order = session.get(Order, order_id)
            line = session.scalars(select(OrderLine).where(OrderLine.order_id == order_id)).one()
            status, left = order.status, line.quantity - line.refunded_quantity
        if step[0] == "refund" and left and status in ("paid", "delivered"):
            kind = "refund_only" if status == "paid" else "return_refund"
            money_back(world, s, m, order_id, kind, [(line.id, min(step[2], left))])
        elif step[0] == "deliver" and status == "paid":
            r = c.post(
                f"/api/v1/orders/{order_id}/ship",
                json={"carrier": "顺丰", "tracking_no": f"SF{order_id:08d}"},
                headers=m.headers,
            )
            assert r.status_code == 200, r.text
            if step[2]:
                gateway.fail_next()
            r = c.post(f"/api/v1/orders/{order_id}/confirm-delivery", headers=s.headers)
            assert r.status_code == 200, r.text

    with database.session() as session:
        assert ledger.unbalanced_transactions(session) == []
        assert sum(ledger.balances(session).values()) == 0
        kinds = money.totals_by_kind(session)
        receivable = ledger.balance(session, ledger.PAY_LATER_RECEIVABLE)
        sold = session.scalar(
            select(func.coalesce(func.sum(Order.total_fen), 0)).join(PayLaterBill, PayLaterBill.order_id == Order.id)
        )
        assert kinds[money.KIND_CAPTURE] == sold
        assert receivable + kinds[money.KIND_BILL] + kinds[money.KIND_CANCEL] == sold
        unpaid = [b for b in session.scalars(select(PayLaterBill)) if b.status in UNPAID_BILL]
        assert receivable == sum(b.amount_fen for b in unpaid)
        paid = session.scalar(
            select(func.coalesce(func.sum(PayLaterBill.amount_fen), 0)).where(PayLaterBill.status == BillStatus.PAID)
        )
        assert kinds[money.KIND_BILL] == paid == gateway.captured_fen  # only bills ever reach the gateway
        for bill in unpaid:
            order = session.get(Order, bill.order_id)
            assert bill.amount_fen == order.total_fen - order.refunded_fen == money.receivable_of(session, order.id)
        cash = ledger.balance(session, ledger.GATEWAY_CASH)
        assert cash == gateway.captured_fen - gateway.refunded_fen
