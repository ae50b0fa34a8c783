"""A run folder: `kpis.json`, Parquet exports of what happened, and PNG plots.

DIR/kpis.json            every KPI (see kpis.py), money in fen
DIR/events.parquet       the traffic event log (impressions, clicks, watches, orders, returns...)
DIR/orders.parquet       one row per paid order line: day, surface, store, shopper cohort, amounts
DIR/merchants.parquet    one row per merchant agent: joined/closed day, formats, latent traits
DIR/plots/*.png          GMV by day and format, new merchants, refunds and complaints, retention by
                         number of formats, GMV by age cohort
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select

from yinli.orders.models import Complaint
from yinli.orders.reports import format_of
from yinli.sim.kpis import paid_lines, share
from yinli.sim.market import Market
from yinli.sim.world import COHORTS
from yinli.traffic.events import export_parquet

FORMATS = ("shelf", "live", "short_video", "other")  # orders.reports.format_of


def write_run(mk: Market, kpis: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "kpis.json").write_text(json.dumps(kpis, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    with mk.database.read_sessions() as s:
        export_parquet(s, out / "events.parquet")
        daily = _write_orders(mk, s, out / "orders.parquet")
    _write_merchants(mk, out / "merchants.parquet")
    plot_run(kpis, daily, out / "plots")


def _write_orders(mk: Market, s: Any, path: Path) -> dict[str, list[int]]:
    start, days = mk.config.start, mk.config.days
    cohort_of = {int(u): COHORTS[int(c)] for u, c in zip(mk.shoppers.user_id, mk.shoppers.cohort, strict=True)}
    rows = paid_lines(s)
    day = [(r.paid_at - start) // timedelta(days=1) for r in rows]
    table = pa.table(
        {
            "order_id": [r.id for r in rows],
            "day": day,
            "paid_at": pa.array([r.paid_at for r in rows], pa.timestamp("us", tz="UTC")),
            "shopper_id": [r.shopper_id for r in rows],
            "cohort": [cohort_of.get(r.shopper_id, "") for r in rows],
            "store_id": [r.store_id for r in rows],
            "product_id": [r.product_id for r in rows],
            "surface": [r.surface for r in rows],
            "format": [format_of(r.surface) for r in rows],
            "quantity": [r.quantity for r in rows],
            "unit_price_fen": pa.array([r.unit_price_fen for r in rows], pa.int64()),
            "line_total_fen": pa.array([r.line_total_fen for r in rows], pa.int64()),
            "refunded_fen": pa.array([r.refunded_fen for r in rows], pa.int64()),
        }
    )
    pq.write_table(table, path)
    # per-day series for the plots
    refunded = [0] * days
    orders = [0] * days
    for d, r in zip(day, rows, strict=True):
        if 0 <= d < days:
            refunded[d] += r.refunded_fen
            orders[d] += 1
    complaints = [0] * days
    for at in s.scalars(select(Complaint.created_at)):
        k = (at - start) // timedelta(days=1)
        if 0 <= k < days:
            complaints[k] += 1
    by_format = {f: [0] * days for f in FORMATS}
    for d, r in zip(day, rows, strict=True):
        if 0 <= d < days:
            by_format[format_of(r.surface)][d] += r.line_total_fen
    return {"refunded": refunded, "orders": orders, "complaints": complaints, **by_format}


def _write_merchants(mk: Market, path: Path) -> None:
    ms = mk.merchants
    pq.write_table(
        pa.table(
            {
                "store_id": [m.store_id for m in ms],
                "joined_day": [m.joined_day for m in ms],
                "closed_day": pa.array([m.closed_day for m in ms], pa.int64()),
                "open": [m.open for m in ms],
                "formats": [",".join(m.formats) for m in ms],
                "format_count": [len(m.formats) for m in ms],
                "quality": [m.quality for m in ms],
                "service": [m.service for m in ms],
                "noisy_marketing": [m.noisy for m in ms],
                "capital_fen": pa.array([m.capital_fen for m in ms], pa.int64()),
            }
        ),
        path,
    )


def plot_run(kpis: dict[str, Any], daily: dict[str, list[int]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    days = list(range(1, len(daily["orders"]) + 1))
    title = f"policy {kpis['config']['policy']}, seed {kpis['config']['seed']}"

    fig, ax = plt.subplots(figsize=(8, 4))
    bottom = [0.0] * len(days)
    for name in FORMATS:
        values = [v / 100 for v in daily[name]]
        ax.bar(days, values, bottom=bottom, label=name)
        bottom = [a + b for a, b in zip(bottom, values, strict=True)]
    ax.set(title=f"GMV by day and format ({title})", xlabel="day", ylabel="GMV (yuan)")
    ax.legend()
    _save(fig, out / "gmv_by_day_format.png")

    fig, ax = plt.subplots(figsize=(8, 4))
    names = ["launch coverage (reached / closed windows)", "first order in 7 days", "survival"]
    values = [kpis["new_merchant_coverage"], kpis["new_merchant_first_order_7d"], kpis["new_merchant_survival"]]
    _bars(ax, names, values, color=["#4c72b0", "#55a868", "#c44e52"])
    ax.set(title=f"New merchants: {kpis['new_merchants']} joined ({title})", ylim=(0, 1), ylabel="share")
    _save(fig, out / "new_merchants.png")

    fig, ax = plt.subplots(figsize=(8, 4))
    gmv = [sum(daily[f][i] for f in FORMATS) for i in range(len(days))]
    ax.plot(days, [r / g if g else 0 for r, g in zip(daily["refunded"], gmv, strict=True)], label="refunded / GMV")
    ax.plot(days, [c / o if o else 0 for c, o in zip(daily["complaints"], daily["orders"], strict=True)],
            label="complaints / orders")  # fmt: skip
    ax.set(title=f"Refund and complaint rates by day ({title})", xlabel="day", ylabel="rate")
    ax.legend()
    _save(fig, out / "refunds_complaints.png")

    fig, ax = plt.subplots(figsize=(8, 4))
    by = kpis["merchant_retention_by_formats"]
    _bars(ax, [f"{k} format(s)\n(n={v['merchants']})" for k, v in by.items()], [v["retained"] for v in by.values()])
    ax.set(title=f"Merchants still open at the end, by formats sold through ({title})", ylim=(0, 1))
    _save(fig, out / "retention_by_formats.png")

    fig, ax = plt.subplots(figsize=(8, 4))
    cohorts = kpis["gmv_by_cohort_fen"]
    ax.bar(list(cohorts), [v / 100 for v in cohorts.values()])
    ax.set(title=f"GMV by age cohort — 40+ share {share(kpis['gmv_share_40_plus'])} ({title})", ylabel="GMV (yuan)")
    _save(fig, out / "gmv_by_cohort.png")


def _bars(ax: Any, names: list[str], values: Sequence[float | None], **style: Any) -> None:
    """Bars of shares; a measure with no value gets no bar and says n/a (an empty bar would read as 0)."""
    bars = ax.bar(names, [0.0 if v is None else v for v in values], **style)
    for bar, v in zip(bars, values, strict=True):
        if v is None:
            bar.set_visible(False)
            ax.annotate("n/a", (bar.get_x() + bar.get_width() / 2, 0.02), ha="center")


def _save(fig: Any, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    import matplotlib.pyplot as plt

    plt.close(fig)
