"""The category tree: loading the shipped taxonomy, and reading nodes, paths and subtrees."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from yinli.catalog.models import Category
from yinli.core.auth import Actor
from yinli.core.errors import InvalidInput, NotFound

SHIPPED_TREE = "categories_zh.tsv"
# Names themselves contain "/" ("电脑/办公", "毛绒/布艺"), so paths join with " > ".
PATH_SEP = " > "


def join_path(*names: str) -> str:
    return PATH_SEP.join(names)


@dataclass(frozen=True)
class LeafRow:
    level1: str
    level2: str
    level3: str
    listing_count: int


def read_tree(path: Path | None = None) -> list[LeafRow]:
    """Rows of a `level1<TAB>level2<TAB>level3<TAB>listing_count` file (the shipped copy by default)."""
    if path is None:
        text = resources.files("yinli.catalog.data").joinpath(SHIPPED_TREE).read_text(encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    reader = csv.DictReader(text.splitlines(), delimiter="\t")
    return [
        LeafRow(r["level1"].strip(), r["level2"].strip(), r["level3"].strip(), int(r["listing_count"])) for r in reader
    ]


@dataclass(frozen=True)
class LoadResult:
    created: int
    total_by_level: dict[int, int]


def do_load_categories(session: Session, rows: list[LeafRow] | None = None) -> LoadResult:
    """Insert the tree's missing nodes (idempotent: loading twice changes nothing) and refresh counts."""
    rows = rows if rows is not None else read_tree()
    existing = {c.path: c for c in session.scalars(select(Category))}
    counts: dict[tuple[str, ...], int] = {}
    for r in rows:
        names: tuple[str, ...]
        for names in ((r.level1,), (r.level1, r.level2), (r.level1, r.level2, r.level3)):
            counts[names] = counts.get(names, 0) + r.listing_count
    created = 0
    for level in (1, 2, 3):
        for names in sorted(n for n in counts if len(n) == level):
            path = join_path(*names)
            node = existing.get(path)
            if node is None:
                name = names[-1]
                parent_path = join_path(*names[:-1])
                node = Category(
                    parent_id=existing[parent_path].id if level > 1 else None,
                    level=level,
                    name=name,
                    path=path,
                    listing_count=counts[names],
                )
                session.add(node)
                existing[path] = node
                created += 1
            else:
                node.listing_count = counts[names]
        session.flush()  # ids of this level are parents of the next
    totals = dict(session.execute(select(Category.level, func.count()).group_by(Category.level)).all())
    return LoadResult(created, totals)


def get_category(session: Session, category_id: int, field: str = "category_id") -> Category:
    category = session.get(Category, category_id)
    if category is None:
        raise NotFound(f"no category {category_id}", field=field)
    return category


def require_leaf(session: Session, category_id: int) -> Category:
    category = session.get(Category, category_id)
    if category is None:
        raise InvalidInput(f"no category {category_id}", field="category_id")
    if category.level != 3:
        raise InvalidInput("products belong to a leaf (level 3) category", field="category_id")
    return category


def children(session: Session, parent_id: int | None) -> list[Category]:
    query = select(Category).order_by(Category.id)
    query = query.where(Category.parent_id.is_(None) if parent_id is None else Category.parent_id == parent_id)
    return list(session.scalars(query))


def ancestors(session: Session, category: Category) -> list[Category]:
    """Root first, the category itself last."""
    parts = category.path.split(PATH_SEP)
    paths = [join_path(*parts[: i + 1]) for i in range(len(parts))]
    by_path = {c.path: c for c in session.scalars(select(Category).where(Category.path.in_(paths)))}
    return [by_path[p] for p in paths]


def subtree_leaf_ids(session: Session, category: Category) -> Select[int]:
    """A select of the leaf ids under `category` (itself if a leaf), for `IN (...)` filters."""
    if category.level == 3:
        return select(Category.id).where(Category.id == category.id)
    return select(Category.id).where(
        Category.level == 3, Category.path.startswith(category.path + PATH_SEP, autoescape=True)
    )


def do_set_fee_rate(session: Session, actor: Actor | None, category_id: int, fee_rate_bps: int | None) -> Category:
    """Operators set a category's technical fee (basis points; None: the platform default).

    Only orders placed afterwards are affected: each order line snapshots the rate it was sold at.
    """
    from yinli.core.auth import Role, require_role

    require_role(actor, Role.OPERATOR)
    if fee_rate_bps is not None and not 0 <= fee_rate_bps <= 10_000:
        raise InvalidInput("a fee rate is 0 to 10000 basis points", field="fee_rate_bps")
    category = get_category(session, category_id)
    category.fee_rate_bps = fee_rate_bps
    session.flush()
    return category


# --- what a query is about ------------------------------------------------------------------------------

GENERIC_NAMES = frozenset({"其他", "其它", "配件", "其他配件"})  # name nothing on their own


@dataclass(frozen=True)
class QueryCategory:
    category_id: int
    weight: float  # the query's weights sum to 1


class CategoryNames:
    """The tree's names, to tell which categories a search query names (a shopper who searches "茶叶"
    is interested in 茶叶 even when nothing is listed there yet — the launch plan's forecast needs exactly
    that interest for the first merchant of a category).

    A category matches when one of its names (split on "/" and "、": "食品/饮料/酒水") occurs in the
    query, or the query (two characters or more) occurs in the name. The deepest matching level wins (a
    leaf names more than its parent); among those, a category whose ancestors the query also names
    comes first, then the longest name matched, then the larger category by listings."""

    def __init__(self, rows: list[tuple[int, int, str, str, int]]) -> None:
        # (id, level, name, path, listing_count) → (id, level, its names, its ancestors' names, listings)
        self._rows = [
            (
                cid,
                level,
                [t for t in _terms(name) if t not in GENERIC_NAMES],
                [t for ancestor in path.split(PATH_SEP)[:-1] for t in _terms(ancestor)],
                listings,
            )
            for cid, level, name, path, listings in rows
        ]

    @classmethod
    def load(cls, session: Session) -> CategoryNames:
        return cls(
            [
                (c.id, c.level, c.name, c.path, c.listing_count)
                for c in session.execute(
                    select(Category.id, Category.level, Category.name, Category.path, Category.listing_count)
                )
            ]
        )

    def of_query(self, normalized: str, limit: int = 3) -> list[QueryCategory]:
        """Categories the (normalised) query names, strongest first, weights summing to 1; [] if none."""
        q = normalized.replace(" ", "")
        if not q or q in GENERIC_NAMES:
            return []
        found: list[tuple[int, int, str, int, int]] = []  # (level, context, matched name, listings, id)
        for cid, level, terms, ancestors, listings in self._rows:
            matched = max((t for t in terms if t in q or (len(q) >= 2 and q in t)), key=len, default="")
            if matched:
                found.append((level, sum(1 for t in ancestors if t in q), matched, listings, cid))
        if not found:
            return []
        deepest = max(f[0] for f in found)
        found = [f for f in found if f[0] == deepest]
        # "手机保护套" names 手机保护套, not 手机: a name inside a longer matched name is not what was meant
        names = {f[2] for f in found}
        found = [f for f in found if not any(f[2] != other and f[2] in other for other in names)]
        best = sorted(found, key=lambda f: (-f[1], -len(f[2]), -f[3], f[4]))[:limit]
        return [QueryCategory(f[4], 1.0 / len(best)) for f in best]


def _terms(name: str) -> list[str]:
    return [t.strip().lower() for t in name.replace("、", "/").split("/") if t.strip()]
