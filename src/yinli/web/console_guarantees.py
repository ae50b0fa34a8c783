"""The shopper guarantees in the consoles: /ops/guarantees (what each guarantee paid shoppers and who
funded it, platform-wide) and /merchant/guarantees (what each cost this store). Figures from
`guarantees.report`, which reads the ledger."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from yinli.api.deps import ReadDB
from yinli.core.auth import Role
from yinli.core.errors import InvalidInput
from yinli.guarantees import report
from yinli.web.core import WebDep, WebRoute, require_roles

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/ops/guarantees", response_class=HTMLResponse)
def ops_guarantees(web: WebDep, db: ReadDB) -> Response:
    require_roles(web, Role.OPERATOR)
    return web.render("ops/guarantees.html", report=report.ops_report(db), section="guarantees")


@router.get("/merchant/guarantees", response_class=HTMLResponse)
def merchant_guarantees(web: WebDep, db: ReadDB) -> Response:
    actor = require_roles(web, Role.MERCHANT)
    if actor.store_id is None:
        raise InvalidInput("apply for a store first", code="no_store")
    return web.render("merchant/guarantees.html", costs=report.store_report(db, actor.store_id), section="guarantees")
