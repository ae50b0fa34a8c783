"""Accounts: sign-up, sign-in tokens and sessions, profiles. `check_*` validate, `do_*` change state.

Nothing here commits: the caller owns the transaction.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, case, delete, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from yinli.accounts.models import AccessToken, SignInThrottle, User
from yinli.core.auth import Actor, Role, hash_password, new_token, token_digest, verify_password
from yinli.core.clock import Clock
from yinli.core.db import UTCDateTime, unique_or
from yinli.core.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound, TooManyRequests
from yinli.core.outbox import emit
from yinli.merchants import staff

SELF_SIGNUP_ROLES = (Role.SHOPPER, Role.MERCHANT, Role.CREATOR)


def cohort_of(user: User, year: int) -> str | None:
    """A shopper's age cohort in `year`; other roles have none (cohorts describe buyers)."""
    return age_cohort(user.birth_year, year) if user.role == "shopper" else None


def age_cohort(birth_year: int | None, year: int) -> str:
    """Cohort of a shopper in calendar `year`: 'gen_z' (born 1997+), 'gen_y' (born 1981-1996),
    '40+' (aged 40 or more that year), or 'unknown'.

    Age 40+ wins over generation: everyone born in Gen X or earlier is over 40 today, so Gen X shows up
    as '40+' (and so do older millennials as years pass) — the group the reference platform reports.
    """
    if birth_year is None:
        return "unknown"
    if year - birth_year >= 40:
        return "40+"
    return "gen_z" if birth_year >= 1997 else "gen_y"


def check_birth_year(birth_year: int | None, role: Role, clock: Clock) -> None:
    if birth_year is None:
        return
    if role is not Role.SHOPPER:
        raise InvalidInput("only shoppers give a birth year", field="birth_year")
    this_year = clock.now().year
    if not (1900 <= birth_year <= this_year):
        raise InvalidInput(f"birth year must be between 1900 and {this_year}", field="birth_year")


NO_PASSWORD = "!"  # not an argon2 hash: verify_password() is always False for it


def _check_email_free(session: Session, email: str) -> None:
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("an account with this email exists", field="email", code="email_taken")


def lock_user(session: Session, user_id: int) -> None:
    """Take the user's row lock (PostgreSQL; SQLite writers are serialised anyway) so that per-user
    limits — cart lines, auto-approved refunds — are counted by one transaction at a time.

    FOR NO KEY UPDATE: it excludes other lockers but not inserts that merely reference the user (orders,
    cart lines take FOR KEY SHARE), so it cannot deadlock against a checkout."""
    session.execute(select(User.id).where(User.id == user_id).with_for_update(key_share=True))


def do_sign_up(
    session: Session,
    clock: Clock,
    *,
    email: str,
    password: str | None,
    display_name: str,
    role: Role,
    birth_year: int | None = None,
    allow_operator: bool = False,
) -> User:
    """Create an account. Operators are only created by another operator or the CLI (`allow_operator`).

    `password=None` makes an account that cannot sign in (the simulator's agents act in-process; hashing
    100,000 passwords with argon2 would take minutes and protect nothing)."""
    if role is Role.OPERATOR and not allow_operator:
        raise InvalidInput("operators cannot sign themselves up", field="role")
    check_birth_year(birth_year, role, clock)
    email = email.strip().lower()
    _check_email_free(session, email)
    user = User(
        email=email,
        display_name=display_name,
        password_hash=hash_password(password) if password is not None else NO_PASSWORD,
        role=role.value,
        birth_year=birth_year,
        is_active=True,
        created_at=clock.now(),
    )
    with unique_or(session, lambda: _check_email_free(session, email)):
        session.add(user)
    emit(session, clock, "UserSignedUp", "user", user.id, {"role": role.value}, actor_id=user.id)
    return user


