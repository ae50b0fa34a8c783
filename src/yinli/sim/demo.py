"""The living demo marketplace behind `make demo`.

1. `build()` simulates the last few days on a fresh SQLite database (days run in seconds), then adds the
   named sample accounts people sign in with (see `yinli.sample`).
2. `LiveMarket` keeps it alive while the server runs: a thread that, every couple of seconds of real
   time, lets a few shoppers visit (feed, search, live rooms, videos — buying through the real checkout),
   puts live rooms on and off air and presents their products, and ships and delivers orders when due.
   It acts with the system clock, like any other client of the platform.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from yinli.content import live
from yinli.core.auth import Actor
from yinli.core.clock import SystemClock
from yinli.core.db import Database
from yinli.core.errors import DomainError
from yinli.core.settings import Settings
from yinli.jobs import JobRunner
from yinli.sample import SampleResult, load_sample
from yinli.sim.day import Day, Parcel
from yinli.sim.market import Market, SimConfig
from yinli.sim.run import Progress, simulate

DEMO_WORLD = SimConfig(days=4, shoppers=2_500, merchants=60, creators=6, seed=7)


def build(settings: Settings, now: datetime, progress: Progress | None = None) -> tuple[Market, SampleResult]:
    """Simulate DEMO_WORLD's days up to `now` on `settings`' (empty) database, then add the sample accounts."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    config = replace(DEMO_WORLD, start=midnight - timedelta(days=DEMO_WORLD.days))
    _, mk = simulate(
        config, None, database_url=settings.resolved_database_url, data_dir=Path(settings.data_dir),
        progress=progress, keep_open=True,
    )  # fmt: skip
    with mk.database.session() as s:
        sample = load_sample(s, settings, now)
    return mk, sample


class LiveMarket:
    """A light simulation on the real clock while the demo server runs."""

    def __init__(self, mk: Market, database_url: str, interval: float = 2.0) -> None:
        # a Database and engines of its own, on the system clock (the simulated days are over)
        mk.database.dispose()
        mk.database = Database(database_url)
        mk.clock = SystemClock()  # type: ignore[assignment]
        mk._search = mk._traffic = None
        self.mk, self.interval = mk, interval
        self.parcels: list[Parcel] = []
        self.on_air: dict[int, tuple[Actor, int, list[int], datetime]] = {}  # room -> (host, session, products, ends)
        # a failed tick is logged by the runner and the next one tries again: the demo keeps going
        self._runner = JobRunner(interval, self.tick)

    def start(self) -> None:
        self._runner.start()

    def stop(self) -> None:
        self._runner.stop()

    def tick(self) -> None:
        mk = self.mk
        now = mk.clock.now()
        day = Day(mk, self.parcels, max(0, mk.day))
        self._rooms(day, now)
        for at, viewer, sid in [v for v in mk.leaving if v[0] <= now]:
            mk.leaving.remove((at, viewer, sid))
            try:
                with mk.database.session() as s:
                    live.do_leave(s, mk.clock, viewer, sid)
            except DomainError:
                pass  # the session ended and closed the visit
        sh = mk.shoppers
        for i in mk.rng.choice(len(sh), size=int(mk.rng.integers(1, 4)), replace=False):
            if not sh.churned[i]:
                day.on_visit(int(i))
        day.on_fulfil(None)

    def _rooms(self, day: Day, now: datetime) -> None:
        """Keep two or three rooms on air, each for a few minutes, presenting a new product every minute."""
        mk, rng = self.mk, self.mk.rng
        for room, (host, sid, products, ends) in list(self.on_air.items()):
            try:
                if now >= ends:
                    day.on_live_end((host, sid))
                    del self.on_air[room]
                elif rng.random() < self.interval / 60:
                    day.on_present((host, sid, int(rng.choice(products))))
            except DomainError:
                self.on_air.pop(room, None)
        hosts = [(mk.merchant_actor(m), m.room_id, m.product_ids) for m in mk.merchants if m.open and m.room_id]
        while len(self.on_air) < 3 and hosts:
            host, room, products = hosts[int(rng.integers(len(hosts)))]
            if room in self.on_air or not products:
                hosts.remove((host, room, products))
                continue
            picks = [int(p) for p in rng.choice(products, size=min(6, len(products)), replace=False)]
            try:
                with mk.database.session() as s:
                    sid = live.do_schedule(
                        s, mk.clock, host, room, title="正在直播", scheduled_at=now, product_ids=picks
                    ).id
                day.on_live_start((host, sid, picks[0]))
            except DomainError:
                hosts.remove((host, room, products))
                continue
            self.on_air[room] = (host, sid, picks, now + timedelta(minutes=float(rng.uniform(4, 12))))


def demo_settings(base: Settings, data_dir: Path) -> Settings:
    path = data_dir / "demo.db"
    for stale in (path, path.with_name("demo.db-wal"), path.with_name("demo.db-shm")):
        stale.unlink(missing_ok=True)
    return base.model_copy(update={"database_url": f"sqlite:///{path.as_posix()}"})
