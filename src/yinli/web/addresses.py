"""The address book in the account area (/account/addresses): list, add, edit, delete, choose the
default. The rules (phone numbers, one default, whose address it is) are `accounts.addresses`'; a page
that sent the shopper here (the checkout, `?next=`) is where saving leads back to."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from yinli.accounts import addresses
from yinli.accounts.models import ShippingAddress
from yinli.accounts.schemas import AddressIn
from yinli.api.deps import DB, ClockDep, ReadDB
from yinli.checkout.schemas import Address
from yinli.core.auth import Role
from yinli.core.errors import DomainError, InvalidInput
from yinli.core.parsing import parse_id
from yinli.orders import service as orders
from yinli.web.core import FormDep, FormErrors, Web, WebDep, WebRoute, field_errors, require_roles, safe_next

router = APIRouter(route_class=WebRoute, include_in_schema=False)

ADDRESS_FIELDS = ("name", "phone", "region", "line")
ADDRESS_RENAME = {f"address.{k}": k for k in ADDRESS_FIELDS}

BUYERS = (Role.SHOPPER, Role.CREATOR)
BOOK = "/account/addresses"


def _next(web: Web, form: Any = None) -> str:
    value = (form.get("next") if form is not None else None) or web.request.query_params.get("next")
    return safe_next(value, BOOK)


def _form_body(form: Any) -> AddressIn:
    values = {k: form.text(k) for k in ADDRESS_FIELDS}
    return AddressIn.model_validate({**values, "is_default": form.get("is_default") == "on"})


def _fields(body: AddressIn) -> addresses.AddressFields:
    return addresses.AddressFields(body.name, body.phone, body.region, body.line)


def _render_book(web: Web, db: Session, form: dict[str, str], errors: FormErrors, status_code: int = 200) -> Response:
    return web.render(
        "shop/addresses.html",
        status_code=status_code,
        book=addresses.list_addresses(db, web.actor),
        form=form,
        errors=errors,
        next=_next(web, form),
        max_addresses=addresses.MAX_ADDRESSES,
        tab="account",
    )


def _render_edit(
    web: Web, address: ShippingAddress, form: dict[str, str], errors: FormErrors, status_code: int = 200
) -> Response:
    values = form or {k: str(getattr(address, k)) for k in ADDRESS_FIELDS}
    return web.render(
        "shop/address_edit.html",
        status_code=status_code,
        address=address,
        form=values,
        errors=errors,
        next=_next(web, form),
        tab="account",
    )


# --- the address part of checkout forms (the checkout page, the live-room and video sheets) -----------


def address_choice(web: Web, db: Session, form: dict[str, str]) -> dict[str, Any]:
    """The address part of a checkout form: the shopper's book (the default picked unless the form
    picked another, or a new one), and the typed fields — prefilled from the last order when the book
    is empty, to save typing."""
    book = addresses.list_addresses(db, web.actor)
    chosen = form.get("address_id") or (str(book[0].id) if book else "new")
    values = dict(form)
    if not form and not book and web.actor is not None:
        last = orders.list_orders(db, web.actor, orders.OrderFilter(), before_id=None, limit=1)
        values = {k: str(last[0].address.get(k, "")) for k in ADDRESS_FIELDS} if last else {}
    return {"book": book, "chosen": chosen, "form": values}


def address_of_form(form: Any) -> tuple[dict[str, Any] | None, int | None]:
    """(typed address, None) or (None, saved address id), as the form chose. Raises the schema's
    ValidationError for a typed address with a part missing or malformed."""
    chosen = form.get("address_id")
    if chosen and chosen != "new":
        address_id = parse_id(chosen)
        if address_id is None:
            raise InvalidInput("pick one of your addresses", field="address_id")
        return None, address_id
    return Address.model_validate({k: form.text(k) for k in ADDRESS_FIELDS}).model_dump(), None


# --- the address book ----------------------------------------------------------------------------------


@router.get("/account/addresses", response_class=HTMLResponse)
def book(web: WebDep, db: ReadDB) -> Response:
    require_roles(web, *BUYERS)
    return _render_book(web, db, {}, FormErrors())


@router.post("/account/addresses", response_class=HTMLResponse)
def add(form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    actor = require_roles(web, *BUYERS)
    try:
        body = _form_body(form)
        addresses.do_add_address(db, clock, actor, _fields(body), make_default=body.is_default)
        db.commit()
    except (DomainError, ValidationError) as exc:
        db.rollback()
        return _render_book(web, db, dict(form), field_errors(web, exc), 422)
    return web.redirect(_next(web, form), flash="address_saved")


@router.get("/account/addresses/{address_id}", response_class=HTMLResponse)
def edit_page(address_id: int, web: WebDep, db: ReadDB) -> Response:
    require_roles(web, *BUYERS)
    return _render_edit(web, addresses.get_address(db, web.actor, address_id), {}, FormErrors())


@router.post("/account/addresses/{address_id}", response_class=HTMLResponse)
def save(address_id: int, form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    actor = require_roles(web, *BUYERS)
    address = addresses.get_address(db, actor, address_id)  # someone else's: the 404 page
    try:
        body = _form_body(form)
        addresses.do_update_address(db, clock, actor, address_id, _fields(body))
        if body.is_default:
            addresses.do_set_default(db, clock, actor, address_id)
        db.commit()
    except (DomainError, ValidationError) as exc:
        db.rollback()
        return _render_edit(web, address, dict(form), field_errors(web, exc), 422)
    return web.redirect(_next(web, form), flash="address_saved")


@router.post("/account/addresses/{address_id}/default", response_class=HTMLResponse)
def make_default(address_id: int, request: Request, form: FormDep, web: WebDep, db: DB, clock: ClockDep) -> Response:
    actor = require_roles(web, *BUYERS)
    addresses.do_set_default(db, clock, actor, address_id)
    db.commit()
    return web.redirect(_next(web, form), flash="address_default")


@router.post("/account/addresses/{address_id}/delete", response_class=HTMLResponse)
def delete(address_id: int, form: FormDep, web: WebDep, db: DB) -> Response:
    actor = require_roles(web, *BUYERS)
    addresses.do_delete_address(db, actor, address_id)
    db.commit()
    return web.redirect(_next(web, form), flash="address_deleted")


__all__ = ["router"]