def do_issue_token(
    session: Session,
    clock: Clock,
    *,
    email: str,
    password: str,
    kind: str,
    ttl: timedelta,
    attempt: SignInAttempt | None = None,
) -> tuple[str, AccessToken, User]:
    """Check credentials and issue a bearer token (`kind='api'`) or web session (`kind='session'`).
    Returns the secret once. With the `attempt` counted before (`do_count_sign_in_attempt`), a success
    clears the account's count and takes this attempt back from the address's."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    # Verify even when the user is unknown, so response time does not reveal which emails exist.
    ok = verify_password(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not ok or not user.is_active:
        raise NotAuthenticated("email or password is wrong", code="bad_credentials")
    if attempt is not None:
        _forget_attempt(session, attempt)
    secret = new_token()
    now = clock.now()
    token = AccessToken(user_id=user.id, digest=token_digest(secret), kind=kind, created_at=now, expires_at=now + ttl)
    session.add(token)
    session.flush()
    return secret, token, user


# --- sign-in throttling ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SignInLimits:
    """Failed sign-ins allowed per account and per client address within `window` (from Settings)."""

    per_account: int
    per_address: int
    window: timedelta


@dataclass(frozen=True)
class SignInAttempt:
    """An attempt already counted as a failure; a success takes it back (`do_issue_token(attempt=...)`)."""

    account_key: str
    address_key: str | None


def throttle_key(scope: str, subject: str) -> str:
    return hashlib.sha256(f"{scope}|{subject}".encode("utf-8", "surrogatepass")).hexdigest()


def throttle_count(session: Session, clock: Clock, scope: str, key: str, window: timedelta) -> tuple[int, datetime]:
    """Add one to `key`'s count in one atomic upsert (a new window if the last one has passed);
    returns the count and when its window started."""
    now = clock.now()
    table = SignInThrottle.__table__
    assert isinstance(table, Table)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    expired = table.c.window_start <= now - window
    stmt = (
        insert(table)
        .values(key=key, scope=scope, window_start=now, failures=1)
        .on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "failures": case((expired, 1), else_=table.c.failures + 1),
                "window_start": case((expired, literal(now, UTCDateTime())), else_=table.c.window_start),
            },
        )
        .returning(table.c.failures, table.c.window_start)
    )
    failures, started = session.execute(stmt).one()
    if started.tzinfo is None:  # RETURNING of a CASE may skip the column type's result processing
        started = started.replace(tzinfo=now.tzinfo)
    return int(failures), started


def do_count_sign_in_attempt(
    session: Session, clock: Clock, limits: SignInLimits, *, email: str, address: str | None
) -> SignInAttempt:
    """Count a sign-in attempt as a failure *before* the password is checked, and refuse it (429 with
    Retry-After) once the account or the client address is past its limit for the window — even when
    the password would be right.

    Counting first is what keeps the limit under concurrency: twenty simultaneous guesses cannot all pass
    a check before any of them is recorded. The caller commits this before checking the password (so a
    401 that rolls the request back still leaves the count), and passes the attempt to `do_issue_token`,
    which takes it back on success."""
    account_key = throttle_key("account", email.strip().lower())
    address_key = throttle_key("address", address) if address else None
    now = clock.now()
    wait = 0
    failures, started = throttle_count(session, clock, "account", account_key, limits.window)
    if failures > limits.per_account:
        wait = max(wait, math.ceil((started + limits.window - now).total_seconds()))
    if address_key is not None:
        failures, started = throttle_count(session, clock, "address", address_key, limits.window)
        if failures > limits.per_address:
            wait = max(wait, math.ceil((started + limits.window - now).total_seconds()))
    if wait:
        raise TooManyRequests(
            f"too many failed sign-ins; try again in {wait} seconds", retry_after=wait, code="too_many_sign_ins"
        )
    return SignInAttempt(account_key, address_key)


def _forget_attempt(session: Session, attempt: SignInAttempt) -> None:
    session.execute(delete(SignInThrottle).where(SignInThrottle.key == attempt.account_key))
    if attempt.address_key is not None:
        session.execute(
            update(SignInThrottle)
            .where(SignInThrottle.key == attempt.address_key, SignInThrottle.failures > 0)
            .values(failures=SignInThrottle.failures - 1)
        )


def do_purge_sign_in_counts(session: Session, clock: Clock, window: timedelta) -> int:
    """Drop counters whose window has passed (a later attempt would start afresh anyway)."""
    result = session.execute(delete(SignInThrottle).where(SignInThrottle.window_start <= clock.now() - window))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


_DUMMY_HASH = hash_password("not-a-real-password")


def do_revoke_token(session: Session, clock: Clock, secret: str, kind: str) -> None:
    token = session.scalar(
        select(AccessToken).where(AccessToken.digest == token_digest(secret), AccessToken.kind == kind)
    )
    if token is not None and token.revoked_at is None:
        token.revoked_at = clock.now()
        session.flush()


def resolve_actor(session: Session, clock: Clock, secret: str, kind: str) -> Actor | None:
    """The Actor a secret of this `kind` stands for, or None if it is unknown, expired, revoked or of the
    other kind: a bearer header takes only API tokens, the cookie only web sessions, so a session secret
    that leaks from a browser is no API key and an API token is no cookie."""
    row = session.execute(
        select(User.id, User.role, User.is_active, AccessToken.expires_at, AccessToken.revoked_at)
        .join(AccessToken, AccessToken.user_id == User.id)
        .where(AccessToken.digest == token_digest(secret), AccessToken.kind == kind)
    ).first()
    if row is None or not row.is_active or row.revoked_at is not None or row.expires_at <= clock.now():
        return None
    role = Role(row.role)
    store_id = staff.store_of(session, row.id) if role is Role.MERCHANT else None
    return Actor(user_id=row.id, role=role, store_id=store_id)


def get_user(session: Session, actor: Actor, user_id: int) -> User:
    """A user's account, visible to themself and to operators only (404 to everyone else)."""
    user = session.get(User, user_id)
    if user is None or (actor.user_id != user_id and not actor.is_operator):
        raise NotFound(f"no user {user_id}", field="user_id")
    return user


def list_users(session: Session, actor: Actor, *, role: Role | None, after_id: int | None, limit: int) -> list[User]:
    if not actor.is_operator:
        raise Forbidden("only operators list accounts")
    query = select(User).order_by(User.id).limit(limit)
    if role is not None:
        query = query.where(User.role == role.value)
    if after_id is not None:
        query = query.where(User.id > after_id)
    return list(session.scalars(query))


def do_update_profile(
    session: Session,
    clock: Clock,
    actor: Actor,
    *,
    display_name: str | None = None,
    birth_year: int | None = None,
    clear_birth_year: bool = False,
    password: str | None = None,
    current_password: str | None = None,
) -> User:
    user = session.get(User, actor.user_id)
    if user is None:  # pragma: no cover - an actor always has a user
        raise NotFound("account is gone")
    if display_name is not None:
        user.display_name = display_name
    if birth_year is not None:
        check_birth_year(birth_year, Role(user.role), clock)
        user.birth_year = birth_year
    elif clear_birth_year:
        user.birth_year = None
    if password is not None:
        if current_password is None or not verify_password(user.password_hash, current_password):
            raise InvalidInput("current password is wrong", field="current_password")
        user.password_hash = hash_password(password)
        # A new password ends every other session and token.
        for token in session.scalars(
            select(AccessToken).where(AccessToken.user_id == user.id, AccessToken.revoked_at.is_(None))
        ):
            token.revoked_at = clock.now()
    session.flush()
    return user
