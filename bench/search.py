"""Search benchmark: yinli's full search against raw tantivy and SQLite FTS5 on the same documents.

Builds a catalog of N SKUs (one SKU per product; default 1,000,000, `--quick` 20,000) whose categories
follow the real tree's listing counts (`src/yinli/catalog/data/categories_zh.tsv`), with Chinese titles
generated from the leaf names, brands, attributes and model numbers, and real English product titles from
`../shared/data/product_matching/` for the digital categories (skipped, and said so, when that folder is
absent). Then runs a fixed mix of queries single-threaded and reports p50/p99 latency and queries/s for:

- yinli: the engine's whole search path — analysis, synonyms, typo fallback, the tantivy candidates with
  filters, re-ranking the best K (`--candidates`, default 1,000) over the in-memory feature arrays,
  paging (facets off); browsing (no words) from the precomputed ordered lists (search/browse.py);
  `yinli_by_kind` splits it into browse, words matched (all / typo) and relaxed (partial) fallback;
- yinli_facets: the same with facet counts (tantivy aggregations over every match; browse facets from the
  ordered lists, kept per snapshot, so repeated browse requests reuse them);
- yinli_facets_uncached: the same, with the browse facet cache emptied before every request;
- tantivy_raw: the same tantivy index, the analyzed words through tantivy's own query parser, BM25 top 10;
- sqlite_fts5: the same analyzed terms in an FTS5 table, `MATCH` with bm25 ranking, top 10.

The last stdout line is one JSON object. `python bench/search.py [--quick] [--n N]`.
"""

from __future__ import annotations

import argparse
import functools
import json
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from yinli.catalog.categories import read_tree
from yinli.core.clock import SimulatedClock
from yinli.core.settings import Settings
from yinli.search.backends.base import Filters, Match, Sort
from yinli.search.backends.tantivy_backend import TantivyBackend
from yinli.search.documents import CategoryIndex, SearchDoc
from yinli.search.ranking import DAY
from yinli.search.service import EngineResult, SearchEngine, SearchRequest

ROOT = Path(__file__).resolve().parent.parent
MATCHING = ROOT.parent / "shared" / "data" / "product_matching"
NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
DIGITAL = ("手机数码", "电脑/办公", "家用电器")
BRANDS_ZH = ["华为", "小米", "苹果", "三星", "联想", "李宁", "安踏", "美的", "格力", "海尔", "百雀羚", "完美日记"]
BRANDS_ZH += ["花西子", "三只松鼠", "良品铺子", "南极人", "优衣库", "回力", "飞科", "九阳", "苏泊尔", "绿联"]
MODIFIERS = ["新款", "2026", "加厚", "防摔", "透明", "大容量", "便携", "高清", "纯棉", "夏季", "冬季", "男士", "女士"]
MODIFIERS += ["儿童", "家用", "迷你", "无线", "快充", "超薄", "磨砂", "全包", "升级版", "官方正品", "旗舰"]
COLOURS = ["黑色", "白色", "红色", "蓝色", "粉色", "玫瑰金", "灰色", "绿色"]


