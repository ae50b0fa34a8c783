"""Traffic fixtures: a marketplace built through the API, and the traffic engine's background round."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.content.conftest import Content
from tests.factories import User, World, stock
from yinli.core.clock import SimulatedClock
from yinli.core.db import Database
from yinli.core.settings import Settings
from yinli.traffic.service import TrafficEngine, engine_for

# Leaves under different top-level categories, so interests and new-merchant matching can be told apart.
LEAVES = {
    "phone": "手机数码 > 手机配件 > 手机保护套",
    "pet": "宠物生活 > 宠物零食 > 猫零食",
    "game": "本地生活 > 游戏充值 > 游戏点卡",
}


@pytest.fixture
def settings(database: Database, tmp_path: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path,
        database_url=database.url,
        jobs_interval_seconds=0,
        traffic_launch_quota=10,
        traffic_launch_days=2,
        traffic_refresh_seconds=0,
    )


class Market:
    """Stores, products, content and shoppers through the API; `refresh` runs the traffic round."""

    def __init__(self, world: World, settings: Settings, clock: SimulatedClock) -> None:
        self.world, self.client, self.settings, self.clock = world, world.client, settings, clock
        self.content = Content(world)
        self._leaves: dict[str, int] = {}

    @property
    def engine(self) -> TrafficEngine:
        return engine_for(self.settings, self.world.database, self.clock)

    def leaf(self, name: str) -> int:
        if name not in self._leaves:
            self._leaves[name] = self.world.leaf_id(LEAVES[name])
        return self._leaves[name]

    def store(
        self, n_products: int = 2, *, leaf: str = "phone", price_fen: int = 3900, **extra: Any
    ) -> tuple[User, list[dict[str, Any]]]:
        m = self.world.merchant()
        products = [self.product(m, leaf=leaf, price_fen=price_fen, **extra) for _ in range(n_products)]
        return m, products

    def product(self, merchant: User, *, leaf: str = "phone", price_fen: int = 3900, **extra: Any) -> dict[str, Any]:
        p = self.world.product(merchant, price_fen=price_fen, category_id=self.leaf(leaf), **extra)
        stock(self.world, merchant, p["skus"][0]["id"], 1000)
        return p

    def refresh(self) -> int:
        return self.engine.refresh(self.world.database)

    def feed(self, shopper: User, **params: Any) -> dict[str, Any]:
        r = self.client.get("/api/v1/feed", params=params, headers=shopper.headers)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def click(
        self, shopper: User, page: dict[str, Any], item: dict[str, Any], n: int, kind: str = "click"
    ) -> dict[str, Any]:
        body = {
            "events": [
                {
                    "event_id": f"e{shopper.id}x{page['request_id'][:8]}x{item['position']}x{n}x{kind}",
                    "kind": kind,
                    "request_id": page["request_id"],
                    "item_type": item["type"],
                    "item_id": item["item_id"],
                    "occurred_at": self.clock.now().isoformat(),
                }
            ]
        }
        r = self.client.post("/api/v1/feed/events", json=body, headers=shopper.headers)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]


@pytest.fixture
def market(world: World, settings: Settings, clock: SimulatedClock) -> Market:
    return Market(world, settings, clock)
