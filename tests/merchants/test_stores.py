"""Store lifecycle, the new-merchant window and the 0-yuan opening policy."""

from __future__ import annotations

from datetime import timedelta

import pytest


def test_application_review_and_lifecycle(world, client):
    m = world.user("merchant")
    r = client.post("/api/v1/stores", json={"name": "好物小店", "description": "好物"}, headers=m.headers)
    assert r.status_code == 201
    store = r.json()
    assert store["status"] == "applied"
    assert store["owner_user_id"] == m.id
    assert client.get("/api/v1/me", headers=m.headers).json()["store_id"] == store["id"]
    # not public before approval
    assert client.get(f"/api/v1/stores/{store['id']}").status_code == 404
    op = world.operator
    assert (
        client.get("/api/v1/stores", params={"status": "applied"}, headers=op.headers).json()["items"][0]["id"]
        == store["id"]
    )
    path = f"/api/v1/stores/{store['id']}"
    r = client.post(f"{path}/review", json={"decision": "reject"}, headers=op.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "note"  # a rejection says why
    r = client.post(f"{path}/review", json={"decision": "approve", "note": "ok"}, headers=op.headers)
    assert r.json()["status"] == "active" and r.json()["opened_at"]
    assert client.get(path).status_code == 200
    assert client.post(f"{path}/review", json={"decision": "approve"}, headers=op.headers).status_code == 409
    assert (
        client.post(f"{path}/suspend", json={"reason": "投诉过多"}, headers=op.headers).json()["status"] == "suspended"
    )
    assert client.get(path).status_code == 404  # suspended stores are not public
    assert client.get(path, headers=m.headers).json()["status_reason"] == "投诉过多"  # their staff see why
    assert client.post(f"{path}/close", json={}, headers=m.headers).status_code == 403  # only ops close a suspended one
    assert client.post(f"{path}/reinstate", json={}, headers=op.headers).json()["status"] == "active"
    r = client.post(f"{path}/close", json={"reason": "不做了"}, headers=m.headers)
    assert r.json()["status"] == "closed"
    assert client.post(f"{path}/reinstate", json={}, headers=op.headers).status_code == 409
    assert client.patch(path, json={"description": "x"}, headers=m.headers).status_code == 409


def test_one_store_per_merchant_account_and_unique_names(world, client):
    a = world.merchant(name="重名店")
    assert client.post("/api/v1/stores", json={"name": "另一家"}, headers=a.headers).status_code == 409
    b = world.user("merchant")
    r = client.post("/api/v1/stores", json={"name": "重名店"}, headers=b.headers)
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "name"
    shopper = world.shopper()
    assert client.post("/api/v1/stores", json={"name": "买家店"}, headers=shopper.headers).status_code == 403


def test_new_merchant_window_starts_at_first_listing(world, client, clock):
    m = world.merchant()
    path = f"/api/v1/stores/{m.store_id}"
    store = client.get(path).json()
    assert store["is_new_merchant"] is True and store["new_merchant_until"] is None
    clock.advance(timedelta(days=20))  # time before the first listing does not count
    assert client.get(path).json()["is_new_merchant"] is True
    world.product(m)
    listed_at = clock.now()
    store = client.get(path).json()
    assert store["first_listed_at"] is not None
    world.product(m)  # a second listing does not restart the window
    assert client.get(path).json()["first_listed_at"] == store["first_listed_at"]
    days = client.get("/api/v1/platform/policy").json()["new_merchant_days"]
    clock.set(listed_at + timedelta(days=days) - timedelta(seconds=1))
    assert client.get(path).json()["is_new_merchant"] is True
    clock.advance(timedelta(seconds=1))
    assert client.get(path).json()["is_new_merchant"] is False
    # an operator lengthens the window: the store is new again
    fresh_operator = world.user("operator")  # earlier tokens have expired by now
    r = client.patch("/api/v1/platform/policy", json={"new_merchant_days": days + 10}, headers=fresh_operator.headers)
    assert r.status_code == 200
    assert client.get(path).json()["is_new_merchant"] is True


@pytest.mark.parametrize("zero_deposit", [True, False])
def test_zero_yuan_opening_policy_decides_the_deposit(world, client, zero_deposit):
    op = world.operator
    r = client.patch(
        "/api/v1/platform/policy",
        json={"zero_deposit_opening": zero_deposit, "store_deposit_fen": 50000},
        headers=op.headers,
    )
    assert r.status_code == 200
    assert r.json()["store_deposit"]["formatted"] == "¥500.00"
    m = world.merchant(approve=False)
    store = client.get(f"/api/v1/stores/{m.store_id}", headers=m.headers).json()
    assert store["deposit_required"]["amount"] == (0 if zero_deposit else 50000)
    # the deposit is private: the public view of an approved store does not show it
    client.post(f"/api/v1/stores/{m.store_id}/review", json={"decision": "approve"}, headers=op.headers)
    assert client.get(f"/api/v1/stores/{m.store_id}").json()["deposit_required"] is None


def test_policy_defaults_come_from_settings_and_validate(client, world, settings):
    policy = client.get("/api/v1/platform/policy").json()
    assert policy["zero_deposit_opening"] is settings.default_zero_deposit_opening
    assert policy["new_merchant_days"] == settings.default_new_merchant_days
    op = world.operator
    for bad in ({"new_merchant_days": 0}, {"new_merchant_days": 366}, {"store_deposit_fen": -1}, {"nope": 1}):
        assert client.patch("/api/v1/platform/policy", json=bad, headers=op.headers).status_code == 422
    assert client.get("/api/v1/platform/policy").json() == policy
