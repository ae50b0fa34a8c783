"""pCTR and pCVR: the documented heuristic, and LightGBM models trained from the event log.

Features (one row per candidate, computed from the snapshot at serving time and *logged with every
impression*, so training sees exactly what serving saw):

    fmt              0 product card, 1 video, 2 live session
    log_price        log(1 + price in yuan) of the product sold
    item_ctr         the item's decayed CTR, shrunk toward the platform CTR (features.rates)
    item_cvr         the item's decayed CVR, shrunk likewise
    log_impressions  log(1 + decayed impressions): how much evidence the rates have
    experience       user-experience score (ranking.py)
    noise            marketing-noise penalty (ranking.py)
    affinity         shopper's interest in the leaf category, w / (w + 3)
    root_affinity    ... in its top-level category, w / (w + 5)
    follows          1 when the shopper follows the store or creator
    is_new           1 for a new merchant's item
    engagement       sales (cards), completion rate (videos), viewers (live), in [0, 1]
    position         position on the page (serving scores everyone at 0: position-debiased)

Heuristic (used until a model is trained — `yinli train ranker` refuses below
YINLI_TRAFFIC_MIN_TRAINING_IMPRESSIONS logged impressions):

    pCTR = item_ctr · (0.5 + 1.2·affinity + 0.3·root_affinity + 0.5·follows) · (1 − 0.3·noise)
    pCVR = item_cvr · (0.6 + 0.8·experience) · (1 − 0.3·noise)

Serving evaluates the trained trees with numpy (`Forest`, vectorised over candidates and trees), which
matches LightGBM's own prediction and costs a fraction of calling it per request.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

FEATURES = (
    "fmt",
    "log_price",
    "item_ctr",
    "item_cvr",
    "log_impressions",
    "experience",
    "noise",
    "affinity",
    "root_affinity",
    "follows",
    "is_new",
    "engagement",
    "position",
)
F = {name: i for i, name in enumerate(FEATURES)}
CLIP = (1e-4, 0.95)


def heuristic_pctr(x: np.ndarray) -> np.ndarray:
    lift = 0.5 + 1.2 * x[:, F["affinity"]] + 0.3 * x[:, F["root_affinity"]] + 0.5 * x[:, F["follows"]]
    return np.clip(x[:, F["item_ctr"]] * lift * (1 - 0.3 * x[:, F["noise"]]), *CLIP)


def heuristic_pcvr(x: np.ndarray) -> np.ndarray:
    return np.clip(x[:, F["item_cvr"]] * (0.6 + 0.8 * x[:, F["experience"]]) * (1 - 0.3 * x[:, F["noise"]]), *CLIP)


# --- trees in numpy --------------------------------------------------------------------------------------


@dataclass
class Forest:
    """A LightGBM binary model's trees as padded arrays; `predict` = sigmoid of the summed leaves."""

    feature: np.ndarray  # [trees, nodes]
    threshold: np.ndarray
    left: np.ndarray  # child: >= 0 internal node, < 0 leaf ~(-leaf - 1)
    right: np.ndarray
    leaf_value: np.ndarray  # [trees, leaves]
    depth: int
    single: np.ndarray  # [trees] bool: a tree that is one leaf (no split)

    @classmethod
    def from_booster(cls, booster: Any) -> Forest:
        trees = booster.dump_model()["tree_info"]
        n_nodes = max(t["num_leaves"] - 1 for t in trees) or 1
        n_leaves = max(t["num_leaves"] for t in trees)
        T = len(trees)
        feature = np.zeros((T, n_nodes), np.int64)
        threshold = np.zeros((T, n_nodes))
        left = np.full((T, n_nodes), -1, np.int64)
        right = np.full((T, n_nodes), -1, np.int64)
        leaf_value = np.zeros((T, n_leaves))
        single = np.zeros(T, bool)
        depth = 1
        for t, tree in enumerate(trees):
            root = tree["tree_structure"]
            if "leaf_value" in root and "split_index" not in root:  # a single-leaf tree
                leaf_value[t, 0] = root["leaf_value"]
                single[t] = True
                continue

            def walk(node: dict[str, Any], d: int, t: int = t) -> int:
                nonlocal depth
                if "split_index" not in node:
                    leaf_value[t, node["leaf_index"]] = node["leaf_value"]
                    depth = max(depth, d)
                    return -int(node["leaf_index"]) - 1
                if node["decision_type"] != "<=":
                    raise ValueError("only numeric splits are supported")
                i = int(node["split_index"])
                feature[t, i] = node["split_feature"]
                threshold[t, i] = node["threshold"]
                left[t, i] = walk(node["left_child"], d + 1)
                right[t, i] = walk(node["right_child"], d + 1)
                return i

            walk(root, 0)
        return cls(feature, threshold, left, right, leaf_value, depth, single)

    def raw(self, x: np.ndarray) -> np.ndarray:
        n, T = len(x), len(self.feature)
        trees = np.arange(T)[None, :]
        node = np.zeros((n, T), np.int64)
        node[:, self.single] = -1  # single-leaf trees start at (and stay on) leaf 0
        rows = np.arange(n)[:, None]
        for _ in range(self.depth):
            inner = node >= 0
            if not inner.any():
                break
            at = np.where(inner, node, 0)
            f = self.feature[trees, at]
            go_left = x[rows, f] <= self.threshold[trees, at]
            nxt = np.where(go_left, self.left[trees, at], self.right[trees, at])
            node = np.where(inner, nxt, node)
        return self.leaf_value[trees, -node - 1].sum(axis=1)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.raw(x)))


