"""Search: shoppers search, report what they clicked; operators read the search analytics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from yinli.api.deps import DB, ActorDep, ClockDep, Cursor, IdempotencyDep, ReadDB, id_query
from yinli.catalog.schemas import card_out
from yinli.core.ids import decode_cursor, encode_cursor
from yinli.core.schemas import MAX_AMOUNT, QueryTime
from yinli.search import log
from yinli.search.backends.base import Filters, Sort
from yinli.search.page import SearchPage, do_search_page
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
from yinli.search.service import MAX_LIMIT, SearchEngine, SearchRequest

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


def facets_out(page: SearchPage) -> FacetsOut | None:
    if not page.has_facets:
        return None
    return FacetsOut(
        categories=[CountOut(id=c.category_id, name=c.name, count=c.count) for c in page.categories],
        stores=[CountOut(id=s.store_id, name=s.name or "", count=s.count) for s in page.stores],
        prices=[PriceRangeOut(min_fen=p.min_fen, max_fen=p.max_fen, count=p.count) for p in page.prices],
        in_stock=page.flags.get("in_stock", 0),
        pay_later=page.flags.get("pay_later", 0),
        price_protection=page.flags.get("price_protection", 0),
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
    offset = int(decode_cursor(cursor, ("offset",))["offset"]) if cursor else 0
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
    asked = SearchRequest(q, filters, sort, offset, limit, explain, facets)
    page = do_search_page(db, wdb, clock, actor, engine_of(request), asked)
    wdb.commit()
    return SearchOut(
        search_id=page.search_id,
        query=q,
        normalized=page.normalized,
        match=page.match.value if page.match else None,
        total=page.total,
        total_is_estimate=page.total_is_estimate,
        items=[
            SearchHitOut(
                position=h.position,
                score=h.score,
                product=card_out(h.card),
                explain={k: ComponentOut(**v) for k, v in h.explain.items()} if h.explain else None,
            )
            for h in page.hits
        ],
        facets=facets_out(page),
        intent=[CategoryRefOut(id=c, name=name) for c, name in page.intent],
        next_cursor=encode_cursor({"offset": page.next_offset}) if page.next_offset is not None else None,
        backend=page.backend,
        took_ms=round(page.took_us / 1000, 3),
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
