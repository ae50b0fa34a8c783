"""Checkouts per second through yinli's real services (in-process, no HTTP), on SQLite and PostgreSQL.

One attempt = `checkout.service.do_checkout` in its own transaction (orders, stock hold, pending payment),
then `flows.charge.pay` (claim, simulated gateway charge, apply: stock committed, order paid, ledger
booked — each database step in its own transaction), exactly as the API runs them. Attempts run on
`--threads` worker threads sharing one `Database`, so what is measured is CPython threads (one GIL) plus
database round trips; on a 2-core machine the database server and the benchmark share the cores.

Scenarios, per database:
- spread: attempts spread over many SKUs with ample stock (1–3 units each, seeded);
- flash:  one hot SKU with little stock and many more buyers than units (out-of-stock is expected).
After each: no oversell (units in paid orders never exceed the initial stock; on_hand never negative;
on_hand + sold == initial), nothing left held, the ledger balanced.
Ceiling, same run, same database: bare `UPDATE t SET n = n - 1 WHERE id = 1 AND n >= 1` from the same
number of threads with the plain driver (psycopg / sqlite3), one transaction each.

    uv run python bench/checkout.py --quick          # under a minute
    uv run python bench/checkout.py                  # full sizes, a few minutes
    uv run python bench/checkout.py --skip-pg --threads 4

Progress goes to stderr; the last line of stdout is one JSON object with every figure. The exit status
is 1 if an invariant was broken (oversell, negative stock, lost units, unbalanced ledger).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from argon2 import PasswordHasher
from sqlalchemy import func, select, text

from _common import (
    ceiling_postgres,
    ceiling_sqlite,
    emit_result,
    machine,
    ms_percentiles,
    probe_postgres,
    rate,
    reset_postgres_schema,
    run_threads,
    say,
)
from yinli.accounts.service import do_sign_up
from yinli.catalog.categories import do_load_categories
from yinli.catalog.models import Category, Sku
from yinli.catalog.service import do_create_product, do_list_product
from yinli.checkout.service import LineRequest, do_checkout
from yinli.core import migrate
from yinli.core.auth import Actor, Role, set_hasher
from yinli.core.clock import SystemClock
from yinli.core.db import Database
from yinli.core.errors import DomainError
from yinli.core.settings import Settings
from yinli.flows.charge import pay
from yinli.inventory.models import Stock, StockMovement
from yinli.inventory.service import OutOfStock, do_set_on_hand
from yinli.merchants.service import do_apply_for_store, do_review_store
from yinli.orders.models import Order, OrderLine, OrderStatus
from yinli.payments import ledger
from yinli.payments.gateway import SimulatedGateway
from yinli.payments.models import Payment, PaymentStatus

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/yinli_bench"
LEAF = "手机数码 > 手机配件 > 手机保护套"
ADDRESS = {"name": "李雷", "phone": "13800000000", "region": "浙江省 杭州市 西湖区", "line": "文三路 1 号"}
PASSWORD = "correct horse battery"
NOTE = (
    "CPython threads sharing one GIL + database round trips, in-process through the real services; "
    "on a 2-core machine the database server shares the cores with the benchmark."
)


@dataclass(frozen=True)
class Sizes:
    stores: int
    spread_skus: int
    spread_stock: int  # per SKU: ample, never runs out
    spread_attempts: int
    flash_stock: int
    flash_attempts: int
    shoppers: int
    ceiling_seconds: float


QUICK = Sizes(
    stores=2,
    spread_skus=40,
    spread_stock=10_000,
    spread_attempts=160,
    flash_stock=20,
    flash_attempts=160,
    shoppers=20,
    ceiling_seconds=1.5,
)
FULL = Sizes(
    stores=4,
    spread_skus=200,
    spread_stock=100_000,
    spread_attempts=2000,
    flash_stock=100,
    flash_attempts=1000,
    shoppers=200,
    ceiling_seconds=5.0,
)


# --- building a marketplace through the services ---------------------------------------------------------


@dataclass
class World:
    spread_skus: list[int]
    flash_sku: int
    warm_sku: int
    shoppers: list[Actor]


def _merchant_with_store(db: Database, clock: SystemClock, settings: Settings, operator: Actor, n: int) -> Actor:
    with db.session() as s:
        email = f"bench-merchant{n}@example.com"
        user = do_sign_up(s, clock, email=email, password=PASSWORD, display_name=f"商家{n}", role=Role.MERCHANT)
        actor = Actor(user.id, Role.MERCHANT)
        store = do_apply_for_store(s, clock, settings, actor, name=f"基准店铺{n}")
        do_review_store(s, clock, operator, store.id, approve=True, note=None)
        return Actor(user.id, Role.MERCHANT, store.id)


def _products(
    db: Database,
    clock: SystemClock,
    merchant: Actor,
    leaf_id: int,
    prices: list[list[int]],
    on_hand: int,
    tag: str,
) -> list[int]:
    """One listed product per entry of `prices` (one SKU per price), each SKU stocked with `on_hand`."""
    sku_ids: list[int] = []
    with db.session() as s:
        for p, skus in enumerate(prices):
            product = do_create_product(
                s,
                clock,
                merchant,
                store_id=merchant.store_id,
                category_id=leaf_id,
                title=f"基准商品 {tag}{p} 手机壳",
                skus=[
                    {"code": f"{tag}{p}-{k}", "attributes": {"款式": str(k)}, "price_fen": price}
                    for k, price in enumerate(skus)
                ],
            )
            do_list_product(s, clock, merchant, product.id)
            ids = list(s.scalars(select(Sku.id).where(Sku.product_id == product.id).order_by(Sku.id)))
            for sku_id in ids:
                do_set_on_hand(s, sku_id, on_hand, clock.now(), merchant.user_id)
            sku_ids += ids
    return sku_ids


def build_world(db: Database, clock: SystemClock, settings: Settings, sizes: Sizes, rng: np.random.Generator) -> World:
    migrate.upgrade(db.url)
    with db.session() as s:
        do_load_categories(s)
        leaf_id = s.scalar(select(Category.id).where(Category.path == LEAF))
        assert leaf_id is not None, f"category {LEAF!r} is missing"
        op = do_sign_up(
            s,
            clock,
            email="bench-operator@example.com",
            password=PASSWORD,
            display_name="运营",
            role=Role.OPERATOR,
            allow_operator=True,
        )
        operator = Actor(op.id, Role.OPERATOR)
    merchants = [_merchant_with_store(db, clock, settings, operator, n) for n in range(sizes.stores)]
    # spread: two SKUs per product, products dealt round-robin over the stores
    n_products = (sizes.spread_skus + 1) // 2
    per_store: list[list[list[int]]] = [[] for _ in merchants]
    for p in range(n_products):
        k = min(2, sizes.spread_skus - 2 * p)
        per_store[p % len(merchants)].append([int(x) * 10 for x in rng.integers(99, 1990, k)])
    spread: list[int] = []
    for i, (m, prices) in enumerate(zip(merchants, per_store, strict=True)):
        spread += _products(db, clock, m, leaf_id, prices, sizes.spread_stock, f"S{i}-")
    flash = _products(db, clock, merchants[0], leaf_id, [[9900]], sizes.flash_stock, "F")[0]
    warm = _products(db, clock, merchants[-1], leaf_id, [[1000]], 1000, "W")[0]
    shoppers = []
    with db.session() as s:
        for n in range(sizes.shoppers):
            u = do_sign_up(
                s,
                clock,
                email=f"bench-shopper{n}@example.com",
                password=PASSWORD,
                display_name=f"买家{n}",
                role=Role.SHOPPER,
                birth_year=1990,
            )
            shoppers.append(Actor(u.id, Role.SHOPPER))
    return World(spread, flash, warm, shoppers)


# --- one attempt: checkout, then pay ---------------------------------------------------------------------


@dataclass
class Tally:
    """What one worker thread saw."""

    paid: int = 0
    units: int = 0
    out_of_stock: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    total_s: list[float] = field(default_factory=list)  # checkout + pay, successful attempts
    checkout_s: list[float] = field(default_factory=list)
    pay_s: list[float] = field(default_factory=list)
    out_of_stock_s: list[float] = field(default_factory=list)
    last_paid_at: float = 0.0


def _error(tally: Tally, stage: str, e: Exception) -> None:
    code = getattr(e, "code", None) if isinstance(e, DomainError) else None
    tally.errors[f"{stage}:{type(e).__name__}{':' + code if code else ''}"] += 1
    if len(tally.samples) < 3:
        tally.samples.append(f"{stage}: {type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}")


def attempt(
    db: Database,
    clock: SystemClock,
    settings: Settings,
    gateway: SimulatedGateway,
    buyer: Actor,
    sku_id: int,
    quantity: int,
    tally: Tally,
) -> None:
    t0 = time.perf_counter()
    try:
        with db.session() as s:
            payment, _orders = do_checkout(
                s, clock, settings, buyer, lines=[LineRequest(sku_id, quantity)], address=ADDRESS
            )
            payment_id = payment.id
    except OutOfStock:
        tally.out_of_stock += 1
        tally.out_of_stock_s.append(time.perf_counter() - t0)
        return
    except Exception as e:
        _error(tally, "checkout", e)
        return
    t1 = time.perf_counter()
    try:
        paid = pay(db, clock, gateway, buyer, payment_id, "card")
    except Exception as e:
        _error(tally, "pay", e)
        return
    t2 = time.perf_counter()
    if paid.status != PaymentStatus.SUCCEEDED:
        tally.errors[f"pay:status_{paid.status}"] += 1
        return
    tally.paid += 1
    tally.units += quantity
    tally.total_s.append(t2 - t0)
    tally.checkout_s.append(t1 - t0)
    tally.pay_s.append(t2 - t1)
    tally.last_paid_at = t2


def run_scenario(
    db: Database,
    clock: SystemClock,
    settings: Settings,
    gateway: SimulatedGateway,
    plan: list[tuple[Actor, int, int]],
    threads: int,
) -> dict[str, Any]:
    tallies = [Tally() for _ in range(threads)]
    lock = threading.Lock()
    next_index = [0]
    started: list[float] = []

    def warm(_i: int) -> None:
        with db.session() as s:  # every thread holds a pooled connection before the clock starts
            s.execute(text("SELECT 1"))

    def work(i: int) -> None:
        with lock:
            started.append(time.perf_counter())
        while True:
            with lock:
                k = next_index[0]
                next_index[0] += 1
            if k >= len(plan):
                return
            buyer, sku_id, quantity = plan[k]
            attempt(db, clock, settings, gateway, buyer, sku_id, quantity, tallies[i])

    cpu = time.process_time()
    wall = run_threads(threads, work, warm_up=warm)
    cpu = time.process_time() - cpu  # this process only (all threads); not the PostgreSQL server's
    start = min(started)
    errors: Counter[str] = Counter()
    for t in tallies:
        errors.update(t.errors)
    paid = sum(t.paid for t in tallies)
    last_paid = max((t.last_paid_at for t in tallies), default=0.0)

    def merged(name: str) -> list[float]:
        return [x for t in tallies for x in getattr(t, name)]

    return {
        "attempts": len(plan),
        "paid": paid,
        "units_paid": sum(t.units for t in tallies),
        "out_of_stock": sum(t.out_of_stock for t in tallies),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "error_samples": [x for t in tallies for x in t.samples][:5],
        "wall_s": round(wall, 3),
        "checkouts_per_s": rate(paid, wall),
        "attempts_per_s": rate(len(plan), wall),
        "latency_ms": ms_percentiles(merged("total_s")),  # a successful checkout + pay
        "checkout_ms": ms_percentiles(merged("checkout_s")),
        "pay_ms": ms_percentiles(merged("pay_s")),
        "out_of_stock_ms": ms_percentiles(merged("out_of_stock_s")),
        # CPU of this process per attempt, and the share of the 2 cores it got: steadier than rates when
        # other work shares the machine (loadavg says how busy it was)
        "cpu_ms_per_attempt": round(cpu * 1000 / len(plan), 2),
        "process_cpu_share": round(cpu / wall, 2),
        "loadavg_1m_after": round(os.getloadavg()[0], 2),
        "last_paid_s": round(last_paid - start, 3) if paid else None,  # flash: when the last unit sold
        # flash: the selling rate while there was stock (the tail after it is out-of-stock answers only)
        "checkouts_per_s_until_last_paid": rate(paid, last_paid - start) if paid else 0.0,
    }


# --- invariants ------------------------------------------------------------------------------------------


def stock_check(db: Database, initial: dict[int, int]) -> dict[str, Any]:
    """Oversell, negative stock and conservation (on_hand + sold == initial) over the scenario's SKUs."""
    ids = list(initial)
    with db.session() as s:
        levels = {
            r.sku_id: (r.on_hand, r.reserved)
            for r in s.execute(select(Stock.sku_id, Stock.on_hand, Stock.reserved).where(Stock.sku_id.in_(ids)))
        }
        sold = dict(
            s.execute(
                select(OrderLine.sku_id, func.sum(OrderLine.quantity))
                .join(Order, Order.id == OrderLine.order_id)
                .where(OrderLine.sku_id.in_(ids), Order.status == OrderStatus.PAID)
                .group_by(OrderLine.sku_id)
            ).all()
        )
        paid_orders = s.scalar(
            select(func.count(func.distinct(Order.id)))
            .join(OrderLine, OrderLine.order_id == Order.id)
            .where(OrderLine.sku_id.in_(ids), Order.status == OrderStatus.PAID)
        )
        moved = s.scalar(
            select(func.coalesce(func.sum(StockMovement.delta), 0)).where(
                StockMovement.sku_id.in_(ids), StockMovement.reason == "sale"
            )
        )
    oversold = sum(max(0, int(sold.get(k, 0)) - initial[k]) for k in ids)
    negative = sum(1 for on, res in levels.values() if on < 0 or res < 0 or on - res < 0)
    mismatched = sum(1 for k in ids if levels[k][0] + int(sold.get(k, 0)) != initial[k])
    units_sold = sum(int(v) for v in sold.values())
    return {
        "initial_stock": sum(initial.values()),
        "units_sold": units_sold,
        "paid_orders_in_db": int(paid_orders or 0),
        "oversold": oversold,
        "negative_stock_rows": negative,
        "conservation_mismatches": mismatched,  # SKUs where on_hand + sold != initial
        "units_still_held": sum(res for _on, res in levels.values()),
        "sale_movements_mismatch": -int(moved or 0) - units_sold,
    }


