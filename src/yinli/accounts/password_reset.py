"""Password reset by e-mail: ask for a link, follow it, choose a new password.

- Asking answers the same whether the address has an account or not (no way to find out who is a
  customer), and is throttled per address typed and per client, like sign-in (`SignInThrottle` counters,
  keys of their own).
- The link carries a random secret; only its SHA-256 is stored. It works once, for
  `YINLI_PASSWORD_RESET_MINUTES`; asking again retires the earlier links. Using it is one conditional
  UPDATE, so two tabs submitting the same link cannot both change the password.
- A reset signs the account out everywhere (its API tokens and web sessions are revoked): whoever knew
  the old password is out.
- The e-mail is built here and sent by the caller after commit (`core.mail.send`, in a background task).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from yinli.accounts.models import AccessToken, PasswordReset, User
from yinli.accounts.service import NO_PASSWORD, SignInLimits, throttle_count, throttle_key
from yinli.core.auth import hash_password, new_token, token_digest
from yinli.core.clock import Clock
from yinli.core.errors import InvalidInput, TooManyRequests
from yinli.core.mail import Mail
from yinli.core.outbox import emit
from yinli.core.settings import Settings

# Fewer than sign-in allows: each request sends an e-mail to someone who may not have asked for it.
RESETS_PER_ACCOUNT = 3
RESETS_PER_ADDRESS = 20

INVALID_LINK = "this password-reset link is unknown, used or expired; ask for a new one"


@dataclass(frozen=True)
class ResetLink:
    url: str
    expires_minutes: int


def _throttle(session: Session, clock: Clock, limits: SignInLimits, email: str, address: str | None) -> None:
    now = clock.now()
    wait = 0
    checks = [("account", "reset|" + email, RESETS_PER_ACCOUNT)]
    if address:
        checks.append(("address", "reset|" + address, RESETS_PER_ADDRESS))
    for scope, subject, limit in checks:
        count, started = throttle_count(session, clock, scope, throttle_key(scope, subject), limits.window)
        if count > limit:
            wait = max(wait, math.ceil((started + limits.window - now).total_seconds()))
    if wait:
        raise TooManyRequests(
            f"too many password-reset requests; try again in {wait} seconds",
            retry_after=wait,
            code="too_many_resets",
        )


def do_request_password_reset(
    session: Session, clock: Clock, settings: Settings, limits: SignInLimits, *, email: str, address: str | None
) -> Mail | None:
    """Count the request (429 past the limits), and if `email` is an active account that signs in with a
    password, make a new link and return the e-mail to send; else None. The caller answers the same
    either way, commits, then sends."""
    email = email.strip().lower()
    _throttle(session, clock, limits, email, address)
    user = session.scalar(select(User).where(User.email == email))
    if user is None or not user.is_active or user.password_hash == NO_PASSWORD:
        return None
    now = clock.now()
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)  # only the newest link works
    )
    secret = new_token()
    minutes = settings.password_reset_minutes
    session.add(
        PasswordReset(
            user_id=user.id, digest=token_digest(secret), created_at=now, expires_at=now + timedelta(minutes=minutes)
        )
    )
    session.flush()
    emit(session, clock, "PasswordResetRequested", "user", user.id, {}, actor_id=user.id)
    link = ResetLink(f"{settings.public_url.rstrip('/')}/password/reset?token={quote(secret)}", minutes)
    return reset_mail(user, link)


def reset_mail(user: User, link: ResetLink) -> Mail:
    text = (
        f"{user.display_name}，你好：\n\n"
        f"有人（希望是你）请求重设引力账号 {user.email} 的密码。打开下面的链接设置新密码，"
        f"链接 {link.expires_minutes} 分钟内有效，只能使用一次：\n\n{link.url}\n\n"
        "如果不是你本人操作，请忽略这封邮件，你的密码不会改变。\n\n"
        "---\n\n"
        f"Hello {user.display_name},\n\n"
        f"Someone (we hope you) asked to reset the password of the yinli account {user.email}. Open this link "
        f"to choose a new one; it works once, for {link.expires_minutes} minutes:\n\n{link.url}\n\n"
        "If it was not you, ignore this e-mail: your password stays as it is.\n"
    )
    return Mail(to=user.email, subject="重设引力密码 / Reset your yinli password", text=text)


def check_reset_link(session: Session, clock: Clock, secret: str) -> User:
    """The account a link resets, or 422 `reset_link_invalid` (unknown, used or expired)."""
    row = session.scalar(select(PasswordReset).where(PasswordReset.digest == token_digest(secret)))
    if row is None or row.used_at is not None or row.expires_at <= clock.now():
        raise InvalidInput(INVALID_LINK, code="reset_link_invalid", field="token")
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise InvalidInput(INVALID_LINK, code="reset_link_invalid", field="token")
    return user


def do_reset_password(session: Session, clock: Clock, *, secret: str, password: str) -> User:
    """Use the link (once: one conditional UPDATE, so of two submissions of the same link only one finds
    it unused), set the new password and sign the account out everywhere."""
    now = clock.now()
    user_id = session.scalar(
        update(PasswordReset)
        .where(
            PasswordReset.digest == token_digest(secret),
            PasswordReset.used_at.is_(None),
            PasswordReset.expires_at > now,
        )
        .values(used_at=now)
        .returning(PasswordReset.user_id)
    )
    user = session.get(User, user_id) if user_id is not None else None
    if user is None or not user.is_active:  # the caller rolls back: an inactive account's link stays unused
        raise InvalidInput(INVALID_LINK, code="reset_link_invalid", field="token")
    user.password_hash = hash_password(password)
    session.execute(
        update(AccessToken)
        .where(AccessToken.user_id == user.id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    session.flush()
    emit(session, clock, "PasswordReset", "user", user.id, {}, actor_id=user.id)
    return user
