"""A saved ranker is checked against the code's FEATURES on load: trees index features by column, so a
model trained before a feature was added, dropped or moved would score the wrong columns silently."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

from yinli.core.clock import SimulatedClock
from yinli.core.settings import Settings
from yinli.traffic import model
from yinli.traffic.model import FEATURES, ModelMismatch
from yinli.traffic.service import TrafficEngine


def _save(data_dir: Path, features: list[str], *, meta_features: list[str] | None = None) -> None:
    """A tiny trained booster saved as `yinli train ranker` saves one, under version v1 (published)."""
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(200, len(features)))
    y = (x[:, 0] > 0.5).astype(int)
    params = {"objective": "binary", "verbose": -1, "num_leaves": 4, "min_data_in_leaf": 5}
    booster = lgb.train(params, lgb.Dataset(x, y, feature_name=features), 3)
    folder = model.models_dir(data_dir) / "v1"
    folder.mkdir(parents=True)
    booster.save_model(str(folder / "ctr.txt"))
    saved = features if meta_features is None else meta_features
    (folder / "meta.json").write_text(json.dumps({"version": "v1", "features": saved}))
    model.publish(data_dir, "v1")


def test_a_model_on_the_code_s_features_loads(tmp_path: Path) -> None:
    _save(tmp_path, list(FEATURES))
    ranker = model.load_current(tmp_path)
    assert ranker is not None and ranker.version == "v1" and ranker.cvr is None


def test_a_model_missing_a_feature_is_refused_naming_it(tmp_path: Path) -> None:
    _save(tmp_path, [f for f in FEATURES if f != "engagement"])
    with pytest.raises(ModelMismatch, match=r"missing \['engagement'\]"):
        model.load_current(tmp_path)


def test_a_model_with_an_unknown_feature_is_refused_naming_it(tmp_path: Path) -> None:
    _save(tmp_path, [*FEATURES, "weather"])
    with pytest.raises(ModelMismatch, match=r"unknown \['weather'\]"):
        model.load_current(tmp_path)


def test_the_same_features_in_another_order_are_refused(tmp_path: Path) -> None:
    swapped = [FEATURES[1], FEATURES[0], *FEATURES[2:]]
    _save(tmp_path, swapped)
    with pytest.raises(ModelMismatch, match="another order"):
        model.load_current(tmp_path)


def test_the_booster_s_own_names_are_checked_even_when_meta_json_agrees(tmp_path: Path) -> None:
    _save(tmp_path, [*FEATURES[:-1], "slot"], meta_features=list(FEATURES))
    with pytest.raises(ModelMismatch, match=r"ctr\.txt.*missing \['position'\]"):
        model.load_current(tmp_path)


def test_serving_ranks_by_the_heuristic_with_a_warning_on_a_mismatched_model(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    _save(settings.data_dir, [f for f in FEATURES if f != "noise"])
    engine = TrafficEngine(settings, SimulatedClock(datetime(2026, 11, 6, tzinfo=UTC)))
    with caplog.at_level(logging.WARNING, logger="yinli.traffic"):
        assert engine._load_model() is None
    assert "heuristic" in caplog.text and "missing ['noise']" in caplog.text
