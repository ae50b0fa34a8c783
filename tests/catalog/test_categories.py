from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from yinli.catalog.categories import CategoryNames, do_load_categories, read_tree
from yinli.catalog.models import Category

SHARED_TREE = Path(__file__).resolve().parents[3] / "shared" / "data" / "categories" / "categories_zh.tsv"


def counts(session) -> dict[int, int]:
    return dict(session.execute(select(Category.level, func.count()).group_by(Category.level)).all())


def test_the_shipped_tree_has_22_192_1258_nodes(database):
    with database.session() as s:
        assert counts(s) == {1: 22, 2: 192, 3: 1258}
        leaves = s.scalar(select(func.sum(Category.listing_count)).where(Category.level == 3))
        roots = s.scalar(select(func.sum(Category.listing_count)).where(Category.level == 1))
        assert leaves == roots == sum(r.listing_count for r in read_tree())


def test_loading_again_changes_nothing(database):
    with database.session() as s:
        before = {c.id: (c.path, c.parent_id, c.listing_count) for c in s.scalars(select(Category))}
        result = do_load_categories(s)
        assert result.created == 0
        assert result.total_by_level == {1: 22, 2: 192, 3: 1258}
    with database.session() as s:
        assert {c.id: (c.path, c.parent_id, c.listing_count) for c in s.scalars(select(Category))} == before


def test_shipped_copy_matches_the_shared_data():
    if not SHARED_TREE.exists():
        import pytest

        pytest.skip("../shared/data is not present on this machine")
    assert read_tree(SHARED_TREE) == read_tree()


def test_names_with_slashes_keep_their_place_in_the_tree(client):
    roots = {c["name"]: c for c in client.get("/api/v1/categories").json()}
    assert len(roots) == 22
    pc = roots["电脑/办公"]
    children = client.get("/api/v1/categories", params={"parent_id": pc["id"]}).json()
    assert all(c["level"] == 2 and c["parent_id"] == pc["id"] for c in children)
    leaf_parent = next(c for c in children if c["name"] == "电脑配件")
    detail = client.get(f"/api/v1/categories/{leaf_parent['id']}").json()
    assert [a["name"] for a in detail["ancestors"]] == ["电脑/办公"]
    leaf = next(c for c in detail["children"] if c["name"] == "笔记本配件")
    assert leaf["path"] == "电脑/办公 > 电脑配件 > 笔记本配件"
    assert client.get(f"/api/v1/categories/{leaf['id']}").json()["children"] == []


def test_filtering_products_by_a_category_at_any_level(world, client):
    m = world.merchant()
    case = world.product(m)  # 手机数码 > 手机配件 > 手机保护套
    shoes_leaf = world.leaf_id("服饰鞋帽 > 男鞋 > 休闲鞋")
    shoe = world.product(m, category_id=shoes_leaf)
    roots = {c["name"]: c["id"] for c in client.get("/api/v1/categories").json()}
    level2 = client.get(f"/api/v1/categories/{case['category_id']}").json()["ancestors"][1]["id"]
    for category_id, expected in [
        (roots["手机数码"], {case["id"]}),
        (level2, {case["id"]}),
        (case["category_id"], {case["id"]}),
        (roots["服饰鞋帽"], {shoe["id"]}),
        (roots["图书杂志"], set()),
    ]:
        r = client.get("/api/v1/products", params={"category_id": category_id})
        assert {p["id"] for p in r.json()["items"]} == expected


def test_operators_set_a_category_fee_that_later_orders_snapshot(world, client, app, database, settings, clock):
    from datetime import timedelta

    from tests.factories import buy, pay, stock
    from yinli.jobs import run_once

    m = world.merchant()
    p = world.product(m, price_fen=10000)
    sku = p["skus"][0]["id"]
    stock(world, m, sku, 5)
    path = f"/api/v1/categories/{p['category_id']}/fee"
    assert client.put(path, json={"fee_rate_bps": 500}, headers=m.headers).status_code == 403
    assert client.put(path, json={"fee_rate_bps": 10001}, headers=world.operator.headers).status_code == 422
    assert client.put(path, json={"fee_rate_bps": 500}, headers=world.operator.headers).json()["fee_rate_bps"] == 500
    s = world.shopper()
    order_id = pay(world, s, buy(world, s, [{"sku_id": sku, "quantity": 1}])["id"])["order_ids"][0]
    client.put(path, json={"fee_rate_bps": 900}, headers=world.operator.headers)  # too late for that order
    client.post(f"/api/v1/orders/{order_id}/ship", json={"carrier": "顺丰", "tracking_no": "SF1234"}, headers=m.headers)
    client.post(f"/api/v1/orders/{order_id}/confirm-delivery", headers=s.headers)
    clock.advance(timedelta(days=settings.return_window_days + 1))
    run_once(database, clock, settings, app.state.gateway)
    balances = client.get("/api/v1/ledger/balances", headers=world.user("operator").headers).json()["balances"]
    assert balances["platform_fee_revenue"] == -500
    assert balances[f"merchant_payable:{m.store_id}"] == -9500


# --- what a query names (catalog.categories.CategoryNames) --------------------------------------------


def _names(database) -> tuple[CategoryNames, dict[str, int]]:
    with database.session() as s:
        ids = {c.path: c.id for c in s.scalars(select(Category))}
        return CategoryNames.load(s), ids


def test_a_query_names_the_deepest_category_it_mentions(database):
    names, ids = _names(database)
    leaf = ids["手机数码 > 手机配件 > 手机保护套"]
    assert [c.category_id for c in names.of_query("手机保护套")] == [leaf]  # not 手机 as well
    assert [c.category_id for c in names.of_query("苹果 手机保护套 透明")] == [leaf]
    assert [c.category_id for c in names.of_query("点卡")] == [ids["本地生活 > 游戏充值 > 游戏点卡"]]
    # a name shared by leaves under several parents: the one whose parents the query names comes first
    tees = [c.category_id for c in names.of_query("男装 t恤")]
    assert ids["服饰鞋帽 > 男装 > T恤"] == tees[0]
    assert names.of_query("xyzzy") == [] and names.of_query("") == [] and names.of_query("其他") == []


@given(st.text(max_size=30))
@settings(max_examples=60, deadline=None)
def test_query_categories_are_few_real_and_weigh_one(text):
    names = _shipped_names()
    found = names.of_query(text)
    assert len(found) <= 3
    assert len({c.category_id for c in found}) == len(found)
    if found:
        assert abs(sum(c.weight for c in found) - 1.0) < 1e-9


_SHIPPED: list[CategoryNames] = []


def _shipped_names() -> CategoryNames:
    """The shipped tree's names without a database (ids are row numbers)."""
    if not _SHIPPED:
        rows, seen = [], {}
        for r in read_tree():
            for level, names in enumerate(((r.level1,), (r.level1, r.level2), (r.level1, r.level2, r.level3)), 1):
                path = " > ".join(names)
                if path not in seen:
                    seen[path] = len(seen) + 1
                    rows.append((seen[path], level, names[-1], path, r.listing_count))
        _SHIPPED.append(CategoryNames(rows))
    return _SHIPPED[0]
