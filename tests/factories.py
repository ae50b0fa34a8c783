"""Test factories that build state through the real API (so every fixture is also a use of it)."""

from __future__ import annotations

import itertools
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from yinli.accounts.service import do_sign_up
from yinli.catalog.models import Category
from yinli.core.auth import Role
from yinli.core.clock import SystemClock
from yinli.core.db import Database

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


@dataclass
class User:
    id: int
    email: str
    role: str
    token: str
    store_id: int | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class World:
    client: TestClient
    database: Database
    _operator: User | None = field(default=None, init=False)

    # --- people ---
    def user(self, role: str = "shopper", **extra: Any) -> User:
        n = next(_seq)
        email = f"{role}{n}@example.com"
        if role == "operator":
            with self.database.session() as session:
                do_sign_up(
                    session,
                    SystemClock(),
                    email=email,
                    password=PASSWORD,
                    display_name=f"op{n}",
                    role=Role.OPERATOR,
                    allow_operator=True,
                )
        else:
            body = {"email": email, "password": PASSWORD, "display_name": f"{role} {n}", "role": role, **extra}
            r = self.client.post("/api/v1/accounts", json=body)
            assert r.status_code == 201, r.text
        r = self.client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        data = r.json()
        return User(data["user"]["id"], email, role, data["access_token"], data["user"]["store_id"])

    @property
    def operator(self) -> User:
        if self._operator is None:
            self._operator = self.user("operator")
        return self._operator

    def shopper(self) -> User:
        return self.user("shopper", birth_year=1990)

    # --- stores ---
    def merchant(self, *, approve: bool = True, name: str | None = None) -> User:
        """A merchant account with its own store (approved and active unless `approve=False`)."""
        m = self.user("merchant")
        r = self.client.post("/api/v1/stores", json={"name": name or f"店铺{m.id}"}, headers=m.headers)
        assert r.status_code == 201, r.text
        m.store_id = r.json()["id"]
        if approve:
            r = self.client.post(
                f"/api/v1/stores/{m.store_id}/review", json={"decision": "approve"}, headers=self.operator.headers
            )
            assert r.status_code == 200, r.text
        return m

    # --- catalog ---
    def leaf_id(self, path: str = "手机数码 > 手机配件 > 手机保护套") -> int:
        with self.database.session() as session:
            return int(session.scalar(select(Category.id).where(Category.path == path)))  # type: ignore[arg-type]

    def product(self, merchant: User, *, listed: bool = True, price_fen: int = 3900, **extra: Any) -> dict[str, Any]:
        n = next(_seq)
        body = {
            "category_id": self.leaf_id(),
            "title": f"测试商品 {n} 手机壳",
            "skus": [
                {"code": f"A{n}", "attributes": {"颜色": "黑"}, "price_fen": price_fen},
                {"code": f"B{n}", "attributes": {"颜色": "白"}, "price_fen": price_fen + 500},
            ],
            **extra,
        }
        r = self.client.post("/api/v1/products", json=body, headers=merchant.headers)
        assert r.status_code == 201, r.text
        product = r.json()
        if listed:
            r = self.client.post(f"/api/v1/products/{product['id']}/list", headers=merchant.headers)
            assert r.status_code == 200, r.text
            product = r.json()
        return product  # type: ignore[no-any-return]


ADDRESS = {"name": "李雷", "phone": "13800000000", "region": "浙江省 杭州市 西湖区", "line": "文三路 1 号"}


def stock(world: World, merchant: User, sku_id: int, on_hand: int) -> None:
    r = world.client.put(f"/api/v1/skus/{sku_id}/stock", json={"on_hand": on_hand}, headers=merchant.headers)
    assert r.status_code == 200, r.text


