"""Return-shipping cover, as a property (SQLite and PostgreSQL alike): over random orders — product and
store opted in or out, new or established merchants, returned in full, in part or not at all, settled or
not — the postage paid is exactly the covered received returns × the postage, the merchants' fees exactly
the settled covered orders of established merchants × the fee (the platform's the new merchants'), the
pool never negative and the journal sums to zero."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.factories import buy, money_back, pay, ship_and_deliver, stock
from tests.guarantees.test_return_cover import FEE, POSTAGE, make_old, store_flag_off
from yinli.flows import settle
from yinli.guarantees import return_cover
from yinli.merchants.models import Store
from yinli.orders.models import AfterSale, Order, OrderLine
from yinli.payments import ledger

ACTIONS = ("keep", "return_all", "return_part", "return_part_then_settle", "settle", "undelivered")


def expected(session, new_merchant_days: int) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """(postage due, merchants' fees, platform's fees) from the orders themselves, not from the cover rows."""
    covered: dict[int, Order] = {}
    for order in session.scalars(select(Order).where(Order.paid_at.is_not(None))):
        lines = session.scalars(select(OrderLine).where(OrderLine.order_id == order.id))
        if any("return_shipping_cover" in line.guarantees for line in lines):
            covered[order.id] = order
    received = session.scalars(
        select(AfterSale).where(AfterSale.kind == "return_refund", AfterSale.status == "refunded")
    ).all()
    postage = POSTAGE * sum(1 for case in received if case.order_id in covered)
    merchant_fees = platform_fees = 0
    for order in covered.values():
        if order.status != "completed":
            continue
        store = session.get(Store, order.store_id)
        if order.created_at - store.opened_at >= timedelta(days=new_merchant_days):
            merchant_fees += FEE
        else:
            platform_fees += FEE
    return postage, merchant_fees, platform_fees


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    product_flag=st.booleans(),
    store_flag=st.booleans(),
    old=st.booleans(),
    units=st.integers(1, 2),
    action=st.sampled_from(ACTIONS),
)
def test_payouts_and_fees_are_exactly_what_the_orders_earned(
    world, database, clock, app, product_flag, store_flag, old, units, action
):
    cfg = app.state.settings
    world._operator = None  # days passed in earlier examples: every actor signs in afresh
    m = world.merchant()
    if old:
        make_old(database, m.store_id)
    if not store_flag:
        store_flag_off(database, m.store_id)
    sku = world.product(m, price_fen=3900, return_shipping_cover=product_flag)["skus"][0]["id"]
    stock(world, m, sku, 10)
    s = world.shopper()
    order_id = pay(world, s, buy(world, s, [{"sku_id": sku, "quantity": units}])["id"])["order_ids"][0]
    if action != "undelivered":
        ship_and_deliver(world, s, m, order_id)
    if action == "return_all":
        money_back(world, s, m, order_id, "return_refund", None)
    if action.startswith("return_part"):
        line = world.client.get(f"/api/v1/orders/{order_id}", headers=s.headers).json()["lines"][0]["id"]
        money_back(world, s, m, order_id, "return_refund", [(line, 1)])
    if action.endswith("settle"):
        clock.advance(timedelta(days=cfg.return_window_days, minutes=1))
        with database.session() as session:
            settle.run_order_jobs(session, clock, cfg)
    with database.session() as session:
        postage, merchant_fees, platform_fees = expected(session, cfg.return_cover_new_merchant_days)
        totals = return_cover.ops_totals(session)
        assert totals["payouts_fen"] == postage
        assert totals["payouts"] * POSTAGE == postage
        assert totals["fees_merchant_fen"] == merchant_fees
        assert totals["fees_platform_fen"] == platform_fees
        # fees in, top-ups in, postage out: what is left is the pool, never below zero
        pool = totals["fees_merchant_fen"] + totals["fees_platform_fen"] + totals["topups_platform_fen"] - postage
        assert totals["pool_fen"] == pool >= 0
        assert ledger.unbalanced_transactions(session) == []
        assert sum(ledger.balances(session).values()) == 0
        assert ledger.final_orders_holding_escrow(session) == {}