def ledger_check(db: Database, gateway: SimulatedGateway) -> dict[str, Any]:
    with db.session() as s:
        unbalanced = ledger.unbalanced_transactions(s)
        balances = ledger.balances(s)
        paid_total = s.scalar(
            select(func.coalesce(func.sum(Order.total_fen), 0)).where(Order.status == OrderStatus.PAID)
        )
        unfinished = s.scalar(
            select(func.count(Payment.id)).where(Payment.status.in_([PaymentStatus.PENDING, PaymentStatus.PROCESSING]))
        )
    return {
        "unbalanced_transactions": unbalanced,
        "balances_sum": sum(balances.values()),
        "gateway_cash": balances.get(ledger.GATEWAY_CASH, 0),
        "paid_orders_total_fen": int(paid_total or 0),
        "gateway_captured_fen": gateway.captured_fen,
        "unfinished_payments": int(unfinished or 0),
    }


def scenario_ok(r: dict[str, Any]) -> bool:
    return (
        r["oversold"] == 0
        and r["negative_stock_rows"] == 0
        and r["conservation_mismatches"] == 0
        and r["units_still_held"] == 0
        and r["sale_movements_mismatch"] == 0
        and r["paid_orders_in_db"] == r["paid"]
        and r["units_sold"] == r["units_paid"]
    )


