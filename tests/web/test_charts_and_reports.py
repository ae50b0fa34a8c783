"""Server-side SVG charts, and the sales reports the consoles draw them from (orders/reports.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import buy, pay
from yinli.core.auth import Actor, Role
from yinli.core.errors import Forbidden
from yinli.orders import reports
from yinli.web import charts


def test_charts_escape_labels_and_handle_empty_data():
    svg = charts.hbars("GMV <by> format", [charts.Bar("<b>", 100, "¥1.00"), charts.Bar("zero", 0, "¥0.00")])
    assert svg.startswith('<svg class="chart hbars" role="img"') and "<title" in svg
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    assert 'width="0"' in svg  # a zero bar draws nothing
    assert "<svg" in charts.hbars("empty", [])
    cols = charts.columns(
        "by day", [charts.Bar("11-24", 0, "¥0.00"), charts.Bar("11-25", 123456, "¥1,234.56")], axis_label="¥"
    )
    assert "¥2,000" in cols and cols.count("<rect") == 2  # the axis rounds up to a nice number


def test_reports_read_paid_orders_by_format_and_day(world, shop, database, clock):
    sku = shop["products"][0]["skus"][0]
    shopper = shop["shopper"]
    for surface, quantity in (("search", 1), ("mall", 2)):
        payment = buy(world, shopper, [{"sku_id": sku["id"], "quantity": quantity, "surface": surface}])
        pay(world, shopper, payment["id"])
    buy(world, shopper, [{"sku_id": sku["id"], "quantity": 1, "surface": "feed"}])  # never paid: not GMV
    staff = Actor(shop["merchant"].id, Role.MERCHANT, shop["merchant"].store_id)
    since, until = clock.now() - timedelta(days=7), clock.now()
    with database.read_sessions() as s:
        assert reports.gmv_by_surface(s, staff, store_id=staff.store_id, since=since, until=until) == {
            "mall": 25800,
            "search": 12900,
        }
        days = reports.gmv_by_day(s, staff, store_id=staff.store_id, since=since, until=until)
        assert len(days) == 8 and days[-1][1] == 38700 and sum(v for _, v in days) == 38700
        summary = reports.summary(s, staff, store_id=staff.store_id, since=since, until=until)
        assert (summary.paid_orders, summary.gmv_fen, summary.refund_rate) == (2, 38700, 0.0)
        with pytest.raises(Forbidden):  # staff read their own store only; the platform is for operators
            reports.summary(s, staff, store_id=None, since=since, until=until)
        with pytest.raises(Forbidden):
            reports.summary(s, staff, store_id=staff.store_id + 1, since=since, until=until)
