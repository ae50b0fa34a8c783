"""A day's visits split across worker processes (sim/workers.py): the workers buy through the real
services at the same time, so stock, the ledger and the records stay right because the database guards
them. On PostgreSQL this is a real concurrency test (two processes checking out against the same stock);
on SQLite the workers take turns at the write lock."""

from __future__ import annotations

import multiprocessing
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from yinli.core.db import Database
from yinli.inventory.models import Stock
from yinli.orders.models import Order, OrderLine
from yinli.payments.models import JournalEntry, Payment
from yinli.sim.market import SimConfig
from yinli.sim.run import simulate
from yinli.sim.workers import ShopperPool, visit_rng
from yinli.traffic.models import TrafficEvent

SPLIT = SimConfig(days=3, shoppers=400, merchants=12, creators=2, seed=11, launch_quota=10, workers=2)


def run(database: Database, tmp_path: Path, config: SimConfig = SPLIT, keep_open: bool = False):  # type: ignore[no-untyped-def]
    result, mk = simulate(config, None, database_url=database.url, data_dir=tmp_path / "var", keep_open=keep_open)
    return result.kpis, mk


def test_a_split_run_keeps_money_stock_and_records_right(database, tmp_path):
    kpis, _ = run(database, tmp_path)
    assert kpis["run"]["workers"] == 2
    assert kpis["orders"] > 10 and kpis["sessions"] > 50
    assert set(kpis["gmv_by_format_fen"]) >= {"shelf", "live"}
    assert multiprocessing.active_children() == []  # the workers are gone
    with database.read_sessions() as s:
        paid = s.scalar(select(func.sum(OrderLine.line_total_fen)).join(Order).where(Order.paid_at.is_not(None)))
        assert paid == kpis["gmv_fen"]
        assert s.scalar(select(func.sum(JournalEntry.amount_fen))) == 0
        assert s.scalar(select(func.count()).select_from(Stock).where(Stock.on_hand < Stock.reserved)) == 0
        # both workers charged (worker 0 is the parent), and no two charges share a reference
        # (pay-later payments charge nothing at checkout: their bills are charged later, by the parent's jobs)
        charged = Payment.gateway_ref.is_not(None) & Payment.method.is_distinct_from("pay_later")
        refs = list(s.scalars(select(Payment.gateway_ref).where(charged)))
        assert len(refs) == len(set(refs))
        assert {r.split("-ch-")[0] for r in refs} == {"sim", "sim-w1"}
        # a feed page belongs to one shopper: the workers' engines hand out different request ids
        shared = s.execute(
            select(TrafficEvent.request_id)
            .where(TrafficEvent.kind == "impression", TrafficEvent.request_id.is_not(None))
            .group_by(TrafficEvent.request_id)
            .having(func.count(func.distinct(TrafficEvent.shopper_id)) > 1)
        ).all()
        assert shared == []
        # purchases made in the workers went on through fulfilment in the parent
        delivered = s.scalar(select(func.count()).select_from(Order).where(Order.delivered_at.is_not(None)))
    assert delivered > 0


def test_what_a_shopper_does_does_not_depend_on_the_worker_count(database, tmp_path, _pg_database):
    if _pg_database is not None:
        pytest.skip("needs three empty databases; the SQLite runs prove it")
    one_day = SimConfig(**{**SPLIT.__dict__, "days": 1})
    two, _ = run(database, tmp_path / "a", one_day)
    three, _ = run(
        Database(f"sqlite:///{tmp_path / 'b.db'}"), tmp_path / "b", SimConfig(**{**one_day.__dict__, "workers": 3})
    )
    alone, _ = run(
        Database(f"sqlite:///{tmp_path / 'c.db'}"), tmp_path / "c", SimConfig(**{**one_day.__dict__, "workers": 1})
    )
    # the same shoppers come on the first day however the run is split
    assert two["sessions"] == three["sessions"] == alone["sessions"]
    # and each visit draws from its own stream: where each shopper starts is the same with 2 or 3 workers
    assert two["sessions_by_entry"] == three["sessions_by_entry"]
    rng_a, rng_b = visit_rng(11, 0, 5), visit_rng(11, 0, 5)
    assert rng_a.random() == rng_b.random() != visit_rng(11, 0, 6).random()


def test_a_failing_worker_stops_the_run_with_its_traceback(database, tmp_path):
    _, mk = run(database, tmp_path, SimConfig(**{**SPLIT.__dict__, "days": 1, "workers": 1}), keep_open=True)
    try:
        pool = ShopperPool(mk, 2)
        naive = (mk.config.start + timedelta(hours=30)).replace(tzinfo=None)
        with pytest.raises(RuntimeError, match=r"worker 1:[\s\S]*TypeError"):
            pool.run(1, [(naive, 5)])  # a time without a zone: shopper 5's worker cannot run the visit
        assert multiprocessing.active_children() == []
    finally:
        mk.database.dispose()


@pytest.mark.parametrize("workers", [0, 65])
def test_worker_counts_out_of_range_are_refused(workers):
    with pytest.raises(ValueError):
        SimConfig(workers=workers)
    with pytest.raises(ValueError):
        ShopperPool(None, 1)  # type: ignore[arg-type]  # one process runs visits itself: no pool
