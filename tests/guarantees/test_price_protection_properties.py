"""Price protection (价保) under random price paths, claim and refund times (hypothesis; SQLite and, with
YINLI_TEST_DATABASE_URL, PostgreSQL): a line is never protected twice; the payout is never more than
(paid − lowest final price in the window) × units, and exactly that when nothing else happened; the
shopper never gets back more than was paid; the journal sums to 0 and no final order holds escrow."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import event, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.factories import PASSWORD, buy, money_back, pay, stock
from yinli.guarantees import price_protection
from yinli.guarantees.models import PriceProtectionPayout
from yinli.orders.models import Order, OrderLine
from yinli.payments import ledger
from yinli.payments.models import Refund

UNIT = 4_000
STEP = st.tuples(st.integers(min_value=0, max_value=60), st.integers(min_value=1_000, max_value=6_000))


def test_random_price_paths_claims_and_refunds_never_pay_twice(world, database, clock, settings, app):
    m = world.merchant()
    r = world.client.patch(
        f"/api/v1/stores/{m.store_id}", json={"shipping_fee_fen": 500, "free_shipping_over_fen": None},
        headers=m.headers,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    s = world.shopper()
    c = world.client

    @hsettings(max_examples=25, deadline=None)
    @example(quantity=2, path=[(0, 2_500)], claim_after=None, refund=None)  # a cut at the moment of payment
    @example(quantity=3, path=[(1, 3_000), (1, 2_000)], claim_after=1, refund=(2, 3))  # claim, then refund all
    @given(
        quantity=st.integers(min_value=1, max_value=3),
        path=st.lists(STEP, min_size=0, max_size=5),
        claim_after=st.none() | st.integers(min_value=0, max_value=5),
        refund=st.none() | st.tuples(st.integers(min_value=0, max_value=5), st.integers(min_value=1, max_value=3)),
    )
    def run(quantity, path, claim_after, refund):  # type: ignore[no-untyped-def]
        clock.advance(timedelta(days=60))  # a fresh stretch of time per example (and fresh tokens)
        for user in (m, s):
            r = c.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD})
            assert r.status_code == 200, r.text
            user.token = r.json()["access_token"]
        sku = world.product(m, price_fen=UNIT)["skus"][0]["id"]
        stock(world, m, sku, 10)
        order_id = pay(world, s, buy(world, s, [{"sku_id": sku, "quantity": quantity}])["id"])["order_ids"][0]
        with database.session() as session:
            line_id = session.scalars(select(OrderLine.id).where(OrderLine.order_id == order_id)).one()
            paid_at = session.get(Order, order_id).paid_at  # type: ignore[union-attr]
        ends = paid_at + timedelta(days=settings.price_protection_days)
        in_window = [UNIT]
        claimed = refunded_units = 0
        for i in range(len(path) + 1):
            if claim_after == i:
                r = c.post(f"/api/v1/order-lines/{line_id}/price-protection", headers=s.headers)
                assert r.status_code in (201, 409), r.text
                if r.status_code == 201:
                    claimed += 1
                    assert clock.now() <= ends
                    left = quantity - refunded_units
                    assert r.json()["amount"]["amount"] == (UNIT - min(in_window)) * left
                else:
                    assert r.json()["code"] in ("no_drop", "window_closed", "refunded", "already_protected")
            if refund is not None and refund[0] == i and refunded_units < quantity:
                units = min(refund[1], quantity - refunded_units)
                money_back(world, s, m, order_id, "refund_only", [(line_id, units)])
                refunded_units += units
            if i < len(path):
                hours, price = path[i]
                clock.advance(timedelta(hours=hours))
                r = c.patch(f"/api/v1/skus/{sku}", json={"price_fen": price}, headers=m.headers)
                assert r.status_code == 200, r.text
                if clock.now() <= ends:
                    in_window.append(price)
        clock.advance(timedelta(days=settings.price_protection_days + 1))
        price_protection.run_job(database, clock, settings, app.state.gateway)
        price_protection.run_job(database, clock, settings, app.state.gateway)  # idempotent

        with database.session() as session:
            payouts = list(
                session.scalars(select(PriceProtectionPayout).where(PriceProtectionPayout.order_id == order_id))
            )
            assert len(payouts) <= 1  # never protected twice
            event(f"payouts={len(payouts)} claimed={claimed} refunded={refunded_units == quantity}")
            order = session.get(Order, order_id)
            assert order is not None
            refunds = list(session.scalars(select(Refund).where(Refund.order_id == order_id)))
            assert sum(r.reason == "price_protection" for r in refunds) == len(payouts)
            back = sum(r.amount_fen for r in refunds)
            assert back == order.refunded_fen <= order.total_fen  # never more than was paid
            for p in payouts:
                assert p.amount_fen <= (UNIT - min(in_window)) * p.quantity  # ≤ paid − lowest in window
                assert p.quantity <= quantity
            if refund is None and not claimed:  # the job alone: exactly the largest drop, once
                expected = (UNIT - min(in_window)) * quantity
                assert sum(p.amount_fen for p in payouts) == expected
            if refunded_units == quantity:
                assert order.status == "refunded" and back == order.total_fen  # everything, exactly once
                assert all(p.status == "clawed_back" and p.clawed_back_fen == p.amount_fen for p in payouts)
                assert ledger.order_escrow(session, order_id) == 0
            assert ledger.unbalanced_transactions(session) == []
            assert sum(ledger.balances(session).values()) == 0
            assert ledger.final_orders_holding_escrow(session) == {}
            assert ledger.balance(session, ledger.PRICE_PROTECTION_PLATFORM) == 0  # no subsidy: merchant-funded
            count = session.scalar(
                select(func.count()).select_from(PriceProtectionPayout).group_by(PriceProtectionPayout.order_line_id)
                .order_by(func.count().desc()).limit(1)
            )  # fmt: skip
            assert count in (None, 1)

    run()
