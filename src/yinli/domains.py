"""Every domain, registered in one place: its tables, its API router and its CLI commands.

`yinli/models.py` (what Alembic and `create_all` see), `api/app.py` (the routers under /api/v1) and
`cli.py` (the `yinli` subcommands) read this list; `web/__init__.py` reads `WEB_PAGES`. A new domain is
one `Domain(...)` row here (plus its own package). Modules are named as text and imported by the reader,
so importing this file imports no domain.

Order matters and is kept as it was: routers are mounted in `DOMAINS` order and web pages in `WEB_PAGES`
order (the first matching route wins, so a page's fixed paths must come before another's `{id}` ones).
Background jobs are not registered here: `jobs.run_once` runs them in a fixed order (payments reconcile
before order jobs, search and traffic after metrics) and reports each by name.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Domain:
    name: str
    models: tuple[str, ...] = ()  # modules defining its tables
    api: str | None = None  # "module:attribute" of its APIRouter, mounted under /api/v1
    cli: tuple[tuple[str, str], ...] = ()  # (subcommand, "module:attribute" of its Typer app)


DOMAINS: tuple[Domain, ...] = (
    Domain("accounts", ("yinli.accounts.models",), "yinli.accounts.api:router"),
    Domain("merchants", ("yinli.merchants.models",), "yinli.merchants.api:router"),
    Domain("catalog", ("yinli.catalog.models",), "yinli.catalog.api:router"),
    Domain("inventory", ("yinli.inventory.models",), "yinli.inventory.api:router"),
    Domain("checkout", ("yinli.checkout.models",), "yinli.checkout.api:router"),
    Domain("payments", ("yinli.payments.models",), "yinli.payments.api:router"),
    Domain("orders", ("yinli.orders.models", "yinli.orders.metrics"), "yinli.orders.api:router"),
    Domain("guarantees", ("yinli.guarantees.models",), "yinli.guarantees.api:router"),
    Domain("search", ("yinli.search.models",), "yinli.search.api:router", (("search", "yinli.search.cli:app"),)),
    Domain("content", ("yinli.content.models",), "yinli.content.api:router"),
    Domain("traffic", ("yinli.traffic.models",), "yinli.traffic.api:router", (("train", "yinli.traffic.cli:app"),)),
    # The product matcher adds `yinli train matcher` to the `train` group (cli.py merges groups of one name).
    Domain("hosting", cli=(("train", "yinli.hosting.cli:train_app"), ("match", "yinli.hosting.cli:match_app"))),
    # Not a domain of the platform but a tool over all of them: only its commands.
    Domain("sim", cli=(("simulate", "yinli.sim.cli:app"),)),
)

# Server-rendered pages (yinli.web.<module>.router), in mount order. Pages cut across domains (the
# storefront shows catalog, content and search), so they are listed apart from DOMAINS.
WEB_PAGES: tuple[str, ...] = (
    "storefront",
    "shop_checkout",
    "shop_orders",
    "account",
    "addresses",
    "favourites",
    "password",
    "live",
    "video",
    "merchant",
    "merchant_orders",
    "merchant_content",
    "ops",
    "ops_traffic",
    "console_guarantees",
)


def resolve(target: str) -> Any:
    """The object a "module:attribute" names."""
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


def import_models() -> None:
    """Import every domain's table modules, so `Base.metadata` holds the whole schema."""
    for domain in DOMAINS:
        for module in domain.models:
            importlib.import_module(module)
