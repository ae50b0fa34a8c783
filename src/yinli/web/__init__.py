"""Server-rendered web: the storefront (/), the merchant console (/merchant) and the ops console (/ops).

Jinja2 templates + HTMX (vendored under static/vendor, see static/VENDORED.md). `install(app)` mounts the
static files and the page routers listed in `yinli.domains.WEB_PAGES`; handlers call domain services
directly (see web/core.py).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from yinli.domains import WEB_PAGES

STATIC_DIR = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    from yinli.web.core import html_error_page

    app.state.html_error_page = html_error_page  # 404s and 503s on web pages render as HTML (api/problems.py)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:  # browsers ask for it at the root whatever the page says
        return FileResponse(STATIC_DIR / "favicon.ico", headers={"Cache-Control": "public, max-age=86400"})

    for page in WEB_PAGES:  # in mount order: see yinli.domains
        app.include_router(importlib.import_module(f"yinli.web.{page}").router)
