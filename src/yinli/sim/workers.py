"""A day's shopper visits split across worker processes.

How a run is split and merged (`SimConfig.workers` = N > 1):

- The **parent** process owns the world and everything that is not a shopper's visit: merchants' morning,
  live rooms going on and off air, fulfilment (shipping, returns, reviews, complaints; shoppers' trust
  moves here), the background jobs (index sync, traffic refresh, plans, expiry), and the books at midnight.
- The day is cut into **epochs** (`SimConfig.epoch_minutes`, default 30). In each epoch the parent first
  runs its own events of that epoch in time order, then hands the epoch's visits to the workers: shopper
  `i` always goes to worker `i % N`, so a shopper's visits stay in one process and in time order. The
  workers run their visits at the same time, each on its own simulated clock, its own database
  connections, its own search and traffic engines and its own payment gateway.
- A worker buys through the same services as everything else (`do_checkout`, `pay`), so stock holds, the
  ledger, budgets and order numbers are guarded by the database, not by the simulator: two workers
  racing for the last unit get one sale and one "sold out".
- Before an epoch the parent sends each worker what changed in the world since the last one (new
  merchants and products, live hosts' pull, the trust of the shoppers about to visit) and whether the jobs
  have run since (then the worker reloads its engines from what the jobs wrote: `SearchEngine.follow`,
  `TrafficEngine.follow`). After the epoch each worker returns what it saw (its counters and, per visit,
  the shopper, when the visit ended and what was bought); the parent merges them in time order and takes
  the purchases into fulfilment exactly as a one-process run does.
- Every visit draws from a generator of its own, seeded by (run seed, day, shopper), so what a shopper
  does does not depend on which worker ran the visit or how many workers there are.

What changes against one process: a visit sees the parent's events of its whole epoch (a room that ends
at 20:10 is already off air for a visit at 20:05), and the workers' visits interleave in the database in
an order nobody chose, so a run with workers is reproducible in distribution, not to the order. Each
worker's launch and boost counters move in its own memory between job rounds (the jobs then count the
truth from the impression log), so a plan can over-deliver by up to N times between two rounds.
Refunds go through the parent's gateway, which settles any simulated charge; references carry the worker
(`sim-w2-ch-17`; the parent's own are `sim-ch-17`), so no two charges share one.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import traceback
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from yinli.core.db import Database
from yinli.core.settings import Settings
from yinli.payments.gateway import SimulatedGateway
from yinli.search import service as search_service
from yinli.sim.market import DayStats, Market, SimConfig
from yinli.sim.shoppers import Purchase, ShopperVisit
from yinli.sim.world import Merchant, SimProduct
from yinli.traffic.service import TrafficEngine

Visit = tuple[datetime, int]  # (when, shopper index)


def visit_rng(seed: int, day: int, shopper: int) -> np.random.Generator:
    """The generator of one visit: the same shopper on the same day draws the same, in any worker."""
    return np.random.default_rng([seed, 1, day, shopper])


@dataclass
class Outcome:
    """One visit as a worker saw it."""

    shopper: int
    ended: datetime
    purchases: list[Purchase]


@dataclass
class Epoch:
    """What the parent sends a worker for one epoch."""

    day: int
    visits: list[Visit]
    merchants: list[Merchant]  # joined since the last epoch
    products: list[tuple[int, SimProduct]]  # listed since the last epoch
    charisma: list[tuple[int, float]]  # live sessions scheduled since the last epoch -> host's pull
    trust: dict[int, float]  # the visiting shoppers' trust now
    refresh: bool  # the jobs have run since the last epoch: reload the engines


@dataclass
class Seen:
    """What a worker returns for one epoch."""

    stats: DayStats
    outcomes: list[Outcome] = field(default_factory=list)


@dataclass
class _Init:
    worker: int
    workers: int
    settings: Settings
    database_url: str
    config: SimConfig
    world: dict[str, Any]  # the Market's agent state that does not change during a run (and shoppers)


# the Market attributes a worker's sessions read; merchants, products and hosts' pull follow by epoch
STATIC = ("leaves", "tops", "top_ids", "top_weight", "leaf_weight_by_top", "shoppers", "operator")


class ShopperPool:
    """N workers, each running the visits of shoppers `i % N == worker` (see the module doc). Worker 0 is
    this process, whose engines the jobs keep current already; workers 1..N-1 are spawned processes."""

    def __init__(self, mk: Market, workers: int) -> None:
        if workers < 2:
            raise ValueError("a pool needs at least 2 workers; one process runs visits itself")
        self.mk, self.workers = mk, workers
        self._sent = (0, 0, 0)  # merchants, products, hosts already sent
        self._jobs_seen = mk.jobs_rounds
        # spawn, not fork: the parent holds database connections and tantivy's threads, neither survives a fork
        ctx = multiprocessing.get_context("spawn")
        world = {name: getattr(mk, name) for name in STATIC}
        self._conns: list[Connection] = []
        self._procs: list[Any] = []
        try:
            for w in range(1, workers):
                parent_end, child_end = ctx.Pipe()
                init = _Init(w, workers, mk.settings, mk.database.url, mk.config, world)
                proc = ctx.Process(target=_serve, args=(child_end, init), name=f"yinli-sim-worker-{w}", daemon=True)
                proc.start()
                child_end.close()
                self._conns.append(parent_end)
                self._procs.append(proc)
        except BaseException:
            self.close()
            raise

    def run(self, day: int, visits: list[Visit]) -> Seen:
        """Run one epoch's visits in the workers; their counters summed, the visits in time order."""
        mk = self.mk
        n_m, n_p, n_h = len(mk.merchants), len(mk.products), len(mk.host_charisma)
        sent_m, sent_p, sent_h = self._sent
        products = list(mk.products.items())[sent_p:] if n_p > sent_p else []
        charisma = list(mk.host_charisma.items())[sent_h:] if n_h > sent_h else []
        refresh = mk.jobs_rounds != self._jobs_seen
        slices: list[list[Visit]] = [[] for _ in range(self.workers)]
        for at, i in sorted(visits):
            slices[i % self.workers].append((at, i))
        for conn, mine in zip(self._conns, slices[1:], strict=True):
            trust = {i: float(mk.shoppers.trust[i]) for _, i in mine}
            conn.send(Epoch(day, mine, mk.merchants[sent_m:n_m], products, charisma, trust, refresh))
        self._sent, self._jobs_seen = (n_m, n_p, n_h), mk.jobs_rounds
        merged = Seen(DayStats())
        try:
            merged.outcomes = run_visits(mk, day, slices[0], merged.stats)  # worker 0, meanwhile, here
        finally:
            failures = self._collect(merged)
        if failures:
            self.close()
            raise RuntimeError("a simulator worker failed:\n" + "\n".join(failures))
        merged.outcomes.sort(key=lambda o: (o.ended, o.shopper))
        return merged

    def _collect(self, merged: Seen) -> list[str]:
        failures = []
        for w, conn in enumerate(self._conns, start=1):
            try:
                kind, payload = conn.recv()
            except EOFError:
                kind, payload = "error", f"worker {w} died (exit code {self._procs[w - 1].exitcode})"
            if kind == "error":
                failures.append(payload)
                continue
            merged.outcomes.extend(payload.outcomes)
            merge_stats(merged.stats, payload.stats)
        return failures

    def close(self) -> None:
        for conn in self._conns:
            with contextlib.suppress(OSError, ValueError):
                conn.send(None)
        for proc in self._procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5)
        for conn in self._conns:
            conn.close()
        self._conns, self._procs = [], []

    def __enter__(self) -> ShopperPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def merge_stats(into: DayStats, more: DayStats) -> None:
    into.sessions += more.sessions
    into.purchases += more.purchases
    into.declined += more.declined
    into.sold_out += more.sold_out
    for entry, n in more.sessions_by_entry.items():
        into.sessions_by_entry[entry] = into.sessions_by_entry.get(entry, 0) + n


