"""One brand per name whatever its case: checked by the service, kept by uq_brands_lower_name."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.factories import outcome, race, race_on_postgres

N = 10


def test_a_brand_differing_only_in_case_is_the_same_brand(world, client):
    m = world.merchant()
    assert client.post("/api/v1/brands", json={"name": "Yinli"}, headers=m.headers).status_code == 201
    assert outcome(client.post("/api/v1/brands", json={"name": "YINLI"}, headers=m.headers)) == (409, "brand_exists")


@pytest.mark.postgres
@race_on_postgres
def test_ten_spellings_of_one_brand_registered_at_once_make_one(world, app):
    m = world.merchant()
    names = ["Acme", "ACME", "acme", "AcMe", "aCME", "Acme", "ACMe", "acmE", "aCmE", "AcmE"]

    def register(i, client):
        return outcome(client.post("/api/v1/brands", json={"name": names[i]}, headers=m.headers))

    tally = Counter(race(app, N, register))
    assert tally == {(201, None): 1, (409, "brand_exists"): N - 1}, tally
