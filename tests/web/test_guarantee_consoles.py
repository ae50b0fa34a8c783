"""The guarantees in the consoles: the ops page shows what each guarantee paid shoppers and who funded
it, the merchant page what each cost the store — the ledger's figures, after real payouts."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.factories import money_back
from tests.guarantees.test_price_protection import bought, claim, set_price
from tests.guarantees.test_return_cover import delivered_order


def row(html: str, row_id: str) -> str:
    found = re.search(rf'<tr id="{row_id}">(.*?)</tr>', html, re.S)
    assert found, row_id
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1)))


def test_ops_and_merchant_pages_show_what_each_guarantee_paid_and_who_funded_it(world, clock, browser_factory):
    m, s, sku, _order_id, line_id = bought(world)  # ¥100, price protection on
    clock.advance(timedelta(days=1))
    set_price(world, m, sku, 8_000)
    assert claim(world, s, line_id).status_code == 201  # ¥20 back, the merchant's own cut
    m2, s2, order_id = delivered_order(world)  # a new merchant: the platform funds the cover
    money_back(world, s2, m2, order_id, "return_refund", None)  # ¥8 postage paid on receipt

    ops = browser_factory(world.operator.email).get("/ops/guarantees")
    assert ops.status_code == 200
    assert row(ops.text, "payouts-price_protection").split() == ["价保", "1", "¥20.00", "¥20.00", "¥0.00"]
    assert row(ops.text, "payouts-return_shipping_cover").split() == ["退货补运费", "1", "¥8.00", "¥0.00", "¥8.00"]

    mine = browser_factory(m.email).get("/merchant/guarantees")
    assert mine.status_code == 200
    assert row(mine.text, "cost-price_protection").split()[:3] == ["价保", "¥20.00", "¥0.00"]
    theirs = browser_factory(m2.email).get("/merchant/guarantees")
    cover = row(theirs.text, "cost-return_shipping_cover")
    # a new merchant pays no cover fee (and a refunded order settles no fee); its shopper got the postage
    assert cover.split()[:2] == ["退货补运费", "¥0.00"] and "补运费 1 笔共 ¥8.00" in cover

    assert browser_factory(s.email).get("/ops/guarantees").status_code == 403
    assert browser_factory(s.email).get("/merchant/guarantees").status_code == 403