@dataclass
class Ranker:
    """The model in force: a version and its forests (None: heuristic)."""

    version: str
    ctr: Forest
    cvr: Forest | None
    meta: dict[str, Any] = field(default_factory=dict)

    def pctr(self, x: np.ndarray) -> np.ndarray:
        return np.clip(self.ctr.predict(x), *CLIP)

    def pcvr(self, x: np.ndarray) -> np.ndarray:
        return np.clip(self.cvr.predict(x), *CLIP) if self.cvr is not None else heuristic_pcvr(x)


def models_dir(data_dir: Path) -> Path:
    return data_dir / "models" / "ranker"


class ModelMismatch(Exception):
    """A saved model was trained on other features than the code computes: its trees would read the
    wrong columns (split_feature is a column index), so its scores would be silently wrong."""


def check_features(saved: list[str], where: str) -> None:
    """Raise ModelMismatch naming how `saved` (a model's feature list) differs from FEATURES."""
    if list(saved) == list(FEATURES):
        return
    missing = [f for f in FEATURES if f not in saved]
    extra = [f for f in saved if f not in FEATURES]
    parts = [f"missing {missing}" if missing else "", f"unknown {extra}" if extra else ""]
    said = "; ".join(p for p in parts if p) or f"same features in another order: {list(saved)}"
    raise ModelMismatch(f"{where} was trained on other features than the code's FEATURES: {said}")


def load_current(data_dir: Path) -> Ranker | None:
    """The version named in models/ranker/CURRENT, or None (heuristic) when there is none. Raises
    ModelMismatch when its saved feature list (meta.json and each booster's own) is not FEATURES."""
    import lightgbm as lgb

    root = models_dir(data_dir)
    current = root / "CURRENT"
    if not current.exists():
        return None
    version = current.read_text().strip()
    folder = root / version
    meta = json.loads((folder / "meta.json").read_text())
    check_features(meta.get("features", []), f"ranker {version} (meta.json)")
    forests: dict[str, Forest] = {}
    for name in ("ctr", "cvr"):
        path = folder / f"{name}.txt"
        if path.exists():
            booster = lgb.Booster(model_file=str(path))
            check_features(booster.feature_name(), f"ranker {version} ({path.name})")
            forests[name] = Forest.from_booster(booster)
    return Ranker(version, forests["ctr"], forests.get("cvr"), meta)


def publish(data_dir: Path, version: str) -> None:
    """Point CURRENT at `version` atomically (a reader sees the old or the new name, never half)."""
    root = models_dir(data_dir)
    tmp = root / f".CURRENT.{os.getpid()}"
    tmp.write_text(version)
    tmp.replace(root / "CURRENT")


# --- metrics --------------------------------------------------------------------------------------------


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (rank formula, ties averaged)."""
    labels = labels.astype(bool)
    pos, neg = int(labels.sum()), int((~labels).sum())
    if pos == 0 or neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):  # average ranks over ties
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[labels].sum() - pos * (pos + 1) / 2) / (pos * neg))


def ndcg_at(groups: np.ndarray, gains: np.ndarray, scores: np.ndarray, k: int = 10) -> float:
    """Mean NDCG@k over groups (feed requests) that have any gain."""
    order = np.lexsort((-scores, groups))
    g, gains_sorted = groups[order], gains[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    ends = np.r_[starts[1:], len(g)]
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    values = []
    for s, e in zip(starts, ends, strict=True):
        got = gains_sorted[s:e][:k]
        ideal = np.sort(gains[order][s:e])[::-1][:k]
        if ideal.sum() <= 0:
            continue
        values.append(float((got * discounts[: len(got)]).sum() / (ideal * discounts[: len(ideal)]).sum()))
    return float(np.mean(values)) if values else float("nan")


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))
