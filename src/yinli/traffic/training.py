"""`yinli train ranker`: LightGBM pCTR and pCVR from the event log, checked against the heuristic on a
held-out day, saved as a new version under <data dir>/models/ranker/<version>/ and published.

Rows are logged impressions with the features serving logged (model.FEATURES). Labels: click = a click on
the same item of the same page; order = the shopper paid for that product within 3 days of a clicked
impression. The newest day is held out: the models train on the days before it, and the report compares
AUC (clicks; orders among clicks) and NDCG@10 per feed page (gain: click + 3 × order) of model and
heuristic there. A version is published only when the model does not lose to the heuristic on AUC, so a
bad week of data cannot make the feed worse. Each version folder keeps its training set as Parquet.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from yinli.core.clock import Clock
from yinli.core.errors import Conflict
from yinli.core.settings import Settings
from yinli.traffic import model
from yinli.traffic.events import iter_log
from yinli.traffic.model import FEATURES, F

ORDER_WINDOW = timedelta(days=3).total_seconds()
DAY = 86400.0
PARAMS = {
    "objective": "binary",
    "learning_rate": 0.08,
    "num_leaves": 15,
    "max_depth": 5,
    "min_data_in_leaf": 40,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "verbose": -1,
    "num_threads": 2,
    "deterministic": True,
    "force_row_wise": True,
}
ROUNDS = 150


@dataclass
class Dataset:
    x: np.ndarray
    click: np.ndarray
    order: np.ndarray
    request: np.ndarray  # page code (groups for NDCG)
    day: np.ndarray  # UTC day number

    def __len__(self) -> int:
        return len(self.click)

    def take(self, mask: np.ndarray) -> Dataset:
        return Dataset(self.x[mask], self.click[mask], self.order[mask], self.request[mask], self.day[mask])


def load_dataset(session: Session) -> Dataset:
    """Impressions with labels, from the log (one pass, in id order)."""
    feats: list[list[float]] = []
    keys: list[tuple[str, str, int]] = []
    meta: list[tuple[int, int, float]] = []  # shopper, product, time
    clicks: set[tuple[str, str, int]] = set()
    orders: dict[tuple[int, int], list[float]] = {}
    for chunk in iter_log(session):
        for e in chunk:
            if e.kind == "impression" and e.features and e.request_id:
                f = e.features
                feats.append([float(f.get(name, 0.0)) for name in FEATURES])
                keys.append((e.request_id, e.item_type or "", e.item_id or 0))
                meta.append((e.shopper_id or 0, e.product_id or 0, e.occurred_at.timestamp()))
            elif e.kind == "click" and e.request_id:
                clicks.add((e.request_id, e.item_type or "", e.item_id or 0))
            elif e.kind == "order" and e.shopper_id and e.product_id:
                orders.setdefault((e.shopper_id, e.product_id), []).append(e.occurred_at.timestamp())
    n = len(keys)
    click = np.fromiter((k in clicks for k in keys), bool, n)
    order = np.zeros(n, bool)
    for i in np.flatnonzero(click):
        shopper, product, t = meta[i]
        order[i] = any(t <= o <= t + ORDER_WINDOW for o in orders.get((shopper, product), ()))
    codes: dict[str, int] = {}
    request = np.fromiter((codes.setdefault(k[0], len(codes)) for k in keys), np.int64, n)
    day = np.fromiter((m[2] // DAY for m in meta), np.int64, n)
    x = np.asarray(feats, dtype=np.float64).reshape(n, len(FEATURES))
    return Dataset(np.nan_to_num(x), click, order, request, day)


@dataclass
class TrainResult:
    ctr_booster: Any
    cvr_booster: Any | None
    metrics: dict[str, float]
    train_rows: int
    holdout_rows: int


def _serving_view(x: np.ndarray) -> np.ndarray:
    view = x.copy()
    view[:, F["position"]] = 0.0  # serving scores every candidate as if at the top: position-debiased
    return view


def train(data: Dataset, *, seed: int = 7, rounds: int = ROUNDS) -> TrainResult:
    import lightgbm as lgb

    days = np.unique(data.day)
    if len(days) < 2:
        raise Conflict("the log covers less than two days: one to train on, one to hold out", code="too_little_data")
    holdout = days[-1]
    fit, test = data.take(data.day < holdout), data.take(data.day == holdout)
    params = {**PARAMS, "seed": seed}
    ctr = lgb.train(params, lgb.Dataset(fit.x, fit.click.astype(int), feature_name=list(FEATURES)), rounds)
    clicked = fit.take(fit.click)
    cvr = None
    if clicked.order.sum() >= 20 and (~clicked.order).sum() >= 20:
        cvr = lgb.train(
            params, lgb.Dataset(clicked.x, clicked.order.astype(int), feature_name=list(FEATURES)), rounds // 2
        )
    metrics = evaluate(test, model.Forest.from_booster(ctr), model.Forest.from_booster(cvr) if cvr else None)
    return TrainResult(ctr, cvr, metrics, len(fit), len(test))


def evaluate(test: Dataset, ctr: model.Forest, cvr: model.Forest | None) -> dict[str, float]:
    """Model against heuristic on the held-out rows, both scored as serving scores them."""
    x = _serving_view(test.x)
    m_ctr, h_ctr = ctr.predict(x), model.heuristic_pctr(x)
    gains = test.click.astype(float) + 3 * test.order
    out = {
        "auc_click_model": model.auc(test.click, m_ctr),
        "auc_click_heuristic": model.auc(test.click, h_ctr),
        "ndcg10_model": model.ndcg_at(test.request, gains, m_ctr),
        "ndcg10_heuristic": model.ndcg_at(test.request, gains, h_ctr),
        "holdout_clicks": float(test.click.sum()),
        "holdout_orders": float(test.order.sum()),
    }
    clicked = test.click
    if cvr is not None and test.order[clicked].any() and (~test.order[clicked]).any():
        out["auc_order_model"] = model.auc(test.order[clicked], cvr.predict(x[clicked]))
        out["auc_order_heuristic"] = model.auc(test.order[clicked], model.heuristic_pcvr(x[clicked]))
    return {k: round(v, 5) for k, v in out.items()}


@dataclass
class TrainReport:
    version: str | None  # None: not published (the model lost to the heuristic)
    folder: Path
    metrics: dict[str, float]
    rows: int


def train_ranker(session: Session, clock: Clock, settings: Settings, *, publish: bool = True) -> TrainReport:
    """Train from the whole log, save a new version folder, publish it if it beats the heuristic."""
    data = load_dataset(session)
    if len(data) < settings.traffic_min_training_impressions:
        raise Conflict(
            f"{len(data)} logged impressions; training needs {settings.traffic_min_training_impressions} "
            "(YINLI_TRAFFIC_MIN_TRAINING_IMPRESSIONS). The heuristic stays in force.",
            code="too_little_data",
        )
    result = train(data)
    version = clock.now().strftime("v%Y%m%dT%H%M%S")
    folder = model.models_dir(settings.data_dir) / version
    folder.mkdir(parents=True, exist_ok=True)
    result.ctr_booster.save_model(str(folder / "ctr.txt"))
    if result.cvr_booster is not None:
        result.cvr_booster.save_model(str(folder / "cvr.txt"))
    _save_dataset(folder / "training.parquet", data)
    wins = result.metrics["auc_click_model"] >= result.metrics["auc_click_heuristic"]
    meta = {
        "version": version,
        "trained_at": clock.now().isoformat(),
        "features": list(FEATURES),
        "train_rows": result.train_rows,
        "holdout_rows": result.holdout_rows,
        "metrics": result.metrics,
        "published": bool(publish and wins),
        "params": PARAMS,
    }
    (folder / "meta.json").write_text(json.dumps(meta, indent=2))
    if publish and wins:
        model.publish(settings.data_dir, version)
    return TrainReport(version if meta["published"] else None, folder, result.metrics, len(data))


def _save_dataset(path: Path, data: Dataset) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns: dict[str, Any] = {name: data.x[:, i] for i, name in enumerate(FEATURES)}
    columns |= {"click": data.click, "order": data.order, "request": data.request, "day": data.day}
    pq.write_table(pa.table(columns), path)
