"""7-day price protection (价保), through the API: a price cut within the window is refunded once per line
(the largest drop, never cumulative), claimed by the shopper or paid by the job at window close, funded by
the merchant for its own cuts and by the platform for subsidy drops; a later refund claws it back."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.factories import buy, money_back, pay, ship_and_deliver, stock
from yinli.catalog.models import Sku, SkuPriceHistory
from yinli.guarantees import price_protection
from yinli.guarantees.models import PriceProtectionPayout
from yinli.jobs import run_once
from yinli.merchants.models import Store
from yinli.orders.models import Order, OrderLine
from yinli.payments import ledger
from yinli.payments.models import Refund

PRICE = 10_000  # ¥100


def _no_shipping(client, m) -> None:  # type: ignore[no-untyped-def]
    r = client.patch(
        f"/api/v1/stores/{m.store_id}",
        json={"shipping_fee_fen": 0, "free_shipping_over_fen": None},
        headers=m.headers,
    )
    assert r.status_code == 200, r.text


def bought(world, *, quantity: int = 1, shipping: bool = False, **product):  # type: ignore[no-untyped-def]
    """A merchant, a ¥100 SKU, a shopper who bought `quantity` of it and paid: (merchant, shopper, sku,
    order id, line id)."""
    m = world.merchant()
    if not shipping:
        _no_shipping(world.client, m)
    sku = world.product(m, price_fen=PRICE, **product)["skus"][0]["id"]
    stock(world, m, sku, 50)
    s = world.shopper()
    payment = pay(world, s, buy(world, s, [{"sku_id": sku, "quantity": quantity}])["id"])
    order_id = payment["order_ids"][0]
    with world.database.session() as session:
        line_id = session.scalars(select(OrderLine.id).where(OrderLine.order_id == order_id)).one()
    return m, s, sku, order_id, line_id


def set_price(world, m, sku: int, fen: int) -> None:  # type: ignore[no-untyped-def]
    r = world.client.patch(f"/api/v1/skus/{sku}", json={"price_fen": fen}, headers=m.headers)
    assert r.status_code == 200, r.text


def claim(world, s, line_id: int):  # type: ignore[no-untyped-def]
    return world.client.post(f"/api/v1/order-lines/{line_id}/price-protection", headers=s.headers)


def view(world, s, order_id: int) -> dict:  # type: ignore[type-arg]
    r = world.client.get(f"/api/v1/orders/{order_id}/price-protection", headers=s.headers)
    assert r.status_code == 200, r.text
    return r.json()["lines"][0]  # type: ignore[no-any-return]


def books_balance(database) -> None:  # type: ignore[no-untyped-def]
    with database.session() as session:
        assert ledger.unbalanced_transactions(session) == []
        assert sum(ledger.balances(session).values()) == 0
        assert ledger.final_orders_holding_escrow(session) == {}


def escrow(database, order_id: int) -> int:  # type: ignore[no-untyped-def]
    with database.session() as session:
        return ledger.order_escrow(session, order_id)


def test_a_cut_to_80_within_the_week_claimed_gives_20_back(world, database, clock, app):
    m, s, sku, order_id, line_id = bought(world)
    before = app.state.gateway.refunded_fen
    clock.advance(timedelta(days=2))
    set_price(world, m, sku, 8_000)
    line = view(world, s, order_id)
    assert line["covered"] and line["eligible"]
    assert line["lowest_so_far"]["amount"] == 8_000 and line["claimable"]["amount"] == 2_000
    assert line["unit_paid"]["amount"] == PRICE and line["refusal"] is None and line["payout"] is None

    r = claim(world, s, line_id)
    assert r.status_code == 201, r.text
    payout = r.json()
    assert payout["amount"]["amount"] == 2_000 and payout["via"] == "claim" and payout["status"] == "paid"
    assert payout["merchant_funded"]["amount"] == 2_000 and payout["platform_funded"]["amount"] == 0

    assert app.state.gateway.refunded_fen - before == 2_000  # the money reached the shopper's payment
    assert escrow(database, order_id) == -8_000  # the merchant's cut came out of the order's escrow
    with database.session() as session:
        order = session.get(Order, order_id)
        assert order is not None and order.refunded_fen == 2_000
        refund = session.scalars(select(Refund).where(Refund.order_id == order_id)).one()
        assert (refund.reason, refund.amount_fen) == ("price_protection", 2_000)
        assert price_protection.ops_totals(session) == {
            "payouts": 1,
            "paid_fen": 2_000,
            "merchant_funded_fen": 2_000,
            "platform_funded_fen": 0,
            "platform_returned_fen": 0,
            "platform_net_fen": 0,
        }
        assert price_protection.store_costs(session, m.store_id)["price_protection_fen"] == 2_000
    books_balance(database)
    after = view(world, s, order_id)
    assert after["payout"]["amount"]["amount"] == 2_000 and after["refusal"]["code"] == "already_protected"


def test_claiming_twice_is_409_already_protected_and_changes_nothing(world, database, clock, app, settings):
    m, s, sku, order_id, line_id = bought(world)
    set_price(world, m, sku, 8_000)
    assert claim(world, s, line_id).status_code == 201
    refunded = app.state.gateway.refunded_fen
    set_price(world, m, sku, 6_000)  # a further cut after the claim: the line is done
    again = claim(world, s, line_id)
    assert again.status_code == 409 and again.json()["code"] == "already_protected"
    assert again.headers["content-type"].startswith("application/problem+json")
    assert app.state.gateway.refunded_fen == refunded
    with database.session() as session:
        assert len(list(session.scalars(select(PriceProtectionPayout)))) == 1
        assert session.get(Order, order_id).refunded_fen == 2_000  # type: ignore[union-attr]
    clock.advance(timedelta(days=8))
    run_once(database, clock, settings, app.state.gateway)  # nor does the job pay it again
    assert app.state.gateway.refunded_fen == refunded
    books_balance(database)


def test_another_shoppers_line_is_404(world, clock):
    m, s, sku, order_id, line_id = bought(world)
    set_price(world, m, sku, 8_000)
    other = world.shopper()
    r = claim(world, other, line_id)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert world.client.get(f"/api/v1/orders/{order_id}/price-protection", headers=other.headers).status_code == 404
    assert claim(world, other, 987654).status_code == 404
    assert view(world, s, order_id)["eligible"]  # nothing changed


def test_after_the_window_a_claim_is_409_window_closed(world, database, clock, app, settings):
    m, s, sku, _order_id, line_id = bought(world)
    clock.advance(timedelta(days=7, seconds=1))
    set_price(world, m, sku, 8_000)  # after the window: not protected
    r = claim(world, s, line_id)
    assert r.status_code == 409 and r.json()["code"] == "window_closed"
    run_once(database, clock, settings, app.state.gateway)
    with database.session() as session:
        assert session.scalars(select(PriceProtectionPayout)).first() is None


def test_no_drop_is_409_no_drop(world, clock):
    m, s, sku, order_id, line_id = bought(world)
    set_price(world, m, sku, 12_000)
    r = claim(world, s, line_id)
    assert r.status_code == 409 and r.json()["code"] == "no_drop"
    assert view(world, s, order_id)["refusal"]["code"] == "no_drop"


def test_a_product_not_opted_in_is_not_covered(world, database, clock, app, settings):
    m, s, sku, order_id, line_id = bought(world, price_protection=False)
    set_price(world, m, sku, 8_000)
    line = view(world, s, order_id)
    assert not line["covered"] and line["refusal"]["code"] == "not_covered" and line["claimable"] is None
    r = claim(world, s, line_id)
    assert r.status_code == 409 and r.json()["code"] == "not_covered"
    clock.advance(timedelta(days=8))
    assert run_once(database, clock, settings, app.state.gateway).price_protected == 0


def test_a_store_not_opted_in_is_not_covered(world, client, clock):
    m = world.merchant()
    _no_shipping(client, m)
    with world.database.session() as session:  # the store's opt-out (no API for it yet)
        store = session.get(Store, m.store_id)
        assert store is not None
        store.price_protection = False
    sku = world.product(m, price_fen=PRICE)["skus"][0]["id"]
    stock(world, m, sku, 5)
    s = world.shopper()
    order_id = pay(world, s, buy(world, s, [{"sku_id": sku, "quantity": 1}])["id"])["order_ids"][0]
    set_price(world, m, sku, 8_000)
    assert view(world, s, order_id)["refusal"]["code"] == "not_covered"


def test_cut_twice_then_back_up_the_job_pays_the_largest_drop_once(world, database, clock, app, settings):
    m, s, sku, order_id, _line_id = bought(world, quantity=2)
    clock.advance(timedelta(days=1))
    set_price(world, m, sku, 9_000)
    clock.advance(timedelta(days=1))
    set_price(world, m, sku, 8_000)
    clock.advance(timedelta(days=1))
    set_price(world, m, sku, 9_500)
    before = app.state.gateway.refunded_fen
    assert view(world, s, order_id)["lowest_so_far"]["amount"] == 8_000
    clock.advance(timedelta(days=3))
    assert run_once(database, clock, settings, app.state.gateway).price_protected == 0  # window open
    clock.advance(timedelta(days=1, seconds=1))
    assert run_once(database, clock, settings, app.state.gateway).price_protected == 1
    assert run_once(database, clock, settings, app.state.gateway).price_protected == 0
    assert app.state.gateway.refunded_fen - before == 2 * 2_000  # the largest drop, per unit, once
    with database.session() as session:
        payout = session.scalars(select(PriceProtectionPayout)).one()
        assert (payout.via, payout.amount_fen, payout.lowest_fen, payout.quantity) == ("auto", 4_000, 8_000, 2)
    line = view(world, s, order_id)
    assert line["refusal"]["code"] == "already_protected" and line["payout"]["amount"]["amount"] == 4_000
    books_balance(database)


def test_settlement_pays_the_merchant_the_net_after_protection(world, database, clock, app, settings):
    m, s, sku, order_id, line_id = bought(world)
    set_price(world, m, sku, 8_000)
    assert claim(world, s, line_id).status_code == 201
    ship_and_deliver(world, s, m, order_id)
    clock.advance(timedelta(days=30))
    run_once(database, clock, settings, app.state.gateway)
    with database.session() as session:
        order = session.get(Order, order_id)
        assert order is not None and order.status == "completed"
        assert ledger.order_escrow(session, order_id) == 0
        fee = order.fee_fen
        assert ledger.balance(session, ledger.merchant_payable(m.store_id)) == -(8_000 - fee)
    books_balance(database)


def test_after_settlement_the_job_pays_from_the_merchants_payable(world, database, clock, app, settings):
    """A window longer than the after-sale period: the order completes first, the payout comes from
    the store's payable."""
    settings.price_protection_days = 20
    m, s, sku, order_id, _line_id = bought(world)
    ship_and_deliver(world, s, m, order_id)
    clock.advance(timedelta(days=8))
    run_once(database, clock, settings, app.state.gateway)
    set_price(world, m, sku, 7_000)
    with database.session() as session:
        assert session.get(Order, order_id).status == "completed"  # type: ignore[union-attr]
        payable = ledger.balance(session, ledger.merchant_payable(m.store_id))
    clock.advance(timedelta(days=13))
    assert run_once(database, clock, settings, app.state.gateway).price_protected == 1
    with database.session() as session:
        assert ledger.balance(session, ledger.merchant_payable(m.store_id)) == payable + 3_000
    books_balance(database)


