"""The address book: a shopper's saved shipping addresses, one of them the default.

Rules (`check_*` validate, `do_*` change state; nothing here commits):
- only buyers (shoppers, creators) keep addresses; an address is its owner's alone — anyone else's is a
  404, exactly like one that does not exist;
- at most `MAX_ADDRESSES` per shopper; the first one saved becomes the default; deleting the default
  makes the most recently changed remaining address the default;
- phone numbers (`check_phone`): a mainland China mobile number (11 digits, 1[3-9]…) or E.164 for
  others ("+", then 8–15 digits, not starting with 0); a "+86" number must be a mainland mobile.
  Spaces, hyphens and dots between digits are dropped; the book keeps the plain form.

Exactly one default: every change of the default (add, set default, delete) takes the shopper's row lock
first (`accounts.service.lock_user`), clears the old default and sets the new one, so concurrent "set
default" calls run one after another and the last one wins; the partial unique index
`uq_shipping_addresses_default` makes two defaults impossible even for a bug.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from yinli.accounts.models import ShippingAddress
from yinli.accounts.service import lock_user
from yinli.core.auth import Actor, Role, require_role
from yinli.core.clock import Clock
from yinli.core.errors import Conflict, InvalidInput, NotFound

MAX_ADDRESSES = 20
BUYER_ROLES = (Role.SHOPPER, Role.CREATOR)

MAINLAND_MOBILE = re.compile(r"1[3-9][0-9]{9}")
E164 = re.compile(r"\+[1-9][0-9]{7,14}")
_SEPARATORS = re.compile(r"(?<=[0-9])[ \-.](?=[0-9])")
PHONE_RULE = "a mainland mobile number (11 digits starting 13-19) or an international number: + and 8-15 digits"


def normalise_phone(raw: str) -> str:
    """The phone number as stored: surrounding space trimmed, single separators between digits dropped."""
    return _SEPARATORS.sub("", raw.strip())


def check_phone(raw: str, field: str = "phone") -> str:
    """The normalised number if it is a mainland mobile number or an E.164 number, else a 422 on
    `field`. A "+86" number must be a mainland mobile number too."""
    phone = normalise_phone(raw)
    if MAINLAND_MOBILE.fullmatch(phone):
        return phone
    if E164.fullmatch(phone) and (not phone.startswith("+86") or MAINLAND_MOBILE.fullmatch(phone[3:])):
        return phone
    raise InvalidInput(f"phone must be {PHONE_RULE}", field=field, code="invalid_phone")


@dataclass(frozen=True)
class AddressFields:
    name: str
    phone: str
    region: str
    line: str


def check_fields(fields: AddressFields) -> AddressFields:
    """Blank parts refused (the field named), the phone number checked and normalised."""
    for key in ("name", "region", "line"):
        if not getattr(fields, key).strip():
            raise InvalidInput(f"{key} is required", field=key)
    return AddressFields(fields.name.strip(), check_phone(fields.phone), fields.region.strip(), fields.line.strip())


def snapshot(address: ShippingAddress) -> dict[str, Any]:
    """What an order keeps of the address it ships to (the same keys a typed address has)."""
    return {"name": address.name, "phone": address.phone, "region": address.region, "line": address.line}


def _buyer(actor: Actor | None) -> Actor:
    return require_role(actor, *BUYER_ROLES)


def list_addresses(session: Session, actor: Actor | None) -> list[ShippingAddress]:
    """The caller's book: the default first, then the most recently changed."""
    actor = _buyer(actor)
    return list(
        session.scalars(
            select(ShippingAddress)
            .where(ShippingAddress.shopper_id == actor.user_id)
            .order_by(ShippingAddress.is_default.desc(), ShippingAddress.updated_at.desc(), ShippingAddress.id.desc())
        )
    )


def default_address(session: Session, shopper_id: int) -> ShippingAddress | None:
    return session.scalar(
        select(ShippingAddress).where(ShippingAddress.shopper_id == shopper_id, ShippingAddress.is_default.is_(True))
    )


