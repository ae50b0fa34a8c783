"""Return-shipping cover (退货补运费): a covered order's received return has its postage paid out
automatically, funded by the merchant's per-order cover fee at settlement (the platform's for a new
merchant); an order without the cover gets nothing; a payout is made once per case, and a missed one
is paid by the catch-up job. The journal sums to zero after each."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from tests.factories import buy, money_back, pay, ship_and_deliver, stock
from yinli.flows import settle
from yinli.guarantees import return_cover
from yinli.guarantees.models import ReturnCover, ReturnCoverPayout
from yinli.jobs import run_once
from yinli.merchants.models import Store
from yinli.orders.models import Order
from yinli.payments import ledger
from yinli.payments.gateway import GatewayResult
from yinli.payments.models import JournalTransaction

POSTAGE, FEE = 800, 150


def make_old(database, store_id: int, days: int = 120) -> None:  # type: ignore[no-untyped-def]
    """The store opened `days` ago (before the new-merchant window of the cover)."""
    with database.session() as s:
        store = s.get(Store, store_id)
        assert store is not None and store.opened_at is not None
        store.opened_at = store.opened_at - timedelta(days=days)


def store_flag_off(database, store_id: int) -> None:  # type: ignore[no-untyped-def]
    with database.session() as s:
        store = s.get(Store, store_id)
        assert store is not None
        store.return_shipping_cover = False


def delivered_order(world, *, product_flag: bool = True, store_flag: bool = True, old: bool = False, units: int = 1,
                    price: int = 3900):  # type: ignore[no-untyped-def]  # fmt: skip
    """A merchant, a shopper and a paid, delivered order of `units` of one product."""
    m = world.merchant()
    if old:
        make_old(world.database, m.store_id)
    if not store_flag:
        store_flag_off(world.database, m.store_id)
    sku = world.product(m, price_fen=price, return_shipping_cover=product_flag)["skus"][0]["id"]
    stock(world, m, sku, 10)
    s = world.shopper()
    order_id = pay(world, s, buy(world, s, [{"sku_id": sku, "quantity": units}])["id"])["order_ids"][0]
    ship_and_deliver(world, s, m, order_id)
    return m, s, order_id


def balanced(database) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with database.session() as s:
        assert ledger.unbalanced_transactions(s) == []
        balances = ledger.balances(s)
        assert sum(balances.values()) == 0
        assert -balances.get(ledger.RETURN_COVER_POOL, 0) >= 0  # the pool never goes negative
        return balances


def txns(database, kind: str) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    """(ref, amount moved) of every journal transaction of `kind`."""
    from yinli.payments.models import JournalEntry

    with database.session() as s:
        rows = s.execute(
            select(JournalTransaction.ref, func.sum(func.abs(JournalEntry.amount_fen)))
            .join(JournalEntry, JournalEntry.transaction_id == JournalTransaction.id)
            .where(JournalTransaction.kind == kind)
            .group_by(JournalTransaction.id, JournalTransaction.ref)
            .order_by(JournalTransaction.id)
        ).all()
        return [(ref, int(total) // 2) for ref, total in rows]


def cover_api(world, user, case_id: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = world.client.get(f"/api/v1/after-sales/{case_id}/return-cover", headers=user.headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def complete(database, clock, settings) -> int:  # type: ignore[no-untyped-def]
    clock.advance(timedelta(days=settings.return_window_days, minutes=1))
    with database.session() as s:
        return settle.run_order_jobs(s, clock, settings).completed


def test_a_covered_return_received_is_paid_its_postage_at_once(world, database, app):
    m, s, order_id = delivered_order(world)
    with database.session() as session:
        cover = return_cover.cover_of(session, order_id)
        assert cover is not None and (cover.funded_by, cover.fee_fen, cover.payout_fen) == ("platform", FEE, POSTAGE)
    gateway = app.state.gateway
    refunded_before = gateway.refunded_fen
    case = money_back(world, s, m, order_id, "return_refund", None)
    with database.session() as session:
        order = session.get(Order, order_id)
        assert order is not None and order.status == "refunded"
        payouts = list(session.scalars(select(ReturnCoverPayout)))
        assert [(p.after_sale_id, p.order_id, p.amount_fen) for p in payouts] == [(case["id"], order_id, POSTAGE)]
        assert payouts[0].gateway_ref  # the gateway moved it
        # the shopper got back what was paid and the postage
        assert gateway.refunded_fen - refunded_before == order.total_fen + POSTAGE
        totals = return_cover.ops_totals(session)
        assert totals["payouts_fen"] == POSTAGE and totals["payouts"] == 1
        assert totals["topups_platform_fen"] == POSTAGE  # a returned order pays no fee: the platform tops up
        assert totals["pool_fen"] == 0
        assert return_cover.store_costs(session, m.store_id)["payouts_fen"] == POSTAGE
        assert ledger.order_escrow(session, order_id) == 0
    assert txns(database, "return_cover_payout") == [(f"after_sale:{case['id']}", POSTAGE)]
    assert txns(database, "return_cover_topup") == [(f"after_sale:{case['id']}", POSTAGE)]
    balances = balanced(database)
    assert balances[ledger.GATEWAY_CASH] == gateway.captured_fen - gateway.refunded_fen
    shown = cover_api(world, s, case["id"])
    assert shown["covered"] and shown["status"] == "paid" and shown["amount"]["amount"] == POSTAGE
    assert shown["paid_at"] is not None and shown["funded_by"] == "platform"
    assert cover_api(world, m, case["id"])["status"] == "paid"  # the store's staff see it too


def test_a_pending_return_shows_the_postage_to_come(world, database):
    _m, s, order_id = delivered_order(world)
    r = world.client.post(
        f"/api/v1/orders/{order_id}/after-sales", json={"kind": "return_refund", "reason": "尺码不合适"},
        headers=s.headers,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    shown = cover_api(world, s, r.json()["id"])
    assert (shown["status"], shown["amount"]["amount"], shown["paid_at"]) == ("pending", POSTAGE, None)


def test_a_product_without_the_cover_gets_nothing(world, database):
    m, s, order_id = delivered_order(world, product_flag=False)
    case = money_back(world, s, m, order_id, "return_refund", None)
    with database.session() as session:
        assert return_cover.cover_of(session, order_id) is None
        assert session.scalar(select(func.count()).select_from(ReturnCoverPayout)) == 0
    assert txns(database, "return_cover_payout") == []
    assert cover_api(world, s, case["id"]) == {
        "after_sale_id": case["id"], "order_id": order_id, "covered": False, "status": "not_covered",
        "amount": None, "funded_by": None, "paid_at": None,
    }  # fmt: skip
    balanced(database)


def test_a_store_without_the_cover_gets_nothing(world, database, clock, settings):
    m, s, order_id = delivered_order(world, store_flag=False, old=True)
    money_back(world, s, m, order_id, "return_refund", None)
    m2, _s2, _order2 = delivered_order(world, store_flag=False, old=True)
    assert complete(database, clock, settings) == 1
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(ReturnCover)) == 0
        assert return_cover.store_costs(session, m2.store_id)["fees_fen"] == 0
    assert txns(database, "return_cover_payout") == [] and txns(database, "return_cover_fee") == []
    balanced(database)


def test_a_new_merchants_cover_fee_is_the_platforms(world, database, clock, settings):
    m, _s, order_id = delivered_order(world)
    assert complete(database, clock, settings) == 1
    with database.session() as session:
        order = session.get(Order, order_id)
        assert order is not None and order.status == "completed"
        cover = return_cover.cover_of(session, order_id)
        assert cover is not None and cover.funded_by == "platform" and cover.fee_booked_at is not None
        # the merchant's settlement is untouched by the cover
        net = order.total_fen + order.platform_subsidy_fen - order.fee_fen
        assert -ledger.balance(session, ledger.merchant_payable(m.store_id)) == net
        assert ledger.balance(session, ledger.RETURN_COVER_PLATFORM) == FEE
        assert return_cover.store_costs(session, m.store_id) == {
            "fees_fen": 0, "fees": 0, "platform_funded_fen": FEE, "payouts_fen": 0, "payouts": 0,
        }  # fmt: skip
        assert return_cover.ops_totals(session)["fees_platform_fen"] == FEE
    assert txns(database, "return_cover_platform") == [(f"order:{order_id}", FEE)]
    assert txns(database, "return_cover_fee") == []
    balanced(database)


def test_an_established_merchant_pays_the_cover_fee_at_settlement(world, database, clock, settings):
    m, _s, order_id = delivered_order(world, old=True)
    with database.session() as session:
        cover = return_cover.cover_of(session, order_id)
        assert cover is not None and cover.funded_by == "merchant" and cover.fee_booked_at is None
    assert complete(database, clock, settings) == 1
    with database.session() as session:
        order = session.get(Order, order_id)
        assert order is not None and order.status == "completed"
        net = order.total_fen + order.platform_subsidy_fen - order.fee_fen - FEE
        assert -ledger.balance(session, ledger.merchant_payable(m.store_id)) == net
        assert ledger.order_escrow(session, order_id) == 0  # the fee's ref order:<id> holds no escrow entry
        assert -ledger.balance(session, ledger.RETURN_COVER_POOL) == FEE
        costs = return_cover.store_costs(session, m.store_id)
        assert (costs["fees_fen"], costs["fees"], costs["platform_funded_fen"]) == (FEE, 1, 0)
        totals = return_cover.ops_totals(session)
        assert (totals["fees_merchant_fen"], totals["funded_by_merchants_fen"], totals["pool_fen"]) == (FEE, FEE, FEE)
    assert txns(database, "return_cover_fee") == [(f"order:{order_id}", FEE)]
    with database.session() as session:  # a second settlement round books nothing more
        assert settle.run_order_jobs(session, clock, settings).completed == 0
        order = session.get(Order, order_id)
        assert order is not None
        assert return_cover.book_fee(session, clock, order) == 0
    assert txns(database, "return_cover_fee") == [(f"order:{order_id}", FEE)]
    balanced(database)


def test_a_partly_returned_order_pays_the_fee_and_the_pool_pays_the_postage(world, database, clock, settings):
    m, s, order_id = delivered_order(world, old=True, units=2)
    r = world.client.get(f"/api/v1/orders/{order_id}", headers=s.headers)
    line = r.json()["lines"][0]["id"]
    case = money_back(world, s, m, order_id, "return_refund", [(line, 1)])
    assert complete(database, clock, settings) == 1
    with database.session() as session:
        totals = return_cover.ops_totals(session)
        assert (totals["payouts_fen"], totals["fees_merchant_fen"]) == (POSTAGE, FEE)
        assert totals["topups_platform_fen"] == POSTAGE  # the return came before the fee
    assert cover_api(world, s, case["id"])["status"] == "paid"
    balanced(database)


def _fail_postage(gateway, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The gateway refuses postage payouts (keys return-cover-*) and nothing else."""
    real = gateway.refund

    def refund(key: str, charge_reference: str, amount_fen: int, currency: str) -> GatewayResult:
        if key.startswith("return-cover-"):
            return GatewayResult("failed", "x", "payouts are down")
        return real(key, charge_reference, amount_fen, currency)

    monkeypatch.setattr(gateway, "refund", refund)


