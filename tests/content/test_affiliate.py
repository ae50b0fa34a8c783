"""Affiliate plans and commission through payment, refund and completion, with the ledger balanced."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.factories import ADDRESS, pay
from yinli.content.models import AffiliatePlan
from yinli.jobs import run_once


def balances(world):
    body = world.client.get("/api/v1/ledger/balances", headers=world.operator.headers).json()
    assert body["unbalanced_transactions"] == [] and sum(body["balances"].values()) == 0
    return body["balances"]


def checkout(client, shopper, items):
    r = client.post("/api/v1/checkout", json={"items": items, "address": ADDRESS}, headers=shopper.headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_targeted_plan_beats_open_plan(world, content, client):
    m = world.merchant()
    p = content.stocked_product(m)
    star, other = content.creator("star"), content.creator("other")
    content.plan(m, p["id"], 1000)
    content.plan(m, p["id"], 2500, creator_id=star.id)
    star_plans = {
        x["product_id"]: x for x in client.get("/api/v1/affiliate-plans/available", headers=star.headers).json()
    }
    other_plans = {
        x["product_id"]: x for x in client.get("/api/v1/affiliate-plans/available", headers=other.headers).json()
    }
    assert star_plans[p["id"]]["rate_bps"] == 2500 and star_plans[p["id"]]["kind"] == "targeted"
    assert other_plans[p["id"]]["rate_bps"] == 1000
    # the rate is snapshotted on the order line from the creator's session
    s = content.live_session(star, [p["id"]])
    shopper = world.shopper()
    payment = checkout(
        client, shopper, [{"sku_id": p["skus"][0]["id"], "quantity": 1, "surface": "live", "source_id": s["id"]}]
    )
    pay(world, shopper, payment["id"])
    commission = client.get("/api/v1/affiliate-commissions", headers=star.headers).json()
    assert [(c["rate_bps"], c["amount_fen"], c["status"]) for c in commission] == [(2500, 2500, "pending")]
    # a new open rate replaces the old open plan; the targeted one stands
    content.plan(m, p["id"], 1500)
    plans = client.get(f"/api/v1/products/{p['id']}/affiliate-plans", headers=m.headers).json()
    assert sorted((x["kind"], x["rate_bps"]) for x in plans) == [("open", 1500), ("targeted", 2500)]


def test_bad_plans_change_nothing(world, content, client, database):
    m, other = world.merchant(), world.merchant()
    p = content.stocked_product(m)
    shopper = world.shopper()
    cases = [
        ({"product_id": p["id"], "rate_bps": 10001}, m, 422),
        ({"product_id": p["id"], "rate_bps": -1}, m, 422),
        ({"product_id": p["id"], "rate_bps": 500}, other, 403),
        ({"product_id": p["id"], "rate_bps": 500}, shopper, 403),
        ({"product_id": p["id"], "rate_bps": 500, "creator_id": shopper.id}, m, 422),
        ({"product_id": 999999, "rate_bps": 500}, m, 404),
    ]
    for body, who, status in cases:
        assert client.post("/api/v1/affiliate-plans", json=body, headers=who.headers).status_code == status, body
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(AffiliatePlan)) == 0


def test_commission_follows_the_order_through_refund_and_completion(
    world, content, client, app, database, settings, clock
):
    m = world.merchant()
    p = content.stocked_product(m, price_fen=10000)
    creator = content.creator()
    content.plan(m, p["id"], 2000)  # 20%
    s = content.live_session(creator, [p["id"]])
    shopper = world.shopper()
    sku = p["skus"][0]["id"]
    payment = checkout(client, shopper, [{"sku_id": sku, "quantity": 3, "surface": "live", "source_id": s["id"]}])
    pay(world, shopper, payment["id"])
    order_id = payment["order_ids"][0]
    order = client.get(f"/api/v1/orders/{order_id}", headers=shopper.headers).json()
    line = order["lines"][0]
    assert line["creator_id"] == creator.id and line["surface"] == "live" and line["source_id"] == s["id"]
    client.post(f"/api/v1/orders/{order_id}/ship", json={"carrier": "顺丰", "tracking_no": "SF1234"}, headers=m.headers)
    client.post(f"/api/v1/orders/{order_id}/confirm-delivery", headers=shopper.headers)
    # one of three units comes back: commission is paid on two
    case = client.post(
        f"/api/v1/orders/{order_id}/after-sales",
        headers=shopper.headers,
        json={"kind": "return_refund", "reason": "多买了", "lines": [{"order_line_id": line["id"], "quantity": 1}]},
    ).json()
    assert case["status"] == "requested"  # ¥100 is above the auto-approval limit
    client.post(f"/api/v1/after-sales/{case['id']}/decide", json={"decision": "approve"}, headers=m.headers)
    client.post(
        f"/api/v1/after-sales/{case['id']}/return-shipment",
        json={"carrier": "中通", "tracking_no": "ZT1234"},
        headers=shopper.headers,
    )
    assert client.post(f"/api/v1/after-sales/{case['id']}/receive", headers=m.headers).json()["status"] == "refunded"
    balances(world)
    clock.advance(timedelta(days=settings.return_window_days + 1))
    run_once(database, clock, settings, app.state.gateway)
    commission = client.get("/api/v1/affiliate-commissions", headers=creator.headers).json()[0]
    base = 20000
    total = base * 2000 // 10000  # 4000
    cut = total * settings.affiliate_platform_cut_bps // 10000
    assert (commission["status"], commission["base_fen"], commission["amount_fen"], commission["platform_cut_fen"]) == (
        "payable",
        base,
        total - cut,
        cut,
    )
    b = balances(world)
    fee = base * settings.default_fee_rate_bps // 10000
    assert b[f"creator_payable:{creator.id}"] == -(total - cut)
    assert b[f"merchant_payable:{m.store_id}"] == -(base - fee - total)
    assert b["platform_fee_revenue"] == -(fee + cut)
    assert b.get("escrow", 0) == 0
    # the merchant sees the same commission
    assert client.get("/api/v1/affiliate-commissions", headers=m.headers).json()[0]["id"] == commission["id"]


def test_a_fully_refunded_line_reverses_its_commission(world, content, client, settings):
    m = world.merchant()
    p = content.stocked_product(m, price_fen=3000)
    creator = content.creator()
    content.plan(m, p["id"], 1000)
    s = content.live_session(creator, [p["id"]])
    shopper = world.shopper()
    payment = checkout(
        client, shopper, [{"sku_id": p["skus"][0]["id"], "quantity": 1, "surface": "live", "source_id": s["id"]}]
    )
    order_id = pay(world, shopper, payment["id"])["order_ids"][0]
    case = client.post(
        f"/api/v1/orders/{order_id}/after-sales",
        json={"kind": "refund_only", "reason": "不要了"},
        headers=shopper.headers,
    ).json()
    assert case["status"] == "refunded"  # small and first: auto-approved
    commission = client.get("/api/v1/affiliate-commissions", headers=creator.headers).json()[0]
    assert (commission["status"], commission["amount_fen"]) == ("reversed", 0)
    balances(world)


def test_creators_cannot_claim_attribution(world, content, client):
    m = world.merchant()
    p = content.stocked_product(m)
    creator = content.creator()
    content.plan(m, p["id"], 1000)
    shopper = world.shopper()
    sku = p["skus"][0]["id"]
    r = client.post(
        "/api/v1/checkout",
        headers=shopper.headers,
        json={
            "items": [{"sku_id": sku, "quantity": 1, "surface": "search", "creator_id": creator.id}],
            "address": ADDRESS,
        },
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "items.0.creator_id"
    r = client.post(
        "/api/v1/checkout",
        headers=shopper.headers,
        json={"items": [{"sku_id": sku, "quantity": 1, "surface": "live", "source_id": 999}], "address": ADDRESS},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "items.0.source_id"