def test_a_full_refund_after_protection_claws_it_back(world, database, clock, app):
    m, s, sku, order_id, line_id = bought(world, shipping=True)
    set_price(world, m, sku, 8_000)
    assert claim(world, s, line_id).status_code == 201
    with database.session() as session:
        total = session.get(Order, order_id).total_fen  # type: ignore[union-attr]
    before = app.state.gateway.refunded_fen
    case = money_back(world, s, m, order_id, "refund_only", None)
    assert case["amount"]["amount"] == total - 2_000  # paid − protection: never both
    assert app.state.gateway.refunded_fen - before == total - 2_000
    with database.session() as session:
        order = session.get(Order, order_id)
        assert order is not None and order.status == "refunded" and order.refunded_fen == order.total_fen
        payout = session.scalars(select(PriceProtectionPayout)).one()
        assert (payout.status, payout.clawed_back_fen) == ("clawed_back", 2_000)
        assert price_protection.store_costs(session, m.store_id)["clawed_back_fen"] == 2_000
    assert escrow(database, order_id) == 0
    r = claim(world, s, line_id)
    assert r.status_code == 409 and r.json()["code"] == "already_protected"
    books_balance(database)


def _subsidised_drop(database, clock, sku_id: int, subsidy: int) -> None:  # type: ignore[no-untyped-def]
    """A platform subsidy on the SKU (what a promotion will record): a history row with the subsidy."""
    with database.session() as session:
        sku = session.get(Sku, sku_id)
        assert sku is not None
        session.add(
            SkuPriceHistory(
                sku_id=sku.id,
                price_fen=sku.price_fen,
                list_price_fen=sku.list_price_fen,
                final_price_fen=sku.price_fen - subsidy,
                platform_subsidy_fen=subsidy,
                currency=sku.currency,
                effective_at=clock.now(),
                changed_by=None,
                reason="operator",
            )
        )


