"""Checkout once per form: the web's checkout page and the live-room / video buy sheets post a
`form_key`, so a double submit (or a reload of the POST) opens one payment, not two. The API has the
Idempotency-Key header for the same thing (api.deps.IdempotencyDep)."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.orm import Session

from yinli.checkout import service
from yinli.core.auth import Actor
from yinli.core.clock import Clock
from yinli.core.idempotency import run_idempotent
from yinli.core.settings import Settings


def do_checkout_once(
    session: Session,
    clock: Clock,
    settings: Settings,
    actor: Actor,
    *,
    form_key: str,
    flow: str,
    path: str,
    lines: list[service.LineRequest] | None,
    address: dict[str, Any] | None,
    address_id: int | None = None,
    cart_item_ids: list[int] | None = None,
    note: str | None = None,
) -> int:
    """do_checkout at most once per (shopper, `flow`, `form_key`); the payment's id, the first time's on a
    replay. A blank key means no protection (a fresh one). Commits. A replay with another address or
    lines is refused (idempotency: the same key for a different request)."""
    line = lines[0] if lines and len(lines) == 1 else None
    fingerprint: dict[str, Any] = {"address": address}
    if address_id is not None:
        fingerprint["address_id"] = address_id
    if cart_item_ids is not None:
        fingerprint["cart_item_ids"] = sorted(cart_item_ids)
    if note is not None:
        fingerprint["note"] = note
    fingerprint["line"] = [line.sku_id, line.quantity, line.source_id] if line else None

    def action() -> tuple[int, object]:
        payment, _ = service.do_checkout(
            session,
            clock,
            settings,
            actor,
            lines=lines,
            address=address,
            address_id=address_id,
            cart_item_ids=cart_item_ids,
            note=note or "",
        )
        return 201, {"payment_id": payment.id}

    _, body, _ = run_idempotent(
        session,
        clock,
        scope=f"user:{actor.user_id}",
        key=f"web-{flow}-" + (form_key[:64] or secrets.token_urlsafe(16)),
        method="POST",
        path=path,
        body=fingerprint,
        action=action,
    )
    return int(body["payment_id"])
