"""Who is calling, and the authorisation rules every domain shares.

`Actor` is the authenticated caller as services see it. Rules:
- operators may act on any store;
- a merchant's staff act only on their own store (`store_id`);
- shoppers act only on their own account, cart and orders.
Services call these helpers; routers only resolve the Actor.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from yinli.core.errors import Forbidden, NotAuthenticated


class Role(StrEnum):
    SHOPPER = "shopper"
    MERCHANT = "merchant"  # a merchant's staff member; bound to one store
    CREATOR = "creator"
    OPERATOR = "operator"


@dataclass(frozen=True)
class Actor:
    user_id: int
    role: Role
    store_id: int | None = None

    @property
    def is_operator(self) -> bool:
        return self.role is Role.OPERATOR

    def manages_store(self, store_id: int) -> bool:
        return self.is_operator or (self.role is Role.MERCHANT and self.store_id == store_id)


def require_actor(actor: Actor | None) -> Actor:
    if actor is None:
        raise NotAuthenticated("sign in first (Authorization: Bearer <token> or a session cookie)")
    return actor


def require_role(actor: Actor | None, *roles: Role) -> Actor:
    actor = require_actor(actor)
    if actor.role not in roles:
        allowed = ", ".join(r.value for r in roles)
        raise Forbidden(f"this needs one of the roles: {allowed}")
    return actor


def require_store_manager(actor: Actor | None, store_id: int) -> Actor:
    actor = require_actor(actor)
    if not actor.manages_store(store_id):
        raise Forbidden("only this store's staff or an operator may do this")
    return actor


# --- secrets ---------------------------------------------------------------------------------------

# argon2id with the library's RFC 9106 low-memory defaults; tests lower the cost through `set_hasher`.
_hasher = PasswordHasher()


def set_hasher(hasher: PasswordHasher) -> None:
    global _hasher
    _hasher = hasher


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    """A bearer token shown to the user once; only its hash is stored."""
    return "yl_" + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