def english_titles() -> list[str]:
    titles: set[str] = set()
    for path in sorted(MATCHING.glob("*/*.txt")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            for side in line.split("\t")[:2]:
                for key in ("COL title VAL ", "COL name VAL "):
                    if side.startswith(key):
                        title = side[len(key) :].split(" COL ", 1)[0].strip()
                        if 3 <= len(title) <= 120:
                            titles.add(title)
    return sorted(titles)


def category_rows() -> tuple[list[tuple[int, int | None, int, str]], list[int], np.ndarray, dict[int, str]]:
    """(id, parent, level, name) rows with synthetic ids, the leaf ids, their listing shares, leaf → L1."""
    rows: list[tuple[int, int | None, int, str]] = []
    ids: dict[tuple[str, ...], int] = {}
    leaves, counts, top = [], [], {}
    for leaf in read_tree():
        path: tuple[str, ...] = ()
        for name in (leaf.level1, leaf.level2, leaf.level3):
            parent = ids.get(path)
            path = (*path, name)
            if path not in ids:
                ids[path] = len(rows) + 1
                rows.append((ids[path], parent, len(path), name))
        leaves.append(ids[path])
        counts.append(max(leaf.listing_count, 1))
        top[ids[path]] = leaf.level1
    shares = np.asarray(counts, np.float64)
    return rows, leaves, shares / shares.sum(), top


def build(n: int, seed: int, workdir: Path, log: list[str], candidates: int = 1000) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    rows, leaves, shares, top = category_rows()
    categories = CategoryIndex(rows)
    english = english_titles()
    if not english:
        log.append(f"{MATCHING} absent: English product titles skipped, Chinese generated titles only")
    settings = Settings(_env_file=None, data_dir=workdir, jobs_interval_seconds=0)  # type: ignore[call-arg]
    backend = TantivyBackend(workdir / "search" / "tantivy")
    engine = SearchEngine(backend, settings, SimulatedClock(NOW), candidates=candidates)
    engine.categories = categories
    engine.analyzer.add_words([*categories.words(), *BRANDS_ZH])
    fts = sqlite3.connect(workdir / "fts.db")
    fts.execute("PRAGMA journal_mode=OFF")
    fts.execute("PRAGMA synchronous=OFF")
    fts.execute("CREATE VIRTUAL TABLE docs USING fts5(title, brand, category, detail, tokenize='unicode61')")

    n_stores = max(20, n // 50)
    leaf_of = rng.choice(np.asarray(leaves), size=n, p=shares)
    base_price = {leaf: float(rng.uniform(1500, 60000)) for leaf in leaves}
    store_of = rng.integers(1, n_stores + 1, size=n)
    prices = np.array([max(100, int(base_price[leaf] * rng.lognormal(0, 0.5))) for leaf in leaf_of], np.int64)
    sales = np.floor(rng.lognormal(2.0, 1.8, size=n)).astype(np.int64)
    in_stock = rng.random(n) < 0.9
    pay_later = rng.random(n) < 0.8
    protection = rng.random(n) < 0.85
    listed = (NOW.timestamp() - rng.uniform(0, 365 * DAY, size=n)).astype(np.int64)
    models = [
        f"{chr(65 + rng.integers(26))}{chr(65 + rng.integers(26))}-{rng.integers(10000, 99999)}" for _ in range(n)
    ]

    terms_of = functools.lru_cache(maxsize=200_000)(engine.analyzer.index_terms)

    @functools.lru_cache(maxsize=10_000)
    def whole_of(value: str) -> list[str]:
        return engine.analyzer.whole_terms(value.split(" > "))

    writer = backend.rebuild(None)
    started = time.perf_counter()
    chunk: list[SearchDoc] = []
    fts_rows: list[tuple[str, str, str, str]] = []
    for i in range(n):
        pid, leaf = i + 1, int(leaf_of[i])
        names = categories.names(leaf)
        brand = BRANDS_ZH[int(rng.integers(len(BRANDS_ZH)))] if rng.random() < 0.6 else ""
        # Titles are made of parts; each part is tokenised once (the pieces repeat across a catalog) and
        # the document's terms are the union, as tokenising the whole title would give for these parts.
        if english and top[leaf] in DIGITAL and rng.random() < 0.5:
            parts = [english[int(rng.integers(len(english)))], models[i]]
        else:
            mods = " ".join(MODIFIERS[int(j)] for j in rng.choice(len(MODIFIERS), size=2, replace=False))
            parts = [brand + (models[i] if rng.random() < 0.3 else ""), mods, f"{names[-1]} {names[-2]}"]
        title_terms = list(dict.fromkeys(t for part in parts for t in terms_of(part)))
        colour = COLOURS[int(rng.integers(len(COLOURS)))]
        cat1, cat2, cat3 = categories.path(leaf)
        doc = SearchDoc(
            product_id=pid,
            store_id=int(store_of[i]),
            cat1=cat1,
            cat2=cat2,
            cat3=cat3,
            brand_id=None,
            price_fen=int(prices[i]),
            sales_count=int(sales[i]),
            listed_seconds=int(listed[i]),
            in_stock=bool(in_stock[i]),
            pay_later=bool(pay_later[i]),
            price_protection=bool(protection[i]),
            title=title_terms,
            brand=whole_of(brand) if brand else [],
            category=whole_of(" > ".join(names)),
            detail=whole_of(colour),
        )
        chunk.append(doc)
        fts_rows.append((" ".join(doc.title), " ".join(doc.brand), " ".join(doc.category), " ".join(doc.detail)))
        if len(chunk) == 20_000 or i == n - 1:
            writer.add(chunk)
            engine.features.upsert(chunk, medians=False)
            fts.executemany("INSERT INTO docs(title, brand, category, detail) VALUES (?, ?, ?, ?)", fts_rows)
            chunk, fts_rows = [], []
            print(f"  indexed {i + 1:,}/{n:,} ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    writer.finish(SimulatedClock(NOW), 0)
    fts.commit()
    build_s = time.perf_counter() - started

    # Features: conversion evidence, store quality and new-merchant windows (10% of stores are new).
    f = engine.features
    impressions = np.floor(rng.lognormal(3, 2, size=n))
    f.impressions[1 : n + 1] = impressions
    f.orders[1 : n + 1] = np.floor(impressions * rng.beta(1, 40, size=n))
    f._ensure_stores(n_stores)
    f.store_quality[1 : n_stores + 1] = rng.beta(5, 2, size=n_stores)
    new = rng.random(n_stores) < 0.1
    f.store_first_listed_day[1 : n_stores + 1] = np.where(
        new, NOW.timestamp() / DAY - rng.uniform(0, 30, n_stores), NOW.timestamp() / DAY - 400
    )
    f.platform_cvr = float(f.orders.sum() / max(f.impressions.sum(), 1))
    f.recompute_medians()
    engine._ready = True
    snapshot_started = time.perf_counter()
    engine.browse_snapshot(fresh=True)  # what the index consumer does after each round that changed anything
    snapshot_s = time.perf_counter() - snapshot_started
    return {
        "engine": engine,
        "backend": backend,
        "fts": fts,
        "build_s": build_s,
        "snapshot_s": snapshot_s,
        "models": models,
        "leaves": leaves,
    }


def query_mix(built: dict[str, object], rng: np.random.Generator) -> list[SearchRequest]:
    engine: SearchEngine = built["engine"]  # type: ignore[assignment]
    models: list[str] = built["models"]  # type: ignore[assignment]
    cats = {n.name: n.id for n in engine.categories.nodes.values()}
    phone = cats.get("手机数码")
    words = [
        "手机壳", "iphone 手机壳", "华为 手机壳", "连衣裙", "夏季 连衣裙", "纯棉 t恤", "蓝牙耳机", "无线 蓝牙耳机",
        "笔记本", "laptop", "digital camera", "sony camera", "canon lens", "iphone case", "usb cable",
        "iphnoe case", "camra", "samsung tv", "小米 充电宝", "移动电源", "数据线 快充", "狗粮", "猫粮", "口红",
        "面膜", "运动鞋", "羽绒服 男士", "保温杯", "电饭煲", "洗衣机", "冰箱 家用", "零食", "奶粉", "纸尿裤",
        models[int(rng.integers(len(models)))], models[int(rng.integers(len(models)))].lower().replace("-", ""),
        "手机壳 防摔 全包 透明 新款", "华为 钢化膜", "不存在的商品词", "",
    ]  # fmt: skip
    mix = []
    for i, q in enumerate(words):
        variants = [Filters(), Filters(min_price=2000, max_price=20000), Filters(in_stock=True, pay_later=True)]
        if phone is not None:
            variants.append(Filters(category_id=phone))
        for j, filters in enumerate(variants):
            sort = Sort.PRICE_ASC if (i + j) % 7 == 0 else Sort.RELEVANCE
            mix.append(SearchRequest(q, filters, sort, 0, 20, False, False))
    return mix


def percentiles(samples: list[float], total_s: float, cpu: list[float] | None = None) -> dict[str, float]:
    ms = np.asarray(samples) * 1000
    out = {
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
        "mean_ms": round(float(ms.mean()), 3),
        "qps": round(len(samples) / total_s, 1),
    }
    if cpu:  # this thread's CPU time per query: what the query cost, without the waits of a shared machine
        cpu_ms = np.asarray(cpu) * 1000
        out["cpu_p50_ms"] = round(float(np.percentile(cpu_ms, 50)), 3)
        out["cpu_p99_ms"] = round(float(np.percentile(cpu_ms, 99)), 3)
    return out


def run(fn, items: list, rounds: int, per_item: list | None = None) -> dict[str, float]:  # type: ignore[no-untyped-def,type-arg]
    for item in items:  # warm caches once, untimed
        fn(item)
    samples, cpu = [], []
    started = time.perf_counter()
    for _ in range(rounds):
        for item in items:
            c = time.thread_time()
            t = time.perf_counter()
            fn(item)
            samples.append(time.perf_counter() - t)
            cpu.append(time.thread_time() - c)
            if per_item is not None:
                per_item.append((item, samples[-1]))
    return percentiles(samples, time.perf_counter() - started, cpu)


def kind_of(result: EngineResult) -> str:
    if result.match is None:
        return "browse" if not result.normalized else "no_words"
    return "relaxed" if result.match is Match.PARTIAL else "words"


def by_kind(timed: list[tuple[SearchRequest, float]], kinds: dict[SearchRequest, str]) -> dict[str, object]:
    """Latency per kind of query, and the slowest queries (each over its rounds)."""
    groups: dict[str, list[float]] = {}
    per_query: dict[SearchRequest, list[float]] = {}
    for request, seconds in timed:
        groups.setdefault(kinds[request], []).append(seconds)
        per_query.setdefault(request, []).append(seconds)
    out: dict[str, object] = {
        kind: {**percentiles(samples, sum(samples)), "samples": len(samples)}
        for kind, samples in sorted(groups.items())
    }
    slowest = sorted(per_query.items(), key=lambda kv: -float(np.median(kv[1])))[:8]
    out["slowest_median_ms"] = [
        {
            "q": r.q,
            "filters": {k: v for k, v in r.filters.__dict__.items() if v is not None},
            "sort": r.sort.value,
            "kind": kinds[r],
            "ms": round(float(np.median(t)) * 1000, 2),
        }
        for r, t in slowest
    ]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="SKUs in the catalog")
    parser.add_argument("--quick", action="store_true", help="20,000 SKUs: finishes in well under a minute")
    parser.add_argument("--rounds", type=int, default=None, help="passes over the query mix (default 5; quick 3)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--candidates", type=int, default=1000, help="K: lexical candidates re-ranked per query")
    args = parser.parse_args()
    n = 20_000 if args.quick else args.n
    rounds = args.rounds or (3 if args.quick else 5)
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="yinli-bench-search-") as tmp:
        built = build(n, args.seed, Path(tmp), notes, args.candidates)
        engine: SearchEngine = built["engine"]  # type: ignore[assignment]
        backend: TantivyBackend = built["backend"]  # type: ignore[assignment]
        fts: sqlite3.Connection = built["fts"]  # type: ignore[assignment]
        mix = query_mix(built, np.random.default_rng(args.seed))
        print(f"catalog built: {n:,} SKUs in {built['build_s']:.1f} s; {len(mix)} queries × {rounds}", file=sys.stderr)

        totals: list[int] = []
        estimated: list[bool] = []
        kinds: dict[SearchRequest, str] = {}

        def yinli(request: SearchRequest) -> None:
            result = engine.search(None, request)
            totals.append(result.total)
            estimated.append(result.total_is_estimate)
            kinds[request] = kind_of(result)

        def yinli_facets(request: SearchRequest) -> None:
            engine.search(None, SearchRequest(request.q, request.filters, request.sort, 0, 20, False, True))

        def yinli_facets_uncached(request: SearchRequest) -> None:
            engine.browse_snapshot().facets.clear()
            engine.search(None, SearchRequest(request.q, request.filters, request.sort, 0, 20, False, True))

        texts = sorted({r.q for r in mix})
        analyzed = {q: [c.text for c in engine.analyzer.concepts(q)] for q in texts}
        index = backend.index
        fields = ["title", "brand", "category", "detail"]

        def raw_tantivy(q: str) -> None:
            terms = analyzed[q]
            if not terms:
                return
            query, _errors = index.parse_query_lenient(" ".join(terms), fields, conjunction_by_default=True)
            backend.searcher().search(query, limit=10)

        def sqlite_fts5(q: str) -> None:
            terms = analyzed[q]
            if not terms:
                return
            match = " ".join('"' + t.replace('"', '""') + '"' for t in terms)
            fts.execute("SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY rank LIMIT 10", (match,)).fetchall()

        timed: list[tuple[SearchRequest, float]] = []
        results = {
            "yinli": run(yinli, mix, rounds, timed),
            "yinli_facets": run(yinli_facets, mix, rounds),
            "yinli_facets_uncached": run(yinli_facets_uncached, mix, rounds),
            "tantivy_raw": run(raw_tantivy, texts, rounds * len(mix) // max(len(texts), 1)),
            "sqlite_fts5": run(sqlite_fts5, texts, rounds * len(mix) // max(len(texts), 1)),
        }
        zero = sum(1 for t in totals if t == 0) / max(len(totals), 1)
        estimated_share = sum(estimated) / max(len(estimated), 1)
        kinds_summary = by_kind(timed, kinds)
    summary = {
        "benchmark": "search",
        "skus": n,
        "build_seconds": round(float(built["build_s"]), 1),  # type: ignore[arg-type]
        "browse_snapshot_seconds": round(float(built["snapshot_s"]), 3),  # type: ignore[arg-type]
        "candidates": args.candidates,
        "query_mix": len(mix),
        "rounds": rounds,
        "zero_result_share": round(zero, 3),
        "estimated_total_share": round(estimated_share, 3),  # answers whose total is estimated, not counted
        **results,
        "yinli_by_kind": kinds_summary,
        "yinli_p99_vs_tantivy_raw_p99": round(
            results["yinli"]["p99_ms"] / max(results["tantivy_raw"]["p99_ms"], 1e-9), 1
        ),
        "yinli_p99_target_ms": 5.0,
        "yinli_p99_within_target": results["yinli"]["p99_ms"] <= 5.0,
        "notes": notes,
    }
    for kind, r in kinds_summary.items():
        if isinstance(r, dict) and kind != "slowest_median_ms":
            print(
                f"  yinli {kind:>8}: p50 {r['p50_ms']:.3f} ms  p99 {r['p99_ms']:.3f} ms  ({r['samples']})",
                file=sys.stderr,
            )
    for name, r in results.items():
        line = f"p50 {r['p50_ms']:.3f} ms  p99 {r['p99_ms']:.3f} ms  {r['qps']:.0f} q/s  cpu p99 {r['cpu_p99_ms']:.2f}"
        print(f"{name:>21}: {line}", file=sys.stderr)
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
