"""The search log: every search page view (query, filters, results shown), what shoppers did with the
results (clicks and add-to-cart, reported by the client; orders, taken from paid order lines attributed
to the search), and the analytics over it: search PV, CTR, conversion rate, zero-result queries.

Attribution: a shopper who buys from a search result sends `surface=search, source_id=<search id>` with
the cart or checkout line (last touch, like every surface); the `OrderPaid` consumer here records the
paid lines against that search.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, distinct, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from yinli.core.auth import Actor, Role, require_role
from yinli.core.clock import Clock
from yinli.core.errors import InvalidInput, NotFound
from yinli.core.outbox import emit, get_cursor, read_after, save_cursor
from yinli.search.models import LoggedSearch, SearchAction, SearchInteraction, SearchProductStats

CONSUMER = "search_log"
SEARCH_SURFACE = "search"
TOP_QUERIES = 20
ANALYTICS_DAYS = 7


def _bump(session: Session, product_ids: list[int], column: str, by: int = 1) -> None:
    """Atomic `column += by` for each product's counters, creating rows as needed."""
    if not product_ids:
        return
    counts: dict[int, int] = {}
    for pid in product_ids:
        counts[pid] = counts.get(pid, 0) + by
    rows = [
        {"product_id": pid, "impressions": 0, "clicks": 0, "carts": 0, "orders": 0, column: n}
        for pid, n in sorted(counts.items())
    ]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(SearchProductStats).values(rows)
    target = getattr(SearchProductStats, column)
    session.execute(
        stmt.on_conflict_do_update(index_elements=["product_id"], set_={column: target + stmt.excluded[column]})
    )


