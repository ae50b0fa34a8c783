"""`yinli match evaluate` (JSON last) and `yinli train matcher` on a tiny data folder."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.hosting.samples import ABT, AMAZON, AMAZON_XEROX, BUY, GOOGLE, UNRELATED, WALMART
from yinli.cli import app
from yinli.hosting.matcher import Matcher

LINES = [(ABT, BUY, 1), (AMAZON, GOOGLE, 1), (WALMART, AMAZON_XEROX, 1), (WALMART, UNRELATED, 0), (ABT, GOOGLE, 0)]


def _write(path: Path, lines: list[tuple[str, str, int]]) -> Path:
    path.write_text("".join(f"{a}\t{b}\t{y}\n" for a, b, y in lines), encoding="utf-8")
    return path


def test_match_evaluate_prints_precision_recall_and_f1_as_json_last(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["match", "evaluate", str(_write(tmp_path / "pairs.txt", LINES))])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout.strip().splitlines()[-1])
    assert (scores["pairs"], scores["positives"]) == (5, 3)
    assert (scores["precision"], scores["recall"], scores["f1"]) == (1.0, 1.0, 1.0)


def test_match_evaluate_refuses_a_file_of_another_format(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("just a line\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["match", "evaluate", str(bad)])
    assert result.exit_code == 2
    assert "bad.txt:1" in result.output


def test_match_pair_prints_the_evidence() -> None:
    result = CliRunner().invoke(app, ["match", "pair", WALMART, AMAZON_XEROX])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["same"] is True and out["evidence"]["brand"]["agree"] is True


def test_train_matcher_writes_a_model_that_loads(tmp_path: Path) -> None:
    source = tmp_path / "data" / "tiny"
    source.mkdir(parents=True)
    _write(source / "train.txt", LINES * 4)
    out = tmp_path / "model.json.gz"
    result = CliRunner().invoke(app, ["train", "matcher", "--data", str(tmp_path / "data"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    matcher = Matcher.load(out)
    assert matcher.info["trained_on"] == {"pairs": 20, "positives": 12, "sources": ["tiny"]}
    assert 0 <= matcher.threshold <= 1
