"""Web fixtures: browser-like TestClients (cookies + CSRF tokens) and, for browser tests, a live
uvicorn server on 127.0.0.1 over a seeded SQLite database, driven by Debian's Chromium."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import PASSWORD, World, serving
from yinli.core.clock import SystemClock
from yinli.core.db import Database
from yinli.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"|"X-CSRF-Token": "([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


@dataclass
class Browser:
    """A TestClient that behaves like a browser: keeps cookies, reads the CSRF token from pages."""

    client: TestClient

    def get(self, url: str, **kw: Any):  # type: ignore[no-untyped-def]
        return self.client.get(url, **kw)

    def post(self, url: str, data: dict[str, Any] | None = None, *, page: str | None = None, **kw: Any):  # type: ignore[no-untyped-def]
        """Submit a form as if from `page` (default: the form's own URL), CSRF token included."""
        token = csrf_of(self.client.get(page or url).text)
        return self.client.post(url, data={"csrf_token": token, **(data or {})}, **kw)

    def sign_in(self, email: str, password: str = PASSWORD) -> None:
        r = self.post("/signin", {"email": email, "password": password}, follow_redirects=False)
        assert r.status_code == 303, r.text


@pytest.fixture
def browser_factory(app) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    clients: list[TestClient] = []

    def make(email: str | None = None) -> Browser:
        client = TestClient(app, raise_server_exceptions=False, base_url="http://testserver")
        client.__enter__()
        clients.append(client)
        b = Browser(client)
        if email:
            b.sign_in(email)
        return b

    yield make
    for c in clients:
        c.__exit__(None, None, None)


@pytest.fixture
def anon(browser_factory) -> Browser:  # type: ignore[no-untyped-def]
    return browser_factory()


def signed_in(browser_factory, user) -> Browser:  # type: ignore[no-untyped-def]
    return browser_factory(user.email)


def sync_search(app) -> int:  # type: ignore[no-untyped-def]
    """Bring the search index up to the catalog, as the background jobs' next round would."""
    return app.state.search.sync(app.state.db)  # type: ignore[no-any-return]


@pytest.fixture
def shop(world: World, app):  # type: ignore[no-untyped-def]
    """A merchant with an active store and two listed products with stock (indexed for search), and a shopper."""
    from tests.factories import stock

    m = world.merchant(name="好物小店")
    p1 = world.product(m, price_fen=12900, title="复古帆布鞋 百搭款")
    p2 = world.product(m, price_fen=3900, title="磁吸手机壳 透明")
    for p in (p1, p2):
        for sku in p["skus"]:
            stock(world, m, sku["id"], 20)
    sync_search(app)
    return {"merchant": m, "products": [p1, p2], "shopper": world.shopper()}


# --- the live server and Chromium -------------------------------------------------------------------------


def _go_live(database: Database) -> None:
    """潮鞋研究所 goes live with its products, presenting the sneakers (unless the sample already has a room)."""
    from sqlalchemy import select

    from yinli.catalog import service as catalog
    from yinli.catalog.models import ProductStatus
    from yinli.content import live
    from yinli.core.auth import Actor, Role
    from yinli.core.errors import Conflict
    from yinli.merchants.models import Store

    clock = SystemClock()
    with database.session() as s:
        if live.live_now(s, 1):
            return
        store = s.scalars(select(Store).where(Store.name == "潮鞋研究所")).one()
        staff = Actor(store.owner_user_id, Role.MERCHANT, store.id)
        products = catalog.list_products(
            s, staff, catalog.ProductFilter(store_id=store.id, status=ProductStatus.LISTED), before_id=None, limit=20
        )
        try:
            room = live.do_open_room(s, clock, staff, title="潮鞋研究所直播间")
        except Conflict:
            return
        session = live.do_schedule(
            s, clock, staff, room.id, title="秋冬板鞋专场", scheduled_at=None, product_ids=[p.id for p in products]
        )
        live.do_go_live(s, clock, staff, session.id)
        sneakers = next(p for p in products if "板鞋" in p.title)
        live.do_present(s, clock, staff, session.id, sneakers.id)


@dataclass
class Live:
    url: str
    database: Database
    app: Any


@pytest.fixture(scope="module")
def live_server(template_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """uvicorn in a thread on a free 127.0.0.1 port, over a fresh SQLite copy with the sample marketplace."""
    if not CHROMIUM.exists():
        pytest.skip("browser tests need Debian's Chromium at /usr/bin/chromium (make browser installs it)")
    pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package (uv sync)")

    from yinli.api.app import create_app
    from yinli.catalog.categories import do_load_categories
    from yinli.core import migrate
    from yinli.sample import load_sample

    folder = tmp_path_factory.mktemp("live")
    path = folder / "live.db"
    url = f"sqlite:///{path}"
    if template_url.startswith("sqlite:///"):
        shutil.copyfile(template_url.removeprefix("sqlite:///"), path)
    else:  # the suite runs on PostgreSQL: the live server still gets its own SQLite file
        migrate.upgrade(url)
    settings = Settings(_env_file=None, data_dir=folder, database_url=url, jobs_interval_seconds=0)  # type: ignore[call-arg]
    database = Database(url)
    with database.session() as session:
        do_load_categories(session)
        load_sample(session, settings, SystemClock().now())
    _go_live(database)
    app = create_app(settings, db=database)
    sync_search(app)  # background jobs are off: index the sample marketplace for search now
    with serving(app) as base:
        yield Live(base, database, app)
    database.dispose()


@pytest.fixture(scope="module")
def chromium(live_server: Live) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}


def shot(page, name: str, *, full_page: bool | None = None) -> Path:  # type: ignore[no-untyped-def]
    """Save a screenshot as a test artefact (test-artifacts/screenshots/NAME.png).

    Phone pages are shot as the screen shows them (the fixed tab bar stays at the bottom); desktop
    pages whole. Either way from wherever the page is scrolled to.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    if full_page is None:
        full_page = (page.viewport_size or {}).get("width", 0) > 600
    page.screenshot(path=str(target), full_page=full_page)
    return target
