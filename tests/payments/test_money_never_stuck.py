"""Property (issue 21): whatever partial refunds an order goes through — refund-only parts before
shipping, returns after delivery, any split of its lines — once the jobs have delivered and completed
it, nothing of it is left in escrow, refunds + settlement add up to what was paid, and the journal sums
to zero. Each example builds its own store, product, shopper and order in the test's database: the
check is per order, so examples need no reset."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.factories import buy, money_back, pay, ship_and_deliver, stock
from yinli.jobs import run_once
from yinli.orders.models import Order, OrderLine
from yinli.payments import ledger
from yinli.payments.models import JournalEntry, JournalTransaction, LedgerAccount, Refund

PART = st.lists(st.tuples(st.integers(0, 1), st.integers(1, 3)), min_size=1, max_size=2, unique_by=lambda x: x[0])


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    quantities=st.tuples(st.integers(1, 3), st.integers(0, 3)),
    price=st.sampled_from([1200, 9900]),  # under and over the auto-approval limit
    shipping=st.sampled_from([0, 800]),
    before=st.lists(PART, max_size=2),  # refund-only parts, before shipping
    after=st.lists(PART, max_size=2),  # returns, after delivery
)
def test_partial_refunds_then_completion_leave_nothing_in_escrow(
    world, database, clock, settings, app, quantities, price, shipping, before, after
):
    world._operator = None  # days passed in earlier examples: every actor signs in afresh
    m = world.merchant()
    r = world.client.patch(
        f"/api/v1/stores/{m.store_id}", json={"shipping_fee_fen": shipping, "free_shipping_over_fen": None},
        headers=m.headers,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    skus = [sku["id"] for sku in world.product(m, price_fen=price)["skus"]]
    for sku in skus:
        stock(world, m, sku, 10)
    s = world.shopper()
    items = [{"sku_id": sku, "quantity": q} for sku, q in zip(skus, quantities, strict=True) if q]
    order_id = pay(world, s, buy(world, s, items)["id"])["order_ids"][0]
    with database.session() as session:
        lines = list(session.scalars(select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.id)))
        left = {line.id: line.quantity for line in lines}
        ids = [line.id for line in lines]

    def refund(kind: str, part: list[tuple[int, int]]) -> None:
        chosen = [(ids[i % len(ids)], q) for i, q in part]
        wanted = [(line_id, min(q, left[line_id])) for line_id, q in dict(chosen).items() if left[line_id]]
        if not wanted:
            return
        money_back(world, s, m, order_id, kind, wanted)
        for line_id, q in wanted:
            left[line_id] -= q

    for part in before:
        refund("refund_only", part)
    if any(left.values()):
        ship_and_deliver(world, s, m, order_id)
        for part in after:
            refund("return_refund", part)
    clock.advance(timedelta(days=settings.auto_deliver_days + settings.return_window_days + 1))
    run_once(database, clock, settings, app.state.gateway)

    with database.session() as session:
        order = session.get(Order, order_id)
        assert order.status == ("refunded" if not any(left.values()) else "completed")
        assert ledger.order_escrow(session, order_id) == 0
        assert order_id not in ledger.final_orders_holding_escrow(session)
        refunded = sum(session.scalars(select(Refund.amount_fen).where(Refund.order_id == order_id)))
        settled = session.scalar(
            select(JournalEntry.amount_fen)
            .join(JournalTransaction, JournalTransaction.id == JournalEntry.transaction_id)
            .join(LedgerAccount, LedgerAccount.id == JournalEntry.account_id)
            .where(
                JournalTransaction.kind == "settlement",
                JournalTransaction.ref == f"order:{order_id}",
                LedgerAccount.code == ledger.ESCROW,
            )
        )
        paid = order.total_fen + order.platform_subsidy_fen
        assert refunded == order.refunded_fen
        assert refunded + (settled or 0) == paid
        if order.status == "refunded":
            assert refunded == order.total_fen and settled is None  # shipping came back with the last part
        else:
            kept = sum(line.line_total_fen - line.refunded_fen for line in lines_of(session, order_id))
            assert refunded == order.items_total_fen - kept  # a partly refunded order keeps its shipping
            assert settled == kept + order.shipping_fee_fen
            assert ledger.balance(session, ledger.merchant_payable(m.store_id)) == -(settled - order.fee_fen)
        assert ledger.unbalanced_transactions(session) == []
        assert sum(ledger.balances(session).values()) == 0


def lines_of(session, order_id):
    return session.scalars(select(OrderLine).where(OrderLine.order_id == order_id))
