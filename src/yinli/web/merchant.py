"""The merchant console (/merchant): store and onboarding, products/SKUs/stock/prices, service metrics
and GMV by format. Orders to ship and after-sales to handle: merchant_orders.py; live sessions, videos
and affiliate plans: merchant_content.py.

Every page is scoped to the signed-in merchant's own store (`actor.store_id`); ids in URLs are checked by
the services (another store's order or after-sale is a 404, another store's listed product a 403).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from yinli.api.deps import DB, ClockDep, ReadDB, SettingsDep
from yinli.catalog import categories, price_history
from yinli.catalog import service as catalog
from yinli.catalog.models import Product, ProductStatus
from yinli.catalog.schemas import ProductIn, ProductUpdateIn, SkuIn, SkuUpdateIn
from yinli.core.auth import Actor, Role, require_store_manager
from yinli.core.clock import Clock
from yinli.core.errors import DomainError, InvalidInput
from yinli.core.parsing import parse_id
from yinli.inventory import service as inventory
from yinli.merchants import service as merchants
from yinli.merchants.schemas import StoreApplyIn, StoreUpdateIn
from yinli.orders import aftersales, metrics, reports
from yinli.orders import service as orders
from yinli.orders.models import AfterSaleStatus, OrderStatus
from yinli.web import charts, i18n
from yinli.web.core import (
    Form,
    FormDep,
    FormErrors,
    Web,
    WebDep,
    WebRoute,
    field_errors,
    parse_int,
    parse_yuan,
    require_roles,
)

router = APIRouter(prefix="/merchant", route_class=WebRoute, include_in_schema=False)

REPORT_DAYS = 30


def _merchant(web: Web) -> Actor:
    return require_roles(web, Role.MERCHANT)


def _store_id(web: Web) -> int:
    """The merchant's store; without one, the console is the application form."""
    actor = _merchant(web)
    if actor.store_id is None:
        raise InvalidInput("apply for a store first", code="no_store")
    return actor.store_id


def _gmv_charts(web: Web, db: Session, clock: Clock, store_id: int) -> dict[str, Any]:
    until = clock.now()
    since = until - timedelta(days=REPORT_DAYS)
    by_surface = reports.gmv_by_surface(db, web.actor, store_id=store_id, since=since, until=until)
    by_day = reports.gmv_by_day(db, web.actor, store_id=store_id, since=since, until=until)
    surface_bars = [charts.Bar(i18n.label(web.lang, "surface", s), v, web.money(v)) for s, v in by_surface.items()]
    day_bars = [charts.Bar(d.strftime("%m-%d"), v, web.money(v)) for d, v in by_day]
    return {
        "by_surface": by_surface,
        "by_day": by_day,
        "surface_chart": charts.hbars(web.t("按渠道的成交额（近 {n} 天）", n=REPORT_DAYS), surface_bars),
        "day_chart": charts.columns(web.t("每日成交额（近 {n} 天）", n=REPORT_DAYS), day_bars, axis_label="¥"),
        "summary": reports.summary(db, web.actor, store_id=store_id, since=since, until=until),
        "days": REPORT_DAYS,
    }


# --- home, onboarding, store profile --------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def home(web: WebDep, db: ReadDB, clock: ClockDep, settings: SettingsDep) -> Response:
    actor = _merchant(web)
    policy = merchants.get_policy(db, settings)
    if actor.store_id is None:
        return web.render(
            "merchant/apply.html",
            form={},
            errors=FormErrors(),
            policy=policy,
            roots=categories.children(db, None),
            section="home",
        )
    store = merchants.get_store(db, actor, actor.store_id)
    context: dict[str, Any] = {
        "store": store,
        "policy": policy,
        "is_new": merchants.is_new_merchant(store, policy, clock.now()),
        "new_until": merchants.new_merchant_until(store, policy),
        "section": "home",
    }
    if store.status == "active":
        to_ship = orders.list_orders(db, actor, orders.OrderFilter(status=OrderStatus.PAID), before_id=None, limit=100)
        to_handle = aftersales.list_after_sales(db, actor, status=AfterSaleStatus.REQUESTED, before_id=None, limit=100)
        to_receive = aftersales.list_after_sales(
            db, actor, status=AfterSaleStatus.RETURN_SHIPPED, before_id=None, limit=100
        )
        listed = catalog.list_products(
            db, actor, catalog.ProductFilter(store_id=store.id, status=ProductStatus.LISTED), before_id=None, limit=500
        )
        context |= {
            "to_ship": len(to_ship),
            "to_handle": len(to_handle) + len(to_receive),
            "listed": len(listed),
            "rates": metrics.store_rates(db, store.id),
            **_gmv_charts(web, db, clock, store.id),
        }
    return web.render("merchant/home.html", **context)