def do_record_search(
    session: Session,
    clock: Clock,
    actor: Actor | None,
    *,
    query: str,
    normalized: str,
    filters: dict[str, Any],
    sort: str,
    offset: int,
    total: int,
    shown: list[int],
    backend: str,
    relaxed: str | None,
    took_us: int,
) -> LoggedSearch:
    row = LoggedSearch(
        shopper_id=actor.user_id if actor is not None else None,
        query=query[:256],
        normalized=normalized[:256],
        filters=filters,
        sort=sort,
        page_offset=offset,
        total=total,
        shown=shown,
        backend=backend,
        relaxed=relaxed,
        took_us=min(took_us, 2**31 - 1),
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    _bump(session, shown, "impressions")
    if actor is not None and normalized.strip() and offset == 0:
        # what a shopper searches for is what they are interested in, found or not (the traffic log turns
        # the query's categories into interest: traffic.events, surface `search_query`)
        emit(session, clock, "SearchQueried", "search", row.id, {"query": normalized[:256]}, actor_id=actor.user_id)
    return row


def get_search(session: Session, actor: Actor | None, search_id: int) -> LoggedSearch:
    """A logged search as its shopper may see it; someone else's search is a 404."""
    row = session.get(LoggedSearch, search_id)
    if row is None or (row.shopper_id is not None and (actor is None or actor.user_id != row.shopper_id)):
        raise NotFound(f"no search {search_id}", field="search_id")
    return row


def do_record_interaction(
    session: Session, clock: Clock, actor: Actor | None, *, search_id: int, product_id: int, action: str
) -> SearchInteraction:
    """A click or add-to-cart on a result the search showed."""
    if action not in (SearchAction.CLICK, SearchAction.ADD_TO_CART):
        raise InvalidInput("action is click or add_to_cart", field="action")
    search = get_search(session, actor, search_id)
    if product_id not in search.shown:
        raise InvalidInput(f"search {search_id} did not show product {product_id}", field="product_id")
    row = SearchInteraction(
        search_id=search.id,
        product_id=product_id,
        action=action,
        position=search.page_offset + search.shown.index(product_id),
        amount_fen=0,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    _bump(session, [product_id], "clicks" if action == SearchAction.CLICK else "carts")
    # the feed learns the shopper's interest from it (traffic log, interest only)
    emit(
        session,
        clock,
        "SearchResultClicked",
        "search",
        search.id,
        {"product_id": product_id, "action": action},
        actor_id=actor.user_id if actor is not None else None,
    )
    return row


def attribute_orders(session: Session, clock: Clock, batch: int = 500) -> int:
    """Record paid order lines sold through a search (the `OrderPaid` consumer). Caller commits; the
    cursor commits with the rows, so nothing is counted twice."""
    position = get_cursor(session, CONSUMER)
    recorded = 0
    while True:
        page = read_after(session, position, clock=clock, limit=batch, types=["OrderPaid"])
        for event in page.events:
            for line in event.payload.get("lines", []):
                if line.get("surface") != SEARCH_SURFACE or not line.get("source_id"):
                    continue
                if _record_order_line(session, clock, int(event.aggregate_id), line):
                    recorded += 1
        if page.cursor == position:
            break
        position = page.cursor
    save_cursor(session, clock, CONSUMER, position)
    return recorded


def _record_order_line(session: Session, clock: Clock, order_id: int, line: dict[str, Any]) -> bool:
    search = session.get(LoggedSearch, int(line["source_id"]))
    product_id = int(line["product_id"])
    if search is None:
        return False  # attribution to a search we never logged: not ours to count
    exists = session.scalar(
        select(SearchInteraction.id).where(
            SearchInteraction.order_id == order_id,
            SearchInteraction.product_id == product_id,
            SearchInteraction.action == SearchAction.ORDER,
        )
    )
    if exists is not None:
        return False
    position = search.page_offset + search.shown.index(product_id) if product_id in search.shown else None
    session.add(
        SearchInteraction(
            search_id=search.id,
            product_id=product_id,
            action=SearchAction.ORDER,
            position=position,
            order_id=order_id,
            amount_fen=int(line.get("line_total_fen", 0)),
            created_at=clock.now(),
        )
    )
    session.flush()
    _bump(session, [product_id], "orders")
    return True


# --- analytics -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryCount:
    query: str
    searches: int


@dataclass(frozen=True)
class Analytics:
    since: datetime
    until: datetime
    search_pv: int
    searches_with_results: int
    zero_result_searches: int
    impressions: int
    clicks: int
    add_to_carts: int
    orders: int
    gmv_fen: int
    searches_clicked: int
    searches_converted: int
    ctr: float | None  # searches with a click / searches with results
    item_ctr: float | None  # clicks / results shown
    conversion_rate: float | None  # searches that led to a paid order / search PV
    top_queries: list[QueryCount]
    zero_result_queries: list[QueryCount]


def analytics(
    session: Session, actor: Actor | None, since: datetime | None, until: datetime | None, *, now: datetime
) -> Analytics:
    """Search KPIs for searches made in [since, until] (operators). Default: the last 7 days."""
    require_role(actor, Role.OPERATOR)
    until = until or now
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput("give a timezone (e.g. 2026-11-24T08:00:00Z)", field=name)
    try:
        until = until.astimezone(UTC)
        since = since.astimezone(UTC) if since else until - timedelta(days=ANALYTICS_DAYS)
    except OverflowError:  # at the ends of the calendar (year 1, year 9999)
        raise InvalidInput("since and until must be real moments", field="since" if since else "until")
    if since >= until:
        raise InvalidInput("since must be before until", field="since")
    window = and_(LoggedSearch.created_at >= since, LoggedSearch.created_at <= until)
    pv, with_results = session.execute(
        select(func.count(), func.count().filter(LoggedSearch.total > 0)).where(window)
    ).one()
    shown_rows = session.scalars(select(LoggedSearch.shown).where(window))
    impressions = sum(len(s or []) for s in shown_rows)

    def actions(action: str) -> tuple[int, int, int]:
        return session.execute(
            select(
                func.count(SearchInteraction.id),
                func.count(distinct(SearchInteraction.search_id)),
                func.coalesce(func.sum(SearchInteraction.amount_fen), 0),
            )
            .join(LoggedSearch, LoggedSearch.id == SearchInteraction.search_id)
            .where(window, SearchInteraction.action == action)
        ).one()

    clicks, clicked, _ = actions(SearchAction.CLICK)
    carts, _, _ = actions(SearchAction.ADD_TO_CART)
    orders, converted, gmv = actions(SearchAction.ORDER)

    def top(zero: bool) -> list[QueryCount]:
        query = select(LoggedSearch.normalized, func.count().label("n")).where(window, LoggedSearch.normalized != "")
        if zero:
            query = query.where(LoggedSearch.total == 0)
        rows = session.execute(
            query.group_by(LoggedSearch.normalized)
            .order_by(func.count().desc(), LoggedSearch.normalized)
            .limit(TOP_QUERIES)
        ).all()
        return [QueryCount(r[0], int(r[1])) for r in rows]

    def ratio(a: int, b: int) -> float | None:
        return round(a / b, 4) if b else None

    return Analytics(
        since=since,
        until=until,
        search_pv=int(pv),
        searches_with_results=int(with_results),
        zero_result_searches=int(pv) - int(with_results),
        impressions=impressions,
        clicks=int(clicks),
        add_to_carts=int(carts),
        orders=int(orders),
        gmv_fen=int(gmv),
        searches_clicked=int(clicked),
        searches_converted=int(converted),
        ctr=ratio(int(clicked), int(with_results)),
        item_ctr=ratio(int(clicks), impressions),
        conversion_rate=ratio(int(converted), int(pv)),
        top_queries=top(False),
        zero_result_queries=top(True),
    )
