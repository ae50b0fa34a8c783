"""Reviews of delivered lines (once each, by the buyer) and complaints against stores."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yinli.catalog import service as catalog
from yinli.core.auth import Actor, Role, require_actor, require_role, require_store_manager
from yinli.core.clock import Clock
from yinli.core.errors import Conflict, DomainError, Forbidden, InvalidInput, InvalidTransition, NotFound
from yinli.core.outbox import emit
from yinli.merchants.models import Store
from yinli.orders.models import Complaint, ComplaintCategory, Order, OrderLine, OrderStatus, Review

REVIEWABLE = (OrderStatus.DELIVERED, OrderStatus.COMPLETED)


def check_review(order: Order, line: OrderLine, user_id: int | None) -> DomainError | None:
    """May this user review this line now? None, or the error do_review raises (the page hides the form)."""
    if order.shopper_id != user_id:
        return NotFound(f"no order line {line.id} of yours", field="order_line_id")
    if order.status not in REVIEWABLE:
        return InvalidTransition("review after the goods have arrived", field="order_line_id", code="not_delivered")
    if line.refunded_quantity == line.quantity:
        return Conflict("this line was refunded", field="order_line_id", code="refunded")
    return None


def do_review(
    session: Session, clock: Clock, actor: Actor | None, order_line_id: int, rating: int, text: str
) -> Review:
    actor = require_actor(actor)
    line = session.get(OrderLine, order_line_id)
    order = session.get(Order, line.order_id) if line else None
    if line is None or order is None or order.shopper_id != actor.user_id:
        raise NotFound(f"no order line {order_line_id} of yours", field="order_line_id")
    if (refusal := check_review(order, line, actor.user_id)) is not None:
        raise refusal
    if not 1 <= rating <= 5:
        raise InvalidInput("rating is 1 to 5 stars", field="rating")
    review = Review(
        order_line_id=line.id,
        product_id=line.product_id,
        store_id=order.store_id,
        shopper_id=actor.user_id,
        rating=rating,
        text=text,
        created_at=clock.now(),
    )
    session.add(review)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict("this line has been reviewed", field="order_line_id", code="already_reviewed")
    catalog.do_record_rating(session, line.product_id, rating)
    emit(
        session,
        clock,
        "ReviewPosted",
        "order",
        order.id,
        {"store_id": order.store_id, "product_id": line.product_id, "rating": rating},
        actor_id=actor.user_id,
    )
    return review


def reviews_of_product(session: Session, product_id: int, *, before_id: int | None, limit: int) -> list[Review]:
    query = select(Review).where(Review.product_id == product_id).order_by(Review.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(Review.id < before_id)
    return list(session.scalars(query))


def reviewed_line_ids(session: Session, order_line_ids: list[int]) -> set[int]:
    """Which of these order lines have been reviewed (each may be, once)."""
    if not order_line_ids:
        return set()
    return set(session.scalars(select(Review.order_line_id).where(Review.order_line_id.in_(order_line_ids))))


def do_complain(
    session: Session,
    clock: Clock,
    actor: Actor | None,
    *,
    store_id: int,
    order_id: int | None,
    category: ComplaintCategory,
    text: str,
) -> Complaint:
    actor = require_role(actor, Role.SHOPPER, Role.CREATOR)
    if session.get(Store, store_id) is None:
        raise InvalidInput(f"no store {store_id}", field="store_id")
    if order_id is not None:
        order = session.get(Order, order_id)
        if order is None or order.shopper_id != actor.user_id:
            raise InvalidInput(f"no order {order_id} of yours", field="order_id")
        if order.store_id != store_id:
            raise InvalidInput("that order is from another store", field="order_id")
    complaint = Complaint(
        store_id=store_id,
        shopper_id=actor.user_id,
        order_id=order_id,
        category=category.value,
        text=text,
        status="open",
        created_at=clock.now(),
    )
    session.add(complaint)
    session.flush()
    emit(
        session,
        clock,
        "ComplaintFiled",
        "store",
        store_id,
        {"store_id": store_id, "complaint_id": complaint.id, "category": category.value},
        actor_id=actor.user_id,
    )
    return complaint


def list_complaints(
    session: Session, actor: Actor | None, *, store_id: int | None, before_id: int | None, limit: int
) -> list[Complaint]:
    actor = require_actor(actor)
    query = select(Complaint).order_by(Complaint.id.desc()).limit(limit)
    if actor.is_operator:
        if store_id is not None:
            query = query.where(Complaint.store_id == store_id)
    elif actor.store_id is not None:
        if store_id is not None and store_id != actor.store_id:
            raise Forbidden("staff see their own store's complaints", field="store_id")
        query = query.where(Complaint.store_id == actor.store_id)
    else:
        query = query.where(Complaint.shopper_id == actor.user_id)
    if before_id is not None:
        query = query.where(Complaint.id < before_id)
    return list(session.scalars(query))


def do_resolve_complaint(
    session: Session, clock: Clock, actor: Actor | None, complaint_id: int, resolution: str
) -> Complaint:
    actor = require_actor(actor)
    complaint = session.get(Complaint, complaint_id)
    if complaint is None or not (actor.manages_store(complaint.store_id) or actor.user_id == complaint.shopper_id):
        raise NotFound(f"no complaint {complaint_id}", field="complaint_id")
    require_store_manager(actor, complaint.store_id)
    if complaint.status != "open":
        raise InvalidTransition("this complaint is resolved", field="status")
    complaint.status, complaint.resolution, complaint.resolved_at = "resolved", resolution, clock.now()
    session.flush()
    return complaint
