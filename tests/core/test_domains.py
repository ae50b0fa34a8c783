"""The domain registry is the one list the app, the schema and the CLI read: everything it names exists,
and every domain package with tables or a router is registered (a new domain cannot be half-added)."""

from __future__ import annotations

import importlib
from pathlib import Path

from fastapi import APIRouter

import yinli
from yinli.domains import DOMAINS, WEB_PAGES, resolve

PACKAGE = Path(yinli.__file__).parent


def test_everything_registered_exists() -> None:
    for domain in DOMAINS:
        for module in domain.models:
            importlib.import_module(module)
        if domain.api is not None:
            assert isinstance(resolve(domain.api), APIRouter), domain.name
        for _, target in domain.cli:
            resolve(target)
    for page in WEB_PAGES:
        assert isinstance(importlib.import_module(f"yinli.web.{page}").router, APIRouter), page


def test_every_domain_package_with_tables_or_a_router_is_registered() -> None:
    registered = {d.name for d in DOMAINS}
    for folder in PACKAGE.iterdir():
        if folder.name in {"core", "api", "web", "migrations"} or not (folder / "__init__.py").exists():
            continue
        if (folder / "models.py").exists() or (folder / "api.py").exists():
            assert folder.name in registered, f"{folder.name} is not in yinli.domains.DOMAINS"
            domain = next(d for d in DOMAINS if d.name == folder.name)
            if (folder / "models.py").exists():
                assert f"yinli.{folder.name}.models" in domain.models
            if (folder / "api.py").exists():
                assert domain.api == f"yinli.{folder.name}.api:router"


def test_every_web_page_module_with_a_router_is_mounted() -> None:
    for path in (PACKAGE / "web").glob("*.py"):
        if "\nrouter = " in path.read_text():
            assert path.stem in WEB_PAGES, f"web/{path.name} has a router but is not in WEB_PAGES"
