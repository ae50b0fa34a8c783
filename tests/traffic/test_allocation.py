"""The launch plan's guaranteed-delivery planner (traffic/allocation.py): HWM allocation over forecast
supply, quota sizing, widening, and the planned pick on a board."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from yinli.traffic import allocation
from yinli.traffic.allocation import Contract, Forecast
from yinli.traffic.board import Board


def _forecast(root_rate: list[float], cat_rate: list[float], similar: np.ndarray | None = None) -> Forecast:
    n = len(root_rate)
    return Forecast(
        span_days=7.0,
        requests_per_day=100.0,
        warm_requests_per_day=80.0,
        slots_per_request=2.0,
        root_rate=np.asarray(root_rate, float),
        cat_rate=np.asarray(cat_rate, float),
        similar=similar if similar is not None else np.zeros((n, n), bool),
    )


def _contract(key: int, need: float, days: float, cats: list[int], cat_roots: list[int], level: int = 0) -> Contract:
    return Contract(key, need, days, np.asarray(cats, np.int64), np.asarray(cat_roots, np.int64), level)


def test_least_flexible_contract_is_planned_first_and_both_fit() -> None:
    # root 0 has 100 slots/day (leaf 0: 40 of them), root 1 has 50; A can use only leaf 0, B all of root 0
    fc = _forecast([100.0, 50.0], [40.0, 60.0, 50.0])
    a = _contract(1, need=30, days=1.0, cats=[0], cat_roots=[0])
    b = _contract(2, need=50, days=1.0, cats=[0, 1], cat_roots=[0, 0], level=1)
    plan = allocation.plan(fc, [a, b], alpha_max=0.8)
    by = {p.key: p for p in plan}
    assert by[1].order == 0 and by[2].order == 1  # A's 40 slots/day < B's 100
    assert abs(by[1].alpha - 0.75) < 1e-6  # 30 of 40
    # B takes its 50 from what A left: 100 - 30 = 70 of root 0's rate
    assert abs(by[2].alpha * 100.0 - 50.0) < 1e-3 and by[2].feasible
    assert a.level == 0 and b.level == 1


def test_an_infeasible_contract_is_widened_leaf_then_top_then_similar() -> None:
    similar = np.zeros((2, 2), bool)
    similar[0, 1] = True  # shoppers of root 0 also browse root 1
    fc = _forecast([20.0, 200.0], [5.0, 15.0, 200.0], similar)
    c = _contract(1, need=60, days=1.0, cats=[0], cat_roots=[0])
    (planned,) = allocation.plan(fc, [c], alpha_max=0.8)
    assert c.level == 2 and planned.level == 2 and planned.feasible  # leaf 5/day, root 20/day: neither carries 60
    assert planned.supply_per_day == 220.0


def test_infeasible_at_the_widest_level_says_so() -> None:
    fc = _forecast([10.0], [10.0])
    c = _contract(1, need=100, days=1.0, cats=[0], cat_roots=[0])
    (planned,) = allocation.plan(fc, [c], alpha_max=0.8)
    assert not planned.feasible and c.level == len(allocation.LEVELS) - 1


def test_sizing_leaves_room_for_booked_contracts_and_flags_thin_traffic() -> None:
    fc = _forecast([100.0], [100.0])
    booked = [_contract(1, need=60, days=1.0, cats=[0], cat_roots=[0])]
    new = _contract(2, need=0, days=1.0, cats=[0], cat_roots=[0])
    free = allocation.free_supply(fc, booked)
    assert abs(free[0] - 40.0) < 1e-3
    quota, note = allocation.size_quota(fc, free.copy(), new, 200, fill=0.5, warn_below=5)
    assert quota == 20 and note.startswith("sized")  # (100 - 60) × 1 day × 0.5
    quota, note = allocation.size_quota(fc, free.copy(), new, 10, fill=0.5, warn_below=5)
    assert quota == 10 and "carries the asked quota" in note
    # what a booked quota takes is gone for the next one: two stores cannot both book the same slots
    shared = free.copy()
    first, _ = allocation.size_quota(fc, shared, new, 200, fill=0.5, warn_below=5)
    second, _ = allocation.size_quota(fc, shared, _contract(3, 0, 1.0, [0], [0]), 200, fill=0.5, warn_below=5)
    assert first == 20 and second == 10  # (40 - 20) × 0.5
    # 3 free slots: not even 1 arrives surely; the new merchant still gets a thin start over the booked
    # contracts, since its category's interested traffic (100/day) carries one
    full = allocation.free_supply(fc, [_contract(1, need=97, days=1.0, cats=[0], cat_roots=[0])])
    quota, note = allocation.size_quota(fc, full, new, 200, fill=0.5, warn_below=5)
    assert quota == 5 and note.startswith(allocation.SHORT) and "booked" in note
    # nobody interested in its category at all: held, not booked
    empty = _forecast([100.0, 0.0], [100.0, 0.0])
    quota, note = allocation.size_quota(
        empty, empty.root_rate.copy(), _contract(4, 0, 1.0, [1], [1]), 200, fill=0.5, warn_below=5
    )
    assert quota == 1 and note.startswith(allocation.NO_TRAFFIC)
    quota, note = allocation.size_quota(Forecast.empty(1, 1), np.zeros(1), new, 200, fill=0.5, warn_below=5)
    assert quota == 200 and note.startswith(allocation.NO_FORECAST)


@settings(deadline=None, max_examples=60)
@given(
    rates=st.lists(st.floats(0.0, 500.0), min_size=1, max_size=4),
    needs=st.lists(st.tuples(st.floats(0.0, 300.0), st.floats(0.1, 3.0), st.integers(0, 3)), min_size=1, max_size=6),
)
def test_a_feasible_plan_never_hands_out_more_than_the_supply(rates: list[float], needs: list[tuple]) -> None:
    """Invariant: the contracts the plan calls feasible, at their alphas, use at most each segment's rate,
    and each gets its need rate."""
    n = len(rates)
    fc = _forecast(rates, rates)  # one leaf per root, the whole root
    contracts = [
        _contract(k, need, days, [root % n], [root % n], level=1) for k, (need, days, root) in enumerate(needs)
    ]
    planned = allocation.plan(fc, contracts, alpha_max=1.0)
    used = np.zeros(n)
    for c, p in sorted(zip(contracts, planned, strict=True), key=lambda t: t[1].order):
        segs, seg_rates = allocation.eligible_rates(fc, c)
        if not p.feasible:
            continue
        got = np.minimum(np.asarray(rates)[segs] - used[segs], p.alpha * seg_rates)
        assert got.sum() >= c.need / c.days_left - 1e-6
        used[segs] += got
    assert (used <= np.asarray(rates) + 1e-6).all()


def _board(alpha: list[float], rank: list[int], level: list[int], quota: float = 1000.0) -> Board:
    n = len(alpha)
    day = 86400.0 * 20_000
    return Board(
        store=np.arange(n),
        store_ids=np.arange(1, n + 1),
        quota=np.full(n, quota),
        delivered=np.zeros(n),
        start=np.full(n, day),
        end=np.full(n, day + 86400.0),
        by_cat={k: np.asarray([k]) for k in range(n)},
        by_root={0: np.arange(n)},
        products=[np.asarray([k]) for k in range(n)],
        profile=np.full(24, 1 / 24),
        alpha=np.asarray(alpha, float),
        rank=np.asarray(rank),
        level=np.asarray(level),
    )


def test_planned_pick_follows_alpha_and_order() -> None:
    rng = np.random.default_rng(5)
    board = _board([0.25, 0.5], rank=[0, 1], level=[1, 1])
    now = float(board.start[0]) + 43200.0  # mid-window: both at target 500 once delivered follows
    wins = np.zeros(3)
    for _ in range(4000):
        board.delivered[:] = board.target(np.arange(2), now)  # on target: pace 1
        picked = board.pick_planned(
            np.asarray([], np.int64), np.asarray([0]), now, rng, set(), lambda p: np.ones(len(p))
        )
        wins[picked[0] if picked else 2] += 1
    share = wins / wins.sum()
    # first in order takes 0.25; the second 0.5 of what is left (HWM takes min(alpha, 1 - mass)); rest organic
    assert abs(share[0] - 0.25) < 0.03 and abs(share[1] - 0.5) < 0.03 and abs(share[2] - 0.25) < 0.03


def test_planned_pick_respects_each_store_s_targeting_level() -> None:
    rng = np.random.default_rng(1)
    board = _board([1.0, 1.0], rank=[0, 1], level=[0, 1])
    now = float(board.start[0]) + 3600.0
    # a shopper interested in root 0 only (no leaf): store 0 is leaf-targeted, so only store 1 may take it
    for _ in range(50):
        picked = board.pick_planned(
            np.asarray([], np.int64), np.asarray([0]), now, rng, set(), lambda p: np.ones(len(p))
        )
        assert picked is not None and picked[0] == 1 and picked[1] == "top_category"
        board.delivered[:] = 0
    picked = board.pick_planned(np.asarray([0]), np.asarray([0]), now, rng, set(), lambda p: np.ones(len(p)))
    assert picked == (0, "category")


def test_planned_pick_prefers_high_value_slots() -> None:
    rng = np.random.default_rng(2)
    board = _board([0.3], rank=[0], level=[1])
    now = float(board.start[0]) + 43200.0
    taken = {1.0: 0, 3.0: 0}
    for i in range(6000):
        board.delivered[:] = board.target(np.arange(1), now)
        ev = 1.0 if i % 2 else 3.0
        picked = board.pick_planned(
            np.asarray([], np.int64), np.asarray([0]), now, rng, set(), lambda p, ev=ev: np.full(len(p), ev)
        )
        taken[ev] += picked is not None
    assert taken[3.0] > 1.5 * taken[1.0]


def test_a_thin_segment_books_only_what_arrives_with_99_percent_probability() -> None:
    """10 slots expected in the window: fill 0.7 alone would book 7, but Poisson(10) arrivals reach 7 only
    87% of the time; 3 arrive with probability ≥ 0.99 (and 4 do not)."""
    fc = _forecast([10.0], [10.0])
    new = _contract(1, need=0, days=1.0, cats=[0], cat_roots=[0])
    quota, note = allocation.size_quota(fc, fc.root_rate.copy(), new, 60, fill=0.7, warn_below=5)
    assert quota == 3 and note.startswith(allocation.SHORT)
    big = _forecast([1000.0], [1000.0])
    quota, _ = allocation.size_quota(big, big.root_rate.copy(), new, 2000, fill=0.7, warn_below=5)
    assert quota == 700  # plenty of traffic: the fill margin binds, not the arrival noise


def test_a_thin_top_category_is_sized_with_similar_shoppers() -> None:
    """Root 0's own traffic carries 3 slots surely (below warn_below 5); shoppers of root 0 also browse
    root 1, whose traffic counts as quality for it: sized on both."""
    similar = np.zeros((2, 2), bool)
    similar[0, 1] = True
    fc = _forecast([10.0, 90.0], [10.0, 90.0], similar)
    new = _contract(1, need=0, days=1.0, cats=[0], cat_roots=[0])
    quota, note = allocation.size_quota(fc, fc.root_rate.copy(), new, 60, fill=0.7, warn_below=5)
    assert quota == 60 and "with similar shoppers" in note  # 100 × 0.7 = 70 ≥ 60 asked
    alone = _forecast([10.0, 90.0], [10.0, 90.0])  # no similarity: only its own thin traffic
    quota, note = allocation.size_quota(alone, alone.root_rate.copy(), new, 60, fill=0.7, warn_below=5)
    assert quota == 3 and note.startswith(allocation.SHORT) and "similar" not in note
