from datetime import UTC, datetime, timedelta

import pytest

from yinli.core.clock import SimulatedClock, SystemClock


def test_system_clock_is_aware_utc():
    assert SystemClock().now().tzinfo is UTC


def test_simulated_clock_moves_only_forward():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    clock = SimulatedClock(start)
    assert clock.now() == start
    assert clock.advance(timedelta(days=2)) == start + timedelta(days=2)
    clock.set(start + timedelta(days=3))
    assert clock.now() == start + timedelta(days=3)
    with pytest.raises(ValueError):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError):
        clock.set(start)
    with pytest.raises(ValueError):
        SimulatedClock(datetime(2026, 1, 1))  # naive