@router.post("/apply", response_class=HTMLResponse)
def apply(form: FormDep, web: WebDep, db: DB, clock: ClockDep, settings: SettingsDep) -> Response:
    actor = _merchant(web)
    try:
        body = StoreApplyIn.model_validate(
            {
                "name": form.text("name"),
                "description": form.get("description", ""),
                "contact_email": form.optional("contact_email"),
                "main_category_id": parse_id(form.get("main_category_id")),
            }
        )
        merchants.do_apply_for_store(db, clock, settings, actor, **body.model_dump())
        db.commit()
    except (DomainError, ValidationError) as exc:
        db.rollback()
        return web.render(
            "merchant/apply.html",
            status_code=422,
            form=dict(form),
            errors=field_errors(web, exc),
            policy=merchants.get_policy(db, settings),
            roots=categories.children(db, None),
            section="home",
        )
    return web.redirect("/merchant", flash="applied")


STORE_GUARANTEES = ("return_shipping_cover", "price_protection", "pay_later")  # the ones the platform runs


def _render_store(
    web: Web,
    db: Session,
    store_id: int,
    form: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    store = merchants.get_store(db, web.actor, store_id)
    if form is None:
        form = {
            "name": store.name,
            "description": store.description,
            "logo_url": store.logo_url or "",
            "contact_email": store.contact_email or "",
            "shipping_fee": web.yuan(store.shipping_fee_fen),
            "free_shipping_over": web.yuan(store.free_shipping_over_fen),
        } | {flag: "on" for flag in STORE_GUARANTEES if getattr(store, flag)}
    return web.render(
        "merchant/store.html",
        status_code=status_code,
        store=store,
        form=form,
        errors=errors or FormErrors(),
        section="store",
        store_guarantees=STORE_GUARANTEES,
    )


@router.get("/store", response_class=HTMLResponse)
def store_page(web: WebDep, db: ReadDB) -> Response:
    return _render_store(web, db, _store_id(web))


@router.post("/store", response_class=HTMLResponse)
def update_store(form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    store_id = _store_id(web)
    errors = FormErrors()
    shipping = parse_yuan(web, errors, "shipping_fee", form.get("shipping_fee", "0") or "0")
    free_over = parse_yuan(web, errors, "free_shipping_over", form.get("free_shipping_over", ""), required=False)
    if not errors:
        try:
            body = StoreUpdateIn.model_validate(
                {
                    "name": form.text("name"),
                    "description": form.get("description", ""),
                    "logo_url": form.optional("logo_url"),
                    "contact_email": form.optional("contact_email"),
                    "shipping_fee_fen": shipping,
                    "free_shipping_over_fen": free_over,
                }
                | {flag: form.get(flag) == "on" for flag in STORE_GUARANTEES}
            )
            merchants.do_update_store_profile(db, clock, web.actor, store_id, **body.model_dump(exclude_unset=True))
            db.commit()
            return web.redirect("/merchant/store", flash="saved")
        except (DomainError, ValidationError) as exc:
            db.rollback()
            errors = field_errors(
                web, exc, {"shipping_fee_fen": "shipping_fee", "free_shipping_over_fen": "free_shipping_over"}
            )
    return _render_store(web, db, store_id, dict(form), errors, 422)


# --- products ---------------------------------------------------------------------------------------------


@router.get("/products", response_class=HTMLResponse)
def products(request: Request, web: WebDep, db: ReadDB) -> Response:
    store_id = _store_id(web)
    status_text = request.query_params.get("status")
    status = ProductStatus(status_text) if status_text in {s.value for s in ProductStatus} else None
    rows = catalog.list_products(
        db, web.actor, catalog.ProductFilter(store_id=store_id, status=status), before_id=None, limit=200
    )
    sku_ids = {}
    for p in rows:
        sku_ids[p.id] = catalog.skus_of(db, p.id)
    stock = inventory.available(db, [s.id for skus in sku_ids.values() for s in skus])
    available = {p.id: sum(stock.get(s.id, 0) for s in sku_ids[p.id] if s.is_active) for p in rows}
    return web.render(
        "merchant/products.html",
        products=rows,
        skus=sku_ids,
        available=available,
        status=status_text,
        section="products",
    )


@router.get("/categories", response_class=HTMLResponse)
def category_options(request: Request, web: WebDep, db: ReadDB) -> Response:
    """The next level of the category picker (HTMX)."""
    _merchant(web)
    parent_id = parse_id(
        request.query_params.get("level1")
        if request.query_params.get("level") == "2"
        else request.query_params.get("level2")
    )
    level = request.query_params.get("level", "2")
    nodes = categories.children(db, parent_id) if parent_id else []
    return web.render("merchant/_category_options.html", nodes=nodes, level=level)


def _picker(db: Session, leaf_id: int | None, level1: int | None = None, level2: int | None = None) -> dict[str, Any]:
    """The three selects of the category picker, pre-filled for `leaf_id` (or, stepping through it
    without JavaScript, for the level-1 and level-2 nodes chosen so far)."""
    chosen: list[int] = []
    if leaf_id:
        try:
            chosen = [c.id for c in categories.ancestors(db, categories.get_category(db, leaf_id))]
        except DomainError:
            chosen = []
    if not chosen and level1 in {c.id for c in categories.children(db, None)}:
        chosen = [level1] + ([level2] if level2 in {c.id for c in categories.children(db, level1)} else [])
    chosen += [0] * (3 - len(chosen))
    return {
        "level1": categories.children(db, None),
        "level2": categories.children(db, chosen[0]) if chosen[0] else [],
        "level3": categories.children(db, chosen[1]) if chosen[1] else [],
        "chosen": chosen,
    }


@router.get("/products/new", response_class=HTMLResponse)
def new_product(web: WebDep, db: ReadDB) -> Response:
    _store_id(web)
    return web.render(
        "merchant/product_new.html",
        form={"stock": "100"},
        errors=FormErrors(),
        picker=_picker(db, None),
        section="products",
    )


def _attributes(text: str) -> dict[str, str]:
    """'颜色=红, 尺码=M' -> {'颜色': '红', '尺码': 'M'}."""
    out = {}
    for part in text.replace("，", ",").split(","):
        if "=" in part:
            key, _, value = part.partition("=")
            if key.strip():
                out[key.strip()] = value.strip()
    return out


@router.post("/products/new", response_class=HTMLResponse)
def create_product(form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    store_id = _store_id(web)
    errors = FormErrors()
    price = parse_yuan(web, errors, "price", form.get("price", ""))
    list_price = parse_yuan(web, errors, "list_price", form.get("list_price", ""), required=False)
    stock = parse_int(web, errors, "stock", form.get("stock", "0") or "0")
    leaf = parse_id(form.get("category_id"))
    if form.get("step") == "category":  # the picker without JavaScript: show the next level, keep the rest
        return web.render(
            "merchant/product_new.html",
            form=dict(form),
            errors=FormErrors(),
            picker=_picker(db, leaf, parse_id(form.get("level1")), parse_id(form.get("level2"))),
            section="products",
        )
    if not errors:
        try:
            body = ProductIn.model_validate(
                {
                    "category_id": leaf or 0,
                    "title": form.text("title"),
                    "description": form.get("description", ""),
                    "cover_url": form.optional("cover_url"),
                    "skus": [
                        {
                            "code": form.text("sku_code"),
                            "attributes": _attributes(form.get("attributes", "")),
                            "price_fen": price,
                            "list_price_fen": list_price,
                        }
                    ],
                }
            )
            fields = body.model_dump(exclude={"skus", "store_id", "category_id", "title"})
            product = catalog.do_create_product(
                db,
                clock,
                web.actor,
                store_id=store_id,
                category_id=body.category_id,
                title=body.title,
                skus=[s.model_dump() for s in body.skus],
                **fields,
            )
            sku = catalog.skus_of(db, product.id)[0]
            inventory.do_set_on_hand(db, sku.id, stock or 0, clock.now(), web.actor.user_id if web.actor else None)
            db.commit()
            return web.redirect(f"/merchant/products/{product.id}", flash="created")
        except (DomainError, ValidationError) as exc:
            db.rollback()
            errors = field_errors(
                web,
                exc,
                {
                    "skus.0.code": "sku_code",
                    "skus.0.price_fen": "price",
                    "skus.0.list_price_fen": "list_price",
                    "skus.0.attributes": "attributes",
                    "on_hand": "stock",
                },
            )
    return web.render(
        "merchant/product_new.html",
        status_code=422,
        form=dict(form),
        errors=errors,
        picker=_picker(db, leaf, parse_id(form.get("level1")), parse_id(form.get("level2"))),
        section="products",
    )


def _managed_product(web: Web, db: Session, product_id: int) -> Product:
    """The product, if it is this merchant's (another store's listed product: 403; hidden: 404)."""
    _store_id(web)
    product = catalog.get_product(db, web.actor, product_id)
    require_store_manager(web.actor, product.store_id)
    return product


def _render_product(
    web: Web,
    db: Session,
    product_id: int,
    *,
    form: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    sku_errors: dict[int, FormErrors] | None = None,
    new_sku: dict[str, str] | None = None,
    new_sku_errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    product = _managed_product(web, db, product_id)
    skus = catalog.skus_of(db, product.id)
    levels = inventory.levels(db, [s.id for s in skus]) if skus else {}
    history = {s.id: price_history.history(db, s.id, limit=50) for s in skus}
    history_charts = {
        sku_id: charts.columns(
            web.t("价格记录"),
            [charts.Bar(web.when(h.effective_at)[5:], h.price_fen, web.money(h.price_fen)) for h in rows],
            width=480,
            height=140,
            axis_label="¥",
        )
        for sku_id, rows in history.items()
        if len(rows) > 1
    }
    if form is None:
        form = {
            "title": product.title,
            "description": product.description,
            "cover_url": product.cover_url or "",
            **{
                g: "on"
                for g in ("seven_day_returns", "return_shipping_cover", "price_protection", "pay_later")
                if getattr(product, g)
            },
        }
    node = categories.get_category(db, product.category_id)
    return web.render(
        "merchant/product.html",
        status_code=status_code,
        product=product,
        skus=skus,
        levels=levels,
        history=history,
        history_charts=history_charts,
        path=categories.ancestors(db, node),
        form=form,
        errors=errors or FormErrors(),
        sku_errors=sku_errors or {},
        new_sku=new_sku or {},
        new_sku_errors=new_sku_errors or FormErrors(),
        section="products",
    )


@router.get("/products/{product_id}", response_class=HTMLResponse)
def product_page(product_id: int, web: WebDep, db: ReadDB) -> Response:
    return _render_product(web, db, product_id)


GUARANTEES = ("seven_day_returns", "return_shipping_cover", "price_protection", "pay_later")


@router.post("/products/{product_id}", response_class=HTMLResponse)
def update_product(product_id: int, form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    _managed_product(web, db, product_id)
    try:
        body = ProductUpdateIn.model_validate(
            {
                "title": form.text("title"),
                "description": form.get("description", ""),
                "cover_url": form.optional("cover_url"),
                **{g: form.get(g) == "on" for g in GUARANTEES},
            }
        )
        catalog.do_update_product(db, clock, web.actor, product_id, **body.model_dump(exclude_unset=True))
        db.commit()
    except (DomainError, ValidationError) as exc:
        db.rollback()
        return _render_product(web, db, product_id, form=dict(form), errors=field_errors(web, exc), status_code=422)
    return web.redirect(f"/merchant/products/{product_id}", flash="saved")


@router.post("/products/{product_id}/list", response_class=HTMLResponse)
def list_product(product_id: int, form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    _managed_product(web, db, product_id)
    try:
        catalog.do_list_product(db, clock, web.actor, product_id)
        db.commit()
    except DomainError as exc:
        db.rollback()
        errors = field_errors(web, exc)
        errors.general = errors.general or next(iter(errors.values()), None)
        return _render_product(web, db, product_id, errors=errors, status_code=exc.status)
    return web.redirect(f"/merchant/products/{product_id}", flash="listed")


@router.post("/products/{product_id}/delist", response_class=HTMLResponse)
def delist_product(product_id: int, form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    _managed_product(web, db, product_id)
    catalog.do_delist_product(db, clock, web.actor, product_id)
    db.commit()
    return web.redirect(f"/merchant/products/{product_id}", flash="delisted")


@router.post("/products/{product_id}/skus", response_class=HTMLResponse)
def add_sku(product_id: int, form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    _managed_product(web, db, product_id)
    errors = FormErrors()
    price = parse_yuan(web, errors, "price", form.get("price", ""))
    list_price = parse_yuan(web, errors, "list_price", form.get("list_price", ""), required=False)
    stock = parse_int(web, errors, "stock", form.get("stock", "0") or "0")
    if not errors:
        try:
            body = SkuIn.model_validate(
                {
                    "code": form.text("code"),
                    "attributes": _attributes(form.get("attributes", "")),
                    "price_fen": price,
                    "list_price_fen": list_price,
                }
            )
            sku = catalog.do_add_sku(db, clock, web.actor, product_id, body.model_dump())
            inventory.do_set_on_hand(db, sku.id, stock or 0, clock.now(), web.actor.user_id if web.actor else None)
            db.commit()
            return web.redirect(f"/merchant/products/{product_id}", flash="sku_added")
        except (DomainError, ValidationError) as exc:
            db.rollback()
            errors = field_errors(web, exc, {"price_fen": "price", "list_price_fen": "list_price", "on_hand": "stock"})
    return _render_product(web, db, product_id, new_sku=dict(form), new_sku_errors=errors, status_code=422)


def _sku_product(web: Web, db: Session, sku_id: int) -> int:
    _store_id(web)
    _, product = catalog.get_sku(db, web.actor, sku_id)
    require_store_manager(web.actor, product.store_id)
    return product.id


@router.post("/skus/{sku_id}", response_class=HTMLResponse)
def update_sku(sku_id: int, form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    product_id = _sku_product(web, db, sku_id)
    errors = FormErrors()
    price = parse_yuan(web, errors, "price", form.get("price", ""))
    list_price = parse_yuan(web, errors, "list_price", form.get("list_price", ""), required=False)
    on_hand = parse_int(web, errors, "stock", form.get("stock", ""))
    if not errors:
        try:
            body = SkuUpdateIn.model_validate(
                {"price_fen": price, "list_price_fen": list_price, "is_active": form.get("is_active") == "on"}
            )
            catalog.do_update_sku(db, clock, web.actor, sku_id, **body.model_dump(exclude_unset=True))
            inventory.do_set_on_hand(db, sku_id, on_hand or 0, clock.now(), web.actor.user_id if web.actor else None)
            db.commit()
            return web.redirect(f"/merchant/products/{product_id}#sku-{sku_id}", flash="saved")
        except (DomainError, ValidationError) as exc:
            db.rollback()
            errors = field_errors(web, exc, {"price_fen": "price", "list_price_fen": "list_price", "on_hand": "stock"})
    return _render_product(web, db, product_id, sku_errors={sku_id: errors}, status_code=422)


# --- metrics -----------------------------------------------------------------------------------------------


@router.get("/metrics", response_class=HTMLResponse)
def metrics_page(web: WebDep, db: ReadDB, clock: ClockDep) -> Response:
    store_id = _store_id(web)
    return web.render(
        "merchant/metrics.html",
        rates=metrics.store_rates(db, store_id),
        **_gmv_charts(web, db, clock, store_id),
        section="metrics",
    )


__all__ = ["Form", "router"]
