"""`yinli` command line (Typer): serve, demo, simulate, bench, db upgrade, catalog load-categories, accounts
create-operator, search reindex, train ranker|matcher, match evaluate|pair."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from yinli.core import migrate
from yinli.core.clock import SystemClock
from yinli.core.db import Database
from yinli.core.settings import Settings, get_settings
from yinli.domains import DOMAINS, resolve

app = typer.Typer(help="yinli: a user-first content-commerce platform.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
catalog_app = typer.Typer(help="Catalog data.", no_args_is_help=True)
accounts_app = typer.Typer(help="Accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(catalog_app, name="catalog")
app.add_typer(accounts_app, name="accounts")
_groups: dict[str, typer.Typer] = {}
for domain in DOMAINS:  # each domain's own commands: see yinli.domains
    for command, target in domain.cli:
        group = resolve(target)
        if command in _groups:  # one group, commands from several domains (`train ranker`, `train matcher`)
            _groups[command].registered_commands.extend(group.registered_commands)
            _groups[command].registered_groups.extend(group.registered_groups)
        else:
            _groups[command] = group
            app.add_typer(group, name=command)
console = Console()

Host = Annotated[str, typer.Option(help="Interface to listen on.")]
Port = Annotated[int, typer.Option(help="TCP port.")]


def _serve(settings: Settings, host: str, port: int) -> None:
    from yinli.api.app import create_app

    console.print(f"[bold]yinli[/] on http://{host}:{port}/  (API docs: http://{host}:{port}/docs)")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


@app.command()
def serve(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Upgrade the database schema, then serve the API and web pages."""
    settings = get_settings()
    migrate.upgrade(settings.resolved_database_url)
    _serve(settings, host, port)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Migrate the configured database (YINLI_DATABASE_URL) to `revision`."""
    url = get_settings().resolved_database_url
    migrate.upgrade(url, revision)
    console.print(f"database at {revision}: {_safe(url)}")


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@catalog_app.command("load-categories")
def load_categories(
    file: Annotated[
        Path | None, typer.Option(help="A level1/level2/level3/listing_count TSV; default: shipped tree.")
    ] = None,
) -> None:
    """Load the category tree (idempotent)."""
    from yinli.catalog.categories import do_load_categories, read_tree

    settings = get_settings()
    migrate.upgrade(settings.resolved_database_url)
    database = Database(settings.resolved_database_url)
    with database.session() as session:
        result = do_load_categories(session, read_tree(file))
    database.dispose()
    levels = ", ".join(f"level {k}: {v}" for k, v in sorted(result.total_by_level.items()))
    console.print(f"categories loaded ({result.created} new) — {levels}")


@accounts_app.command("create-operator")
def create_operator(
    email: Annotated[str, typer.Option(prompt=True)],
    display_name: Annotated[str, typer.Option("--name", prompt=True)],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """Create an operator account (operators cannot sign themselves up)."""
    from yinli.accounts.service import do_sign_up
    from yinli.core.auth import Role
    from yinli.core.errors import DomainError

    settings = get_settings()
    migrate.upgrade(settings.resolved_database_url)
    database = Database(settings.resolved_database_url)
    try:
        with database.session() as session:
            user = do_sign_up(
                session,
                SystemClock(),
                email=email,
                password=password,
                display_name=display_name,
                role=Role.OPERATOR,
                allow_operator=True,
            )
        console.print(f"operator {user.email} created (id {user.id})")
    except DomainError as exc:
        console.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1)
    finally:
        database.dispose()


@app.command()
def demo(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Simulate a few days of a fresh marketplace (SQLite under the data directory), then serve it while a
    light simulation keeps shoppers buying and live rooms on air."""
    from rich.progress import Progress

    from yinli.sample import DEMO_PASSWORD
    from yinli.sim.demo import DEMO_WORLD, LiveMarket, build, demo_settings

    settings = demo_settings(get_settings(), get_settings().data_dir)
    with Progress(console=console) as bar:
        task = bar.add_task("simulating the last days", total=DEMO_WORLD.days)
        mk, sample = build(settings, SystemClock().now(), lambda d, s: bar.update(task, advance=1))
    console.print(
        f"demo marketplace: {len(mk.merchants) + sample.stores} stores, {len(mk.products) + sample.products} "
        f"products, {len(mk.shoppers)} simulated shoppers; {sum(d.purchases for d in mk.days)} orders in the "
        f"last {DEMO_WORLD.days} days\n"
        f"sign in as {sample.operator_email}, shopper@demo.yinli or shoes@demo.yinli — password {DEMO_PASSWORD}"
    )
    market = LiveMarket(mk, settings.resolved_database_url)
    market.start()
    try:
        _serve(settings, host, port)
    finally:
        market.stop()


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def bench(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A benchmark in ./bench (checkout, search, feed, simulate).")],
) -> None:
    """Run `bench/NAME.py` from the project checkout with any further options (e.g. `--quick`)."""
    import subprocess
    import sys

    folder = Path.cwd() / "bench"
    known = sorted(p.stem for p in folder.glob("*.py") if not p.stem.startswith("_"))
    if name not in known:
        console.print(
            f"[red]no benchmark {name!r}[/] in {folder}; known: {', '.join(known) or 'none (run from the checkout)'}"
        )
        raise typer.Exit(2)
    raise typer.Exit(subprocess.call([sys.executable, str(folder / f"{name}.py"), *ctx.args]))


if __name__ == "__main__":
    app()
