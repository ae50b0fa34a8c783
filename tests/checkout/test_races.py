"""Cart quantities are added atomically (INSERT ... ON CONFLICT DO UPDATE SET quantity = quantity + n,
WHERE the sum stays within MAX_QUANTITY): concurrent adds lose no units and cannot pass the cap; a new
line is counted against MAX_LINES under the shopper's lock."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from tests.factories import outcome, race, race_on_postgres
from yinli.checkout.models import CartItem
from yinli.checkout.service import MAX_LINES, MAX_QUANTITY

N = 10


def cart(database, shopper_id: int) -> dict[int, int]:
    with database.session() as s:
        return dict(
            s.execute(select(CartItem.sku_id, CartItem.quantity).where(CartItem.shopper_id == shopper_id)).all()
        )


def add(client, shopper, sku_id: int, quantity: int = 1):
    return client.post("/api/v1/cart/items", json={"sku_id": sku_id, "quantity": quantity}, headers=shopper.headers)


def many_skus(world, merchant, n: int) -> list[int]:
    """n SKUs (a product takes up to 100)."""
    skus = [{"code": f"S{i}", "attributes": {"号": str(i)}, "price_fen": 1000 + i} for i in range(n)]
    return [s["id"] for s in world.product(merchant, skus=skus)["skus"]]


def test_adds_add_up_to_the_cap_and_no_further(world, client, database):
    m, s = world.merchant(), world.shopper()
    sku = world.product(m)["skus"][0]["id"]
    assert add(client, s, sku, 2).status_code == 200
    assert add(client, s, sku, 3).status_code == 200
    assert cart(database, s.id) == {sku: 5}
    assert add(client, s, sku, MAX_QUANTITY - 5).status_code == 200
    r = add(client, s, sku, 1)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "quantity", r.text
    assert cart(database, s.id) == {sku: MAX_QUANTITY}


def test_a_full_cart_refuses_a_new_line_but_adds_to_one_it_has(world, client, database):
    m, s = world.merchant(), world.shopper()
    skus = many_skus(world, m, MAX_LINES + 1)
    for sku in skus[:MAX_LINES]:
        assert add(client, s, sku).status_code == 200
    assert outcome(add(client, s, skus[-1])) == (409, "cart_full")
    assert add(client, s, skus[0]).status_code == 200
    assert len(cart(database, s.id)) == MAX_LINES and cart(database, s.id)[skus[0]] == 2


@pytest.mark.postgres
@race_on_postgres
def test_ten_adds_of_one_unit_at_once_make_ten(world, app, database):
    m, s = world.merchant(), world.shopper()
    sku = world.product(m)["skus"][0]["id"]  # not in the cart yet: the first insert races too
    results = race(app, N, lambda _i, client: outcome(add(client, s, sku)))
    assert results == [(200, None)] * N, results
    assert cart(database, s.id) == {sku: N}


@pytest.mark.postgres
@race_on_postgres
def test_adds_racing_past_the_cap_stop_at_the_cap(world, client, app, database):
    m, s = world.merchant(), world.shopper()
    sku = world.product(m)["skus"][0]["id"]
    assert add(client, s, sku, MAX_QUANTITY - 4).status_code == 200
    tally = Counter(race(app, N, lambda _i, c: outcome(add(c, s, sku))))
    assert tally == {(200, None): 4, (422, "invalid_input"): N - 4}, tally
    assert cart(database, s.id) == {sku: MAX_QUANTITY}


@pytest.mark.postgres
@race_on_postgres
def test_ten_new_lines_at_once_into_the_last_free_place_add_one(world, client, app, database):
    m, s = world.merchant(), world.shopper()
    skus = many_skus(world, m, MAX_LINES - 1 + N)
    for sku in skus[: MAX_LINES - 1]:
        assert add(client, s, sku).status_code == 200
    fresh = skus[MAX_LINES - 1 :]
    tally = Counter(race(app, N, lambda i, c: outcome(add(c, s, fresh[i]))))
    assert tally == {(200, None): 1, (409, "cart_full"): N - 1}, tally
    with database.session() as session:
        lines = session.scalar(select(func.count()).select_from(CartItem).where(CartItem.shopper_id == s.id))
    assert lines == MAX_LINES
