"""`yinli simulate` (one run) and `yinli simulate compare` (policies side by side over seeds)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from yinli.sim.market import POLICIES, SimConfig

app = typer.Typer(help="Marketplace simulator: agents that drive the real engine.", invoke_without_command=True)
console = Console()

Days = Annotated[int, typer.Option(min=1, max=3650, help="Simulated days.")]
Shoppers = Annotated[int, typer.Option(min=1, max=10_000_000, help="Shopper agents.")]
Merchants = Annotated[int, typer.Option(min=1, max=1_000_000, help="Merchants open at the start.")]
Creators = Annotated[int | None, typer.Option(min=0, help="Creators (default: one per 10 merchants).")]
Out = Annotated[Path, typer.Option(help="Run folder: kpis.json, Parquet exports, plots (and the SQLite db).")]


def _policy(value: str) -> str:
    if value not in POLICIES:
        raise typer.BadParameter(f"one of {', '.join(POLICIES)}")
    return value


@app.callback()
def simulate(
    ctx: typer.Context,
    days: Days = 30,
    shoppers: Shoppers = 100_000,
    merchants: Merchants = 2_000,
    creators: Creators = None,
    seed: Annotated[int, typer.Option(help="Same seed, same world, same result.")] = 7,
    policy: Annotated[str, typer.Option(callback=_policy, help=f"One of: {', '.join(POLICIES)}.")] = "user_first",
    out: Out = Path("var/sim/run"),
    database_url: Annotated[
        str | None, typer.Option(help="An empty PostgreSQL database to run on (default: SQLite in the run folder).")
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Processes running each day's shopper visits (split by shopper; best on PostgreSQL).",
        ),
    ] = 1,
) -> None:
    """Run the marketplace for DAYS days and write the run folder."""
    if ctx.invoked_subcommand is not None:
        return
    from yinli.sim.run import NotEmpty
    from yinli.sim.run import simulate as run

    config = SimConfig(
        days=days, shoppers=shoppers, merchants=merchants, creators=creators, seed=seed, policy=policy,
        workers=workers,
    )  # fmt: skip
    with _bar() as bar:
        task = bar.add_task(f"simulating ({policy}, seed {seed})", total=days)

        def step(day: int, stats: object) -> None:
            bar.update(task, advance=1, description=f"day {day + 1}: {getattr(stats, 'sessions', 0)} visits")

        try:
            result, _ = run(config, out, database_url=database_url, progress=step)
        except NotEmpty as exc:
            console.print(f"[red]{exc}[/]")
            raise typer.Exit(1)
    console.print(summary_line(result.kpis) + f"; {result.sessions_per_second:.1f} visits/s")
    console.print(f"run folder: {out} (kpis.json, *.parquet, plots/)")


def summary_line(k: dict[str, Any]) -> str:
    """A run's headline figures in one line; a measure with no subjects reads n/a."""
    from yinli.sim.kpis import share

    vs = k["search_conversion_vs_average"]
    return (
        f"GMV ¥{k['gmv_fen'] / 100:,.2f} from {k['orders']} orders; refund rate {share(k['refund_rate'], 1)}, "
        f"complaints {share(k['complaint_rate'], 1)} of orders; shelf share {share(k['shelf_share'])}; "
        f"conversion {share(k['conversion'], 1)}, search {share(k['search_conversion'], 1)} "
        f"({'n/a' if vs is None else f'{vs:.2f}×'} the average); units under ¥50 {share(k['units_share_under_50'])}; "
        f"new-merchant coverage {share(k['new_merchant_coverage'])} (launch plan, "
        f"{k['new_merchant_coverage_judged']} closed windows), survival {share(k['new_merchant_survival'])}"
    )


@app.command()
def compare(
    policies: Annotated[
        str, typer.Option(help="Comma-separated; the first is the baseline.")
    ] = "user_first,gmv_only,user_first_no_launch",
    seeds: Annotated[int, typer.Option(min=1, max=100, help="Seeds 1..N (5 or more for useful intervals).")] = 5,
    days: Days = 10,
    shoppers: Shoppers = 1_500,
    merchants: Merchants = 60,
    creators: Creators = None,
    jobs: Annotated[int, typer.Option(min=1, max=64, help="Runs in parallel (processes).")] = 2,
    out: Out = Path("var/sim/compare"),
) -> None:
    """Run the same seeded worlds under each policy and report KPIs with 95% intervals over seeds."""
    from yinli.sim.compare import markdown, run_compare

    names = [_policy(p.strip()) for p in policies.split(",") if p.strip()]
    if len(names) < 2 or len(set(names)) != len(names):
        raise typer.BadParameter("give two or more different policies", param_hint="--policies")
    base = SimConfig(days=days, shoppers=shoppers, merchants=merchants, creators=creators)
    seed_list = list(range(1, seeds + 1))
    with _bar() as bar:
        task = bar.add_task("runs", total=len(names) * len(seed_list))
        report = run_compare(
            base,
            names,
            seed_list,
            out,
            jobs=jobs,
            done=lambda p, s: bar.update(task, advance=1, description=f"{p} seed {s}"),
        )
    table = Table(title=f"{len(seed_list)} seeds — mean [95% interval]; Δ vs {names[0]}")
    table.add_column("KPI")
    for p in names:
        table.add_column(p)
    for line in markdown(report).splitlines()[4:]:
        cells = [c.strip().replace("<br>", "\n") for c in line.strip("|").split("|")]
        table.add_row(*cells)
    console.print(table)
    console.print(f"written: {out}/compare.json, compare.md, compare.png")


def _bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
