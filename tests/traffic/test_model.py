"""pCTR/pCVR models: trained from (synthetic, seeded) logged events, they beat the heuristic on a held-out
day; versions are saved and published; serving evaluates the trees exactly as LightGBM does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest
from typer.testing import CliRunner

from yinli.core.clock import SimulatedClock
from yinli.core.db import Database
from yinli.core.errors import Conflict
from yinli.core.settings import Settings
from yinli.traffic import events, model
from yinli.traffic.model import FEATURES, Forest
from yinli.traffic.training import load_dataset, train_ranker


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def write_synthetic_log(database: Database, start: datetime, *, days: int, pages: int, seed: int) -> int:
    """A feed log whose clicks follow a seeded ground truth the heuristic only half knows: interest matters
    more for videos, promotional noise past a point kills clicks, cheap items of a loved category win,
    and the logged CTR is a noisy estimate of each item's real appeal."""
    rng = np.random.default_rng(seed)
    n_items = 400
    appeal = rng.normal(0, 0.6, n_items)
    fmt = rng.choice([0, 1, 2], n_items, p=[0.6, 0.3, 0.1])
    log_price = rng.uniform(1, 7, n_items)
    experience = rng.beta(6, 2, n_items)
    noise = np.clip(rng.beta(1, 4, n_items) * 1.4, 0, 1)
    seen_ctr = np.clip(0.05 * np.exp(appeal + rng.normal(0, 0.5, n_items)), 0.001, 0.6)
    clock = SimulatedClock(start)
    rows: list[dict[str, object]] = []
    total = 0
    for day in range(days):
        for p in range(pages):
            at = start + timedelta(days=day, seconds=int(p * 86000 / pages))
            shopper = int(rng.integers(1, 300))
            request_id = f"{seed:04x}{day:04x}{p:08x}".ljust(32, "0")
            items = rng.choice(n_items, 10, replace=False)
            affinity = rng.beta(1, 3, 10)
            follows = (rng.random(10) < 0.05).astype(float)
            z = (
                -3.2
                + 1.2 * appeal[items]
                + 2.0 * affinity * (1 + 1.2 * (fmt[items] == 1))
                - 2.5 * (noise[items] > 0.55)
                + 1.5 * affinity * (log_price[items] < 3.5)
                + 0.8 * follows
                - 0.12 * np.arange(10)
            )
            clicked = rng.random(10) < _sigmoid(z)
            bought = clicked & (rng.random(10) < _sigmoid(-1.0 + 2.5 * experience[items] - 0.4 * log_price[items]))
            for pos, i in enumerate(items):
                f = {
                    "fmt": float(fmt[i]),
                    "log_price": float(log_price[i]),
                    "item_ctr": float(seen_ctr[i]),
                    "item_cvr": 0.03,
                    "log_impressions": float(np.log1p(200)),
                    "experience": float(experience[i]),
                    "noise": float(noise[i]),
                    "affinity": float(affinity[pos]),
                    "root_affinity": float(affinity[pos] / 2),
                    "follows": float(follows[pos]),
                    "is_new": 0.0,
                    "engagement": 0.3,
                    "position": float(pos),
                }
                common = {
                    "shopper_id": shopper,
                    "request_id": request_id,
                    "item_type": "product",
                    "item_id": int(i) + 1,
                    "product_id": int(i) + 1,
                    "position": pos,
                }
                rows.append(events.row(kind="impression", occurred_at=at, features=f, slot="organic", **common))
                if clicked[pos]:
                    rows.append(events.row(kind="click", occurred_at=at + timedelta(seconds=5), **common))
                if bought[pos]:
                    rows.append(
                        events.row(kind="order", occurred_at=at + timedelta(minutes=3), value_fen=5000, **common)
                    )
        with database.session() as session:
            total += events.append(session, clock, rows)
        rows = []
    return total


@pytest.fixture
def logged(database: Database) -> Database:
    write_synthetic_log(database, datetime(2026, 11, 1, tzinfo=UTC), days=3, pages=700, seed=42)
    return database


def test_trained_model_beats_the_heuristic_on_a_held_out_day(logged: Database, settings: Settings) -> None:
    clock = SimulatedClock(datetime(2026, 11, 6, tzinfo=UTC))
    with logged.read_sessions() as session:
        report = train_ranker(session, clock, settings)
    m = report.metrics
    print(m)
    assert m["auc_click_model"] > m["auc_click_heuristic"] + 0.02, m
    assert m["ndcg10_model"] > m["ndcg10_heuristic"], m
    assert m["auc_order_model"] > 0.5, m
    assert report.version is not None
    folder = model.models_dir(settings.data_dir) / report.version
    assert {p.name for p in folder.iterdir()} >= {"ctr.txt", "cvr.txt", "meta.json", "training.parquet"}
    assert (model.models_dir(settings.data_dir) / "CURRENT").read_text() == report.version
    ranker = model.load_current(settings.data_dir)
    assert ranker is not None and ranker.version == report.version
    # serving's numpy trees are LightGBM's trees
    booster = lgb.Booster(model_file=str(folder / "ctr.txt"))
    with logged.read_sessions() as session:
        x = load_dataset(session).x[:2000]
    np.testing.assert_allclose(Forest.from_booster(booster).predict(x), booster.predict(x), rtol=1e-9, atol=1e-12)


def test_too_little_data_keeps_the_heuristic(database: Database, settings: Settings) -> None:
    write_synthetic_log(database, datetime(2026, 11, 1, tzinfo=UTC), days=2, pages=20, seed=1)
    with database.read_sessions() as session, pytest.raises(Conflict, match="heuristic stays"):
        train_ranker(session, SimulatedClock(datetime(2026, 11, 6, tzinfo=UTC)), settings)
    assert model.load_current(settings.data_dir) is None


def test_train_command(database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from yinli.cli import app
    from yinli.core.settings import get_settings

    monkeypatch.setenv("YINLI_DATABASE_URL", database.url)
    monkeypatch.setenv("YINLI_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["train", "ranker", "--export", str(tmp_path / "log.parquet")])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1 and "heuristic stays in force" in result.output.replace("\n", " ")
    assert (tmp_path / "log.parquet").exists()


def test_feed_serves_with_the_published_model(market, database: Database) -> None:  # type: ignore[no-untyped-def]
    write_synthetic_log(database, datetime(2026, 11, 1, tzinfo=UTC), days=2, pages=300, seed=9)
    with database.read_sessions() as session:
        report = train_ranker(session, SimulatedClock(datetime(2026, 11, 6, tzinfo=UTC)), market.settings)
    market.store(3)
    shopper = market.world.shopper()
    market.refresh()
    page = market.feed(shopper, explain="true")
    assert page["model"] == report.version
    assert {i["explain"]["predicted_by"] for i in page["items"]} == {report.version}
    assert FEATURES[-1] == "position"
