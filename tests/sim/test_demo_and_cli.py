"""The living demo, the `yinli simulate` commands and the comparison's statistics."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from typer.testing import CliRunner

from yinli.cli import app
from yinli.content.models import LiveSession
from yinli.core.settings import get_settings
from yinli.orders.models import Order
from yinli.sim import demo
from yinli.sim.cli import summary_line
from yinli.sim.compare import interval, markdown, plot, summarise
from yinli.sim.kpis import HEADLINE, ratio
from yinli.sim.report import plot_run


def test_demo_builds_recent_days_then_keeps_the_marketplace_alive(tmp_path, monkeypatch, _pg_database):
    if _pg_database is not None:
        import pytest

        pytest.skip("the demo runs on the embedded default (SQLite) only")
    monkeypatch.setattr(demo, "DEMO_WORLD", replace(demo.DEMO_WORLD, days=2, shoppers=150, merchants=8, creators=2))
    settings = demo.demo_settings(get_settings().model_copy(update={"data_dir": tmp_path}), tmp_path)
    now = datetime.now(UTC)
    mk, sample = demo.build(settings, now)
    assert sample.operator_email == "ops@demo.yinli"  # people can sign in with the named accounts
    with mk.database.read_sessions() as s:
        first = s.scalar(select(func.min(Order.paid_at)))
        paid_before = s.scalar(select(func.count()).select_from(Order).where(Order.paid_at.is_not(None)))
    assert first is not None and (now - first).days <= 2  # the simulated days end today
    market = demo.LiveMarket(mk, settings.resolved_database_url, interval=0.01)
    for _ in range(40):
        market.tick()
    with market.mk.database.read_sessions() as s:
        on_air = s.scalar(select(func.count()).select_from(LiveSession).where(LiveSession.status == "live"))
        paid_after = s.scalar(select(func.count()).select_from(Order).where(Order.paid_at.is_not(None)))
    assert on_air >= 2  # rooms are live right now
    assert paid_after > paid_before  # and shoppers keep buying, on the real clock
    market.mk.database.dispose()


def test_simulate_command_writes_the_run_folder(tmp_path, _pg_database):
    if _pg_database is not None:
        import pytest

        pytest.skip("the command's default database is SQLite in the run folder")
    out = tmp_path / "run"
    args = ["simulate", "--days", "2", "--shoppers", "80", "--merchants", "6", "--seed", "3", "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "GMV" in result.output
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["config"]["seed"] == 3 and kpis["config"]["days"] == 2
    assert kpis["run"]["workers"] == 2


def test_simulate_command_refuses_an_unknown_policy(tmp_path):
    result = CliRunner().invoke(app, ["simulate", "--policy", "most_profit", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "user_first" in result.output
    assert not (tmp_path / "kpis.json").exists()
    result = CliRunner().invoke(app, ["simulate", "--workers", "0", "--out", str(tmp_path)])
    assert result.exit_code == 2 and not (tmp_path / "kpis.json").exists()
    result = CliRunner().invoke(app, ["simulate", "compare", "--policies", "user_first", "--out", str(tmp_path)])
    assert result.exit_code == 2


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=-1e6, max_value=1e6), min_size=2, max_size=12))
def test_the_interval_is_around_the_mean_and_shrinks_with_agreement(values):
    r = interval(values)
    assert r["low"] <= r["mean"] + 1e-6 and r["mean"] <= r["high"] + 1e-6
    assert abs(r["mean"] - float(np.mean(values))) < 1e-6 * max(1.0, abs(r["mean"]))
    same = interval([values[0]] * len(values))
    assert same["high"] - same["low"] <= 1e-9 * max(1.0, abs(values[0]))


def test_paired_differences_cancel_the_world_to_world_spread():
    # GMV differs a lot between worlds (seeds) but the policy adds exactly 10 in each: the paired
    # interval on the difference is exactly 10, while each policy's own interval is wide.
    runs = {}
    for s, world in zip([1, 2, 3, 4, 5], [100.0, 900.0, 400.0, 250.0, 700.0], strict=True):
        for p, extra in (("a", 0.0), ("b", 10.0)):
            runs[(p, s)] = {k: world + extra for k in HEADLINE}
    report = summarise(runs, ["a", "b"], [1, 2, 3, 4, 5])
    gmv = report["kpis"]["gmv_fen"]
    assert gmv["b"]["difference_vs_a"] == {"mean": 10.0, "low": 10.0, "high": 10.0, "n": 5}
    assert gmv["a"]["high"] - gmv["a"]["low"] > 500


def test_a_measure_with_no_subjects_is_none_and_left_out_of_the_intervals(tmp_path):
    assert ratio(3, 4) == 0.75 and ratio(0, 4) == 0.0
    assert ratio(0, 0) is None  # no new merchant old enough is no value, not a first-order rate of 0
    assert interval([None, None]) == {"mean": None, "low": None, "high": None, "n": 0}
    assert interval([None, 2.0]) == {"mean": 2.0, "low": 2.0, "high": 2.0, "n": 1}
    assert interval([1.0, None, 3.0])["mean"] == 2.0 and interval([1.0, None, 3.0])["n"] == 2
    runs = {}
    for s in (1, 2, 3):
        for p, extra in (("a", 0.0), ("b", 0.1)):
            runs[(p, s)] = {k: 0.5 + s / 10 + extra for k in HEADLINE}
            runs[(p, s)]["search_conversion"] = None  # no search in any run
    runs[("b", 2)]["new_merchant_coverage"] = None  # no launch window closed in this one run
    report = summarise(runs, ["a", "b"], [1, 2, 3])
    cover = report["kpis"]["new_merchant_coverage"]
    assert cover["a"]["n"] == 3 and cover["b"]["n"] == 2
    assert cover["b"]["values"][1] is None  # compare.json keeps the seed's null
    assert cover["b"]["mean"] == pytest.approx(0.8)  # over seeds 1 and 3, not a 0 for seed 2
    diff = cover["b"]["difference_vs_a"]
    assert diff["n"] == 2 and diff["mean"] == pytest.approx(0.1)  # paired where both runs have a value
    none = report["kpis"]["search_conversion"]
    assert none["a"]["mean"] is None and none["b"]["difference_vs_a"]["mean"] is None
    table = markdown(report)
    row = next(line for line in table.splitlines() if line.startswith("| search_conversion |"))
    assert row == "| search_conversion | n/a | n/a<br>Δ n/a |"
    assert "(n=2)" in next(line for line in table.splitlines() if line.startswith("| new_merchant_coverage |"))
    json.dumps(report, allow_nan=False)  # null in compare.json, never NaN
    plot(report, tmp_path / "compare.png")
    assert (tmp_path / "compare.png").read_bytes()[:4] == b"\x89PNG"


def test_the_text_and_plots_say_n_a_for_a_measure_with_no_value(tmp_path):
    kpis = {
        "gmv_fen": 0, "orders": 0, "refund_rate": None, "complaint_rate": None, "shelf_share": None,
        "conversion": 0.0, "search_conversion": None, "search_conversion_vs_average": None,
        "units_share_under_50": None, "new_merchant_coverage": None, "new_merchant_coverage_judged": 0,
        "new_merchant_first_order_7d": None, "new_merchant_survival": None, "new_merchants": 0,
        "merchant_retention_by_formats": {"1": {"merchants": 0, "retained": None}},
        "gmv_by_cohort_fen": {"gen_z": 0}, "gmv_share_40_plus": None, "config": {"policy": "user_first", "seed": 1},
    }  # fmt: skip
    line = summary_line(kpis)
    assert "refund rate n/a" in line and "shelf share n/a" in line and "search n/a (n/a the average)" in line
    assert "new-merchant coverage n/a" in line and "conversion 0.0%" in line  # a real 0 stays 0
    daily = {k: [0, 0] for k in ("shelf", "live", "short_video", "other", "refunded", "orders", "complaints")}
    plot_run(kpis, daily, tmp_path / "plots")
    assert (tmp_path / "plots" / "new_merchants.png").read_bytes()[:4] == b"\x89PNG"


def test_compare_runs_each_policy_on_the_same_worlds(tmp_path, _pg_database):
    if _pg_database is not None:
        import pytest

        pytest.skip("compare runs its worlds on SQLite files")
    out = tmp_path / "cmp"
    args = ["simulate", "compare", "--policies", "user_first,gmv_only", "--seeds", "2", "--days", "2",
            "--shoppers", "60", "--merchants", "5", "--jobs", "1", "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "compare.json").read_text())
    assert report["seeds"] == [1, 2] and set(report["kpis"]) == set(HEADLINE)
    for s in (1, 2):  # the same world: the same merchants joined under both policies
        a = json.loads((out / "user_first" / f"seed-{s}" / "kpis.json").read_text())
        b = json.loads((out / "gmv_only" / f"seed-{s}" / "kpis.json").read_text())
        assert a["config"]["policy"] == "user_first" and b["config"]["policy"] == "gmv_only"
        assert a["new_merchants"] == b["new_merchants"]
    assert (out / "compare.png").read_bytes()[:4] == b"\x89PNG"
    assert "gmv_fen" in (out / "compare.md").read_text()


def test_bench_command_names_the_benchmarks_it_knows():
    result = CliRunner().invoke(app, ["bench", "no-such-bench"])
    assert result.exit_code == 2
    assert "simulate" in result.output and "checkout" in result.output  # run from the checkout (tests' cwd)
