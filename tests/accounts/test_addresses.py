"""The address book: phone rule, one default, whose address it is (404 for anyone else's), and orders
keeping their own copy of the address they ship to."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.factories import ADDRESS, outcome, race, race_on_postgres, stock
from yinli.accounts.addresses import check_phone, normalise_phone
from yinli.accounts.models import ShippingAddress
from yinli.core.errors import InvalidInput
from yinli.orders.models import Order

HOME = {"name": "韩梅梅", "phone": "139 1234 5678", "region": "上海市 上海市 徐汇区", "line": "漕溪北路 88 号"}
WORK = {"name": "韩梅梅", "phone": "+85291234567", "region": "香港 九龙 油尖旺区", "line": "弥敦道 1 号"}


def add(client, user, body, **kw):
    return client.post("/api/v1/me/addresses", json={**body, **kw}, headers=user.headers)


def book(client, user) -> list[dict]:
    r = client.get("/api/v1/me/addresses", headers=user.headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def defaults(database, shopper_id: int) -> int:
    with database.session() as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(ShippingAddress)
                .where(ShippingAddress.shopper_id == shopper_id, ShippingAddress.is_default.is_(True))
            )
            or 0
        )


def test_the_first_address_is_the_default_and_setting_another_moves_it(world, client, database):
    s = world.shopper()
    home = add(client, s, HOME)
    assert home.status_code == 201, home.text
    assert home.json()["is_default"] is True and home.json()["phone"] == "13912345678"  # stored without spaces
    work = add(client, s, WORK).json()
    assert work["is_default"] is False
    assert [a["id"] for a in book(client, s)] == [home.json()["id"], work["id"]]  # the default first
    r = client.post(f"/api/v1/me/addresses/{work['id']}/default", headers=s.headers)
    assert r.status_code == 200 and r.json()["is_default"] is True
    assert [(a["id"], a["is_default"]) for a in book(client, s)] == [(work["id"], True), (home.json()["id"], False)]
    third = add(client, s, {**HOME, "line": "新地址 9 号"}, is_default=True).json()
    assert third["is_default"] is True and defaults(database, s.id) == 1
    # deleting the default hands it to the most recently changed remaining address
    assert client.delete(f"/api/v1/me/addresses/{third['id']}", headers=s.headers).status_code == 204
    assert [a["is_default"] for a in book(client, s)] == [True, False] and defaults(database, s.id) == 1


def test_bad_phone_numbers_are_a_422_naming_the_field_and_save_nothing(world, client, database):
    s = world.shopper()
    for phone in (
        "12345678901",
        "1380000000",
        "138000000001",
        "+12",
        "+0123456789",
        "+8612345678",
        "电话",
        "1380000000a",
    ):
        r = add(client, s, {**HOME, "phone": phone})
        assert r.status_code == 422, (phone, r.text)
        assert r.json()["errors"][0]["field"] == "phone", (phone, r.text)
    assert book(client, s) == []
    saved = add(client, s, HOME).json()
    r = client.put(f"/api/v1/me/addresses/{saved['id']}", json={**HOME, "phone": "110"}, headers=s.headers)
    assert outcome(r) == (422, "invalid_phone")
    assert book(client, s)[0]["phone"] == "13912345678"


def test_another_shoppers_address_is_a_404_and_stays_as_it_was(world, client):
    owner, other = world.shopper(), world.shopper()
    a = add(client, owner, HOME).json()
    path = f"/api/v1/me/addresses/{a['id']}"
    assert client.get(path, headers=other.headers).status_code == 404
    assert client.put(path, json=WORK, headers=other.headers).status_code == 404
    assert client.post(f"{path}/default", headers=other.headers).status_code == 404
    assert client.delete(path, headers=other.headers).status_code == 404
    assert book(client, other) == []
    assert client.get(path, headers=owner.headers).json()["line"] == HOME["line"]
    # nor can a checkout ship to it
    m = world.merchant()
    sku = world.product(m)["skus"][0]["id"]
    stock(world, m, sku, 5)
    r = client.post(
        "/api/v1/checkout",
        json={"items": [{"sku_id": sku, "quantity": 1}], "address_id": a["id"]},
        headers=other.headers,
    )
    assert r.status_code == 404, r.text


def test_merchants_keep_no_address_book(world, client):
    m = world.merchant()
    assert client.get("/api/v1/me/addresses", headers=m.headers).status_code == 403
    assert add(client, m, HOME).status_code == 403


def test_orders_keep_a_copy_of_the_address_so_editing_the_book_changes_no_order(world, client, database):
    m, s = world.merchant(), world.shopper()
    sku = world.product(m)["skus"][0]["id"]
    stock(world, m, sku, 5)
    home = add(client, s, HOME).json()
    # naming no address ships to the default
    r = client.post("/api/v1/checkout", json={"items": [{"sku_id": sku, "quantity": 1}]}, headers=s.headers)
    assert r.status_code == 201, r.text
    first = r.json()["order_ids"][0]
    work = add(client, s, WORK).json()
    r = client.post(
        "/api/v1/checkout",
        json={"items": [{"sku_id": sku, "quantity": 1}], "address_id": work["id"]},
        headers=s.headers,
    )
    second = r.json()["order_ids"][0]
    client.put(f"/api/v1/me/addresses/{home['id']}", json={**HOME, "line": "搬家了 2 号"}, headers=s.headers)
    client.delete(f"/api/v1/me/addresses/{work['id']}", headers=s.headers)
    with database.session() as session:
        kept = {o.id: o.address for o in session.scalars(select(Order).where(Order.id.in_([first, second])))}
    assert kept[first] == {"name": "韩梅梅", "phone": "13912345678", "region": HOME["region"], "line": HOME["line"]}
    assert kept[second]["phone"] == "+85291234567" and kept[second]["line"] == WORK["line"]


def test_checkout_checks_a_typed_phone_number_and_refuses_two_addresses(world, client):
    m, s = world.merchant(), world.shopper()
    sku = world.product(m)["skus"][0]["id"]
    stock(world, m, sku, 5)
    items = [{"sku_id": sku, "quantity": 1}]
    r = client.post(
        "/api/v1/checkout", json={"items": items, "address": {**ADDRESS, "phone": "12000000000"}}, headers=s.headers
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "address.phone", r.text
    r = client.post("/api/v1/checkout", json={"items": items}, headers=s.headers)  # no address and no book
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "address", r.text
    a = add(client, s, HOME).json()
    r = client.post(
        "/api/v1/checkout", json={"items": items, "address": ADDRESS, "address_id": a["id"]}, headers=s.headers
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "address_id", r.text


# --- the phone rule ---------------------------------------------------------------------------------------

mainland = st.builds(
    lambda second, rest: f"1{second}{rest}", st.sampled_from("3456789"), st.text("0123456789", min_size=9, max_size=9)
)
international = st.builds(
    lambda first, rest: f"+{first}{rest}",
    st.sampled_from("123456789"),
    st.text("0123456789", min_size=7, max_size=14),
).filter(lambda p: not p.startswith("+86"))


@settings(deadline=None)
@given(mainland)
def test_every_mainland_mobile_number_is_accepted_with_or_without_separators(phone):
    assert check_phone(phone) == phone
    assert check_phone(f"{phone[:3]} {phone[3:7]}-{phone[7:]}") == phone
    assert check_phone("+86" + phone) == "+86" + phone


@settings(deadline=None)
@given(international)
def test_every_e164_number_is_accepted(phone):
    assert check_phone(phone) == phone


@settings(deadline=None)
@given(st.text(alphabet="0123456789+ -", max_size=20))
def test_a_number_is_accepted_exactly_when_it_is_mainland_or_e164(raw):
    phone = normalise_phone(raw)
    digits = phone[1:] if phone.startswith("+") else None
    is_mainland = len(phone) == 11 and phone.isdigit() and phone[0] == "1" and phone[1] in "3456789"
    is_e164 = (
        digits is not None
        and digits.isdigit()
        and 8 <= len(digits) <= 15
        and digits[0] != "0"
        and (not digits.startswith("86") or (len(digits) == 13 and digits[2] == "1" and digits[3] in "3456789"))
    )
    try:
        assert check_phone(raw) == phone and (is_mainland or is_e164)
    except InvalidInput as refused:
        assert not (is_mainland or is_e164) and refused.errors[0].field == "phone"


# --- exactly one default under concurrency -----------------------------------------------------------------


@pytest.mark.postgres
@race_on_postgres
def test_ten_concurrent_set_defaults_leave_exactly_one_default(world, client, app, database):
    s = world.shopper()
    ids = [add(client, s, {**HOME, "line": f"{i} 号"}).json()["id"] for i in range(10)]
    results = race(app, 10, lambda i, c: outcome(c.post(f"/api/v1/me/addresses/{ids[i]}/default", headers=s.headers)))
    assert results == [(200, None)] * 10, results
    assert defaults(database, s.id) == 1


@pytest.mark.postgres
@race_on_postgres
def test_ten_concurrent_adds_as_default_leave_exactly_one_default(world, app, database):
    s = world.shopper()
    results = race(app, 10, lambda i, c: outcome(add(c, s, {**HOME, "line": f"{i} 号"}, is_default=True)))
    assert results == [(201, None)] * 10, results
    assert defaults(database, s.id) == 1
