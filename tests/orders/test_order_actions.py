"""The order page's buttons come from `orders.check_order_actions`, which must agree with what the `do_*`
functions allow: the caller checks and the state machine's moves."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from yinli.core.auth import Actor, Role
from yinli.core.errors import Forbidden
from yinli.orders.models import Order, OrderStatus
from yinli.orders.service import TRANSITIONS, check_confirm_delivery, check_order_actions, check_shopper_cancel

SHOPPER, STRANGER, STAFF, OPERATOR = 1, 2, 3, 4
ACTORS = {
    "anonymous": None,
    "buyer": Actor(SHOPPER, Role.SHOPPER),
    "another shopper": Actor(STRANGER, Role.SHOPPER),
    "store staff": Actor(STAFF, Role.MERCHANT, store_id=7),
    "operator": Actor(OPERATOR, Role.OPERATOR),
}


def _order(status: OrderStatus, payment_id: int | None = 9) -> Order:
    return Order(id=1, shopper_id=SHOPPER, store_id=7, status=status.value, payment_id=payment_id)


def _passes(check: object, actor: Actor | None, order: Order) -> bool:
    if actor is None:
        return False
    try:
        check(actor, order)  # type: ignore[operator]
    except Forbidden:
        return False
    return True


@settings(deadline=None, max_examples=100)
@given(
    status=st.sampled_from(list(OrderStatus)), who=st.sampled_from(sorted(ACTORS)), paid_by=st.sampled_from([9, None])
)
def test_buttons_agree_with_the_rules(status: OrderStatus, who: str, paid_by: int | None) -> None:
    actor, order = ACTORS[who], _order(status, paid_by)
    actions = check_order_actions(actor, order)
    can_cancel = (status, OrderStatus.CANCELLED) in TRANSITIONS and _passes(check_shopper_cancel, actor, order)
    can_confirm = (status, OrderStatus.DELIVERED) in TRANSITIONS and _passes(check_confirm_delivery, actor, order)
    assert actions.cancel == can_cancel
    assert actions.confirm_receipt == can_confirm
    assert actions.pay == (who == "buyer" and status is OrderStatus.CREATED and paid_by is not None)


def test_the_buyer_sees_pay_and_cancel_while_unpaid_and_confirm_once_shipped() -> None:
    buyer = ACTORS["buyer"]
    created = check_order_actions(buyer, _order(OrderStatus.CREATED))
    assert (created.pay, created.cancel, created.confirm_receipt) == (True, True, False)
    shipped = check_order_actions(buyer, _order(OrderStatus.SHIPPED))
    assert (shipped.pay, shipped.cancel, shipped.confirm_receipt) == (False, False, True)
    paid = check_order_actions(buyer, _order(OrderStatus.PAID))
    assert (paid.pay, paid.cancel, paid.confirm_receipt) == (False, False, False)


def test_staff_and_strangers_get_no_buttons_and_operators_only_cancel() -> None:
    for who in ("store staff", "another shopper", "anonymous"):
        a = check_order_actions(ACTORS[who], _order(OrderStatus.CREATED))
        assert not (a.pay or a.cancel or a.confirm_receipt), who
    op = check_order_actions(ACTORS["operator"], _order(OrderStatus.CREATED))
    assert (op.pay, op.cancel) == (False, True)
    assert not check_order_actions(ACTORS["operator"], _order(OrderStatus.SHIPPED)).confirm_receipt
