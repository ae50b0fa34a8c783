"""Sign-in throttling: per account and per client address, counted in the database (so it holds across
server processes), atomically (so it holds under concurrent guesses), in windows of the Clock's time."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.factories import PASSWORD
from yinli import jobs
from yinli.accounts.models import SignInThrottle
from yinli.accounts.service import SignInLimits, do_count_sign_in_attempt, do_purge_sign_in_counts

TOKEN = "/api/v1/auth/token"


def attempt(client: TestClient, email: str, password: str = "wrong password") -> object:
    return client.post(TOKEN, json={"email": email, "password": password})


def test_the_11th_wrong_password_is_429_and_then_even_the_right_one_until_the_window_passes(world, client, clock):
    u = world.shopper()
    for _ in range(10):
        r = attempt(client, u.email)
        assert r.status_code == 401, r.text
    r = attempt(client, u.email)
    assert r.status_code == 429
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "too_many_sign_ins"
    assert int(r.headers["Retry-After"]) == 900  # the window started at the first failure, no time has passed
    assert "Content-Security-Policy" in r.headers
    # the right password is refused too (and on the web session endpoint: same account, same count)
    r = attempt(client, u.email, PASSWORD)
    assert r.status_code == 429
    assert client.post("/api/v1/auth/session", json={"email": u.email, "password": PASSWORD}).status_code == 429
    clock.advance(timedelta(minutes=10))
    r = attempt(client, u.email, PASSWORD)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) == 300
    clock.advance(timedelta(minutes=5))
    assert attempt(client, u.email, PASSWORD).status_code == 200


def test_the_email_is_counted_however_it_is_written(world, client):
    u = world.shopper()
    for i in range(10):
        assert attempt(client, u.email.upper() if i % 2 else f"  {u.email}").status_code == 401
    assert attempt(client, u.email, PASSWORD).status_code == 429


def test_a_success_resets_the_accounts_count(world, client, database):
    u = world.shopper()
    for _ in range(9):
        assert attempt(client, u.email).status_code == 401
    assert attempt(client, u.email, PASSWORD).status_code == 200
    for _ in range(10):  # a fresh allowance of ten
        assert attempt(client, u.email).status_code == 401
    assert attempt(client, u.email).status_code == 429


def test_unknown_emails_are_counted_like_real_ones(client):
    for _ in range(10):
        assert attempt(client, "nobody@example.com").status_code == 401
    assert attempt(client, "nobody@example.com").status_code == 429


def test_per_address_limit_across_accounts(world, client, settings, clock):
    settings.sign_in_max_failures_per_address = 5
    victims = [world.shopper() for _ in range(3)]
    for i in range(5):  # spread over accounts: no account reaches its own limit
        assert attempt(client, victims[i % 3].email).status_code == 401
    r = attempt(client, victims[0].email, PASSWORD)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) == 900
    # another address is not affected
    with TestClient(client.app, client=("203.0.113.9", 50000)) as other:
        assert attempt(other, victims[0].email, PASSWORD).status_code == 200
    clock.advance(timedelta(seconds=900))
    assert attempt(client, victims[1].email, PASSWORD).status_code == 200


def test_successes_do_not_use_up_the_addresss_allowance(world, client, settings):
    settings.sign_in_max_failures_per_address = 3
    u = world.shopper()
    for _ in range(10):  # an office behind one address signing in all day
        assert attempt(client, u.email, PASSWORD).status_code == 200
    for _ in range(3):
        assert attempt(client, u.email).status_code == 401
    assert attempt(client, u.email, PASSWORD).status_code == 429


def test_old_counters_are_purged_by_the_background_jobs(world, client, app, database, clock, settings):
    u = world.shopper()
    attempt(client, u.email)
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(SignInThrottle)) == 2  # the account and the address
        assert do_purge_sign_in_counts(s, clock, timedelta(seconds=900)) == 0
        # no email is stored in the clear
        assert u.email not in str(s.execute(select(SignInThrottle.key, SignInThrottle.scope)).all())
    clock.advance(timedelta(seconds=900))
    jobs.run_once(database, clock, settings, app.state.gateway)
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(SignInThrottle)) == 0


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("YINLI_TEST_DATABASE_URL"), reason="race test: needs PostgreSQL")
def test_20_concurrent_wrong_passwords_count_20_failures(world, app, database, settings):
    u = world.shopper()
    n = 20
    barrier = threading.Barrier(n)

    def guess(_: int) -> int:
        with TestClient(app, raise_server_exceptions=False) as c:
            barrier.wait()
            return attempt(c, u.email).status_code  # type: ignore[attr-defined,no-any-return]

    settings.sign_in_max_failures_per_account = 100
    with ThreadPoolExecutor(max_workers=n) as pool:
        statuses = list(pool.map(guess, range(n)))
    assert statuses == [401] * n
    with database.session() as s:
        counts = sorted(s.scalars(select(SignInThrottle.failures)))
    assert counts == [n, n]  # the account and the address: no lost update

    # with the limit at 10, twenty more simultaneous guesses get exactly ten password checks, not twenty
    settings.sign_in_max_failures_per_account = n + 10
    settings.sign_in_max_failures_per_address = 1000
    barrier = threading.Barrier(n)
    with ThreadPoolExecutor(max_workers=n) as pool:
        statuses = list(pool.map(guess, range(n)))
    assert sorted(statuses) == [401] * 10 + [429] * 10


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("YINLI_TEST_DATABASE_URL"), reason="race test: needs PostgreSQL")
def test_concurrent_counting_in_the_service(database, clock):
    """The service alone, one session per thread: the upsert is atomic."""
    limits = SignInLimits(per_account=1000, per_address=1000, window=timedelta(minutes=15))
    n = 20
    barrier = threading.Barrier(n)

    def count(i: int) -> None:
        with database.session() as s:
            barrier.wait()
            do_count_sign_in_attempt(s, clock, limits, email="racer@example.com", address=f"198.51.100.{i}")

    with ThreadPoolExecutor(max_workers=n) as pool:
        list(pool.map(count, range(n)))
    with database.session() as s:
        assert sorted(s.scalars(select(SignInThrottle.failures)))[-1] == n
