"""The feed event log: what was shown (impressions), what shoppers did with it (clicks, watch time,
add-to-cart from the client; orders, returns and complaints from the outbox), appended in batches.

Three writers, one table (`traffic_events`, append-only):
- the feed writes one batch of impressions per page it serves (the server knows what it showed; a
  client cannot invent impressions);
- `do_record_feedback` validates a client batch event by event: bad events are refused *with reasons*
  and the good ones kept, so a client learns exactly what to fix and nothing is lost silently;
- `consume_outbox` turns paid order lines, refunds and complaints into events (idempotent: a cursor
  moved in the same transaction plus a unique `source` key per event).

Readers (features, plan progress, experiments, training) either aggregate with SQL or follow the log by
id with `read_log_after`, which has the outbox's gap rule: on PostgreSQL a lower id may commit after a
higher one, so a reader stops before a recent gap and comes back for it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    Strict,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from yinli.accounts.models import User
from yinli.catalog.categories import CategoryNames
from yinli.catalog.models import Product
from yinli.core.auth import Actor, Role, require_role
from yinli.core.clock import Clock
from yinli.core.errors import FieldError, InvalidInput
from yinli.core.outbox import OutboxCursor, get_cursor, read_after, save_cursor
from yinli.core.schemas import AwareMoment, Input
from yinli.orders.models import AfterSale, OrderLine
from yinli.traffic.features import SEARCH_QUERY
from yinli.traffic.models import EventKind, TrafficEvent

# Where a ranked page was served (an impression's `surface`; feedback copies it from the impression):
FEED = "feed"  # the API feed, GET /feed
WEB_HOME = "web_home"  # the storefront's home page
MALL = "mall"  # the mall front's recommended section (web /mall, GET /mall)
CATEGORY = "category"  # a category shelf's recommended section (web /mall/c/{id}, the category shelf API)
CONSUMER = "traffic_log"
OUTBOX_EVENTS = [
    "OrderPaid", "AfterSaleRefunded", "ComplaintFiled", "SearchResultClicked", "VideoWatched", "SearchQueried",
]  # fmt: skip
# SearchResultClicked, VideoWatched and SearchQueried become interest-only events (features.INTEREST_ONLY
# surfaces): a search query counts for the categories it names (catalog.categories.CategoryNames)
MAX_BATCH = 500
FUTURE_SKEW = timedelta(minutes=5)  # client clocks drift; beyond this a timestamp is simply wrong
MAX_AGE = timedelta(days=7)  # older feedback is refused: features and plans have moved on
GAP_GRACE = timedelta(seconds=5)

COLUMNS = [
    "kind", "occurred_at", "logged_at", "shopper_id", "request_id", "surface", "position", "item_type", "item_id",
    "product_id", "store_id", "creator_id", "category_id", "slot", "quality", "policy", "bucket", "experiment_id",
    "quantity", "value_fen", "expected_fen", "watch_seconds", "features", "source",
]  # fmt: skip
_DEFAULTS: dict[str, Any] = {c: None for c in COLUMNS} | {
    "quantity": 0,
    "value_fen": 0,
    "expected_fen": 0,
    "watch_seconds": 0,
    "surface": FEED,
}


def row(**values: Any) -> dict[str, Any]:
    """A complete event row (every column present, so one executemany inserts a whole batch)."""
    unknown = set(values) - set(COLUMNS)
    if unknown:
        raise ValueError(f"not event columns: {sorted(unknown)}")
    return _DEFAULTS | values


def append(session: Session, clock: Clock, rows: list[dict[str, Any]]) -> int:
    """Append a batch in one statement. The caller commits (impressions commit with the feed response)."""
    if not rows:
        return 0
    now = clock.now()
    session.execute(insert(TrafficEvent), [r if r.get("logged_at") else {**r, "logged_at": now} for r in rows])
    return len(rows)


# --- client feedback ------------------------------------------------------------------------------------

RequestId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
EventId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,40}$")]


class FeedbackEvent(Input):
    """One client event about an item the feed showed (validated one by one; see `do_record_feedback`).
    Strict like every input model (`false` is no item id)."""

    event_id: EventId = Field(description="Client-made unique id: a retried batch is not counted twice.")
    kind: Literal["click", "watch", "add_to_cart"]
    request_id: RequestId = Field(description="The feed page's `request_id`.")
    item_type: Literal["product", "video", "live"]
    item_id: Annotated[int, Strict(), Field(ge=1, le=2**53)]
    occurred_at: AwareMoment
    watch_seconds: Annotated[int, Strict(), Field(ge=1, le=6 * 3600)] | None = Field(
        None, description="Required for `watch`: seconds watched."
    )
    shopper_id: Annotated[int, Strict(), Field(ge=1, le=2**53)] | None = Field(
        None, description="Operators only (simulators): whose event this is. Shoppers send their own."
    )


_EVENT = TypeAdapter(FeedbackEvent)


@dataclass
class Rejection:
    index: int
    field: str
    reason: str


@dataclass
class FeedbackResult:
    accepted: int
    rejected: list[Rejection] = field(default_factory=list)


def _reject_all(rejected: list[Rejection]) -> InvalidInput:
    errors = [FieldError(f"events.{r.index}.{r.field}".rstrip("."), r.reason) for r in rejected]
    return InvalidInput("no event in the batch was accepted; see errors", code="batch_rejected", errors=errors)


def _parse(raw: list[Any], rejected: list[Rejection]) -> list[tuple[int, FeedbackEvent]]:
    parsed = []
    for i, item in enumerate(raw):
        try:
            parsed.append((i, _EVENT.validate_python(item)))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            rejected.append(Rejection(i, where, str(first.get("msg", "invalid"))))
    return parsed


def do_record_feedback(session: Session, clock: Clock, actor: Actor | None, raw: list[Any]) -> FeedbackResult:
    """Validate a batch event by event and append the good ones. Refusals say which event, which field
    and why. A batch where nothing is acceptable is an error (422) listing every refusal."""
    actor = require_role(actor, Role.SHOPPER, Role.OPERATOR)
    if not raw:
        raise InvalidInput("send at least one event", field="events")
    if len(raw) > MAX_BATCH:
        raise InvalidInput(f"at most {MAX_BATCH} events per batch", field="events")
    now = clock.now()
    rejected: list[Rejection] = []
    good: list[tuple[int, FeedbackEvent, int]] = []  # (index, event, shopper id)
    for i, ev in _parse(raw, rejected):
        if ev.occurred_at > now + FUTURE_SKEW:
            rejected.append(Rejection(i, "occurred_at", "is in the future"))
        elif ev.occurred_at < now - MAX_AGE:
            rejected.append(Rejection(i, "occurred_at", f"is older than {MAX_AGE.days} days"))
        elif ev.kind == "watch" and ev.watch_seconds is None:
            rejected.append(Rejection(i, "watch_seconds", "a watch event says how many seconds"))
        elif ev.kind == "watch" and ev.item_type == "product":
            rejected.append(Rejection(i, "item_type", "watch time is for videos and live rooms"))
        elif ev.shopper_id is not None and not actor.is_operator:
            rejected.append(Rejection(i, "shopper_id", "only operators send events for another shopper"))
        elif actor.is_operator and ev.shopper_id is None:
            rejected.append(Rejection(i, "shopper_id", "operators name the shopper"))
        else:
            good.append((i, ev, ev.shopper_id or actor.user_id))
    good = _check_shoppers(session, good, rejected)
    shown = _impressions(session, {ev.request_id for _, ev, _ in good})
    pages = {key[0] for key in shown}
    sources = {f"client:{shopper}:{ev.event_id}" for _, ev, shopper in good}
    logged = (
        set(session.scalars(select(TrafficEvent.source).where(TrafficEvent.source.in_(sources)))) if sources else set()
    )
    rows = []
    for i, ev, shopper in good:
        impression = shown.get((ev.request_id, ev.item_type, ev.item_id))
        source = f"client:{shopper}:{ev.event_id}"
        if ev.request_id not in pages:
            rejected.append(Rejection(i, "request_id", "no feed page with this request id"))
        elif impression is None:
            rejected.append(Rejection(i, "item_id", "this item was not shown on that page"))
        elif impression.shopper_id != shopper:
            rejected.append(Rejection(i, "request_id", "that page was shown to another shopper"))
        elif ev.occurred_at < impression.occurred_at - FUTURE_SKEW:
            rejected.append(Rejection(i, "occurred_at", "is before the item was shown"))
        elif source in logged:
            rejected.append(Rejection(i, "event_id", "already recorded (duplicate event_id)"))
        else:
            logged.add(source)
            rows.append(_from_impression(impression, ev, shopper, source))
    if not rows:
        raise _reject_all(sorted(rejected, key=lambda r: r.index))
    append(session, clock, rows)
    return FeedbackResult(len(rows), sorted(rejected, key=lambda r: r.index))


def _check_shoppers(
    session: Session, good: list[tuple[int, FeedbackEvent, int]], rejected: list[Rejection]
) -> list[tuple[int, FeedbackEvent, int]]:
    ids = {shopper for _, _, shopper in good}
    if not ids:
        return good
    known = set(session.scalars(select(User.id).where(User.id.in_(ids), User.role == Role.SHOPPER.value)))
    kept = []
    for i, ev, shopper in good:
        if shopper in known:
            kept.append((i, ev, shopper))
        else:
            rejected.append(Rejection(i, "shopper_id", f"no shopper {shopper}"))
    return kept


def _impressions(session: Session, request_ids: set[str]) -> dict[tuple[str, str, int], TrafficEvent]:
    if not request_ids:
        return {}
    rows = session.scalars(
        select(TrafficEvent).where(
            TrafficEvent.request_id.in_(request_ids), TrafficEvent.kind == EventKind.IMPRESSION.value
        )
    )
    return {(r.request_id, r.item_type, r.item_id): r for r in rows}  # type: ignore[misc]


def _from_impression(imp: TrafficEvent, ev: FeedbackEvent, shopper: int, source: str) -> dict[str, Any]:
    return row(
        kind=ev.kind,
        occurred_at=ev.occurred_at.astimezone(UTC),
        shopper_id=shopper,
        request_id=ev.request_id,
        surface=imp.surface,
        position=imp.position,
        item_type=imp.item_type,
        item_id=imp.item_id,
        product_id=imp.product_id,
        store_id=imp.store_id,
        creator_id=imp.creator_id,
        category_id=imp.category_id,
        slot=imp.slot,
        policy=imp.policy,
        bucket=imp.bucket,
        experiment_id=imp.experiment_id,
        quantity=1 if ev.kind == "add_to_cart" else 0,
        watch_seconds=ev.watch_seconds or 0,
        source=source,
    )


# --- from the outbox --------------------------------------------------------------------------------------


def consume_outbox(session: Session, clock: Clock, assign: Any = None, batch: int = 1000) -> int:
    """Orders, returns and complaints into the log, and search clicks and video views as interest-only
    events (INTEREST_ONLY); returns how many outbox events were read.

    `assign(shopper_id) -> (experiment_id, bucket, policy)` tags events with the shopper's bucket so
    per-bucket metrics include what happened off the feed too. Serialised by a lock on the cursor row.
    """
    if session.get(OutboxCursor, CONSUMER) is None:
        save_cursor(session, clock, CONSUMER, 0)
    session.get(OutboxCursor, CONSUMER, with_for_update=True)
    position = get_cursor(session, CONSUMER)
    seen = 0
    names = functools.cache(lambda: CategoryNames.load(session))  # read once, if a query comes
    while True:
        page = read_after(session, position, clock=clock, limit=batch, types=OUTBOX_EVENTS)
        rows: list[dict[str, Any]] = []
        for event in page.events:
            rows.extend(_rows_for(session, event, assign, names))
        _add_categories(session, rows)
        append(session, clock, rows)
        seen += len(page.events)
        if page.cursor == position:
            break
        position = page.cursor
    save_cursor(session, clock, CONSUMER, position)
    return seen


def _add_categories(session: Session, rows: list[dict[str, Any]]) -> None:
    """Orders and returns carry the product's category, so purchases feed the shopper's interests."""
    ids = {r["product_id"] for r in rows if r["product_id"] is not None}
    if not ids:
        return
    categories = dict(session.execute(select(Product.id, Product.category_id).where(Product.id.in_(ids))).all())
    for r in rows:
        if r["product_id"] is not None:
            r["category_id"] = categories.get(r["product_id"])


def _tags(assign: Any, shopper_id: int | None) -> dict[str, Any]:
    if assign is None or shopper_id is None:
        return {}
    experiment_id, bucket, policy = assign(shopper_id)
    return {"experiment_id": experiment_id, "bucket": bucket, "policy": policy}


def _rows_for(session: Session, event: Any, assign: Any, names: Callable[[], CategoryNames]) -> list[dict[str, Any]]:
    p = event.payload or {}
    at = event.occurred_at
    if event.type == "SearchQueried" and event.actor_id is not None:
        # one interest event per category the query names (features.QUERY_AFFINITY each)
        return [
            row(
                kind="click",
                occurred_at=at,
                shopper_id=event.actor_id,
                surface=SEARCH_QUERY,
                category_id=c.category_id,
                source=f"outbox:{event.id}:{n}",
            )
            for n, c in enumerate(names().of_query(str(p.get("query", ""))))
        ]
    if event.type == "OrderPaid":
        shopper = int(p["shopper_id"])
        return [
            row(
                kind="order",
                occurred_at=at,
                shopper_id=shopper,
                surface=str(line.get("surface") or "product_page"),
                item_type="product",
                item_id=int(line["product_id"]),
                product_id=int(line["product_id"]),
                store_id=int(p["store_id"]),
                creator_id=line.get("creator_id"),
                quantity=int(line["quantity"]),
                value_fen=int(line["line_total_fen"]),
                source=f"outbox:{event.id}:{n}",
                **_tags(assign, shopper),
            )
            for n, line in enumerate(p.get("lines", []))
        ]
    if event.type == "AfterSaleRefunded":
        case = session.get(AfterSale, int(p["after_sale_id"]))
        if case is None:
            return []
        lines = {
            line.id: line
            for line in session.scalars(
                select(OrderLine).where(OrderLine.id.in_([int(x["order_line_id"]) for x in case.lines]))
            )
        }
        out = []
        for n, item in enumerate(case.lines):
            line = lines.get(int(item["order_line_id"]))
            if line is None:
                continue
            out.append(
                row(
                    kind="return",
                    occurred_at=at,
                    shopper_id=case.shopper_id,
                    surface=line.surface,
                    item_type="product",
                    item_id=line.product_id,
                    product_id=line.product_id,
                    store_id=case.store_id,
                    quantity=int(item.get("quantity", 0)),
                    value_fen=int(item.get("amount_fen", 0)),
                    source=f"outbox:{event.id}:{n}",
                    **_tags(assign, case.shopper_id),
                )
            )
        return out
    if event.type == "SearchResultClicked" and event.actor_id is not None:
        return [
            row(
                kind="click" if p.get("action") == "click" else "add_to_cart",
                occurred_at=at,
                shopper_id=event.actor_id,
                surface="search",
                item_type="product",
                item_id=int(p["product_id"]),
                product_id=int(p["product_id"]),
                source=f"outbox:{event.id}:0",
            )
        ]
    if event.type == "VideoWatched" and event.actor_id is not None and p.get("product_id"):
        return [
            row(
                kind="watch",
                occurred_at=at,
                shopper_id=event.actor_id,
                surface="video_page",
                item_type="video",
                item_id=int(event.aggregate_id),
                product_id=int(p["product_id"]),
                watch_seconds=int(p.get("watched_seconds", 0)),
                source=f"outbox:{event.id}:0",
            )
        ]
    if event.type == "ComplaintFiled":
        return [
            row(
                kind="complaint",
                occurred_at=at,
                shopper_id=event.actor_id,
                surface="store_page",
                store_id=int(p["store_id"]),
                source=f"outbox:{event.id}:0",
                **_tags(assign, event.actor_id),
            )
        ]
    return []


# --- reading ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogPage:
    events: list[TrafficEvent]
    cursor: int


def read_log_after(session: Session, after: int, *, clock: Clock, limit: int = 5000) -> LogPage:
    """Events with id > `after` in id order, stopping before a recent gap (see module docstring)."""
    rows = list(
        session.scalars(select(TrafficEvent).where(TrafficEvent.id > after).order_by(TrafficEvent.id).limit(limit))
    )
    horizon = clock.now() - GAP_GRACE
    cursor, taken = after, []
    for r in rows:
        if r.id != cursor + 1 and r.logged_at > horizon:
            break
        cursor = r.id
        taken.append(r)
    return LogPage(taken, cursor)


def iter_log(
    session: Session, *, since: datetime | None = None, until: datetime | None = None, chunk: int = 20_000
) -> Iterator[list[TrafficEvent]]:
    """The whole log (or a time range) in id order, a chunk at a time (for rebuilds, exports, training)."""
    after = 0
    while True:
        query = select(TrafficEvent).where(TrafficEvent.id > after).order_by(TrafficEvent.id).limit(chunk)
        if since is not None:
            query = query.where(TrafficEvent.occurred_at >= since)
        if until is not None:
            query = query.where(TrafficEvent.occurred_at < until)
        rows = list(session.scalars(query))
        if not rows:
            return
        yield rows
        after = rows[-1].id


def export_parquet(
    session: Session, path: Path, *, since: datetime | None = None, until: datetime | None = None
) -> int:
    """Write the log (or a time range) to one Parquet file, streamed in chunks; returns the row count.

    Times are UTC microseconds; `features` is kept as JSON text (its keys change with the model)."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [
            ("id", pa.int64()),
            *[
                (c, pa.timestamp("us", tz="UTC"))
                if c in ("occurred_at", "logged_at")
                else (c, pa.bool_())
                if c == "quality"
                else (c, pa.string())
                if c in ("kind", "request_id", "surface", "item_type", "slot", "policy", "bucket", "source", "features")
                else (c, pa.int64())
                for c in COLUMNS
            ],
        ]
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with pq.ParquetWriter(path, schema) as writer:
        for rows in iter_log(session, since=since, until=until):
            data: dict[str, list[Any]] = {"id": [r.id for r in rows]}
            for c in COLUMNS:
                values = [getattr(r, c) for r in rows]
                data[c] = [json.dumps(v) if v is not None else None for v in values] if c == "features" else values
            writer.write_table(pa.Table.from_pydict(data, schema=schema))
            written += len(rows)
    return written
