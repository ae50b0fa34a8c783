"""`yinli train matcher` (retrain the shipped product matcher) and `yinli match evaluate|pair`."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

train_app = typer.Typer(help="Train models.", no_args_is_help=True)
match_app = typer.Typer(help="The product matcher: score labelled pairs, explain one pair.", no_args_is_help=True)
console = Console(stderr=True)  # progress on stderr: stdout ends with the JSON result

DEFAULT_DATA = Path("../shared/data/product_matching")
ModelOption = Annotated[Path | None, typer.Option("--model", help="A model file; default: the shipped one.")]


@train_app.command("matcher")
def train_matcher_command(
    data: Annotated[
        Path, typer.Option(help="Folder of <source>/train.txt files (the shared data's product_matching).")
    ] = DEFAULT_DATA,
    out: Annotated[Path | None, typer.Option(help="Where to write the model; default: the shipped model.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of folds and boosting.")] = 20261124,
) -> None:
    """Retrain the product matcher on every source's train split and write the model file."""
    from yinli.hosting.matcher import shipped_model_path
    from yinli.hosting.training import DataError, read_sources, train_matcher

    try:
        sources = read_sources(data, "train", sorted(p.name for p in data.iterdir() if (p / "train.txt").is_file()))
    except (DataError, OSError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1)
    pairs = [p for group in sources.values() for p in group]
    if not pairs:
        console.print(f"[red]no <source>/train.txt under {data}[/]")
        raise typer.Exit(1)
    matcher = train_matcher(pairs, seed=seed, progress=lambda m: console.print(m))
    target = out or shipped_model_path()
    matcher.save(target)
    console.print(f"matcher written to {target} ({target.stat().st_size // 1024} KiB)")
    print(json.dumps({"model": str(target), "threshold": round(matcher.threshold, 4), **matcher.info}))


@match_app.command("evaluate")
def evaluate(
    file: Annotated[Path, typer.Argument(help="LEFT<TAB>RIGHT<TAB>0|1 lines, the shared data's format.")],
    model: ModelOption = None,
) -> None:
    """Score every pair of FILE; print precision, recall and F1 as JSON on the last line."""
    import numpy as np

    from yinli.hosting.matcher import Matcher, shipped_matcher
    from yinli.hosting.metrics import scores
    from yinli.hosting.training import DataError, read_pairs

    try:
        pairs = read_pairs(file)
    except (DataError, OSError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2)
    matcher = Matcher.load(model) if model else shipped_matcher()
    started = time.perf_counter()
    probabilities = matcher.probabilities([(p.left, p.right) for p in pairs])
    seconds = time.perf_counter() - started
    labels = np.array([p.same for p in pairs], dtype=bool)
    result: dict[str, object] = {**scores(labels, probabilities >= matcher.threshold).as_dict()}
    result |= {
        "threshold": round(matcher.threshold, 4),
        "pairs_per_second": round(len(pairs) / seconds, 1) if seconds else None,
    }
    print(json.dumps({"file": str(file), **result}))


@match_app.command("pair")
def pair(
    left: Annotated[str, typer.Argument(help="A serialised record (COL title VAL ...) or a plain title.")],
    right: Annotated[str, typer.Argument(help="The other offer, the same way.")],
    model: ModelOption = None,
) -> None:
    """Match two offers; print the probability, the decision and the evidence as JSON."""
    from yinli.hosting.matcher import Matcher, parse_record, shipped_matcher

    matcher = Matcher.load(model) if model else shipped_matcher()
    result = matcher.match(parse_record(left), parse_record(right))
    print(json.dumps({"probability": round(result.probability, 4), "same": result.same, "evidence": result.evidence}))
