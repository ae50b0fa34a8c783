"""check_after_sale: one answer for the page's buttons, the API's options and do_request's refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.factories import buy, pay, ship_and_deliver, stock
from yinli.orders.aftersales import check_after_sale, check_case
from yinli.orders.models import AfterSale, AfterSaleStatus, Order, OrderLine, OrderStatus

T0 = datetime(2026, 1, 1, tzinfo=UTC)
WINDOW = SimpleNamespace(return_window_days=7)


@hsettings(deadline=None, max_examples=200)
@given(
    status=st.sampled_from(list(OrderStatus)),
    is_shopper=st.booleans(),
    open_case=st.one_of(st.none(), st.integers(1, 9)),
    days_since_delivery=st.integers(0, 10),
    lines=st.lists(st.tuples(st.integers(1, 3), st.integers(0, 3), st.booleans()), min_size=1, max_size=3),
)
def test_check_after_sale_follows_the_rules(status, is_shopper, open_case, days_since_delivery, lines):
    delivered = T0 if status in (OrderStatus.DELIVERED, OrderStatus.COMPLETED, OrderStatus.REFUNDED) else None
    order = Order(id=1, shopper_id=10, store_id=1, status=status.value, delivered_at=delivered)
    order_lines = [
        OrderLine(id=i + 1, quantity=q, refunded_quantity=min(r, q), seven_day_returns=seven)
        for i, (q, r, seven) in enumerate(lines)
    ]
    now = T0 + timedelta(days=days_since_delivery)
    got = check_after_sale(order, order_lines, open_case, 10 if is_shopper else 11, now, WINDOW)  # type: ignore[arg-type]
    free = is_shopper and open_case is None
    assert got.refund_only.allowed == (free and status is OrderStatus.PAID)
    in_window = status is OrderStatus.DELIVERED and days_since_delivery <= 7
    assert got.return_refund.allowed == (free and in_window and any(x.seven_day_returns for x in order_lines))
    for option in (got.refund_only, got.return_refund):
        assert option.allowed == (option.refusal is None)
        if not is_shopper:
            assert option.refusal is not None and option.refusal.code == "not_shopper"
    assert [x.refundable_quantity for x in got.lines] == [x.quantity - x.refunded_quantity for x in order_lines]
    assert [x.returnable for x in got.lines] == [
        x.seven_day_returns and x.quantity > x.refunded_quantity for x in order_lines
    ]


@hsettings(deadline=None)
@given(status=st.sampled_from(list(AfterSaleStatus)), is_shopper=st.booleans())
def test_check_case_follows_the_rules(status, is_shopper):
    case = AfterSale(id=1, shopper_id=10, status=status.value)
    got = check_case(case, 10 if is_shopper else 11)
    assert (got.ship_return is None) == (is_shopper and status is AfterSaleStatus.AWAITING_RETURN)
    assert (got.withdraw is None) == (
        is_shopper and status in (AfterSaleStatus.REQUESTED, AfterSaleStatus.AWAITING_RETURN)
    )


def _options(client, user, order_id):
    return client.get(f"/api/v1/orders/{order_id}/after-sale-options", headers=user.headers if user else {})


def _by_kind(body):
    return {o["kind"]: o for o in body["options"]}


def test_after_sale_options_api_agrees_with_do_request(world, client):
    m = world.merchant()
    sku = world.product(m, price_fen=9900)["skus"][0]["id"]
    stock(world, m, sku, 5)
    s = world.shopper()
    order_id = pay(world, s, buy(world, s, [{"sku_id": sku, "quantity": 2}])["id"])["order_ids"][0]

    r = _options(client, s, order_id)
    assert r.status_code == 200
    body = r.json()
    assert body["order_id"] == order_id and body["open_after_sale_id"] is None
    options = _by_kind(body)
    assert options["refund_only"] == {"kind": "refund_only", "allowed": True, "reason": None, "message": None}
    assert options["return_refund"]["allowed"] is False and options["return_refund"]["reason"] == "invalid_transition"
    assert body["lines"][0]["refundable_quantity"] == 2

    # what the options refuse, do_request refuses with the same code
    ask = client.post(
        f"/api/v1/orders/{order_id}/after-sales", json={"kind": "return_refund", "reason": "x"}, headers=s.headers
    )
    assert ask.status_code == 409 and ask.json()["code"] == "invalid_transition"
    case = client.post(
        f"/api/v1/orders/{order_id}/after-sales", json={"kind": "refund_only", "reason": "x"}, headers=s.headers
    ).json()
    body = _options(client, s, order_id).json()
    assert body["open_after_sale_id"] == case["id"]
    assert _by_kind(body)["refund_only"]["reason"] == "after_sale_open"
    again = client.post(
        f"/api/v1/orders/{order_id}/after-sales", json={"kind": "refund_only", "reason": "x"}, headers=s.headers
    )
    assert again.status_code == 409 and again.json()["code"] == "after_sale_open"


def test_after_sale_options_return_window(world, client, clock, settings):
    m = world.merchant()
    sku = world.product(m, price_fen=9900)["skus"][0]["id"]
    stock(world, m, sku, 5)
    s = world.shopper()
    order_id = pay(world, s, buy(world, s, [{"sku_id": sku, "quantity": 1}])["id"])["order_ids"][0]
    ship_and_deliver(world, s, m, order_id)
    body = _options(client, s, order_id).json()
    assert _by_kind(body)["return_refund"]["allowed"] is True and body["return_window_closes"] is not None
    clock.advance(timedelta(days=settings.return_window_days, seconds=1))
    assert _by_kind(_options(client, s, order_id).json())["return_refund"]["reason"] == "return_window_closed"


def test_after_sale_options_authz_and_bad_input(world, client):
    m = world.merchant()
    sku = world.product(m)["skus"][0]["id"]
    stock(world, m, sku, 5)
    s = world.shopper()
    order_id = buy(world, s, [{"sku_id": sku, "quantity": 1}])["order_ids"][0]
    assert _options(client, None, order_id).status_code == 401
    assert _options(client, world.shopper(), order_id).status_code == 404
    assert _options(client, world.merchant(), order_id).status_code == 404  # another store's staff
    staff = _options(client, m, order_id)  # the store's staff read the order, and may ask for nothing
    assert staff.status_code == 200
    assert {o["reason"] for o in staff.json()["options"]} == {"not_shopper"}
    assert _options(client, s, 999_999).status_code == 404
    assert client.get("/api/v1/orders/abc/after-sale-options", headers=s.headers).status_code == 422
    assert client.get("/api/v1/orders/0/after-sale-options", headers=s.headers).status_code == 422
