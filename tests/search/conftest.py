"""The shared search suite runs once per backend: tantivy always, PostgreSQL when the suite runs on it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PG_URL
from tests.factories import World
from yinli.core.db import Database
from yinli.core.settings import Settings
from yinli.search.service import SearchEngine, run_jobs

BACKENDS = [
    "tantivy",
    pytest.param(
        "postgres", marks=pytest.mark.skipif(not PG_URL, reason="PostgreSQL backend: set YINLI_TEST_DATABASE_URL")
    ),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(database: Database, tmp_path: Path, backend: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, database_url=database.url, jobs_interval_seconds=0, search_backend=backend
    )


@pytest.fixture
def engine(app: Any) -> SearchEngine:
    return app.state.search  # type: ignore[no-any-return]


@pytest.fixture
def sync(database: Database, clock: Any, settings: Settings) -> Callable[[], int]:
    """Run the search jobs (index consumer and log attribution), as the background thread would."""

    def run() -> int:
        return run_jobs(database, clock, settings)

    return run


@pytest.fixture
def search(world: World) -> Callable[..., dict[str, Any]]:
    def run(q: str = "", expect: int = 200, headers: dict[str, str] | None = None, **params: Any) -> dict[str, Any]:
        r = world.client.get("/api/v1/search", params={"q": q, **params}, headers=headers or {})
        assert r.status_code == expect, r.text
        return r.json()  # type: ignore[no-any-return]

    return run


def ids(result: dict[str, Any]) -> list[int]:
    return [item["product"]["product_id"] for item in result["items"]]


CASES = "手机数码 > 手机配件 > 手机保护套"
FILMS = "手机数码 > 手机配件 > 手机贴膜"
EARPHONES = "手机数码 > 手机配件 > 蓝牙耳机"
CAMERAS = "手机数码 > 摄影摄像 > 数码相机"
LENSES = "手机数码 > 摄影摄像 > 镜头"
DRESSES = "服饰鞋帽 > 女装 > 连衣裙"
TEES = "服饰鞋帽 > 女装 > T恤"


def product(world: World, merchant: Any, title: str, path: str = CASES, price: int = 3900, **extra: Any) -> int:
    """A listed product with one SKU at `price` fen; returns its id."""
    skus = extra.pop("skus", [{"code": "S1", "attributes": {"颜色": "黑"}, "price_fen": price}])
    return int(world.product(merchant, title=title, category_id=world.leaf_id(path), skus=skus, **extra)["id"])
