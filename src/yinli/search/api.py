"""Search: shoppers search, report what they clicked; operators read the search analytics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from yinli.api.deps import DB, ActorDep, ClockDep, Cursor, IdempotencyDep, ReadDB, id_query
from yinli.catalog import service as catalog
from yinli.catalog.api import card_out
from yinli.catalog.cards import build_cards
from yinli.core.ids import decode_cursor, encode_cursor
from yinli.core.schemas import MAX_AMOUNT, QueryTime
from yinli.merchants.models import Store
from yinli.search import log
from yinli.search.backends.base import Filters, Sort
from yinli.search.schemas import (
    AnalyticsOut,
    CategoryRefOut,
    ComponentOut,
    CountOut,
    FacetsOut,
    InteractionIn,
    InteractionOut,
    PriceRangeOut,
    QueryCountOut,
    SearchHitOut,
    SearchOut,
)
from yinli.search.service import MAX_LIMIT, EngineResult, SearchEngine, SearchRequest

router = APIRouter(tags=["search"])

NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f-\x9f]*$"


def engine_of(request: Request) -> SearchEngine:
    return request.app.state.search


def _id() -> Any:
    return id_query()


def _price() -> Any:
    return Query(None, ge=0, le=MAX_AMOUNT, description="Fen; compared with the product's lowest price.")


def _flag(what: str) -> Any:
    return Query(None, description=f"true: only products {what}; false: only those without.")


def facets_out(db: Any, engine: SearchEngine, result: EngineResult) -> FacetsOut | None:
    f = result.facets
    if f is None:
        return None
    names = dict(db.execute(select(Store.id, Store.name).where(Store.id.in_([s for s, _ in f.stores]))).all())
    nodes = engine.categories.nodes
    return FacetsOut(
        categories=[CountOut(id=c, name=nodes[c].name if c in nodes else "", count=n) for c, n in f.categories],
        stores=[CountOut(id=s, name=names.get(s, ""), count=n) for s, n in f.stores],
        prices=[PriceRangeOut(min_fen=lo, max_fen=hi, count=n) for lo, hi, n in f.prices],
        in_stock=f.flags.get("in_stock", 0),
        pay_later=f.flags.get("pay_later", 0),
        price_protection=f.flags.get("price_protection", 0),
    )


@router.get("/search", response_model=SearchOut, summary="Search products (Chinese and English)")
def search(
    request: Request,
    db: ReadDB,
    wdb: DB,
    clock: ClockDep,
    actor: ActorDep,
    q: str = Query("", max_length=256, pattern=NO_CONTROL_CHARACTERS, description="Words; empty: browse."),
    category_id: int | None = id_query(description="At any level of the tree."),
    store_id: int | None = _id(),
    brand_id: int | None = _id(),
    min_price: int | None = _price(),
    max_price: int | None = _price(),
    in_stock: bool | None = _flag("in stock"),
    pay_later: bool | None = _flag("offering pay later"),
    price_protection: bool | None = _flag("with price protection"),
    sort: Sort = Sort.RELEVANCE,
    limit: int = Query(20, ge=1, le=MAX_LIMIT),
    cursor: Cursor = None,
    explain: bool = Query(False, description="Return each component of every result's score."),
    facets: bool = Query(True, description="Count categories, stores, price ranges and guarantees."),
) -> SearchOut:
    engine = engine_of(request)
    offset = int(decode_cursor(cursor, ("offset",))["offset"]) if cursor else 0
    if not 0 <= offset <= engine.candidates:
        offset = engine.candidates  # a forged cursor past the window: an empty page, not an error
    filters = Filters(
        category_id=category_id,
        store_id=store_id,
        brand_id=brand_id,
        min_price=min_price,
        max_price=max_price,
        in_stock=in_stock,
        pay_later=pay_later,
        price_protection=price_protection,
    )
    result = engine.search(db, SearchRequest(q, filters, sort, offset, limit, explain, facets))
    # Cards come from the database, so a product delisted since the index last synced is not shown.
    ids = [h.product_id for h in result.hits]
    products = catalog.on_sale(db, ids)
    shown = [h for h in result.hits if h.product_id in products]
    cards = {c.product_id: c for c in build_cards(db, clock, [products[h.product_id] for h in shown])}
    logged = log.do_record_search(
        wdb,
        clock,
        actor,
        query=q,
        normalized=result.normalized,
        filters={k: v for k, v in filters.__dict__.items() if v is not None and k != "category_level"},
        sort=sort.value,
        offset=offset,
        total=result.total,
        shown=[h.product_id for h in shown],
        backend=result.backend,
        relaxed=result.match.value if result.match and result.match.value != "all" else None,
        took_us=result.took_us,
    )
    wdb.commit()
    nodes = engine.categories.nodes
    return SearchOut(
        search_id=logged.id,
        query=q,
        normalized=result.normalized,
        match=result.match.value if result.match else None,
        total=result.total,
        total_is_estimate=result.total_is_estimate,
        items=[
            SearchHitOut(
                position=offset + i,
                score=h.score,
                product=card_out(cards[h.product_id]),
                explain={k: ComponentOut(**v) for k, v in h.explain.items()} if h.explain else None,
            )
            for i, h in enumerate(shown)
        ],
        facets=facets_out(db, engine, result),
        intent=[CategoryRefOut(id=c, name=nodes[c].name) for c in result.intent if c in nodes],
        next_cursor=encode_cursor({"offset": result.next_offset}) if result.next_offset is not None else None,
        backend=result.backend,
        took_ms=round(result.took_us / 1000, 3),
    )


@router.post("/search/clicks", status_code=201, response_model=InteractionOut, summary="Report a click or add-to-cart")
def record_interaction(
    body: InteractionIn, db: DB, clock: ClockDep, actor: ActorDep, idem: IdempotencyDep
) -> JSONResponse:
    def action() -> tuple[int, object]:
        row = log.do_record_interaction(
            db, clock, actor, search_id=body.search_id, product_id=body.product_id, action=body.action
        )
        return 201, InteractionOut.model_validate(row).model_dump(mode="json")

    return idem.respond(db, action)


@router.get("/search/analytics", response_model=AnalyticsOut, summary="Search PV, CTR, conversion (operators)")
def search_analytics(
    db: ReadDB,
    clock: ClockDep,
    actor: ActorDep,
    since: QueryTime | None = Query(None, description=f"Default: {log.ANALYTICS_DAYS} days before `until`."),
    until: QueryTime | None = Query(None, description="Default: now."),
) -> AnalyticsOut:
    a = log.analytics(db, actor, since, until, now=clock.now())
    return AnalyticsOut(
        **{k: v for k, v in a.__dict__.items() if k not in ("top_queries", "zero_result_queries")},
        top_queries=[QueryCountOut(query=t.query, searches=t.searches) for t in a.top_queries],
        zero_result_queries=[QueryCountOut(query=t.query, searches=t.searches) for t in a.zero_result_queries],
    )
