"""Stores: apply, review, suspend/reinstate/close, profile; the platform's merchant policy."""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from yinli.api.deps import (
    DB,
    ActorDep,
    ClockDep,
    Cursor,
    IdempotencyDep,
    Limit,
    ReadDB,
    SettingsDep,
    cursor_value,
    id_path,
    page,
)
from yinli.core.auth import Actor
from yinli.core.clock import Clock
from yinli.core.schemas import MoneyOut
from yinli.core.settings import Settings
from yinli.merchants import service
from yinli.merchants.models import Store, StoreStatus
from yinli.merchants.schemas import (
    PolicyIn,
    PolicyOut,
    StoreApplyIn,
    StoreOut,
    StoreReasonIn,
    StoreReviewIn,
    StoresPage,
    StoreSuspendIn,
    StoreUpdateIn,
)

router = APIRouter(tags=["stores"])


def store_out(session: Session, clock: Clock, settings: Settings, actor: Actor | None, store: Store) -> StoreOut:
    policy = service.get_policy(session, settings)
    out = StoreOut(
        id=store.id,
        name=store.name,
        description=store.description,
        logo_url=store.logo_url,
        main_category_id=store.main_category_id,
        status=store.status,
        opened_at=store.opened_at,
        first_listed_at=store.first_listed_at,
        is_new_merchant=service.is_new_merchant(store, policy, clock.now()),
        new_merchant_until=service.new_merchant_until(store, policy),
        shipping_fee=MoneyOut.fen(store.shipping_fee_fen),
        free_shipping_over=MoneyOut.fen(store.free_shipping_over_fen)
        if store.free_shipping_over_fen is not None
        else None,
        pay_later=store.pay_later,
        price_protection=store.price_protection,
        return_shipping_cover=store.return_shipping_cover,
    )
    if actor is not None and actor.manages_store(store.id):
        out.owner_user_id = store.owner_user_id
        out.contact_email = store.contact_email
        out.deposit_required = MoneyOut.fen(store.deposit_required_fen)
        out.applied_at = store.applied_at
        out.review_note = store.review_note
        out.status_reason = store.status_reason
    return out


@router.post("/stores", status_code=201, response_model=StoreOut, summary="Apply to open a store")
def apply_for_store(
    body: StoreApplyIn, db: DB, clock: ClockDep, settings: SettingsDep, actor: ActorDep, idem: IdempotencyDep
) -> JSONResponse:
    def action() -> tuple[int, object]:
        store = service.do_apply_for_store(db, clock, settings, actor, **body.model_dump())
        # the applicant is now the store's owner
        owner = Actor(actor.user_id, actor.role, store.id) if actor else None
        return 201, store_out(db, clock, settings, owner, store).model_dump(mode="json")

    return idem.respond(db, action)


@router.get("/stores", response_model=StoresPage, summary="List stores (active ones; operators: any status)")
def list_stores(
    db: ReadDB,
    clock: ClockDep,
    settings: SettingsDep,
    actor: ActorDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    status: StoreStatus | None = Query(None),
) -> StoresPage:
    rows = service.list_stores(db, actor, status=status, after_id=cursor_value(cursor), limit=limit + 1)
    rows, next_cursor = page(rows, limit)
    return StoresPage(items=[store_out(db, clock, settings, actor, s) for s in rows], next_cursor=next_cursor)


@router.get("/stores/{store_id}", response_model=StoreOut, summary="A store")
def get_store(
    db: ReadDB, clock: ClockDep, settings: SettingsDep, actor: ActorDep, store_id: int = id_path()
) -> StoreOut:
    return store_out(db, clock, settings, actor, service.get_store(db, actor, store_id))


@router.patch("/stores/{store_id}", response_model=StoreOut, summary="Change a store's profile")
def update_store(
    body: StoreUpdateIn,
    db: DB,
    clock: ClockDep,
    settings: SettingsDep,
    actor: ActorDep,
    store_id: int = id_path(),
) -> StoreOut:
    store = service.do_update_store_profile(db, clock, actor, store_id, **body.model_dump(exclude_unset=True))
    db.commit()
    return store_out(db, clock, settings, actor, store)


@router.post("/stores/{store_id}/review", response_model=StoreOut, summary="Approve or reject (operators)")
def review_store(
    body: StoreReviewIn,
    db: DB,
    clock: ClockDep,
    settings: SettingsDep,
    actor: ActorDep,
    store_id: int = id_path(),
) -> StoreOut:
    store = service.do_review_store(db, clock, actor, store_id, approve=body.decision == "approve", note=body.note)
    db.commit()
    return store_out(db, clock, settings, actor, store)


@router.post("/stores/{store_id}/suspend", response_model=StoreOut, summary="Suspend an active store (operators)")
def suspend_store(
    body: StoreSuspendIn,
    db: DB,
    clock: ClockDep,
    settings: SettingsDep,
    actor: ActorDep,
    store_id: int = id_path(),
) -> StoreOut:
    store = service.do_suspend_store(db, clock, actor, store_id, body.reason)
    db.commit()
    return store_out(db, clock, settings, actor, store)


@router.post("/stores/{store_id}/reinstate", response_model=StoreOut, summary="Reinstate a suspended store (operators)")
def reinstate_store(
    body: StoreReasonIn,
    db: DB,
    clock: ClockDep,
    settings: SettingsDep,
    actor: ActorDep,
    store_id: int = id_path(),
) -> StoreOut:
    store = service.do_reinstate_store(db, clock, actor, store_id, body.reason)
    db.commit()
    return store_out(db, clock, settings, actor, store)


@router.post("/stores/{store_id}/close", response_model=StoreOut, summary="Close a store (its owner or an operator)")
def close_store(
    body: StoreReasonIn,
    db: DB,
    clock: ClockDep,
    settings: SettingsDep,
    actor: ActorDep,
    store_id: int = id_path(),
) -> StoreOut:
    store = service.do_close_store(db, clock, actor, store_id, body.reason)
    db.commit()
    return store_out(db, clock, settings, actor, store)


def policy_out(policy: service.Policy) -> PolicyOut:
    return PolicyOut(
        zero_deposit_opening=policy.zero_deposit_opening,
        store_deposit=MoneyOut.fen(policy.store_deposit_fen),
        new_merchant_days=policy.new_merchant_days,
    )


@router.get("/platform/policy", response_model=PolicyOut, tags=["platform"], summary="Merchant policy")
def get_policy(db: ReadDB, settings: SettingsDep) -> PolicyOut:
    return policy_out(service.get_policy(db, settings))


@router.patch(
    "/platform/policy", response_model=PolicyOut, tags=["platform"], summary="Change merchant policy (operators)"
)
def set_policy(body: PolicyIn, db: DB, clock: ClockDep, settings: SettingsDep, actor: ActorDep) -> PolicyOut:
    policy = service.do_set_policy(db, clock, settings, actor, **body.model_dump(exclude_unset=True))
    db.commit()
    return policy_out(policy)
