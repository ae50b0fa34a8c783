"""Helpers shared by the benchmarks in `bench/`: progress on stderr, percentiles, a PostgreSQL probe and
reset, and the hot-row ceiling (bare conditional decrements with the DB driver, no ORM, no yinli).

Benchmarks print progress to stderr and exactly one JSON object as the last line of stdout.
"""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from sqlalchemy.engine import make_url

_T0 = time.perf_counter()


def say(message: str) -> None:
    """One progress line on stderr (stdout is reserved for the JSON result)."""
    print(f"[{time.perf_counter() - _T0:7.1f}s] {message}", file=sys.stderr, flush=True)


def emit_result(result: dict[str, Any]) -> None:
    print(json.dumps(result, ensure_ascii=False, sort_keys=False), flush=True)


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],  # other work on the machine
    }


def ms_percentiles(seconds: list[float]) -> dict[str, float | None]:
    """p50 / p99 / max of durations given in seconds, in milliseconds (None when there are none)."""
    if not seconds:
        return {"p50": None, "p99": None, "max": None}
    a = np.asarray(seconds) * 1000.0
    return {
        "p50": round(float(np.percentile(a, 50)), 2),
        "p99": round(float(np.percentile(a, 99)), 2),
        "max": round(float(a.max()), 2),
    }


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else 0.0


# --- PostgreSQL ------------------------------------------------------------------------------------------


def libpq_url(sqlalchemy_url: str) -> str:
    """`postgresql+psycopg://...` (SQLAlchemy) -> `postgresql://...` (what psycopg.connect takes)."""
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


def probe_postgres(sqlalchemy_url: str, timeout: int = 3) -> str | None:
    """None if PostgreSQL answers at the URL (creating the database if the server has none of that
    name: benchmarks get their own scratch database), else the reason it does not."""
    try:
        import psycopg

        url = make_url(sqlalchemy_url)
        with psycopg.connect(
            libpq_url(url.set(database="postgres").render_as_string(hide_password=False)),
            connect_timeout=timeout,
            autocommit=True,
        ) as admin:
            if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (url.database,)).fetchone() is None:
                admin.execute(f'CREATE DATABASE "{url.database}"')
        with psycopg.connect(libpq_url(sqlalchemy_url), connect_timeout=timeout) as conn:
            conn.execute("SELECT 1")
        return None
    except Exception as e:  # any failure means: skip PostgreSQL, say why
        return f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"


def reset_postgres_schema(sqlalchemy_url: str) -> None:
    """A fresh, empty `public` schema (everything in it is dropped)."""
    import psycopg

    with psycopg.connect(libpq_url(sqlalchemy_url), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


# --- running work on threads -----------------------------------------------------------------------------


def run_threads(threads: int, work: Callable[[int], None], warm_up: Callable[[int], None] | None = None) -> float:
    """Run `work(thread_index)` on `threads` threads started together; returns the wall time in seconds
    from the common start (after every thread's `warm_up`) to the last thread's end. A worker's
    exception is re-raised here."""
    barrier = threading.Barrier(threads + 1)
    failures: list[BaseException] = []

    def body(i: int) -> None:
        try:
            if warm_up is not None:
                warm_up(i)
        finally:
            barrier.wait()
        try:
            work(i)
        except BaseException as e:
            failures.append(e)

    pool = [threading.Thread(target=body, args=(i,), name=f"bench-{i}") for i in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in pool:
        t.join()
    wall = time.perf_counter() - start
    if failures:
        raise failures[0]
    return wall


# --- the ceiling: a bare conditional decrement on one hot row --------------------------------------------

CEILING_SQL = "UPDATE bench_ceiling SET n = n - 1 WHERE id = 1 AND n >= 1"
CEILING_START = 10_000_000_000  # never reached zero within a run


def _ceiling(connect: Callable[[], Any], threads: int, seconds: float) -> dict[str, Any]:
    """`threads` connections each run CEILING_SQL in its own (autocommit) transaction until the deadline."""
    done = [0] * threads
    latencies: list[list[float]] = [[] for _ in range(threads)]
    conns = [connect() for _ in range(threads)]

    def warm(i: int) -> None:
        conns[i].execute("SELECT 1")

    def work(i: int) -> None:
        conn, mine, n = conns[i], latencies[i], 0
        deadline = time.perf_counter() + seconds  # the threads start together (run_threads' barrier)
        while True:
            t0 = time.perf_counter()
            if t0 >= deadline:
                break
            cur = conn.execute(CEILING_SQL)
            if cur.rowcount == 1:
                n += 1
            mine.append(time.perf_counter() - t0)
        done[i] = n

    wall = run_threads(threads, work, warm_up=warm)
    final = int(conns[0].execute("SELECT n FROM bench_ceiling WHERE id = 1").fetchone()[0])
    for c in conns:
        c.close()
    total = sum(done)
    return {
        "threads": threads,
        "seconds": round(wall, 2),
        "decrements": total,
        "decrements_per_s": rate(total, wall),
        "latency_ms": ms_percentiles([x for xs in latencies for x in xs]),
        # every successful decrement must show in the row: anything else is a lost update
        "lost_updates": (CEILING_START - final) - total,
    }


def ceiling_postgres(sqlalchemy_url: str, threads: int, seconds: float) -> dict[str, Any]:
    """Hot-row conditional decrements with psycopg on a scratch table (dropped afterwards)."""
    import psycopg

    url = libpq_url(sqlalchemy_url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_ceiling")
        conn.execute("CREATE TABLE bench_ceiling (id integer PRIMARY KEY, n bigint NOT NULL)")
        conn.execute("INSERT INTO bench_ceiling VALUES (1, %s)", (CEILING_START,))
    try:
        return _ceiling(lambda: psycopg.connect(url, autocommit=True), threads, seconds)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS bench_ceiling")


def _sqlite_connect(path: str) -> sqlite3.Connection:
    # the same settings yinli's engine uses (core/db.py): WAL, synchronous=NORMAL, a 30 s busy timeout
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def ceiling_sqlite(path: str, threads: int, seconds: float) -> dict[str, Any]:
    """Hot-row conditional decrements with the sqlite3 module on a scratch table in the file at `path`."""
    conn = _sqlite_connect(path)
    conn.execute("DROP TABLE IF EXISTS bench_ceiling")
    conn.execute("CREATE TABLE bench_ceiling (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
    conn.execute("INSERT INTO bench_ceiling VALUES (1, ?)", (CEILING_START,))
    try:
        return _ceiling(lambda: _sqlite_connect(path), threads, seconds)
    finally:
        conn.execute("DROP TABLE IF EXISTS bench_ceiling")
        conn.close()
