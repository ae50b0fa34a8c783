from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from yinli.core.outbox import OutboxEvent, emit, get_cursor, read_after, save_cursor


def test_events_are_read_in_order_after_a_cursor(database, clock):
    with database.session() as s:
        for i in range(5):
            emit(s, clock, "Thing" if i % 2 else "Other", "thing", i, {"i": i})
    with database.session() as s:
        batch = read_after(s, 0, clock=clock, limit=3)
        assert [e.payload["i"] for e in batch.events] == [0, 1, 2]
        rest = read_after(s, batch.cursor, clock=clock)
        assert [e.payload["i"] for e in rest.events] == [3, 4]
        only = read_after(s, 0, clock=clock, types=["Thing"])
        assert [e.payload["i"] for e in only.events] == [1, 3]
        assert only.cursor == rest.cursor  # filtered types still advance the cursor


def test_an_event_exists_only_if_its_transaction_committed(database, clock):
    try:
        with database.session() as s:
            emit(s, clock, "Lost", "thing", 1)
            raise RuntimeError("the change failed")
    except RuntimeError:
        pass
    with database.session() as s:
        emit(s, clock, "Kept", "thing", 2)
    with database.session() as s:
        assert [e.type for e in read_after(s, 0, clock=clock, gap_grace=timedelta(0)).events] == ["Kept"]


def test_a_recent_gap_holds_the_reader_back_until_it_is_old(database, clock):
    with database.session() as s:
        emit(s, clock, "A", "thing", 1)
        # simulate id 2 taken by a transaction that has not committed yet
        s.add(OutboxEvent(id=3, type="C", aggregate_type="thing", aggregate_id=3, payload={}, occurred_at=clock.now()))
    with database.session() as s:
        batch = read_after(s, 0, clock=clock)
        assert [e.type for e in batch.events] == ["A"]
        assert batch.cursor == 1
    clock.advance(timedelta(seconds=10))  # the gap is old: id 2 was rolled back
    with database.session() as s:
        assert [e.type for e in read_after(s, 1, clock=clock).events] == ["C"]
    if database.is_sqlite:
        return
    with database.engine.begin() as conn:  # keep PostgreSQL's sequence past the hand-made id
        conn.execute(text("SELECT setval(pg_get_serial_sequence('outbox_events','id'), 3)"))


def test_cursors_never_move_backwards(database, clock):
    with database.session() as s:
        assert get_cursor(s, "search") == 0
        save_cursor(s, clock, "search", 10)
        save_cursor(s, clock, "search", 4)
    with database.session() as s:
        assert get_cursor(s, "search") == 10