def test_a_subsidy_drop_is_paid_by_the_platform_and_returned_on_refund(world, database, clock, app):
    m, s, sku, order_id, line_id = bought(world, quantity=2)
    clock.advance(timedelta(hours=1))
    set_price(world, m, sku, 9_000)  # merchant cut ¥10
    clock.advance(timedelta(hours=1))
    _subsidised_drop(database, clock, sku, 1_500)  # then the platform subsidises ¥15: final ¥75
    r = claim(world, s, line_id)
    assert r.status_code == 201, r.text
    p = r.json()
    assert p["amount"]["amount"] == 2 * 2_500
    assert (p["merchant_funded"]["amount"], p["platform_funded"]["amount"]) == (2 * 1_000, 2 * 1_500)
    assert escrow(database, order_id) == -(2 * PRICE - 2_000)
    with database.session() as session:
        assert ledger.balance(session, ledger.PRICE_PROTECTION_PLATFORM) == 3_000
    before = app.state.gateway.refunded_fen
    money_back(world, s, m, order_id, "refund_only", [(line_id, 1)])  # one unit, then the other
    with database.session() as session:
        assert ledger.balance(session, ledger.PRICE_PROTECTION_PLATFORM) == 1_500
    money_back(world, s, m, order_id, "refund_only", [(line_id, 1)])
    assert app.state.gateway.refunded_fen - before == 2 * PRICE - 5_000  # in all: exactly what was paid
    with database.session() as session:
        assert ledger.balance(session, ledger.PRICE_PROTECTION_PLATFORM) == 0  # the platform is made whole
        totals = price_protection.ops_totals(session)
        assert totals["platform_funded_fen"] == 3_000 and totals["platform_net_fen"] == 0
        assert session.scalars(select(PriceProtectionPayout)).one().status == "clawed_back"
    assert escrow(database, order_id) == 0
    books_balance(database)


