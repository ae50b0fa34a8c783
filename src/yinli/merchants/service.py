"""Store lifecycle: application → review → active ⇄ suspended → closed; profile; platform policy.

`check_*` validate, `do_*` change state; nothing here commits (the caller owns the transaction).
Lifecycle changes append `Store*` outbox events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import column, select, table, update
from sqlalchemy.orm import Session

from yinli.core.auth import Actor, Role, require_actor, require_role, require_store_manager
from yinli.core.clock import Clock
from yinli.core.db import unique_or
from yinli.core.errors import Conflict, Forbidden, InvalidInput, InvalidTransition, NotFound
from yinli.core.outbox import emit
from yinli.core.settings import Settings
from yinli.merchants.models import PlatformPolicy, Store, StoreStaff, StoreStatus

# (from, to) -> who may make the move
_TRANSITIONS: dict[tuple[StoreStatus, StoreStatus], str] = {
    (StoreStatus.APPLIED, StoreStatus.ACTIVE): "operator",
    (StoreStatus.APPLIED, StoreStatus.REJECTED): "operator",
    (StoreStatus.ACTIVE, StoreStatus.SUSPENDED): "operator",
    (StoreStatus.SUSPENDED, StoreStatus.ACTIVE): "operator",
    (StoreStatus.ACTIVE, StoreStatus.CLOSED): "manager",
    (StoreStatus.SUSPENDED, StoreStatus.CLOSED): "operator",
}

# statuses in which anyone may see a store (its page, its listed products)
PUBLIC_STATUSES = (StoreStatus.ACTIVE.value,)


# --- platform policy --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    zero_deposit_opening: bool
    store_deposit_fen: int
    new_merchant_days: int

    @property
    def deposit_for_new_store(self) -> int:
        return 0 if self.zero_deposit_opening else self.store_deposit_fen


def get_policy(session: Session, settings: Settings) -> Policy:
    row = session.get(PlatformPolicy, 1)
    if row is None:  # not changed by an operator yet: the configured defaults
        return Policy(
            settings.default_zero_deposit_opening,
            settings.default_store_deposit_fen,
            settings.default_new_merchant_days,
        )
    return Policy(row.zero_deposit_opening, row.store_deposit_fen, row.new_merchant_days)


def do_set_policy(
    session: Session, clock: Clock, settings: Settings, actor: Actor | None, **changes: int | bool
) -> Policy:
    actor = require_role(actor, Role.OPERATOR)
    current = get_policy(session, settings)
    new = Policy(
        zero_deposit_opening=bool(changes.get("zero_deposit_opening", current.zero_deposit_opening)),
        store_deposit_fen=int(changes.get("store_deposit_fen", current.store_deposit_fen)),
        new_merchant_days=int(changes.get("new_merchant_days", current.new_merchant_days)),
    )
    row = session.get(PlatformPolicy, 1, with_for_update=True)
    if row is None:
        row = PlatformPolicy(id=1)
        session.add(row)
    row.zero_deposit_opening = new.zero_deposit_opening
    row.store_deposit_fen = new.store_deposit_fen
    row.new_merchant_days = new.new_merchant_days
    row.updated_at = clock.now()
    row.updated_by = actor.user_id
    session.flush()
    emit(session, clock, "PlatformPolicyChanged", "platform", 1, new.__dict__, actor_id=actor.user_id)
    return new


# --- new merchants --------------------------------------------------------------------------------


def new_merchant_until(store: Store, policy: Policy) -> datetime | None:
    if store.first_listed_at is None:
        return None
    return store.first_listed_at + timedelta(days=policy.new_merchant_days)


def is_new_merchant(store: Store, policy: Policy, now: datetime) -> bool:
    """A store is a new merchant from approval until `new_merchant_days` after its first listing."""
    if store.status != StoreStatus.ACTIVE:
        return False
    until = new_merchant_until(store, policy)
    return until is None or now < until


def do_mark_first_listing(session: Session, store_id: int, at: datetime) -> None:
    """Start the new-merchant window. Conditional update: concurrent first listings set it once."""
    session.execute(
        update(Store).where(Store.id == store_id, Store.first_listed_at.is_(None)).values(first_listed_at=at)
    )


# --- reading ------------------------------------------------------------------------------------------


def get_store(session: Session, actor: Actor | None, store_id: int) -> Store:
    """A store as `actor` may see it: active stores are public; staff see their own, operators any."""
    store = session.get(Store, store_id)
    if store is None or not can_see_store(actor, store):
        raise NotFound(f"no store {store_id}", field="store_id")
    return store


def can_see_store(actor: Actor | None, store: Store) -> bool:
    return store.status in PUBLIC_STATUSES or (actor is not None and actor.manages_store(store.id))


def list_stores(
    session: Session,
    actor: Actor | None,
    *,
    status: StoreStatus | None,
    after_id: int | None,
    limit: int,
) -> list[Store]:
    query = select(Store).order_by(Store.id).limit(limit)
    if actor is not None and actor.is_operator:
        if status is not None:
            query = query.where(Store.status == status.value)
    else:
        if status is not None and status.value not in PUBLIC_STATUSES:
            require_actor(actor)  # anonymous: 401, signing in may help; signed in: 403
            raise Forbidden("only operators list stores by that status", field="status")
        query = query.where(Store.status.in_(PUBLIC_STATUSES))
    if after_id is not None:
        query = query.where(Store.id > after_id)
    return list(session.scalars(query))


def require_selling_store(session: Session, store_id: int) -> Store:
    """The store, if it may put products on sale now."""
    store = session.get(Store, store_id)
    if store is None:
        raise NotFound(f"no store {store_id}", field="store_id")
    if store.status != StoreStatus.ACTIVE:
        raise Conflict(f"store {store_id} is {store.status}; only an active store can sell", code="store_inactive")
    return store


# --- changing -----------------------------------------------------------------------------------------


def _check_name_free(session: Session, name: str, store_id: int | None = None) -> None:
    query = select(Store.id).where(Store.name == name)
    if store_id is not None:
        query = query.where(Store.id != store_id)
    if session.scalar(query) is not None:
        raise Conflict("a store with this name exists", field="name", code="store_name_taken")


def do_apply_for_store(
    session: Session,
    clock: Clock,
    settings: Settings,
    actor: Actor | None,
    *,
    name: str,
    description: str = "",
    logo_url: str | None = None,
    contact_email: str | None = None,
    main_category_id: int | None = None,
) -> Store:
    """A merchant account applies to open a store; it becomes the store's owner, pending review."""
    actor = require_role(actor, Role.MERCHANT)
    if actor.store_id is not None:
        raise Conflict("this account already has a store", code="already_has_store")
    _check_name_free(session, name)

    def recheck() -> None:  # after a concurrent application won the race (store_staff.user_id, stores.name)
        if session.scalar(select(StoreStaff.id).where(StoreStaff.user_id == actor.user_id)) is not None:
            raise Conflict("this account already has a store", code="already_has_store")
        _check_name_free(session, name)

    if main_category_id is not None:
        _check_category(session, main_category_id)
    now = clock.now()
    store = Store(
        name=name,
        description=description,
        logo_url=logo_url,
        contact_email=contact_email,
        main_category_id=main_category_id,
        status=StoreStatus.APPLIED.value,
        owner_user_id=actor.user_id,
        deposit_required_fen=get_policy(session, settings).deposit_for_new_store,
        applied_at=now,
    )
    with unique_or(session, recheck):
        session.add(store)
        session.flush()
        session.add(StoreStaff(store_id=store.id, user_id=actor.user_id, staff_role="owner", added_at=now))
    emit(session, clock, "StoreApplied", "store", store.id, {"name": name}, actor_id=actor.user_id)
    return store


