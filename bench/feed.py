"""Feed latency and launch-plan coverage, single process, on catalogs of 100k and 1M SKUs.

What is measured is yinli's real hot path — `traffic.feed.serve` (candidates from the snapshot, features,
pCTR/pCVR, the user-first score, the diverse layout, launch slots served from the allocation plan, boost
slots by the pacing controller)
plus building the page's impression rows — over a serving snapshot assembled by `traffic.snapshot.assemble`
from a catalog built directly as arrays. The OLTP database is bypassed (creating 1M products through the
API would take hours and is not what the feed reads: it serves from the snapshot); impressions are kept in
memory instead of being inserted. One SKU per product (so "1M SKUs" is 1M rankable product cards, the
harder case), 10k stores of which 20% are new merchants enrolled in the launch plan, 20k recent videos,
500 live sessions, and shoppers whose interests come from a seeded click/order history replayed through
the real `FeatureStore`.

A simulated day: requests arrive over 24 hours following an evening-heavy traffic profile (the launch
controller paces with the same profile, as it would after learning it from the log). Each new merchant's
quota is sized the way the platform sizes it (traffic/allocation.py): the launch-slot supply per segment
is forecast from yesterday's requests (another draw of the same traffic), each quota (asked: 200) is what
the free supply carries at fill 0.7, and the allocation plan is re-solved every 3 hours from what has been
delivered; coverage = share of new merchants reaching their sized quota by the end of the day (quality
impressions: launch slots and organic ones to interested shoppers). GMV cost: the same request stream
served with the launch plan off, comparing the expected GMV (pCTR × pCVR × price) of everything shown.

Peer in the same run: a brute-force pass (score every item of the catalog, take the top page) to put the
candidate-based path's latency in proportion.

    uv run python bench/feed.py --quick     # 100k SKUs, 4k requests (under a minute)
    uv run python bench/feed.py             # 100k and 1M SKUs, 30k requests each

Latency is wall-clock per request (what a caller waits) and this thread's CPU time per request (what the
code costs: on a shared machine other processes inflate the first, not the second); both are reported with
the load average. Progress on stderr; the last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import gc
import os
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import numpy as np

from _common import emit_result, machine, ms_percentiles, rate, say
from yinli.traffic import allocation, candidates, feed
from yinli.traffic.board import build_board
from yinli.traffic.experiments import DEFAULT
from yinli.traffic.features import FeatureStore
from yinli.traffic.service import impression_rows
from yinli.traffic.snapshot import Catalog, assemble

DAY = 86400.0
N_STORES = 10_000
NEW_SHARE = 0.2
N_ROOTS, N_LEAVES = 22, 1258
N_SHOPPERS = 20_000
START = datetime(2026, 11, 24, tzinfo=UTC)
PROFILE = np.asarray([2, 1, 1, 1, 1, 1, 2, 3, 4, 4, 4, 4, 5, 5, 4, 4, 4, 5, 6, 8, 9, 9, 7, 4], float)
PROFILE /= PROFILE.sum()
ASKED_QUOTA = 200  # the launch plan's default quota (YINLI_TRAFFIC_LAUNCH_QUOTA)
LEAD = 0.1
ROUNDS = 8  # plan rounds in the day (every 3 hours)


def _contracts(
    snap: Any, board: Any, delivered: np.ndarray, now: float, levels: np.ndarray | None = None
) -> list[allocation.Contract]:
    """The board's stores as the planner's contracts (categories of their products, need, traffic left)."""
    positions = np.arange(len(board))
    left = board.days_left(positions, now)
    out = []
    for pos in positions:
        cats = np.unique(snap.cat[board.products[pos]])
        level = int(levels[pos]) if levels is not None else 0
        need = max(float(board.quota[pos] - delivered[pos]), 0.0)
        out.append(
            allocation.Contract(int(board.store_ids[pos]), need, float(left[pos]), cats, snap.cat_root[cats], level)
        )
    return out


def build_catalog(rng: np.random.Generator, n_skus: int, now: float) -> Catalog:
    leaves = np.arange(N_ROOTS + 1, N_ROOTS + N_LEAVES + 1)
    category_ids = np.arange(1, N_ROOTS + N_LEAVES + 1)
    category_root = np.concatenate([np.arange(1, N_ROOTS + 1), 1 + (leaves - N_ROOTS - 1) % N_ROOTS])
    store_ids = np.arange(1, N_STORES + 1)
    store_new = rng.random(N_STORES) < NEW_SHARE
    store_leaf = leaves[rng.integers(0, N_LEAVES, N_STORES)]
    product_store = np.sort(rng.integers(1, N_STORES + 1, n_skus))
    same_leaf = rng.random(n_skus) < 0.8  # a store sells mostly in its main category
    product_category = np.where(same_leaf, store_leaf[product_store - 1], leaves[rng.integers(0, N_LEAVES, n_skus)])
    price = np.round(np.exp(rng.normal(8.5, 1.0, n_skus))).clip(100, 10_000_000)
    inflated = rng.random(n_skus) < 0.05
    listed = np.where(store_new[product_store - 1], now - rng.uniform(0, 2 * DAY, n_skus), now - 90 * DAY)
    n_videos, n_live = 20_000, 500
    video_product = np.sort(rng.choice(n_skus, n_videos, replace=False)) + 1
    live_product = rng.choice(n_skus, n_live, replace=False) + 1
    return Catalog(
        product_ids=np.arange(1, n_skus + 1, dtype=np.int64),
        product_store=product_store.astype(np.int64),
        product_category=product_category.astype(np.int64),
        price_fen=price,
        list_price_fen=np.where(inflated, price * 4, price),
        title_noise=np.clip(rng.beta(1, 6, n_skus) * 1.5, 0, 1),
        rating_sum=rng.integers(0, 500, n_skus).astype(float),
        rating_count=rng.integers(0, 100, n_skus).astype(float),
        sales=rng.pareto(1.5, n_skus).round(),
        listed_at=listed,
        store_ids=store_ids.astype(np.int64),
        store_new=store_new,
        store_experience=rng.beta(8, 2, N_STORES),
        category_ids=category_ids.astype(np.int64),
        category_root=category_root.astype(np.int64),
        video_ids=np.arange(1, n_videos + 1, dtype=np.int64),
        video_store=product_store[video_product - 1].astype(np.int64),
        video_creator=np.zeros(n_videos, np.int64),
        video_product=video_product.astype(np.int64),
        video_published=now - rng.uniform(0, 7 * DAY, n_videos),
        video_completion=rng.beta(2, 5, n_videos),
        live_ids=np.arange(1, n_live + 1, dtype=np.int64),
        live_store=product_store[live_product - 1].astype(np.int64),
        live_creator=np.zeros(n_live, np.int64),
        live_product=live_product.astype(np.int64),
        live_viewers=rng.pareto(1.2, n_live) * 100,
        follows={
            int(s): (list(rng.integers(1, N_STORES + 1, 3)), [])
            for s in rng.choice(N_SHOPPERS, N_SHOPPERS // 5, replace=False) + 1
        },
    )


def history(rng: np.random.Generator, catalog: Catalog, n_events: int, now: float) -> FeatureStore:
    """Seeded past behaviour replayed through the real FeatureStore: impressions, clicks, carts, orders of
    shoppers who each like a few categories."""
    store = FeatureStore(72.0)
    by_cat: dict[int, np.ndarray] = {}
    order = np.argsort(catalog.product_category, kind="stable")
    cats, starts = np.unique(catalog.product_category[order], return_index=True)
    bounds = dict(
        zip(cats.tolist(), zip(starts.tolist(), [*starts[1:].tolist(), len(order)], strict=True), strict=True)
    )
    likes = rng.choice(cats, size=(N_SHOPPERS, 3))
    kinds = np.asarray(["impression", "click", "add_to_cart", "order"])
    picks = rng.choice(4, n_events, p=[0.55, 0.3, 0.1, 0.05])
    shoppers = rng.integers(1, N_SHOPPERS + 1, n_events)
    times = now - rng.uniform(0, 7 * DAY, n_events)
    events = []
    for i in range(n_events):
        c = int(likes[shoppers[i] - 1, rng.integers(0, 3)])
        lo, hi = bounds[c]
        if c not in by_cat:
            by_cat[c] = order[lo:hi]
        p = int(by_cat[c][rng.integers(0, hi - lo)])
        events.append(
            SimpleNamespace(
                id=i + 1,
                kind=str(kinds[picks[i]]),
                occurred_at=datetime.fromtimestamp(times[i], UTC),
                shopper_id=int(shoppers[i]),
                item_type="product",
                item_id=p + 1,
                product_id=p + 1,
                store_id=int(catalog.product_store[p]),
                creator_id=None,
                category_id=c,
                value_fen=int(catalog.price_fen[p]) if picks[i] == 3 else 0,
                watch_seconds=0,
                surface="feed",
            )
        )
    store.apply(events)
    return store


def arrivals(rng: np.random.Generator, n: int, t0: float) -> np.ndarray:
    hours = rng.choice(24, n, p=PROFILE)
    return np.sort(t0 + hours * 3600.0 + rng.uniform(0, 3600.0, n))


def run_size(n_skus: int, n_requests: int, n_events: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    t0 = START.timestamp()
    say(f"{n_skus:,} SKUs: building the catalog arrays")
    started = time.perf_counter()
    catalog = build_catalog(rng, n_skus, t0)
    catalog_s = time.perf_counter() - started
    say(f"replaying {n_events:,} history events into the feature store")
    started = time.perf_counter()
    features = history(rng, catalog, n_events, t0)
    features_s = time.perf_counter() - started
    say("assembling the serving snapshot (+ co-engagement neighbours)")
    started = time.perf_counter()
    snap = assemble(catalog, features, t0, 1)
    assemble_s = time.perf_counter() - started
    started = time.perf_counter()
    snap.cf_ptr, snap.cf_items = candidates.fit_co_engagement(snap.n_products, snap.product_index, snap.recent)
    cf_s = time.perf_counter() - started

    new_ids = catalog.store_ids[catalog.store_new]
    times = arrivals(rng, n_requests, t0)
    shoppers = rng.integers(1, N_SHOPPERS + 1, n_requests)  # many distinct shoppers, as a real day has
    pages = np.where(rng.random(n_requests) < 0.9, 1, 2)

    # Guaranteed delivery as the platform runs it (traffic/allocation.py): forecast the day's launch-slot
    # supply per segment from *yesterday's* requests (a different draw of the same traffic), size each new
    # merchant's quota to the free supply (asked: production's default 200), then plan and re-plan it
    # every ROUNDS-th of the day from what has been delivered, as the background round does.
    say("forecasting launch supply from yesterday's requests; sizing quotas; planning")
    started = time.perf_counter()
    yesterday = rng.integers(1, N_SHOPPERS + 1, n_requests)
    counts = np.bincount(yesterday, minlength=N_SHOPPERS + 1)
    fc = allocation.forecast_from(snap, {int(k): int(counts[k]) for k in np.flatnonzero(counts)}, 1.0, 2.0)
    profile_board = build_board(
        snap, new_ids, np.ones(len(new_ids)), np.zeros(len(new_ids)), np.full(len(new_ids), t0),
        np.full(len(new_ids), t0 + DAY), PROFILE, LEAD,
    )  # fmt: skip
    contracts = _contracts(snap, profile_board, np.zeros(len(profile_board)), t0)
    free = allocation.free_supply(fc, [])
    sized = [allocation.size_quota(fc, free, c, ASKED_QUOTA, fill=0.7, warn_below=10) for c in contracts]
    quota_of = dict(zip(profile_board.store_ids.tolist(), [q for q, _ in sized], strict=True))
    quotas = np.asarray([quota_of.get(int(s), 1) for s in new_ids], float)
    plan_s = time.perf_counter() - started

    def launch_board() -> Any:
        return build_board(
            snap, new_ids, quotas, np.zeros(len(new_ids)), np.full(len(new_ids), t0), np.full(len(new_ids), t0 + DAY),
            PROFILE, LEAD, similar=fc.similar,
        )  # fmt: skip

    def replan(board: Any, now: float) -> float:
        """The round: the plan re-solved from what each store still needs; returns its time in seconds."""
        begin = time.perf_counter()
        cs = _contracts(snap, board, board.delivered, now, board.level)
        planned = allocation.plan(fc, cs, 0.8)
        board.alpha = np.asarray([a.alpha for a in planned])
        board.rank = np.asarray([a.order for a in planned])
        board.level = np.asarray([c.level for c in cs])
        return time.perf_counter() - begin

    def state(launch_on: bool) -> feed.ServingState:
        launch = launch_board()
        replan(launch, t0)
        boosted = rng.choice(catalog.store_ids[~catalog.store_new], 100, replace=False)
        boost = build_board(
            snap, boosted, np.full(100, 500), np.zeros(100), np.full(100, t0), np.full(100, t0 + DAY), PROFILE, 0.0,
            ["rising"] * 100,
        )  # fmt: skip
        return feed.ServingState(snap, None, launch, boost, 0.2, 0.1, launch_on, True)

    on = state(True)
    say(
        f"serving {n_requests:,} feed requests over a simulated day (launch quotas sized to forecast supply: "
        f"median {int(np.median(quotas))}, asked {ASKED_QUOTA})"
    )
    round_at = {int(k * n_requests / ROUNDS) for k in range(1, ROUNDS)}
    plan_rounds_s: list[float] = []
    latencies, cpu, shown_ev, shown = [], [], 0.0, 0
    for i in range(50):  # warm-up (first-call allocations), not timed and not counted
        feed.serve(state(True), int(shoppers[i]), DEFAULT, page=1, limit=10, seed=i, now=t0, request_id="w" * 32)
    gc.collect()
    wall = time.perf_counter()
    for i in range(n_requests):
        if i in round_at:
            assert on.launch is not None
            plan_rounds_s.append(replan(on.launch, float(times[i])))
        begin, begin_cpu = time.perf_counter(), time.thread_time()
        fp = feed.serve(
            on,
            int(shoppers[i]),
            DEFAULT,
            page=int(pages[i]),
            limit=10,
            seed=i,
            now=float(times[i]),
            request_id=f"{i:032x}",
        )
        impression_rows(snap, fp, int(shoppers[i]), START)
        latencies.append(time.perf_counter() - begin)
        cpu.append(time.thread_time() - begin_cpu)
        shown_ev += sum(p.ev_fen for p in fp.placements)
        shown += len(fp.placements)
        if (i + 1) % max(1, n_requests // 5) == 0:
            say(f"  {i + 1:,} requests, p99 so far {ms_percentiles(latencies)['p99']} ms")
    wall = time.perf_counter() - wall
    launch = on.launch
    assert launch is not None
    reached = int((launch.delivered >= launch.quota).sum())

    say("the same stream with the launch plan off (GMV cost)")
    off = state(False)
    off_ev = 0.0
    sample = range(0, n_requests, 4)
    on_ev_sample = 0.0
    on_again = state(True)
    for i in sample:
        if i in round_at:
            assert on_again.launch is not None
            replan(on_again.launch, float(times[i]))
        args = {"page": int(pages[i]), "limit": 10, "seed": i, "now": float(times[i]), "request_id": f"{i:032x}"}
        off_ev += sum(p.ev_fen for p in feed.serve(off, int(shoppers[i]), DEFAULT, **args).placements)
        on_ev_sample += sum(p.ev_fen for p in feed.serve(on_again, int(shoppers[i]), DEFAULT, **args).placements)

    say("peer: brute force over the whole catalog")
    brute = []
    for i in range(min(200, n_requests)):
        begin = time.perf_counter()
        scores = snap.prior + 0.3 * (snap.cat == snap.cat[i % snap.n_products])
        top = np.argpartition(-scores, 10)[:10]
        top[np.argsort(-scores[top])]
        brute.append(time.perf_counter() - begin)
    return {
        "skus": n_skus,
        "products": snap.n_products,
        "stores": N_STORES,
        "new_merchants": len(new_ids),
        "videos": len(catalog.video_ids),
        "live_sessions": len(catalog.live_ids),
        "requests": n_requests,
        "latency_ms": ms_percentiles(latencies),
        "cpu_ms": ms_percentiles(cpu),  # this thread's CPU time per request: what the machine's load does not inflate
        "requests_per_s": rate(n_requests, wall),
        "items_shown": shown,
        "launch_quota_asked": ASKED_QUOTA,
        "launch_quota_sized": {
            "median": float(np.median(quotas)),
            "mean": round(float(quotas.mean()), 1),
            "p10": float(np.percentile(quotas, 10)),
            "below_warn": int((quotas < 10).sum()),
        },
        "launch_forecast_slots_per_day": round(float(fc.root_rate.sum()), 1),
        "launch_coverage": round(reached / len(launch), 4),
        "launch_reached": reached,
        "launch_enrolled_shown": len(launch),
        "launch_quality_impressions": int(launch.delivered.sum()),
        "launch_levels": {lv: int((launch.level == k).sum()) for k, lv in enumerate(allocation.LEVELS)}
        if launch.level is not None
        else {},
        "plan_s": {
            "size": round(plan_s, 3),
            "round_p50": round(float(np.median(plan_rounds_s)), 3) if plan_rounds_s else None,
        },
        "expected_gmv_fen_per_request": round(shown_ev / n_requests, 1),
        "gmv_cost_pct": round(100 * (off_ev - on_ev_sample) / off_ev, 2) if off_ev else None,
        "brute_force_ms": ms_percentiles(brute),
        "build_s": {
            "catalog": round(catalog_s, 2),
            "features": round(features_s, 2),
            "snapshot": round(assemble_s, 2),
            "co_engagement": round(cf_s, 2),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="100k SKUs, fewer requests (under a minute)")
    parser.add_argument("--requests", type=int, default=None)
    parser.add_argument("--seed", type=int, default=20261124)
    args = parser.parse_args()
    host = machine()  # load average before the work starts
    if args.quick:
        sizes, requests, history_events = [100_000], args.requests or 4_000, 100_000
    else:
        sizes, requests, history_events = [100_000, 1_000_000], args.requests or 30_000, 300_000
    results = [run_size(n, requests, history_events, args.seed) for n in sizes]
    largest = results[-1]
    emit_result(
        {
            "benchmark": "feed",
            "quick": args.quick,
            "machine": host,
            "target_p99_ms_at_1m": 20.0,
            "p99_ms_largest": largest["latency_ms"]["p99"],
            "p99_cpu_ms_largest": largest["cpu_ms"]["p99"],
            "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
            "meets_target": (largest["skus"] >= 1_000_000 and largest["latency_ms"]["p99"] <= 20.0)
            if not args.quick
            else None,
            "sizes": results,
            "simulated_day": str(START.date()),
            "window": str(timedelta(days=1)),
        }
    )


if __name__ == "__main__":
    main()
