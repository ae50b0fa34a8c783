"""`yinli search ...`: rebuild the index from the database."""

from __future__ import annotations

import time

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from yinli.core import migrate
from yinli.core.clock import SystemClock
from yinli.core.db import Database
from yinli.core.settings import get_settings

app = typer.Typer(help="Product search.", no_args_is_help=True)
console = Console()


@app.command("reindex")
def reindex() -> None:
    """Rebuild the search index (YINLI_SEARCH_BACKEND) from the database; searches switch when it is done."""
    from yinli.search.service import engine_for

    settings = get_settings()
    migrate.upgrade(settings.resolved_database_url)
    database = Database(settings.resolved_database_url)
    engine = engine_for(settings, database, SystemClock())
    started = time.perf_counter()
    try:
        with Progress(
            TextColumn("[bold]indexing[/]"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console
        ) as progress:
            task = progress.add_task("products", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            count = engine.rebuild(database, advance)
    finally:
        database.dispose()
    console.print(
        f"search index ({settings.search_backend}) rebuilt: {count} products in {time.perf_counter() - started:.1f} s"
    )
