"""Simulated shopper visits per second, end to end through the real engine, on SQLite and PostgreSQL.

A visit is one shopper session of the simulator (`yinli.sim`): a feed page ranked by the traffic engine,
a search, a mall browse, a live room or a video — then clicks and perhaps a purchase through the real
checkout and payment. The day loop around the visits (merchants' morning, live rooms, fulfilment,
background jobs) is inside the measured time; building the world is reported apart.

Peer measured in the same run, on the same database after the simulation: bare feed pages per second
(`do_serve_feed` alone, the cheapest thing a visit does), so the ratio says how much of a visit is the
rest of the engine and the agents.

Split runs: the same world again with the day's visits split across `--workers` processes
(`SimConfig.workers`, see `yinli/sim/workers.py`), against the one-process run just measured; `speedup`
is their ratio. Same seed, so the same world and (on the first day) the same visits.

    uv run python bench/simulate.py --quick      # ~1 min
    uv run python bench/simulate.py              # ~5-8 min
    uv run python bench/simulate.py --skip-pg
    uv run python bench/simulate.py --workers 1  # no split runs

PostgreSQL: the database named by --pg-url is wiped (DROP SCHEMA public CASCADE) and migrated.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np

from _common import emit_result, machine, probe_postgres, rate, reset_postgres_schema, say
from yinli.sim.market import SimConfig
from yinli.sim.run import simulate
from yinli.traffic.service import do_serve_feed


def feed_pages_per_second(mk: Any, pages: int) -> float:
    rng = np.random.default_rng(1)
    users = mk.shoppers.user_id
    began = time.perf_counter()
    for _ in range(pages):
        with mk.database.session() as s:
            do_serve_feed(
                s, mk.traffic, mk.operator, shopper_id=int(users[rng.integers(len(users))]), limit=10, page=None,
                cursor=None,
            )  # fmt: skip
    return rate(pages, time.perf_counter() - began)


def one(name: str, config: SimConfig, url: str, data_dir: Path, pages: int) -> dict[str, Any]:
    say(
        f"{name}: {config.days} days, {config.shoppers} shoppers, {config.merchants} merchants, "
        f"{config.workers} process(es)"
    )
    result, mk = simulate(
        config, None, database_url=url, data_dir=data_dir, keep_open=True,
        progress=lambda d, st: say(f"  {name} day {d + 1}: {st.sessions} visits, {st.purchases} purchases"),
    )  # fmt: skip
    k = result.kpis
    peer = feed_pages_per_second(mk, pages)
    mk.database.dispose()
    out = {
        "visits": k["sessions"],
        "purchases": k["purchases"],
        "orders": k["orders"],
        "visits_per_second": round(result.sessions_per_second, 2),
        "set_up_seconds": k["run"]["set_up_seconds"],
        "total_seconds": k["run"]["seconds"],
        "peer_feed_pages_per_second": peer,
        "visit_cost_in_feed_pages": round(peer / result.sessions_per_second, 2) if result.sessions_per_second else None,
        "gmv_fen": k["gmv_fen"],
    }
    say(f"{name}: {out['visits_per_second']} visits/s (peer: {peer} bare feed pages/s)")
    return out


def both(name: str, config: SimConfig, url: str | None, base: Path, pages: int, workers: int) -> dict[str, Any]:
    """One process, then (workers > 1) the same world split across workers; `url` None: SQLite files."""

    def where(tag: str) -> str:
        if url is None:
            return f"sqlite:///{base / f'{tag}.db'}"
        reset_postgres_schema(url)
        return url

    out = one(name, config, where(f"{name}-1"), base / f"var-{name}-1", pages)
    if workers > 1:
        split = one(f"{name} x{workers}", replace(config, workers=workers), where(f"{name}-{workers}"),
                    base / f"var-{name}-{workers}", pages)  # fmt: skip
        split["workers"] = workers
        split["speedup"] = round(split["visits_per_second"] / out["visits_per_second"], 2)
        out["split"] = split
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small world, under a minute or two")
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/yinli_bench_sim")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2, help="processes for the split runs (1: none)")
    args = parser.parse_args()
    if args.quick:
        config = SimConfig(days=2, shoppers=800, merchants=30, seed=args.seed)
        pages = 100
    else:
        config = SimConfig(days=5, shoppers=4_000, merchants=120, seed=args.seed)
        pages = 300
    result: dict[str, Any] = {"benchmark": "simulate", "quick": args.quick, "machine": machine(),
                              "config": {"days": config.days, "shoppers": config.shoppers,
                                         "merchants": config.merchants, "seed": config.seed,
                                         "workers": args.workers}}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        result["sqlite"] = both("sqlite", config, None, base, pages, args.workers)
        if args.skip_pg:
            result["postgresql"] = {"skipped": True, "reason": "--skip-pg"}
        elif (problem := probe_postgres(args.pg_url)) is not None:
            say(f"PostgreSQL skipped: {problem}")
            result["postgresql"] = {"skipped": True, "reason": problem}
        else:
            result["postgresql"] = both("postgresql", config, args.pg_url, base, pages, args.workers)
    emit_result(result)


if __name__ == "__main__":
    main()
