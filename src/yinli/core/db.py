"""SQLAlchemy 2 engine, sessions and the declarative Base, for SQLite (embedded) and PostgreSQL.

SQLite runs in WAL mode with foreign keys enforced and a busy timeout, so concurrent writers queue
instead of failing. Datetimes are stored as UTC and always come back timezone-aware.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, DateTime, Engine, Index, Integer, MetaData, create_engine, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from yinli.core.errors import Conflict

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_WRITE_WAIT_SECONDS = 30

# 64-bit ids on PostgreSQL; SQLite only auto-increments a column declared exactly INTEGER.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC (portable across both databases), returns aware UTC, refuses naive input."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use the Clock (aware UTC)")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def is_transient_db_error(exc: BaseException) -> bool:
    """Database errors that say "not now", not "wrong": a lost connection, a pool timeout, SQLite's
    "database is locked", a PostgreSQL serialization failure or deadlock (OperationalError in psycopg
    and sqlite3). Running the whole transaction again may well succeed."""
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(
        exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError | sqlite3.OperationalError
    )


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


# One write lock per SQLite file for the whole process: the request engine and the background jobs' own
# engine (separate pools) still queue for the same single writer instead of in SQLite's busy handler.
_sqlite_writers: dict[str, threading.Lock] = {}
_sqlite_writers_guard = threading.Lock()


def _sqlite_writer(database: str | None) -> threading.Lock:
    if not database or database == ":memory:":
        return threading.Lock()
    key = str(Path(database).resolve())
    with _sqlite_writers_guard:
        return _sqlite_writers.setdefault(key, threading.Lock())


@dataclass(frozen=True)
class PoolSize:
    """Connections an engine may hold: `size` kept open, `overflow` more when busy, and how long a
    checkout waits for one (then `sqlalchemy.exc.TimeoutError`, which the API answers with a 503)."""

    size: int = 10
    overflow: int = 20
    timeout: float = 30.0


def make_engine(url: str, echo: bool = False, pool: PoolSize | None = None) -> Engine:
    pool = pool or PoolSize()
    pool_args: dict[str, Any] = {"pool_size": pool.size, "max_overflow": pool.overflow, "pool_timeout": pool.timeout}
    if is_sqlite(url):
        database = make_url(url).database
        file_backed = bool(database and database != ":memory:")
        if file_backed:
            Path(database).parent.mkdir(parents=True, exist_ok=True)  # type: ignore[arg-type]
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
            **(pool_args if file_backed else {}),  # in-memory databases use one connection per thread
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, issue BEGIN so transactions really start when we say.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        # SQLite admits one writer at a time. Its own busy handler makes waiting writers sleep with
        # back-off, which under many threads is very unfair (bench/checkout.py saw 20 s waits while the
        # median was 30 ms). Writers of this process therefore queue on a lock first, and only wait on
        # SQLite itself for writers in other processes.
        writer = _sqlite_writer(database)

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Writers take the write lock up front (IMMEDIATE): a read-then-write transaction cannot
            # fail with SQLITE_BUSY when it upgrades, it waits its turn. Read-only sessions begin
            # DEFERRED so readers never queue behind writers (WAL gives them a snapshot).
            if conn.get_execution_options().get("yinli_readonly", False):
                conn.exec_driver_sql("BEGIN")
                return
            if not writer.acquire(timeout=SQLITE_WRITE_WAIT_SECONDS):
                raise sqlite3.OperationalError("database is locked (waited for this process's other writers)")
            conn.info["yinli_writer"] = True
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                conn.info.pop("yinli_writer", None)
                writer.release()
                raise

        def _release(conn: Any) -> None:
            if conn.info.pop("yinli_writer", False):
                writer.release()

        event.listen(engine, "commit", _release)
        event.listen(engine, "rollback", _release)

        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, **pool_args)


class Database:
    """An engine plus its session factory; one per process (the app keeps it in `app.state`; `yinli
    serve`'s background jobs have a second one with a small pool of their own)."""

    def __init__(self, url: str, echo: bool = False, pool: PoolSize | None = None) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo, pool=pool)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = sessionmaker(self.engine.execution_options(yinli_readonly=True), expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits when the block ends normally, rolls back otherwise."""
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


# --- "only one" rules -------------------------------------------------------------------------------------


def partial_unique(name: str, *columns: str, where: str) -> Index:
    """A unique index over the rows matching `where` (SQL), on both databases: an "only one" rule the
    database keeps under concurrency. Services still check first, for the clear error (`unique_or`)."""
    return Index(name, *columns, unique=True, sqlite_where=text(where), postgresql_where=text(where))


def is_unique_violation(exc: IntegrityError) -> bool:
    """A unique (or primary key) violation, as opposed to a foreign key, check or not-null one."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == "23505":  # psycopg: unique_violation
        return True
    name = getattr(orig, "sqlite_errorname", "")
    return name in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY") or "UNIQUE constraint failed" in str(
        orig
    )


@contextmanager
def unique_or(session: Session, recheck: Callable[[], None] | None = None) -> Iterator[None]:
    """Run the block (its inserts and a flush) in a savepoint; if a unique index refuses it, raise the
    service's own clear error instead of letting an IntegrityError escape as a generic conflict.

    A unique violation means a concurrent transaction won the race and has committed (PostgreSQL makes
    the loser wait for the winner's commit before it reports the violation), so `recheck` — the same
    `check_*` the service ran before the insert — now sees the winner and raises the domain error with
    its stable code. If it still finds nothing to say, a plain 409 `concurrent_conflict` is raised.
    The savepoint keeps the rest of the transaction usable either way."""
    try:
        with session.begin_nested():
            yield
            session.flush()
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        if recheck is not None:
            recheck()
        raise Conflict(
            "this conflicts with a change made at the same moment; reload and retry", code="concurrent_conflict"
        ) from exc
