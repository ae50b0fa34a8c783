"""Issue 21: no self-commission, and commission bounded so the merchant never pays to sell."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.factories import ADDRESS, pay
from yinli.content.models import AffiliateCommission, AffiliatePlan
from yinli.jobs import run_once
from yinli.orders.models import OrderLine
from yinli.payments import ledger

VIDEO = {
    "title": "开箱",
    "duration_seconds": 30,
    "cover_url": "https://img.example/c.jpg",
    "video_url": "https://video.example/v.mp4",
}


def checkout(client, buyer, items):
    r = client.post("/api/v1/checkout", json={"items": items, "address": ADDRESS}, headers=buyer.headers)
    assert r.status_code == 201, r.text
    return r.json()


def complete(database, clock, settings, app):
    """Shipped orders are delivered automatically, then completed once the return window is over."""
    for days in (settings.auto_deliver_days, settings.return_window_days):
        clock.advance(timedelta(days=days + 1))
        run_once(database, clock, settings, app.state.gateway)


def test_a_creator_buying_through_their_own_room_or_video_earns_nothing(
    world, content, client, database, clock, settings, app
):
    m = world.merchant()
    p = content.stocked_product(m, price_fen=10000)
    sku = p["skus"][0]["id"]
    creator = content.creator()
    content.plan(m, p["id"], 2000)
    live = content.live_session(creator, [p["id"]])
    r = client.post("/api/v1/videos", json={**VIDEO, "product_ids": [p["id"]]}, headers=creator.headers)
    assert r.status_code == 201, r.text
    video = r.json()
    own = checkout(
        client,
        creator,
        [
            {"sku_id": sku, "quantity": 1, "surface": "live", "source_id": live["id"]},
            {"sku_id": p["skus"][1]["id"], "quantity": 1, "surface": "short_video", "source_id": video["id"]},
        ],
    )
    pay(world, creator, own["id"])
    shopper = world.shopper()  # the same room selling to someone else earns as before
    theirs = checkout(client, shopper, [{"sku_id": sku, "quantity": 1, "surface": "live", "source_id": live["id"]}])
    pay(world, shopper, theirs["id"])
    with database.session() as s:
        lines = s.scalars(select(OrderLine).where(OrderLine.order_id == own["order_ids"][0])).all()
        # the attribution stays (the sale happened in the creator's room and video), no plan or rate
        assert sorted((line.surface, line.creator_id, line.affiliate_plan_id) for line in lines) == [
            ("live", creator.id, None),
            ("short_video", creator.id, None),
        ]
        earned = s.scalars(select(AffiliateCommission.order_id)).all()
        assert earned == [theirs["order_ids"][0]]
    for order_id in (own["order_ids"][0], theirs["order_ids"][0]):
        body = {"carrier": "顺丰", "tracking_no": f"SF{order_id:08d}"}
        assert client.post(f"/api/v1/orders/{order_id}/ship", json=body, headers=m.headers).status_code == 200
    complete(database, clock, settings, app)
    with database.session() as s:
        cut = 2000 * settings.affiliate_platform_cut_bps // 10000
        assert ledger.balance(s, f"creator_payable:{creator.id}") == -(2000 - cut)  # from the other sale only
        assert ledger.final_orders_holding_escrow(s) == {}


def test_plan_rates_leave_the_merchant_something(world, content, client, database):
    m = world.merchant()
    p = content.stocked_product(m)
    plans = "/api/v1/affiliate-plans"
    r = client.post(plans, json={"product_id": p["id"], "rate_bps": 10_000}, headers=m.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "rate_bps"
    r = client.put(
        f"/api/v1/categories/{p['category_id']}/fee", json={"fee_rate_bps": 3000}, headers=world.operator.headers
    )
    assert r.status_code == 200, r.text
    r = client.post(plans, json={"product_id": p["id"], "rate_bps": 7500}, headers=m.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "rate_bps"
    assert "7000" in r.json()["detail"]
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(AffiliatePlan)) == 0
    assert client.post(plans, json={"product_id": p["id"], "rate_bps": 7000}, headers=m.headers).status_code == 201


def test_commission_is_capped_when_the_fee_rises_after_the_plan(world, content, client, database, clock, settings, app):
    """An 80% plan, then the category's fee raised to 50%: commission + fee may not pass the line, so
    the commission is what gives (the merchant's share of the goods is 0, never negative)."""
    m = world.merchant()
    p = content.stocked_product(m, price_fen=10000)
    creator = content.creator()
    content.plan(m, p["id"], 8000)
    r = client.put(
        f"/api/v1/categories/{p['category_id']}/fee", json={"fee_rate_bps": 5000}, headers=world.operator.headers
    )
    assert r.status_code == 200, r.text
    live = content.live_session(creator, [p["id"]])
    shopper = world.shopper()
    payment = checkout(
        client, shopper, [{"sku_id": p["skus"][0]["id"], "quantity": 1, "surface": "live", "source_id": live["id"]}]
    )
    order_id = pay(world, shopper, payment["id"])["order_ids"][0]
    assert client.get("/api/v1/affiliate-commissions", headers=creator.headers).json()[0]["amount_fen"] == 5000
    body = {"carrier": "顺丰", "tracking_no": "SF00000001"}
    assert client.post(f"/api/v1/orders/{order_id}/ship", json=body, headers=m.headers).status_code == 200
    complete(database, clock, settings, app)
    with database.session() as s:
        order_total = 10000
        shipping = (
            client.get(f"/api/v1/orders/{order_id}", headers=shopper.headers).json()["total"]["amount"] - order_total
        )
        fee, commission = 5000, 5000
        cut = commission * settings.affiliate_platform_cut_bps // 10000
        assert ledger.balance(s, ledger.merchant_payable(m.store_id)) == -shipping  # 10000 - fee - commission = 0
        assert ledger.balance(s, f"creator_payable:{creator.id}") == -(commission - cut)
        assert ledger.balance(s, ledger.FEE_REVENUE) == -(fee + cut)
        assert ledger.final_orders_holding_escrow(s) == {}
