"""`yinli train ranker`: train the feed's pCTR/pCVR models from the event log (see traffic/training.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from yinli.core import migrate
from yinli.core.clock import SystemClock
from yinli.core.db import Database
from yinli.core.errors import DomainError
from yinli.core.settings import get_settings

app = typer.Typer(
    help="Train models: the feed's ranker (and, from hosting, the product matcher).", no_args_is_help=True
)
console = Console()


@app.command("ranker")
def ranker(
    export: Annotated[Path | None, typer.Option(help="Also export the whole event log to this Parquet file.")] = None,
    publish: Annotated[bool, typer.Option(help="Publish the new version if it beats the heuristic.")] = True,
) -> None:
    """Train LightGBM pCTR/pCVR on the feed event log; compare with the heuristic on the newest day."""
    from yinli.traffic.events import export_parquet
    from yinli.traffic.training import train_ranker

    settings = get_settings()
    migrate.upgrade(settings.resolved_database_url)
    database = Database(settings.resolved_database_url)
    try:
        with console.status("reading the event log and training"), database.read_sessions() as session:
            if export is not None:
                rows = export_parquet(session, export)
                console.print(f"exported {rows} events to {export}")
            report = train_ranker(session, SystemClock(), settings, publish=publish)
    except DomainError as exc:
        console.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1)
    finally:
        database.dispose()
    for key, value in report.metrics.items():
        console.print(f"  {key}: {value}")
    if report.version:
        console.print(f"published ranker {report.version} ({report.rows} impressions) in {report.folder}")
    else:
        console.print(f"[yellow]not published[/]: the model did not beat the heuristic; kept in {report.folder}")