def test_a_claim_waits_while_an_after_sale_is_open(world, database, clock, app):
    m, s, sku, order_id, line_id = bought(world, quantity=2)
    body = {"kind": "refund_only", "reason": "不想要了", "lines": [{"order_line_id": line_id, "quantity": 1}]}
    r = world.client.post(f"/api/v1/orders/{order_id}/after-sales", json=body, headers=s.headers)
    assert r.status_code == 201 and r.json()["status"] == "requested", r.text  # ¥100: above auto-approval
    case_id = r.json()["id"]
    set_price(world, m, sku, 8_000)
    r = claim(world, s, line_id)
    assert r.status_code == 409 and r.json()["code"] == "after_sale_open"
    decision = {"decision": "reject", "note": "已发货"}
    r = world.client.post(f"/api/v1/after-sales/{case_id}/decide", json=decision, headers=m.headers)
    assert r.status_code == 200, r.text
    r = claim(world, s, line_id)
    assert r.status_code == 201 and r.json()["amount"]["amount"] == 2 * 2_000
    books_balance(database)


def test_bad_line_ids_are_422(world):
    s = world.shopper()
    for bad in ("0", "abc", "١٢", str(2**60)):
        r = world.client.post(f"/api/v1/order-lines/{bad}/price-protection", headers=s.headers)
        assert r.status_code in (404, 422), (bad, r.status_code)
    assert world.client.post("/api/v1/order-lines/1/price-protection").status_code == 401


