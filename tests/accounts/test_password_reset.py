"""Password reset by e-mail, delivered through a real SMTP server (aiosmtpd on a free local port):
the link arrives, works once, expires, signs the account out everywhere; asking tells nobody whether an
address has an account; the API and the web pages share the rules. Without SMTP the mail is a file."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from email import message_from_bytes, policy
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.factories import PASSWORD, World
from tests.mailbox import Inbox, link_in, token_of
from yinli.accounts.models import AccessToken, PasswordReset

API = "/api/v1"
NEW_PASSWORD = "a-new-password-42"


def ask(client: TestClient, email: str, **headers: str) -> Any:
    return client.post(f"{API}/auth/password-reset", json={"email": email}, headers=headers)


def test_the_link_arrives_works_once_and_signs_out_everywhere(world: World, inbox: Inbox) -> None:
    client = world.client
    shopper = world.shopper()
    assert client.get(f"{API}/me", headers=shopper.headers).status_code == 200
    r = ask(client, shopper.email.upper())  # the address as typed, any case
    assert r.status_code == 202 and r.json() == {"status": "sent_if_the_account_exists", "expires_minutes": 30}
    (message,) = inbox.to(shopper.email)
    assert "重设" in message["Subject"] and message["From"].addresses[0].domain == "yinli.invalid"
    token = token_of(link_in(message))  # the configured public address, not the request's Host

    assert (
        client.post(f"{API}/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}).status_code
        == 204
    )
    assert client.get(f"{API}/me", headers=shopper.headers).status_code == 401  # the old token is revoked
    old = client.post(f"{API}/auth/token", json={"email": shopper.email, "password": PASSWORD})
    assert old.status_code == 401
    assert client.post(f"{API}/auth/token", json={"email": shopper.email, "password": NEW_PASSWORD}).status_code == 200
    again = client.post(f"{API}/auth/password-reset/confirm", json={"token": token, "password": "another-one-99"})
    assert again.status_code == 422 and again.json()["code"] == "reset_link_invalid"


def test_asking_tells_nobody_whether_an_account_exists(world: World, inbox: Inbox) -> None:
    client = world.client
    unknown = ask(client, "nobody-here@example.com")
    known = ask(client, world.shopper().email)
    assert unknown.status_code == known.status_code == 202 and unknown.json() == known.json()
    assert inbox.to("nobody-here@example.com") == [] and len(inbox.messages) == 1


def test_only_the_newest_link_works_and_links_expire(world: World, inbox: Inbox, clock, settings) -> None:  # type: ignore[no-untyped-def]
    client = world.client
    shopper = world.shopper()
    ask(client, shopper.email)
    ask(client, shopper.email)
    first, second = (token_of(link_in(m)) for m in inbox.to(shopper.email))
    body = {"token": first, "password": NEW_PASSWORD}
    assert client.post(f"{API}/auth/password-reset/confirm", json=body).json()["code"] == "reset_link_invalid"
    clock.advance(timedelta(minutes=settings.password_reset_minutes))
    late = client.post(f"{API}/auth/password-reset/confirm", json={"token": second, "password": NEW_PASSWORD})
    assert late.status_code == 422 and late.json()["code"] == "reset_link_invalid"
    assert client.post(f"{API}/auth/token", json={"email": shopper.email, "password": PASSWORD}).status_code == 200


def test_bad_input_is_a_clear_4xx_and_changes_nothing(world: World, inbox: Inbox, database) -> None:  # type: ignore[no-untyped-def]
    client = world.client
    shopper = world.shopper()
    ask(client, shopper.email)
    token = token_of(link_in(inbox.to(shopper.email)[0]))
    cases = [
        {"token": token, "password": "short"},  # the sign-up rule: at least 8 characters
        {"token": token + "x", "password": NEW_PASSWORD},  # not a link we sent
        {"token": "../../etc", "password": NEW_PASSWORD},
        {"token": token},
        {"token": token, "password": NEW_PASSWORD, "extra": 1},
        {"token": 5, "password": NEW_PASSWORD},
    ]
    for body in cases:
        r = client.post(f"{API}/auth/password-reset/confirm", json=body)
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), body
    assert ask(client, "a\x00@b.cn").status_code == 422
    assert client.post(f"{API}/auth/password-reset", json={}).status_code == 422
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(PasswordReset).where(PasswordReset.used_at.is_not(None))) == 0
    assert client.post(f"{API}/auth/token", json={"email": shopper.email, "password": PASSWORD}).status_code == 200


def test_requests_are_throttled_per_address_typed(world: World, inbox: Inbox) -> None:
    client = world.client
    shopper = world.shopper()
    answers = [ask(client, shopper.email).status_code for _ in range(4)]
    assert answers == [202, 202, 202, 429]
    assert len(inbox.to(shopper.email)) == 3
    limited = ask(client, shopper.email)
    assert limited.json()["code"] == "too_many_resets" and int(limited.headers["Retry-After"]) > 0


def test_without_smtp_the_mail_is_a_file_in_the_data_dir(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    assert settings.smtp_host is None
    shopper = world.shopper()
    assert ask(world.client, shopper.email).status_code == 202
    (path,) = (settings.data_dir / "mail").glob("*.eml")
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["To"] == shopper.email
    text = path.read_text(encoding="utf-8")
    assert "/password/reset?token=" in text and "重设" in text  # readable as it is, not base64


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("YINLI_TEST_DATABASE_URL"), reason="race test: needs PostgreSQL")
def test_two_tabs_using_one_link_at_once_change_the_password_once(world: World, inbox: Inbox, app, database) -> None:  # type: ignore[no-untyped-def]
    shopper = world.shopper()
    ask(world.client, shopper.email)
    token = token_of(link_in(inbox.to(shopper.email)[0]))
    n = 8
    barrier = threading.Barrier(n)

    def submit(i: int) -> int:
        with TestClient(app, raise_server_exceptions=False) as c:
            barrier.wait()
            body = {"token": token, "password": f"{NEW_PASSWORD}-{i}"}
            return c.post(f"{API}/auth/password-reset/confirm", json=body).status_code

    with ThreadPoolExecutor(max_workers=n) as pool:
        statuses = sorted(pool.map(submit, range(n)))
    assert statuses == [204] + [422] * (n - 1)
    winners = [
        i
        for i in range(n)
        if world.client.post(
            f"{API}/auth/token", json={"email": shopper.email, "password": f"{NEW_PASSWORD}-{i}"}
        ).status_code
        == 200
    ]
    assert len(winners) == 1
    with database.session() as s:
        live = s.scalar(
            select(func.count())
            .select_from(AccessToken)
            .where(AccessToken.user_id == shopper.id, AccessToken.revoked_at.is_(None))
        )
    assert live == 1  # the winner's new sign-in only
