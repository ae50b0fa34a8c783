"""A rush of shoppers over HTTP against real `yinli serve` processes, on SQLite and PostgreSQL.

Per database, for 1 process and for `--procs` processes (`yinli serve` on different loopback ports over
the same database, background jobs on the first only):
- bursts: N requests (`--bursts`, default 200 and 500) fired at once at `GET /api/v1/cart`, each as a
  signed-in shopper (bearer token), spread round-robin over the processes; counted by status (5xx, 503,
  503 with Retry-After, timeouts), with latency p50 / p99 and a probe afterwards (does the server answer
  normally?). The peer, same run, same size: the same burst at `GET /api/v1/health` (no database).
- flash sale: `--buyers` buyers (default 200), each signed in, for `--units` units (default 50) of one SKU;
  each does checkout then pay. Every buyer must get an answer (paid, sold out, or a clear 503/202);
  afterwards the database must show no oversell, the ledger balanced, and no buyer who was charged but
  told the payment failed.

    uv run python bench/rush.py --quick                       # ~1-2 min
    uv run python bench/rush.py                               # full: a few minutes
    uv run python bench/rush.py --checkout /tmp/base          # serve another checkout's yinli (its .venv)

Traffic goes only to 127.0.0.1, bounded in count (the bursts and buyers above) and time (per-request
client timeout, `--client-timeout`). Progress on stderr; the last line of stdout is one JSON object.
Exit status 1 if an invariant broke (oversell, unbalanced ledger, a charged buyer told it failed).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from argon2 import PasswordHasher
from sqlalchemy import func, select, text

from _common import emit_result, machine, ms_percentiles, probe_postgres, reset_postgres_schema, say
from yinli.accounts.service import do_issue_token, do_sign_up
from yinli.catalog.categories import do_load_categories
from yinli.catalog.models import Category, Sku
from yinli.catalog.service import do_create_product, do_list_product
from yinli.core import migrate
from yinli.core.auth import Actor, Role, set_hasher
from yinli.core.clock import SystemClock
from yinli.core.db import Database
from yinli.core.settings import Settings
from yinli.inventory.models import Stock
from yinli.inventory.service import do_set_on_hand
from yinli.merchants.service import do_apply_for_store, do_review_store
from yinli.orders.models import Order, OrderLine, OrderStatus
from yinli.payments import ledger
from yinli.payments.models import Payment, PaymentStatus

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/t_serve_bench"
LEAF = "手机数码 > 手机配件 > 手机保护套"
ADDRESS = {"name": "李雷", "phone": "13800000000", "region": "浙江省 杭州市 西湖区", "line": "文三路 1 号"}
PASSWORD = "correct horse battery"
REPO = Path(__file__).resolve().parent.parent
# What a buyer may be told about a payment that did go through: paid, or "being confirmed / processing /
# already paid" (a retry of a pay whose first answer was lost). Anything else on a charged payment is a lie.
FLASH_RUNS = ("flash", "flash_with_terminations")
NOT_A_FAILURE = ("200:", "202:", "503:payment_confirming", "409:payment_processing", "409:already_paid")


@dataclass
class World:
    tokens: list[str]  # one bearer token per shopper
    shopper_ids: list[int]
    merchant: Actor
    leaf_id: int
    cart_sku: int


def build_world(db: Database, clock: SystemClock, settings: Settings, shoppers: int) -> World:
    migrate.upgrade(db.url)
    with db.session() as s:
        do_load_categories(s)
        leaf_id = s.scalar(select(Category.id).where(Category.path == LEAF))
        assert leaf_id is not None
        op = do_sign_up(
            s, clock, email="rush-op@example.com", password=PASSWORD, display_name="运营", role=Role.OPERATOR,
            allow_operator=True,
        )  # fmt: skip
        operator = Actor(op.id, Role.OPERATOR)
        m = do_sign_up(
            s, clock, email="rush-merchant@example.com", password=PASSWORD, display_name="商家", role=Role.MERCHANT
        )
        store = do_apply_for_store(s, clock, settings, Actor(m.id, Role.MERCHANT), name="抢购店铺")
        do_review_store(s, clock, operator, store.id, approve=True, note=None)
        merchant = Actor(m.id, Role.MERCHANT, store.id)
    cart_sku = new_sku(db, clock, merchant, leaf_id, 1_000_000, "cart")
    tokens, ids = [], []
    with db.session() as s:
        for n in range(shoppers):
            email = f"rush-shopper{n}@example.com"
            u = do_sign_up(
                s, clock, email=email, password=PASSWORD, display_name=f"买家{n}", role=Role.SHOPPER, birth_year=1990
            )
            secret, _token, _user = do_issue_token(
                s, clock, email=email, password=PASSWORD, kind="api", ttl=timedelta(days=1)
            )
            tokens.append(secret)
            ids.append(u.id)
    return World(tokens, ids, merchant, leaf_id, cart_sku)


def new_sku(db: Database, clock: SystemClock, merchant: Actor, leaf_id: int, on_hand: int, tag: str) -> int:
    with db.session() as s:
        product = do_create_product(
            s, clock, merchant, store_id=merchant.store_id, category_id=leaf_id, title=f"抢购商品 {tag} 手机壳",
            skus=[{"code": f"R-{tag}", "attributes": {"款式": tag}, "price_fen": 9900}],
        )  # fmt: skip
        do_list_product(s, clock, merchant, product.id)
        sku_id = int(s.scalars(select(Sku.id).where(Sku.product_id == product.id)).one())
        do_set_on_hand(s, sku_id, on_hand, clock.now(), merchant.user_id)
    return sku_id


# --- servers --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Servers:
    """`n` `yinli serve` processes of `checkout` over one database; jobs run in the first only."""

    def __init__(self, checkout: Path, url: str, n: int, tmp: Path, env: dict[str, str]) -> None:
        self.ports = [free_port() for _ in range(n)]
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs = [tmp / f"serve-{p}.log" for p in self.ports]
        for i, (port, log) in enumerate(zip(self.ports, self.logs, strict=True)):
            data = tmp / f"data-{port}"
            data.mkdir()
            child = {
                **os.environ,
                **env,
                "YINLI_DATABASE_URL": url,
                "YINLI_DATA_DIR": str(data),
                "YINLI_JOBS_INTERVAL_SECONDS": "5" if i == 0 else "0",
            }
            child.pop("VIRTUAL_ENV", None)
            cmd = [str(checkout / ".venv" / "bin" / "yinli"), "serve", "--host", "127.0.0.1", "--port", str(port)]
            with open(log, "wb") as out:
                self.procs.append(subprocess.Popen(cmd, env=child, stdout=out, stderr=subprocess.STDOUT, cwd=tmp))
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 240  # a loaded 2-core machine starts 4 slowly
        for port, proc in zip(self.ports, self.procs, strict=True):
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"yinli serve on {port} exited: {self.log_tail(port)}")
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"yinli serve on {port} did not start")
                time.sleep(0.3)

    @property
    def bases(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.ports]

    def log_tail(self, port: int) -> str:
        return self.logs[self.ports.index(port)].read_text(errors="replace")[-2000:]

    def log_counts(self) -> dict[str, int]:
        text = "".join(log.read_text(errors="replace") for log in self.logs)
        return {
            "pool_timeouts_logged": text.count("QueuePool limit"),
            "jobs_failures_logged": text.count("background jobs failed"),
            "unhandled_errors_logged": text.count("unhandled error"),
        }

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --- load -----------------------------------------------------------------------------------------------


async def _burst(bases: list[str], path: str, tokens: list[str], n: int, timeout: float) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    statuses: Counter[str] = Counter()
    latencies: list[float] = []
    retry_after = 0
    codes: Counter[str] = Counter()
    async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
        start = asyncio.Event()

        async def one(i: int) -> None:
            nonlocal retry_after
            headers = {"Authorization": f"Bearer {tokens[i % len(tokens)]}"}
            await start.wait()
            t0 = time.perf_counter()
            try:
                r = await client.get(bases[i % len(bases)] + path, headers=headers)
            except httpx.TimeoutException:
                statuses["timeout"] += 1
                return
            except httpx.HTTPError as e:
                statuses[f"transport:{type(e).__name__}"] += 1
                return
            latencies.append(time.perf_counter() - t0)
            statuses[str(r.status_code)] += 1
            if r.status_code == 503 and r.headers.get("retry-after"):
                retry_after += 1
            if r.status_code >= 400:
                try:
                    codes[f"{r.status_code}:{r.json().get('code')}"] += 1
                except ValueError:
                    codes[f"{r.status_code}:not-json"] += 1

        tasks = [asyncio.create_task(one(i)) for i in range(n)]
        await asyncio.sleep(0.05)
        t0 = time.perf_counter()
        start.set()
        await asyncio.gather(*tasks)
        wall = time.perf_counter() - t0
        try:
            probe: int | str = (
                await client.get(bases[0] + path, headers={"Authorization": f"Bearer {tokens[0]}"})
            ).status_code
        except httpx.HTTPError as e:
            probe = type(e).__name__
    fivexx = sum(v for k, v in statuses.items() if k.isdigit() and int(k) >= 500)
    return {
        "requests": n,
        "wall_s": round(wall, 2),
        "ok_2xx": sum(v for k, v in statuses.items() if k.startswith("2")),
        "5xx": fivexx,
        "503": statuses.get("503", 0),
        "503_with_retry_after": retry_after,
        "5xx_other_than_503": fivexx - statuses.get("503", 0),
        "timeouts": statuses.get("timeout", 0),
        "statuses": dict(statuses),
        "error_codes": dict(codes),
        "latency_ms": ms_percentiles(latencies),
        "probe_after": probe,
    }


def burst(bases: list[str], path: str, tokens: list[str], n: int, timeout: float) -> dict[str, Any]:
    return asyncio.run(_burst(bases, path, tokens, n, timeout))


async def _flash(
    bases: list[str], world: World, sku: int, timeout: float, retries: int
) -> tuple[dict[str, Any], dict[int, str]]:
    """Every buyer checks out then pays. A 503 with Retry-After is tried again after that many seconds (a
    little jittered, seeded), up to `retries` times per step, with the same Idempotency-Key, as a shopper's
    app would; `first_saw` is what buyers saw on their first try, `saw` how each buyer ended."""
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    saw: Counter[str] = Counter()
    first: Counter[str] = Counter()
    told: dict[int, str] = {}  # payment id -> what the buyer was told about paying
    latencies: list[float] = []
    tries: list[int] = []
    rng = random.Random(20261201)
    jitter = [rng.random() for _ in range(len(world.tokens) * (retries + 1) * 2)]
    async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
        start = asyncio.Event()

        async def buyer(i: int) -> None:
            base = bases[i % len(bases)]
            headers = {"Authorization": f"Bearer {world.tokens[i]}", "Idempotency-Key": uuid.uuid4().hex}
            pay_headers = {**headers, "Idempotency-Key": uuid.uuid4().hex}
            body = {"items": [{"sku_id": sku, "quantity": 1}], "address": ADDRESS}
            attempts = 0

            async def post(url: str, json: dict[str, Any], hdrs: dict[str, str]) -> httpx.Response:
                nonlocal attempts
                for n in range(retries + 1):
                    attempts += 1
                    r = await client.post(url, json=json, headers=hdrs)
                    if attempts == 1:
                        first[f"{r.status_code}:{_code(r) if r.status_code >= 400 else 'ok'}"] += 1
                    wait = r.headers.get("retry-after")
                    if r.status_code != 503 or not wait or n == retries:
                        return r
                    await asyncio.sleep(float(wait) * (0.5 + jitter[(i * (retries + 1) + n) % len(jitter)]))
                raise AssertionError("unreachable")

            await start.wait()
            t0 = time.perf_counter()
            try:
                r = await post(base + "/api/v1/checkout", body, headers)
                if r.status_code != 201:
                    saw[f"checkout:{r.status_code}:{_code(r)}"] += 1
                    return
                payment_id = r.json()["id"]
                told[payment_id] = "no answer"
                r = await post(f"{base}/api/v1/payments/{payment_id}/pay", {"method": "card"}, pay_headers)
                outcome = r.json().get("status") if r.status_code in (200, 202) else _code(r)
                told[payment_id] = f"{r.status_code}:{outcome}"
                saw[f"pay:{r.status_code}:{outcome}"] += 1
                latencies.append(time.perf_counter() - t0)
            except httpx.TimeoutException:
                saw["timeout"] += 1
            except httpx.HTTPError as e:
                saw[f"transport:{type(e).__name__}"] += 1
            finally:
                tries.append(attempts)

        tasks = [asyncio.create_task(buyer(i)) for i in range(len(world.tokens))]
        await asyncio.sleep(0.05)
        t0 = time.perf_counter()
        start.set()
        await asyncio.gather(*tasks)
        wall = time.perf_counter() - t0
    answered = sum(v for k, v in saw.items() if k != "timeout" and not k.startswith("transport"))
    paid = saw.get("pay:200:succeeded", 0)
    sold_out = sum(v for k, v in saw.items() if "out_of_stock" in k)
    return {
        "buyers": len(world.tokens),
        "retries_per_step": retries,
        "wall_s": round(wall, 2),
        "answered": answered,
        "first_saw": dict(first),
        "saw": dict(saw),
        "paid_answers": paid,
        "sold_out_answers": sold_out,
        "ended_paid_or_sold_out": paid + sold_out,
        "requests_per_buyer": {"mean": round(sum(tries) / max(1, len(tries)), 2), "max": max(tries, default=0)},
        "5xx_other_than_503": sum(
            v for k, v in saw.items() if k.split(":")[1:2] and k.split(":")[1].startswith("5") and ":503:" not in k
        )
        + sum(v for k, v in first.items() if k.startswith("5") and not k.startswith("503")),
        "checkout_pay_latency_ms": ms_percentiles(latencies),
    }, told


def _code(r: httpx.Response) -> str:
    try:
        return str(r.json().get("code"))
    except ValueError:
        return "not-json"


def flash_check(db: Database, sku: int, units: int, told: dict[int, str]) -> dict[str, Any]:
    with db.session() as s:
        on_hand, reserved = s.execute(select(Stock.on_hand, Stock.reserved).where(Stock.sku_id == sku)).one()
        sold = s.scalar(
            select(func.coalesce(func.sum(OrderLine.quantity), 0))
            .join(Order, Order.id == OrderLine.order_id)
            .where(OrderLine.sku_id == sku, Order.status == OrderStatus.PAID)
        )
        statuses = dict(s.execute(select(Payment.id, Payment.status).where(Payment.id.in_(list(told) or [0]))).all())
        unbalanced = ledger.unbalanced_transactions(s)
        balances = ledger.balances(s)
    charged_told_failed = [
        pid
        for pid, status in statuses.items()
        if status == PaymentStatus.SUCCEEDED and not told[pid].startswith(NOT_A_FAILURE)
    ]
    sold = int(sold or 0)
    return {
        "units": units,
        "units_sold": sold,
        "oversold": max(0, sold - units),
        "on_hand_plus_sold_ok": on_hand + sold == units,
        "reserved_now": reserved,
        "payments_by_status": dict(Counter(str(v) for v in statuses.values())),
        "charged_but_told_failed": len(charged_told_failed),
        "ledger_unbalanced_transactions": len(unbalanced),
        "ledger_balances_sum": sum(balances.values()),
    }


def wait_until_settled(db: Database, payment_ids: list[int], limit_s: float) -> float:
    """Seconds until none of these payments is `processing` any more (or `limit_s`)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit_s:
        with db.session() as s:
            left = s.scalar(
                select(func.count())
                .select_from(Payment)
                .where(Payment.id.in_(payment_ids or [0]), Payment.status == PaymentStatus.PROCESSING)
            )
        if not left:
            break
        time.sleep(2.0)
    return round(time.monotonic() - t0, 1)


