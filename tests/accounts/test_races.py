"""One account per email (users.email): ten sign-ups with one email at once make one account; the others
get 409 email_taken, as a later sign-up does."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.factories import PASSWORD, outcome, race, race_on_postgres

N = 10


def sign_up(client, email: str):
    body = {"email": email, "password": PASSWORD, "display_name": "同一人", "birth_year": 1990}
    return client.post("/api/v1/accounts", json=body)


def test_an_email_signs_up_once(client):
    assert sign_up(client, "once@example.com").status_code == 201
    assert outcome(sign_up(client, "ONCE@example.com")) == (409, "email_taken")


@pytest.mark.postgres
@race_on_postgres
def test_ten_sign_ups_with_one_email_at_once_make_one_account(app):
    tally = Counter(race(app, N, lambda _i, client: outcome(sign_up(client, "racer@example.com"))))
    assert tally == {(201, None): 1, (409, "email_taken"): N - 1}, tally