def test_the_job_pays_a_payout_the_inline_attempt_missed(world, database, clock, settings, app, monkeypatch):
    m, s, order_id = delivered_order(world)
    _fail_postage(app.state.gateway, monkeypatch)
    case = money_back(world, s, m, order_id, "return_refund", None)  # the refund itself goes through
    with database.session() as session:
        assert session.get(Order, order_id).status == "refunded"  # type: ignore[union-attr]
        assert session.scalar(select(func.count()).select_from(ReturnCoverPayout)) == 0
        assert return_cover.unpaid_cases(session, 10) == [case["id"]]
        assert return_cover.run_catch_up(session, clock, app.state.gateway) == 0  # still down: retried later
    assert cover_api(world, s, case["id"])["status"] == "pending"
    monkeypatch.undo()
    report = run_once(database, clock, settings, app.state.gateway)
    assert report.return_covers_paid == 1
    assert cover_api(world, s, case["id"])["status"] == "paid"
    assert txns(database, "return_cover_payout") == [(f"after_sale:{case['id']}", POSTAGE)]
    assert run_once(database, clock, settings, app.state.gateway).return_covers_paid == 0
    balanced(database)


def test_a_case_is_paid_once(world, database, clock, app):
    m, s, order_id = delivered_order(world)
    case = money_back(world, s, m, order_id, "return_refund", None)
    gateway = app.state.gateway
    moved = gateway.refunded_fen
    with database.session() as session:
        assert return_cover.pay_out(session, clock, gateway, case["id"]) is None
        assert return_cover.pay_out_inline(session, clock, gateway, case["id"]) is False
        assert return_cover.run_catch_up(session, clock, gateway) == 0
    assert gateway.refunded_fen == moved
    assert len(txns(database, "return_cover_payout")) == 1
    r = world.client.post(f"/api/v1/after-sales/{case['id']}/receive", headers=m.headers)
    assert r.status_code == 409, r.text  # received already: nothing moves
    assert gateway.refunded_fen == moved and len(txns(database, "return_cover_payout")) == 1
    balanced(database)