class Terminator:
    """While in its block, ends every other client connection to the database every `every` seconds
    (`pg_terminate_backend`): the servers' pools, their jobs, and this benchmark's own pool alike."""

    def __init__(self, url: str, every: float) -> None:
        self.db = Database(url)
        self.every, self.rounds, self.killed = every, 0, 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(self.every):
            try:
                with self.db.engine.connect() as conn:
                    n = conn.execute(
                        text(
                            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname ="
                            " current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                        )
                    ).scalar_one()
                self.rounds += 1
                self.killed += int(n)
            except Exception as e:  # its own connection may be refused for a moment; try again next round
                say(f"  terminator: {type(e).__name__}")

    def __enter__(self) -> Terminator:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self.db.dispose()


# --- one database ---------------------------------------------------------------------------------------


def bench_database(label: str, url: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    clock = SystemClock()
    settings = Settings(_env_file=None, data_dir=tmp, database_url=url, jobs_interval_seconds=0)  # type: ignore[call-arg]
    db = Database(url)
    out: dict[str, Any] = {}
    try:
        t0 = time.perf_counter()
        say(f"{label}: building the world ({args.buyers} signed-in shoppers)")
        world = build_world(db, clock, settings, args.buyers)
        out["setup_s"] = round(time.perf_counter() - t0, 1)
        for procs in args.procs:
            key = f"{procs}_process" + ("es" if procs > 1 else "")
            run_dir = tmp / f"{label}-{procs}"
            run_dir.mkdir()
            say(f"{label}: starting {procs} × yinli serve ({args.checkout})")
            # several processes share one PostgreSQL's max_connections: each gets a smaller in-flight limit
            env = {} if procs == 1 else {"YINLI_MAX_IN_FLIGHT": str(args.multi_in_flight)}
            servers = Servers(args.checkout, url, procs, run_dir, env)
            res: dict[str, Any] = {"cart": {}, "health_peer": {}}
            try:
                for n in args.bursts:
                    say(f"{label} ×{procs}: burst of {n} at GET /api/v1/cart")
                    r = burst(servers.bases, "/api/v1/cart", world.tokens, n, args.client_timeout)
                    res["cart"][str(n)] = r
                    say(
                        f"  → 2xx {r['ok_2xx']}, 503 {r['503']} (Retry-After {r['503_with_retry_after']}), other 5xx "
                        f"{r['5xx_other_than_503']}, timeouts {r['timeouts']}, p50 {r['latency_ms']['p50']} ms, "
                        f"p99 {r['latency_ms']['p99']} ms, {r['wall_s']} s; probe after: {r['probe_after']}"
                    )
                    if procs == 1:
                        p = burst(servers.bases, "/api/v1/health", world.tokens, n, args.client_timeout)
                        res["health_peer"][str(n)] = p
                        say(f"  peer /health: 2xx {p['ok_2xx']}, p50 {p['latency_ms']['p50']} ms, {p['wall_s']} s")
                sku = new_sku(db, clock, world.merchant, world.leaf_id, args.units, f"flash{procs}")
                say(f"{label} ×{procs}: flash sale, {args.buyers} buyers for {args.units} units")
                flash, told = asyncio.run(_flash(servers.bases, world, sku, args.client_timeout, args.buyer_retries))
                time.sleep(1.0)  # let in-flight applies land
                flash |= flash_check(db, sku, args.units, told)
                flash["ok"] = (
                    flash["oversold"] == 0
                    and flash["on_hand_plus_sold_ok"]
                    and flash["charged_but_told_failed"] == 0
                    and flash["ledger_unbalanced_transactions"] == 0
                    and flash["ledger_balances_sum"] == 0
                    and flash["5xx_other_than_503"] == 0
                )
                res["flash"] = flash
                if label == "postgresql" and procs == 1 and args.terminations:
                    sku = new_sku(db, clock, world.merchant, world.leaf_id, args.units, f"kill{procs}")
                    say(f"{label} ×{procs}: flash sale while every connection is terminated every 0.5 s")
                    with Terminator(url, every=0.5) as killer:
                        killed, told = asyncio.run(
                            _flash(servers.bases, world, sku, args.client_timeout, args.buyer_retries)
                        )
                    time.sleep(1.0)
                    killed |= flash_check(db, sku, args.units, told)
                    # Payments charged while their recording was cut off stay `processing` until the jobs'
                    # reconciliation (payments older than 2 minutes) records them: wait for it, then check.
                    say(f"  {killed['payments_by_status']}; waiting for reconciliation (≤ {args.settle_wait} s)")
                    waited = wait_until_settled(db, list(told), args.settle_wait)
                    killed["after_reconciliation"] = flash_check(db, sku, args.units, told) | {"waited_s": waited}
                    killed["terminations"] = killer.rounds
                    killed["backends_terminated"] = killer.killed
                    killed["ok"] = (
                        killed["oversold"] == 0
                        and killed["charged_but_told_failed"] == 0
                        and killed["ledger_unbalanced_transactions"] == 0
                        and killed["ledger_balances_sum"] == 0
                        and killed["5xx_other_than_503"] == 0
                        and killed["after_reconciliation"]["oversold"] == 0
                        and killed["after_reconciliation"]["charged_but_told_failed"] == 0
                        and "processing" not in killed["after_reconciliation"]["payments_by_status"]
                    )
                    res["flash_with_terminations"] = killed
                    say(f"  → {killed['saw']}; sold {killed['units_sold']}, oversold {killed['oversold']}, "
                        f"backends terminated {killer.killed}, charged but told failed "
                        f"{killed['charged_but_told_failed']}, ok {killed['ok']}")  # fmt: skip
                say(f"  → {flash['saw']}; sold {flash['units_sold']}, oversold {flash['oversold']}, "
                    f"charged but told failed {flash['charged_but_told_failed']}, ok {flash['ok']}")  # fmt: skip
            finally:
                servers.stop()
                res["server_log"] = servers.log_counts()
            out[key] = res
        out["ok"] = all(
            v[run]["ok"]
            for k, v in out.items()
            if k.endswith(("process", "processes"))
            for run in FLASH_RUNS
            if run in v
        )
        return out
    finally:
        db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="bursts of 200 only, 1 and 4 processes, 100 buyers")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL URL; its public schema is dropped")
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--checkout", type=Path, default=REPO, help="the checkout whose .venv/bin/yinli is served")
    parser.add_argument("--bursts", default=None, help="comma-separated burst sizes (default 200,500)")
    parser.add_argument("--procs", default="1,4", help="comma-separated process counts (default 1,4)")
    parser.add_argument("--buyers", type=int, default=None, help="flash-sale buyers (default 200)")
    parser.add_argument("--units", type=int, default=50, help="flash-sale units (default 50)")
    parser.add_argument(
        "--multi-in-flight", type=int, default=8, help="YINLI_MAX_IN_FLIGHT per process when several (default 8)"
    )
    parser.add_argument(
        "--buyer-retries", type=int, default=8, help="flash-sale tries again after a 503's Retry-After (default 8)"
    )
    parser.add_argument(
        "--no-terminations", dest="terminations", action="store_false",
        help="skip the PostgreSQL flash sale during which connections are terminated",
    )  # fmt: skip
    parser.add_argument(
        "--settle-wait", type=float, default=240.0, help="seconds to wait for reconciliation after terminations"
    )
    parser.add_argument("--client-timeout", type=float, default=40.0, help="per request, seconds (default 40)")
    args = parser.parse_args()
    args.bursts = [int(x) for x in (args.bursts or ("200" if args.quick else "200,500")).split(",")]
    args.procs = [int(x) for x in args.procs.split(",")]
    args.buyers = args.buyers or (100 if args.quick else 200)
    args.checkout = args.checkout.resolve()
    set_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    started = time.perf_counter()
    commit = subprocess.run(
        ["git", "-C", str(args.checkout), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    result: dict[str, Any] = {
        "benchmark": "rush",
        "quick": args.quick,
        "checkout": str(args.checkout),
        "commit": commit,
        "bursts": args.bursts,
        "procs": args.procs,
        "buyers": args.buyers,
        "units": args.units,
        "buyer_retries": args.buyer_retries,
        "terminations": args.terminations,
        "client_timeout_s": args.client_timeout,
        "machine": machine(),
    }
    with tempfile.TemporaryDirectory(prefix="yinli-rush-") as tmp_name:
        tmp = Path(tmp_name)
        if args.skip_sqlite:
            result["sqlite"] = {"skipped": True, "reason": "--skip-sqlite"}
        else:
            (tmp / "sqlite").mkdir()
            result["sqlite"] = bench_database("sqlite", f"sqlite:///{tmp / 'rush.db'}", args, tmp / "sqlite")
        if args.skip_pg:
            result["postgresql"] = {"skipped": True, "reason": "--skip-pg"}
        elif (reason := probe_postgres(args.pg_url)) is not None:
            result["postgresql"] = {"skipped": True, "reason": f"not answering at {args.pg_url}: {reason}"}
            say(f"postgresql: SKIPPED — {reason}")
        else:
            reset_postgres_schema(args.pg_url)
            (tmp / "pg").mkdir()
            result["postgresql"] = bench_database("postgresql", args.pg_url, args, tmp / "pg")
    ran = [r for r in (result["sqlite"], result["postgresql"]) if not r.get("skipped")]
    result["invariants_ok"] = all(r["ok"] for r in ran)
    result["total_s"] = round(time.perf_counter() - started, 1)
    say(f"done in {result['total_s']} s; invariants {'hold' if result['invariants_ok'] else 'BROKEN'}")
    emit_result(result)
    return 0 if result["invariants_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