# The row `stores.main_category_id` points at (its foreign key): merchants sit below catalog, so the
# store's main category is checked against the table itself rather than through catalog's models.
_CATEGORIES = table("categories", column("id"))


def _check_category(session: Session, category_id: int) -> None:
    if session.scalar(select(_CATEGORIES.c.id).where(_CATEGORIES.c.id == category_id)) is None:
        raise InvalidInput(f"no category {category_id}", field="main_category_id")


def do_update_store_profile(
    session: Session, clock: Clock, actor: Actor | None, store_id: int, **changes: object
) -> Store:
    require_actor(actor)  # 401 before the lookup, which would answer 404 for a non-public store
    store = get_store(session, actor, store_id)
    require_store_manager(actor, store_id)
    if store.status == StoreStatus.CLOSED:
        raise Conflict("a closed store cannot be changed", code="store_closed")
    if "name" in changes:
        _check_name_free(session, str(changes["name"]), store_id)
    if changes.get("main_category_id") is not None:
        _check_category(session, int(changes["main_category_id"]))  # type: ignore[call-overload]
    for key, value in changes.items():
        setattr(store, key, value)
    session.flush()
    emit(
        session,
        clock,
        "StoreProfileChanged",
        "store",
        store.id,
        {"fields": sorted(changes)},
        actor_id=actor.user_id if actor else None,
    )
    return store


def _move(
    session: Session, clock: Clock, actor: Actor | None, store_id: int, to: StoreStatus, reason: str | None
) -> Store:
    actor = require_actor(actor)
    store = session.get(Store, store_id, with_for_update=True)
    if store is None or not can_see_store(actor, store):
        raise NotFound(f"no store {store_id}", field="store_id")
    current = StoreStatus(store.status)
    who = _TRANSITIONS.get((current, to))
    if who is None:
        raise InvalidTransition(f"a store cannot go from {current} to {to}", field="status")
    if who == "operator" and not actor.is_operator:
        raise Forbidden("only an operator can do this")
    if who == "manager":
        require_store_manager(actor, store_id)
    now = clock.now()
    store.status = to.value
    store.status_reason = reason
    if current == StoreStatus.APPLIED:
        store.reviewed_at, store.reviewed_by, store.review_note = now, actor.user_id, reason
    if to == StoreStatus.ACTIVE and store.opened_at is None:
        store.opened_at = now
    if to == StoreStatus.CLOSED:
        store.closed_at = now
    session.flush()
    emit(
        session,
        clock,
        f"Store{to.value.capitalize()}",
        "store",
        store.id,
        {"from": current.value, "to": to.value, "reason": reason},
        actor_id=actor.user_id,
    )
    return store


def do_review_store(
    session: Session, clock: Clock, actor: Actor | None, store_id: int, *, approve: bool, note: str | None
) -> Store:
    if not approve and not note:
        raise InvalidInput("say why the application is rejected", field="note")
    return _move(session, clock, actor, store_id, StoreStatus.ACTIVE if approve else StoreStatus.REJECTED, note)


def do_suspend_store(session: Session, clock: Clock, actor: Actor | None, store_id: int, reason: str) -> Store:
    return _move(session, clock, actor, store_id, StoreStatus.SUSPENDED, reason)


def do_reinstate_store(session: Session, clock: Clock, actor: Actor | None, store_id: int, reason: str | None) -> Store:
    return _move(session, clock, actor, store_id, StoreStatus.ACTIVE, reason)


def do_close_store(session: Session, clock: Clock, actor: Actor | None, store_id: int, reason: str | None) -> Store:
    return _move(session, clock, actor, store_id, StoreStatus.CLOSED, reason)