def test_the_job_waits_for_an_open_after_sale_then_pays_the_window(world, database, clock, app, settings):
    m, s, sku, order_id, line_id = bought(world, quantity=2)
    body = {"kind": "refund_only", "reason": "不想要了", "lines": [{"order_line_id": line_id, "quantity": 1}]}
    r = world.client.post(f"/api/v1/orders/{order_id}/after-sales", json=body, headers=s.headers)
    assert r.status_code == 201 and r.json()["status"] == "requested", r.text
    set_price(world, m, sku, 8_000)
    clock.advance(timedelta(days=8))
    set_price(world, m, sku, 5_000)  # after the window: does not count
    assert price_protection.run_job(database, clock, settings, app.state.gateway) == 0  # the case is open
    decision = {"decision": "reject", "note": "不符合"}
    r = world.client.post(f"/api/v1/after-sales/{r.json()['id']}/decide", json=decision, headers=m.headers)
    assert r.status_code == 200, r.text
    assert price_protection.run_job(database, clock, settings, app.state.gateway) == 1
    with database.session() as session:
        payout = session.scalars(select(PriceProtectionPayout)).one()
        assert (payout.via, payout.lowest_fen, payout.amount_fen) == ("auto", 8_000, 4_000)
    books_balance(database)


def test_on_an_unbilled_pay_later_order_the_difference_comes_off_the_bill(world, database, clock, app):
    """Price protection and pay later together: nothing was charged, so nothing is paid back in cash —
    the bill is lowered by the drop, and the shopper is billed the lower price."""
    from tests.guarantees.test_pay_later import credit, pay_later

    m = world.merchant()
    _no_shipping(world.client, m)
    sku = world.product(m, price_fen=PRICE)["skus"][0]["id"]
    stock(world, m, sku, 5)
    s = world.shopper()
    payment = buy(world, s, [{"sku_id": sku, "quantity": 1}])
    assert pay_later(world, s, payment["id"]).status_code == 200
    order_id = payment["order_ids"][0]
    with database.session() as session:
        line_id = session.scalars(select(OrderLine.id).where(OrderLine.order_id == order_id)).one()
    refunded_before = app.state.gateway.refunded_fen
    clock.advance(timedelta(days=1))
    set_price(world, m, sku, 8_000)
    r = claim(world, s, line_id)
    assert r.status_code == 201 and r.json()["amount"]["amount"] == 2_000, r.text
    assert app.state.gateway.refunded_fen == refunded_before  # no cash: there was no charge
    bills = credit(world, s)["bills"]
    assert [b["amount"]["amount"] for b in bills] == [8_000]
    with database.session() as session:
        assert ledger.balances(session)[ledger.PAY_LATER_RECEIVABLE] == 8_000
        assert price_protection.ops_totals(session)["paid_fen"] == 2_000
    books_balance(database)