def test_a_refund_only_case_has_no_postage(world, database):
    m = world.merchant()
    sku = world.product(m)["skus"][0]["id"]
    stock(world, m, sku, 5)
    s = world.shopper()
    order_id = pay(world, s, buy(world, s, [{"sku_id": sku, "quantity": 1}])["id"])["order_ids"][0]
    case = money_back(world, s, m, order_id, "refund_only", None)
    assert cover_api(world, s, case["id"])["status"] == "not_covered"
    assert txns(database, "return_cover_payout") == []
    balanced(database)


def test_someone_elses_case_is_not_found_and_bad_ids_are_refused(world, database):
    m, s, order_id = delivered_order(world)
    case = money_back(world, s, m, order_id, "return_refund", None)
    other = world.shopper()
    r = world.client.get(f"/api/v1/after-sales/{case['id']}/return-cover", headers=other.headers)
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json"), r.text
    assert world.client.get(f"/api/v1/after-sales/{case['id']}/return-cover").status_code == 401
    for bad in ("0", "abc", "١٢", str(2**60)):
        r = world.client.get(f"/api/v1/after-sales/{bad}/return-cover", headers=s.headers)
        assert 400 <= r.status_code < 500, (bad, r.status_code)


def test_each_return_of_an_order_returned_in_parts_is_paid_its_postage(world, database, app):
    m, s, order_id = delivered_order(world, units=2)
    line = world.client.get(f"/api/v1/orders/{order_id}", headers=s.headers).json()["lines"][0]["id"]
    first = money_back(world, s, m, order_id, "return_refund", [(line, 1)])
    second = money_back(world, s, m, order_id, "return_refund", [(line, 1)])
    assert txns(database, "return_cover_payout") == [
        (f"after_sale:{first['id']}", POSTAGE), (f"after_sale:{second['id']}", POSTAGE),
    ]  # fmt: skip
    with database.session() as session:
        assert return_cover.store_costs(session, m.store_id)["payouts"] == 2
        assert session.get(Order, order_id).status == "refunded"  # type: ignore[union-attr]
    balanced(database)
