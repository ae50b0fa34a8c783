"""Policy comparison: the same seeded worlds under two or more policies, KPIs side by side.

For seed s every policy starts from the identical world (the world is drawn before the policy can act),
so the comparison is paired: the interval on each difference is over per-seed differences, which removes
most of the world-to-world variance. Intervals are 95% Student-t over seeds (use 5 or more). A KPI with
no value in a run (no subjects: e.g. no launch window closed) is left out of that KPI's interval, which
then covers the seeds that have a value (`n` says how many; a difference needs both runs of a seed);
with none the KPI reads n/a.

    DIR/<policy>/seed-<s>/    one run folder each (see report.py)
    DIR/compare.json          per KPI and policy: mean, 95% interval, per-seed values; paired differences
    DIR/compare.md            the same as a table
    DIR/compare.png           each headline KPI relative to the baseline policy, with intervals
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from yinli.sim.kpis import HEADLINE
from yinli.sim.market import SimConfig


def interval(values: Sequence[float | None]) -> dict[str, Any]:
    """Mean and 95% Student-t interval over the values present (None: that seed has no value), and `n`,
    how many there were. With one value the interval is the value itself; with none, everything is None."""
    a = np.asarray([v for v in values if v is not None], dtype=float)
    if not len(a):
        return {"mean": None, "low": None, "high": None, "n": 0}
    mean = float(a.mean())
    if len(a) < 2:
        return {"mean": mean, "low": mean, "high": mean, "n": 1}
    half = float(stats.t.ppf(0.975, len(a) - 1) * a.std(ddof=1) / math.sqrt(len(a)))
    return {"mean": mean, "low": mean - half, "high": mean + half, "n": len(a)}


def _value(kpis: dict[str, Any], name: str) -> float | None:
    v = kpis.get(name)
    return None if v is None else float(v)


def _one(config: SimConfig, out: Path) -> dict[str, Any]:
    from yinli.sim.run import simulate  # in the worker process

    result, _ = simulate(config, out)
    return result.kpis


def run_compare(
    base: SimConfig,
    policies: list[str],
    seeds: list[int],
    out: Path,
    *,
    jobs: int = 1,
    done: Callable[[str, int], None] | None = None,
) -> dict[str, Any]:
    runs: dict[tuple[str, int], dict[str, Any]] = {}
    configs = {(p, s): replace(base, policy=p, seed=s) for p in policies for s in seeds}
    if jobs <= 1:
        for (p, s), cfg in configs.items():
            runs[(p, s)] = _one(cfg, out / p / f"seed-{s}")
            if done:
                done(p, s)
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(_one, cfg, out / p / f"seed-{s}"): (p, s) for (p, s), cfg in configs.items()}
            for future in as_completed(futures):
                runs[futures[future]] = future.result()
                if done:
                    done(*futures[future])
    report = summarise(runs, policies, seeds)
    report["config"] = {k: v for k, v in base.__dict__.items() if k not in ("seed", "policy", "start")}
    out.mkdir(parents=True, exist_ok=True)
    (out / "compare.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    (out / "compare.md").write_text(markdown(report))
    plot(report, out / "compare.png")
    return report


def summarise(runs: dict[tuple[str, int], dict[str, Any]], policies: list[str], seeds: list[int]) -> dict[str, Any]:
    baseline = policies[0]
    kpis: dict[str, Any] = {}
    for name in HEADLINE:
        row: dict[str, Any] = {}
        for p in policies:
            values = [_value(runs[(p, s)], name) for s in seeds]
            row[p] = {**interval(values), "values": values}
            if p != baseline:
                base = [_value(runs[(baseline, s)], name) for s in seeds]
                diffs = [None if v is None or b is None else v - b for v, b in zip(values, base, strict=True)]
                row[p]["difference_vs_" + baseline] = interval(diffs)
        kpis[name] = row
    return {"baseline": baseline, "policies": policies, "seeds": seeds, "kpis": kpis}


def _fmt(name: str, v: float | None) -> str:
    if v is None:
        return "n/a"
    if name.endswith("_fen"):
        return f"¥{v / 100:,.0f}"
    if name == "orders":
        return f"{v:,.0f}"
    return f"{v:.3f}"


def markdown(report: dict[str, Any]) -> str:
    policies, base = report["policies"], report["baseline"]
    head = "| KPI | " + " | ".join(policies) + " |\n|---|" + "---|" * len(policies) + "\n"
    n = len(report["seeds"])

    def cell(name: str, r: dict[str, Any]) -> str:
        if r["mean"] is None:
            return "n/a"
        text = f"{_fmt(name, r['mean'])} [{_fmt(name, r['low'])}, {_fmt(name, r['high'])}]"
        return text if r.get("n", n) == n else f"{text} (n={r['n']})"  # over the seeds that have a value

    lines = []
    for name, row in report["kpis"].items():
        cells = []
        for p in policies:
            text = cell(name, row[p])
            if p != base:
                text += f"<br>Δ {cell(name, row[p]['difference_vs_' + base])}"
            cells.append(text)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return (
        f"# Policy comparison over {n} seeds (mean [95% interval]; Δ = paired difference vs {base};"
        " n = seeds with a value when not all; n/a: no seed has one)\n\n" + head + "\n".join(lines) + "\n"
    )


def plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    policies, base = report["policies"], report["baseline"]
    names = list(report["kpis"])
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(names) + 1.5))
    height = 0.8 / max(1, len(policies) - 1)
    for k, p in enumerate(q for q in policies if q != base):
        mid, err = [], []
        for name in names:
            b = report["kpis"][name][base]["mean"]
            d = report["kpis"][name][p]["difference_vs_" + base]
            if d["mean"] is None:  # n/a: no bar (a zero-length one would read "no difference")
                mid.append(math.nan)
                err.append(math.nan)
                continue
            scale = abs(b) if b else 1.0
            mid.append(d["mean"] / scale)
            err.append((d["high"] - d["low"]) / 2 / scale)
        ax.barh([i + k * height for i in range(len(names))], mid, height=height, xerr=err, label=p, capsize=3)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(names))], names)
    ax.set(xlabel=f"change relative to {base} (paired, 95% interval)", title="Policy comparison")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
