"""Pay later on the storefront's pages (without a browser): the pay page offers it only where it is
honoured and says why not; the account page shows an overdue bill and pays it."""

from __future__ import annotations

from tests.factories import buy, stock
from tests.guarantees.test_pay_later import confirm, ship
from yinli.payments import ledger


def test_the_pay_page_offers_pay_later_only_where_it_is_honoured(world, browser_factory):
    m = world.merchant()
    ok = world.product(m, price_fen=3900)["skus"][0]["id"]
    no = world.product(m, price_fen=3900, pay_later=False)["skus"][0]["id"]
    for sku in (ok, no):
        stock(world, m, sku, 5)
    s = world.shopper()
    page = browser_factory(s.email)
    offered = buy(world, s, [{"sku_id": ok, "quantity": 1}])
    html = page.get(f"/pay/{offered['id']}").text
    assert 'value="pay_later"' in html and "data-pay-later-reason" not in html
    refused = buy(world, s, [{"sku_id": no, "quantity": 1}])
    html = page.get(f"/pay/{refused['id']}").text
    assert 'value="pay_later"' not in html and "data-pay-later-reason" in html and "not sold on pay later" in html
    # a stale page posting pay later anyway: told why, nothing paid
    r = page.post(f"/pay/{refused['id']}", {"method": "pay_later"}, follow_redirects=False)
    assert r.status_code == 409 and "not sold on pay later" in r.text


def test_the_account_page_shows_an_overdue_bill_and_pays_it(world, app, browser_factory, database, settings):
    m = world.merchant()
    sku = world.product(m, price_fen=3900)["skus"][0]["id"]
    stock(world, m, sku, 5)
    s = world.shopper()
    payment = buy(world, s, [{"sku_id": sku, "quantity": 1}])
    page = browser_factory(s.email)
    r = page.post(f"/pay/{payment['id']}", {"method": "pay_later"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    order_id = payment["order_ids"][0]
    ship(world, m, order_id)
    app.state.gateway.fail_next(1)
    confirm(world, s, order_id)
    html = page.get("/account").text
    assert 'data-status="failed"' in html and "立即还款" in html
    bill_id = int(html.split('data-bill="')[1].split('"')[0])
    app.state.gateway.fail_next(1)
    r = page.post(f"/account/credit/bills/{bill_id}/pay", page="/account", follow_redirects=False)
    assert r.status_code == 422 and "还款被拒绝" in r.text
    r = page.post(f"/account/credit/bills/{bill_id}/pay", page="/account", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/account")
    html = page.get("/account").text
    assert 'data-status="paid"' in html and 'data-standing="good"' in html
    with database.session() as session:
        assert ledger.balance(session, ledger.PAY_LATER_RECEIVABLE) == 0
        assert sum(ledger.balances(session).values()) == 0