def buy(world: World, shopper: User, items: list[dict[str, Any]], *, key: str | None = None) -> dict[str, Any]:
    """Checkout `items` ({sku_id, quantity, ...}); returns the pending payment."""
    headers = {**shopper.headers, **({"Idempotency-Key": key} if key else {})}
    r = world.client.post("/api/v1/checkout", json={"items": items, "address": ADDRESS}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def pay(world: World, shopper: User, payment_id: int, method: str = "card") -> dict[str, Any]:
    r = world.client.post(f"/api/v1/payments/{payment_id}/pay", json={"method": method}, headers=shopper.headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def race(app: Any, n: int, work: Callable[[int, TestClient], Any]) -> list[Any]:
    """Run `work(i, client)` in n threads released together by a barrier, each with its own TestClient
    (so its own database session), against one app and one database."""
    barrier = threading.Barrier(n)

    def run(i: int) -> Any:
        with TestClient(app, raise_server_exceptions=False) as client:
            barrier.wait()
            return work(i, client)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def outcome(response: Any) -> tuple[int, str | None]:
    """(status, problem code): a race test's tally of one response."""
    code = response.json().get("code") if response.status_code >= 400 else None
    return response.status_code, code


# Race tests need writers that really run side by side: PostgreSQL (SQLite serialises them).
race_on_postgres = pytest.mark.skipif(
    not os.environ.get("YINLI_TEST_DATABASE_URL"), reason="race test: needs PostgreSQL (YINLI_TEST_DATABASE_URL)"
)


def money_back(
    world: World, shopper: User, merchant: User, order_id: int, kind: str, lines: list[tuple[int, int]] | None
) -> dict[str, Any]:
    """Ask for a refund (`lines`: order_line_id, quantity; None: everything left) and see it through:
    the merchant approves if it was not auto-approved, and a return is sent back and received."""
    c = world.client
    body: dict[str, Any] = {"kind": kind, "reason": "不想要了"}
    if lines is not None:
        body["lines"] = [{"order_line_id": i, "quantity": q} for i, q in lines]
    r = c.post(f"/api/v1/orders/{order_id}/after-sales", json=body, headers=shopper.headers)
    assert r.status_code == 201, r.text
    case = r.json()
    if case["status"] == "requested":
        r = c.post(f"/api/v1/after-sales/{case['id']}/decide", json={"decision": "approve"}, headers=merchant.headers)
        assert r.status_code == 200, r.text
        case = r.json()
    if case["status"] == "awaiting_return":
        body = {"carrier": "中通", "tracking_no": f"ZT{case['id']:08d}"}
        r = c.post(f"/api/v1/after-sales/{case['id']}/return-shipment", json=body, headers=shopper.headers)
        assert r.status_code == 200, r.text
        r = c.post(f"/api/v1/after-sales/{case['id']}/receive", headers=merchant.headers)
        assert r.status_code == 200, r.text
        case = r.json()
    assert case["status"] == "refunded", case
    return case  # type: ignore[no-any-return]


def ship_and_deliver(world: World, shopper: User, merchant: User, order_id: int) -> None:
    c = world.client
    body = {"carrier": "顺丰", "tracking_no": f"SF{order_id:08d}"}
    r = c.post(f"/api/v1/orders/{order_id}/ship", json=body, headers=merchant.headers)
    assert r.status_code == 200, r.text
    r = c.post(f"/api/v1/orders/{order_id}/confirm-delivery", headers=shopper.headers)
    assert r.status_code == 200, r.text


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """`app` served by a real uvicorn on a free loopback port, in a thread; yields its base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the live server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def two_store_skus(world: World, units: int) -> tuple[int, int]:
    """A ¥10 SKU in one new store and a ¥30 SKU in another, `units` of each in stock."""
    a, b = world.merchant(), world.merchant()
    sku_a = world.product(a, price_fen=1000)["skus"][0]["id"]
    sku_b = world.product(b, price_fen=3000)["skus"][0]["id"]
    stock(world, a, sku_a, units)
    stock(world, b, sku_b, units)
    return sku_a, sku_b
