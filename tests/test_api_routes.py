"""Every API route has a row in some domain's authorisation matrix (tests/<domain>/test_api.py).

The rows are collected from every `tests.<domain>.test_api` module's ROWS; the routes from the app's
OpenAPI document. A new route without a row fails here, naming it; so does a row for a route that is gone.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import tests
from tests.matrix import API, Row

# Routes that have no row yet: each must get one (and leave this list) before it is changed. The test
# below fails if one of them gains a row, so the list only shrinks.
PENDING: set[str] = set()


def domain_rows() -> dict[str, list[Row]]:
    found: dict[str, list[Row]] = {}
    for package in pkgutil.iter_modules(tests.__path__):
        if not package.ispkg:
            continue
        try:
            module = importlib.import_module(f"tests.{package.name}.test_api")
        except ModuleNotFoundError as exc:
            if exc.name != f"tests.{package.name}.test_api":
                raise
            continue
        found[package.name] = list(module.ROWS)
    return found


def api_routes(app: Any) -> set[str]:
    return {
        f"{method.upper()} {path.removeprefix(API)}"
        for path, operations in app.openapi()["paths"].items()
        if path.startswith(API + "/")
        for method in operations
    }


def test_every_api_route_has_a_row_in_some_domains_matrix(app: Any) -> None:
    routes = api_routes(app)
    covered = {r.route for table in domain_rows().values() for r in table}
    missing = sorted(routes - covered - PENDING)
    assert not missing, "API routes without a row in any tests/<domain>/test_api.py:\n" + "\n".join(missing)
    gone = sorted(covered - routes)
    assert not gone, "rows for routes the app does not have:\n" + "\n".join(gone)
    done = sorted(PENDING & covered)
    assert not done, "these have rows now; take them off PENDING:\n" + "\n".join(done)
    stale = sorted(PENDING - routes)
    assert not stale, "PENDING names routes the app does not have:\n" + "\n".join(stale)
