"""One experiment runs at a time, kept by the database (uq_traffic_experiments_active): ten operators
starting experiments at once leave one running, the others get the service's 409."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from tests.factories import outcome, race, race_on_postgres
from yinli.traffic.models import Experiment

N = 10
VARIANTS = [{"name": "a", "weight": 1}, {"name": "b", "weight": 1, "policy": "gmv_only"}]


def running(database) -> int:
    with database.session() as s:
        return int(s.scalar(select(func.count()).select_from(Experiment).where(Experiment.status == "active")) or 0)


def start(client, operator, name: str):
    return client.post(
        "/api/v1/traffic/experiments", json={"name": name, "variants": VARIANTS}, headers=operator.headers
    )


def test_a_second_experiment_waits_for_the_first_to_stop(world, client, database):
    op = world.operator
    first = start(client, op, "首个")
    assert first.status_code == 201, first.text
    assert outcome(start(client, op, "第二")) == (409, "experiment_running")
    assert running(database) == 1
    assert client.post(f"/api/v1/traffic/experiments/{first.json()['id']}/stop", headers=op.headers).status_code == 200
    assert outcome(start(client, op, "首个")) == (409, "experiment_name_taken")
    assert start(client, op, "第二").status_code == 201
    assert running(database) == 1


@pytest.mark.postgres
@race_on_postgres
def test_ten_experiments_started_at_once_leave_one_running(world, app, database):
    op = world.operator

    def go(i, client):
        return outcome(start(client, op, f"实验{i}"))

    tally = Counter(race(app, N, go))
    assert tally == {(201, None): 1, (409, "experiment_running"): N - 1}, tally
    assert running(database) == 1
