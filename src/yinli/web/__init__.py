"""Server-rendered web: the storefront (/), the merchant console (/merchant) and the ops console (/ops).

Jinja2 templates + HTMX (vendored under static/vendor, see static/VENDORED.md). `install(app)` mounts the
static files and the three routers; handlers call domain services directly (see web/core.py).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    from yinli.web import (
        account,
        live,
        merchant,
        merchant_content,
        merchant_orders,
        ops,
        ops_traffic,
        password,
        shop_orders,
        storefront,
        video,
    )
    from yinli.web.core import html_error_page

    app.state.html_error_page = html_error_page  # 404s and 503s on web pages render as HTML (api/problems.py)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:  # browsers ask for it at the root whatever the page says
        return FileResponse(STATIC_DIR / "favicon.ico", headers={"Cache-Control": "public, max-age=86400"})

    app.include_router(storefront.router)
    app.include_router(shop_orders.router)
    app.include_router(account.router)
    app.include_router(password.router)
    app.include_router(live.router)
    app.include_router(video.router)
    app.include_router(merchant.router)
    app.include_router(merchant_orders.router)
    app.include_router(merchant_content.router)
    app.include_router(ops.router)
    app.include_router(ops_traffic.router)