def get_address(session: Session, actor: Actor | None, address_id: int, field: str = "address_id") -> ShippingAddress:
    """One of the caller's addresses; anyone else's is a 404, as if it did not exist."""
    actor = _buyer(actor)
    address = session.get(ShippingAddress, address_id)
    if address is None or address.shopper_id != actor.user_id:
        raise NotFound(f"no address {address_id}", field=field)
    return address


def _make_default(session: Session, shopper_id: int, address: ShippingAddress) -> None:
    """Under the shopper's lock (taken by the caller): clear the old default, then set this one."""
    session.execute(
        update(ShippingAddress)
        .where(
            ShippingAddress.shopper_id == shopper_id,
            ShippingAddress.is_default.is_(True),
            ShippingAddress.id != address.id,
        )
        .values(is_default=False)
        .execution_options(synchronize_session="fetch")
    )
    session.flush()
    address.is_default = True
    session.flush()


def check_book_has_room(session: Session, shopper_id: int) -> None:
    count = session.scalar(
        select(func.count()).select_from(ShippingAddress).where(ShippingAddress.shopper_id == shopper_id)
    )
    if (count or 0) >= MAX_ADDRESSES:
        raise Conflict(f"an address book holds at most {MAX_ADDRESSES} addresses", code="address_book_full")


def do_add_address(
    session: Session, clock: Clock, actor: Actor | None, fields: AddressFields, *, make_default: bool = False
) -> ShippingAddress:
    """Save an address (the first one is the default whatever `make_default` says). Counted and the
    default changed under the shopper's row lock."""
    actor = _buyer(actor)
    checked = check_fields(fields)
    lock_user(session, actor.user_id)
    check_book_has_room(session, actor.user_id)
    now = clock.now()
    first = default_address(session, actor.user_id) is None
    address = ShippingAddress(
        shopper_id=actor.user_id,
        name=checked.name,
        phone=checked.phone,
        region=checked.region,
        line=checked.line,
        is_default=False,
        created_at=now,
        updated_at=now,
    )
    session.add(address)
    session.flush()
    if first or make_default:
        _make_default(session, actor.user_id, address)
    return address


def do_update_address(
    session: Session, clock: Clock, actor: Actor | None, address_id: int, fields: AddressFields
) -> ShippingAddress:
    """Change an address's parts. Orders already placed keep the copy they took."""
    address = get_address(session, actor, address_id)
    checked = check_fields(fields)
    address.name, address.phone = checked.name, checked.phone
    address.region, address.line = checked.region, checked.line
    address.updated_at = clock.now()
    session.flush()
    return address


def do_set_default(session: Session, clock: Clock, actor: Actor | None, address_id: int) -> ShippingAddress:
    """Make this address the default (under the shopper's row lock: concurrent calls queue, the last
    one wins, and there is exactly one default afterwards)."""
    actor = _buyer(actor)
    lock_user(session, actor.user_id)
    address = get_address(session, actor, address_id)
    session.refresh(address)  # after the lock: another "set default" may have committed meanwhile
    if not address.is_default:
        _make_default(session, actor.user_id, address)
    return address


def do_delete_address(session: Session, actor: Actor | None, address_id: int) -> None:
    """Delete an address; when it was the default, the most recently changed remaining one takes over."""
    actor = _buyer(actor)
    lock_user(session, actor.user_id)
    address = get_address(session, actor, address_id)
    session.refresh(address)
    was_default = address.is_default
    session.delete(address)
    session.flush()
    if was_default:
        heir = session.scalar(
            select(ShippingAddress)
            .where(ShippingAddress.shopper_id == actor.user_id)
            .order_by(ShippingAddress.updated_at.desc(), ShippingAddress.id.desc())
            .limit(1)
        )
        if heir is not None:
            _make_default(session, actor.user_id, heir)


__all__ = [
    "MAX_ADDRESSES",
    "AddressFields",
    "check_fields",
    "check_phone",
    "default_address",
    "do_add_address",
    "do_delete_address",
    "do_set_default",
    "do_update_address",
    "get_address",
    "list_addresses",
    "normalise_phone",
    "snapshot",
]