def ledger_ok(r: dict[str, Any]) -> bool:
    return (
        not r["unbalanced_transactions"]
        and r["balances_sum"] == 0
        and r["gateway_cash"] == r["paid_orders_total_fen"] == r["gateway_captured_fen"]
        and r["unfinished_payments"] == 0
    )


# --- one database ----------------------------------------------------------------------------------------


def bench_database(
    label: str, url: str, sizes: Sizes, threads: int, seed: int, ceiling: dict[str, Any], data_dir: Path
) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    clock = SystemClock()
    settings = Settings(_env_file=None, data_dir=data_dir, database_url=url, jobs_interval_seconds=0)  # type: ignore[call-arg]
    gateway = SimulatedGateway(seed=seed)
    t0 = time.perf_counter()
    db = Database(url)
    try:
        say(f"{label}: building the marketplace ({sizes.spread_skus + 2} SKUs, {sizes.shoppers} shoppers)")
        world = build_world(db, clock, settings, sizes, rng)
        out: dict[str, Any] = {"setup_s": round(time.perf_counter() - t0, 1), "ceiling": ceiling}
        # warm-up (not timed): compiles SQL, creates the ledger accounts, fills the pool
        warm_plan = [(world.shoppers[i % len(world.shoppers)], world.warm_sku, 1) for i in range(threads * 2)]
        run_scenario(db, clock, settings, gateway, warm_plan, threads)

        n = sizes.spread_attempts
        picks = rng.integers(0, len(world.spread_skus), n)
        quantities = rng.integers(1, 4, n)
        who = rng.integers(0, len(world.shoppers), n)
        plan = [
            (world.shoppers[int(w)], world.spread_skus[int(p)], int(q))
            for w, p, q in zip(who, picks, quantities, strict=True)
        ]
        say(f"{label}: spread — {n} attempts over {len(world.spread_skus)} SKUs on {threads} threads")
        spread = run_scenario(db, clock, settings, gateway, plan, threads)
        spread |= stock_check(db, dict.fromkeys(world.spread_skus, sizes.spread_stock))
        spread["ok"] = scenario_ok(spread)
        say(
            f"{label}: spread {spread['checkouts_per_s']} checkouts/s, p50 {spread['latency_ms']['p50']} ms, "
            f"p99 {spread['latency_ms']['p99']} ms, errors {spread['errors']}, oversold {spread['oversold']}"
        )

        n = sizes.flash_attempts
        who = rng.integers(0, len(world.shoppers), n)
        plan = [(world.shoppers[int(w)], world.flash_sku, 1) for w in who]
        say(f"{label}: flash — {n} attempts at {sizes.flash_stock} units of one SKU on {threads} threads")
        flash = run_scenario(db, clock, settings, gateway, plan, threads)
        flash |= stock_check(db, {world.flash_sku: sizes.flash_stock})
        flash["sold_out"] = flash["units_sold"] == sizes.flash_stock
        flash["ok"] = scenario_ok(flash) and flash["paid"] + flash["out_of_stock"] + flash["errors"] == n
        say(
            f"{label}: flash {flash['checkouts_per_s']} checkouts/s, {flash['attempts_per_s']} attempts/s, "
            f"paid {flash['paid']}, out of stock {flash['out_of_stock']}, errors {flash['errors']}, "
            f"oversold {flash['oversold']}"
        )

        books = ledger_check(db, gateway)
        books["ok"] = ledger_ok(books)
        say(f"{label}: ledger {'balanced' if books['ok'] else 'NOT BALANCED'}: {books}")
        decrements = ceiling.get("decrements_per_s") or 0
        out |= {
            "spread": spread,
            "flash": flash,
            "ledger": books,
            "ratios": {
                # checkouts per second as a share of bare hot-row decrements per second
                "spread_vs_ceiling": round(spread["checkouts_per_s"] / decrements, 4) if decrements else None,
                "flash_vs_ceiling": round(flash["checkouts_per_s"] / decrements, 4) if decrements else None,
                "flash_attempts_vs_ceiling": round(flash["attempts_per_s"] / decrements, 4) if decrements else None,
            },
            "ok": spread["ok"] and flash["ok"] and books["ok"] and ceiling.get("lost_updates") == 0,
        }
        return out
    finally:
        db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: the whole run takes under a minute")
    parser.add_argument("--threads", type=int, default=8, help="worker threads (default 8)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL URL; its public schema is dropped")
    parser.add_argument("--skip-pg", action="store_true", help="SQLite only")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    sizes = QUICK if args.quick else FULL
    # argon2 at its cheapest: sign-ups in setup are not what is measured
    set_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    started = time.perf_counter()
    result: dict[str, Any] = {
        "benchmark": "checkout",
        "quick": args.quick,
        "threads": args.threads,
        "seed": args.seed,
        "sizes": sizes.__dict__,
        "machine": machine(),
        "what": NOTE,
    }

    with tempfile.TemporaryDirectory(prefix="yinli-bench-") as tmp:
        path = Path(tmp) / "bench.db"
        say(f"sqlite: ceiling — bare hot-row decrements, {args.threads} threads, {sizes.ceiling_seconds}s")
        ceiling = ceiling_sqlite(str(path), args.threads, sizes.ceiling_seconds)
        say(f"sqlite: ceiling {ceiling['decrements_per_s']} decrements/s, lost updates {ceiling['lost_updates']}")
        result["sqlite"] = bench_database(
            "sqlite", f"sqlite:///{path}", sizes, args.threads, args.seed, ceiling, Path(tmp)
        )

        if args.skip_pg:
            result["postgresql"] = {"skipped": True, "reason": "--skip-pg"}
            say("postgresql: skipped (--skip-pg)")
        elif (reason := probe_postgres(args.pg_url)) is not None:
            result["postgresql"] = {"skipped": True, "reason": f"not answering at {args.pg_url}: {reason}"}
            say(f"postgresql: SKIPPED — not answering at {args.pg_url}: {reason}")
        else:
            say(f"postgresql: fresh schema at {args.pg_url}")
            reset_postgres_schema(args.pg_url)
            say(f"postgresql: ceiling — bare hot-row decrements, {args.threads} threads, {sizes.ceiling_seconds}s")
            ceiling = ceiling_postgres(args.pg_url, args.threads, sizes.ceiling_seconds)
            say(
                f"postgresql: ceiling {ceiling['decrements_per_s']} decrements/s, "
                f"lost updates {ceiling['lost_updates']}"
            )
            result["postgresql"] = bench_database(
                "postgresql", args.pg_url, sizes, args.threads, args.seed, ceiling, Path(tmp)
            )
            result["postgresql"]["url"] = args.pg_url

    ran = [r for r in (result["sqlite"], result["postgresql"]) if not r.get("skipped")]
    result["invariants_ok"] = all(r["ok"] for r in ran)
    result["total_s"] = round(time.perf_counter() - started, 1)
    say(f"done in {result['total_s']}s; invariants {'hold' if result['invariants_ok'] else 'BROKEN'}")
    emit_result(result)
    return 0 if result["invariants_ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