# --- inside a worker process ---------------------------------------------------------------------------


def _worker_market(init: _Init) -> Market:
    database = Database(init.database_url)
    mk = Market(database, init.settings, init.config)
    for name, value in init.world.items():
        setattr(mk, name, value)
    seed = init.config.seed
    mk.gateway = SimulatedGateway(
        failure_rate=0.02, seed=seed * 1_000 + init.worker + 1, reference_prefix=f"sim-w{init.worker}"
    )
    # feed request ids come from the engine's generator: each worker needs its own, or two workers would
    # hand out the same ids and clicks would be credited to the wrong page
    mk._traffic = TrafficEngine(init.settings, mk.clock, seed=20261124 + 7919 * (init.worker + 1) + seed)
    return mk


def run_visits(mk: Market, day: int, visits: list[Visit], stats: DayStats) -> list[Outcome]:
    outcomes = []
    for at, shopper in visits:
        mk.clock.set(max(mk.clock.now(), at))
        purchases: list[Purchase] = []
        ShopperVisit(mk, shopper, stats, purchases, rng=visit_rng(mk.config.seed, day, shopper)).run()
        outcomes.append(Outcome(shopper, mk.clock.now(), purchases))
    return outcomes


def _run_epoch(mk: Market, epoch: Epoch) -> Seen:
    for m in epoch.merchants:
        mk.merchants.append(m)
        mk.store_merchant[m.store_id] = m.index
    mk.products.update(epoch.products)
    mk.host_charisma.update(epoch.charisma)
    for i, trust in epoch.trust.items():
        mk.shoppers.trust[i] = trust
    if epoch.refresh:
        if mk._search is not None:
            mk._search.follow(mk.database)
        if mk._traffic is not None and mk._traffic.state is not None:
            mk._traffic.follow(mk.database)
    seen = Seen(DayStats())
    seen.outcomes = run_visits(mk, epoch.day, epoch.visits, seen.stats)
    return seen


def _serve(conn: Connection, init: _Init) -> None:
    mk: Market | None = None
    broken = None
    try:
        mk = _worker_market(init)
    except Exception:
        broken = f"worker {init.worker} could not start:\n{traceback.format_exc()}"
    try:
        while (epoch := conn.recv()) is not None:
            if broken is not None or mk is None:
                conn.send(("error", broken))
                continue
            try:
                conn.send(("ok", _run_epoch(mk, epoch)))
            except Exception:
                conn.send(("error", f"worker {init.worker}:\n{traceback.format_exc()}"))
    except (EOFError, KeyboardInterrupt):
        pass  # the parent went away
    finally:
        if mk is not None:
            search_service.release(mk.database)
            mk.database.dispose()
        conn.close()
